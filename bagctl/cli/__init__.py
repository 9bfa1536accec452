"""The ``bagctl`` command: one thin module per subcommand, each able to print ``--json``."""

from __future__ import annotations

import click

from .codec import codec
from .demo import demo
from .topo import topo
from .up import up


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bagemu")
def cli() -> None:
    """bagemu: emulate the routing control plane of AI-cluster networks (BAG, DSF, NSF)."""


cli.add_command(demo)
cli.add_command(codec)
cli.add_command(topo)
cli.add_command(up)


def main() -> None:
    cli()
