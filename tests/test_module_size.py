"""No module of ``speakers`` or ``bagctl`` much over 400 lines unless its docstring says
why: the list below names each one and the words of its docstring that give the reason.
(No import cycle: tests/speakers/test_imports.py.)"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("speakers", "bagctl")
SIZE_LIMIT = 420  # "about 400"

# module -> the words of its docstring that say why it is longer
LONG_MODULES: dict[str, str] = {
    "speakers.session.fsm": "Why one module of some 500 lines: it is one state machine",
}


def modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def test_long_modules_say_why() -> None:
    lines = {name: len(path.read_text().splitlines()) for name, path in modules().items()}
    long = {name: n for name, n in lines.items() if n > SIZE_LIMIT}
    assert set(long) <= set(LONG_MODULES), f"over {SIZE_LIMIT} lines: {long}"
    for name, reason in LONG_MODULES.items():
        doc = ast.get_docstring(ast.parse(modules()[name].read_text())) or ""
        assert reason in doc, f"{name}: its docstring does not say why it is long"
