"""``bagctl test`` as a CI job runs it: the shipped scenarios pass and write valid JUnit
XML; a wrong expectation exits 1 with expected against actual; an invalid file exits 2
naming file, line and field; and runs at once on one host, beside a detached region,
neither collide nor take down each other's regions."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from bagctl.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
MINI = str(ROOT / "topologies" / "mini.yaml")


def bagctl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bagctl", *args],
        capture_output=True, text=True, timeout=600, env=env, cwd=ROOT,
    )  # fmt: skip


def start(*args: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "bagctl", *args]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def steps_in(folder: Path) -> int:
    """Testcases a run of ``folder`` reports: the cold start and every step, per file."""
    return sum(1 + len(load_scenario(f).steps) for f in folder.glob("*.yaml"))


def test_the_shipped_scenarios_pass_and_write_valid_junit(tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    proc = bagctl("test", "scenarios/", "--junit", str(report))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    assert int(root.get("tests", "0")) == steps_in(SCENARIOS) > 0
    assert root.get("failures") == root.get("errors") == "0"
    suites = root.findall("testsuite")
    shipped = {str(f.relative_to(ROOT)) for f in SCENARIOS.glob("*.yaml")}
    assert {s.get("file") for s in suites} == shipped
    for suite in suites:
        cases = suite.findall("testcase")
        assert len(cases) == int(suite.get("tests", "-1")) and cases[0].get("name") == "cold start"


def test_a_wrong_expectation_exits_1_with_the_difference(tmp_path: Path) -> None:
    doc = yaml.safe_load((SCENARIOS / "mini-rack-uplink.yaml").read_text())
    doc["steps"][0]["expect"]["weights"][0]["ratios"] = {"r1-nsf1-ftsw1-1": 1, "r1-nsf1-ftsw1-2": 1}
    doc["steps"][0]["expect"]["max_updates"] = 5
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(yaml.safe_dump(doc))
    report = tmp_path / "report.xml"
    proc = bagctl("test", str(wrong), "--junit", str(report))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL  uplink to plane 1 down" in proc.stdout
    assert "max_updates: expected at most 5, got " in proc.stdout
    assert (
        "expected r1-nsf1-ftsw1-1 50.0%, r1-nsf1-ftsw1-2 50.0% (within 1.0%), "
        "got r1-nsf1-ftsw1-2 100.0%" in proc.stdout
    )
    (failure,) = ET.parse(report).getroot().iter("failure")
    assert failure.get("message", "").startswith("max_updates: expected at most 5")
    assert "got r1-nsf1-ftsw1-2 100.0%" in (failure.text or "")


def test_a_hazard_expected_but_not_found_fails(tmp_path: Path) -> None:
    """``verify: {finds: [...]}`` passes only when verify names that fault: the shipped
    hazard scenario's loop is no black hole, and with summarization off there is none."""
    doc = yaml.safe_load((SCENARIOS / "mini-summarization-hazard.yaml").read_text())
    doc["steps"][0]["expect"]["verify"] = {"finds": ["loop", "black-hole"]}
    doc["steps"] = doc["steps"][:1]
    wrong = tmp_path / "hazard.yaml"
    wrong.write_text(yaml.safe_dump(doc))
    doc["region"]["params"]["summarize"] = "none"
    doc["steps"][0]["expect"] = {"verify": {"finds": ["loop"]}}
    (tmp_path / "none.yaml").write_text(yaml.safe_dump(doc))
    proc = bagctl("test", str(tmp_path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "expected it to find a black-hole, it found 2 prefixes meet a loop" in proc.stdout
    assert "expected it to find a loop" not in proc.stdout.split("none.yaml")[0]
    assert "expected it to find a loop, it found no problem" in proc.stdout


def test_graceful_restart_scenarios_tell_graceful_from_plain_and_timers_that_agree(
    tmp_path: Path,
) -> None:
    """The shipped graceful restart scenarios pass (the suite's run above) and cannot pass
    by chance: a graceful BAG restart has no transient black hole to find, and with a
    stale-path time as long as the select-defer time the rack loses nothing."""
    doc = yaml.safe_load((SCENARIOS / "mini-bag-graceful-restart.yaml").read_text())
    doc["steps"] = doc["steps"][:1]
    doc["steps"][0]["expect"] = {"verify": {"finds": ["transient-black-hole"]}}
    (tmp_path / "bag.yaml").write_text(yaml.safe_dump(doc))
    doc = yaml.safe_load((SCENARIOS / "mini-graceful-restart-timer-mismatch.yaml").read_text())
    doc["region"]["graceful_restart"]["stalepath_time_s"] = 120
    (tmp_path / "timers.yaml").write_text(yaml.safe_dump(doc))
    proc = bagctl("test", str(tmp_path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.count("expected it to find a transient-black-hole") == 2
    assert proc.stdout.count("(transients: 0 black holes, 0 loops)") == 2


def test_an_invalid_scenario_exits_2_naming_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "region: {preset: mini}\nsteps:\n"
        "  - bundle_down: [r1-nsf1-rtsw1-1, r1-nsf1-ftsw1-1]\n"
        "    expect: {converged_within: 1}\n"
    )
    proc = bagctl("test", str(bad), str(SCENARIOS))
    assert proc.returncode == 2
    assert f"{bad}:4: steps[0].expect.converged_within: unknown field" in proc.stderr
    assert "PASS" not in proc.stdout  # nothing ran
    assert bagctl("test", "--jobs", "0", str(SCENARIOS)).returncode == 2  # a usage error


def test_runs_at_once_beside_a_detached_region_leave_each_other_alone(tmp_path: Path) -> None:
    env = {**os.environ, "BAGEMU_STATE_DIR": str(tmp_path / "state")}
    up = bagctl("up", MINI, "--detach", "--json", env=env)
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        runs = [start("test", "-j", "2", str(SCENARIOS)) for _ in range(2)]
        outcomes = [run.communicate(timeout=600) for run in runs]
        for run, (out, err) in zip(runs, outcomes, strict=True):
            assert run.returncode == 0, out + err
        status = bagctl("status", "--json", env=env)
        assert status.returncode == 0 and '"sessions_established": 64' in status.stdout
    finally:
        down = bagctl("down", "--json", env=env)
    assert down.returncode == 0, down.stdout + down.stderr


@pytest.mark.slow
def test_the_region_preset_survives_a_leaf_uplink_failure_verified() -> None:
    """Issue 18: the flagship preset's first obvious test. Pod summarization with
    aggregates announced only while complete: one leaf uplink down, verify passes (with
    aggregates announced while any leaf is reachable it is RFC 7938 §8.2's loop, which
    mini-summarization-hazard.yaml keeps found)."""
    scenario = ROOT / "examples" / "scenarios" / "region-leaf-uplink.yaml"
    proc = bagctl("test", str(scenario))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 steps: 3 passed" in proc.stdout


def test_a_90s_hold_timer_is_waited_out_in_a_few_wall_seconds() -> None:
    t0 = time.monotonic()
    proc = bagctl("test", str(SCENARIOS / "mini-hung-switch.yaml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "100 s later, every neighbor's hold timer has expired" in proc.stdout
    assert time.monotonic() - t0 < 30


def test_a_golden_fib_is_written_then_held(tmp_path: Path) -> None:
    scenario = tmp_path / "golden.yaml"
    scenario.write_text(
        "region: {preset: mini}\nsteps:\n"
        "  - bundle_down: [r1-nsf1-rtsw1-1, r1-nsf1-ftsw1-1]\n"
        "    expect: {fib_golden: golden/down.json}\n"
    )
    golden = tmp_path / "golden" / "down.json"
    missing = bagctl("test", str(scenario))
    assert missing.returncode == 1 and "no such file (bagctl test --update-golden" in missing.stdout
    assert bagctl("test", str(scenario), "--update-golden").returncode == 0
    assert bagctl("test", str(scenario)).returncode == 0  # the same FIB again
    fib = golden.read_text().replace('"r1-nsf1-ftsw1-2": ', '"r1-nsf1-ftsw1-1": ', 1)
    golden.write_text(fib)
    changed = bagctl("test", str(scenario))
    assert changed.returncode == 1
    assert "entries differ (golden -> actual" in changed.stdout


def test_the_ci_examples_run_bagctl_test_with_a_junit_report() -> None:
    """examples/ci: what a user's GitHub Actions or GitLab CI job runs is the command this
    suite runs (the files cannot run here: they are parsed and held to it)."""
    github = yaml.safe_load((ROOT / "examples" / "ci" / "github-actions.yml").read_text())
    steps = github["jobs"]["scenarios"]["steps"]
    assert any(
        "bagctl test scenarios/" in s.get("run", "") and "--junit" in s["run"] for s in steps
    )
    gitlab = yaml.safe_load((ROOT / "examples" / "ci" / "gitlab-ci.yml").read_text())
    job = gitlab["convergence"]
    assert any(line.startswith("bagctl test scenarios/") for line in job["script"])
    assert job["artifacts"]["reports"]["junit"] == "report.xml"
