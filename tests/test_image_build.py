"""The image build cleans up after itself, and only after itself (issue 18): every stage
of the Dockerfile carries the ``bagemu.stage`` label, and scripts/build-local-base.sh
removes dangling images by that label alone. Read from the files, so it costs no build
(the build itself: tests/bagctl/runtimes, ``speaker_image``)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABEL = "bagemu.stage"


def _stages(dockerfile: str) -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), one list per stage."""
    text = re.sub(r"\\\n", " ", dockerfile)
    lines = [line.strip() for line in text.splitlines()]
    stages: list[list[str]] = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def test_every_stage_is_labelled_first() -> None:
    stages = _stages((ROOT / "Dockerfile").read_text())
    assert len(stages) == 3  # base, build, the speaker image
    values = []
    for stage in stages:
        # Right after FROM: a fixed label early keeps the layer cache as it was, and
        # every image a stage leaves (its last one included) carries it.
        label = stage[1]
        assert label.startswith(f"LABEL {LABEL}="), stage[:2]
        values.append(label.split("=", 1)[1])
    assert values == ["base", "build", "speaker"]


def test_the_script_prunes_only_dangling_images_of_ours() -> None:
    script = (ROOT / "scripts" / "build-local-base.sh").read_text()
    calls = [line for line in script.splitlines() if "docker image prune" in line]
    assert calls, "the build script no longer prunes what it leaves"
    filters = []
    for line in calls:
        words = shlex.split(line.split("docker image prune", 1)[1].split("|")[0])
        assert "--all" not in words and "-a" not in words  # dangling images only
        assert words.count("--filter") == 1 and "--force" in words
        filters.append(words[words.index("--filter") + 1])
    # Only images labelled as ours: the function's argument, and the labels passed to it.
    assert filters == ["$1"]
    passed = re.findall(r"reclaimed ('[^']*'|\S+)\)", script)
    assert [shlex.split(p)[0] for p in passed] == [
        f"label={LABEL}",
        "label=org.opencontainers.image.title=bagemu speaker",
    ]
    assert re.search(r"^docker build .*-t \"\$IMAGE\"", script, flags=re.M)
    # Pruned after the build, never before it (a failed build keeps its cache).
    assert script.index("docker build ") < script.index("reclaimed label=")
