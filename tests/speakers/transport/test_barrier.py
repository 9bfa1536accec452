"""``StepBarrier`` (speakers/transport/barrier.py): what a step writes to TCP leaves at the
step's end in the order it was done, and what TCP brings is taken in at the next step's
start in a fixed order, whatever order the host delivered it in."""

from __future__ import annotations

from collections.abc import Callable

from speakers.transport.barrier import StepBarrier


class Conn:
    """Stands for a connection: the barrier only needs its identity."""


def test_what_a_step_writes_leaves_at_the_release_in_order() -> None:
    barrier, a, b, sent = StepBarrier(), Conn(), Conn(), []
    assert not barrier.holds(a)  # between steps a write leaves at once
    barrier.stepping = True
    for conn, what in ((a, "a1"), (b, "b1"), (a, "a2")):
        assert barrier.holds(conn)
        barrier.hold(conn, lambda what=what: sent.append(what))
    assert sent == []
    barrier.stepping = False
    assert barrier.holds(a) and barrier.holds(b)  # later writes queue behind the held ones
    assert not barrier.holds(Conn())  # a connection with nothing held is not held
    barrier.hold(a, lambda: sent.append("a3"))
    barrier.release()
    assert sent == ["a1", "b1", "a2", "a3"]
    assert not barrier.holds(a) and not barrier.stepping


def test_what_a_release_causes_to_be_held_leaves_in_the_same_release() -> None:
    barrier, a, sent = StepBarrier(), Conn(), []

    def first() -> None:
        sent.append(1)
        barrier.hold(a, lambda: sent.append(2))  # (a close after the last write, say)

    barrier.stepping = True
    barrier.hold(a, first)
    barrier.release()
    assert sent == [1, 2]


def test_arrivals_are_taken_in_by_key_not_by_when_they_came() -> None:
    barrier, taken = StepBarrier(), []
    assert barrier.due() is None

    def owner(name: str) -> Callable[[], None]:
        return lambda: taken.append(name)

    late, early, restarted = owner("late"), owner("early"), owner("restarted")
    barrier.arrived(("10.0.0.9", "10.0.0.1"), 3.0, late)
    barrier.arrived(("10.0.0.1", "10.0.0.2"), 5.0, early)
    barrier.arrived(("10.0.0.9", "10.0.0.1"), 4.0, late)  # more input: still taken once
    barrier.arrived(("10.0.0.9", "10.0.0.1"), 6.0, restarted)  # a new owner, same key
    assert barrier.due() == 3.0
    barrier.stepping = True
    barrier.hold(Conn(), lambda: taken.append("held"))
    barrier.admit()
    assert taken == ["held", "early", "late", "restarted"]
    assert barrier.due() is None
    barrier.admit()
    assert taken == ["held", "early", "late", "restarted"]  # each arrival once


def test_an_earlier_arrival_lowers_the_due_time() -> None:
    barrier = StepBarrier()
    barrier.arrived(("a", "b"), 4.0, lambda: None)
    barrier.arrived(("c", "d"), 2.0, lambda: None)
    assert barrier.due() == 2.0
