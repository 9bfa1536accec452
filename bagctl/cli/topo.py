"""``bagctl topo``: work with region topology files.

Each subcommand lives in its own module (``topo_<name>.py``) and is registered below with
one import and one ``add_command`` line.
"""

from __future__ import annotations

import click

from .topo_draw import draw
from .topo_gen import gen
from .topo_info import info
from .topo_nodes import nodes
from .topo_validate import validate


@click.group()
def topo() -> None:
    """Region topologies: generate them, check them, list their nodes, print their figures,
    draw them."""


topo.add_command(draw)
topo.add_command(gen)
topo.add_command(info)
topo.add_command(nodes)
topo.add_command(validate)
