"""Judging expectations (bagctl/scenario/expect.py): a pass is an empty answer; a failure
says what was expected and what was found, starting with the field's name."""

from __future__ import annotations

from bagctl.scenario.expect import (
    fib_differences,
    fib_failure,
    report_failures,
    route_failure,
    session_failure,
    weights_failure,
)
from bagctl.scenario.model import Expectations, RouteExpect, SessionExpect, WeightsExpect

REPORT = {
    "converged_emulated_s": 0.000095,
    "converged_s": 0.004,
    "updates_sent": 42,
    "losses": [{"node": "a", "peer": "b", "cause": "hold-timer-expired"}],
}


def test_report_expectations() -> None:
    assert report_failures(Expectations(), REPORT) == []
    within = Expectations(converged_within_ms=0.095, max_updates=42, session_losses=1)
    assert report_failures(within, REPORT) == []
    over = Expectations(converged_within_ms=0.05, max_updates=41, session_losses=0)
    assert report_failures(over, REPORT) == [
        "converged_within_ms: expected at most 0.05 ms, got 0.095 ms (emulated; 0.004 s wall)",
        "max_updates: expected at most 41, got 42",
        "session_losses: expected 0, got 1: a - b (hold-timer-expired)",
    ]


def test_weights_are_compared_as_shares_within_the_tolerance() -> None:
    want = WeightsExpect("n", "10.0.0.0/24", (("x", 1.0), ("y", 3.0)), tolerance=0.01)
    assert weights_failure(want, {"x": 25, "y": 75}) is None  # any scale
    assert weights_failure(want, {"x": 1, "y": 3}) is None
    assert weights_failure(want, {"x": 26, "y": 74}) is None  # 1% off each: within
    failure = weights_failure(want, {"x": 30, "y": 70})
    assert failure == (
        "weights n 10.0.0.0/24: expected x 25.0%, y 75.0% (within 1.0%), "
        "got x 30.0%, y 70.0%; off: x, y"
    )
    missing = weights_failure(want, {})
    assert missing is not None and "got no FIB entry" in missing
    extra = weights_failure(WeightsExpect("n", "p", (("x", 1.0),)), {"x": 9, "z": 1})
    assert extra is not None and extra.endswith("off: x, z")


def test_sessions_and_routes() -> None:
    up = SessionExpect("a", "b", established=True)
    assert session_failure(up, "Established") is None
    assert session_failure(up, "Active") == "sessions a - b: expected Established, got Active"
    down = SessionExpect("a", "b", established=False)
    assert session_failure(down, "Idle") is None
    present = RouteExpect("n", "10.0.0.0/24", present=True)
    assert route_failure(present, "m") is None
    assert route_failure(present, None) == "routes n 10.0.0.0/24: expected a route, got none"
    absent = RouteExpect("n", "10.0.0.0/24", present=False)
    assert route_failure(absent, "m") == ("routes n 10.0.0.0/24: expected no route, got one from m")


def test_a_golden_fib_lists_each_difference() -> None:
    golden = {"a": {"10.0.0.0/24": {"x": 1, "y": 1}, "10.0.1.0/24": {"x": 1}}}
    actual = {"a": {"10.0.0.0/24": {"x": 1}}, "b": {"10.0.2.0/24": {"z": 2}}}
    assert fib_differences(golden, golden) == []
    assert fib_failure("g.json", golden, dict(golden)) is None
    assert fib_differences(golden, actual) == [
        "a 10.0.0.0/24: {'x': 1, 'y': 1} -> {'x': 1}",
        "a 10.0.1.0/24: {'x': 1} -> None",
        "b 10.0.2.0/24: None -> {'z': 2}",
    ]
    failure = fib_failure("g.json", golden, actual)
    assert failure is not None and failure.startswith("fib_golden g.json: 3 entries differ")
