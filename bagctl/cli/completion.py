"""``bagctl completion bash|zsh|fish``: print the script that makes the shell complete
bagctl's commands and options, and the names they take (``complete.py``: node names and
bundle ends of the running region, regions, presets, topology files). Load it once per
shell, e.g. from ``~/.bashrc``::

    eval "$(bagctl completion bash)"
    eval "$(bagctl completion zsh)"          # ~/.zshrc, after compinit
    bagctl completion fish | source          # ~/.config/fish/config.fish

The script is click's own (``click.shell_completion``): on Tab it runs ``bagctl`` with
``_BAGCTL_COMPLETE`` set, which answers with candidates instead of running a command.
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from .output import emit_json

PROG_NAME = "bagctl"
COMPLETE_VAR = "_BAGCTL_COMPLETE"  # also under `python -m bagctl` (bagctl/cli/__init__.py)
SHELLS = ("bash", "zsh", "fish")
INSTALL = {
    "bash": 'eval "$(bagctl completion bash)"',
    "zsh": 'eval "$(bagctl completion zsh)"',
    "fish": "bagctl completion fish | source",
}


def completion_script(cli: click.Command, shell: str) -> str:
    """The script ``shell`` sources to complete ``cli``."""
    cls = get_completion_class(shell)
    if cls is None:  # click.Choice keeps other names out; a click without this shell
        raise click.UsageError(f"no completion for {shell} in this click")
    return cls(cli, {}, PROG_NAME, COMPLETE_VAR).source()


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
@click.option("--json", "as_json", is_flag=True, help="Print the script inside JSON.")
@click.pass_context
def completion(ctx: click.Context, shell: str, as_json: bool) -> None:
    """Print SHELL's completion script: eval "$(bagctl completion bash)" in ~/.bashrc."""
    script = completion_script(ctx.find_root().command, shell)
    if as_json:
        emit_json({"ok": True, "shell": shell, "install": INSTALL[shell], "script": script})
    else:
        click.echo(script)
