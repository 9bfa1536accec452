"""The shard protocol on the wire: one JSON object per message, whatever carries it (a
worker's pipes, a container agent's MQTT topics; runtimes/protocol.py has the requests).

- request ``{"id": N, "op": "link_down", "node": ..., "peer": ...}``, its fields those of
  the request's dataclass; a request that is not well formed (unknown op, a missing,
  unknown or mistyped field) is refused with a ``ProtocolError`` naming the field, never
  run
- reply ``{"id": N, "ok": true, "result": ...}`` or ``{"id": N, "ok": false, "kind":
  "KeyError", "error": "..."}``: ``kind`` lets the caller raise what the shard raised
  for a user's mistake (``KeyError``: no such node or route; ``ValueError``: a bad
  argument), and a ``ShardError`` naming the shard for anything else
- unasked events ``{"ev": "idle", "activity": N}`` and ``{"ev": "progress", ...}``
  (runtimes/service.py says when they are sent)
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any, get_type_hints

from .protocol import REQUESTS, Idle, Progress, Request, ShardEvent


class ProtocolError(ValueError):
    """A message that is not a well-formed request, reply or event; says what is wrong."""


class ShardError(RuntimeError):
    """A shard failed an operation for a reason of its own, or died; names the shard."""


def encode_request(rid: int, request: Request[Any]) -> dict[str, object]:
    fields = {f.name: getattr(request, f.name) for f in dataclasses.fields(request)}  # type: ignore[arg-type]
    return {"id": rid, "op": request.op, **fields}


def decode_request(msg: Mapping[str, Any]) -> tuple[int, Request[Any]]:
    """The id and the request of a message; ``ProtocolError`` naming what is wrong."""
    rid = msg.get("id")
    if not isinstance(rid, int) or isinstance(rid, bool):
        raise ProtocolError(f"id: expected an integer, not {rid!r}")
    op = msg.get("op")
    cls = REQUESTS.get(op) if isinstance(op, str) else None
    if cls is None:
        raise ProtocolError(f"op: unknown operation {op!r} ({', '.join(sorted(REQUESTS))})")
    hints = _hints(cls)
    args = {k: v for k, v in msg.items() if k not in ("id", "op")}
    for name in args.keys() - hints.keys():
        raise ProtocolError(f"{op}: unknown field {name!r}")
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in args:
            if f.default is dataclasses.MISSING:
                raise ProtocolError(f"{op}: missing field {f.name!r}")
            continue
        if not _is(args[f.name], hints[f.name]):
            raise ProtocolError(f"{op}: field {f.name!r}: {args[f.name]!r} is not {hints[f.name]}")
    return rid, cls(**args)


def _hints(cls: type[Request[Any]]) -> dict[str, Any]:
    return {f.name: get_type_hints(cls)[f.name] for f in dataclasses.fields(cls)}  # type: ignore[arg-type]


def _is(value: object, hint: Any) -> bool:
    if isinstance(hint, types.UnionType):
        return any(_is(value, h) for h in hint.__args__)
    if hint is type(None):
        return value is None
    if isinstance(value, bool):
        return hint is bool
    if hint is float:
        return isinstance(value, int | float)
    return isinstance(value, hint)


def reply_ok(rid: int, result: object) -> dict[str, object]:
    return {"id": rid, "ok": True, "result": result}


def reply_error(rid: int | None, exc: BaseException) -> dict[str, object]:
    message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return {"id": rid, "ok": False, "kind": type(exc).__name__, "error": message}


def raise_error(label: str, msg: Mapping[str, Any]) -> Exception:
    """The exception a failed reply stands for (module docstring)."""
    kind, error = msg.get("kind"), str(msg.get("error"))
    if kind == "KeyError":
        return KeyError(error)
    if kind in ("ValueError", "ProtocolError"):
        return ValueError(error)
    return ShardError(f"{label}: {kind}: {error}")


def encode_event(event: ShardEvent) -> dict[str, object]:
    return {"ev": "idle" if isinstance(event, Idle) else "progress", **asdict(event)}


def decode_event(msg: Mapping[str, Any]) -> ShardEvent:
    fields = {k: v for k, v in msg.items() if k != "ev"}
    try:
        return Idle(**fields) if msg.get("ev") == "idle" else Progress(**fields)
    except TypeError as exc:
        raise ProtocolError(f"event {msg.get('ev')!r}: {exc}") from None


__all__ = [
    "ProtocolError",
    "ShardError",
    "decode_event",
    "decode_request",
    "encode_event",
    "encode_request",
    "raise_error",
    "reply_error",
    "reply_ok",
]
