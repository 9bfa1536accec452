"""Export and import policy knobs, end to end between real speakers."""

from __future__ import annotations

import pytest
from speaker_helpers import Fabric, Link, Node

from speakers.config import ExportPolicy, ImportPolicy, PrefixList, PrefixListEntry
from speakers.ucmp import ReadvertiseMode
from speakers.wire import Prefix, parse_community

G = 1e9
P1, P2, P3 = "10.1.0.0/24", "10.2.0.0/24", "10.3.0.0/25"


def paths(fabric: Fabric, node: str, prefix: str) -> list[dict]:
    dests = fabric[node].rib(Prefix.parse(prefix))
    return dests[0]["paths"] if dests else []


async def test_prefix_lists_prepend_and_communities() -> None:
    only_p1_p3 = PrefixList(
        (
            PrefixListEntry(Prefix.parse(P1)),
            PrefixListEntry(Prefix.parse("10.3.0.0/16"), ge=24, le=25),
        )
    )
    export = ExportPolicy(
        link_bandwidth=ReadvertiseMode.FIXED,
        link_bandwidth_fixed_bps=100 * G,
        link_bandwidth_transitive=False,
        prepend=2,
        set_communities=(parse_community("65001:7"),),
        prefix_list=only_p1_p3,
    )
    fabric = Fabric(
        [
            Node("a", 65001, "127.0.32.1", [(P1, 800 * G), (P2, 800 * G), (P3, None)]),
            Node("b", 65002, "127.0.32.2"),
        ],
        [Link("a", "b", 800 * G, policy_a=export)],
    )
    await fabric.start()
    try:
        await fabric.wait(lambda: bool(paths(fabric, "b", P1)) and bool(paths(fabric, "b", P3)))
        (p1,) = paths(fabric, "b", P1)
        assert p1["as_path"] == "65001 65001 65001"  # our AS plus two prepends
        assert p1["link_bandwidth_bps"] == pytest.approx(100 * G, rel=2**-24)  # fixed, float32
        assert paths(fabric, "b", P2) == []  # denied by the prefix list (no match)
        dest = fabric["b"].loc_rib.get(Prefix.parse(P1))
        assert dest is not None and dest.best is not None
        attrs = dest.best.attributes
        assert attrs.communities == (parse_community("65001:7"),)
        (lb,) = attrs.ext_communities
        assert lb.transitive is False  # type: ignore[union-attr]
    finally:
        fabric.close()


async def test_import_prefix_list_and_allowas_in() -> None:
    # c and a share AS 65001 (RFC 7938 reuses ASNs per tier): c rejects a's routes through b
    # as an AS loop unless allowas-in permits one occurrence of its own AS.
    fabric = Fabric(
        [
            Node("a", 65001, "127.0.33.1", [(P1, 800 * G), (P2, 800 * G)]),
            Node("b", 65002, "127.0.33.2"),
            Node("c", 65001, "127.0.33.3"),
            Node("d", 65001, "127.0.33.4"),
        ],
        [
            Link("a", "b", 800 * G),
            Link("b", "c", 800 * G, policy_a=ExportPolicy(sender_side_loop_detection=False)),
            Link(
                "b",
                "d",
                800 * G,
                policy_a=ExportPolicy(sender_side_loop_detection=False),
                import_b=ImportPolicy(
                    allowas_in=1, prefix_list=PrefixList((PrefixListEntry(Prefix.parse(P1)),))
                ),
            ),
        ],
    )
    await fabric.start()
    try:
        await fabric.wait(
            lambda: bool(paths(fabric, "d", P1)) and fabric["c"].neighbors["b"].updates_in > 0
        )
        assert fabric.weights("d", P1) == {"b": 1}
        assert paths(fabric, "d", P2) == []  # import prefix list
        assert paths(fabric, "c", P1) == []  # AS loop: 65001 already in the path
        assert fabric["c"].neighbors["b"].updates_in > 0  # it did arrive, and was refused
    finally:
        fabric.close()


async def test_updates_are_batched_not_one_per_prefix() -> None:
    many = [(f"10.{i >> 8}.{i & 255}.0/24", 800 * G) for i in range(2000)]
    fabric = Fabric(
        [Node("a", 65001, "127.0.34.1", many), Node("b", 65002, "127.0.34.2")],
        [Link("a", "b", 800 * G)],
    )
    await fabric.start()
    try:
        await fabric.wait(lambda: len(fabric["b"].loc_rib) == 2000)
        await fabric.wait(lambda: len(fabric["a"].neighbors["b"].end_of_rib_due) == 0)
        sent = fabric["a"].neighbors["b"].updates_out - 2  # less an End-of-RIB per family
        assert sent <= 3  # 2000 /24s with one attribute set fit in two 4096-octet UPDATEs
    finally:
        fabric.close()
