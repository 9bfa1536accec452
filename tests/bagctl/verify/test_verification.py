"""``bagctl.verify.verify_region``, the one entry point, called directly on the diamond of
``test_verify.py``: the verdicts computed by hand there, and the same verdict (and the same
``--json``) as ``bagctl verify`` prints for the same snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_verify import D, diamond, diamond_fib, snapshot_file  # the directory is on sys.path

from bagctl.cli import cli
from bagctl.topology.failures import Failures
from bagctl.verify import Verification, VerifyOptions, verify_region
from bagctl.verify.fibview import FibSnapshot
from bagctl.verify.transients import FibChangeStream

MS = 1_000_000
# m2 loses its route to d at 0 and gets it back at 3 ms, while s keeps sending it a fifth
# of d's traffic: a black hole at m2 for 3 ms, and the FIB ends as it started.
BLACK_HOLE_3MS = [[0, "m2", D, {"d": 1}, None], [3 * MS, "m2", D, None, {"d": 1}]]
LAST = {"event": "bundle-down m2 d"}


def cli_json(tmp_path: Path, fib: dict, *args: str, **extra: object) -> tuple[int, dict]:
    path = snapshot_file(tmp_path, diamond(), fib, Failures())
    if extra:
        path.write_text(json.dumps({**json.loads(path.read_text()), **extra}))
    result = CliRunner().invoke(cli, ["verify", "--from", str(path), "--json", *args])
    out = json.loads(result.output)  # every command's envelope: ok, result (code, error)
    assert set(out) == ({"ok", "result"} if out["ok"] else {"ok", "result", "code", "error"})
    if not out["ok"]:
        assert out["code"] == "verify-failed" and out["error"] == out["result"]["problems"][0]
    return result.exit_code, {**out["result"], "ok": out["ok"]}


def same_json(v: Verification, printed: dict) -> None:
    direct = v.as_dict()
    direct.pop("seconds"), printed.pop("seconds")  # the check's own run time
    assert direct == printed


def test_ucmp_diamond_is_ok_as_the_cli_says(tmp_path: Path) -> None:
    fib = diamond_fib(4, 1)
    v = verify_region(diamond(), FibSnapshot.from_names(fib), Failures(), VerifyOptions())
    # By hand (test_verify): the 4:1 split is the ideal one; ECMP would carry 40 % of it.
    assert v.ok and v.problems == () and v.flows is None and v.transients is None
    assert v.check.actual_vs_ideal == pytest.approx(1.0)
    assert v.check.ecmp_vs_ideal == pytest.approx(0.4)
    code, printed = cli_json(tmp_path, fib)
    assert code == 0 and printed["ok"]
    same_json(v, printed)


def test_ecmp_diamond_fails_with_the_cli_problems(tmp_path: Path) -> None:
    fib = diamond_fib(1, 1)
    options = VerifyOptions(tolerance=0.5)
    v = verify_region(diamond(), FibSnapshot.from_names(fib), Failures(), options)
    # By hand: weights 0.5 against 0.8 are within 0.5, but s and d each put half of
    # their 1T on the 100G path through m2: at the ideal's demand (0.5) that is 250 % on
    # its four directed links (ties go by name: d -> m2 first), and the FIB delivers 40 %.
    assert not v.ok
    assert v.problems == (
        "4 links overloaded; worst d -> m2 at 250% of capacity",
        "the FIB delivers 40.0% of what the ideal split delivers",
    )
    code, printed = cli_json(tmp_path, fib, "--tolerance", "0.5")
    assert code == 3 and printed["problems"] == list(v.problems)
    same_json(v, printed)


def test_flows_and_transients_join_the_verdict(tmp_path: Path) -> None:
    fib = diamond_fib(4, 1)
    options = VerifyOptions(flows=500, seed=4, transients=True, max_transient_ms=1.0)
    v = verify_region(
        diamond(),
        FibSnapshot.from_names(fib),
        Failures(),
        options,
        fib_changes=FibChangeStream(tuple(BLACK_HOLE_3MS)),
        last_report=LAST,
    )
    assert v.flows is not None and v.flows.result.delivered == 500 and not v.flows.outliers
    assert v.transients is not None and v.transients.black_holes == 1
    assert v.problems == (
        "0 transient loops and 1 transient black holes in the last operation, the longest "
        "3.00 ms (over --max-transient-ms 1)",
    )
    args = ("--flows", "500", "--seed", "4", "--transients", "--max-transient-ms", "1")
    changes = {"fib_changes": {"changes": BLACK_HOLE_3MS, "dropped": 0}}
    code, printed = cli_json(tmp_path, fib, *args, last_report=LAST, **changes)
    assert code == 3
    same_json(v, printed)

    # After a cold start the same interval is shown, not counted.
    cold = verify_region(
        diamond(),
        FibSnapshot.from_names(fib),
        Failures(),
        options,
        fib_changes=FibChangeStream(tuple(BLACK_HOLE_3MS)),
        last_report={"event": "cold-start"},
    )
    assert cold.ok and cold.transients_note
    code, printed = cli_json(tmp_path, fib, *args, last_report={"event": "cold-start"}, **changes)
    assert code == 0 and printed["transients"]["note"] == cold.transients_note
    same_json(cold, printed)

    # Asked for transients, given no stream: a problem, and "transients": null.
    none = verify_region(
        diamond(), FibSnapshot.from_names(fib), Failures(), VerifyOptions(transients=True)
    )
    assert none.problems == ("--transients: the region sent no FIB change stream",)
    assert none.as_dict()["transients"] is None


def test_options_refuse_what_no_check_can_use() -> None:
    with pytest.raises(ValueError, match="pcap needs flows"):
        VerifyOptions(pcap="x.pcap")
    with pytest.raises(ValueError, match="tolerance"):
        VerifyOptions(tolerance=1.0)
    with pytest.raises(ValueError, match="alpha"):
        VerifyOptions(alpha=0.0)
