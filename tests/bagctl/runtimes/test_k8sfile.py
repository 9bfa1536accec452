"""``bagctl k8s generate``: every manifest passes the Kubernetes OpenAPI schema
(kubernetes-validate, strict: no field the schema does not know), every object carries
the region's label, and the pods' agent command is one the agent accepts, each pod
running the shard its ordinal names and finding the others by the headless Service."""

from __future__ import annotations

import json
import shlex
import socket
import stat
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from bagctl.runtimes.agent import parser
from bagctl.runtimes.agentplan import plan_shard
from bagctl.runtimes.k8sfile import K8sOptions, manifests, object_prefix
from bagctl.topology import load_topology

from .test_compose import ROOT, run_bagctl

MINI = ROOT / "topologies" / "mini.yaml"
K8S_VERSION = "1.30"


def generated(tmp_path: Path) -> dict[str, list[dict[str, object]]]:
    out = tmp_path / "k8s"
    proc = run_bagctl("k8s", "generate", str(MINI), "-o", str(out), "--shards", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["files"] == sorted(p.name for p in out.iterdir())
    assert stat.S_IMODE((out / "00-config.yaml").stat().st_mode) == 0o600  # the password
    return {p.name: list(yaml.safe_load_all(p.read_text())) for p in sorted(out.iterdir())}


def test_every_manifest_passes_the_kubernetes_schema(tmp_path: Path) -> None:
    files = generated(tmp_path)
    kinds = sorted(str(obj["kind"]) for objects in files.values() for obj in objects)
    assert kinds == sorted(
        ["ConfigMap", "Secret", "Deployment", "Service", "Service", "StatefulSet"]
        + ["NetworkPolicy"] * 2
    )
    for name, objects in files.items():
        for obj in objects:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)  # raises if not
            labels = obj["metadata"]["labels"]  # type: ignore[index]
            assert labels["bagemu.region"] == "mini", (name, obj["kind"])


def test_the_schema_check_can_fail() -> None:
    """The validator is not a formality: a misspelt field fails it."""
    (stateful,) = [
        o
        for o in manifests(load_topology(MINI), K8sOptions("pw"))["20-shards.yaml"]
        if o["kind"] == "StatefulSet"
    ]
    stateful["spec"]["replica"] = stateful["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(stateful, K8S_VERSION, strict=True)


def test_each_pod_runs_the_shard_of_its_ordinal(monkeypatch: pytest.MonkeyPatch) -> None:
    topo = load_topology(MINI)
    files = manifests(topo, K8sOptions("pw", shards=3))
    (stateful,) = [o for o in files["20-shards.yaml"] if o["kind"] == "StatefulSet"]
    (container,) = stateful["spec"]["template"]["spec"]["containers"]
    sh, flag, script = container["command"]  # the unprivileged launcher (composefile.py)
    assert (sh, flag) == ("sh", "-c") and "setpriv --reuid=10001" in script
    command = shlex.split(script.split("&& exec ", 1)[1])
    agent = command.index("python")
    assert command[agent : agent + 3] == ["python", "-m", "bagctl.runtimes.agent"]
    args = parser().parse_args(command[agent + 3 :])
    assert args.broker_password_fd == 3
    caps = container["securityContext"]["capabilities"]
    assert caps == {"drop": ["ALL"], "add": ["NET_ADMIN", "SETUID", "SETGID", "SETPCAP"]}
    monkeypatch.setattr(socket, "gethostname", lambda: "shard-2")
    plan = plan_shard(args, topo)
    assert plan.name == "shard2" and plan.spec.index == 2
    assert plan.peer_dns.format(0) == "shard-0.shard"
    assert object_prefix("R1_Big") == "bagemu-r1-big"
