"""Printing helpers shared by subcommands: JSON to stdout, errors to stderr."""

from __future__ import annotations

import json
import sys

import click


def emit_json(obj: object) -> None:
    click.echo(json.dumps(obj, indent=2, sort_keys=False))


def fail(message: str, *, as_json: bool, detail: dict[str, object] | None = None) -> None:
    """Report an error (to stdout as JSON, or stderr as text) and exit 1."""
    if as_json:
        emit_json({"ok": False, "error": message, **(detail or {})})
    else:
        click.echo(f"error: {message}", err=True)
    sys.exit(1)


def interrupted(exc: BaseException) -> None:
    """A command stopped by a signal (``bagctl.interrupts``): say so and exit 130 or 143."""
    code = getattr(exc, "code", 130)
    click.echo("interrupted", err=True)
    sys.exit(code)
