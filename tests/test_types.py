"""The type hints are checked: mypy, strict (pyproject.toml's ``[tool.mypy]``), over
``speakers/`` and ``bagctl/``, with no error. Run here so that the README's test command,
which CI runs, also runs the type checker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_strict_passes() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-20_000:] + proc.stderr[-2_000:]
