"""``bagctl topo gen``, ``info``, ``validate`` and ``nodes``: files, figures, ``--json``,
errors."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bagctl.cli import cli
from bagctl.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "bagctl" / "topology" / "small.yaml"
MINI = ROOT / "topologies" / "mini.yaml"
LEAF, BAG = "r1-nsf1-rtsw1-1", "r1-bag1-1"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_gen_writes_the_shipped_preset(tmp_path: Path) -> None:
    out = tmp_path / "mini.yaml"
    code, stdout, _ = run("topo", "gen", "--preset", "mini", "-o", str(out), "--json")
    assert code == 0, stdout
    report = json.loads(stdout)
    assert report["ok"] is True and report["preset"] == "mini"
    assert report["speakers"] == 36 and report["bytes"] == out.stat().st_size
    assert report["params"]["planes"] == 2 and report["params"]["rtsw_host"] == "51.2T"
    assert out.read_text() == (ROOT / "topologies" / "mini.yaml").read_text()


def test_gen_param_overrides(tmp_path: Path) -> None:
    out = tmp_path / "m.yaml"
    code, stdout, _ = run(
        "topo", "gen", "--preset", "mini", "--param", "planes=4", "--param", "pods=3",
        "-o", str(out),
    )  # fmt: skip
    assert code == 0, stdout
    assert "55 speakers" in stdout  # 8 BAG, 21 RTSW, 6 FTSW, 8 STSW, 8 RDSW, 4 EDSW
    code, stdout, _ = run("topo", "info", str(out), "--json")
    info = json.loads(stdout)
    assert info["nodes_by_role"]["bag"] == 8 and info["nodes_by_role"]["rtsw"] == 21


def test_info_json_has_the_issue_fields() -> None:
    code, stdout, _ = run("topo", "info", str(ROOT / "topologies" / "mini.yaml"), "--json")
    assert code == 0, stdout
    info = json.loads(stdout)
    for key in (
        "speakers",
        "sessions",
        "member_links",
        "fabrics",
        "nsf_effective_oversubscription",
        "inter_bag_pbps",
        "max_chassis_ports",
    ):
        assert key in info, key
    assert {f["kind"] for f in info["fabrics"].values()} == {"nsf", "dsf"}
    assert info["fabrics"]["r1-nsf1"]["l2_to_bag_oversubscription"] == 4.48
    assert info["nsf_effective_oversubscription"] == 4.978


def test_info_text_on_two_regions(tmp_path: Path) -> None:
    # the spread preset with one NSF pod per region, to keep the file small
    out = tmp_path / "two.yaml"
    code, _, _ = run(
        "topo", "gen", "--preset", "two-region-spread", "--param", "pods=2",
        "--param", "rdsw=24", "-o", str(out),
    )  # fmt: skip
    assert code == 0
    code, stdout, _ = run("topo", "info", str(out))
    assert code == 0, stdout
    assert "inter-BAG capacity  (published 16-48 Pbps per region pair)" in stdout
    assert "r1-r2  19.251 Pbps" in stdout
    assert "max chassis ports 432" in stdout
    assert "r1-nsf1  nsf" in stdout and "r2-dsf1  dsf" in stdout
    assert "NSF effective oversubscription" in stdout


def test_info_on_the_hand_written_example() -> None:
    code, stdout, _ = run("topo", "info", str(SMALL))
    assert code == 0
    assert "NSF effective oversubscription 5.333:1" in stdout
    assert "r1-r2  0.008 Pbps" in stdout


def test_gen_list_presets() -> None:
    code, stdout, _ = run("topo", "gen", "--list", "--json")
    assert code == 0
    listed = json.loads(stdout)
    assert list(listed) == [
        "mini",
        "region",
        "two-region-planar",
        "two-region-spread",
        "prometheus",
        "clos",
    ]
    assert listed["clos"]["params"]["leaves"]["default"] == "32"
    assert listed["two-region-spread"]["params"]["join"]["default"] == "spread"
    code, stdout, _ = run("topo", "gen", "--list")
    assert "planes" in stdout and "bag_ports" in stdout


def test_gen_bad_params_exit_1(tmp_path: Path) -> None:
    out = tmp_path / "x.yaml"
    cases = [
        (["--param", "plane=4"], "error: unknown parameter 'plane' for preset 'mini' (accepted:"),
        (["--param", "planes=four"], "error: parameter 'planes': expected an integer >= 1"),
        (["--param", "planes"], "error: --param 'planes': expected NAME=VALUE"),
        (["--param", "stsw_bag_members=500"], "error: bag_ports: each BAG would need"),
    ]
    for extra, message in cases:
        code, _, stderr = run("topo", "gen", "--preset", "mini", *extra, "-o", str(out))
        assert code == 1 and message in stderr, stderr
    assert not out.exists()
    code, stdout, _ = run("topo", "gen", "--preset", "nano", "-o", str(out), "--json")
    assert code == 1 and json.loads(stdout)["error"].startswith("unknown preset 'nano'")
    code, _, stderr = run("topo", "gen", "--preset", "mini")
    assert code == 1 and "-o/--output" in stderr


def test_info_bad_file_names_file_line_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.read_text().replace("[rtsw1, ftsw1, 1, 400G]", "[rtsw1, ftsw9, 1, 400G]"))
    code, _, stderr = run("topo", "info", str(bad))
    assert code == 1
    assert f"error: {bad}:15: bundles[0].b: unknown node 'ftsw9'" in stderr
    code, stdout, _ = run("topo", "info", str(tmp_path / "missing.yaml"), "--json")
    assert code == 1 and "cannot read" in json.loads(stdout)["error"]


def test_validate_exits_0_1_2(tmp_path: Path) -> None:
    """``topo validate`` for scripts: 0 valid, 1 invalid naming file, line and field, 2 a
    usage error (issue 18)."""
    code, out, _ = run("topo", "validate", str(ROOT / "topologies" / "mini.yaml"))
    assert code == 0 and "valid (mini: 36 speakers, 64 sessions; the AS layout passes" in out
    mini = (ROOT / "topologies" / "mini.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(mini.replace("asn: 4211010004,", "asn: 4211010003,", 1))
    code, out, _ = run("topo", "validate", str(bad), "--json")
    doc = json.loads(out)
    assert code == 1 and not doc["ok"] and doc["error"].startswith(f"{bad}:8: nodes[3]: ")
    code, _, err = run("topo", "validate", str(tmp_path / "absent.yaml"))
    assert code == 2 and "does not exist" in err


def test_topo_nodes_table_names_and_json() -> None:
    runner = CliRunner()
    topo = load_topology(MINI, check=False)
    out = runner.invoke(cli, ["topo", "nodes", str(MINI)])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].split() == ["NODE", "ROLE", "ASN", "REGION", "FABRIC", "BUNDLES"]
    assert lines[1].split() == [LEAF, "rtsw", "4211010001", "r1", "r1-nsf1", "2"]
    assert len(lines) == 1 + len(topo.nodes)
    names = runner.invoke(cli, ["topo", "nodes", str(MINI), "--names"]).output.splitlines()
    assert names == [n.name for n in topo.nodes]
    bags = runner.invoke(cli, ["topo", "nodes", str(MINI), "--role", "bag", "--names"])
    assert bags.output.split() == ["r1-bag1-1", "r1-bag1-2", "r1-bag2-1", "r1-bag2-2"]
    two = runner.invoke(cli, ["topo", "nodes", str(MINI), "--role", "bag", "--role", "edsw"])
    assert len(two.output.splitlines()) == 1 + 4 + 2
    data = json.loads(runner.invoke(cli, ["topo", "nodes", str(MINI), "--json"]).output)
    assert data["ok"] and len(data["nodes"]) == len(topo.nodes)
    bag = {n["name"]: n for n in data["nodes"]}[BAG]
    bundles = sum(1 for b in topo.bundles if BAG in (b.a, b.b))
    assert bag == {"name": BAG, "role": "bag", "asn": 4214000000, "region": "r1",
                   "fabric": "", "bundles": bundles}  # fmt: skip


def test_topo_nodes_errors_name_the_file(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["topo", "nodes", str(tmp_path / "absent.yaml"), "--json"])
    assert out.exit_code == 1
    assert json.loads(out.output)["error"].endswith(
        "absent.yaml: cannot read: No such file or directory"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nnodes:\n  - name: a\n    role: nope\n")
    out = runner.invoke(cli, ["topo", "nodes", str(bad)])
    assert out.exit_code == 1 and f"{bad}:4: nodes[0].role: unknown role 'nope'" in out.output
    bad = runner.invoke(cli, ["topo", "nodes", str(MINI), "--role", "spine"])
    assert bad.exit_code == 2
