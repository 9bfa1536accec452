"""``bagctl topo``: work with region topology files.

Each subcommand lives in its own module (``topo_<name>.py``) and is registered below with
one import and one ``add_command`` line.
"""

from __future__ import annotations

import click

from .topo_draw import draw


@click.group()
def topo() -> None:
    """Region topologies: draw them."""


topo.add_command(draw)
