"""The repository keeps its promises: layout, and CI running the README's test command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    return [
        line for b in blocks[:2] for line in b.splitlines() if line and not line.startswith("#")
    ]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    demo, test = _readme_commands()
    assert "bagctl demo" in demo
    assert "pytest" in test
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci_lines
    # The command itself sets a fresh machine up (issue 18): Debian packages, then the venv.
    assert test.startswith("bash scripts/setup.sh && ")
    setup = (ROOT / "scripts" / "setup.sh").read_text().splitlines()
    assert any(line.strip().startswith("$SUDO apt-get update") for line in setup)
    assert '"$python" -m venv "${venv_clear[@]}" .venv' in setup
    assert ".venv/bin/pip install -e '.[test]'" in setup


def _setup_python(**env: str) -> subprocess.CompletedProcess[str]:
    """What ``scripts/setup.sh --print-python`` says (it installs nothing)."""
    environ = {k: v for k, v in os.environ.items() if k != "BAGEMU_PYTHON"}
    script = ROOT / "scripts" / "setup.sh"
    return subprocess.run(
        ["bash", str(script), "--print-python"],
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_setup_makes_the_venv_from_the_distributions_python() -> None:
    """An optimised build (the distribution's) where there is one: README, "The
    interpreter"; else the python3 on PATH; BAGEMU_PYTHON first, and refused if it is
    no Python 3.11 or later."""
    distro = Path("/usr/bin/python3")
    fits = (
        distro.exists()
        and subprocess.run(
            [str(distro), "-c", "import sys; sys.exit(sys.version_info < (3, 11))"]
        ).returncode
        == 0
    )
    default = _setup_python()
    assert default.returncode == 0, default.stderr
    assert default.stdout.strip() == (str(distro) if fits else "python3")
    named = _setup_python(BAGEMU_PYTHON=sys.executable)
    assert (named.returncode, named.stdout.strip()) == (0, sys.executable)
    wrong = _setup_python(BAGEMU_PYTHON="/nonexistent/python3")
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert "BAGEMU_PYTHON=/nonexistent/python3: no Python 3.11 or later" in wrong.stderr


def test_layout() -> None:
    for name in ("pyproject.toml", "README.md", "docker-compose.yml", ".ci/run"):
        assert (ROOT / name).is_file(), name
    for name in ("bagctl", "speakers", "topologies", "tests", "bench"):
        assert (ROOT / name).is_dir(), name


def test_setup_installs_the_interop_daemons() -> None:
    """The interop tests (tests/speakers/interop) skip where a daemon is missing, so CI
    runs them only because scripts/setup.sh installs all three packages: FRR, GoBGP, BIRD."""
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    installed = set(re.findall(r"\b(?:packages|routing)\+=\(([\w.+-]+)\)", setup))
    assert {"frr", "gobgpd", "bird2"} <= installed, installed
    assert 'packages+=("${routing[@]}")' in setup  # ... and they reach apt-get install
    conftest = (ROOT / "tests" / "speakers" / "interop" / "interop_lab.py").read_text()
    peers = re.search(r"PEERS: .*? = \{(.*?)\n\}", conftest, flags=re.S)
    assert peers is not None
    assert set(re.findall(r'"(\w+)": \(', peers[1])) == {"frr", "gobgp", "bird"}
