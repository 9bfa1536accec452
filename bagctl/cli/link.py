"""``bagctl link down|up A B [--members N]``, ``bagctl link flap A B --count N --interval T``:
fail and repair bundles of a running region; each prints the convergence report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Unpack

import click

from .complete import complete_bundle_end
from .control import TargetOptions, change, target_options, timeout_option


@click.group()
def link() -> None:
    """Fail, repair or flap a bundle (both ends) in the running region."""


def _members_option(verb: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--members",
        type=click.IntRange(min=1),
        default=None,
        help=f"Only {verb} N members of the bundle (default: the whole bundle).",
    )


@link.command("down")
@click.argument("a", shell_complete=complete_bundle_end)
@click.argument("b", shell_complete=complete_bundle_end)
@_members_option("fail")
@timeout_option(default=120.0, help="Seconds the region may take to converge.")
@target_options
def link_down(
    a: str, b: str, members: int | None, timeout_s: float, **target: Unpack[TargetOptions]
) -> None:
    """Bundle A-B fails (or N of its members do)."""
    args = {"a": a, "b": b, "members": members, "timeout_s": timeout_s}
    change("link-down", args, **target)


@link.command("up")
@click.argument("a", shell_complete=complete_bundle_end)
@click.argument("b", shell_complete=complete_bundle_end)
@_members_option("repair")
@timeout_option(default=120.0, help="Seconds the region may take to converge.")
@target_options
def link_up(
    a: str, b: str, members: int | None, timeout_s: float, **target: Unpack[TargetOptions]
) -> None:
    """Bundle A-B is repaired (or N more of its members work again)."""
    args = {"a": a, "b": b, "members": members, "timeout_s": timeout_s}
    change("link-up", args, **target)


@link.command("flap")
@click.argument("a", shell_complete=complete_bundle_end)
@click.argument("b", shell_complete=complete_bundle_end)
@click.option("--count", type=click.IntRange(1, 1000), default=1, show_default=True)
@click.option(
    "--interval",
    "interval_s",
    type=click.FloatRange(0, 60),
    default=1.0,
    show_default=True,
    help="Seconds between each down and up.",
)
@timeout_option(default=120.0, help="Seconds the region may take to converge after.")
@target_options
def link_flap(
    a: str, b: str, count: int, interval_s: float, timeout_s: float, **target: Unpack[TargetOptions]
) -> None:
    """Bundle A-B goes down and up COUNT times, INTERVAL apart."""
    args = {"a": a, "b": b, "count": count, "interval_s": interval_s, "timeout_s": timeout_s}
    change("link-flap", args, **target)
