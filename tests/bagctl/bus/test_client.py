"""``reply_timeout_s``: how long a client waits for a command that changes the region."""

from __future__ import annotations

from bagctl.bus import Command
from bagctl.bus.client import REPLY_MARGIN_S, reply_timeout_s
from bagctl.bus.payloads import DEFAULT_TIMEOUT_S


def test_the_regions_timeout_plus_a_margin() -> None:
    assert reply_timeout_s(Command("link-down", {"a": "x", "b": "y"})) == DEFAULT_TIMEOUT_S + 15
    assert reply_timeout_s(Command("node-drain", {"node": "x", "timeout_s": 30})) == 45.0
    assert REPLY_MARGIN_S == 15.0


def test_a_flap_adds_its_own_downs_and_ups() -> None:
    args = {"a": "x", "b": "y", "count": 3, "interval_s": 0.5, "timeout_s": 10}
    assert reply_timeout_s(Command("link-flap", args)) == 10 + 15 + 2 * 3 * 0.5
    # Only a flap: the same arguments on another command add nothing.
    assert reply_timeout_s(Command("link-up", args)) == 25.0
