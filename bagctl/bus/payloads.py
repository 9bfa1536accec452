"""JSON payloads of the management bus (version ``VERSION``) and their strict validation.

A command, published on ``cmd/<client-id>/<request-id>``::

    {"v": 1, "cmd": "link-down", "args": {"a": "r1-nsf1-rtsw1-1", "b": "r1-nsf1-ftsw1-1"}}

its reply, on ``reply/<client-id>/<request-id>``::

    {"v": 1, "id": "<request-id>", "ok": true, "result": {...}}
    {"v": 1, "id": "<request-id>", "ok": false, "error": {"code": "unknown-node", "message": "..."}}

``parse_command`` checks everything that does not depend on the region's current state
(size, JSON, types, ranges, that nodes and bundles exist in the topology) and raises
``BusError`` with one of the ``ERROR_CODES``; it never raises anything else, whatever the
bytes (a payload nested too deep for ``json`` is malformed too).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from speakers.speaker import DrainMethod

from ..runtimes.measure import DEFAULT_TIMEOUT_S  # unless a command's args say otherwise
from ..topology.model import Topology
from ..views import SHOW_WHAT

VERSION = 1
MAX_PAYLOAD_BYTES = 64 * 1024
# Replies come from the region itself; `fib-snapshot` carries every FIB (megabytes for a
# few hundred switches). MQTT's own ceiling is 256 MiB.
MAX_REPLY_BYTES = 256 * 1024 * 1024 - 1024

ERROR_CODES = {
    "too-large": "payload over the size limit",
    "bad-json": "payload is not a JSON object",
    "bad-version": "unsupported payload version",
    "bad-payload": "missing, unknown or mistyped field",
    "unknown-command": "no such command",
    "unknown-node": "no BGP speaker of that name in the region",
    "no-such-bundle": "no bundle between those two nodes",
    "members-out-of-range": "member count the bundle cannot take",
    "too-long": "a flap whose waits outlast its timeout",
    "busy": "the region's command queue is full",
    "not-found": "what was asked for is not there (prefix, route)",
    "invalid": "the region refused the operation",
    "timeout": "the region did not converge in time",
    "internal": "the region failed to run the command",
    "not-running": "the region is not running",
    "broker-error": "the broker refused the client or failed (authentication, ACL, TLS, I/O)",
    "not-answering": "the region did not reply in time",
    "cancelled": "the command was cancelled (the cancel command)",
    "forbidden": "a command that changes the region, sent on the read-only query/ tree",
}


class BusError(Exception):
    """A command that failed, with a code from ``ERROR_CODES`` and a specific message."""

    def __init__(self, code: str, message: str) -> None:
        assert code in ERROR_CODES, code
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class Arg:
    kind: str  # "str", "int", "number", "bool"
    required: bool = True
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()


_LINK = {"a": Arg("str"), "b": Arg("str"), "members": Arg("int", False, 1, 100_000)}
_NODE = {"node": Arg("str")}
_TIMEOUT = {"timeout_s": Arg("number", False, 0.001, 3600)}

COMMANDS: dict[str, dict[str, Arg]] = {
    "status": {},
    "inspect": {},
    "converge": {},
    "shutdown": {},
    # Stop the running command (or, with ``request``, that one, running or queued).
    # Served at once, never queued behind what it cancels.
    "cancel": {"request": Arg("str", False)},
    "show": {
        "what": Arg("str", choices=SHOW_WHAT),
        "node": Arg("str"),
        "prefix": Arg("str", False),
    },
    # What ``bagctl verify`` checks, computed on the caller's side: the topology, its
    # failures, every FIB, and (changes: 1) the last operation's FIB change stream.
    "fib-snapshot": {"changes": Arg("int", False, 0, 1)},
    "link-down": {**_LINK, **_TIMEOUT},
    "link-up": {**_LINK, **_TIMEOUT},
    "link-flap": {
        "a": Arg("str"),
        "b": Arg("str"),
        "count": Arg("int", True, 1, 1000),
        "interval_s": Arg("number", True, 0, 60),
        **_TIMEOUT,
    },
    "node-drain": {
        **_NODE,
        "method": Arg("str", False, choices=tuple(m.value for m in DrainMethod)),
        **_TIMEOUT,
    },
    "node-undrain": {**_NODE, **_TIMEOUT},
    "node-restart": {**_NODE, "graceful": Arg("bool", False), **_TIMEOUT},
}
# Commands that change the region (replayed by ``bagctl replay``); the rest only look.
MUTATING = frozenset(c for c in COMMANDS if c.startswith(("link-", "node-")))
# Commands that only look: a client sends them on ``query/``, which a broker's ACL may
# open to read-only operators (``bagctl acl``); everything else goes on ``cmd/``.
QUERIES = frozenset({"status", "inspect", "converge", "show", "fib-snapshot"})


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"v": VERSION, "cmd": self.name, "args": self.args}


def _check_arg(cmd: str, name: str, spec: Arg, value: object) -> None:
    where = f"{cmd}: args.{name}"
    if spec.kind == "str":
        if not isinstance(value, str) or not value or len(value) > 256:
            raise BusError("bad-payload", f"{where}: expected a non-empty string")
        if spec.choices and value not in spec.choices:
            raise BusError(
                "bad-payload", f"{where}: {value!r} is not one of {', '.join(spec.choices)}"
            )
        return
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise BusError("bad-payload", f"{where}: expected true or false, got {value!r}")
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BusError("bad-payload", f"{where}: expected a number, got {type(value).__name__}")
    if spec.kind == "int" and not isinstance(value, int):
        raise BusError("bad-payload", f"{where}: expected an integer, got {value!r}")
    if not math.isfinite(value):
        raise BusError("bad-payload", f"{where}: expected a finite number")
    if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
        code = "members-out-of-range" if name == "members" else "bad-payload"
        raise BusError(code, f"{where}: {value} is outside [{spec.low:g}, {spec.high:g}]")


def decode(payload: bytes | bytearray | str, limit: int = MAX_PAYLOAD_BYTES) -> dict[str, Any]:
    """The JSON object in ``payload`` (size checked first, against ``limit``), else
    ``BusError``."""
    if isinstance(payload, str):
        payload = payload.encode()
    if len(payload) > limit:
        raise BusError("too-large", f"payload of {len(payload)} bytes is over the {limit} limit")
    try:
        obj = json.loads(payload)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BusError("bad-json", f"payload is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise BusError("bad-json", f"payload is JSON {type(obj).__name__}, not an object")
    return obj


def parse_command(payload: bytes | bytearray | str, topo: Topology) -> Command:
    """Validate a command payload against the command table and ``topo`` (module doc)."""
    obj = decode(payload)
    if "v" not in obj:
        raise BusError("bad-version", "payload has no version field 'v'")
    if isinstance(obj["v"], bool) or obj["v"] != VERSION:
        raise BusError("bad-version", f"payload version {obj['v']!r}: this region speaks {VERSION}")
    unknown = set(obj) - {"v", "cmd", "args"}
    if unknown:
        raise BusError("bad-payload", f"unknown field(s): {', '.join(sorted(unknown))}")
    cmd = obj.get("cmd")
    if not isinstance(cmd, str):
        raise BusError("bad-payload", "field 'cmd' must be a string")
    spec = COMMANDS.get(cmd)
    if spec is None:
        shown = cmd if len(cmd) <= 40 else cmd[:40] + "..."
        raise BusError(
            "unknown-command", f"unknown command {shown!r} (commands: {', '.join(COMMANDS)})"
        )
    args = obj.get("args", {})
    if not isinstance(args, dict):
        raise BusError("bad-payload", f"{cmd}: field 'args' must be an object")
    unknown = set(args) - set(spec)
    if unknown:
        raise BusError("bad-payload", f"{cmd}: unknown argument(s): {', '.join(sorted(unknown))}")
    for name, arg in spec.items():
        if name not in args:
            if arg.required:
                raise BusError("bad-payload", f"{cmd}: missing argument {name!r}")
            continue
        _check_arg(cmd, name, arg, args[name])
    _check_topology(cmd, args, topo)
    _check_duration(cmd, args)
    return Command(cmd, dict(args))


def _check_duration(cmd: str, args: dict[str, Any]) -> None:
    """A flap's waits must fit in its timeout (issue 16: 1,000 flaps 60 s apart held
    every other command back for 33 hours): refused at once, saying what would fit."""
    if cmd != "link-flap":
        return
    waits_s = (2 * args["count"] - 1) * args["interval_s"]
    timeout_s = args.get("timeout_s", DEFAULT_TIMEOUT_S)
    if waits_s > timeout_s:
        raise BusError(
            "too-long",
            f"link-flap: {args['count']} flaps {args['interval_s']:g} s apart wait "
            f"{waits_s:g} s, over its timeout_s of {timeout_s:g} s (at most 3600): fewer "
            "flaps, a shorter interval or a longer timeout_s",
        )


def _check_topology(cmd: str, args: dict[str, Any], topo: Topology) -> None:
    speakers = {n.name for n in topo.speakers()}
    if "node" in args and args["node"] not in speakers:
        raise BusError("unknown-node", f"no BGP speaker {args['node']!r} in region {topo.name}")
    if "a" in args:
        a, b = args["a"], args["b"]
        nodes = {n.name for n in topo.nodes}
        for end in (a, b):
            if end not in nodes:
                raise BusError("unknown-node", f"no node {end!r} in region {topo.name}")
        key = (a, b) if a <= b else (b, a)
        bundle = next((x for x in topo.bundles if x.key == key), None)
        if bundle is None:
            raise BusError("no-such-bundle", f"no bundle between {a} and {b} in {topo.name}")
        members = args.get("members")
        if members is not None and members > bundle.members:
            raise BusError(
                "members-out-of-range",
                f"bundle {bundle.a}-{bundle.b} has {bundle.members} members, not {members}",
            )


def reply_ok(request: str, result: object) -> dict[str, object]:
    return {"v": VERSION, "id": request, "ok": True, "result": result}


def reply_error(request: str, error: BusError) -> dict[str, object]:
    return {"v": VERSION, "id": request, "ok": False, "error": error.as_dict()}


def encode(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


__all__ = [
    "COMMANDS",
    "DEFAULT_TIMEOUT_S",
    "ERROR_CODES",
    "MAX_PAYLOAD_BYTES",
    "MAX_REPLY_BYTES",
    "MUTATING",
    "VERSION",
    "BusError",
    "Command",
    "decode",
    "encode",
    "parse_command",
    "reply_error",
    "reply_ok",
]
