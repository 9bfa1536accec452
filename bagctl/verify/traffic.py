"""Traffic matrices: who sends how much to which prefix.

The default is the load an AI cluster puts on BAG: every GPU-facing switch (a leaf with
``host_capacity``) sends to every prefix of the *other* fabrics, its host capacity spread
over them in proportion to the capacity of the leaf behind each (a gravity model; a leaf
with an IPv4 and an IPv6 prefix splits its share evenly between them). Traffic inside a
fabric never reaches BAG, so it is left out.

A user's matrix is YAML::

    demands:
      - {from: r1-nsf1-rtsw1-1, to: 10.0.14.0/24, rate: 12.8T}
      - {from: r1-nsf1-rtsw1-2, to: r1-dsf1-rdsw1, rate: 800G}   # a node: all its prefixes

Rates take the topology file's units (``800G``, ``51.2T``, or bits/s as a number). An
error names the file, the line and the field (``m.yaml:3: demands[1].from: no BGP switch
'x' in topology mini``), as a topology file's do.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from speakers.wire import Prefix
from speakers.yamldoc import ConfigError, Fields, YamlDocument, parse_bps, read_file

from ..topology.model import Topology


class MatrixError(ConfigError):
    """A traffic matrix file that cannot be used: ``file:line: field: message``, as a
    topology file's errors are (``ConfigError``), so a user fixes both the same way."""


@dataclass(frozen=True)
class TrafficMatrix:
    """``demands[prefix][source node]`` in bits/s.

    ``bundled``: when the matrix is known to come in groups of destinations that every
    source sends to in the same proportions (``weights``), those groups with each source's
    total (``bundles.py`` pushes them as one; the gravity matrix is made that way and
    never needs its per-pair table unless asked: ``demands`` is then built on first use).
    """

    source: str  # "gravity" or the file it came from
    explicit: Mapping[Prefix, Mapping[str, float]] | None = None
    weights: Mapping[Prefix, float] = field(default_factory=dict)
    bundled: tuple[tuple[frozenset[Prefix], Mapping[str, float]], ...] = ()

    @cached_property
    def demands(self) -> Mapping[Prefix, Mapping[str, float]]:
        if self.explicit is not None:
            return self.explicit
        out: dict[Prefix, dict[str, float]] = {}
        for members, sources in self.bundled:
            total = sum(self.weights[p] for p in members)
            for p in members:
                share = self.weights[p] / total
                out[p] = {s: bps * share for s, bps in sources.items()}
        return out

    def destinations(self) -> list[Prefix]:
        if self.explicit is not None:
            return list(self.explicit)
        return [p for members, _ in self.bundled for p in sorted(members)]

    def demand_for(self, p: Prefix) -> Mapping[str, float]:
        """One destination's demand (source -> bps), without building the whole table."""
        if self.explicit is not None:
            return self.explicit.get(p, {})
        found = self._bundle_of.get(p)
        if found is None:
            return {}
        sources, share = found
        return {s: bps * share for s, bps in sources.items()}

    @cached_property
    def _bundle_of(self) -> dict[Prefix, tuple[Mapping[str, float], float]]:
        out = {}
        for members, sources in self.bundled:
            total = sum(self.weights[p] for p in members)
            for p in members:
                out[p] = (sources, self.weights[p] / total)
        return out

    @property
    def total_bps(self) -> float:
        if self.explicit is None:
            return sum(sum(sources.values()) for _, sources in self.bundled)
        return sum(sum(d.values()) for d in self.explicit.values())

    def pairs(self) -> int:
        if self.explicit is None:
            return sum(len(members) * len(sources) for members, sources in self.bundled)
        return sum(len(d) for d in self.explicit.values())


def gravity_matrix(topo: Topology) -> TrafficMatrix:
    """The default matrix (module docstring), as one bundle per fabric and family: a
    source sends to a destination ``host(s) * w(d) / (sum of w outside s's fabric)``, so
    within a fabric every source's shares follow ``w``."""
    leaves = [n for n in topo.speakers() if n.host_capacity_bps > 0 and n.prefixes]
    weights = {p: n.host_capacity_bps / len(n.prefixes) for n in leaves for p in n.prefixes}
    total = sum(weights.values())
    members: dict[tuple[str, int], set[Prefix]] = defaultdict(set)
    for n in leaves:
        for p in n.prefixes:
            members[(n.fabric, len(p.packed))].add(p)
    by_fabric: dict[str, float] = defaultdict(float)
    for (fabric, _), ps in members.items():
        by_fabric[fabric] += sum(weights[p] for p in ps)
    bundled = []
    for (fabric, _), ps in sorted(members.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        w = sum(weights[p] for p in ps)
        sources = {}
        for s in leaves:
            elsewhere = total - by_fabric[s.fabric]
            if s.fabric != fabric and elsewhere > 0:
                sources[s.name] = s.host_capacity_bps * w / elsewhere
        if sources:
            bundled.append((frozenset(ps), sources))
    return TrafficMatrix("gravity", None, weights, tuple(bundled))


def load_matrix(path: str | Path, topo: Topology) -> TrafficMatrix:
    """A user's matrix file (module docstring). Read as topology files are
    (``speakers/yamldoc.py``), so every error says ``file:line: field: message``."""
    try:
        text, file = read_file(path)
        return _parse_matrix(YamlDocument(text, file), topo)
    except ConfigError as exc:
        raise MatrixError(exc.message, file=exc.file, line=exc.line, where=exc.where) from None


def _parse_matrix(doc: YamlDocument, topo: Topology) -> TrafficMatrix:
    if not isinstance(doc.data, dict):
        raise doc.error("", "expected a mapping with a 'demands' list")
    r = Fields(doc)
    raw_demands = r.get(doc.data, "demands", "", _demand_list)
    names = {n.name: n for n in topo.nodes}
    owned = {p for n in topo.nodes for p in n.prefixes}
    demands: dict[Prefix, dict[str, float]] = defaultdict(dict)
    for i, raw in enumerate(raw_demands):
        w = f"demands[{i}]"
        entry = r.mapping(raw, w, _DEMAND)
        src = r.get(entry, "from", w, _name)
        if src not in names or not names[src].role.speaks_bgp:
            raise doc.error(f"{w}.from", f"no BGP switch {src!r} in topology {topo.name}")
        target = r.get(entry, "to", w, _name)
        rate = r.get(entry, "rate", w, _rate)
        if target in names:
            prefixes = names[target].prefixes
            if not prefixes:
                raise doc.error(f"{w}.to", f"switch {target!r} originates no prefix")
        else:
            try:
                p = Prefix.parse(target)
            except ValueError as exc:
                raise doc.error(f"{w}.to", f"neither a switch nor a prefix: {exc}") from None
            if p not in owned:
                raise doc.error(f"{w}.to", f"no switch originates {p}")
            prefixes = (p,)
        for p in prefixes:
            demands[p][src] = demands[p].get(src, 0.0) + rate / len(prefixes)
    return TrafficMatrix(doc.file, dict(demands))


_DEMAND = {"from", "to", "rate"}


def _demand_list(v: object, where: str) -> list[object]:
    if not isinstance(v, list):
        raise ValueError(f"expected a list of {{from, to, rate}}, got {type(v).__name__}")
    return v


def _name(v: object, where: str) -> str:
    """A switch name or a prefix, as YAML gave it (a name of digits reads as a number)."""
    if v is None or isinstance(v, bool | list | dict):
        raise ValueError(f"expected a switch name or a prefix, got {v!r}")
    return str(v)


def _rate(v: object, where: str) -> float:
    if isinstance(v, bool):
        raise ValueError(f"expected bits per second like 800G, got {v!r}")
    rate = float(v) if isinstance(v, int | float) else parse_bps(str(v))
    if not rate >= 0 or rate == float("inf"):
        raise ValueError(f"must be a finite, non-negative rate, got {v!r}")
    return rate


def draw_pairs(matrix: TrafficMatrix, n: int, seed: int) -> list[tuple[str, Prefix]]:
    """``n`` (source, destination) pairs drawn in proportion to the demand, from the
    bundles without listing every pair (prometheus has 47 million): a bundle's source by
    its amount, then a destination of the bundle by its weight."""
    rng = random.Random(seed)
    cells = [(ms, s, bps) for ms, sources in matrix.bundled for s, bps in sources.items()]
    picks = rng.choices(cells, weights=[c[2] for c in cells], k=n)
    ordered: dict[frozenset[Prefix], tuple[list[Prefix], list[float]]] = {}
    out = []
    for members, s, _ in picks:
        got = ordered.get(members)
        if got is None:
            ps = sorted(members)
            got = ordered[members] = (ps, [matrix.weights[p] for p in ps])
        out.append((s, rng.choices(got[0], weights=got[1])[0]))
    return out
