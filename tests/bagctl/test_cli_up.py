"""``bagctl up``: a region from a file, converged, reported; errors exit 1."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from bagctl.cli import cli

PLANES = str(Path(__file__).parent / "runtimes" / "planes.yaml")


@pytest.mark.parametrize("transport", ["tcp", "memory"])
def test_up_once_json(transport: str) -> None:
    result = CliRunner().invoke(cli, ["up", PLANES, "--once", "--json", "--transport", transport])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    report = out["report"]
    assert out["ok"] and report["event"] == "cold-start"
    assert report["sessions_established"] == report["sessions_expected"] == 6
    assert report["fib_changes"] >= 10 and report["converged_s"] <= report["quiescent_s"]


def test_up_over_worker_processes() -> None:
    result = CliRunner().invoke(
        cli, ["up", PLANES, "--once", "--json", "--transport", "memory", "--workers", "2"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["report"]
    assert report["sessions_established"] == report["sessions_expected"] == 6
    for bad in ("-1", "two", "1.5", ""):
        result = CliRunner().invoke(cli, ["up", PLANES, "--once", "--workers", bad])
        assert result.exit_code == 2, (bad, result.output)
        assert f"'{bad}' is not auto or a count of workers (0: one per core)" in result.stderr


@pytest.mark.parametrize(
    ("given", "count", "said"),
    [
        ([], 1, "auto: 6 sessions, fewer than 4,000"),  # (said in JSON only)
        (["--workers", "auto"], 1, "auto: 6 sessions, fewer than 4,000"),
        (["--workers", "3"], 3, "3 workers (3: as asked)"),
        (["--workers", "0"], None, "workers (0: one per core, "),
    ],
    ids=["default", "auto", "three", "per-core"],
)
def test_up_says_how_many_workers_and_why(given: list[str], count: int | None, said: str) -> None:
    """Text: the choice before the progress display, where it is more than one process;
    JSON: ``workers`` beside the report, always."""
    args = ["up", PLANES, "--once", "--transport", "memory", *given]
    text = CliRunner().invoke(cli, args)
    assert text.exit_code == 0, text.output
    first, *rest = text.stdout.splitlines()
    assert "region planes converged" in (rest or [first])[-1]
    if count == 1:
        assert first.startswith("region planes converged")  # one process: nothing said
    else:
        assert said in first
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    workers = out["workers"]
    assert workers["asked"] == (given[-1] if given else "auto")
    assert workers["count"] == (count if count is not None else len(os.sched_getaffinity(0)))
    if count == 1:
        assert f"{workers['asked']}: {workers['why']}" == said
    else:
        assert first.endswith(f"({workers['asked']}: {workers['why']})")  # the same choice
    assert out["report"]["sessions_established"] == 6


def test_up_text_and_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["up", PLANES, "--once"])
    assert result.exit_code == 0 and "region planes converged: 6/6 sessions" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nnodes:\n  - {name: a, role: spine, asn: 1, region: r}\n")
    result = runner.invoke(cli, ["up", str(bad), "--once", "--json"])
    assert result.exit_code == 1
    assert "bad.yaml:3: nodes[0].role: unknown role 'spine'" in json.loads(result.output)["error"]
    result = runner.invoke(cli, ["up", PLANES, "--once", "--runtime", "nowhere"])
    assert result.exit_code == 2  # a usage error, naming the choices
    assert "'nowhere' is not one of 'compose', 'embedded'" in result.stderr


def test_a_broker_that_cannot_be_used_is_named_without_its_password(tmp_path: Path) -> None:
    url = "mqtt://bagemu:hunter2@127.0.0.1:1"  # nothing listens on port 1
    args = ["up", PLANES, "--transport", "memory", "--state-dir", str(tmp_path), "--json"]
    result = CliRunner().invoke(cli, [*args, "--broker", url])
    assert result.exit_code == 1, result.output
    error = json.loads(result.output)["error"]
    assert "cannot use the MQTT broker mqtt://bagemu:***@127.0.0.1:1" in error
    assert "hunter2" not in result.output
