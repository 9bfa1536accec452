"""Scenario files (bagctl/scenario/load.py): a valid one becomes a ``Scenario``; every
mistake is an error naming the file, the line and the field, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bagctl.scenario import load_scenario, parse_scenario
from bagctl.scenario.model import Action
from speakers.yamldoc import ConfigError

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))

HEAD = """\
name: t
region:
  preset: mini
steps:
"""
RACK = "r1-nsf1-rtsw1-1"
UPLINK = "[r1-nsf1-rtsw1-1, r1-nsf1-ftsw1-1]"


def error(steps: str, head: str = HEAD) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_scenario(head + steps, "s.yaml")
    return caught.value


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_shipped_scenario_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.steps and scenario.region.transport == "memory"


def test_a_step_becomes_its_action_and_expectations() -> None:
    s = parse_scenario(
        HEAD
        + f"""\
  - bundle_down: {UPLINK}
    expect:
      converged_within_ms: 1
      weights:
        - {{node: {RACK}, prefix: 10.0.7.0/24, ratios: {{r1-nsf1-ftsw1-2: 3}}}}
  - flap: {{bundle: {UPLINK}, count: 3, interval_s: 2}}
  - drain: r1-bag1-1
  - wait_s: 90
  - announce: {{node: {RACK}, prefix: 198.51.100.1/32, bandwidth: 800G}}
  - withdraw: {{node: {RACK}, prefix: 198.51.100.1/32}}
""",
        "s.yaml",
    )
    down, flap, drain, wait, announce, withdraw = s.steps
    assert announce.action == Action("announce", (RACK, "198.51.100.1/32", 800e9))
    assert withdraw.action == Action("withdraw", (RACK, "198.51.100.1/32"))
    assert down.action == Action("bundle_down", (RACK, "r1-nsf1-ftsw1-1"))
    assert down.name == f"bundle-down {RACK} r1-nsf1-ftsw1-1" and down.line == 5
    assert down.expect.converged_within_ms == 1
    assert down.expect.weights[0].ratios == (("r1-nsf1-ftsw1-2", 3.0),)
    assert flap.action == Action("flap", (RACK, "r1-nsf1-ftsw1-1", 3, 2.0))
    assert drain.action == Action("drain", ("r1-bag1-1", "link-bandwidth-zero"))
    assert wait.action == Action("wait", (90.0,))


@pytest.mark.parametrize(
    ("steps", "line", "where", "says"),
    [
        (f"  - bundle_down: [{RACK}, r1-nsf1-ftsw2-1]\n", 5, "steps[0].bundle_down",
         "no bundle between"),
        ("  - restart: r1-nsf1-rtsw9-9\n", 5, "steps[0].restart", "no such node"),
        ("  - restart: r1-dsf1-fdsw1\n", 5, "steps[0].restart", "speaks no BGP"),
        (f"  - bundle_down: {UPLINK}\n    restart: {RACK}\n", 5, "steps[0]", "exactly one action"),
        ("  - name: nothing\n", 5, "steps[0]", "exactly one action (none given)"),
        (f"  - bundle_down: {UPLINK}\n    expect: {{within_ms: 1}}\n", 6,
         "steps[0].expect.within_ms", "unknown field"),
        ("  - check: true\n    expect: {max_updates: 3}\n", 6, "steps[0].expect",
         "runs no operation"),
        (f"  - bundle_down: {UPLINK}\n    expect:\n      weights:\n"
         f"        - {{node: {RACK}, prefix: 10.0.7.0/24, ratios: {{r1-nsf1-ftsw1-2: -1}}}}\n",
         8, "steps[0].expect.weights[0].ratios.r1-nsf1-ftsw1-2", "above 0"),
        (f"  - members: {{bundle: {UPLINK}, up: 33}}\n", 5, "steps[0].members.up", "1..32"),
        ("  - wait_s: soon\n", 5, "steps[0].wait_s", "number"),
    ],
)  # fmt: skip
def test_a_mistake_names_file_line_and_field(steps: str, line: int, where: str, says: str) -> None:
    e = error(steps)
    assert (e.file, e.line, e.where) == ("s.yaml", line, where), str(e)
    assert says in e.message, str(e)


def test_the_region_is_checked_too() -> None:
    e = error("  - check: true\n", "region: {preset: mini, params: {bags: 3}}\nsteps:\n")
    assert (e.line, e.where) == (1, "region.params") and "unknown parameter" in e.message
    e = error("  - check: true\n", "region: {preset: mini, topology: x.yaml}\nsteps:\n")
    assert e.where == "region" and "one of preset or topology" in e.message
    e = error("", HEAD)
    assert e.where == "steps"


def test_the_json_schema_describes_what_the_loader_reads() -> None:
    """``scenarios/scenario.schema.json`` (for editors and other tools) takes every shipped
    scenario, refuses what the loader refuses for its shape, and names the same fields."""
    import json

    import jsonschema
    import yaml

    from bagctl.scenario import load as loader

    schema = json.loads((ROOT / "scenarios" / "scenario.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in SCENARIOS:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert not errors, (path.name, errors)
    assert set(schema["properties"]) == loader._TOP
    assert set(schema["properties"]["region"]["properties"]) == loader._REGION
    assert set(schema["$defs"]["step"]["properties"]) == loader._STEP
    assert set(schema["$defs"]["expect"]["properties"]) == loader._EXPECT
    for bad in (
        {"region": {"preset": "mini"}, "steps": [{"bundle_down": ["a", "b"], "restart": "a"}]},
        {"region": {"preset": "mini", "topology": "x.yaml"}, "steps": [{"check": True}]},
        {"region": {"preset": "mini"}, "steps": [{"check": True, "expect": {"within": 1}}]},
    ):
        assert not validator.is_valid(bad), bad


def test_verify_takes_a_tolerance_an_ideal_ratio_and_a_longest_transient() -> None:
    s = parse_scenario(
        HEAD + "  - check: true\n    expect:\n      verify: {min_ideal_ratio: 0.9, "
        "max_transient_ms: 0.5}\n",
        "s.yaml",
    )
    v = s.steps[0].expect.verify
    assert v is not None and (v.min_ideal_ratio, v.max_transient_ms) == (0.9, 0.5)
    assert v.tolerance == 0.05  # bagctl verify's default
    e = error("  - check: true\n    expect: {verify: {min_ideal_ratio: 2}}\n")
    assert e.where == "steps[0].expect.verify.min_ideal_ratio" and "0 to 1" in e.message


def test_set_bandwidth_names_a_switch_its_peer_and_the_modes() -> None:
    s = parse_scenario(
        HEAD
        + f"""\
  - set_bandwidth: {{node: {RACK}, peer: r1-nsf1-ftsw1-1, export: none}}
  - set_bandwidth: {{node: r1-bag1-1, missing: skip-missing}}
""",
        "s.yaml",
    )
    to_peer, missing = s.steps
    assert to_peer.action == Action("set_bandwidth", (RACK, "r1-nsf1-ftsw1-1", "none", None))
    assert missing.action == Action("set_bandwidth", ("r1-bag1-1", None, None, "skip-missing"))
    assert missing.name == "set-bandwidth r1-bag1-1 skip-missing"
    e = error(f"  - set_bandwidth: {{node: {RACK}, export: fixed}}\n")
    assert (e.line, e.where) == (5, "steps[0].set_bandwidth.export")
    assert "expected one of none, link-capacity" in str(e)
    e = error(f"  - set_bandwidth: {{node: {RACK}}}\n")
    assert e.where == "steps[0].set_bandwidth" and "name an export mode" in str(e)
    e = error(f"  - set_bandwidth: {{node: {RACK}, peer: r1-bag1-1, export: none}}\n")
    assert e.where == "steps[0].set_bandwidth.peer" and "no bundle between" in str(e)


def test_verify_may_expect_a_fault_found() -> None:
    s = parse_scenario(HEAD + "  - check: true\n    expect: {verify: {finds: [loop]}}\n", "s.yaml")
    v = s.steps[0].expect.verify
    assert v is not None and v.finds == ("loop",)
    e = error("  - check: true\n    expect: {verify: {finds: [storm]}}\n")
    assert e.where == "steps[0].expect.verify.finds[0]" and "loop, black-hole" in str(e)


def test_workers_are_a_count_or_auto() -> None:
    """``workers: auto`` chooses as ``bagctl up`` does (one process for mini); counts
    stay as they were (1 to 64; 1 by default)."""
    from bagctl.runtimes.local import InProcess
    from bagctl.scenario.run import region_for

    steps = "  - check: true\n"
    head = "name: t\nregion:\n  preset: mini\n  workers: {}\nsteps:\n"
    assert parse_scenario(HEAD + steps, "s.yaml").region.workers == 1
    assert parse_scenario(head.format(3) + steps, "s.yaml").region.workers == 3
    auto = parse_scenario(head.format("auto") + steps, "s.yaml").region
    assert auto.workers == "auto"
    assert isinstance(region_for(auto).placement, InProcess)  # 64 sessions: one process
    for bad in ("0", "65", "many"):
        e = error(steps, head.format(bad))
        assert e.where == "region.workers" and "expected auto or an integer 1..64" in e.message
