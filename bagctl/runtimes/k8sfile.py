"""A region as Kubernetes manifests: the swarm runtime's layout on the second engine,
generated and schema-checked (``bagctl k8s generate``), not run here.

Pure: a ``Topology`` and ``K8sOptions`` in, manifests (name -> list of objects) out.

- **Shards**: a StatefulSet ``shard`` of one pod per shard (``podManagementPolicy:
  Parallel``: the pods find each other by DNS, so none waits for another), each running
  the agent with ``--shard hostname`` (the pod's ordinal, ``shard-3``) and
  ``--peer-dns shard-{}.shard`` (the headless Service ``shard`` names every pod, ready or
  not: ``publishNotReadyAddresses``). ``NET_ADMIN`` for the speakers' addresses, the
  routes between pods and link faults (runtimes/agentnet.py), as in a Swarm task; a
  memory request per pod from the plan (runtimes/swarmplan.py), the largest shard's.
- **Broker**: a Deployment of mosquitto (password from the Secret, no anonymous
  clients) and a ClusterIP Service ``mosquitto``; ``kubectl port-forward svc/mosquitto``
  gives bagctl its bus.
- **Files**: the topology in a ConfigMap (a ConfigMap holds at most 1 MiB: the largest
  presets need a volume instead), the broker's password in a Secret.
- **NetworkPolicy**: only this region's pods reach the broker (1883) and the shards'
  BGP port.
- **Labels**: ``bagemu.region`` and ``bagemu.role`` on every object and pod;
  ``kubectl delete all,configmap,secret,networkpolicy -l bagemu.region=NAME`` removes
  the region and nothing else.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

import yaml

from ..topology.configs import DEFAULT_PORT
from ..topology.dump import dump_topology
from ..topology.model import Topology
from .composefile import (
    AGENT_CAPABILITIES,
    BROKER_PORT,
    BROKER_SERVICE,
    DEFAULT_IMAGE,
    LABEL_REGION,
    LABEL_ROLE,
    TOPOLOGY_IN_CONTAINER,
    unprivileged,
)
from .partition import partition
from .stackfile import BROKER_USER, DEFAULT_SPEAKER_SUBNET, PASSWORD_SECRET, broker_command

SHARDS = "shard"  # the StatefulSet and its headless Service
CONFIGMAP_LIMIT = 1 << 20


@dataclass(frozen=True, slots=True)
class K8sOptions:
    password: str
    shards: int = 2
    speaker_subnet: ipaddress.IPv4Network = DEFAULT_SPEAKER_SUBNET
    port: int = DEFAULT_PORT
    image: str = DEFAULT_IMAGE
    memory_mb: int | None = None  # each shard pod's request (the plan's largest shard)


def object_prefix(region: str) -> str:
    """``bagemu-<region>``, made a DNS-1123 label (lower case, digits, ``-``)."""
    return "bagemu-" + re.sub(r"[^a-z0-9-]", "-", region.lower()).strip("-")


def _meta(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "labels": labels}


def manifests(topo: Topology, options: K8sOptions) -> dict[str, list[dict[str, Any]]]:
    """File name -> the objects it holds (module docstring)."""
    groups = [g for g in partition(topo, options.shards) if g]
    if len(groups) < options.shards:
        raise ValueError(f"{options.shards} shards for region {topo.name}'s speakers")
    prefix = object_prefix(topo.name)
    base = {LABEL_REGION: topo.name}
    broker = base | {LABEL_ROLE: "broker"}
    shard = base | {LABEL_ROLE: "shard"}
    topology_text = dump_topology(topo)
    if len(topology_text.encode()) > CONFIGMAP_LIMIT:
        raise ValueError(
            f"region {topo.name}'s topology is {len(topology_text.encode()):,} bytes: over a "
            "ConfigMap's 1 MiB"
        )
    files = {
        "00-config.yaml": [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": _meta(f"{prefix}-topology", base),
                "data": {"topology.yaml": topology_text},
            },
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": _meta(f"{prefix}-broker", base),
                "type": "Opaque",
                "stringData": {"password": options.password},
            },
        ],
        "10-broker.yaml": _broker(prefix, broker, options.image),
        "20-shards.yaml": _shards(topo, options, prefix, shard, len(groups)),
        "30-network-policy.yaml": _policies(prefix, base, broker, shard, options.port),
    }
    return files


def _secret_volume(prefix: str) -> dict[str, Any]:
    items = [{"key": "password", "path": PASSWORD_SECRET}]
    return {"name": "password", "secret": {"secretName": f"{prefix}-broker", "items": items}}


def _broker(prefix: str, labels: dict[str, str], image: str) -> list[dict[str, Any]]:
    container = {
        "name": "mosquitto",
        "image": image,
        "command": broker_command(),
        "ports": [{"containerPort": BROKER_PORT, "name": "mqtt"}],
        "volumeMounts": [{"name": "password", "mountPath": "/run/secrets", "readOnly": True}],
    }
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta(f"{prefix}-mosquitto", labels),
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [container], "volumes": [_secret_volume(prefix)]},
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(BROKER_SERVICE, labels),
            "spec": {
                "selector": labels,
                "ports": [{"name": "mqtt", "port": BROKER_PORT, "targetPort": BROKER_PORT}],
            },
        },
    ]


def _shards(
    topo: Topology, options: K8sOptions, prefix: str, labels: dict[str, str], count: int
) -> list[dict[str, Any]]:
    args = {
        "--topology": TOPOLOGY_IN_CONTAINER,
        "--shard": "hostname",
        "--shards": str(count),
        "--peer-dns": f"{SHARDS}-{{}}.{SHARDS}",
        "--subnet": str(options.speaker_subnet),
        "--port": str(options.port),
        "--broker": f"mqtt://{BROKER_USER}@{BROKER_SERVICE}:{BROKER_PORT}",
    }
    container: dict[str, Any] = {
        "name": "agent",
        "image": options.image,
        "command": unprivileged(args),  # as the agents' user, NET_ADMIN alone (composefile)
        "ports": [{"containerPort": options.port, "name": "bgp"}],
        "securityContext": {
            "capabilities": {"drop": ["ALL"], "add": list(AGENT_CAPABILITIES)},
        },
        "volumeMounts": [
            {"name": "topology", "mountPath": "/etc/bagemu", "readOnly": True},
            {"name": "password", "mountPath": "/run/secrets", "readOnly": True},
        ],
    }
    if options.memory_mb is not None:
        container["resources"] = {"requests": {"memory": f"{options.memory_mb}Mi"}}
    volumes = [
        {"name": "topology", "configMap": {"name": f"{prefix}-topology"}},
        _secret_volume(prefix),
    ]
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(SHARDS, labels),
            "spec": {
                "clusterIP": "None",
                "publishNotReadyAddresses": True,
                "selector": labels,
                "ports": [{"name": "bgp", "port": options.port}],
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": _meta(SHARDS, labels),
            "spec": {
                "serviceName": SHARDS,
                "replicas": count,
                "podManagementPolicy": "Parallel",
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [container], "volumes": volumes},
                },
            },
        },
    ]


def _policies(
    prefix: str,
    region: dict[str, str],
    broker: dict[str, str],
    shard: dict[str, str],
    port: int,
) -> list[dict[str, Any]]:
    def only_region(name: str, target: dict[str, str], ports: list[int]) -> dict[str, Any]:
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta(name, region),
            "spec": {
                "podSelector": {"matchLabels": target},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [{"podSelector": {"matchLabels": region}}],
                        "ports": [{"protocol": "TCP", "port": p} for p in ports],
                    }
                ],
            },
        }

    return [
        only_region(f"{prefix}-bus", broker, [BROKER_PORT]),
        only_region(f"{prefix}-bgp", shard, [port]),
    ]


def render(objects: list[dict[str, Any]]) -> str:
    """One manifest file's objects as YAML documents."""
    return yaml.safe_dump_all(objects, sort_keys=False, width=1000)


__all__ = ["K8sOptions", "manifests", "object_prefix", "render"]
