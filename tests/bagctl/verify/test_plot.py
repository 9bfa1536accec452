"""``bagctl/verify/plot.py``: each output format parsed back, and what the legend, title and
labels say about failed, degraded and overloaded bundles."""

from __future__ import annotations

import math
import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import pytest

from bagctl.topology import load_topology
from bagctl.topology.model import Bundle, Node, Role, Topology
from bagctl.verify.plot import render_utilization

G = 1e9
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_TEXT = "{http://www.w3.org/2000/svg}text"
MINI = Path(__file__).resolve().parents[3] / "topologies" / "mini.yaml"
TITLE = "small: UCMP delivers 100% of demand, ECMP 87.5%"
COLOUR_BAR_TICKS = {"0%", "25%", "50%", "75%", "100%"}


def small() -> Topology:
    """Two planes, each a BAG over a spine over a fabric switch, and four racks below
    both fabric switches: twelve bundles."""
    nodes = [Node(f"rtsw{i}", Role.RTSW, 65100 + i, "r", fabric="f") for i in range(1, 5)]
    bundles = []
    for p in (1, 2):
        nodes += [
            Node(f"bag{p}", Role.BAG, 65000, "r", plane=p),
            Node(f"stsw{p}", Role.STSW, 65010 + p, "r", fabric="f", plane=p),
            Node(f"ftsw{p}", Role.FTSW, 65020 + p, "r", fabric="f", plane=p),
        ]
        bundles += [
            Bundle(f"bag{p}", f"stsw{p}", 16, 800 * G),
            Bundle(f"stsw{p}", f"ftsw{p}", 8, 400 * G),
        ]
        bundles += [Bundle(f"rtsw{i}", f"ftsw{p}", 4, 800 * G) for i in range(1, 5)]
    return Topology("small", tuple(nodes), tuple(bundles))


# Loads on eight bundles; the others carry nothing.
LOADS = {
    ("bag1", "stsw1"): 1.34,
    ("bag2", "stsw2"): 1.08,
    ("ftsw1", "stsw1"): 0.91,
    ("ftsw2", "stsw2"): 0.62,
    ("ftsw1", "rtsw1"): 0.88,
    ("ftsw1", "rtsw2"): 0.33,
    ("ftsw2", "rtsw3"): 0.47,
    ("ftsw2", "rtsw4"): 0.12,
}
FAILED = [("ftsw2", "rtsw1"), ("ftsw1", "rtsw4")]
DEGRADED = {("ftsw2", "rtsw2"): (3, 4)}


def draw(path: Path, **kwargs: object) -> Path:
    args: dict[str, object] = {"failed": FAILED, "degraded": DEGRADED, "title": TITLE}
    args.update(kwargs)
    return render_utilization(small(), LOADS, path, **args)  # type: ignore[arg-type]


def svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return ["".join(t.itertext()).strip() for t in root.iter(SVG_TEXT)]


# --- formats ----------------------------------------------------------------------------


def test_png_signature_and_size(tmp_path: Path) -> None:
    out = draw(tmp_path / "small.PNG")
    data = out.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 20_000
    width, height = struct.unpack(">II", data[16:24])  # IHDR comes first
    assert 600 <= width <= 6000 and 300 <= height <= 3000, (width, height)


def test_svg_has_title_summary_and_failed_bundles(tmp_path: Path) -> None:
    texts = svg_texts(draw(tmp_path / "small.svg"))
    assert TITLE in texts
    summary = "small: 12 bundles, 8 carrying traffic, 2 overloaded, 2 failed, 1 degraded"
    assert f"{summary}; peak 134%" in texts
    assert "failed, down (2)" in texts
    assert "failed bundles" in texts
    assert {"ftsw2 ↔ rtsw1", "ftsw1 ↔ rtsw4"} <= set(texts)
    assert {n.name for n in small().nodes} <= set(texts)  # few nodes: all named


def test_html_is_self_contained(tmp_path: Path) -> None:
    text = draw(tmp_path / "small.html").read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert text.count("<svg") == 1 and "</svg>" in text
    assert 'src="http' not in text and not re.search(r"https?://", text)
    assert "<?xml" not in text and "<!DOCTYPE svg" not in text
    assert f"<h1>{TITLE}</h1>" in text
    for heading in ("Most loaded bundles", "Failed bundles", "Degraded bundles"):
        assert f"<h2>{heading}</h2>" in text
    assert "<td>bag1 ↔ stsw1</td><td>12.8 Tb/s</td><td>134%</td>" in text
    assert "<td>ftsw2 ↔ rtsw2</td><td>3/4</td><td>2.4 Tb/s</td>" in text


@pytest.mark.parametrize("name", ["x.pdf", "x.jpg", "x", "x.svg.gz"])
def test_other_suffixes_refused_before_drawing(tmp_path: Path, name: str) -> None:
    suffix = Path(name).suffix
    named = re.escape(repr(suffix)) if suffix else "no suffix"
    with pytest.raises(ValueError, match=rf"{named}.*\.svg, \.png or \.html"):
        draw(tmp_path / name)
    assert not (tmp_path / name).exists()


def test_svg_is_the_same_every_time(tmp_path: Path) -> None:
    a = draw(tmp_path / "a.svg").read_bytes()
    b = draw(tmp_path / "b.svg").read_bytes()
    assert a == b


def test_render_leaves_matplotlib_settings_alone(tmp_path: Path) -> None:
    keys = ("svg.fonttype", "svg.hashsalt", "font.family")
    before = [matplotlib.rcParams[k] for k in keys]
    draw(tmp_path / "small.svg")
    assert [matplotlib.rcParams[k] for k in keys] == before


# --- what the picture says ----------------------------------------------------------------


def test_overloaded_bundles_counted_and_labelled(tmp_path: Path) -> None:
    texts = svg_texts(draw(tmp_path / "small.svg"))
    assert "overloaded, over 100% (2)" in texts
    assert "bag1 ↔ stsw1: 134%" in texts  # the most loaded, listed in the legend
    assert "134%" in texts  # and written on the bundle itself


def test_no_overload_counts_zero(tmp_path: Path) -> None:
    calm = {k: min(v, 0.5) for k, v in LOADS.items()}
    out = render_utilization(small(), calm, tmp_path / "calm.svg")
    texts = svg_texts(out)
    assert "overloaded, over 100% (0)" in texts
    assert "small: bundle utilization" in texts  # the title when none is given
    assert "failed bundles" not in texts


def test_at_most_five_percentages_on_bundles_and_the_highest_first(tmp_path: Path) -> None:
    texts = set(svg_texts(draw(tmp_path / "small.svg")))
    labels = {t for t in texts if re.fullmatch(r"\d+(\.\d)?%", t)} - COLOUR_BAR_TICKS
    top5 = {"134%", "108%", "91%", "88%", "62%"}
    assert "134%" in labels and labels <= top5


def test_overload_just_past_full_never_reads_100(tmp_path: Path) -> None:
    out = render_utilization(small(), {("bag1", "stsw1"): 1.001}, tmp_path / "edge.svg")
    texts = svg_texts(out)
    assert "100.1%" in texts and "bag1 ↔ stsw1: 100.1%" in texts


def test_degraded_bundles_marked(tmp_path: Path) -> None:
    texts = svg_texts(draw(tmp_path / "small.svg"))
    assert "degraded, members up/all (1)" in texts
    assert "ftsw2 ↔ rtsw2: 3/4" in texts
    assert "3/4" in texts  # written on the bundle


def test_all_members_down_counts_as_failed(tmp_path: Path) -> None:
    out = draw(tmp_path / "small.svg", failed=(), degraded={("rtsw3", "ftsw1"): (0, 4)})
    texts = svg_texts(out)
    assert "failed, down (1)" in texts and "ftsw1 ↔ rtsw3" in texts
    assert not any(t.startswith("degraded") for t in texts)


def test_keys_may_name_the_ends_in_either_order(tmp_path: Path) -> None:
    a = draw(tmp_path / "a.svg").read_bytes()
    flipped = {(k[1], k[0]): v for k, v in LOADS.items()}
    out = render_utilization(
        small(),
        flipped,
        tmp_path / "b.svg",
        failed=[(b, a) for a, b in FAILED],
        degraded={(k[1], k[0]): v for k, v in DEGRADED.items()},
        title=TITLE,
    )
    assert out.read_bytes() == a


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"utilization": {("bag1", "rtsw1"): 0.5}}, r"utilization .*bag1 ↔ rtsw1"),
        ({"failed": [("nosuch", "bag1")]}, r"failed .*bag1 ↔ nosuch"),
        ({"degraded": {("bag2", "stsw1"): (1, 16)}}, r"degraded .*bag2 ↔ stsw1"),
        ({"utilization": {("bag1", "stsw1"): -0.1}}, r"finite and >= 0"),
        ({"utilization": {("bag1", "stsw1"): math.nan}}, r"finite and >= 0"),
    ],
)
def test_bad_inputs_refused(tmp_path: Path, kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"utilization": {}}
    args.update(kwargs)
    utilization = args.pop("utilization")
    with pytest.raises(ValueError, match=match):
        render_utilization(small(), utilization, tmp_path / "x.svg", **args)  # type: ignore[arg-type]
    assert not (tmp_path / "x.svg").exists()


def test_empty_topology_draws(tmp_path: Path) -> None:
    out = render_utilization(Topology("empty", (), ()), {}, tmp_path / "e.png")
    assert out.read_bytes()[:8] == PNG_SIGNATURE


def test_mini_with_failures(tmp_path: Path) -> None:
    topo = load_topology(MINI)
    keys = sorted(b.key for b in topo.bundles)
    loads = {k: (i % 10) / 9 for i, k in enumerate(keys)}
    loads[keys[3]] = 1.2
    out = render_utilization(
        topo,
        loads,
        tmp_path / "mini.svg",
        failed=keys[:2],
        degraded={keys[5]: (24, 32)},
        title="mini: UCMP delivers 100% of demand, ECMP 87.5%",
    )
    texts = svg_texts(out)
    assert "overloaded, over 100% (1)" in texts and "failed, down (2)" in texts
    assert "region r1" in texts
