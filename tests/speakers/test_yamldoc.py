"""``speakers.yamldoc``: the line index every bagemu file format's errors rely on, and a
document of nested aliases (a "billion laughs") refused before it exhausts memory."""

from __future__ import annotations

import pytest

from speakers.yamldoc import MAX_VALUES, ConfigError, YamlDocument


def laughs(levels: int) -> str:
    """Each level a list of nine aliases to the level below: 9**levels values."""
    text = 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for i in range(1, levels + 1):
        text += f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n"
    return text


def test_lines_are_indexed_by_path_through_aliases() -> None:
    doc = YamlDocument("a:\n  b: [1, 2]\nc: &x {d: 3}\ne: *x\n", "f.yaml")
    assert doc.lines["a.b"] == 2 and doc.lines["a.b[1]"] == 2
    assert doc.lines["e.d"] == 3  # the alias's value, where the anchor wrote it
    assert doc.error("a.b[1].zz", "bad").line == 2  # the nearest known path


def test_a_few_aliases_are_fine() -> None:
    assert len(YamlDocument(laughs(4), "ok.yaml").lines) < MAX_VALUES


def test_a_billion_laughs_is_refused_with_its_file_and_line() -> None:
    with pytest.raises(ConfigError) as info:
        YamlDocument(laughs(9), "lol.yaml")  # 387 million values
    assert info.value.file == "lol.yaml" and info.value.line is not None
    assert "expands to over 4,000,000 values" in info.value.message
