"""The request ids a region's bus has taken (bagctl/bus/ledger.py)."""

from __future__ import annotations

from bagctl.bus.ledger import Ledger


def test_in_flight_then_answered_then_forgotten_oldest_first() -> None:
    ledger = Ledger(kept=2)
    key = ("client", "r1")
    assert not ledger.in_flight(key) and ledger.reply(key) is None
    ledger.taken(key)
    assert ledger.in_flight(key) and ledger.reply(key) is None
    ledger.answered(key, {"ok": True, "request": "r1"})
    assert not ledger.in_flight(key) and ledger.reply(key) == {"ok": True, "request": "r1"}
    ledger.answered(("client", "r2"), {"ok": False})  # refused at once: never in flight
    ledger.answered(("other", "r1"), {"ok": True})  # another client's r1 is another request
    assert ledger.reply(key) is None  # the oldest of three, two kept
    assert ledger.reply(("client", "r2")) == {"ok": False}
    assert ledger.reply(("other", "r1")) == {"ok": True}
