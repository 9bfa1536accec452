"""The regions the floor tests run for real (``test_floor.py``, ``test_failure_floor.py``):
two presets whose runs send exactly the floor, and a pod-summarizing ``mini`` whose
aggregates make a run send more."""

from __future__ import annotations

from pathlib import Path

import pytest

from bagctl.topology import load_topology
from bagctl.topology.generate import generate
from bagctl.topology.model import Topology

TOPOLOGIES = Path(__file__).resolve().parents[3] / "topologies"

# (name, whether a run sends exactly the floor's UPDATEs)
FLOOR_CASES = pytest.mark.parametrize(
    ("name", "exact"), [("mini", True), ("clos", True), ("mini-pod", False)]
)


def floor_topology(name: str) -> Topology:
    """A preset by name, or ``mini-pod``: ``mini`` with pod aggregates."""
    if name == "mini-pod":
        return generate("mini", summarize="pod")
    return load_topology(TOPOLOGIES / f"{name}.yaml")
