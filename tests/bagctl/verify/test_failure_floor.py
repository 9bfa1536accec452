"""The floor of a change of failures (bagctl/verify/floor.py, ``failure_floor``): against
real bundle failures, never above the UPDATEs they send (equal on ``mini`` and ``clos``),
equal to the sessions they send them on, its routes changing equal to their FIB changes;
and, read from the model's arrays, against the same floor counted session by session over
the reference model (``model_reference.py``) on random fabrics."""

from __future__ import annotations

from floor_cases import FLOOR_CASES, floor_topology
from hypothesis import given, settings
from hypothesis import strategies as st
from model_reference import PREPEND, RouteValue, reference_model
from random_fabrics import fabrics_with_failures

from bagctl.runtimes import Region
from bagctl.topology.addresses import loopbacks
from bagctl.topology.failures import Failures
from bagctl.topology.model import Role, Topology
from bagctl.verify.floor import FailureFloor, failure_floor
from bagctl.verify.routes import Route
from speakers.wire import Prefix

Routes = dict[Prefix, dict[str, RouteValue]]


def rtsw_ftsw(topo: Topology) -> tuple[str, str]:
    bundle = next(
        b
        for b in topo.bundles
        if {topo.node(b.a).role, topo.node(b.b).role} == {Role.RTSW, Role.FTSW}
    )
    return bundle.a, bundle.b


@FLOOR_CASES
async def test_a_bundle_failure_sends_at_least_the_floor_on_exactly_its_sessions(
    name: str, exact: bool
) -> None:
    topo = floor_topology(name)
    a, b = rtsw_ftsw(topo)
    floor = failure_floor(topo, Failures(), Failures().bundle_down(topo.bundle(a, b)))
    region = Region(topo, transport="memory")
    try:
        await region.start(timeout=120)
        before = await sessions_sent(region)
        report = await region.bundle_down(a, b, timeout=120)
        after = await sessions_sent(region)
    finally:
        await region.aclose()
    used = {s for s, count in after.items() if count > before.get(s, 0)}
    assert 0 < floor.updates <= report.updates_sent
    assert floor.sessions_used == len(used)
    if exact:  # no prefix changes twice on a session
        assert floor.updates == report.updates_sent
    # Each switch's agent reads a burst before its FIB hears of it (Routes.release): every
    # FIB entry the model says changes changes once, and no other.
    assert report.fib_changes == floor.routes_changed


async def sessions_sent(region: Region) -> dict[tuple[str, str], int]:
    """UPDATEs sent so far per directed session (sender, receiver) that is up."""
    sent: dict[tuple[str, str], int] = {}
    for node in region.topo.speakers():
        rows = (await region.show("sessions", node.name))["sessions"]
        assert isinstance(rows, list)
        for row in rows:
            if row["state"] == "Established":
                sent[(node.name, row["neighbor"])] = row["updates_out"]
    return sent


def advertised(
    per_node: dict[str, RouteValue],
    topo: Topology,
    failures: Failures,
    aggregate: bool,
    memo: dict[str, tuple[object, ...]],
) -> dict[str, tuple[object, ...]]:
    """Per switch with a route, what its advertisement carries besides link bandwidth:
    its AS as often as it is prepended, then its best next hop's (lowest loopback), down
    to the origin (and, for an aggregate, the origin itself: AGGREGATOR)."""
    rank = {name: int(address) for name, address in loopbacks(topo).items()}
    asn = {n.name: n.asn for n in topo.nodes}

    def of(v: str) -> tuple[object, ...]:
        if v not in memo:
            copies = 1 + (PREPEND if failures.drained.get(v) == "as-path-prepend" else 0)
            hops = per_node[v][1]
            if hops:
                memo[v] = (asn[v],) * copies + of(min(hops, key=rank.__getitem__))
            else:
                memo[v] = (asn[v],) * copies + ((v,) if aggregate else ())
        return memo[v]

    return {v: of(v) for v in per_node}


def straightforward_failure_floor(
    topo: Topology, before: Failures, after: Failures, aggregates: set[Prefix]
) -> FailureFloor:
    """The floor (``failure_floor``'s docstring), session by session over the reference
    model: what each switch sends each neighbor per prefix, before and after."""
    old, new = reference_model(topo, before), reference_model(topo, after)
    up = {
        pair for b in topo.bundles if after.capacity_bps(b) > 0 for pair in ((b.a, b.b), (b.b, b.a))
    }
    # (sender, receiver, IP version, branch, what else is advertised): one family per
    # UPDATE (RFC 7606 §5.1)
    announced: set[tuple[str, str, int, float, tuple[object, ...]]] = set()
    withdrawn: set[tuple[str, str, int]] = set()  # (sender, receiver, IP version)
    routes_changed = 0
    for prefix in old.keys() | new.keys():
        sent = []
        for failures, routes in ((before, old), (after, new)):
            per_node = routes.get(prefix, {})
            what = advertised(per_node, topo, failures, prefix in aggregates, {})
            sent.append(
                {
                    (hop, v): (branch, what[hop])
                    for v, (_, hops, branches, _) in per_node.items()
                    for hop, branch in zip(hops, branches, strict=True)
                }
            )
        for session in sent[0].keys() | sent[1].keys():
            now = sent[1].get(session)
            if now is not None and now != sent[0].get(session):
                announced.add((*session, prefix.network.version, *now))
            elif now is None and session in up:
                withdrawn.add((*session, prefix.network.version))
        fibs = [
            {
                v: (hops, Route(length, hops, branch, f).split())
                for v, (length, hops, branch, f) in routes.get(prefix, {}).items()
                if hops
            }
            for routes in (old, new)
        ]
        routes_changed += sum(
            1 for v in fibs[0].keys() | fibs[1].keys() if fibs[0].get(v) != fibs[1].get(v)
        )
    sessions = {(u, v) for u, v, *_ in announced} | {(u, v) for u, v, _ in withdrawn}
    return FailureFloor(len(announced) + len(withdrawn), len(sessions), routes_changed)


@settings(max_examples=100, deadline=None)
@given(fabrics_with_failures(), st.data())
def test_the_failure_floor_from_the_model_arrays_is_the_floor_session_by_session(
    case: tuple[Topology, Failures], data: st.DataObject
) -> None:
    topo, before = case
    bundle = data.draw(st.sampled_from(topo.bundles))
    after = before.bundle_down(bundle)
    aggregates = {a for n in topo.nodes for a in n.aggregates}
    got = failure_floor(topo, before, after)
    assert got == straightforward_failure_floor(topo, before, after, aggregates)
    assert failure_floor(topo, before, before) == FailureFloor(0, 0, 0)
