"""JSON-able views of a running speaker's sessions, Loc-RIB and FIB, in two forms.

``sessions_view`` / ``rib_view`` / ``fib_view`` are what ``Speaker.sessions()``,
``.rib()`` and ``.fib()`` return: next hops by address, every path of a prefix, FIB
groups as ``NextHopGroup.describe`` gives them.

The ``named_*`` views are what an operator of an emulated region asks for (``bagctl
show`` and the management bus, through ``bagctl/views.py``): neighbors and next hops by
NAME (a next hop is a neighbor's address, or its IPv4-mapped form for IPv6 routes:
``neighbor_names``), the best path and the multipath set in decision order, integer WCMP
weights per name, and a KeyError naming the speaker and the prefix when the prefix is
not there.

Pure functions of the speaker's tables; the clock is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .fib import Fib, NextHopGroup
from .graceful import family_name, stale_count
from .neighbor import Neighbor
from .rib import Destination, LocRib, Path
from .wire import Prefix
from .wire.prefix import IPAddress, ipv4_mapped


def path_view(path: Path) -> dict[str, object]:
    """One path: where it came from, its next hop and AS_PATH, and its link bandwidth."""
    return {
        "source": path.source.name,
        "next_hop": None if path.next_hop is None else str(path.next_hop),
        "as_path": str(path.attributes.as_path or ""),
        "link_bandwidth_bps": None if path.link_bandwidth is None else path.link_bandwidth * 8,
    }


# --- by address: Speaker.sessions(), .rib(), .fib() ----------------------------------------


def sessions_view(neighbors: Iterable[Neighbor]) -> list[dict[str, object]]:
    """One entry per configured neighbor, in configuration order."""
    out: list[dict[str, object]] = []
    for nb in neighbors:
        negotiated = nb.peer.primary.negotiated
        peer = nb.graceful_peer
        out.append(
            {
                "neighbor": nb.config.name,
                "address": str(nb.config.address),
                "remote_as": nb.config.remote_as,
                "state": nb.peer.state.value,
                "hold_time_s": negotiated.hold_time_s if negotiated else None,
                "prefixes_received": len(nb.adj_in),
                "prefixes_sent": len(nb.adj_out),
                "updates_received": nb.updates_in,
                "updates_sent": nb.updates_out,
                "flaps": nb.flaps,
                "last_down": nb.last_down,
                # Graceful restart (RFC 4724): its routes we keep stale while it restarts,
                # the restart time it offered (None: no capability from it), whether it
                # said it was restarting (R bit), and when (the speaker's clock, as FIB
                # changes' ``at_ns``) it sent End-of-RIB for each family this session.
                "stale_routes": stale_count(nb),
                "peer_restart_time_s": peer.restart_time_s if peer is not None else None,
                "peer_restarting": peer.restarting if peer is not None else None,
                "end_of_rib_ns": {family_name(*f): at for f, at in nb.end_of_rib.items()},
            }
        )
    return out


def rib_view(loc_rib: LocRib, prefix: Prefix | None = None) -> list[dict[str, object]]:
    """Per prefix (one, or all): the best path's source, why it won, and every path with
    its best and multipath flags; an unknown prefix gives an empty list."""
    dests = [loc_rib.get(prefix)] if prefix is not None else list(loc_rib)
    out: list[dict[str, object]] = []
    for dest in dests:
        if dest is None:
            continue
        out.append(
            {
                "prefix": str(dest.prefix),
                "best": dest.best.source.name if dest.best else None,
                "reason": dest.reason,
                "paths": [
                    {**path_view(p), "best": p is dest.best, "multipath": p in dest.multipath}
                    for p in sorted(dest.paths.values(), key=lambda p: p.source.name)
                ],
            }
        )
    return sorted(out, key=lambda d: str(d["prefix"]))


def fib_changes_view(fib: Fib, since: int = 0) -> dict[str, object]:
    """The FIB's changes from index ``since`` on (``FibChange.describe``), and the index
    the next change will get: ask again from there. ``ChangesDropped`` (a LookupError)
    when some left the bounded log."""
    changes = fib.changes_since(since)
    return {"next_index": fib.next_index, "changes": [c.describe() for c in changes]}


def fib_view(fib: Fib, prefix: Prefix | None = None) -> list[dict[str, object]]:
    """Per installed prefix (one, or all): its next-hop group (``NextHopGroup.describe``)."""
    if prefix is not None:
        group = fib.lookup(prefix)
        return [] if group is None else [{"prefix": str(prefix), **group.describe()}]
    return [{"prefix": str(p), **g.describe()} for p, g in fib.entries()]


# --- by name: what bagctl shows ------------------------------------------------------------


def neighbor_names(neighbors: Mapping[str, Neighbor]) -> dict[IPAddress, str]:
    """Next-hop address -> neighbor name, for the addresses a speaker's routes use."""
    names: dict[IPAddress, str] = {}
    for name, nb in neighbors.items():
        names[nb.config.address] = name
        if nb.config.address.version == 4:
            names[ipv4_mapped(nb.config.address)] = name  # IPv6 routes' next hops
    return names


def weights_by_name(group: NextHopGroup, names: Mapping[IPAddress, str]) -> dict[str, int]:
    """A next-hop group as name -> integer weight; an unknown next hop keeps its address."""
    return {names.get(hop, str(hop)): w for hop, w in group.members}


def named_sessions_view(
    neighbors: Mapping[str, Neighbor], now_monotonic: float, now_wall: float
) -> list[dict[str, object]]:
    """One entry per configured neighbor, in configuration order; ``established_since``
    is wall-clock time (``established_at`` is monotonic, hence both clocks)."""
    out: list[dict[str, object]] = []
    for name, nb in neighbors.items():
        since = None
        if nb.established and nb.established_at is not None:
            since = round(now_wall - (now_monotonic - nb.established_at), 3)
        out.append(
            {
                "neighbor": name,
                "address": str(nb.config.address),
                "remote_as": nb.config.remote_as,
                "state": nb.peer.state.value,
                "established_since": since,
                "updates_in": nb.updates_in,
                "updates_out": nb.updates_out,
                "flaps": nb.flaps,
                "last_down": nb.last_down,
                "prefixes_received": len(nb.adj_in),
                "prefixes_sent": len(nb.adj_out),
            }
        )
    return out


def named_rib_view(loc_rib: LocRib, prefix: Prefix | None, speaker: str) -> list[dict[str, object]]:
    """Per prefix of the Loc-RIB (one, or all): the best path, why it won, and the
    multipath set with each path's link bandwidth (what UCMP weights by)."""
    dests: list[Destination]
    if prefix is None:
        dests = sorted(loc_rib, key=lambda d: str(d.prefix))
    else:
        dest = loc_rib.get(prefix)
        if dest is None or dest.best is None:
            raise KeyError(f"{speaker}: no route to {prefix} in the RIB")
        dests = [dest]
    out: list[dict[str, object]] = []
    for dest in dests:
        if dest.best is None:
            continue
        out.append(
            {
                "prefix": str(dest.prefix),
                "best": path_view(dest.best),
                "reason": dest.reason,
                "multipath": [path_view(p) for p in dest.multipath],
                "paths": len(dest.paths),
            }
        )
    return out


def named_fib_view(
    fib: Fib, names: Mapping[IPAddress, str], prefix: Prefix | None, speaker: str
) -> list[dict[str, object]]:
    """Per installed prefix (one, or all): its next-hop group with integer weights, by
    name (``names``: next hop -> node name); ``weights`` is name -> integer weight."""
    if prefix is None:
        entries = fib.entries()
    else:
        match = fib.longest_match(prefix)
        if match is None:
            raise KeyError(f"{speaker}: no route to {prefix} in the FIB")
        entries = [match]
    out: list[dict[str, object]] = []
    for p, group in sorted(entries, key=lambda e: str(e[0])):
        members = dict(group.members)
        real = group.weights or tuple((nh, float(w)) for nh, w in group.members)
        out.append(
            {
                "prefix": str(p),
                "total": group.total,
                "weights": weights_by_name(group, names),
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
