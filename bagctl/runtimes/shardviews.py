"""What a shard shows of its speakers, by node name: FIB weights, the sessions, RIB and
FIB views, per-node summaries and every FIB (the view requests of runtimes/protocol.py).
Read-only, so apart from ``Shard``, which is what acts."""

from __future__ import annotations

from speakers.views import weights_by_name
from speakers.wire import Prefix

from .. import views
from .shard import Shard


def weights(shard: Shard, node: str, prefix: str) -> dict[str, int]:
    """Next-hop node name -> integer weight in ``node``'s FIB entry for ``prefix``
    (exact match; empty without one)."""
    group = shard.speaker(node).fib_table.lookup(Prefix.parse(prefix))
    return {} if group is None else weights_by_name(group, shard.names)


def view(shard: Shard, what: str, node: str, prefix: str | None) -> list[dict[str, object]]:
    """``what`` (sessions, rib or fib) of ``node``, JSON-able (``bagctl.views``)."""
    speaker = shard.speaker(node)
    if what == "sessions":
        return views.sessions_view(speaker)
    if what == "rib":
        return views.rib_view(speaker, prefix)
    if what == "fib":
        return views.fib_view(speaker, prefix, names=shard.names)
    raise ValueError(f"unknown view {what!r} (sessions, rib or fib)")


def nodes(shard: Shard) -> dict[str, dict[str, int]]:
    """Per speaker: sessions up and configured, RIB and FIB sizes (``bagctl inspect``)."""
    return {n: views.node_summary(s) for n, s in shard.speakers.items()}


def fibs(shard: Shard) -> dict[str, dict[str, dict[str, int]]]:
    """Every speaker's FIB: node -> prefix -> next-hop node -> integer weight."""
    return {n: views.fib_names(s, shard.names) for n, s in shard.speakers.items()}
