"""``ProgressBoard`` and ``Pacer``: an operation's phases (the placement's own, sessions,
then routes once every expected session is up), UPDATEs counted from the operation's
start, and which reports pass on; the shards' progress event on the wire."""

from __future__ import annotations

from bagctl.runtimes import messages as msg
from bagctl.runtimes.progress import ROUTES, SESSIONS, Pacer, ProgressBoard, RegionProgress
from bagctl.runtimes.protocol import Progress
from bagctl.runtimes.records import ShardSnapshot


def snapshot(ends_up: int, ends_expected: int, updates_sent: int) -> ShardSnapshot:
    return ShardSnapshot(
        busy=False,
        ends_up=ends_up,
        ends_expected=ends_expected,
        session_updates_out=0,
        session_updates_in=0,
        activity=0,
        updates_sent=updates_sent,
        bytes_in_flight=0,
        now=0.0,
        next_deadline=None,
        work_due=None,
    )


def board(expected: int = 3) -> tuple[ProgressBoard, list[RegionProgress]]:
    shown: list[RegionProgress] = []
    return ProgressBoard(shown.append, lambda: expected), shown


def test_sessions_then_routes_once_every_expected_session_is_up() -> None:
    b, shown = board(expected=3)
    assert b.begin([0, 0]) == 0
    b.shard(0, Progress(1, 4, 0, 0))
    b.shard(1, Progress(1, 2, 0, 0))  # 2 ends of 6 up: 1 session of 3
    b.shard(0, Progress(4, 4, 0, 10))
    b.shard(1, Progress(2, 2, 5, 20))  # every end up: the routes phase
    b.shard(1, Progress(1, 2, 9, 30))  # a session lost meanwhile: still routes
    assert [(p.phase, p.done, p.total, p.fib_changes, p.updates_sent) for p in shown] == [
        (SESSIONS, 0, 3, 0, 0),
        (SESSIONS, 1, 3, 0, 0),
        (SESSIONS, 2, 3, 0, 10),
        (ROUTES, 3, 3, 5, 30),
        (ROUTES, 2, 3, 9, 40),
    ]


def test_updates_count_from_the_operations_start_and_waves_carry_them() -> None:
    b, shown = board(expected=1)
    b.shard(0, Progress(2, 2, 7, 100))
    assert b.begin([100]) == 100  # a new operation: its UPDATEs start from here
    b.wave([snapshot(2, 2, 130)])
    assert shown[-1] == RegionProgress(ROUTES, 1, 1, 0, 30)  # FIB changes restart too


def test_the_placement_phase_comes_first_and_hides_the_sessions_until_done() -> None:
    b, shown = board(expected=1)
    b.placement(1, 2, "containers")
    b.shard(0, Progress(0, 2, 0, 0))  # not shown: the containers are still starting
    b.placement(2, 2, "containers")
    b.shard(0, Progress(1, 2, 0, 0))
    assert [(p.phase, p.done, p.total) for p in shown] == [
        ("containers", 1, 2),
        ("containers", 2, 2),
        (SESSIONS, 0, 1),
    ]


def test_a_region_without_a_session_is_at_once_in_the_routes_phase() -> None:
    b, shown = board(expected=0)
    b.wave([snapshot(0, 0, 0)])
    assert shown == [RegionProgress(ROUTES, 0, 0, 0, 0)]


def test_the_pacer_passes_each_phase_first_then_one_per_interval_never_a_repeat() -> None:
    now = [0.0]
    pacer = Pacer(5.0, lambda: now[0])
    s1, s2 = RegionProgress(SESSIONS, 1, 3, 0), RegionProgress(SESSIONS, 2, 3, 0)
    r1, r2 = RegionProgress(ROUTES, 3, 3, 1, 1), RegionProgress(ROUTES, 3, 3, 2, 2)
    passed = []
    for t, p in [(0, s1), (1, s2), (2, r1), (3, r2), (7.5, r2), (7.9, r2), (12.5, r1)]:
        now[0] = t
        passed.append(pacer.due(p))
    assert passed == [True, False, True, False, True, False, True]
    every = Pacer(0.0, lambda: 0.0)
    assert [every.due(p) for p in (s1, s1, s2, s2)] == [True, False, True, False]


def test_the_progress_event_on_the_wire_with_its_updates_and_without() -> None:
    event = Progress(3, 4, 5, 6)
    assert msg.decode_event(msg.encode_event(event)) == event
    old = {"ev": "progress", "ends_up": 3, "ends_expected": 4, "fib_changes": 5}
    assert msg.decode_event(old) == Progress(3, 4, 5, 0)  # a shard that does not count them
