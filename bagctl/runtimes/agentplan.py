"""What one agent (runtimes/agent.py) runs, worked out from the topology file alone,
exactly as the region works it out: the speakers' configurations at their container
addresses, the shards (one speaker each for compose, the partitioner's groups for
swarm), and this agent's shard spec with its seed; and, for a swarm shard, its
addressing on the overlay (agentnet.py).
"""

from __future__ import annotations

import argparse
import logging
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from ..topology.addresses import container_addresses
from ..topology.configs import speaker_configs
from ..topology.model import Topology
from . import agentnet
from .partition import partition
from .records import ShardSpec, shard_specs
from .stackfile import shard_service

log = logging.getLogger("bagctl.agent")


class AgentError(Exception):
    """Bad arguments: the message names the option and value at fault."""


@dataclass(frozen=True, slots=True)
class AgentShardPlan:
    """What this agent runs, worked out from the topology as the region works it out:
    its name, its shard's spec, every speaker's address, and every shard's speakers."""

    name: str
    spec: ShardSpec
    addresses: Mapping[str, IPv4Address]
    groups: Sequence[Sequence[str]]
    peer_dns: str = "shard{}"  # the DNS name of shard j's task, formatted with j


def shard_index(text: str) -> int:
    """``--shard``: a number, or ``hostname``: the ordinal a Kubernetes StatefulSet ends
    its pods' host names with (``shard-3``)."""
    if text == "hostname":
        host = socket.gethostname()
        ordinal = host.rsplit("-", 1)[-1]
        if not ordinal.isdigit():
            raise AgentError(f"--shard hostname: host name {host!r} does not end in -N")
        return int(ordinal)
    try:
        return int(text)
    except ValueError:
        raise AgentError(f"--shard {text!r}: a shard number, or hostname") from None


def plan_shard(args: argparse.Namespace, topo: Topology) -> AgentShardPlan:
    """One speaker (``--node``) or one shard of ``--shards`` (``--shard``): the same
    configurations, partition and seeds as ``Region`` (runtimes/region.py) computes for
    the compose and swarm placements. AgentError naming the argument at fault."""
    try:
        subnet = IPv4Network(args.subnet)
    except ValueError as exc:
        raise AgentError(f"--subnet {args.subnet!r}: {exc}") from None
    addresses = container_addresses(topo, subnet)
    configs = speaker_configs(
        topo, port=args.port, addresses=addresses, delays=args.clock == "region"
    )
    if args.shard is None:
        if args.node not in configs:
            kind = "is not a BGP speaker" if args.node in addresses else "is not a node"
            raise AgentError(f"--node {args.node!r} {kind} of region {topo.name} ({args.topology})")
        groups = [[name] for name in configs]
        index, name = list(configs).index(args.node), args.node
    else:
        groups = [g for g in partition(topo, args.shards) if g]
        shard = shard_index(str(args.shard))
        if not 0 <= shard < len(groups):
            raise AgentError(
                f"--shard {shard}: region {topo.name} has shards 0 to {len(groups) - 1} "
                f"(--shards {args.shards})"
            )
        index, name = shard, shard_service(shard)
    spec = shard_specs(configs, groups, args.transport, args.seed, args.clock)[index]
    return AgentShardPlan(name, spec, addresses, groups, args.peer_dns)


async def address_shard(plan: AgentShardPlan) -> None:
    """A swarm shard's addressing (agentnet module docstring): its speakers' addresses on
    ``lo``, and a route to every other shard's speakers via that shard's task."""
    index = plan.spec.index
    others = [j for j in range(len(plan.groups)) if j != index]
    names = {j: plan.peer_dns.format(j) for j in others}
    tasks = await agentnet.resolve_tasks(list(names.values()))
    remote = {plan.addresses[node]: tasks[names[j]] for j in others for node in plan.groups[j]}
    own = [plan.addresses[node] for node in plan.groups[index]]
    await agentnet.ip_batch(agentnet.shard_routes(own, remote))
    log.info(
        "%s: %d addresses on lo, %d routes to %d shards",
        plan.name,
        len(own),
        len(remote),
        len(others),
    )


__all__ = ["AgentError", "AgentShardPlan", "address_shard", "plan_shard"]
