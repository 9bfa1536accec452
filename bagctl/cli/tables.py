"""The tables of the commands that show a running region (``inspect``, ``show``,
``verify``): rich on a terminal, plain aligned columns everywhere else.

On a terminal rich draws the table (``print_table``): bold headings, and a table wider than
the terminal gets its widest cells folded instead of every line wrapped by the terminal;
the cells are the same. Piped, in a CI log or a file: the plain columns (``plain``), two
spaces apart, no trailing blanks, the text scripts and ``grep`` have always read, byte
for byte. Rich is not used there, nor for a long table on a terminal, because of a
measurement: it lays a table out at about 0.5 ms a row here (a BAG switch's whole FIB on
``region``, 13,824 rows: 7.5 s, against 0.05 s for the plain columns; ``inspect`` of
``region``, 548 rows: 0.3 s), so past ``RICH_MAX_ROWS`` rows the terminal gets the plain
columns too.
"""

from __future__ import annotations

from collections.abc import Sequence

import click
from rich.console import Console
from rich.table import Table

RICH_MAX_ROWS = 300  # about 0.15 s of rich's layout (module docstring)


def _cells(rows: Sequence[Sequence[object]]) -> list[list[str]]:
    return [["" if c is None else str(c) for c in row] for row in rows]


def plain(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Aligned columns, left-justified, two spaces apart, no trailing blanks."""
    cells = [list(headers), *_cells(rows)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells
    )


def rich_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> Table:
    """The same columns as ``plain`` (no box, one blank a side between columns), headings
    bold, cells folded rather than cut when the terminal is too narrow."""
    table = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold")
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in _cells(rows):
        table.add_row(*row)
    return table


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], console: Console | None = None
) -> None:
    """``rows`` under ``headers`` on stdout, as suits it (module docstring)."""
    console = console if console is not None else Console(highlight=False)
    if console.is_terminal and len(rows) <= RICH_MAX_ROWS:
        console.print(rich_table(headers, rows))
    else:
        click.echo(plain(headers, rows), file=console.file)


__all__ = ["RICH_MAX_ROWS", "plain", "print_table", "rich_table"]
