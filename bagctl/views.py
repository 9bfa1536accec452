"""What ``bagctl show`` and the management bus show of one running ``Speaker``.

A thin layer over ``speakers.views`` (its ``named_*`` views: neighbors and next hops by
node name, integer WCMP weights per name): it takes the node's prefix as text, as the CLI
and the bus give it, and names the node in every error. Used by ``Region.show`` and the
shards (runtimes/shard.py).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Mapping

from speakers import views
from speakers.speaker import Speaker
from speakers.wire import Prefix
from speakers.wire.prefix import IPAddress

SHOW_WHAT = ("sessions", "rib", "fib")


def fib_names(speaker: Speaker, names: Mapping[IPAddress, str]) -> dict[str, dict[str, int]]:
    """A speaker's FIB as prefix -> next-hop node name -> integer weight (``names``: node
    by next hop, ``topology.configs.next_hop_names``)."""
    return {str(p): views.weights_by_name(g, names) for p, g in speaker.fib_table.entries()}


def node_summary(speaker: Speaker) -> dict[str, int]:
    """What ``bagctl inspect`` shows of one speaker: sessions established and configured,
    prefixes in its Loc-RIB, entries in its FIB."""
    up = sum(1 for nb in speaker.neighbors.values() if nb.info is not None)
    return {
        "sessions_up": up,
        "sessions": len(speaker.neighbors),
        "rib_prefixes": len(speaker.loc_rib),
        "fib_entries": len(speaker.fib_table),
    }


def neighbor_names(speaker: Speaker) -> dict[IPAddress, str]:
    """Next-hop address -> neighbor name, for the addresses this speaker's routes use."""
    return views.neighbor_names(speaker.neighbors)


def parse_prefix(speaker: Speaker, prefix: Prefix | str) -> Prefix:
    """A prefix, or an address as its host prefix (``show fib NODE 10.0.0.5``)."""
    if isinstance(prefix, Prefix):
        return prefix
    try:
        if "/" not in prefix:
            address = ipaddress.ip_address(prefix)
            return Prefix(address.packed, 8 * len(address.packed))
        return Prefix.parse(prefix)
    except ValueError:
        raise ValueError(f"{speaker.config.name}: {prefix!r} is not a prefix") from None


def sessions_view(speaker: Speaker) -> list[dict[str, object]]:
    """One entry per configured neighbor, in configuration order."""
    # On a region's emulated clock, how long ago is emulated too; "since" stays wall time.
    return views.named_sessions_view(speaker.neighbors, speaker.clock.time(), time.time())


def rib_view(speaker: Speaker, prefix: Prefix | str | None = None) -> list[dict[str, object]]:
    """Per prefix of the Loc-RIB: the best path (source, AS path), why it won, and the
    multipath set with each path's link bandwidth (what UCMP weights by)."""
    p = None if prefix is None else parse_prefix(speaker, prefix)
    return views.named_rib_view(speaker.loc_rib, p, speaker.config.name)


def fib_view(
    speaker: Speaker,
    prefix: Prefix | str | None = None,
    names: Mapping[IPAddress, str] | None = None,
) -> list[dict[str, object]]:
    """Per installed prefix: its next-hop group with integer weights, by neighbor name.

    ``names`` maps next-hop addresses to node names (default: this speaker's neighbors);
    ``weights`` is name -> integer weight, the form ``Region.weights`` returns."""
    names = neighbor_names(speaker) if names is None else names
    p = None if prefix is None else parse_prefix(speaker, prefix)
    return views.named_fib_view(speaker.fib_table, names, p, speaker.config.name)


__all__ = [
    "SHOW_WHAT",
    "fib_names",
    "fib_view",
    "neighbor_names",
    "node_summary",
    "parse_prefix",
    "rib_view",
    "sessions_view",
]
