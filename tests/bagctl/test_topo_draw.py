"""``bagctl/topology/draw.py`` and ``bagctl topo draw``: the layout's geometry, each output
format parsed back, and the command's exit codes, text and ``--json``."""

from __future__ import annotations

import json
import re
import struct
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import pytest
from click.testing import CliRunner

from bagctl.cli import cli
from bagctl.topology.draw import bundle_width_pt, check_output, layout, plane_colours, render
from bagctl.topology.model import Bundle, Node, Role, Topology

G = 1e9
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _region(region: str, asn: int, planes: int = 2) -> tuple[list[Node], list[Bundle]]:
    """One region: an NSF fabric (rtsw -> ftsw -> stsw per plane), a DSF fabric (rdsw and
    edsw over fdsw, with dsf_mesh sessions) and a BAG per plane."""
    nodes: list[Node] = []
    bundles: list[Bundle] = []

    def node(name: str, role: Role, fabric: str = "", plane: int | None = None) -> None:
        nodes.append(Node(f"{region}-{name}", role, asn + len(nodes), region, "", fabric, plane))

    def bundle(a: str, b: str, members: int, speed: float, kind: str = "link") -> None:
        bundles.append(Bundle(f"{region}-{a}", f"{region}-{b}", members, speed, kind))

    for p in range(planes):
        node(f"bag{p}", Role.BAG, plane=p)
        node(f"stsw{p}", Role.STSW, "nsf", p)
        node(f"ftsw{p}", Role.FTSW, "nsf", p)
        node(f"edsw{p}", Role.EDSW, "dsf", p)
        node(f"fdsw{p}", Role.FDSW, "dsf", p)
        bundle(f"stsw{p}", f"bag{p}", 16, 800 * G)
        bundle(f"ftsw{p}", f"stsw{p}", 4, 400 * G)
        bundle(f"edsw{p}", f"bag{p}", 8, 800 * G)
        bundle(f"edsw{p}", f"fdsw{p}", 18, 400 * G)
    for r in range(2):
        node(f"rtsw{r}", Role.RTSW, "nsf")
        node(f"rdsw{r}", Role.RDSW, "dsf")
        for p in range(planes):
            bundle(f"rtsw{r}", f"ftsw{p}", 1, 100 * G)
            bundle(f"rdsw{r}", f"fdsw{p}", 9, 400 * G)
            bundle(f"rdsw{r}", f"edsw{p}", 9, 400 * G, "dsf_mesh")
    return nodes, bundles


def two_regions() -> Topology:
    n1, b1 = _region("east", 65000)
    n2, b2 = _region("west", 66000)
    joins = [Bundle(f"east-bag{p}", f"west-bag{p}", 432, 800 * G) for p in range(2)]
    return Topology("pair", tuple(n1 + n2), tuple(b1 + b2 + joins))


# --- layout -----------------------------------------------------------------------------


def test_layout_puts_higher_tiers_above_lower_ones() -> None:
    topo = two_regions()
    pos = layout(topo)
    assert set(pos) == {n.name for n in topo.nodes}
    for b in topo.bundles:
        ta, tb = topo.node(b.a).role.tier, topo.node(b.b).role.tier
        if ta != tb:
            assert (pos[b.a][1] > pos[b.b][1]) == (ta > tb), b
    rows = {role: {pos[n.name][1] for n in topo.nodes if n.role is role} for role in Role}
    assert all(len(v) == 1 for v in rows.values())  # one row per tier
    ys = {role: row.pop() for role, row in rows.items()}
    assert ys[Role.BAG] > ys[Role.STSW] == ys[Role.EDSW] > ys[Role.FTSW] == ys[Role.FDSW]
    assert ys[Role.FDSW] > ys[Role.RTSW] == ys[Role.RDSW]


def test_layout_groups_region_then_fabric_then_plane() -> None:
    topo = two_regions()
    pos = layout(topo)
    x = {name: p[0] for name, p in pos.items()}
    east = [x[n.name] for n in topo.nodes if n.region == "east"]
    west = [x[n.name] for n in topo.nodes if n.region == "west"]
    assert max(east) < min(west)
    for region in ("east", "west"):
        dsf = [x[n.name] for n in topo.nodes if n.region == region and n.fabric == "dsf"]
        nsf = [x[n.name] for n in topo.nodes if n.region == region and n.fabric == "nsf"]
        assert max(dsf) < min(nsf)  # fabrics by name
        # planes: within a row, every plane-0 node left of every plane-1 node, with a gap
        # wider than the spacing inside a plane
        for role in (Role.BAG, Role.STSW, Role.FTSW):
            row = sorted(
                (n for n in topo.nodes if n.region == region and n.role is role),
                key=lambda n: x[n.name],
            )
            assert [n.plane for n in row] == [0, 1]
    wide = Topology(
        "planes",
        tuple(
            Node(f"f{p}-{i}", Role.FTSW, 1 + 10 * p + i, "r", fabric="f", plane=p)
            for p in (1, 0)
            for i in range(3)
        ),
        (),
    )
    wx = {name: p[0] for name, p in layout(wide).items()}
    assert [wx[f"f0-{i}"] for i in range(3)] == sorted(wx[f"f0-{i}"] for i in range(3))
    inside = wx["f0-1"] - wx["f0-0"]
    assert wx["f1-0"] - wx["f0-2"] > inside  # the plane gap


def test_layout_is_deterministic_and_independent_of_file_order() -> None:
    topo = two_regions()
    shuffled = Topology(topo.name, tuple(reversed(topo.nodes)), tuple(reversed(topo.bundles)))
    assert layout(topo) == layout(shuffled) == layout(topo)


def test_layout_orders_numbers_as_numbers() -> None:
    nodes = tuple(Node(f"rtsw{i}", Role.RTSW, 100 + i, "r", fabric="f") for i in (10, 9, 2))
    x = {k: v[0] for k, v in layout(Topology("t", nodes, ())).items()}
    assert x["rtsw2"] < x["rtsw9"] < x["rtsw10"]


def test_line_width_grows_with_capacity_and_both_ends_show() -> None:
    small, large = bundle_width_pt(100 * G), bundle_width_pt(432 * 800 * G)
    assert 0.3 <= small < bundle_width_pt(800 * G) < bundle_width_pt(16 * 800 * G) < large <= 8
    assert large / small < 20  # log scale: the big one does not swamp the picture


def test_plane_colours_distinct_and_no_plane_grey() -> None:
    colours = plane_colours(two_regions())
    assert colours[0] != colours[1]
    assert colours[None] not in (colours[0], colours[1])


# --- render -----------------------------------------------------------------------------


def test_svg_is_xml_with_node_names(tmp_path: Path) -> None:
    topo = two_regions()
    out = render(topo, tmp_path / "pair.svg")
    root = ET.parse(out).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = {"".join(t.itertext()).strip() for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {n.name for n in topo.nodes} <= texts
    assert {"BAG", "region east", "region west", "plane 0", "plane 1"} <= texts


def test_svg_is_the_same_every_time(tmp_path: Path) -> None:
    a = render(two_regions(), tmp_path / "a.svg").read_bytes()
    b = render(two_regions(), tmp_path / "b.svg").read_bytes()
    assert a == b


def test_png_signature_and_size(tmp_path: Path) -> None:
    out = render(two_regions(), tmp_path / "pair.PNG")
    data = out.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", data[16:24])  # IHDR comes first
    assert 600 <= width <= 6000 and 300 <= height <= 3000, (width, height)


def test_html_is_self_contained(tmp_path: Path) -> None:
    topo = two_regions()
    text = render(topo, tmp_path / "pair.html").read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert text.count("<svg") == 1 and "</svg>" in text
    assert not re.search(r"https?://", text)
    assert "<?xml" not in text and "<!DOCTYPE svg" not in text
    for name in ("east-rtsw0", "Nodes by role", "Capacity by layer", "345.6 Tb/s"):
        assert name in text
    # node counts by role: 2 regions x 2 of each role
    assert re.search(r"rtsw \(NSF rack\)</td><td>1</td><td>4</td>", text)


def test_big_drawing_labels_only_tiers_and_regions(tmp_path: Path) -> None:
    nodes = [Node(f"rtsw{i}", Role.RTSW, 1000 + i, "r", fabric="f") for i in range(70)]
    nodes.append(Node("ftsw", Role.FTSW, 999, "r", fabric="f", plane=0))
    bundles = [Bundle(f"rtsw{i}", "ftsw", 1, 100 * G) for i in range(70)]
    out = render(Topology("many", tuple(nodes), tuple(bundles)), tmp_path / "many.svg")
    texts = {"".join(t.itertext()).strip() for t in ET.parse(out).getroot().iter()}
    assert "rtsw · rdsw" in texts and "region r" in texts
    assert "rtsw5" not in texts


def test_render_leaves_matplotlib_settings_alone(tmp_path: Path) -> None:
    keys = ("svg.fonttype", "svg.hashsalt", "font.family")
    before = [matplotlib.rcParams[k] for k in keys]
    render(two_regions(), tmp_path / "pair.svg")
    assert [matplotlib.rcParams[k] for k in keys] == before


def test_empty_topology_draws(tmp_path: Path) -> None:
    assert render(Topology("empty", (), ()), tmp_path / "e.png").stat().st_size > 0


@pytest.mark.parametrize("name", ["x.pdf", "x.jpg", "x", "x.svg.gz"])
def test_other_suffixes_refused_before_drawing(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match=r"\.svg, \.png or \.html"):
        render(two_regions(), tmp_path / name)
    assert not (tmp_path / name).exists()
    with pytest.raises(ValueError):
        check_output(name)


# --- CLI ----------------------------------------------------------------------------------

TOPOLOGY_YAML = """\
name: tiny
description: one NSF fabric in two planes under a BAG
nodes:
  - {name: bag0, role: bag, asn: 65000, region: r1}
  - {name: stsw0, role: stsw, asn: 65100, region: r1, fabric: f1, plane: 0}
  - {name: stsw1, role: stsw, asn: 65101, region: r1, fabric: f1, plane: 1}
  - {name: ftsw0, role: ftsw, asn: 65200, region: r1, fabric: f1, plane: 0}
  - {name: ftsw1, role: ftsw, asn: 65201, region: r1, fabric: f1, plane: 1}
  - {name: rtsw0, role: rtsw, asn: 65300, region: r1, fabric: f1, prefixes: [10.0.0.0/24]}
  - {name: rtsw1, role: rtsw, asn: 65301, region: r1, fabric: f1, prefixes: [10.0.1.0/24]}
bundles:
  - [stsw0, bag0, 16, 800G]
  - [stsw1, bag0, 16, 800G]
  - [ftsw0, stsw0, 4, 400G]
  - [ftsw1, stsw1, 4, 400G]
  - [rtsw0, ftsw0, 1, 100G]
  - [rtsw0, ftsw1, 1, 100G]
  - [rtsw1, ftsw0, 1, 100G]
  - [rtsw1, ftsw1, 1, 100G]
"""


@pytest.fixture
def topo_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TOPOLOGY_YAML)
    return path


@pytest.mark.parametrize("suffix", [".svg", ".png", ".html"])
def test_cli_draws_each_format(tmp_path: Path, topo_file: Path, suffix: str) -> None:
    out = tmp_path / f"tiny{suffix}"
    result = CliRunner().invoke(cli, ["topo", "draw", str(topo_file), "-o", str(out)])
    assert result.exit_code == 0, result.output
    size = out.stat().st_size
    assert str(out) in result.output and f"{size:,} bytes" in result.output
    assert "7 nodes, 8 bundles" in result.output


def test_cli_json(tmp_path: Path, topo_file: Path) -> None:
    out = tmp_path / "tiny.svg"
    result = CliRunner().invoke(cli, ["topo", "draw", str(topo_file), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report == {
        "ok": True,
        "output": str(out),
        "nodes": 7,
        "bundles": 8,
        "bytes": out.stat().st_size,
    }


def test_cli_bad_suffix(tmp_path: Path, topo_file: Path) -> None:
    out = tmp_path / "tiny.pdf"
    result = CliRunner().invoke(cli, ["topo", "draw", str(topo_file), "-o", str(out)])
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and "'.pdf'" in result.output
    assert not out.exists()
    result = CliRunner().invoke(cli, ["topo", "draw", str(topo_file), "-o", str(out), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["ok"] is False


def test_cli_broken_topology_names_file_line_field(tmp_path: Path, topo_file: Path) -> None:
    topo_file.write_text(
        TOPOLOGY_YAML.replace("[rtsw1, ftsw1, 1, 100G]", "[rtsw1, ftsw9, 1, 100G]")
    )
    out = tmp_path / "tiny.svg"
    result = CliRunner().invoke(cli, ["topo", "draw", str(topo_file), "-o", str(out)])
    assert result.exit_code == 1
    line = TOPOLOGY_YAML.splitlines().index("  - [rtsw1, ftsw1, 1, 100G]") + 1
    assert f"error: {topo_file}:{line}: bundles[7].b: unknown node 'ftsw9'" in result.output
    assert not out.exists()
    result = CliRunner().invoke(cli, ["topo", "draw", str(topo_file), "-o", str(out), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False and "unknown node 'ftsw9'" in report["error"]


def test_cli_missing_file_and_unwritable_output(tmp_path: Path, topo_file: Path) -> None:
    result = CliRunner().invoke(cli, ["topo", "draw", str(tmp_path / "nope.yaml"), "-o", "x.svg"])
    assert result.exit_code == 1 and "nope.yaml: cannot read" in result.output
    out = tmp_path / "no-such-dir" / "x.svg"
    result = CliRunner().invoke(cli, ["topo", "draw", str(topo_file), "-o", str(out), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["error"].startswith(f"cannot write {out}")


def test_topo_group_lists_draw() -> None:
    result = CliRunner().invoke(cli, ["topo", "--help"])
    assert result.exit_code == 0 and "draw" in result.output


# --- a big region -------------------------------------------------------------------------


def big_region(regions: int = 2, planes: int = 8, rtsw: int = 1000) -> Topology:
    """~5,000 nodes and ~58,000 bundles: per region two NSF fabrics (1,000 racks into one
    ftsw per plane, 8 ftsw and 4 stsw per plane), a DSF fabric (200 rdsw, 40 fdsw, 16 edsw,
    rdsw-edsw full dsf_mesh) and 64 BAGs; the regions' BAGs joined plane by plane."""
    nodes: list[Node] = []
    bundles: list[Bundle] = []

    def node(name: str, role: Role, region: str, fabric: str = "", plane: int | None = None):
        nodes.append(Node(name, role, 1_000_000 + len(nodes), region, "", fabric, plane))

    for region in (f"r{i}" for i in range(1, regions + 1)):
        bag = [[f"{region}-bag-p{p}-{i}" for i in range(8)] for p in range(planes)]
        for p in range(planes):
            for name in bag[p]:
                node(name, Role.BAG, region, plane=p)
        for fi in range(2):
            f = f"{region}-nsf{fi}"
            for p in range(planes):
                for s in range(4):
                    node(f"{f}-stsw-p{p}-{s}", Role.STSW, region, f, p)
                    bundles += [Bundle(f"{f}-stsw-p{p}-{s}", b, 16, 800 * G) for b in bag[p]]
                for k in range(8):
                    node(f"{f}-ftsw-p{p}-{k}", Role.FTSW, region, f, p)
                    bundles += [
                        Bundle(f"{f}-ftsw-p{p}-{k}", f"{f}-stsw-p{p}-{s}", 4, 400 * G)
                        for s in range(4)
                    ]
            for r in range(rtsw):
                node(f"{f}-rtsw{r}", Role.RTSW, region, f)
                bundles += [
                    Bundle(f"{f}-rtsw{r}", f"{f}-ftsw-p{p}-{r % 8}", 1, 100 * G)
                    for p in range(planes)
                ]
        d = f"{region}-dsf0"
        for e in range(16):
            node(f"{d}-edsw{e}", Role.EDSW, region, d, e % planes)
            bundles += [Bundle(f"{d}-edsw{e}", b, 8, 800 * G) for b in bag[e % planes]]
        for k in range(40):
            node(f"{d}-fdsw{k}", Role.FDSW, region, d)
            bundles += [Bundle(f"{d}-edsw{e}", f"{d}-fdsw{k}", 2, 400 * G) for e in range(16)]
        for r in range(200):
            node(f"{d}-rdsw{r}", Role.RDSW, region, d)
            bundles += [Bundle(f"{d}-rdsw{r}", f"{d}-fdsw{k}", 1, 400 * G) for k in range(40)]
            bundles += [
                Bundle(f"{d}-rdsw{r}", f"{d}-edsw{e}", 2, 400 * G, "dsf_mesh") for e in range(16)
            ]
    for p in range(planes):
        bundles += [Bundle(f"r1-bag-p{p}-{i}", f"r2-bag-p{p}-{i}", 432, 800 * G) for i in range(8)]
    return Topology("big", tuple(nodes), tuple(bundles))


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".png", ".svg", ".html"])
def test_big_region_renders(tmp_path: Path, suffix: str) -> None:
    """5,024 nodes, 58,048 bundles: about 2 s (PNG) to 3 s (SVG, HTML) on a 2-core machine.
    The bound is loose (machines are noisy); it catches a quadratic slip, not a 20% one."""
    topo = big_region()
    assert len(topo.nodes) > 5000 and len(topo.bundles) > 50_000
    start = time.perf_counter()
    out = render(topo, tmp_path / f"big{suffix}")
    elapsed = time.perf_counter() - start
    assert out.stat().st_size > 100_000
    assert elapsed < 60, elapsed
