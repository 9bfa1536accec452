"""JSON-able views of one running ``Speaker``: its sessions, Loc-RIB and FIB.

Pure functions over a speaker's state (no I/O, no asyncio), used by ``Region.show`` and so
by ``bagctl show`` and the management bus. They differ from ``Speaker.sessions()/.rib()/
.fib()`` in what an operator of an emulated region asks for: neighbors and next hops by
node NAME (a next hop is a neighbor's loopback, or its IPv4-mapped form for IPv6 routes),
integer WCMP weights per name, and a clear error naming the node and prefix when a
prefix is not there.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from speakers.fib import NextHopGroup
from speakers.rib import Path
from speakers.speaker import Speaker
from speakers.wire import Prefix
from speakers.wire.prefix import IPAddress, ipv4_mapped

SHOW_WHAT = ("sessions", "rib", "fib")


def group_names(group: NextHopGroup, names: Mapping[IPAddress, str]) -> dict[str, int]:
    """A next-hop group as next-hop node name -> integer weight (``names``: node by next
    hop, ``topology.configs.next_hop_names``); an unknown next hop keeps its address."""
    return {names.get(hop, str(hop)): w for hop, w in group.members}


def fib_names(speaker: Speaker, names: Mapping[IPAddress, str]) -> dict[str, dict[str, int]]:
    """A speaker's FIB as prefix -> next-hop node name -> integer weight."""
    return {str(p): group_names(group, names) for p, group in speaker.fib_table.entries()}


def neighbor_names(speaker: Speaker) -> dict[IPAddress, str]:
    """Next-hop address -> neighbor name, for the addresses this speaker's routes use."""
    names: dict[IPAddress, str] = {}
    for name, nb in speaker.neighbors.items():
        names[nb.config.address] = name
        if nb.config.address.version == 4:
            names[ipv4_mapped(nb.config.address)] = name  # IPv6 routes' next hops
    return names


def parse_prefix(speaker: Speaker, prefix: Prefix | str) -> Prefix:
    if isinstance(prefix, Prefix):
        return prefix
    try:
        return Prefix.parse(prefix)
    except ValueError:
        raise ValueError(f"{speaker.config.name}: {prefix!r} is not a prefix") from None


def sessions_view(speaker: Speaker) -> list[dict[str, object]]:
    """One entry per configured neighbor, in configuration order."""
    now_mono, now_wall = time.monotonic(), time.time()
    out: list[dict[str, object]] = []
    for name, nb in speaker.neighbors.items():
        up = nb.established and nb.established_at is not None
        since = now_wall - (now_mono - nb.established_at) if up else None  # type: ignore[operator]
        out.append(
            {
                "neighbor": name,
                "address": str(nb.config.address),
                "remote_as": nb.config.remote_as,
                "state": nb.peer.state.value,
                "established_since": None if since is None else round(since, 3),
                "updates_in": nb.updates_in,
                "updates_out": nb.updates_out,
                "flaps": nb.flaps,
                "last_down": nb.last_down,
                "prefixes_received": len(nb.adj_in),
                "prefixes_sent": len(nb.adj_out),
            }
        )
    return out


def _path_view(path: Path) -> dict[str, object]:
    return {
        "source": path.source.name,
        "next_hop": None if path.next_hop is None else str(path.next_hop),
        "as_path": str(path.attributes.as_path or ""),
        "link_bandwidth_bps": None if path.link_bandwidth is None else path.link_bandwidth * 8,
    }


def rib_view(speaker: Speaker, prefix: Prefix | str | None = None) -> list[dict[str, object]]:
    """Per prefix of the Loc-RIB: the best path (source, AS path), why it won, and the
    multipath set with each path's link bandwidth (what UCMP weights by)."""
    if prefix is None:
        dests = sorted(speaker.loc_rib, key=lambda d: str(d.prefix))
    else:
        p = parse_prefix(speaker, prefix)
        dest = speaker.loc_rib.get(p)
        if dest is None or dest.best is None:
            raise KeyError(f"{speaker.config.name}: no route to {p} in the RIB")
        dests = [dest]
    out: list[dict[str, object]] = []
    for dest in dests:
        if dest.best is None:
            continue
        out.append(
            {
                "prefix": str(dest.prefix),
                "best": _path_view(dest.best),
                "reason": dest.reason,
                "multipath": [_path_view(p) for p in dest.multipath],
                "paths": len(dest.paths),
            }
        )
    return out


def fib_view(
    speaker: Speaker,
    prefix: Prefix | str | None = None,
    names: Mapping[IPAddress, str] | None = None,
) -> list[dict[str, object]]:
    """Per installed prefix: its next-hop group with integer weights, by neighbor name.

    ``names`` maps next-hop addresses to node names (default: this speaker's neighbors);
    ``weights`` is name -> integer weight, the form ``Region.weights`` returns."""
    names = neighbor_names(speaker) if names is None else names
    if prefix is None:
        entries = speaker.fib_table.entries()
    else:
        p = parse_prefix(speaker, prefix)
        group = speaker.fib_table.lookup(p)
        if group is None:
            raise KeyError(f"{speaker.config.name}: no route to {p} in the FIB")
        entries = [(p, group)]
    out: list[dict[str, object]] = []
    for p, group in sorted(entries, key=lambda e: str(e[0])):
        members = dict(group.members)
        real = group.weights or tuple((nh, float(w)) for nh, w in group.members)
        out.append(
            {
                "prefix": str(p),
                "total": group.total,
                "weights": group_names(group, names),
                "next_hops": [
                    {
                        "neighbor": names.get(nh, str(nh)),
                        "next_hop": str(nh),
                        "weight": members.get(nh, 0),
                        "ucmp_weight": weight,
                    }
                    for nh, weight in real
                ],
            }
        )
    return out


__all__ = [
    "SHOW_WHAT",
    "fib_names",
    "fib_view",
    "group_names",
    "neighbor_names",
    "rib_view",
    "sessions_view",
]
