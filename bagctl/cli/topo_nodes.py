"""``bagctl topo nodes FILE [--role ROLE ...] [--names] [--json]``: the nodes of a topology
file, the names every other command takes (``link down A B``, ``node drain X``, ``show
rib X``), as containerlab's ``inspect`` and netlab's ``inspect`` list a lab's nodes.

One row per node in file order: name, role, AS, region, fabric and how many bundles it
has; ``--names`` prints the names alone, one per line, for scripts (``xargs``,
``fzf``); ``--json`` a list of objects. The file is read the fast way
(``topology/names.py``: about 0.1 s for prometheus, where reading and checking it all
takes 8 s) and not checked beyond that: ``bagctl topo validate FILE`` checks it.
"""

from __future__ import annotations

import click

from speakers.yamldoc import ConfigError

from ..topology.model import Role
from .complete import complete_topology_file
from .output import emit_json, fail
from .tables import print_table


@click.command()
@click.argument("file", metavar="FILE", shell_complete=complete_topology_file)
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice([r.value for r in Role]),
    help="Only nodes of this role (repeatable).",
)
@click.option("--names", "names_only", is_flag=True, help="Names only, one per line.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def nodes(file: str, roles: tuple[str, ...], names_only: bool, as_json: bool) -> None:
    """List the nodes in FILE: name, role, AS, region, fabric, bundles.

    Exits 1 if FILE cannot be read or is not a topology (file:line: field: message).
    """
    from ..topology.names import read_names

    try:
        names = read_names(file)
    except ConfigError as exc:
        fail(str(exc), as_json=as_json)
        return
    wanted = set(roles)
    rows = [
        {
            "name": n.name,
            "role": n.role.value if n.role is not None else None,
            "asn": n.asn,
            "region": n.region,
            "fabric": n.fabric,
            "bundles": len(names.peers(n.name)),
        }
        for n in names.nodes
        if not wanted or (n.role is not None and n.role.value in wanted)
    ]
    if as_json:
        emit_json({"ok": True, "file": file, "nodes": rows})
    elif names_only:
        for row in rows:
            click.echo(row["name"])
    else:
        header = ["NODE", "ROLE", "ASN", "REGION", "FABRIC", "BUNDLES"]
        keys = ["name", "role", "asn", "region", "fabric", "bundles"]
        print_table(header, [[row[k] if row[k] != "" else "-" for k in keys] for row in rows])
