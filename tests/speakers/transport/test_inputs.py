"""``speakers.transport.inputs``: the delay model's queue and a neighbor's backlog.

The backlog hands each message on at its own ready time, in the order added, under one
clock timer at a time, and lets go of what it handed on while more waits (a cold start
keeps backlogs busy for long stretches)."""

from __future__ import annotations

import gc
import weakref

from speakers.clock import VirtualClock
from speakers.transport.inputs import Backlog, InputQueue, split_messages


class _Conn:
    """A connection stand-in whose lifetime a weak reference can see."""


async def test_each_message_is_handed_on_at_its_ready_time_in_order() -> None:
    clock = VirtualClock()
    seen: list[tuple[float, str, bytes | None]] = []
    conns = {"a": _Conn(), "b": _Conn()}
    names = {id(c): n for n, c in conns.items()}
    backlog: Backlog[_Conn] = Backlog(
        clock, lambda c, m: seen.append((clock.time(), names[id(c)], m))
    )
    backlog.add(1.0, conns["a"], b"one")
    backlog.add(1.0, conns["b"], b"two")  # the same instant: in the order added
    backlog.add(2.5, conns["a"], None)  # a loss, after what came before it
    assert clock.next_deadline() == 1.0  # one timer: the earliest's
    assert clock.advance(1.0) == 2 and seen == [(1.0, "a", b"one"), (1.0, "b", b"two")]
    assert clock.next_deadline() == 2.5 and backlog.last == 2.5
    clock.advance(3.0)
    assert seen[-1] == (2.5, "a", None) and clock.next_deadline() is None
    backlog.add(4.0, conns["b"], b"three")  # empty again: a new timer for it
    clock.advance(5.0)
    assert seen[-1] == (4.0, "b", b"three")
    # A loss, then the other connection's message sent before it: it waits for the loss.
    backlog.add(7.0, conns["a"], None)
    backlog.add(6.5, conns["b"], b"four")
    assert clock.advance(8.0) == 2 and seen[-2:] == [(7.0, "a", None), (7.0, "b", b"four")]


async def test_what_was_handed_on_is_let_go_while_more_waits() -> None:
    clock = VirtualClock()
    backlog: Backlog[_Conn] = Backlog(clock, lambda c, m: None)
    conns = [_Conn() for _ in range(1000)]
    refs = [weakref.ref(c) for c in conns]
    for n, conn in enumerate(conns):
        backlog.add(1.0 + n, conn, b"x")
    del conns, conn
    assert clock.advance(600.0) == 600  # 400 waiting
    gc.collect()
    assert sum(ref() is None for ref in refs[:600]) >= 500
    assert all(ref() is not None for ref in refs[600:])
    assert clock.next_deadline() == 601.0


def test_the_queue_is_one_server() -> None:
    queue = InputQueue(processing_s=0.5)
    assert queue.admit(0.0, latency_s=1.0) == 1.5
    assert queue.admit(0.0, latency_s=1.0) == 2.0  # waits for the first
    assert queue.admit(10.0, latency_s=0.0) == 10.5 and queue.due() == 1.5


def test_split_messages_takes_whole_messages_only() -> None:
    keepalive = b"\xff" * 16 + b"\x00\x13\x04"
    buffer = bytearray(keepalive * 2 + keepalive[:7])
    assert split_messages(buffer) == [keepalive, keepalive] and buffer == keepalive[:7]
