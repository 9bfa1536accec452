"""``bagctl acl REGION``: a mosquitto ACL file giving operators of a region on an
external broker their roles, control or read-only (``bagctl/mqtt/acl.py`` says how)."""

from __future__ import annotations

from pathlib import Path

import click

from .output import emit_json, fail


@click.command()
@click.argument("region")
@click.option(
    "--region-user",
    default="bagemu",
    show_default=True,
    help="The user the region connects as (bagctl up --broker mqtt://USER:...).",
)
@click.option("--control", multiple=True, metavar="USER", help="An operator who may change it.")
@click.option(
    "--read-only", "read_only", multiple=True, metavar="USER", help="An operator who only looks."
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write here.")
@click.option("--json", "as_json", is_flag=True, help="Print a summary as JSON.")
def acl(
    region: str,
    region_user: str,
    control: tuple[str, ...],
    read_only: tuple[str, ...],
    output: str | None,
    as_json: bool,
) -> None:
    """Write the mosquitto acl_file of REGION's operator roles (stdout unless -o)."""
    from ..mqtt.acl import mosquitto_acl

    try:
        text = mosquitto_acl(region, region_user, control, read_only)
        if output is not None:
            Path(output).write_text(text)
    except (ValueError, OSError) as exc:
        fail(str(exc), as_json=as_json)
        return
    if as_json:
        emit_json(
            {
                "ok": True,
                "region": region,
                "file": output,
                "roles": {"region": [region_user], "control": control, "read-only": read_only},
                **({} if output else {"acl": text}),
            }
        )
    elif output is None:
        click.echo(text, nl=False)
    else:
        click.echo(f"{output}: roles for region {region} (acl_file in mosquitto.conf)")
