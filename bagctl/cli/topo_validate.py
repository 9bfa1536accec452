"""``bagctl topo validate FILE [--json]``: is this a region bagemu can run, with exit codes
for scripts and CI (as netlab's ``validate`` and ``containerlab`` ``deploy`` checks):
0 valid, 1 invalid (the first problem as ``file:line: field: message``, every field and
reference checked, then the AS layout: no iBGP, no speaker cut off by eBGP loop
prevention, no multipath member lost to it), 2 a usage error."""

from __future__ import annotations

import click

from speakers.yamldoc import ConfigError

from .output import emit_json, fail


@click.command()
@click.argument("file", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def validate(file: str, as_json: bool) -> None:
    """Check the topology in FILE: exit 0 valid, 1 invalid (file:line: field), 2 usage."""
    from bagctl.topology import load_topology

    try:
        topo = load_topology(file)
    except ConfigError as exc:
        fail(str(exc), as_json=as_json)
        return
    speakers = sum(1 for _ in topo.speakers())
    sessions = sum(1 for _ in topo.sessions())
    if as_json:
        emit_json({"ok": True, "file": file, "speakers": speakers, "sessions": sessions})
    else:
        click.echo(
            f"{file}: valid ({topo.name}: {speakers:,} speakers, {sessions:,} sessions; the AS "
            "layout passes: no iBGP, no speaker cut off or losing multipath members to eBGP "
            "loop prevention)"
        )
