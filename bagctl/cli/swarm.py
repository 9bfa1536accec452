"""``bagctl swarm plan|generate``: a region on Docker Swarm without running it.

- ``plan TOPOLOGY --hosts N --memory-per-host G``: the shards, which host each goes to,
  the memory each is estimated to need and the sessions cut between hosts
  (``bagctl/runtimes/swarmplan.py``); exit 1 when the region does not fit.
- ``generate TOPOLOGY -o stack.yml``: a stack file for ``docker stack deploy`` without
  bagctl (``bagctl/runtimes/stackfile.py``), and beside it the topology as the tasks
  read it (``stack.topology.yaml.gz``) and the broker's password file (made once, mode
  0600, kept if it exists). With ``--hosts``, the plan's placement is
  written into it: label the nodes ``bagemu.host=0`` ... first.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click

from speakers.yamldoc import ConfigError

from .output import emit_json, fail

SHARDS_HELP = "Shards (a service each; default: one per host, or 2)."


@click.group()
def swarm() -> None:
    """Docker Swarm stacks for regions (a service per shard of speakers)."""


def _plan_text(p: dict[str, object]) -> list[str]:
    lines = [
        f"region {p['region']}: {len(p['shards'])} shards on {len(p['hosts'])} hosts, "  # type: ignore[arg-type]
        f"{p['prefixes']} prefixes, {p['bytes_per_path']} B per path, "
        f"{p['cut_between_shards']} sessions between shards"
    ]
    lines.append(
        f"{'SHARD':<6} {'HOST':>4} {'SPEAKERS':>8} {'ENDS':>7} {'PATHS':>11} {'MEMORY MB':>10}"
    )
    for s in p["shards"]:  # type: ignore[attr-defined]
        lines.append(
            f"{s['index']:<6} {s['host']:>4} {s['speakers']:>8} {s['session_ends']:>7} "
            f"{s['paths']:>11,} {s['memory_mb']:>10,.0f}"
        )
    lines.append(f"{'HOST':<6} {'SHARDS':<12} {'MEMORY MB':>10} {'OF MB':>8} {'CUT SESSIONS':>13}")
    for h in p["hosts"]:  # type: ignore[attr-defined]
        shards = ",".join(str(i) for i in h["shards"]) or "-"
        lines.append(
            f"{h['index']:<6} {shards:<12} {h['memory_mb']:>10,.0f} {h['capacity_mb']:>8,.0f} "
            f"{h['cut_sessions']:>13,}"
        )
    lines.append("fits" if p["fits"] else f"does not fit: {p['problem']}")
    return lines


@swarm.command("plan")
@click.argument("topology", type=click.Path(dir_okay=False))
@click.option("--hosts", type=click.IntRange(min=1), required=True, help="Swarm nodes.")
@click.option(
    "--memory-per-host",
    type=click.FloatRange(min=0.001),
    required=True,
    metavar="GB",
    help="Memory each node gives the region (GiB).",
)
@click.option("--shards", type=click.IntRange(min=1), default=None, help=SHARDS_HELP)
@click.option(
    "--bytes-per-path",
    type=click.IntRange(min=1),
    default=None,
    help="Memory per Adj-RIB-In path (default: this release's measured figure).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan_command(
    topology: str,
    hosts: int,
    memory_per_host: float,
    shards: int | None,
    bytes_per_path: int | None,
    as_json: bool,
) -> None:
    """Place the region in TOPOLOGY on HOSTS swarm nodes: shards, memory, cut sessions."""
    from ..runtimes import swarmplan
    from ..topology import load_topology

    try:
        topo = load_topology(topology)
        extra = {} if bytes_per_path is None else {"bytes_per_path": bytes_per_path}
        result = swarmplan.plan(topo, hosts, memory_per_host, shards, **extra).as_dict()
    except ConfigError as exc:
        fail(str(exc), as_json=as_json)
        return
    except ValueError as exc:
        fail(f"{topology}: {exc}", as_json=as_json)
        return
    if as_json:
        emit_json({"ok": bool(result["fits"]), **result})
    else:
        click.echo("\n".join(_plan_text(result)))
    if not result["fits"]:
        raise SystemExit(1)


@swarm.command()
@click.argument("topology", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default="stack.yml",
    show_default=True,
    help="The stack file to write.",
)
@click.option("--shards", type=click.IntRange(min=1), default=None, help=SHARDS_HELP)
@click.option("--hosts", type=click.IntRange(min=1), default=None, help="Place shards on nodes.")
@click.option("--memory-per-host", type=click.FloatRange(min=0.001), default=None, metavar="GB")
@click.option("--subnet", default=None, metavar="CIDR", help="The overlay network's subnet.")
@click.option("--speaker-subnet", default=None, metavar="CIDR", help="The speakers' addresses.")
@click.option("--port", type=click.IntRange(1, 65535), default=1179, show_default=True)
@click.option("--image", default=None, help="Speaker image (default bagemu-speaker:latest).")
@click.option("--json", "as_json", is_flag=True, help="Print a summary as JSON.")
def generate(
    topology: str,
    output: str,
    shards: int | None,
    hosts: int | None,
    memory_per_host: float | None,
    subnet: str | None,
    speaker_subnet: str | None,
    port: int,
    image: str | None,
    as_json: bool,
) -> None:
    """Write the stack file of the region in TOPOLOGY (docker stack deploy)."""
    from ..mqtt import passwordfile
    from ..runtimes import stackfile, swarmplan
    from ..runtimes.composefile import DEFAULT_IMAGE
    from ..topology import load_topology

    out = Path(output)
    password = out.parent / "broker-password"
    try:
        topo = load_topology(topology)
        count = shards or hosts or 2
        placed: dict[int, int] = {}
        memory: dict[int, int] = {}
        if hosts is not None:
            p = swarmplan.plan(topo, hosts, memory_per_host or 1e6, count)
            if not p.fits:
                raise ValueError(f"does not fit: {p.problem}")
            placed = {s.index: s.host for s in p.shards}
            if memory_per_host is not None:
                memory = {s.index: int(s.memory_mb) for s in p.shards}
        shipped = out.parent / f"{out.stem}.topology.yaml.gz"  # beside the stack file
        shipped.write_bytes(stackfile.topology_gz(topo))
        options = stackfile.StackOptions(
            topology_path=f"./{shipped.name}",
            password_path="./broker-password",
            shards=count,
            network_subnet=ipaddress.IPv4Network(subnet or stackfile.DEFAULT_NETWORK_SUBNET),
            speaker_subnet=ipaddress.IPv4Network(
                speaker_subnet or stackfile.DEFAULT_SPEAKER_SUBNET
            ),
            port=port,
            image=image or DEFAULT_IMAGE,
            hosts=placed,
            memory_mb=memory,
        )
        text = stackfile.render(topo, options)
        out.write_text(text)
        made = passwordfile.ensure(password)
    except ConfigError as exc:
        fail(str(exc), as_json=as_json)
        return
    except (ValueError, OSError) as exc:
        fail(f"{output}: {exc}", as_json=as_json)
        return
    summary = {
        "file": str(out),
        "region": topo.name,
        "stack": stackfile.stack_name(topo.name),
        "shards": count,
        "services": count + 1,
        "password_file": str(password),
        "topology_file": str(shipped),
        "password_made": made,
        "hosts": {str(k): v for k, v in placed.items()},
    }
    if as_json:
        emit_json({"ok": True, **summary})
    else:
        click.echo(
            f"{out}: region {topo.name}, {count} shard services and mosquitto; the broker's "
            f"password in {password}{' (new)' if made else ''}. Deploy: docker stack deploy "
            f"-c {out.name} {summary['stack']}"
        )
