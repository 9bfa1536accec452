"""The management bus's topic tree (version 1), under ``bagemu/v1/<region>/``.

- ``cmd/<client-id>/<request-id>``: a command (JSON, ``payloads.py``); the topic itself is
  the reply address, so even a payload that is not JSON gets its error reply
- ``query/<client-id>/<request-id>``: a command that only looks (``payloads.QUERIES``);
  the region refuses anything else sent there (``forbidden``), so a broker's ACL can let
  read-only operators publish here and not on ``cmd/`` (``bagctl acl`` writes one)
- ``reply/<client-id>/<request-id>``: the one reply to that command
- ``events``: every command, result and rejection, as the region serves them
- ``status`` (retained): the region's state; an empty retained message clears it at
  shutdown, and the server's last will sets ``"state": "gone"`` if it dies
- ``node/<name>/sessions``, ``node/<name>/fib`` (retained): each speaker's current state,
  so a client started later sees it at once
- ``agent/<node>/req``, ``agent/<node>/rep``, ``agent/<node>/state`` (retained): the
  compose runtime's own channel to each speaker's container (runtimes/agent.py): the
  worker protocol's requests, its replies and events, and whether the agent is ``ready``
  or ``gone`` (its last will)

Client and request ids are single topic levels (``NAME_RE``), so a broker ACL can give
each client its own ``cmd/<client-id>/#`` and ``reply/<client-id>/#`` (mosquitto's ``%c``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROOT = "bagemu/v1"
NAME_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # one topic level: no '/', '+', '#'


def check_name(kind: str, name: str) -> str:
    """``name`` if it can be one topic level, else ValueError naming ``kind``."""
    if not NAME_RE.fullmatch(name):
        raise ValueError(
            f"{kind} {name!r} cannot be an MQTT topic level (1-64 of A-Z a-z 0-9 _ . : -)"
        )
    return name


def topic_matches(topic: str, pattern: str) -> bool:
    """MQTT filter matching (``+`` one level, ``#`` the rest, MQTT 3.1.1 §4.7)."""
    t, p = topic.split("/"), pattern.split("/")
    for i, level in enumerate(p):
        if level == "#":
            return True
        if i >= len(t) or (level != "+" and level != t[i]):
            return False
    return len(t) == len(p)


@dataclass(frozen=True, slots=True)
class Topics:
    region: str

    def __post_init__(self) -> None:
        check_name("region", self.region)

    @property
    def base(self) -> str:
        return f"{ROOT}/{self.region}"

    @property
    def cmd_filter(self) -> str:
        return f"{self.base}/cmd/#"

    def cmd(self, client: str, request: str) -> str:
        return f"{self.base}/cmd/{client}/{request}"

    @property
    def query_filter(self) -> str:
        return f"{self.base}/query/#"

    def query(self, client: str, request: str) -> str:
        return f"{self.base}/query/{client}/{request}"

    def reply(self, client: str, request: str) -> str:
        return f"{self.base}/reply/{client}/{request}"

    def reply_filter(self, client: str) -> str:
        return f"{self.base}/reply/{client}/+"

    @property
    def events(self) -> str:
        return f"{self.base}/events"

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    def node(self, name: str, what: str) -> str:
        return f"{self.base}/node/{name}/{what}"

    def agent(self, node: str, what: str) -> str:
        """``what``: req, rep or state."""
        return f"{self.base}/agent/{node}/{what}"

    def agent_filter(self, what: str) -> str:
        return f"{self.base}/agent/+/{what}"

    def parse_agent(self, topic: str) -> tuple[str, str] | None:
        """(node, what) of an agent topic, or None."""
        prefix = f"{self.base}/agent/"
        if not topic.startswith(prefix):
            return None
        parts = topic[len(prefix) :].split("/")
        if len(parts) != 2:
            return None
        return parts[0], parts[1]

    def parse_cmd(self, topic: str) -> tuple[str, str] | None:
        """(client id, request id) of a ``cmd/`` topic, or None if it is not one we answer."""
        route = self.parse_request(topic)
        return None if route is None or route[2] else (route[0], route[1])

    def parse_request(self, topic: str) -> tuple[str, str, bool] | None:
        """(client id, request id, read-only) of a ``cmd/`` or ``query/`` topic (read-only:
        ``query/``), or None if it is not one we answer."""
        for tree, read_only in (("cmd", False), ("query", True)):
            prefix = f"{self.base}/{tree}/"
            if topic.startswith(prefix):
                parts = topic[len(prefix) :].split("/")
                if len(parts) != 2 or not all(NAME_RE.fullmatch(p) for p in parts):
                    return None
                return parts[0], parts[1], read_only
        return None


__all__ = ["NAME_RE", "ROOT", "Topics", "check_name", "topic_matches"]
