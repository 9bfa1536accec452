"""The flow-level check: real packets hashed hop by hop over the FIBs' WCMP groups.

``FibSnapshot`` says which weights each switch holds; this check asks what those weights
do to traffic. A switch does not split bytes by weight: it hashes each packet's 5-tuple
and picks one member of the group's member table, so a flow sticks to one path and the
split is only statistically the weighted one. ``make_flows`` builds N random flows (TCP
and UDP, IPv4 and IPv6, as scapy packets), ``walk_flows`` routes each one hop by hop as a
switch would (delivery, longest-prefix match, hash, member), and ``check_groups`` compares
every group's per-member flow counts with its weights (chi-square), so a group whose
hashed split does not follow its weights (polarization, a wrong member table, claimed
weights the switch does not apply) is named.

One module per step, and this one naming them all (``check_flows`` runs the three):

- ``hashing.py``: the 5-tuple, the hash and why it has a finalizer, the member table;
- ``flowgen.py``: the flows, as scapy packets, and the pcap;
- ``flowwalk.py``: the hop-by-hop walk, what it found (black holes, loops, counts);
- ``chisquare.py``: the chi-square test per group, Bonferroni.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from speakers.wire import Prefix

from .chisquare import DEFAULT_ALPHA, MIN_EXPECTED, FlowReport, GroupTest, check_groups
from .fibview import FibSnapshot
from .flowgen import (
    LINKTYPE_RAW,
    Demand,
    Flow,
    flows_for_pairs,
    make_flows,
    owners_of,
    random_address,
    write_pcap,
)
from .flowwalk import (
    BlackHole,
    FlowResult,
    GroupCount,
    Hop,
    Loop,
    Trace,
    trace_flow,
    walk_flows,
)
from .hashing import (
    TCP_PROTO,
    UDP_PROTO,
    FiveTuple,
    HashFn,
    SeedFn,
    five_tuple,
    flow_hash,
    fmix32,
    member_table,
    select_member,
    switch_seed,
)

DEFAULT_FLOWS = 10_000  # scapy builds ~10,000 packets/s: N is what a check can afford


def check_flows(
    fib: FibSnapshot,
    owners: Mapping[str, Iterable[Prefix]],
    sources: Iterable[Demand | tuple[Any, ...]],
    *,
    n: int = DEFAULT_FLOWS,
    seed: int = 0,
    alpha: float = DEFAULT_ALPHA,
    bonferroni: bool = False,
) -> FlowReport:
    """``make_flows`` -> ``walk_flows`` -> ``check_groups`` in one call."""
    flows = make_flows(n, sources, seed, owners=owners)
    return check_groups(walk_flows(fib, owners, flows), alpha=alpha, bonferroni=bonferroni)


__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_FLOWS",
    "LINKTYPE_RAW",
    "MIN_EXPECTED",
    "TCP_PROTO",
    "UDP_PROTO",
    "BlackHole",
    "Demand",
    "FiveTuple",
    "Flow",
    "FlowReport",
    "FlowResult",
    "GroupCount",
    "GroupTest",
    "HashFn",
    "Hop",
    "Loop",
    "SeedFn",
    "Trace",
    "check_flows",
    "check_groups",
    "five_tuple",
    "flow_hash",
    "flows_for_pairs",
    "fmix32",
    "make_flows",
    "member_table",
    "owners_of",
    "random_address",
    "select_member",
    "switch_seed",
    "trace_flow",
    "walk_flows",
    "write_pcap",
]
