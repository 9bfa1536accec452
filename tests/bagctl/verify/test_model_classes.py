"""The model computed once per class of equivalent prefixes (``bagctl/verify/classes.py``:
shared path vectors, twin leaves mirrored, routes as numbers into one table) against the
straightforward computation, every prefix on its own (``model_reference.py``), on random
fabrics with failures and on the presets."""

from __future__ import annotations

import random

from hypothesis import given, settings
from model_reference import RouteValue, reference_model
from random_fabrics import DRAINS, fabrics_with_failures

from bagctl.topology.failures import Failures
from bagctl.topology.generate import generate
from bagctl.topology.model import Role, Topology
from bagctl.verify.model import RoutingModel, build_model
from speakers.wire import Prefix


def routes_of(model: RoutingModel) -> dict[Prefix, dict[str, RouteValue]]:
    return {
        p: {v: (r.length, r.next_hops, r.branch, r.capacity) for v, r in routes.items()}
        for p, routes in model.routes.items()
    }


@settings(max_examples=200, deadline=None)
@given(fabrics_with_failures())
def test_the_model_by_classes_is_the_model_prefix_by_prefix(
    case: tuple[Topology, Failures],
) -> None:
    topo, failures = case
    model = build_model(topo, failures)
    assert routes_of(model) == reference_model(topo, failures)
    for p, routes in model.routes.items():  # one lookup agrees with the whole table
        for node, route in routes.items():
            assert model.route(node, p) is route


def some_failures(topo: Topology, seed: int) -> Failures:
    rng = random.Random(seed)
    f = Failures()
    for b in rng.sample(topo.bundles, 4):
        f = f.bundle_down(b)
    for b in rng.sample([b for b in topo.bundles if b.members > 1], 4):
        f = f.with_members(b, b.members // 2)
    for name, how in zip(rng.sample([n.name for n in topo.speakers()], 2), DRAINS, strict=True):
        f = f.drain(name, how)
    return f


def test_presets_by_classes_are_the_model_prefix_by_prefix() -> None:
    """Summarized in pods with complete-only aggregates, and plain aggregates: with and
    without failures (a leaf uplink among them: the pod aggregate withdrawn)."""
    for topo in (
        generate("mini"),
        generate("mini", summarize="pod"),
        generate("mini", summarize="pod", aggregate_when="any"),
    ):
        leaf = next(b for b in topo.bundles if "rtsw" in b.a + b.b)
        for failures in (Failures(), some_failures(topo, 1), Failures().bundle_down(leaf)):
            assert routes_of(build_model(topo, failures)) == reference_model(topo, failures)


def test_twin_leaves_share_one_path_vector() -> None:
    """A pod's leaves (same FTSWs, same capacities) are solved once: their prefixes'
    routes are one weighed DAG seen through a swap; a leaf whose uplink failed is not a
    twin any more and gets its own."""
    topo = generate("mini")
    pod = sorted(
        (n for n in topo.nodes if n.role is Role.RTSW and n.name.startswith("r1-nsf1-rtsw1-")),
        key=lambda n: n.name,
    )
    model = build_model(topo)
    first, *others = (model.prefixes[n.prefixes[0]] for n in pod)
    assert others and all(o.weighed is first.weighed and o.swap for o in others)
    uplink = next(b for b in topo.bundles if pod[-1].name in (b.a, b.b))
    broken = build_model(topo, Failures().bundle_down(uplink))
    assert (
        broken.prefixes[pod[-1].prefixes[0]].weighed
        is not broken.prefixes[pod[0].prefixes[0]].weighed
    )
