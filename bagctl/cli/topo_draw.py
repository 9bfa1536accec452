"""``bagctl topo draw FILE -o OUT.svg|png|html``: a picture of a region topology.

Tiers as rows, planes as colours, roles as marker shapes, bundles as lines weighted by
capacity (``bagctl/topology/draw``). Matplotlib is imported only when this runs, so
other subcommands start as fast as before.
"""

from __future__ import annotations

import click

from speakers.yamldoc import ConfigError

from .complete import complete_topology_file
from .output import emit_json, fail


@click.command()
@click.argument("file", metavar="FILE", shell_complete=complete_topology_file)
@click.option(
    "-o",
    "--output",
    required=True,
    metavar="OUT",
    help="Picture to write: .svg, .png, or .html (the SVG inline, with tables).",
)
@click.option(
    "--no-check",
    is_flag=True,
    help="Draw even if the AS layout fails validation (structure is still checked).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def draw(file: str, output: str, no_check: bool, as_json: bool) -> None:
    """Draw the topology in FILE into OUT (format by suffix).

    Rows are tiers (BAG on top, leaves at the bottom), grouped left to right by region,
    fabric and plane; node colour is the plane, marker the role; line width grows with
    bundle capacity. Exits 1 on a bad file, a bad suffix or an unwritable output.
    """
    from bagctl.topology import load_topology
    from bagctl.topology.draw import check_output, render

    try:
        check_output(output)
        topo = load_topology(file, check=not no_check)
        path = render(topo, output)
        size = path.stat().st_size
    except (ConfigError, ValueError) as exc:
        fail(str(exc), as_json=as_json)
        return
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}", as_json=as_json)
        return
    if as_json:
        emit_json(
            {
                "ok": True,
                "output": str(path),
                "nodes": len(topo.nodes),
                "bundles": len(topo.bundles),
                "bytes": size,
            }
        )
    else:
        click.echo(
            f"{path}: {size:,} bytes ({len(topo.nodes):,} nodes, {len(topo.bundles):,} bundles)"
        )
