"""Graceful restart (RFC 4724) between bagemu and FRR 8.4: each side restarting while the
other helps, on a lab of its own (interop_plan.GracefulTimers: graceful restart on both
sides, FRR with ``bgp graceful-restart`` and ``preserve-fw-state``, short timers).

- bagemu restarts gracefully (its control socket's ``restart``: the speaker dropped with
  no NOTIFICATION, a new one started in the same process with the FIB kept, 4 s later):
  FRR keeps bagemu's routes, marked stale in its JSON, over all four sessions; the kernel
  in FRR's namespace never loses them (``ip monitor route`` for the whole leg); bagemu's
  FIB never changes (its change stream stays empty); bagemu waits for FRR's End-of-RIB,
  then sends its own, after which FRR holds nothing stale.
- the contrast: a plain restart (a Cease) makes FRR withdraw them, kernel included.
- FRR restarts gracefully (bgpd killed with SIGKILL, zebra left running with its routes,
  bgpd started again: it sets the R and F bits by itself): bagemu keeps FRR's routes
  stale in its FIB while bgpd is away, unchanged, and sweeps what is left stale at each
  session's End-of-RIB from the new bgpd. A route the new bgpd no longer announces
  leaves bagemu's FIB at that End-of-RIB (each change no earlier than the End-of-RIB of
  the session whose path it removed), not before.

FRR 8.4 sets the Restart State bit in its OPENs for 120 s after bgpd starts (frr_peer.py),
and RFC 4724 §4.1 has a restarting speaker not wait for the End-of-RIB of a peer that says
it restarts too: bagemu restarting then would select before FRR's routes arrive and drop
them from its FIB for a moment. So the bagemu leg first waits out that window (most of
this module's two minutes), and checks that FRR's new OPENs no longer set the bit.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from daemon_process import wait_until
from frr_peer import STARTUP_R_BIT_S
from graceful_checks import (
    RouteMonitor,
    family_of,
    frr,
    frr_keeps_stale,
    frr_not_stale,
    helper_done,
    restart_bagemu,
    selection_done,
)
from interop_checks import converged, peer_holds, peer_lacks
from interop_lab import Lab, open_lab, why_not
from interop_plan import BAGEMU_PREFIXES, PEER_PREFIXES, GracefulTimers
from peer_api import kernel_next_hops

CONVERGE_S = 60.0
DOWN_S = 4.0  # how long bagemu's restart keeps it away
GONE = "192.0.2.0/24"  # FRR announces it before its restart, not after (RFC 5737)


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    reason = why_not("frr")
    if reason is not None:
        pytest.skip(f"frr: {reason}")
    with open_lab("frr", GracefulTimers()) as opened:
        yield opened


def wait_converged(lab: Lab, what: str = "the lab converged") -> float:
    return wait_until(lambda: converged(lab), CONVERGE_S, f"frr: {what}")


def kernel(lab: Lab) -> dict[str, dict[str, int]]:
    """bagemu's prefixes as the kernel in FRR's namespace forwards them."""
    return {p: kernel_next_hops(lab.peer_ns, p) for p in BAGEMU_PREFIXES.values()}


def test_bagemu_restarts_gracefully_and_frr_keeps_its_routes(lab: Lab) -> None:
    wait_converged(lab)
    started = frr(lab).bgpd_started_at
    assert started is not None
    window = started + STARTUP_R_BIT_S + 2

    def out_of_window() -> str | None:
        left = window - time.monotonic()
        return None if left <= 0 else f"FRR sets the R bit {left:.0f} s more"

    wait_until(out_of_window, STARTUP_R_BIT_S + 10, "FRR's startup window")
    wait_converged(lab)
    fib_before, kernel_before = lab.bagemu.fib(), kernel(lab)
    with RouteMonitor(lab.peer_ns, lab.workdir / "frr-routes-graceful.log") as monitor:
        with restart_bagemu(lab, graceful=True, down_s=DOWN_S) as reply:
            for prefix in BAGEMU_PREFIXES.values():
                wait_until(partial(frr_keeps_stale, lab, prefix), DOWN_S / 2, "FRR helps")
            assert not reply.done()  # bagemu still away: the stale paths are FRR's doing
            assert lab.bagemu.fib() == fib_before  # the new speaker, not started, has it
            done: dict[str, Any] = reply.result(timeout=30)
        assert done["graceful"] and done["preserved_fib_entries"] == len(fib_before)
        wait_until(lambda: selection_done(lab), 30, "bagemu selects after its restart")
        state = lab.bagemu.request({"cmd": "graceful"})
        assert state["ended_by"] == "every neighbor's End-of-RIB", state  # not the timer
        for name, view in lab.bagemu.session_counters().items():
            assert view["peer_restarting"] is False, (name, view)  # FRR out of its window
            assert view["end_of_rib_ns"], (name, view)  # what bagemu waited for
        for prefix in BAGEMU_PREFIXES.values():
            wait_until(partial(frr_not_stale, lab, prefix), 30, "bagemu's End-of-RIB at FRR")
            assert peer_holds(lab, prefix) is None
        for s in lab.plan.sessions:
            info = frr(lab).graceful_info(str(s.bagemu_address))
            family = "ipv6Unicast" if s.version == 6 else "ipv4Unicast"
            assert info["endOfRibRecv"].get(family) is True, (s.name, info)
            assert info["rBit"] is True, (s.name, info)  # bagemu said it restarted
    for prefix in BAGEMU_PREFIXES.values():
        assert monitor.deletions(prefix) == [], monitor.lines(prefix)
    assert kernel(lab) == kernel_before
    assert lab.bagemu.request({"cmd": "fib_changes"}) == {"next_index": 0, "changes": []}
    assert lab.bagemu.fib() == fib_before
    wait_converged(lab)


def test_a_plain_bagemu_restart_makes_frr_withdraw(lab: Lab) -> None:
    wait_converged(lab)
    with RouteMonitor(lab.peer_ns, lab.workdir / "frr-routes-plain.log") as monitor:
        with restart_bagemu(lab, graceful=False, down_s=DOWN_S) as reply:
            for prefix in BAGEMU_PREFIXES.values():
                wait_until(partial(peer_lacks, lab, prefix), DOWN_S / 2, "FRR withdraws")
            assert not reply.done()
            assert reply.result(timeout=30)["preserved_fib_entries"] is None
        wait_converged(lab, "bagemu back")
    for prefix in BAGEMU_PREFIXES.values():
        assert monitor.deletions(prefix), monitor.lines(prefix)  # the kernel lost it


def test_frr_restarts_gracefully_and_bagemu_keeps_its_routes(lab: Lab) -> None:
    wait_converged(lab)
    peer = frr(lab)
    peer.announce(GONE)
    v4 = {str(s.peer_address) for s in lab.plan.family(4)}
    wait_until(lambda: None if set(lab.bagemu.fib().get(GONE, {})) == v4 else "not yet", 30, GONE)
    fib_before = lab.bagemu.fib()
    mark = lab.bagemu.request({"cmd": "fib_changes"})["next_index"]
    peer.kill()  # SIGKILL: no NOTIFICATION; zebra stays, with bgpd's routes
    down = {"Established"}

    def all_down() -> str | None:
        states = {n: s["state"] for n, s in lab.bagemu.session_counters().items()}
        return None if not down & set(states.values()) else f"still up: {states}"

    wait_until(all_down, 30, "bagemu sees bgpd gone")
    stale = {n: s["stale_routes"] for n, s in lab.bagemu.session_counters().items()}
    assert stale == {"v4out": 2, "v6out": 1, "v4in": 2, "v6in": 1}  # 203.0.113/24, GONE; v6
    assert lab.bagemu.fib() == fib_before  # still forwarding over FRR
    assert lab.bagemu.request({"cmd": "fib_changes", "since": mark})["changes"] == []
    assert all(kernel(lab).values())  # zebra kept bgpd's routes: the F bit FRR sends holds
    peer.announced.discard(GONE)  # the new bgpd's configuration no longer has it
    peer.start()
    wait_until(lambda: helper_done(lab), 30, "FRR back, its End-of-RIB in, nothing stale")
    views = lab.bagemu.session_counters()
    assert all(v["peer_restarting"] is True for v in views.values()), views  # R bit
    eor = {
        str(s.peer_address): views[s.name]["end_of_rib_ns"][family_of(s.version)]
        for s in lab.plan.sessions
    }
    changes = lab.bagemu.request({"cmd": "fib_changes", "since": mark})["changes"]
    assert [c["prefix"] for c in changes] == [GONE, GONE], changes  # one path, then the other
    for change in changes:
        old = {h["next_hop"] for h in change["old"]["next_hops"]}
        new = {h["next_hop"] for h in (change["new"] or {"next_hops": []})["next_hops"]}
        for hop in old - new:  # a path removed: at its session's End-of-RIB, not before
            assert change["at_ns"] >= eor[hop], (change, eor)
    assert lab.bagemu.fib() == {p: w for p, w in fib_before.items() if p != GONE}
    for prefix in PEER_PREFIXES.values():
        assert lab.bagemu.fib()[prefix] == fib_before[prefix]  # refreshed, never changed
    wait_converged(lab, "FRR back")
