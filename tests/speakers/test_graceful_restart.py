"""Graceful restart (RFC 4724) between real speakers on the in-memory network.

The fabric: two leaves (``l1`` originates P1, ``l2`` P2) each with a session to two spines
(``s1``, ``s2``), so each leaf forwards to the other over both spines. A spine restarting
gracefully keeps every FIB in the fabric as it was (its neighbors keep its routes stale,
it keeps its own FIB while it learns); a plain restart changes them. The helper's other
procedures follow: stale routes swept at End-of-RIB, after the restart time, or at once
when the restarted speaker kept no forwarding state; none kept over a failed link; and
the timer mismatch of the NSDI'21 incident (stale routes swept before the restarting
switch's End-of-RIB wait is over) black-holes a leaf's prefix. Last, the other markers a
table's (re)advertisement carries: RFC 7313's around the answer to a ROUTE-REFRESH.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from speaker_helpers import Fabric, Link, Node

from speakers import graceful
from speakers.config import GracefulRestart
from speakers.speaker import Speaker
from speakers.wire import RouteRefresh, Update, decode_message, encode_message

G = 1e9
P1, P2, P3 = "10.1.0.0/24", "10.2.0.0/24", "10.2.1.0/24"
BOTH = {"s1": 1, "s2": 1}
ON = GracefulRestart(enabled=True)


def fabric(
    base: int,
    gr: GracefulRestart = ON,
    leaf_gr: GracefulRestart | None = None,
) -> Fabric:
    """The four-switch fabric of the module docstring, addresses 127.0.``base``.x."""

    def node(name: str, asn: int, host: int, originate: list[str], setting: GracefulRestart):
        return Node(
            name, asn, f"127.0.{base}.{host}", [(p, None) for p in originate],
            graceful_restart=setting,
        )  # fmt: skip

    nodes = [
        node("l1", 65001, 1, [P1], leaf_gr or gr),
        node("s1", 65100, 2, [], gr),
        node("s2", 65100, 3, [], gr),
        node("l2", 65002, 4, [P2, P3], gr),
    ]
    links = [
        Link(a, b, 100 * G) for a, b in (("l1", "s1"), ("l1", "s2"), ("s1", "l2"), ("s2", "l2"))
    ]
    return Fabric(nodes, links, memory=True)


async def converged(f: Fabric) -> None:
    await f.wait(
        lambda: (
            f.weights("l1", P2) == BOTH
            and f.weights("l1", P3) == BOTH
            and f.weights("l2", P1) == BOTH
        )
    )
    await f.wait(f.quiet)


def record(f: Fabric, speakers: list[Speaker] | None = None) -> list[tuple[str, str, object]]:
    """Every FIB change from now on, (switch, prefix, new group)."""
    changes: list[tuple[str, str, object]] = []
    for sp in speakers or list(f.speakers.values()):
        name = sp.config.name
        sp.fib_table.subscribe(lambda c, n=name: changes.append((n, str(c.prefix), c.new)))
    return changes


def no_stale(f: Fabric, of: str) -> bool:
    return all(
        nb.stale is None for sp in f.speakers.values() for n, nb in sp.neighbors.items() if n == of
    )


async def test_a_spine_restarting_gracefully_changes_no_fib_anywhere() -> None:
    f = fabric(61)
    await f.start()
    try:
        await converged(f)
        changes = record(f)
        kept: list[int] = []
        f["l1"].session_events.append(
            lambda name, ev: (
                kept.append(graceful.stale_count(f["l1"].neighbors[name]))
                if type(ev).__name__ == "SessionDown"
                else None
            )
        )
        new = await f.restart("s1", graceful=True)
        changes += record(f, [new])
        assert new.fib_table.lookup(new.fib_table.entries()[0][0]) is not None  # kept
        await f.wait(lambda: new.deferral is not None and not new.deferral.active)
        assert new.deferral is not None
        assert new.deferral.ended_by == "every neighbor's End-of-RIB"
        await f.wait(lambda: no_stale(f, "s1"))
        await f.wait(f.quiet)
        assert kept == [2]  # l1 kept P2 and P3 via s1 while s1 was away
        assert f["l1"].neighbors["s1"].flaps == 1
        assert changes == []  # no switch's forwarding changed, s1's own included
        assert f.weights("l1", P2) == BOTH and f.weights("l2", P1) == BOTH
        # Later OPENs no longer say "restarting" (RFC 4724 §4.1).
        offered = new.neighbors["l1"].peer.config.graceful_restart
        assert offered is not None and not offered.restarting
    finally:
        f.close()


async def test_a_passive_speaker_restarting_dials_helpers_that_wait_for_it() -> None:
    """l1 is passive toward both spines, and the spines, as helpers, stop dialing it while
    they keep its routes (FRR 8.4 does: its Active state with PEER_STATUS_NSF_WAIT keeps no
    connect timer). The restarting l1 dials them anyway until its routes are selected,
    so nothing waits for a restart timer; then it is passive again."""
    f = fabric(70)
    await f.start()
    try:
        await converged(f)
        changes = record(f)
        for spine in ("s1", "s2"):
            peer = f[spine].neighbors["l1"].peer
            peer.configure(replace(peer.config, passive=True))  # helpers that wait
        config = f["l1"].config
        passive = replace(
            config, neighbors=tuple(replace(n, passive=True) for n in config.neighbors)
        )
        new = await f.restart("l1", graceful=True, config=passive)
        changes += record(f, [new])
        await f.wait(lambda: new.deferral is not None and not new.deferral.active)
        assert new.deferral is not None
        assert new.deferral.ended_by == "every neighbor's End-of-RIB"  # both came back
        await f.wait(lambda: no_stale(f, "l1"))
        await f.wait(f.quiet)
        assert changes == []
        assert all(nb.peer.config.passive for nb in new.neighbors.values())  # passive again
    finally:
        f.close()


async def test_a_plain_restart_changes_the_neighbors_fibs() -> None:
    f = fabric(62)
    await f.start()
    try:
        await converged(f)
        changes = record(f)
        await f.restart("s1", graceful=False)
        await f.wait(lambda: f["l1"].neighbors["s1"].flaps == 1)
        await converged(f)
        assert ("l1", P2, None) not in changes  # s2 still carries it...
        assert any(n == "l1" and p == P2 for n, p, _ in changes)  # ...alone, for a while
    finally:
        f.close()


async def test_stale_routes_the_restarted_speaker_no_longer_has_go_at_its_end_of_rib() -> None:
    f = fabric(63)
    await f.start()
    try:
        await converged(f)
        without_p3 = replace(
            f["l2"].config,
            originate=tuple(o for o in f["l2"].config.originate if str(o.prefix) != P3),
        )
        new = await f.restart("l2", graceful=True, config=without_p3)
        await f.wait(lambda: new.deferral is not None and not new.deferral.active)
        await f.wait(lambda: f.weights("s1", P3) == {} and f.weights("s2", P3) == {})
        assert set(f["s1"].neighbors["l2"].end_of_rib) == {(1, 1), (2, 1)}
        assert f.weights("s1", P2) == {"l2": 1}  # sent again: no longer stale, kept
        assert no_stale(f, "l2")
    finally:
        f.close()


async def test_without_the_restarting_speaker_the_stale_routes_go_after_its_restart_time() -> None:
    f = fabric(64, GracefulRestart(enabled=True, restart_time_s=1))
    await f.start()
    try:
        await converged(f)
        f["s1"].close()  # dies, and nothing comes back
        await f.wait(lambda: f["l1"].neighbors["s1"].stale is not None)
        assert f.weights("l1", P2) == BOTH  # still forwarding over s1
        await f.wait(lambda: f.weights("l1", P2) == {"s2": 1}, timeout=10)
        assert f["l1"].neighbors["s1"].stale is None
    finally:
        f.close()


async def test_a_restart_without_forwarding_state_clears_the_stale_routes_at_once() -> None:
    f = fabric(65, GracefulRestart(enabled=True, restart_time_s=120))
    await f.start()
    try:
        await converged(f)
        old = f["s1"]
        old.close()  # dies; the new process kept no FIB: F bit clear
        await f.wait(lambda: f["l1"].neighbors["s1"].stale is not None)
        new = Speaker(old.config, network=f.network)
        f.speakers["s1"] = f._watched(new)
        await new.start()
        await f.wait(lambda: f["l1"].neighbors["s1"].established)
        assert f["l1"].neighbors["s1"].stale is None  # not the 120 s of the restart time
        await converged(f)
    finally:
        f.close()


async def test_nothing_is_kept_over_a_failed_link() -> None:
    f = fabric(66)
    await f.start()
    try:
        await converged(f)
        f["l1"].link_down("s1")
        f["s1"].link_down("l1")
        await f.wait(lambda: f.weights("l1", P2) == {"s2": 1})
        assert f["l1"].neighbors["s1"].stale is None and f["s1"].neighbors["l1"].stale is None
    finally:
        f.close()


@pytest.mark.parametrize("stalepath_s, black_hole", [(0.3, True), (30.0, False)])
async def test_stale_paths_swept_before_the_restarting_switch_selects_black_hole_it(
    stalepath_s: float, black_hole: bool
) -> None:
    """The NSDI'21 incident in small: leaf l1 restarts gracefully while spine s2 is dead,
    so l1 waits out its whole select-defer time for s2's End-of-RIB. Spine s1 keeps l1's
    stale P1 only ``stalepath_s`` after l1's session is back: shorter than l1's wait, P1
    leaves s1 and l2 has no route to it until l1 selects and advertises; longer, nothing
    is lost."""
    gr = GracefulRestart(enabled=True, stalepath_time_s=stalepath_s)
    f = fabric(67 + int(black_hole), gr, leaf_gr=replace(gr, select_defer_time_s=1.5))
    await f.start()
    try:
        await converged(f)
        f["s2"].close()  # dead: l2 keeps P1 via s2 stale for its restart time (120 s)
        await f.wait(lambda: f["l2"].neighbors["s2"].stale is not None)
        f["l2"].link_down("s2")  # ... unless its link is known down: then s1 is all there is
        await f.wait(lambda: f.weights("l2", P1) == {"s1": 1})
        lost: list[bool] = []
        f["l2"].fib_table.subscribe(
            lambda c: lost.append(c.new is None) if str(c.prefix) == P1 else None
        )
        new = await f.restart("l1", graceful=True)
        await f.wait(lambda: new.deferral is not None and not new.deferral.active, timeout=10)
        assert new.deferral is not None
        assert new.deferral.ended_by == "select-defer-time expired"  # s2 never came
        await f.wait(lambda: f.weights("l2", P1) == {"s1": 1})
        assert lost == ([True, False] if black_hole else [])
    finally:
        f.close()


async def test_a_route_refresh_is_answered_between_borr_and_eorr() -> None:
    """RFC 7313 §4: with Enhanced Route Refresh negotiated, the answer to a ROUTE-REFRESH
    is framed by a Begin- and an End-of-Route-Refresh (``packing.framed``); the peer takes
    both without complaint, and neither counts as an UPDATE."""
    f = fabric(69)
    await f.start()
    try:
        await converged(f)
        s1, l1 = f["s1"].neighbors["l1"], f["l1"].neighbors["s1"]
        before, seen = s1.updates_out, []
        sent: list[bytes] = []
        send = s1.transport.send_updates  # type: ignore[union-attr]
        s1.transport.send_updates = lambda m: sent.extend(m) or send(m)  # type: ignore[union-attr,method-assign]
        f["s1"].session_events.append(lambda name, ev: seen.append(type(ev).__name__))
        l1.transport.send_updates([encode_message(RouteRefresh(1, 1))])  # type: ignore[union-attr]
        await f.wait(lambda: bool(sent))
        await f.wait(f.quiet)
        kinds = [decode_message(m) for m in sent]
        assert isinstance(kinds[0], RouteRefresh) and kinds[0].subtype == 1
        assert isinstance(kinds[-1], RouteRefresh) and kinds[-1].subtype == 2
        assert all(isinstance(k, Update) for k in kinds[1:-1]) and len(kinds) >= 3
        assert s1.updates_out - before == len(kinds) - 2
        assert "RouteRefreshReceived" in seen
        assert l1.flaps == 0 and s1.flaps == 0
    finally:
        f.close()


async def test_a_closed_speaker_leaves_no_restart_wait_or_sweep_behind() -> None:
    """A speaker closed mid-restart (its process gone again) must not change its routes
    later: its select-defer wait and its neighbors' stale sweeps are cancelled."""
    f = fabric(71)
    await f.start()
    try:
        await converged(f)
        f["s2"].close()  # l1 keeps s2's routes stale; a restarting l1 would wait for s2
        await f.wait(lambda: f["l1"].neighbors["s2"].stale is not None)
        new = await f.restart("l1", graceful=True)
        assert new.deferring and new.work_due() is not None
        assert f["l2"].neighbors["s2"].stale is not None
        new.close()
        f["l2"].close()
        assert not new.deferring and new.work_due() is None
        assert f["l2"].work_due() is None  # its sweep of s2's routes is off too
    finally:
        f.close()
