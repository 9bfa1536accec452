"""The ``bagctl`` command: one thin module per subcommand, each able to print ``--json``."""

from __future__ import annotations

import click

from .acl import acl
from .cancel import cancel
from .codec import codec
from .completion import COMPLETE_VAR, completion
from .compose import compose
from .converge import converge
from .demo import demo
from .down import down
from .events import events
from .inspect_nodes import inspect
from .k8s import k8s
from .link import link
from .node import node
from .replay import replay_cmd
from .show import show
from .status import status
from .swarm import swarm
from .test import test_cmd
from .topo import topo
from .up import up
from .verify import verify_cmd


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bagemu")
def cli() -> None:
    """bagemu: emulate the routing control plane of AI-cluster networks (BAG, DSF, NSF)."""


cli.add_command(demo)
cli.add_command(codec)
cli.add_command(topo)
cli.add_command(compose)
cli.add_command(swarm)
cli.add_command(k8s)
cli.add_command(up)
for _command in (down, status, inspect, link, node, show, events, converge, replay_cmd, cancel):
    cli.add_command(_command)
cli.add_command(acl)
cli.add_command(verify_cmd, "verify")
cli.add_command(test_cmd, "test")
cli.add_command(completion)


def main() -> None:
    # One variable however bagctl is started (`python -m bagctl` would otherwise answer to
    # _PYTHON -M BAGCTL_COMPLETE): the one the script of `bagctl completion` sets.
    cli(complete_var=COMPLETE_VAR)
