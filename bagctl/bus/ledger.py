"""``Ledger``: every request id the server has taken, so that none runs twice.

A client that lost the broker (it restarted) cannot know whether its command arrived,
nor whether the reply was lost, so it sends the same request id again once connected
(``bus/client.py``). The server looks the id up here first: while the command is queued
or running the copy is dropped (the reply comes when it is done); once done, the reply
kept here is sent again instead of running the command a second time. The last
``kept`` replies are kept: far more than any client has outstanding.
"""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["REPLIES_KEPT", "Ledger"]

REPLIES_KEPT = 4096

Key = tuple[str, str]  # (client id, request id)


class Ledger:
    def __init__(self, kept: int = REPLIES_KEPT) -> None:
        self._kept = kept
        self._replies: OrderedDict[Key, dict[str, object]] = OrderedDict()
        self._in_flight: set[Key] = set()

    def in_flight(self, key: Key) -> bool:
        return key in self._in_flight

    def reply(self, key: Key) -> dict[str, object] | None:
        """The reply given to ``key``, if it is done and still kept."""
        return self._replies.get(key)

    def taken(self, key: Key) -> None:
        """``key`` is queued."""
        self._in_flight.add(key)

    def seen(self, key: Key) -> tuple[str, dict[str, object] | None] | None:
        """A request id taken before: ("in flight", None) while queued or running,
        ("answered again", its reply) once done; None if it is new."""
        if key in self._in_flight:
            return ("in flight", None)
        reply = self._replies.get(key)
        return None if reply is None else ("answered again", reply)

    def answered(self, key: Key, reply: dict[str, object]) -> None:
        """``key`` is done (or was refused): keep its reply, the oldest dropped."""
        self._in_flight.discard(key)
        self._replies[key] = reply
        while len(self._replies) > self._kept:
            self._replies.popitem(last=False)
