"""``bagctl k8s generate TOPOLOGY -o DIR``: a region as Kubernetes manifests, the swarm
runtime's layout (a pod per shard of speakers, the broker, a headless Service for the
pods to find each other), written for ``kubectl apply -f DIR`` and schema-checked in
the tests; bagctl does not run Kubernetes itself (``bagctl/runtimes/k8sfile.py``).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from speakers.yamldoc import ConfigError

from .output import emit_json, fail


@click.group()
def k8s() -> None:
    """Kubernetes manifests for regions (a pod per shard of speakers)."""


@k8s.command()
@click.argument("topology", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    default="k8s",
    show_default=True,
    help="The directory to write the manifests to.",
)
@click.option("--shards", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=1179, show_default=True)
@click.option("--image", default=None, help="Speaker image (default bagemu-speaker:latest).")
@click.option("--json", "as_json", is_flag=True, help="Print a summary as JSON.")
def generate(
    topology: str, output: str, shards: int, port: int, image: str | None, as_json: bool
) -> None:
    """Write the Kubernetes manifests of the region in TOPOLOGY (kubectl apply -f DIR)."""
    from ..runtimes import k8sfile, swarmplan
    from ..runtimes.composefile import DEFAULT_IMAGE
    from ..topology import load_topology

    out = Path(output)
    try:
        topo = load_topology(topology)
        sizes = swarmplan.plan(topo, hosts=shards, memory_per_host_gb=1e6, shards=shards)
        options = k8sfile.K8sOptions(
            password=secrets.token_urlsafe(24),
            shards=shards,
            port=port,
            image=image or DEFAULT_IMAGE,
            memory_mb=int(max(s.memory_mb for s in sizes.shards)) + 1,
        )
        files = k8sfile.manifests(topo, options)
        out.mkdir(parents=True, exist_ok=True)
        for name, objects in files.items():
            path = out / name
            path.write_text(k8sfile.render(objects))
            if name.startswith("00-"):
                path.chmod(0o600)  # it holds the broker's password
    except ConfigError as exc:
        fail(str(exc), as_json=as_json)
        return
    except (ValueError, OSError) as exc:
        fail(f"{output}: {exc}", as_json=as_json)
        return
    kinds = [obj["kind"] for objects in files.values() for obj in objects]
    summary = {"directory": str(out), "region": topo.name, "shards": shards}
    summary |= {"files": sorted(files), "objects": kinds}
    if as_json:
        emit_json({"ok": True, **summary})
    else:
        click.echo(
            f"{out}/: region {topo.name}, {shards} shard pods and mosquitto in "
            f"{len(files)} files ({', '.join(kinds)}). Apply: kubectl apply -f {out}"
        )
