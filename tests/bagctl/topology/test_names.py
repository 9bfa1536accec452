"""``topology/names.py``: the fast scan of the generated form agrees with the full reader
on every shipped topology, and gives the file back to the full reader (or refuses,
past a size) wherever it is not sure."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bagctl.topology import load_topology
from bagctl.topology.model import Role
from bagctl.topology.names import names_of, read_names, scan_names
from speakers.yamldoc import ConfigError

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = [
    "topologies/mini.yaml",
    "topologies/clos.yaml",
    "topologies/region.yaml",
    "examples/topologies/frr-bgp-link-bw-ip.yaml",  # plain scalars, hand-written
    "tests/bagctl/topology/small.yaml",  # a bundle in the mapping form among lists
    "tests/bagctl/runtimes/planes.yaml",
]


@pytest.mark.parametrize("path", SHIPPED)
def test_scan_agrees_with_the_full_reader(path: str) -> None:
    file = ROOT / path
    scanned = scan_names(file.read_text())
    assert scanned is not None, "a shipped topology is in the one-line form"
    assert scanned == names_of(load_topology(file, check=False))


def test_prometheus_is_scanned_fast() -> None:
    """The largest preset: 5,910 nodes (5,856 speak BGP), 50,688 bundles. The full reader
    takes about 8 s; shell completion has well under one."""
    text = (ROOT / "topologies" / "prometheus.yaml").read_text()
    t0 = time.perf_counter()
    names = scan_names(text)
    elapsed = time.perf_counter() - t0
    assert names is not None
    assert len(names.nodes) == 5910 and len(names.bundles) == 50688
    assert sum(1 for n in names.nodes if n.role is not None and n.role.speaks_bgp) == 5856
    assert elapsed < 1.0, f"{elapsed:.2f} s"


HAND_WRITTEN = """\
# comments and blank lines anywhere
name: hand
nodes:

  - {name: 'a1', role: rtsw, asn: 65001, region: r, fabric: f}   # single-quoted
  - {name: b1, role: bag, asn: 65100, region: r}
bundles:
  - [a1, b1, 2, 400G]
  - {a: b1, b: a1, members: 1, speed: 1G, kind: link}  # the same pair the other way
"""

BLOCK_STYLE = """\
name: block
nodes:
  - name: a1
    role: rtsw
    asn: 65001
    region: r
    fabric: f
  - {name: b1, role: bag, asn: 65100, region: r}
bundles:
  - [a1, b1, 2, 400G]
"""


def test_hand_written_forms() -> None:
    names = scan_names(HAND_WRITTEN)
    assert names is not None
    assert [(n.name, n.role, n.asn) for n in names.nodes] == [
        ("a1", Role.RTSW, 65001),
        ("b1", Role.BAG, 65100),
    ]
    assert names.bundles == (("a1", "b1"), ("b1", "a1")) and names.peers("b1") == ["a1", "a1"]


@pytest.mark.parametrize(
    "text",
    [
        BLOCK_STYLE,
        "name: x\nnodes: [{name: a, role: bag, asn: 1, region: r}]\n",  # flow on the key line
        "---\nname: x\nnodes:\n  - {name: a, role: bag, asn: 1, region: r}\n",
        "name: x\nnodes:\n  - {name: a, role: bag,\n     asn: 1, region: r}\n",  # over lines
        "name: x\nnodes:\n  - &n {name: a, role: bag, asn: 1, region: r}\n  - *n\n",
        "name: x\nbundles: []\n",  # no nodes at all
    ],
)
def test_anything_else_goes_to_the_full_reader(text: str) -> None:
    assert scan_names(text) is None


def test_read_names_falls_back_to_the_full_reader(tmp_path: Path) -> None:
    f = tmp_path / "block.yaml"
    f.write_text(BLOCK_STYLE)
    names = read_names(f)
    assert [n.name for n in names.nodes] == ["a1", "b1"] and names.peers("a1") == ["b1"]
    with pytest.raises(ConfigError, match="over 10 bytes to read in full"):
        read_names(f, full_read_max_bytes=10)
    f.write_text(BLOCK_STYLE.replace("asn: 65001", "asn: lots"))
    with pytest.raises(ConfigError, match=rf"^{f}:5: nodes\[0\]\.asn: expected an integer"):
        read_names(f)
    with pytest.raises(ConfigError, match="cannot read"):
        read_names(tmp_path / "absent.yaml")
