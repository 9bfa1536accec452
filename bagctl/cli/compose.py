"""``bagctl compose generate TOPOLOGY -o docker-compose.yml``: a region as a docker compose
file, one container per BGP speaker plus the region's mosquitto
(``bagctl/runtimes/composefile.py`` says what is in it).

Paths inside the file (the topology, mounted into every speaker; the build context) are
written relative to the file's own directory, as compose resolves them, so the file and
the topology can move together. The repository's ``docker-compose.yml`` is
``bagctl compose generate topologies/mini.yaml --build-context . -o docker-compose.yml``.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import click

from speakers.yamldoc import ConfigError

from .compose_attach import attach
from .output import emit_json, fail


def _relative(path: str, start: Path) -> str:
    rel = os.path.relpath(Path(path).resolve(), start.resolve())
    return rel if rel.startswith(".") else f"./{rel}"


@click.group()
def compose() -> None:
    """Docker compose files for regions (one container per switch)."""


@compose.command()
@click.argument("topology", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default="docker-compose.yml",
    show_default=True,
    help="The compose file to write.",
)
@click.option(
    "--subnet", default=None, metavar="CIDR", help="The region network (default 172.31.0.0/16)."
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=1179,
    show_default=True,
    help="BGP port in containers.",
)
@click.option("--image", default=None, help="Speaker image (default bagemu-speaker:latest).")
@click.option(
    "--build-context",
    type=click.Path(file_okay=False),
    default=None,
    help="Add a build section: the directory of the Dockerfile (`docker compose build`).",
)
@click.option(
    "--mqtt-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="The broker's port on 127.0.0.1 when $BAGEMU_MQTT_PORT is unset (default 11883).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a summary as JSON.")
def generate(
    topology: str,
    output: str,
    subnet: str | None,
    port: int,
    image: str | None,
    build_context: str | None,
    mqtt_port: int | None,
    as_json: bool,
) -> None:
    """Write the compose file of the region in TOPOLOGY."""
    from ..mqtt import passwordfile
    from ..runtimes import composefile
    from ..topology import load_topology

    out = Path(output)
    password = out.parent / "broker-password"
    try:
        topo = load_topology(topology)
        net = ipaddress.IPv4Network(subnet) if subnet else composefile.DEFAULT_SUBNET
        options = composefile.ComposeOptions(
            topology_path=_relative(topology, out.parent),
            subnet=net,
            port=port,
            image=image or composefile.DEFAULT_IMAGE,
            build_context=None if build_context is None else _relative(build_context, out.parent),
            mqtt_port=mqtt_port or composefile.DEFAULT_MQTT_PORT,
        )
        text = composefile.render(topo, options)
        out.write_text(text)
        made = passwordfile.ensure(password)
    except ConfigError as exc:
        fail(str(exc), as_json=as_json)
        return
    except (ValueError, OSError) as exc:
        fail(f"{output}: {exc}", as_json=as_json)
        return
    summary = composefile.summary(topo, options)
    summary |= {"password_file": str(password), "password_made": made}
    if as_json:
        emit_json({"ok": True, "file": str(out), **summary})
    else:
        click.echo(
            f"{out}: region {topo.name}, {summary['speakers']} speaker containers and "
            f"mosquitto on {summary['subnet']} (skipped, no BGP: "
            f"{len(summary['skipped'])} FDSW nodes); the broker's password in {password}"
            f"{' (new)' if made else ''}. Run: docker compose -f {out} up -d; then "
            f"bagctl compose attach {out}"
        )


compose.add_command(attach)
