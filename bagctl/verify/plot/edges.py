"""Which state each bundle is drawn in: loaded, idle, failed or degraded.

``edge_states`` turns the caller's mappings (utilization, failed and degraded bundle keys,
either end first) into one ``Edge`` per bundle of the topology, refusing keys that name no
bundle and utilizations that are negative or not finite: a typo or a stale mapping would
otherwise draw an idle bundle and hide the mistake.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from bagctl.topology.draw.artists import bundle_path
from bagctl.topology.model import Bundle, Topology

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Edge:
    """One bundle as drawn: its path, state and the numbers its legend and labels need."""

    bundle: Bundle
    path: np.ndarray
    util: float | None  # None: carries no traffic (absent from the mapping)
    up: int  # members up
    members: int  # members in all (from ``degraded`` when given)
    failed: bool

    @property
    def degraded(self) -> bool:
        return not self.failed and self.up < self.members

    @property
    def overloaded(self) -> bool:
        return not self.failed and self.util is not None and self.util > 1.0

    @property
    def capacity_now_bps(self) -> float:
        return self.up * self.bundle.member_speed_bps

    @property
    def name(self) -> str:
        return pair_name(self.bundle.key)


def pair_name(key: Key) -> str:
    """A bundle's name for people: its ends, which contain hyphens themselves."""
    return f"{key[0]} ↔ {key[1]}"


def bundle_key(k: Iterable[str]) -> Key:
    a, b = k
    return (a, b) if a <= b else (b, a)


def _unknown(what: str, keys: Iterable[Key], known: Collection[Key]) -> None:
    """Refuse keys naming no bundle: a typo or a stale mapping would otherwise draw an
    idle bundle and hide the mistake."""
    missing = sorted(k for k in keys if k not in known)
    if missing:
        shown = ", ".join(pair_name(k) for k in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise ValueError(f"{what} names bundles not in the topology: {shown}{more}")


def edge_states(
    topo: Topology,
    pos: Mapping[str, tuple[float, float]],
    utilization: Mapping[Key, float],
    failed: Iterable[Key],
    degraded: Mapping[Key, tuple[int, int]],
) -> list[Edge]:
    """Every bundle with its state; ``ValueError`` for keys naming no bundle and for
    utilizations that are negative or not finite."""
    util = {bundle_key(k): float(v) for k, v in utilization.items()}
    down = {bundle_key(k) for k in failed}
    part = {bundle_key(k): (int(u), int(m)) for k, (u, m) in degraded.items()}
    known = {b.key for b in topo.bundles}
    _unknown("utilization", util, known)
    _unknown("failed", down, known)
    _unknown("degraded", part, known)
    bad = sorted(k for k, v in util.items() if not (math.isfinite(v) and v >= 0))
    if bad:
        raise ValueError(
            f"utilization of {pair_name(bad[0])} is {util[bad[0]]}: must be finite and >= 0"
        )
    out = []
    for b in topo.bundles:
        up, members = part.get(b.key, (b.members, b.members))
        up = min(max(up, 0), members)
        p, q = pos[b.a], pos[b.b]
        out.append(
            Edge(
                bundle=b,
                path=bundle_path(p, q),
                util=util.get(b.key),
                up=up,
                members=members,
                failed=b.key in down or up == 0,
            )
        )
    return out
