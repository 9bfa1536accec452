"""The shard protocol and its wire form: every request survives JSON unchanged, every typed
result comes back as the type it left as, and failed replies raise what the shard raised."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bagctl.runtimes import messages as msg
from bagctl.runtimes import protocol as rq
from bagctl.runtimes.records import (
    ChangeStream,
    SessionLoss,
    ShardReport,
    ShardSnapshot,
    ShardStats,
)

EXAMPLES: list[rq.Request[Any]] = [
    rq.Listen(originate=False),
    rq.StartSessions(),
    rq.Originate(),
    rq.Settle(),
    rq.Close(),
    rq.Advance(90.5),
    rq.Begin(),
    rq.Snapshot(),
    rq.Snapshot(release=True),
    rq.Report(),
    rq.LinkDown("a", "b"),
    rq.LinkDown("a", "b", both=True),
    rq.LinkUp("a", "b", both=True),
    rq.SetCapacity("a", "b", 12.8e12, both=True),
    rq.Drain("a", "as-path-prepend"),
    rq.Undrain("a"),
    rq.Announce("a", "198.51.100.1/32", 800e9),
    rq.Withdraw("a", "198.51.100.1/32"),
    rq.SetBandwidth("bag1", "stsw1", "received", "skip-missing"),
    rq.Restart("a"),
    rq.Lag(4.0, 2),
    rq.Freeze("a"),
    rq.Weights("a", "10.0.0.0/24"),
    rq.View("fib", "a", None),
    rq.View("rib", "a", "10.0.0.0/24"),
    rq.Fibs(),
    rq.Nodes(),
    rq.Changes(),
    rq.Dirty(),
    rq.Stats(),
]


def test_every_operation_has_an_example_and_a_unique_name() -> None:
    assert {type(r) for r in EXAMPLES} == set(rq.REQUESTS.values())
    assert len(rq.REQUESTS) == len({cls.op for cls in rq.REQUESTS.values()})


@pytest.mark.parametrize("request_", EXAMPLES, ids=lambda r: type(r).__name__)
def test_requests_round_trip_through_json(request_: rq.Request[Any]) -> None:
    sent = json.loads(json.dumps(msg.encode_request(41, request_)))
    assert msg.decode_request(sent) == (41, request_)


RESULTS: list[tuple[rq.Request[Any], object]] = [
    (rq.Snapshot(), ShardSnapshot(False, 4, 4, 10, 10, 99, 12, 75, 12.5, 13.0, None)),
    (
        rq.Report(),
        ShardReport(
            3,
            123456789,
            987654321,
            ("10.0.0.0/24", "2001:db8::/64"),
            7,
            (SessionLoss("a", "b", "hold-timer-expired", 9.25),),
        ),
    ),
    (rq.Changes(), ChangeStream(((5, "a", "10.0.0.0/24", None, {"b": 1}),), 0)),
    (rq.Dirty(), frozenset({"a", "b"})),
    (rq.Stats(), ShardStats(3, 40, 51_200)),
    (rq.Weights("a", "10.0.0.0/24"), {"b": 2, "c": 1}),
    (rq.Begin(), 17),
]


@pytest.mark.parametrize(("request_", "result"), RESULTS, ids=lambda x: type(x).__name__)
def test_results_come_back_typed(request_: rq.Request[Any], result: object) -> None:
    wire = json.loads(json.dumps(request_.encode_result(result)))
    assert request_.decode_result(wire) == result


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"op": "begin"}, "id: expected an integer, not None"),
        ({"id": True, "op": "begin"}, "id: expected an integer, not True"),
        ({"id": 1, "op": "unplug"}, "op: unknown operation 'unplug'"),
        ({"id": 1, "op": "undrain"}, "undrain: missing field 'node'"),
        ({"id": 1, "op": "undrain", "node": "a", "x": 1}, "undrain: unknown field 'x'"),
        ({"id": 1, "op": "undrain", "node": 5}, "undrain: field 'node': 5 is not"),
        ({"id": 1, "op": "set_capacity", "node": "a", "peer": "b", "bps": "1T"}, "'1T' is not"),
        ({"id": 1, "op": "set_capacity", "node": "a", "peer": "b", "bps": True}, "True is not"),
        ({"id": 1, "op": "listen", "originate": 1}, "listen: field 'originate': 1 is not"),
    ],
)
def test_malformed_requests_are_refused_by_field(message: dict[str, Any], error: str) -> None:
    with pytest.raises(msg.ProtocolError, match=error.replace("(", r"\(")):
        msg.decode_request(message)


def test_an_integer_is_a_float_and_a_view_prefix_may_be_none() -> None:
    assert msg.decode_request({"id": 1, "op": "set_capacity", "node": "a", "peer": "b", "bps": 8})[
        1
    ] == rq.SetCapacity("a", "b", 8)
    assert msg.decode_request({"id": 2, "op": "view", "what": "fib", "node": "a"})[1] == rq.View(
        "fib", "a", None
    )


def test_failed_replies_raise_what_the_shard_raised() -> None:
    def back(exc: Exception) -> Exception:
        return msg.raise_error("worker 1", json.loads(json.dumps(msg.reply_error(3, exc))))

    missing = back(KeyError("no BGP speaker 'x' here"))
    assert isinstance(missing, KeyError) and missing.args == ("no BGP speaker 'x' here",)
    bad = back(ValueError("'ten' is not a prefix"))
    assert isinstance(bad, ValueError) and str(bad) == "'ten' is not a prefix"
    other = back(RuntimeError("boom"))
    assert isinstance(other, msg.ShardError) and str(other) == "worker 1: RuntimeError: boom"
