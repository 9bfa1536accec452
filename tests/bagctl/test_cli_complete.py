"""Shell completion (``bagctl/cli/complete.py``, ``bagctl completion``) and ``bagctl topo
nodes``: candidates asked for the way a shell asks (click's ``ShellComplete``, and once
through the ``_BAGCTL_COMPLETE`` environment protocol in a process of its own), from a
state directory laid out as a running region leaves it (``bagctl/bus/host.py``); the
end-to-end check against a real region is in ``test_cli_control.py``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.shell_completion import BashComplete
from click.testing import CliRunner

from bagctl.cli import cli
from bagctl.topology import load_topology
from bagctl.topology.generate import PRESETS

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "topologies" / "mini.yaml"
LEAF, BAG = "r1-nsf1-rtsw1-1", "r1-bag1-1"


def run_region(state_dir: Path, region: str, topology: Path, pid: int | None = None) -> None:
    """The state a running region leaves: ``NAME.json`` naming its topology copy."""
    state_dir.mkdir(exist_ok=True)
    copy = state_dir / f"{region}.topology.yaml"
    shutil.copy(topology, copy)
    state = {"region": region, "pid": pid or os.getpid(), "broker": "mqtt://127.0.0.1:1"}
    (state_dir / f"{region}.json").write_text(json.dumps({**state, "topology": str(copy)}))


def complete(args: list[str], incomplete: str) -> list[str]:
    comp = BashComplete(cli, {}, "bagctl", "_BAGCTL_COMPLETE")
    return [item.value for item in comp.get_completions(args, incomplete)]


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    sd = tmp_path / "state"
    monkeypatch.setenv("BAGEMU_STATE_DIR", str(sd))
    return sd


def test_node_names_of_the_running_region(state_dir: Path) -> None:
    run_region(state_dir, "mini", MINI)
    topo = load_topology(MINI, check=False)
    speakers = sorted(n.name for n in topo.nodes if n.role.speaks_bgp)
    assert sorted(complete(["node", "drain"], "")) == speakers
    assert complete(["node", "restart"], "r1-bag1-") == ["r1-bag1-1", "r1-bag1-2"]
    assert sorted(complete(["show", "rib"], "")) == speakers
    assert complete(["show", "fib", "--timeout", "5"], "r1-bag2") == ["r1-bag2-1", "r1-bag2-2"]
    # An FDSW carries no BGP: no speaker to drain or show, but its bundles can fail.
    fdsw = next(n.name for n in topo.nodes if not n.role.speaks_bgp)
    assert complete(["node", "drain"], fdsw) == [] and complete(["link", "down"], fdsw) == [fdsw]


def test_bundle_far_end_is_a_peer_of_the_first(state_dir: Path) -> None:
    run_region(state_dir, "mini", MINI)
    topo = load_topology(MINI, check=False)
    peers = sorted(
        {b.b for b in topo.bundles if b.a == BAG} | {b.a for b in topo.bundles if b.b == BAG}
    )
    for verb in ("down", "up", "flap"):
        assert sorted(complete(["link", verb, BAG], "")) == peers
    assert complete(["link", "down", LEAF], "") == ["r1-nsf1-ftsw1-1", "r1-nsf1-ftsw1-2"]
    # An unknown first end: every node with a bundle, as for the first.
    assert len(complete(["link", "down", "nope"], "")) == len(topo.nodes)


def test_region_option_picks_the_region(state_dir: Path, tmp_path: Path) -> None:
    run_region(state_dir, "mini", MINI)
    run_region(
        state_dir, "frr-link-bw", ROOT / "examples" / "topologies" / "frr-bgp-link-bw-ip.yaml"
    )
    assert complete(["status", "--region"], "") == ["frr-link-bw", "mini"]
    assert complete(["status", "--region"], "m") == ["mini"]
    assert complete(["node", "drain", "--region", "frr-link-bw"], "r1") == ["r1", "r10"]
    assert complete(["node", "drain", "--region", "mini"], "r1") == complete(
        ["node", "drain"], "r1-"
    )
    # Both regions running and no --region: the names of both.
    assert {"r10", BAG} <= set(complete(["node", "drain"], "r1"))
    # --state-dir on the line wins over $BAGEMU_STATE_DIR.
    other = tmp_path / "other"
    run_region(other, "clos", ROOT / "topologies" / "clos.yaml")
    assert complete(["node", "drain", "--state-dir", str(other)], "leaf1") == [
        "leaf1", *[f"leaf{i}" for i in range(10, 20)]
    ]  # fmt: skip


def test_nothing_running_or_broken_state_offers_nothing(state_dir: Path) -> None:
    assert complete(["node", "drain"], "") == []  # no state directory at all
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    run_region(state_dir, "mini", MINI, pid=int(dead.stdout))
    assert complete(["node", "drain"], "") == []  # its process has exited
    run_region(state_dir, "mini", MINI)
    (state_dir / "mini.topology.yaml").write_text("nodes: [unterminated\n")
    assert complete(["node", "drain"], "") == []  # not a topology
    (state_dir / "mini.topology.yaml").unlink()
    assert complete(["link", "down", LEAF], "") == []  # gone
    (state_dir / "mini.json").write_text("{not json")
    assert complete(["node", "drain"], "") == [] and complete(["status", "--region"], "") == [
        "mini"
    ]


def test_presets_and_topology_files() -> None:
    assert complete(["topo", "gen", "--preset"], "") == list(PRESETS)
    assert complete(["topo", "gen", "--preset"], "two") == [
        "two-region-planar",
        "two-region-spread",
    ]
    comp = BashComplete(cli, {}, "bagctl", "_BAGCTL_COMPLETE")
    for args in (["topo", "info"], ["topo", "draw"], ["topo", "nodes"], ["up"]):
        (item,) = comp.get_completions(args, "topologies/m")
        assert item.type == "file", args  # the shell lists the files
    assert complete(["topo", "nodes", "x", "--role"], "") == [
        "rtsw", "ftsw", "stsw", "rdsw", "edsw", "fdsw", "bag"
    ]  # fmt: skip
    assert complete(["completion"], "") == ["bash", "zsh", "fish"]


def test_the_environment_protocol_in_a_process(state_dir: Path) -> None:
    """What the shell script does on Tab: run bagctl with _BAGCTL_COMPLETE (here as
    ``python -m bagctl``, which answers to the same variable); stdout holds candidates
    and nothing else."""
    run_region(state_dir, "mini", MINI)
    env = {**os.environ, "_BAGCTL_COMPLETE": "bash_complete"}
    env |= {"COMP_WORDS": f"bagctl link down {LEAF} ", "COMP_CWORD": "4"}
    proc = subprocess.run([sys.executable, "-m", "bagctl"], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.split() == ["plain,r1-nsf1-ftsw1-1", "plain,r1-nsf1-ftsw1-2"]
    env |= {"_BAGCTL_COMPLETE": "zsh_complete", "COMP_WORDS": "bagctl node drain r1-bag1-1"}
    env["COMP_CWORD"] = "3"
    proc = subprocess.run([sys.executable, "-m", "bagctl"], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert proc.stdout.splitlines() == ["plain", "r1-bag1-1", "bag AS4214000000"]


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F _bagctl_completion bagctl"),
        ("zsh", "compdef _bagctl_completion bagctl"),
        ("fish", "complete --no-files --command bagctl"),
    ],
)
def test_completion_prints_the_script(shell: str, marker: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0, result.output
    assert marker in result.output and f"_BAGCTL_COMPLETE={shell}_complete" in result.output
    out = json.loads(CliRunner().invoke(cli, ["completion", shell, "--json"]).output)
    assert out["ok"] and out["shell"] == shell and marker in out["script"]
    assert out["install"].startswith(("eval", "bagctl completion fish"))
    bad = CliRunner().invoke(cli, ["completion", "tcsh"])
    assert bad.exit_code == 2 and "'tcsh' is not one of" in bad.output
