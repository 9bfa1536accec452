"""Our speakers among themselves over real loopback TCP: a line, a diamond, a chain."""

from __future__ import annotations

import pytest
from speaker_helpers import Fabric, Link, Node

from speakers.session import SessionEstablished
from speakers.speaker import DrainMethod
from speakers.ucmp import MissingBandwidthMode, ReadvertiseMode
from speakers.wire import Prefix

G = 1e9
P = "10.0.0.0/24"


async def test_three_in_a_line_propagates_and_withdraws() -> None:
    fabric = Fabric(
        [
            Node("a", 65001, "127.0.21.1", [(P, 800 * G)]),
            Node("b", 65002, "127.0.21.2"),
            Node("c", 65003, "127.0.21.3"),
        ],
        [Link("a", "b", 800 * G), Link("b", "c", 400 * G)],
    )
    await fabric.start()
    try:
        await fabric.wait(lambda: fabric.weights("c", P) == {"b": 1})
        rib = fabric["c"].rib(Prefix.parse(P))[0]
        (path,) = rib["paths"]
        assert path["as_path"] == "65002 65001"
        assert path["link_bandwidth_bps"] == pytest.approx(400 * G, rel=1e-6)  # capped by b-c
        fabric["a"].withdraw_origin(Prefix.parse(P))
        await fabric.wait(lambda: fabric.weights("c", P) == {} and fabric.weights("b", P) == {})
    finally:
        fabric.close()


def diamond(
    missing: MissingBandwidthMode = MissingBandwidthMode.DEFAULT,
    r_export=ReadvertiseMode.CUMULATIVE,
    default_bps=None,
    base="127.0.22",
    memory: bool = False,
) -> Fabric:
    #        t
    #   800G/ \\400G
    #      l   r
    #  1.6T \\ / 800G
    #        b  (originates P at 1.6T)
    return Fabric(
        [
            Node("t", 65100, f"{base}.1", missing=missing, default_bandwidth_bps=default_bps),
            Node("l", 65201, f"{base}.2"),
            Node("r", 65202, f"{base}.3"),
            Node("b", 65300, f"{base}.4", [(P, 1600 * G)]),
        ],
        [
            Link("t", "l", 800 * G),
            Link("t", "r", 400 * G, export_b=r_export),
            Link("l", "b", 1600 * G),
            Link("r", "b", 800 * G),
        ],
        memory=memory,
    )


@pytest.mark.parametrize("transport", ["tcp", "memory"])
async def test_diamond_weights_follow_bandwidth_and_a_failed_link_reweights(transport: str) -> None:
    fabric = diamond(base="127.0.23", memory=transport == "memory")
    await fabric.start()
    try:
        # l offers min(1.6T, 800G) = 800G and r min(800G, 400G) = 400G: 2 to 1.
        await fabric.wait(lambda: fabric.weights("t", P) == {"l": 2, "r": 1})
        fabric["l"].neighbor_down("b", "maintenance")
        await fabric.wait(lambda: fabric.weights("t", P) == {"r": 1})
        fabric["l"].neighbor_up("b")
        await fabric.wait(lambda: fabric.weights("t", P) == {"l": 2, "r": 1})
        fabric["r"].drop_link("b")  # a failed link, no NOTIFICATION: sessions re-establish
        await fabric.wait(
            lambda: fabric.weights("t", P) == {"l": 2, "r": 1} and fabric.established()
        )
    finally:
        fabric.close()


@pytest.mark.parametrize(
    ("missing", "default_bps", "expected"),
    [
        (MissingBandwidthMode.DEFAULT, None, {"l": 1, "r": 1}),  # one path lacks it: ECMP
        (MissingBandwidthMode.IGNORE, None, {"l": 1, "r": 1}),
        (MissingBandwidthMode.SKIP_MISSING, None, {"l": 1}),
        (MissingBandwidthMode.DEFAULT_WEIGHT_FOR_MISSING, 200 * G, {"l": 4, "r": 1}),
    ],
    ids=["default", "ignore", "skip-missing", "default-weight-for-missing"],
)
async def test_diamond_missing_bandwidth_modes(missing, default_bps, expected, request) -> None:
    octet = 24 + request.node.callspec.indices["missing"]
    fabric = diamond(missing, ReadvertiseMode.NONE, default_bps, base=f"127.0.{octet}")
    await fabric.start()
    try:
        await fabric.wait(
            lambda: (
                fabric.weights("t", P) == expected
                and len(fabric["t"].rib(Prefix.parse(P))[0]["paths"]) == 2
            )
        )
    finally:
        fabric.close()


async def test_cumulative_bandwidth_propagates_up_a_chain() -> None:
    #   u      (sees min(1.2T, 1T) = 1T)
    #   | 1T
    #   t      (sees 800G + 400G = 1.2T through m, capped by m-t 1.6T)
    #   | 1.6T
    #   m      (multipath via b1 at 800G and b2 at 400G)
    #  / \\
    # b1  b2   (both originate P)
    fabric = Fabric(
        [
            Node("u", 65400, "127.0.28.1"),
            Node("t", 65300, "127.0.28.2"),
            Node("m", 65200, "127.0.28.3"),
            Node("b1", 65101, "127.0.28.4", [(P, 800 * G)]),
            Node("b2", 65102, "127.0.28.5", [(P, 400 * G)]),
        ],
        [
            Link("u", "t", 1000 * G),
            Link("t", "m", 1600 * G),
            Link("m", "b1", 800 * G),
            Link("m", "b2", 800 * G),
        ],
    )
    await fabric.start()
    try:

        def lb(node: str) -> float | None:
            dests = fabric[node].rib(Prefix.parse(P))
            return (
                dests[0]["paths"][0]["link_bandwidth_bps"] if dests and dests[0]["paths"] else None
            )

        def converged() -> bool:
            t, u = lb("t"), lb("u")
            return (
                fabric.weights("m", P) == {"b1": 2, "b2": 1}
                and t is not None
                and abs(t - 1200 * G) < 1e6
                and u is not None
                and abs(u - 1000 * G) < 1e6
            )

        await fabric.wait(converged)
        assert lb("t") == pytest.approx(1200 * G, rel=1e-6)  # 800G + 400G
        assert lb("u") == pytest.approx(1000 * G, rel=1e-6)  # capped by the t-u link
    finally:
        fabric.close()


@pytest.mark.parametrize("transport", ["tcp", "memory"])
async def test_members_down_and_drain_move_traffic(transport: str) -> None:
    fabric = diamond(base="127.0.29", memory=transport == "memory")
    await fabric.start()
    try:
        await fabric.wait(lambda: fabric.weights("t", P) == {"l": 2, "r": 1})
        # Half the members of t-l fail: l caps what it attaches at the 400G left, 1 to 1.
        for here, there in (("t", "l"), ("l", "t")):
            fabric[here].set_link_capacity(there, 400 * G)
        await fabric.wait(lambda: fabric.weights("t", P) == {"l": 1, "r": 1})
        for here, there in (("t", "l"), ("l", "t")):
            fabric[here].set_link_capacity(there, 800 * G)
        await fabric.wait(lambda: fabric.weights("t", P) == {"l": 2, "r": 1})
        # Drain l by link bandwidth zero: t keeps the path but sends it nothing.
        fabric["l"].drain(DrainMethod.LINK_BANDWIDTH_ZERO)
        await fabric.wait(lambda: fabric.weights("t", P) == {"r": 1})
        assert len(fabric["t"].rib(Prefix.parse(P))[0]["paths"]) == 2  # still known
        fabric["l"].undrain()
        await fabric.wait(lambda: fabric.weights("t", P) == {"l": 2, "r": 1})
        # Drain l by AS-path prepend: its path is longer, so it leaves t's multipath set.
        fabric["l"].drain(DrainMethod.AS_PATH_PREPEND)
        await fabric.wait(lambda: fabric.weights("t", P) == {"r": 1})
        (best,) = [p for p in fabric["t"].rib(Prefix.parse(P))[0]["paths"] if p["best"]]
        assert best["source"] == "r"
        fabric["l"].undrain()
        await fabric.wait(lambda: fabric.weights("t", P) == {"l": 2, "r": 1})
    finally:
        fabric.close()


@pytest.mark.parametrize(("b_offers", "most_updates"), [(True, 1), (False, None)])
async def test_extended_message_is_used_only_when_both_offer_it(
    b_offers: bool, most_updates: int | None
) -> None:
    """RFC 8654: 3,000 prefixes (12 kB of NLRI) go in one UPDATE of up to 65,535 octets
    when both speakers offer Extended Message; otherwise in 4,096-octet ones."""
    prefixes = [(f"10.{i // 256}.{i % 256}.0/24", None) for i in range(3000)]
    fabric = Fabric(
        [
            Node("a", 65001, "127.0.31.1", prefixes, extended_message=True),
            Node("b", 65002, "127.0.31.2", extended_message=b_offers),
        ],
        [Link("a", "b", 100 * G)],
        memory=True,
    )
    await fabric.start()
    try:
        await fabric.wait(lambda: len(fabric["b"].fib_table) == 3000)
        await fabric.wait(fabric.quiet)
        negotiated = fabric["b"].neighbors["a"].peer.primary.negotiated
        assert negotiated is not None and negotiated.extended_message is b_offers
        # Less the two End-of-RIB markers (RFC 4724 §2: one per family after the table).
        updates = fabric["b"].neighbors["a"].updates_in - 2
        if most_updates is not None:
            assert updates == most_updates
        else:
            assert updates >= 3  # 12 kB of NLRI over 4,096-octet messages
    finally:
        fabric.close()


@pytest.mark.parametrize("restart_s", [None, 0.2])
async def test_maximum_prefix_closes_the_session_with_cease_6_1(restart_s: float | None) -> None:
    """RFC 4486 §4: b accepts at most 100 prefixes from a; a sends 150. The session ends
    with Cease, Maximum Number of Prefixes Reached, a's routes leave b's FIB, and the
    session stays down, or comes back after the restart time (and ends again)."""
    prefixes = [(f"10.1.{i}.0/24", None) for i in range(150)]
    fabric = Fabric(
        [Node("a", 65001, "127.0.32.1", prefixes), Node("b", 65002, "127.0.32.2")],
        [Link("a", "b", 100 * G, limit_b=(100, restart_s))],
        memory=True,
    )
    ups: list[object] = []
    fabric["b"].session_events.append(
        lambda name, event: ups.append(event) if isinstance(event, SessionEstablished) else None
    )
    await fabric.start()
    try:
        sent = fabric["a"].neighbors["b"]
        await fabric.wait(lambda: bool(sent.last_down))
        assert sent.last_down == "notification-received: Cease / Maximum Number of Prefixes Reached"
        await fabric.wait(fabric.quiet)
        assert len(fabric["b"].fib_table) == 0
        if restart_s is None:
            (state,) = (s["state"] for s in fabric["b"].sessions())
            assert state == "Idle" and len(ups) == 1
            assert fabric["b"].neighbors["a"].last_down.startswith("maximum-prefix: Cease")
        else:
            await fabric.wait(lambda: len(ups) >= 2)  # brought up again after 0.2 s
    finally:
        fabric.close()
