"""The command tables (bagctl/cli/tables.py): piped, the plain columns byte for byte as
before rich; on a terminal, rich's table with the same cells, folded rather than cut when
too narrow; a long table plain on a terminal too (rich's layout costs ~0.5 ms a row)."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from bagctl.cli.show import render_fib
from bagctl.cli.tables import RICH_MAX_ROWS, plain, print_table

HEADERS = ["PREFIX", "NEIGHBOR", "WEIGHT"]
ROWS: list[list[object]] = [["10.0.0.0/24", "r1-nsf1-stsw1-1", 45], ["", "r1-nsf1-stsw2-1", None]]
PLAIN = (
    "PREFIX       NEIGHBOR         WEIGHT\n"
    "10.0.0.0/24  r1-nsf1-stsw1-1  45\n"
    "             r1-nsf1-stsw2-1"
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def terminal(width: int) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=width, color_system="standard"), out


def test_plain_columns_two_spaces_apart_without_trailing_blanks() -> None:
    assert plain(HEADERS, ROWS) == PLAIN


def test_piped_the_plain_columns_byte_for_byte() -> None:
    out = io.StringIO()
    print_table(HEADERS, ROWS, Console(file=out, force_terminal=False))
    assert out.getvalue() == PLAIN + "\n"


def test_on_a_terminal_rich_with_the_same_cells_and_bold_headings() -> None:
    console, out = terminal(100)
    print_table(HEADERS, ROWS, console)
    assert "\x1b[1m" in out.getvalue()  # bold headings
    text = ANSI.sub("", out.getvalue())
    assert [line.rstrip() for line in text.splitlines()] == PLAIN.splitlines()


def test_on_a_narrow_terminal_cells_fold_and_nothing_is_lost() -> None:
    console, out = terminal(24)
    print_table(HEADERS, ROWS, console)
    lines = ANSI.sub("", out.getvalue()).splitlines()
    assert max(len(line) for line in lines) <= 24
    shown = sorted("".join("".join(line.split()) for line in lines))
    assert shown == sorted("".join(PLAIN.split()))  # every character of every cell, folded


@pytest.mark.parametrize("extra", [0, 1])
def test_a_long_table_is_plain_on_a_terminal_too(extra: int) -> None:
    rows = [[f"10.0.{i}.0/24", "a", i] for i in range(RICH_MAX_ROWS + extra)]
    console, out = terminal(100)
    print_table(HEADERS, rows, console)
    assert ("\x1b[" in out.getvalue()) is (extra == 0)
    text = ANSI.sub("", out.getvalue())
    assert [line.rstrip() for line in text.splitlines()] == plain(HEADERS, rows).splitlines()


def test_show_fib_piped_is_the_text_it_always_was(capsys: pytest.CaptureFixture[str]) -> None:
    hop = {"neighbor": "r1-nsf1-stsw1-1", "next_hop": "127.64.0.3", "weight": 45}
    other = {"neighbor": "r1-nsf1-stsw2-1", "next_hop": "127.64.0.4", "weight": 32}
    fib = [{"prefix": "10.0.0.0/16", "next_hops": [hop | {"ucmp_weight": 0.584}]}]
    fib[0]["next_hops"].append(other | {"ucmp_weight": 0.416})
    render_fib({"prefix": "10.0.0.0/24", "fib": fib})
    assert capsys.readouterr().out == (
        "10.0.0.0/24: forwarded by 10.0.0.0/16 (longest-prefix match)\n"
        "PREFIX       NEIGHBOR         NEXT HOP    WEIGHT  UCMP\n"
        "10.0.0.0/16  r1-nsf1-stsw1-1  127.64.0.3  45      0.5840\n"
        "             r1-nsf1-stsw2-1  127.64.0.4  32      0.4160\n"
    )
