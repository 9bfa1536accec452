"""``Cue`` (runtimes/timekeeping.py): a shard's cue reaches every waiter that looked before
it, however the waiters interleave; the live keeper and an operation's wait share one."""

from __future__ import annotations

import asyncio

from bagctl.runtimes.timekeeping import Cue


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
