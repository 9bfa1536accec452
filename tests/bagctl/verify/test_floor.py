"""The cold start's floor (bagctl/verify/floor.py) against real cold starts: FIB entries
and Adj-RIB-In paths equal to what the speakers hold, and UPDATEs never above what they
send (equal on ``mini`` and the ``clos`` preset, where no prefix is ever replaced). And,
read from the model's arrays, against the floor counted route by route over the
reference model (``model_reference.py``) on random fabrics."""

from __future__ import annotations

import pytest
from floor_cases import FLOOR_CASES, floor_topology
from hypothesis import given, settings
from model_reference import RouteValue, reference_model
from random_fabrics import fabrics_with_failures

from bagctl.runtimes import Region
from bagctl.topology.failures import Failures
from bagctl.topology.generate import generate
from bagctl.topology.model import Topology
from bagctl.verify import floor
from bagctl.verify.floor import NLRI_OCTETS_PER_UPDATE, ColdStartFloor, cold_start_floor
from bagctl.verify.model import build_model
from speakers.wire import Prefix


@FLOOR_CASES
async def test_the_floor_is_what_a_cold_start_holds_and_at_most_what_it_sends(
    name: str, exact: bool
) -> None:
    topo = floor_topology(name)
    floor = cold_start_floor(topo)
    region = Region(topo, transport="memory")
    try:
        report = await region.start(timeout=120)
        stats = await region.stats()
    finally:
        await region.aclose()
    assert floor.fib_entries == stats["fib_entries"]
    assert floor.paths == stats["rib_in_paths"]
    assert floor.updates <= report.updates_sent
    if exact:
        assert floor.updates == report.updates_sent
    assert floor.sessions_used <= 2 * sum(1 for _ in topo.sessions())


def origins_of(
    v: str, per_node: dict[str, RouteValue], asn: dict[str, int], memo: dict[str, frozenset[int]]
) -> frozenset[int]:
    """The ASes ``v``'s route leads down to (its own where it originates)."""
    if v not in memo:
        hops = per_node[v][1]
        below = [origins_of(h, per_node, asn, memo) for h in hops]
        memo[v] = frozenset().union(*below) if hops else frozenset({asn[v]})
    return memo[v]


def straightforward_floor(
    routes: dict[Prefix, dict[str, RouteValue]], topo: Topology
) -> ColdStartFloor:
    """The floor (module docstring of ``floor.py``) route by route, over the reference
    model: per prefix the origin ASes of each switch by a walk down its next hops."""
    asn = {n.name: n.asn for n in topo.nodes}
    octets: dict[tuple[str, str, frozenset[int], int], int] = {}  # one family per UPDATE
    paths = fib = 0
    for prefix, per_node in routes.items():
        origins: dict[str, frozenset[int]] = {}
        for v in per_node:
            origins_of(v, per_node, asn, origins)
        nlri = 1 + (prefix.length + 7) // 8
        for node, (_, hops, _, _) in per_node.items():
            if hops:
                fib += 1
                paths += len(hops)
                for hop in hops:
                    key = (hop, node, origins[hop], prefix.network.version)
                    octets[key] = octets.get(key, 0) + nlri
    updates = sum(-(-n // NLRI_OCTETS_PER_UPDATE) for n in octets.values())
    updates += 2 * 2 * sum(1 for _ in topo.sessions())  # End-of-RIB: 2 families, both ways
    return ColdStartFloor(updates, paths, fib, len({(h, v) for h, v, *_ in octets}))


@settings(max_examples=100, deadline=None)
@given(fabrics_with_failures())
def test_the_floor_from_the_model_arrays_is_the_floor_route_by_route(
    case: tuple[Topology, Failures],
) -> None:
    topo, failures = case
    got = cold_start_floor(topo, build_model(topo, failures))
    assert got == straightforward_floor(reference_model(topo, failures), topo)


def test_the_floor_summed_in_small_chunks_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    topo = generate("mini", summarize="pod")
    whole = cold_start_floor(topo)
    monkeypatch.setattr(floor._Octets, "CHUNK", 50)
    assert cold_start_floor(topo) == whole
