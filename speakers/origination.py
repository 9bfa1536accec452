"""The paths this speaker originates: configured or run-time prefixes, and its aggregates.

Pure builders of the local paths, and ``sync_aggregate``, the step that keeps one
aggregate's path in the Loc-RIB in line with its contributors (semantics and cost in
``aggregate.py``). ``routes.Routes`` applies the route changes they produce like any
other. ``local`` is the speaker's own source (``rib.local_source``: our AS and router id).
"""

from __future__ import annotations

from collections.abc import Callable

from .aggregate import AggregateState
from .rib import LocRib, Path, PeerInfo, RouteChange
from .rib.path import LOCAL_NAME
from .ucmp import BINARY32_MAX
from .wire import Aggregator, AsPath, LinkBandwidth, Origin, PathAttributes


def originated_path(
    local: PeerInfo, bandwidth_bps: float | None, communities: tuple[int, ...]
) -> Path:
    """A route we originate: ORIGIN IGP, empty AS_PATH, our link bandwidth if given."""
    ext: tuple[LinkBandwidth, ...] = ()
    if bandwidth_bps is not None:
        ext = (LinkBandwidth.from_bps(bandwidth_bps, local.asn),)
    attrs = PathAttributes(
        origin=Origin.IGP, as_path=AsPath(), communities=communities, ext_communities=ext
    )
    return Path.build(local, attrs, None)


def aggregate_path(local: PeerInfo, bandwidth_bytes_per_s: float | None) -> Path:
    """An active aggregate's path, carrying its contributors' link bandwidth if any."""
    ext: tuple[LinkBandwidth, ...] = ()
    if bandwidth_bytes_per_s is not None:
        value = min(bandwidth_bytes_per_s, BINARY32_MAX)
        ext = (LinkBandwidth.from_bytes_per_s(value, local.asn),)
    attrs = PathAttributes(
        # deviation (RFC 4271 §9.2.2.2): ORIGIN IGP whatever the contributors' ORIGIN
        # (every route of an emulated fabric is IGP): one fixed attribute set per value.
        origin=Origin.IGP,
        # RFC 6472: no AS_SET; the AS_PATH information is dropped, so RFC 4271 §5.1.6
        # asks for ATOMIC_AGGREGATE, and §9.2.2.2 / §5.1.7 let us name ourselves in a
        # new AGGREGATOR.
        as_path=AsPath(),
        atomic_aggregate=True,
        aggregator=Aggregator(local.asn, local.router_id),
        ext_communities=ext,
    )
    return Path.build(local, attrs, None)


def sync_aggregate(
    state: AggregateState,
    loc_rib: LocRib,
    local: PeerInfo,
    capacity_bytes_per_s: Callable[[str], float | None],
) -> RouteChange | None:
    """Install, rebuild or withdraw ``state``'s aggregate path to match its contributors;
    a change only when its presence or link bandwidth moved. ``capacity_bytes_per_s``:
    the link to a contributor's source (``AggregateState.bandwidth``)."""
    prefix = state.aggregate.prefix
    dest = loc_rib.get(prefix)
    current = dest.paths.get(LOCAL_NAME) if dest is not None else None
    if current is not None and current is not state.path:
        return None  # we originate this very prefix: that route stands in for it
    if not state.active:
        if state.path is None:
            return None
        state.path = state.bandwidth_bytes_per_s = None
        return loc_rib.set_path(prefix, LOCAL_NAME, None)
    bandwidth = state.bandwidth(capacity_bytes_per_s)
    if state.path is not None and bandwidth == state.bandwidth_bytes_per_s:
        return None
    path = aggregate_path(local, bandwidth)
    state.bandwidth_bytes_per_s = bandwidth
    if path == state.path:
        return None  # same binary32 value: keep the installed object (identity counts)
    state.path = path
    return loc_rib.set_path(prefix, LOCAL_NAME, path)
