"""``speakers.clock``: emulated time that only its owner moves. Timers run in deadline
order at their own deadlines; speakers on it keep their sessions however long the host
stalls, and a peer whose clock is frozen (it sends nothing) is still caught by the hold
timer, in emulated time and without waiting for it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
import weakref
from collections.abc import AsyncIterator, Callable
from ipaddress import IPv4Address

from speaker_helpers import Fabric, Link, Node

from speakers.clock import LoopClock, Timer, VirtualClock
from speakers.session import DownReason, SessionDown
from speakers.wire import AsPath, Origin, PathAttributes, Prefix, Update, encode_message


async def test_timers_run_in_deadline_order_each_at_its_deadline() -> None:
    clock = VirtualClock(start=10.0)
    seen: list[tuple[str, float]] = []

    def note(name: str) -> None:
        seen.append((name, clock.time()))
        if name == "b":  # set from inside a timer, due before the advance ends
            clock.call_at(12.5, lambda: note("d"))

    clock.call_at(13.0, lambda: note("c"))
    clock.call_at(11.0, lambda: note("a"))
    clock.call_at(12.0, lambda: note("b"))
    clock.call_at(12.0, lambda: note("b2"))  # equal deadlines: in the order they were set
    clock.call_at(11.5, lambda: note("x")).cancel()
    assert clock.next_deadline() == 11.0 and clock.time() == 10.0
    assert clock.advance(12.9) == 4
    assert seen == [("a", 11.0), ("b", 12.0), ("b2", 12.0), ("d", 12.5)]
    assert clock.time() == 12.9 and clock.time_ns() == 12_900_000_000
    assert clock.next_deadline() == 13.0
    clock.advance(5.0)  # never backwards
    assert clock.time() == 12.9 and clock.advance(13.0) == 1 and seen[-1] == ("c", 13.0)
    assert clock.next_deadline() is None


async def test_the_loop_clock_is_the_loops() -> None:
    loop = asyncio.get_running_loop()
    clock = LoopClock()
    assert abs(clock.time() - loop.time()) < 0.5
    fired = asyncio.Event()
    clock.call_at(loop.time(), fired.set)
    async with asyncio.timeout(5):
        await fired.wait()


async def run_until(fabric: Fabric, clock: VirtualClock, until: float) -> None:
    """Emulated time up to ``until``: each due timer in turn, and between two the region
    left to finish what the timer caused (no wall time passes for the waits)."""
    while True:
        await fabric.wait(fabric.quiet)
        deadline = clock.next_deadline()
        if deadline is None or deadline > until:
            clock.advance(until)
            await fabric.wait(fabric.quiet)
            return
        clock.advance(deadline)


PAIR = ([Node("a", 65001, "127.0.9.1"), Node("b", 65002, "127.0.9.2")], [Link("a", "b", 1e9)])


def flaps(fabric: Fabric) -> list[int]:
    """How often each session end of ``fabric`` went down after being up."""
    return [nb.flaps for s in fabric.speakers.values() for nb in s.neighbors.values()]


@contextlib.asynccontextmanager
async def pair_up(clock: VirtualClock) -> AsyncIterator[Fabric]:
    """``PAIR`` on ``clock`` (a 3 s hold time), its session up a second in; closed after."""
    fabric = Fabric(*PAIR, memory=True, hold_time_s=3, clocks={"a": clock, "b": clock})
    await fabric.start()
    try:
        await run_until(fabric, clock, 1.0)
        assert fabric.established()
        yield fabric
    finally:
        fabric.close()


async def test_a_stalled_host_expires_no_hold_timer() -> None:
    clock = VirtualClock()
    async with pair_up(clock) as fabric:
        time.sleep(4.0)  # the host stalls for more than a hold time: emulated time does not
        await run_until(fabric, clock, 60.0)  # a minute of keepalives, every hold time met
        assert fabric.established() and flaps(fabric) == [0, 0]
        assert clock.time() == 60.0


async def test_updates_sent_are_written_at_once_and_a_frozen_speaker_writes_none() -> None:
    # An export flush writes each neighbor's UPDATEs without a pump per neighbor
    # (``PeerTransport.send_updates``); a frozen speaker's are queued and never written.
    clock = VirtualClock()
    async with pair_up(clock) as fabric:
        transport = fabric["a"].neighbors["b"].transport
        assert transport is not None
        attrs = PathAttributes(
            origin=Origin.IGP, as_path=AsPath.sequence(65001), next_hop=IPv4Address("127.0.9.1")
        )
        prefixes = [Prefix.parse("10.1.0.0/16"), Prefix.parse("10.2.0.0/16")]
        updates = [encode_message(Update(attributes=attrs, nlri=(p,))) for p in prefixes]
        sent = transport.bytes_sent_received()[0]
        assert transport.send_updates(updates) == 2
        assert transport.bytes_sent_received()[0] == sent + sum(map(len, updates))
        await run_until(fabric, clock, 2.0)
        assert all(fabric["b"].fib_table.lookup(p) is not None for p in prefixes)
        transport.freeze()
        sent = transport.bytes_sent_received()[0]
        transport.send_updates(updates[:1])
        assert transport.bytes_sent_received()[0] == sent


async def test_a_frozen_peer_is_caught_by_the_hold_timer_in_emulated_time() -> None:
    clock_a, clock_b = VirtualClock(), VirtualClock()
    fabric = Fabric(*PAIR, memory=True, hold_time_s=9, clocks={"a": clock_a, "b": clock_b})
    downs: list[tuple[float, SessionDown]] = []
    fabric["a"].session_events.append(
        lambda _peer, event: (
            downs.append((clock_a.time(), event)) if isinstance(event, SessionDown) else None
        )
    )
    await fabric.start()
    try:
        for _ in range(3):  # both clocks on until the session is up
            await run_until(fabric, clock_a, 0.5)
            await run_until(fabric, clock_b, 0.5)
        assert fabric.established()
        t0 = time.monotonic()
        await run_until(fabric, clock_a, 30.0)  # b's clock stands: b sends nothing
        assert time.monotonic() - t0 < 5.0  # 30 emulated seconds, no wall time waited
        # b still answers what it is sent (its loop runs; only its timers stand), so a's
        # new session comes up, and its hold timer catches b again, 9 s on each time.
        at, first = downs[0]
        assert first.reason is DownReason.HOLD_TIMER_EXPIRED and 9.0 <= at <= 9.5
        assert {d.reason for _, d in downs} == {DownReason.HOLD_TIMER_EXPIRED}
        established_at = fabric["a"].neighbors["b"].established_at  # on a's clock too
        assert established_at is not None and downs[-1][0] <= established_at <= 30.0
    finally:
        fabric.close()


async def test_work_a_timer_asks_for_soon_runs_at_that_timers_time() -> None:
    clock = VirtualClock()
    seen: list[tuple[str, float]] = []
    clock.call_at(1.0, lambda: clock.call_soon(lambda: seen.append(("soon", clock.time()))))
    clock.call_at(2.0, lambda: seen.append(("later", clock.time())))
    clock.advance(3.0)
    assert seen == [("soon", 1.0), ("later", 2.0)]
    outside = asyncio.Event()
    clock.call_soon(outside.set)  # not advancing: the loop runs it, at once
    async with asyncio.timeout(5):
        await outside.wait()


async def test_a_timer_due_already_set_between_steps_runs_without_a_step() -> None:
    """Set between steps at (or before) the clock's time, a timer runs at once, as
    ``call_soon``'s callback would: parked for the next ``advance`` it would wait on a
    step the region takes only when nothing is busy, and the work waiting on it is."""
    clock = VirtualClock()
    clock.advance(5.0)
    ran: list[str] = []
    clock.call_at(5.0, lambda: ran.append("due now"))
    clock.call_at(4.0, lambda: ran.append("overdue"))
    clock.call_at(5.0, lambda: ran.append("cancelled")).cancel()
    clock.call_at(5.5, lambda: ran.append("later"))
    assert clock.next_deadline() == 5.5  # only the future one waits for a step
    await asyncio.sleep(0)
    assert ran == ["due now", "overdue"] and clock.time() == 5.0
    clock.advance(6.0)
    assert ran == ["due now", "overdue", "later"]


class _Callback:
    """A callback whose lifetime a weak reference can see."""

    def __init__(self, seen: list[int], n: int) -> None:
        self.seen, self.n = seen, n

    def __call__(self) -> None:
        self.seen.append(self.n)


async def test_cancelled_timers_let_go_of_their_callbacks_before_their_deadlines() -> None:
    # A session re-arms its timer at every keepalive: the cancelled ones, due a hold time
    # away, must not pile up with what their callbacks hold until then.
    clock = VirtualClock()
    seen: list[int] = []
    kept = [_Callback(seen, n) for n in range(10)]
    for n, callback in enumerate(kept):
        clock.call_at(100.0 + n, callback)
    dropped = [_Callback(seen, -1) for _ in range(1000)]
    refs = [weakref.ref(c) for c in dropped]
    for callback in dropped:
        clock.call_at(50.0, callback).cancel()
    del dropped, callback
    gc.collect()
    assert sum(ref() is not None for ref in refs) < 100
    clock.advance(200.0)
    assert seen == list(range(10))


async def test_timers_cancelled_by_a_running_timer_do_not_upset_the_advance() -> None:
    # Cancelling many timers from inside ``advance`` empties the heap of them in place:
    # what is left still runs, in deadline order, each at its own deadline.
    clock = VirtualClock()
    seen: list[tuple[int, float]] = []
    doomed = [
        clock.call_at(5.0 + n / 1000, lambda: seen.append((-1, clock.time()))) for n in range(500)
    ]

    def cancel_them() -> None:
        seen.append((0, clock.time()))
        for timer in doomed:
            timer.cancel()

    clock.call_at(1.0, cancel_them)
    for n in range(1, 6):
        clock.call_at(float(n * 2), lambda n=n: seen.append((n, clock.time())))  # type: ignore[misc]
    assert clock.advance(20.0) == 6
    assert seen == [(0, 1.0)] + [(n, float(n * 2)) for n in range(1, 6)]
    assert clock.next_deadline() is None


class CountingClock(VirtualClock):
    """A virtual clock that counts the timers set on it."""

    def __init__(self) -> None:
        super().__init__()
        self.set = 0

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        self.set += 1
        return super().call_at(when, callback)


async def test_a_burst_of_updates_sets_no_timer_each_and_keepalives_go_on() -> None:
    """Each UPDATE sent restarts the KeepaliveTimer (RFC 4271 §4.4) and each received the
    HoldTimer, both later than before: the transport's timer is left to fire early and set
    itself again, not cancelled and set at every message. Keepalives still flow after."""
    clock = CountingClock()
    async with pair_up(clock) as fabric:
        b_end = fabric["b"].neighbors["a"].transport
        assert b_end is not None
        sent_before = clock.set
        for i in range(40):  # forty flushes, an UPDATE each, at one instant
            fabric["a"].originate(Prefix.parse(f"10.{i}.0.0/16"))
            await fabric.wait(fabric.quiet)
        assert {str(d.prefix) for d in fabric["b"].loc_rib} >= {"10.0.0.0/16", "10.39.0.0/16"}
        assert clock.set - sent_before < 5  # (one per UPDATE before: forty)
        received = b_end.bytes_sent_received()[1]
        await run_until(fabric, clock, 60.0)
        assert fabric.established() and flaps(fabric) == [0, 0]
        # A KEEPALIVE (19 octets) at least every second of the 59 (3 s hold time).
        assert b_end.bytes_sent_received()[1] - received >= 19 * 59
