"""``Cue`` (runtimes/timekeeping.py): a shard's cue reaches every waiter that looked before
it, however the waiters interleave; the live keeper and an operation's wait share one.
``settle``: a step of time decided on a look from before or during an action is not taken."""

from __future__ import annotations

import asyncio

import pytest

from bagctl.runtimes.records import ShardSnapshot
from bagctl.runtimes.timekeeping import Cue, Pace, RegionClock, settle


async def test_one_waiters_next_look_does_not_swallow_a_cue_another_needs() -> None:
    cue = Cue()
    keeper_seen = cue.given  # the keeper looked (saw bytes in flight) and will wait
    operation_seen = cue.given
    cue.set()  # the bytes arrived
    # The operation wakes first and looks again at once, before the keeper waits.
    await asyncio.wait_for(cue.wait(operation_seen), 1)
    operation_seen = cue.given
    await asyncio.wait_for(cue.wait(keeper_seen), 1)  # the keeper still hears of it
    waiting = asyncio.create_task(cue.wait(operation_seen))
    await asyncio.sleep(0)
    assert not waiting.done()  # nothing new since the operation's last look
    cue.set()
    await asyncio.wait_for(waiting, 1)


class OneShard:
    """A region of one shard for ``settle``: quiet, with a timer due now, until an
    action puts bytes on their way; each step it is moved records what was in flight."""

    def __init__(self, clock: RegionClock) -> None:
        self.clock = clock
        self.in_flight = 0
        self.due: float | None = 0.0  # its timer (none once it has run)
        self.steps: list[tuple[float, int]] = []
        self.looked = asyncio.Event()
        self.stepped = asyncio.Event()

    async def wave(self) -> list[ShardSnapshot]:
        self.looked.set()
        now, flight = self.clock.now, self.in_flight
        return [ShardSnapshot(False, 2, 2, 0, 0, 0, 0, flight, now, self.due, None)]

    async def advance(self, to: float) -> None:
        self.steps.append((to, self.in_flight))
        self.clock.now, self.due = to, None
        self.stepped.set()


@pytest.mark.parametrize("pace", [Pace.FAST, Pace.LIVE])
async def test_a_step_waiting_for_an_action_looks_again_before_time_moves(pace: Pace) -> None:
    """The keeper looked while an operation acted (a look takes no lock), found the
    region quiet (the action's bytes not yet out) and a timer due, and waited for the
    clock. Taking the step once the action ends would move time on while its bytes are
    on their way: they would arrive late, and the operation's convergence read long on
    the region's clock. The keeper looks again instead, and steps once the bytes have
    arrived. (A look from before the action is caught the same way: the count of actions
    moves when one ends.)"""
    clock, cue = RegionClock(pace), Cue()
    region = OneShard(clock)
    async with clock.stands() as at:
        assert at == 0.0  # the instant the action happens at
        keeper = asyncio.create_task(
            settle(
                region.wave,
                cue,
                lambda snaps: None,
                done=lambda snaps: False,
                clock=clock,
                advance=region.advance,
            )
        )
        await region.looked.wait()  # it looked, decided on the step and waits for the clock
        region.looked.clear()
        region.in_flight = 19  # the action's bytes are on their way
    try:
        await asyncio.wait_for(region.looked.wait(), 5)  # it looked again...
        assert region.steps == []  # ...and did not step
        region.in_flight = 0  # the bytes arrived: the shard's idle cue
        cue.set()
        await asyncio.wait_for(region.stepped.wait(), 5)
        assert region.steps == [(0.0, 0)]  # the step, with nothing in flight
    finally:
        keeper.cancel()
