"""Replay an event log: re-issue, in order, the commands that changed a region.

An event log (``NAME.events.jsonl``, written by ``BusServer``) holds one JSON object a
line; its ``command`` events of a ``MUTATING`` command are replayed with their arguments
as logged (the checks are the region's, as for any client). A line a region would not
have written (another kind, an unknown command) stops the replay before it starts,
named by its line: a CI job replaying a hand-edited log must not pass by skipping it. A
command the region refuses is recorded and the replay goes on: a log keeps refused
commands too, and replaying them should refuse them again. A region that stops
answering, or is not running, ends the replay with that ``BusError``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .client import BusClient, reply_timeout_s
from .payloads import COMMANDS, MUTATING, BusError, Command
from .target import Target

ENDS_REPLAY = frozenset({"not-answering", "not-running"})


class EventLogError(ValueError):
    """A line of an event log that cannot be read as an event: ``path:line: problem``."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


# What BusServer writes (``_event``): a line of any other kind was not written by a region.
EVENT_KINDS = frozenset({"started", "stopped", "rejected", "command", "result", "cancel"})


def logged_commands(path: Path) -> list[Command]:
    """The commands of the event log at ``path`` that changed the region, in order;
    ``EventLogError`` naming the first bad line (``OSError`` if it cannot be read). Every
    line must be an event a region writes: one of another kind, or a command no region
    knows (a hand-written line, a typo), is an error, never skipped in silence."""
    out = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            raise EventLogError(path, lineno, "not JSON") from None
        if not isinstance(event, dict):
            raise EventLogError(path, lineno, "not an event object")
        kind = event.get("kind")
        if kind not in EVENT_KINDS:
            known = ", ".join(sorted(EVENT_KINDS))
            raise EventLogError(path, lineno, f"kind {kind!r} is not an event's ({known})")
        if kind != "command":
            continue
        cmd = event.get("cmd")
        if cmd not in COMMANDS:
            raise EventLogError(
                path, lineno, f"unknown command {cmd!r} (commands: {', '.join(COMMANDS)})"
            )
        if cmd in MUTATING:
            args = event.get("args", {})
            if not isinstance(args, dict):
                raise EventLogError(path, lineno, "args is not an object")
            out.append(Command(cmd, args))
    return out


@dataclass(frozen=True, slots=True)
class Replayed:
    """One command replayed: the region's result, or its error."""

    command: Command
    result: Any = None
    error: BusError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, object]:
        head = {"cmd": self.command.name, "args": self.command.args, "ok": self.ok}
        if self.error is None:
            return {**head, "result": self.result}
        return {**head, "error": self.error.as_dict()}


async def replay(target: Target, commands: Sequence[Command]) -> list[Replayed]:
    """Run ``commands`` on the region one after the other, each waited for as long as it
    may take (``reply_timeout_s``); what each gave (module doc for what ends it)."""
    done: list[Replayed] = []
    async with BusClient(target.url, target.region) as bus:
        for command in commands:
            try:
                result = await bus.request(
                    command.name, command.args, timeout_s=reply_timeout_s(command)
                )
            except BusError as error:
                if error.code in ENDS_REPLAY:
                    raise
                done.append(Replayed(command, error=error))
            else:
                done.append(Replayed(command, result))
    return done


__all__ = ["ENDS_REPLAY", "EventLogError", "Replayed", "logged_commands", "replay"]
