"""What ``verify()`` (``check.py``) found, as frozen values: each FIB entry's weight error,
each directed link's load, each loop or black hole met, and the ``VerifyReport`` holding
them with the throughput figures and the verdict.

Kept apart from the computation: ``check.py`` is how the numbers are found, this module
is what they mean and how they are written (``as_dict()``, the ``--json`` form, beside the
fields it names); a reader of a report needs only this one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..topology.failures import Failures

WORST = 10  # offenders listed per kind


@dataclass(frozen=True, slots=True)
class WeightError:
    node: str
    prefix: str
    error: float
    actual: Mapping[str, float]  # shares
    expected: Mapping[str, float]

    def as_dict(self) -> dict[str, object]:
        return {
            "node": self.node,
            "prefix": self.prefix,
            "error": round(self.error, 6),
            "actual": {k: round(v, 6) for k, v in sorted(self.actual.items())},
            "expected": {k: round(v, 6) for k, v in sorted(self.expected.items())},
        }


@dataclass(frozen=True, slots=True)
class LinkLoad:
    a: str  # traffic goes a -> b
    b: str
    load_bps: float  # at the report's scale
    capacity_bps: float
    ideal_bps: float
    ecmp_bps: float

    @property
    def utilization(self) -> float:
        return self.load_bps / self.capacity_bps if self.capacity_bps > 0 else math.inf

    def as_dict(self) -> dict[str, object]:
        return {
            "from": self.a,
            "to": self.b,
            "load_bps": self.load_bps,
            "capacity_bps": self.capacity_bps,
            "utilization": round(self.utilization, 6),
            "ideal_utilization": round(self.ideal_bps / self.capacity_bps, 6)
            if self.capacity_bps
            else None,
            "ecmp_utilization": round(self.ecmp_bps / self.capacity_bps, 6)
            if self.capacity_bps
            else None,
        }


@dataclass(frozen=True, slots=True)
class ForwardingFault:
    kind: str  # "black-hole" or "loop"
    prefix: str
    node: str  # where traffic is dropped, or the first switch of the cycle
    lost_bps: float  # at the report's scale
    cycle: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        d: dict[str, object] = {
            "kind": self.kind,
            "prefix": self.prefix,
            "node": self.node,
            "lost_bps": self.lost_bps,
        }
        if self.cycle:
            d["cycle"] = list(self.cycle)
        return d


@dataclass(frozen=True)
class VerifyReport:
    """What ``verify`` found; ``as_dict()`` is the ``--json`` form."""

    region: str
    tolerance: float
    matrix: str
    demand_bps: float
    scale: float  # the demand factor loads are shown at
    ideal_scale: float
    actual_scale: float
    ecmp_scale: float
    entries_checked: int
    weight_errors: tuple[WeightError, ...]  # worst first, all above tolerance + the worst
    max_weight_error: float
    mean_weight_error: float
    links: tuple[LinkLoad, ...]  # every loaded directed link, most utilized first
    overloaded: tuple[LinkLoad, ...]
    faults: tuple[ForwardingFault, ...]
    failures: Failures
    seconds: float
    speakers: int
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def actual_vs_ideal(self) -> float:
        return scale_ratio(self.actual_scale, self.ideal_scale)

    @property
    def ecmp_vs_ideal(self) -> float:
        return scale_ratio(self.ecmp_scale, self.ideal_scale)

    def utilization(self) -> dict[tuple[str, str], float]:
        """Per bundle key, the larger direction's utilization (for pictures)."""
        out: dict[tuple[str, str], float] = {}
        for link in self.links:
            key = (link.a, link.b) if link.a <= link.b else (link.b, link.a)
            out[key] = max(out.get(key, 0.0), link.utilization)
        return out

    def headline(self) -> str:
        """The verdict first (a picture's title agrees with the exit status), then the
        throughput against the ideal."""
        verdict = "OK" if self.ok else f"FAILS: {self.problems[0]}"
        more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return (
            f"{self.region}: {verdict}{more}; FIB delivers {self.actual_vs_ideal:.1%} of "
            f"ideal, ECMP {self.ecmp_vs_ideal:.1%}"
        )

    def wrong_nodes(self) -> list[str]:
        """The switches with a FIB entry off the ideal split by more than the tolerance."""
        return sorted({e.node for e in self.weight_errors if e.error > self.tolerance})

    def as_dict(self, links: int | None = WORST) -> dict[str, object]:
        return {
            "region": self.region,
            "ok": self.ok,
            "problems": list(self.problems),
            "tolerance": self.tolerance,
            "matrix": self.matrix,
            "demand_bps": self.demand_bps,
            "scale": self.scale,
            "throughput": {
                "ideal_scale": self.ideal_scale,
                "actual_scale": self.actual_scale,
                "ecmp_scale": self.ecmp_scale,
                "actual_vs_ideal": self.actual_vs_ideal,
                "ecmp_vs_ideal": self.ecmp_vs_ideal,
            },
            "weights": {
                "entries_checked": self.entries_checked,
                "max_error": self.max_weight_error,
                "mean_error": self.mean_weight_error,
                "worst": [e.as_dict() for e in self.weight_errors[:WORST]],
                "over_tolerance": sum(1 for e in self.weight_errors if e.error > self.tolerance),
            },
            "links": {
                "loaded": len(self.links),
                "overloaded": [link.as_dict() for link in self.overloaded],
                "most_utilized": [link.as_dict() for link in self.links[:links]],
            },
            "faults": [f.as_dict() for f in self.faults],
            "failures": self.failures.as_dict(),
            "speakers": self.speakers,
            "seconds": self.seconds,
        }


def scale_ratio(a: float, b: float) -> float:
    """``a / b`` for two demand scales, where both infinite (nothing loaded) is 1."""
    if math.isinf(a) and math.isinf(b):
        return 1.0
    return a / b if b > 0 else (1.0 if a <= 0 else math.inf)
