"""Command payloads: every malformed input gets its specific error code, nothing else."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bagctl.bus.client import BusClient
from bagctl.bus.payloads import MAX_PAYLOAD_BYTES, BusError, parse_command
from bagctl.mqtt.broker import BrokerUrl
from bagctl.mqtt.topics import Topics, check_name, topic_matches
from bagctl.topology import load_topology

MINI = load_topology(Path(__file__).resolve().parents[3] / "topologies" / "mini.yaml")
A, B = "r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-1"


def cmd(name: str, **args: object) -> bytes:
    return json.dumps({"v": 1, "cmd": name, "args": args}).encode()


def code_of(payload: bytes | str) -> str:
    with pytest.raises(BusError) as info:
        parse_command(payload, MINI)
    return info.value.code


def test_valid_commands() -> None:
    c = parse_command(cmd("link-down", a=A, b=B, members=4, timeout_s=30), MINI)
    assert (c.name, c.args) == ("link-down", {"a": A, "b": B, "members": 4, "timeout_s": 30})
    assert parse_command(cmd("show", what="fib", node="r1-bag1-1"), MINI).args["node"]
    assert parse_command(b'{"v": 1, "cmd": "status"}', MINI).args == {}
    c = parse_command(cmd("link-flap", a=B, b=A, count=2, interval_s=0.5), MINI)
    assert c.args["count"] == 2


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"", "bad-json"),
        (b"{not json", "bad-json"),
        (b"\xff\xfe", "bad-json"),
        (b"[1, 2]", "bad-json"),
        (b"[" * 100_000, "too-large"),
        (b"[" * 60_000, "bad-json"),  # nested beyond the json module's recursion limit
        (b'{"cmd": "status"}', "bad-version"),
        (b'{"v": 2, "cmd": "status"}', "bad-version"),
        (b'{"v": true, "cmd": "status"}', "bad-version"),
        (b'{"v": 1, "cmd": "status", "extra": 1}', "bad-payload"),
        (b'{"v": 1, "cmd": 7}', "bad-payload"),
        (b'{"v": 1, "cmd": "status", "args": []}', "bad-payload"),
        (b'{"v": 1, "cmd": "reboot-the-world"}', "unknown-command"),
        (cmd("show", what="fib"), "bad-payload"),
        (cmd("show", what="routes", node="r1-bag1-1"), "bad-payload"),
        (cmd("show", what="fib", node="r1-bag9-9"), "unknown-node"),
        (cmd("show", what="fib", node=["r1-bag1-1"]), "bad-payload"),
        (cmd("link-down", a=A, b="r1-bag1-1"), "no-such-bundle"),
        (cmd("link-down", a=A, b="nowhere"), "unknown-node"),
        (cmd("link-down", a=A, b=B, members=0), "members-out-of-range"),
        (cmd("link-down", a=A, b=B, members=33), "members-out-of-range"),
        (cmd("link-down", a=A, b=B, members=True), "bad-payload"),
        (cmd("link-down", a=A, b=B, members=1.5), "bad-payload"),
        (cmd("link-down", a=A, b=B, members="2"), "bad-payload"),
        (cmd("link-down", a=A, b=B, colour="red"), "bad-payload"),
        (cmd("link-flap", a=A, b=B, count=2, interval_s=-1), "bad-payload"),
        (b'{"v":1,"cmd":"link-flap","args":{"a":"x","b":"y","count":1,"interval_s":NaN}}',
         "bad-payload"),
        # A flap whose waits outlast its timeout would hold every command back: refused.
        (cmd("link-flap", a=A, b=B, count=1000, interval_s=60), "too-long"),
        (cmd("link-flap", a=A, b=B, count=31, interval_s=2, timeout_s=120), "too-long"),
        (cmd("node-drain", node="r1-bag1-1", method="unplug"), "bad-payload"),
        (cmd("node-restart", node="r1-bag1-1", timeout_s=0), "bad-payload"),
        (cmd("node-restart", node="r1-bag1-1", graceful="yes"), "bad-payload"),
        (cmd("node-restart", node="r1-bag1-1", graceful=1), "bad-payload"),
    ],
)  # fmt: skip
def test_errors(payload: bytes, code: str) -> None:
    assert code_of(payload) == code


def test_size_limit_is_exact() -> None:
    pad = MAX_PAYLOAD_BYTES - len(cmd("status", x=""))
    assert code_of(cmd("status", x="a" * pad)) == "bad-payload"  # at the limit: parsed
    assert code_of(cmd("status", x="a" * (pad + 1))) == "too-large"


@given(st.binary(max_size=200) | st.text(max_size=200))
def test_any_bytes_raise_only_bus_error(data: bytes | str) -> None:
    with contextlib.suppress(BusError):
        parse_command(data, MINI)


def test_topics() -> None:
    t = Topics("mini")
    assert t.cmd("c1", "r1") == "bagemu/v1/mini/cmd/c1/r1"
    assert t.parse_cmd("bagemu/v1/mini/cmd/c1/r1") == ("c1", "r1")
    assert t.parse_cmd("bagemu/v1/mini/cmd/c1") is None
    assert t.parse_cmd("bagemu/v1/mini/cmd/c1/r1/x") is None
    assert t.parse_cmd("bagemu/v1/other/cmd/c1/r1") is None
    assert topic_matches("bagemu/v1/mini/reply/c1/r1", t.reply_filter("c1"))
    assert not topic_matches("bagemu/v1/mini/reply/c2/r1", t.reply_filter("c1"))
    assert topic_matches("bagemu/v1/mini/cmd/a/b", t.cmd_filter)
    assert topic_matches("a", "#") and not topic_matches("a/b", "a/+/c")
    with pytest.raises(ValueError, match="cannot be an MQTT topic level"):
        check_name("region", "a/b")
    with pytest.raises(ValueError):
        Topics("a+b")


def test_broker_url() -> None:
    u = BrokerUrl.parse("mqtt://alice:p%40ss@127.0.0.1:1884")
    assert (u.host, u.port, u.username, u.password) == ("127.0.0.1", 1884, "alice", "p@ss")
    assert BrokerUrl.parse(str(u)) == u
    assert "p@ss" not in u.redacted() and "alice" in u.redacted()
    assert BrokerUrl.parse("mqtt://broker").port == 1883
    for bad in ("http://x:1", "mqtt://:1883", "mqtt://x:99999", "mqtt://x:1/path"):
        with pytest.raises(ValueError, match="broker URL"):
            BrokerUrl.parse(bad)


def test_client_drops_messages_it_did_not_subscribe_to() -> None:
    # amqtt 0.12 was seen delivering retained messages on topics a client never
    # subscribed to: the client checks every message against its own filters.
    bus = BusClient(BrokerUrl("127.0.0.1"), "mini", client_id="c1")
    bus._filters.append(bus.topics.node("r1-bag1-1", "fib"))
    bus._dispatch(bus.topics.node("r1-bag1-2", "fib"), b'{"v": 1}')
    bus._dispatch(bus.topics.node("r1-bag1-1", "fib"), b'{"v": 1}')
    assert bus.filtered == 1
    assert list(bus._latest) == [bus.topics.node("r1-bag1-1", "fib")]
