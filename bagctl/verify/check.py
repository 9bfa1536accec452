"""``verify()``: the switches' FIB weights against what the topology calls for.

Three forwarding plans carry the same traffic matrix (``traffic.py``) over the same
topology and failures (``loads.py``): the FIB (*actual*), the model's ideal split
(*ideal*, ``model.py``) and plain ECMP over the model's multipaths (*ECMP*). For each the
**demand scale** is the largest factor the whole matrix can be multiplied by before the
first bundle is full (``min over links of capacity / load``): fixed splits make every load
linear in the demand, so this one number says how much traffic the plan delivers. The
report gives actual and ECMP as fractions of ideal, so the user sees what UCMP buys.

Utilization is shown at the demand the ideal plan can carry, capped at the matrix itself
(``scale = min(1, ideal scale)``); a link over ``1 + tolerance`` there is *overloaded*:
the FIB sends more over it than the topology's capacities call for.

Weight error per switch and FIB entry: the largest difference between the FIB's share of
a next hop and the ideal share (0 = exact, 1 = all traffic on the wrong next hop). A FIB
entry for a prefix the model has no route to, or a modelled route missing from the FIB,
counts as error 1.

Verdict: ``ok`` unless a weight error exceeds the tolerance, a link is overloaded, actual
delivers less than ``1 - tolerance`` of ideal, or traffic meets a loop or a black hole.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from speakers.wire import Prefix

from ..topology.failures import Failures
from ..topology.model import Topology
from .bundles import Bundle, bundles_of, demand_of, push_bundles
from .fibview import FibSnapshot
from .model import RoutingModel, build_model
from .report import ForwardingFault, LinkLoad, VerifyReport, WeightError, scale_ratio
from .tables import Nodes, Table, fib_table, plan_tables, space_of
from .traffic import TrafficMatrix, gravity_matrix
from .weights import weight_errors

DEFAULT_TOLERANCE = 0.05


def verify(
    topo: Topology,
    fib: FibSnapshot,
    failures: Failures | None = None,
    *,
    matrix: TrafficMatrix | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    model: RoutingModel | None = None,
) -> VerifyReport:
    """Check ``fib`` against ``topo`` with ``failures`` (module docstring)."""
    if not 0 <= tolerance < 1:
        raise ValueError(f"tolerance must be at least 0 and below 1, got {tolerance}")
    started = time.perf_counter()
    failures = failures or Failures()
    model = model or build_model(topo, failures)
    matrix = matrix or gravity_matrix(topo)
    capacity = _capacities(topo, failures)

    bundles = bundles_of(matrix)
    space = space_of(model, fib, (p for b in bundles for p in b.members))
    nodes = Nodes(model.graph.names)
    fib_rows = fib_table(fib, space, nodes)
    ideal_rows, ecmp_rows = plan_tables(model, space, nodes)
    errors, checked, total_error = weight_errors(fib_rows, ideal_rows, nodes)
    actual, ideal, ecmp, faults = _push_all(
        model, nodes, bundles, matrix, (fib_rows, ideal_rows, ecmp_rows)
    )
    ideal_scale = _scale(ideal, capacity)
    actual_scale = _scale(actual, capacity)
    ecmp_scale = _scale(ecmp, capacity)
    scale = min(1.0, ideal_scale)
    links = sorted(
        (
            LinkLoad(
                a,
                b,
                load * scale,
                capacity.get((a, b), 0.0),
                ideal.get((a, b), 0.0) * scale,
                ecmp.get((a, b), 0.0) * scale,
            )
            for (a, b), load in actual.items()
        ),
        key=lambda link: (-link.utilization, link.a, link.b),
    )
    overloaded = tuple(link for link in links if link.utilization > 1 + tolerance)
    fault_list = tuple(
        ForwardingFault(kind, str(p), node, lost * scale, cycle)
        for kind, p, node, lost, cycle in faults
    )
    problems = _problems(
        errors, tolerance, overloaded, fault_list, scale_ratio(actual_scale, ideal_scale)
    )
    return VerifyReport(
        region=topo.name,
        tolerance=tolerance,
        matrix=matrix.source,
        demand_bps=matrix.total_bps,
        scale=scale,
        ideal_scale=ideal_scale,
        actual_scale=actual_scale,
        ecmp_scale=ecmp_scale,
        entries_checked=checked,
        weight_errors=tuple(errors),
        max_weight_error=errors[0].error if errors else 0.0,
        mean_weight_error=total_error / checked if checked else 0.0,
        links=tuple(links),
        overloaded=overloaded,
        faults=fault_list,
        failures=failures,
        seconds=time.perf_counter() - started,
        speakers=sum(1 for _ in topo.speakers()),
        problems=problems,
    )


def _problems(
    errors: list[WeightError],
    tolerance: float,
    overloaded: tuple[LinkLoad, ...],
    faults: tuple[ForwardingFault, ...],
    delivered: float,
) -> tuple[str, ...]:
    out = []
    over = [e for e in errors if e.error > tolerance]
    if over:
        worst = over[0]
        out.append(
            f"{len(over)} FIB entries off the ideal split by more than {tolerance:g}; worst "
            f"{worst.node} {worst.prefix}: {worst.error:.3f}"
        )
    if overloaded:
        link = overloaded[0]
        out.append(
            f"{len(overloaded)} links overloaded; worst {link.a} -> {link.b} at "
            f"{link.utilization:.0%} of capacity"
        )
    if delivered < 1 - tolerance:
        out.append(f"the FIB delivers {delivered:.1%} of what the ideal split delivers")
    for kind in ("loop", "black-hole"):
        found = [f for f in faults if f.kind == kind]
        if found:
            f = found[0]
            where = " -> ".join(f.cycle) if f.cycle else f.node
            n = len({x.prefix for x in found})
            noun = "prefix meets" if n == 1 else "prefixes meet"
            out.append(f"{n} {noun} a {kind}; first {f.prefix} at {where}")
    return tuple(out)


def _capacities(topo: Topology, failures: Failures) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for b in topo.bundles:
        cap = failures.capacity_bps(b)
        out[(b.a, b.b)] = cap
        out[(b.b, b.a)] = cap
    return out


def _scale(
    loads: Mapping[tuple[str, str], float], capacity: Mapping[tuple[str, str], float]
) -> float:
    scale = math.inf
    for link, load in loads.items():
        if load > 0:
            scale = min(scale, capacity.get(link, 0.0) / load)
    return scale


_Fault = tuple[str, Prefix, str, float, tuple[str, ...]]


def _push_all(
    model: RoutingModel,
    nodes: Nodes,
    bundles: list[Bundle],
    matrix: TrafficMatrix,
    tables: tuple[Table, Table, Table],
) -> tuple[
    dict[tuple[str, str], float],
    dict[tuple[str, str], float],
    dict[tuple[str, str], float],
    list[_Fault],
]:
    """The matrix through the FIB, the ideal plan and the ECMP plan (``bundles.py``)."""
    demand = demand_of(tables[0].space, nodes, model.owners, bundles, matrix.weights)
    actual, ideal, ecmp = (push_bundles(t, demand) for t in tables)
    faults: list[_Fault] = [
        ("black-hole", p, v, lost, ()) for (p, v), lost in sorted(actual.black_holes.items())
    ]
    for p, (lost, cycle) in sorted(actual.loops.items()):
        faults.append(("loop", p, cycle[0] if cycle else "?", lost, cycle))
    return actual.loads, ideal.loads, ecmp.loads, faults
