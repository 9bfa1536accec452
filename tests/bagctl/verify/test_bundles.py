"""The push of destination bundles (``bagctl/verify/bundles.py``, ``classify.py``) against
the straightforward one: every destination on its own through ``loads.push``, each
switch's entry found by scanning all its entries for the longest that covers the whole
destination. On random fabrics, with FIBs from the model's splits then broken at random:
entries removed (black holes), sent back to a neighbor (loops), reweighted, an empty
group, a route covering several destinations beside their own, an entry more specific
than a destination (which forwards none of it).

One destination per bundle (a matrix file's) must give exactly the same loads, black
holes, loops and cycles; the gravity matrix's bundles (each member pushed on its own with
its share of the bundle's sources) the same loads and losses wherever no loop is met
(with a loop, which edge closes it depends on the walk's order)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from random_fabrics import fabrics_with_failures

from bagctl.topology.failures import Failures
from bagctl.topology.model import Topology
from bagctl.verify.bundles import Totals, bundles_of, demand_of, push_bundles
from bagctl.verify.fibview import FibSnapshot, covers
from bagctl.verify.loads import normalize, push
from bagctl.verify.model import RoutingModel, build_model
from bagctl.verify.tables import Nodes, fib_table, space_of
from bagctl.verify.traffic import TrafficMatrix, gravity_matrix
from speakers.wire import Prefix


def model_fib(model: RoutingModel) -> dict[str, dict[Prefix, dict[str, int]]]:
    out: dict[str, dict[Prefix, dict[str, int]]] = defaultdict(dict)
    for p, routes in model.routes.items():
        for node, route in routes.items():
            if not route.local:
                out[node][p] = {h: max(1, round(s * 16)) for h, s in route.split().items()}
    return out


COVERS = ("10.0.0.0/16", "10.0.0.0/23", "10.0.4.0/22", "2001:db8::/48")


@st.composite
def broken(draw: st.DrawFn, fib: dict[str, dict[Prefix, dict[str, int]]], topo: Topology):
    """``fib`` with a few random faults (module docstring)."""
    entries = [(n, p) for n in sorted(fib) for p in sorted(fib[n])]
    if not entries:
        return fib
    pick = st.sampled_from(entries)
    nbrs: dict[str, list[str]] = defaultdict(list)
    for b in topo.bundles:
        nbrs[b.a].append(b.b)
        nbrs[b.b].append(b.a)
    for n, p in draw(st.lists(pick, max_size=3, unique=True)):
        fib[n].pop(p, None)
    for n, p in draw(st.lists(pick, max_size=3, unique=True)):
        if p in fib[n]:
            fib[n][p] = {draw(st.sampled_from(sorted(nbrs[n]))): 1}
    for n, p in draw(st.lists(pick, max_size=2, unique=True)):
        if p in fib[n]:
            fib[n][p] = {h: w * draw(st.integers(1, 3)) for h, w in fib[n][p].items()}
    if draw(st.booleans()):
        n, p = draw(pick)
        fib[n][p] = {}
    for cover in draw(st.lists(st.sampled_from(COVERS), max_size=2, unique=True)):
        n = draw(st.sampled_from(sorted(fib)))  # a covering route beside the specifics
        fib[n][Prefix.parse(cover)] = {draw(st.sampled_from(sorted(nbrs[n]))): 1}
    if draw(st.booleans()):  # a /25 inside some destination: forwards none of the /24
        n, p = draw(pick)
        if len(p.packed) == 4 and p.length == 24:
            fib[n][Prefix(p.packed, 25)] = {draw(st.sampled_from(sorted(nbrs[n]))): 1}
    return fib


def one_by_one(fib: FibSnapshot, owners: Mapping[Prefix, tuple[str, ...]], m: TrafficMatrix):
    """Every destination of every bundle through ``loads.push`` on its own, with its
    share of the bundle's sources (module docstring)."""
    out = Totals()
    for b in bundles_of(m):
        total = sum(m.weights.get(p, 1.0) for p in b.members) or 1.0
        for p in sorted(b.members):
            share = m.weights.get(p, 1.0) / total
            demand = {s: bps * share for s, bps in b.sources.items()}

            def hops(v: str, p: Prefix = p) -> dict[str, float] | None:
                found = [(q, g) for q, g in fib.entries.get(v, {}).items() if covers(q, p)]
                if not found:
                    return None
                return normalize(max(found, key=lambda qg: qg[0].length)[1]) or None

            r = push(demand, frozenset(owners.get(p, ())), hops)
            for link, bps in r.loads.items():
                out.loads[link] = out.loads.get(link, 0.0) + bps
            for v, bps in r.black_holes.items():
                out.black_holes[(p, v)] = out.black_holes.get((p, v), 0.0) + bps
            if r.looped > 0:
                looped, cycle = out.loops.get(p, (0.0, r.cycle))
                out.loops[p] = (looped + r.looped, cycle)
            out.delivered += r.delivered
    return out


def bundled(topo: Topology, failures: Failures, fib: FibSnapshot, m: TrafficMatrix) -> Totals:
    model = build_model(topo, failures)
    bundles = bundles_of(m)
    nodes = Nodes(model.graph.names)
    space = space_of(model, fib, (p for b in bundles for p in b.members))
    demand = demand_of(space, nodes, model.owners, bundles, m.weights)
    return push_bundles(fib_table(fib, space, nodes), demand)


def assert_same(got: Totals, want: Totals, cycles: bool = True) -> None:
    assert got.loads.keys() == want.loads.keys()
    for link, bps in want.loads.items():
        assert got.loads[link] == pytest.approx(bps, rel=1e-9), link
    assert got.black_holes == pytest.approx(want.black_holes, rel=1e-9)
    assert {p: x for p, (x, _) in got.loops.items()} == pytest.approx(
        {p: x for p, (x, _) in want.loops.items()}, rel=1e-9
    )
    if cycles:
        assert {p: c for p, (_, c) in got.loops.items()} == {
            p: c for p, (_, c) in want.loops.items()
        }
    assert got.delivered == pytest.approx(want.delivered, rel=1e-9)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(fabrics_with_failures(), st.data())
def test_one_destination_per_bundle_is_the_push_one_by_one(
    case: tuple[Topology, Failures], data: st.DataObject
) -> None:
    topo, failures = case
    model = build_model(topo, failures)
    fib = FibSnapshot(data.draw(broken(model_fib(model), topo)))
    leaves = sorted(n.name for n in topo.speakers() if n.prefixes)
    rate = st.sampled_from([1e9, 3e9, 10e9])
    demands: dict[Prefix, dict[str, float]] = {}
    for p in sorted(model.owners):
        sources = data.draw(st.lists(st.sampled_from(leaves), max_size=3, unique=True))
        if sources:
            demands[p] = {s: data.draw(rate) for s in sources}
    matrix = TrafficMatrix("test", demands)
    assert_same(bundled(topo, failures, fib, matrix), one_by_one(fib, model.owners, matrix))


@SETTINGS
@given(fabrics_with_failures(), st.data())
def test_gravity_bundles_are_the_push_one_by_one(
    case: tuple[Topology, Failures], data: st.DataObject
) -> None:
    topo, failures = case
    model = build_model(topo, failures)
    fib = FibSnapshot(data.draw(broken(model_fib(model), topo)))
    matrix = gravity_matrix(topo)
    want = one_by_one(fib, model.owners, matrix)
    got = bundled(topo, failures, fib, matrix)
    if want.loops or got.loops:  # which edge closes a loop depends on the walk's order
        assert set(got.loops) <= set(matrix.destinations())
        total = matrix.total_bps
        lost = sum(got.black_holes.values()) + sum(x for x, _ in got.loops.values())
        assert got.delivered + lost == pytest.approx(total, rel=1e-9)
        return
    assert_same(got, want)
