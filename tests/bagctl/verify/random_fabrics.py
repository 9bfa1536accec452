"""Random small fabrics and failures for the verifier's property tests.

Leaves (tier 1) in pods under FTSWs (tier 2), spines (tier 3) over every pod, BAGs (tier
4) over the spines; random uplinks (so some leaves are twins and some are not), members,
ASes of their own or shared per group (a pod's leaves, a pod's FTSWs, the spines, the
BAGs) or, in a pod, some of each; host capacity or none, a prefix originated by two
leaves now and then, pod aggregates on the FTSWs and a region aggregate on the spines
(plain or complete-only), ``max_paths`` small enough to cut, and a non-BGP switch (an
FDSW) for capacity only. Failures: bundles down, bundles with members down, switches
drained either way.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from bagctl.topology.failures import Failures
from bagctl.topology.model import Bundle, Defaults, Node, Role, Topology
from speakers.wire import Prefix

G = 100e9
DRAINS = ("link-bandwidth-zero", "as-path-prepend")


@st.composite
def fabrics(draw: st.DrawFn) -> Topology:
    pods = draw(st.integers(1, 3))
    ftsws = draw(st.integers(1, 3))
    spines = draw(st.integers(1, 3))
    bags = draw(st.integers(0, 2))
    v6 = draw(st.booleans())
    asns = iter(range(65001, 66000))
    # Per group of switches: an AS each, one AS for the group, or (leaves) a mix of both.
    shared = {k: draw(st.sampled_from(["own", "group", "mixed"])) for k in ("leaf", "ftsw")}
    shared |= {k: draw(st.sampled_from(["own", "group"])) for k in ("spine", "bag")}

    def asn_for(kind: str, group: int) -> int:
        mode = shared[kind]
        if mode == "group" or (mode == "mixed" and draw(st.booleans())):
            return 64000 + {"leaf": 0, "ftsw": 100, "spine": 200, "bag": 300}[kind] + group
        return next(asns)

    def members() -> int:
        return draw(st.integers(1, 4))

    def uplink(usual: int) -> int:
        return usual if draw(st.integers(0, 3)) else members()

    nodes: list[Node] = []
    bundles: list[Bundle] = []
    leaves: list[Node] = []
    pod_aggregates = draw(st.booleans())
    for p in range(pods):
        tops = [f"p{p}-f{f}" for f in range(ftsws)]
        aggs = (Prefix.parse(f"10.0.{4 * p}.0/22"),) if pod_aggregates else ()
        if pod_aggregates and v6:
            aggs += (Prefix.parse(f"2001:db8:0:{4 * p:x}::/62"),)
        for name in tops:
            ftsw = Node(name, Role.FTSW, asn_for("ftsw", p), "r1", fabric=f"pod{p}")
            nodes.append(replace(ftsw, aggregates=aggs))
        pod_host = draw(st.sampled_from([0.0, 1e12, 4e12]))
        pod_members = members()  # a pod's uplinks alike (twins), now and then one not
        for k in range(draw(st.integers(1, 4))):
            prefixes = (Prefix.parse(f"10.0.{4 * p + k}.0/24"),)
            if v6:
                prefixes += (Prefix.parse(f"2001:db8:0:{4 * p + k:x}::/64"),)
            host = draw(st.sampled_from([pod_host, pod_host, pod_host, 0.0, 1e12, 4e12]))
            leaf = Node(
                f"p{p}-l{k}", Role.RTSW, asn_for("leaf", p), "r1", fabric=f"pod{p}",
                host_capacity_bps=host, prefixes=prefixes,
            )  # fmt: skip
            leaves.append(leaf)
            nodes.append(leaf)
            chosen = tops
            if draw(st.integers(0, 3)) == 0:  # not every FTSW: a twin of few or none
                chosen = draw(st.lists(st.sampled_from(tops), min_size=1, unique=True))
            bundles += [Bundle(leaf.name, t, uplink(pod_members), G) for t in chosen]
    if draw(st.booleans()) and len(leaves) > 1:  # a prefix two leaves originate
        pick = st.sampled_from(range(len(leaves)))
        a, b = draw(st.lists(pick, min_size=2, max_size=2, unique=True))
        i = nodes.index(leaves[b])
        nodes[i] = replace(leaves[b], prefixes=(*leaves[b].prefixes, leaves[a].prefixes[0]))
    # The spines' aggregate: exactly the pods' space when their count is a power of 2
    # (complete while every leaf is reached), a gap in it otherwise.
    bits = (4 * pods - 1).bit_length()
    region: tuple[Prefix, ...] = ()
    if draw(st.booleans()):
        region = (Prefix.parse(f"10.0.0.0/{24 - bits}"),)
        if v6:
            region += (Prefix.parse(f"2001:db8::/{64 - bits}"),)
    tops = [n.name for n in nodes if n.role is Role.FTSW]
    for s in range(spines):
        name = f"s{s}"
        spine = Node(name, Role.STSW, asn_for("spine", 0), "r1", fabric="spine")
        nodes.append(replace(spine, aggregates=region))
        chosen = draw(st.lists(st.sampled_from(tops), min_size=1, unique=True))
        bundles += [Bundle(t, name, members(), G) for t in chosen]
    for b in range(bags):
        name = f"b{b}"
        nodes.append(Node(name, Role.BAG, asn_for("bag", 0), "r1"))
        bundles += [Bundle(f"s{s}", name, members(), G) for s in range(spines)]
    nodes.append(Node("fdsw", Role.FDSW, next(asns), "r1", fabric="pod0"))
    bundles.append(Bundle("p0-l0", "fdsw", 2, G))
    defaults = Defaults(
        max_paths=draw(st.integers(1, 4)), aggregate_complete_only=draw(st.booleans())
    )
    return Topology("random", tuple(nodes), tuple(bundles), defaults=defaults)


@st.composite
def failures_of(draw: st.DrawFn, topo: Topology) -> Failures:
    f = Failures()
    for b in draw(st.lists(st.sampled_from(topo.bundles), max_size=3, unique=True)):
        f = f.bundle_down(b)
    for b in draw(st.lists(st.sampled_from(topo.bundles), max_size=3, unique=True)):
        if b.members > 1 and b.key not in f.down:
            f = f.with_members(b, draw(st.integers(1, b.members - 1)))
    speakers = [n.name for n in topo.speakers()]
    for name in draw(st.lists(st.sampled_from(speakers), max_size=2, unique=True)):
        f = f.drain(name, draw(st.sampled_from(DRAINS)))
    return f


@st.composite
def fabrics_with_failures(draw: st.DrawFn) -> tuple[Topology, Failures]:
    topo = draw(fabrics())
    return topo, draw(failures_of(topo))
