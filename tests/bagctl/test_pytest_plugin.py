"""The pytest plugin and ``bagctl.testing`` as a user meets them: the README's example
test file passes under plain pytest in a folder with no configuration (the plugin is
found through its entry point, no asyncio set-up), with a valid ``--junitxml``; and a
failed assertion says what was expected and what was found."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bagctl.testing import Lab, assert_converged_within, assert_weights

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "test_mini_uplink.py"


def test_the_example_passes_under_plain_pytest(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path)
    report = tmp_path / "report.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", EXAMPLE.name, "--junitxml", str(report),
         "-p", "no:cacheprovider"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "0", "0")


def test_a_failed_assertion_reads_expected_against_actual() -> None:
    lab = Lab()
    try:
        region = lab.region("mini")
        with pytest.raises(AssertionError) as caught:
            assert_weights(region, "r1-nsf1-rtsw1-1", "10.0.7.0/24", {"r1-nsf1-ftsw1-1": 1})
        assert str(caught.value).startswith(
            "weights r1-nsf1-rtsw1-1 10.0.7.0/24: expected r1-nsf1-ftsw1-1 100.0% (within "
            "1.0%), got r1-nsf1-ftsw1-1 50.0%, r1-nsf1-ftsw1-2 50.0%"
        )
        report = region.bundle_down("r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-1")
        with pytest.raises(AssertionError, match=r"converged_within_ms: expected at most 0\.001"):
            assert_converged_within(report, ms=0.001)
    finally:
        lab.close()
