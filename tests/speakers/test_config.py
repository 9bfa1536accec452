"""Speaker configuration: the example loads, and every error names file, line and field."""

from __future__ import annotations

import pytest

from speakers.config import EXAMPLE, ConfigError, Prefix, load_config, parse_config
from speakers.ucmp import MissingBandwidthMode, ReadvertiseMode
from speakers.yamldoc import parse_bps


def test_example_loads() -> None:
    cfg = parse_config(EXAMPLE, "example.yaml")
    assert cfg.asn == 4200001000 and cfg.listen_port == 1179
    assert [n.name for n in cfg.neighbors] == ["rtsw1", "rtsw2"]
    assert cfg.neighbors[0].link_capacity_bps == 12.8e12
    assert cfg.neighbors[0].export.link_bandwidth is ReadvertiseMode.CUMULATIVE
    assert cfg.neighbors[1].md5_password == "s3cret"
    assert cfg.neighbors[0].local_address == cfg.listen_address
    assert cfg.missing_bandwidth is MissingBandwidthMode.DEFAULT
    assert cfg.originate[0].prefix == Prefix.parse("10.100.0.0/24")
    assert not cfg.aggregates[0].complete_only  # a plain aggregate-address by default
    complete = EXAMPLE.replace("suppress_toward: [rtsw1, rtsw2]}", "complete_only: true}")
    assert parse_config(complete, "complete.yaml").aggregates[0].complete_only


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("asn: 1\nrouter_id: 1.1.1.1\n", "cfg.yaml:1: listen.address: required field is missing"),
        ("asn: x\n", "cfg.yaml:1: asn: expected an integer 1..4294967295, got 'x'"),
        (
            "asn: 1\nrouter_id: 1.1.1.1\nlisten: {address: 127.0.0.1}\nbogus: 1\n",
            "cfg.yaml:4: bogus: unknown field 'bogus'",
        ),
        (
            "asn: 1\nrouter_id: 1.1.1.1\nlisten: {address: 127.0.0.1}\nhold_time_s: 2\n",
            "cfg.yaml:4: hold_time_s: hold time must be 0 or at least 3 seconds",
        ),
        (
            "asn: 1\nrouter_id: 1.1.1.1\nlisten: {address: 127.0.0.1}\nneighbors:\n"
            "  - {name: a, address: 10.0.0.1, remote_as: 2}\n"
            "  - {name: a, address: 10.0.0.2, remote_as: 3}\n",
            "cfg.yaml:6: neighbors[1].name: duplicate neighbor name 'a'",
        ),
        (
            "asn: 1\nrouter_id: 1.1.1.1\nlisten: {address: 127.0.0.1}\nneighbors:\n"
            "  - {name: a, address: 10.0.0.1, remote_as: 2}\n"
            "  - {name: b, address: 10.0.0.1, remote_as: 3}\n",
            "cfg.yaml:6: neighbors[1].address: address 10.0.0.1 also used by a",
        ),
        (
            "asn: 1\nrouter_id: 1.1.1.1\nlisten: {address: 127.0.0.1}\nneighbors:\n"
            "  - name: a\n    address: 10.0.0.1\n    remote_as: 2\n    link_capacity: 12.8Q\n",
            "cfg.yaml:8: neighbors[0].link_capacity: expected bits per second like 800G",
        ),
        (
            "asn: 1\nrouter_id: 1.1.1.1\nlisten: {address: 127.0.0.1}\n"
            "originate:\n  - 10.0.0.1/24\n",
            "cfg.yaml:5: originate[0].prefix: expected a prefix like 10.1.0.0/16",
        ),
        (
            "asn: 1\nrouter_id: 1.1.1.1\nlisten: {address: 127.0.0.1}\n"
            "bandwidth: {missing: maybe}\n",
            "cfg.yaml:4: bandwidth.missing: expected one of default, ignore, skip-missing",
        ),
        (
            "asn: 1\nrouter_id: 1.1.1.1\nlisten: {address: 127.0.0.1}\nneighbors:\n"
            "  - {name: '<local>', address: 10.0.0.1, remote_as: 2}\n",
            "cfg.yaml:5: neighbors[0].name: neighbor name '<local>'",
        ),
        ("asn: [1\n", "cfg.yaml:2: not valid YAML"),
    ],
    ids=[
        "missing-field", "bad-asn", "unknown-field", "hold-time", "duplicate-name",
        "duplicate-address", "bad-capacity", "host-bits", "bad-enum", "reserved-name", "yaml",
    ],
)  # fmt: skip
def test_errors_name_file_line_and_field(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "cfg.yaml")
    assert str(info.value).startswith(expected), str(info.value)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yaml")


def test_bandwidth_units() -> None:
    assert parse_bps("800G") == 800e9
    assert parse_bps("12.8T") == 12.8e12
    assert parse_bps("48P") == 48e15
    assert parse_bps("100Mbps") == 100e6
    assert parse_bps("1000") == 1000.0


def test_the_readme_example_is_a_valid_config() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("### Speaker configuration")[1].split("```yaml\n")[1].split("```")[0]
    cfg = parse_config(block, "README.md")
    (rtsw1,) = cfg.neighbors
    assert rtsw1.export.prefix_list is not None
    assert rtsw1.export.prefix_list.permits(Prefix.parse("10.0.0.0/8"))
    assert not rtsw1.export.prefix_list.permits(Prefix.parse("10.64.1.0/24"))  # deny entry
    assert cfg.default_bandwidth_bps == 100e9
