"""Do the hashed flows follow their groups' weights? One chi-square test per group.

``walk_flows`` (``flowwalk.py``) counts the flows each member of each WCMP group got;
``check_groups`` compares those counts with the counts the weights predict (Pearson's
goodness of fit), so a group whose hashed split does not follow its weights (polarization,
a wrong member table, claimed weights the switch does not apply) is named. With hundreds
of groups a per-group level flags some by chance alone; ``bonferroni=True`` keeps the
family-wise error at most ``alpha`` (``FlowReport``).

No scapy here (only the counts are read), so the options and defaults of a verification
can be imported without it; scipy is imported when a test runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from speakers.wire import Prefix

from .fibview import FibSnapshot

if TYPE_CHECKING:
    from .flowwalk import FlowResult

DEFAULT_ALPHA = 0.001
MIN_EXPECTED = 5.0  # Cochran's rule: chi-square is trusted when every expected count >= 5


@dataclass(frozen=True)
class GroupTest:
    """One group's counts against its weights: Pearson's chi-square goodness of fit.

    ``worst`` is the member whose observed share is farthest from its expected share."""

    node: str
    prefix: Prefix
    flows: int
    expected: Mapping[str, float]  # share per member, from the weights
    observed: Mapping[str, float]  # share per member, from the hashed flows
    statistic: float  # inf when flows took a member of no weight (JSON: null)
    p_value: float
    worst: str
    outlier: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "prefix": str(self.prefix),
            "flows": self.flows,
            "expected": dict(self.expected),
            "observed": dict(self.observed),
            "statistic": self.statistic if math.isfinite(self.statistic) else None,
            "p_value": self.p_value,
            "worst": self.worst,
        }


@dataclass(frozen=True)
class FlowReport:
    """``walk_flows``'s result with every testable group's chi-square test.

    Multiple testing: each group is one test at ``alpha``, so with ``groups_tested`` groups
    about ``alpha * groups_tested`` outliers are expected by chance even with a perfect
    hash (``expected_false_outliers``). ``bonferroni=True`` tests each group at
    ``alpha / groups_tested`` instead (family-wise error <= alpha); ``threshold`` is the
    level used."""

    result: FlowResult
    tests: tuple[GroupTest, ...]
    skipped: int  # groups seen but not tested (one member, too few flows, no claim)
    alpha: float
    bonferroni: bool
    threshold: float

    @property
    def outliers(self) -> tuple[GroupTest, ...]:
        return tuple(t for t in self.tests if t.outlier)

    @property
    def expected_false_outliers(self) -> float:
        return self.threshold * len(self.tests)

    def as_dict(self) -> dict[str, Any]:
        return self.result.as_dict() | {
            "alpha": self.alpha,
            "bonferroni": self.bonferroni,
            "threshold": self.threshold,
            "groups_tested": len(self.tests),
            "groups_skipped": self.skipped,
            "expected_false_outliers": self.expected_false_outliers,
            "p_values": [
                {"node": t.node, "prefix": str(t.prefix), "flows": t.flows, "p_value": t.p_value}
                for t in self.tests
            ],
            "outliers": [t.as_dict() for t in self.outliers],
        }


def _testable(weights: Mapping[str, int], counts: Mapping[str, int]) -> bool:
    """Chi-square needs two members or more and every expected count >= ``MIN_EXPECTED``
    (Cochran's rule); a flow counted on a member of no weight is always testable (and
    always an outlier)."""
    positive = {m: w for m, w in weights.items() if w > 0}
    if any(c > 0 and m not in positive for m, c in counts.items()):
        return True
    n, total = sum(counts.values()), sum(positive.values())
    if len(positive) < 2 or n == 0:
        return False
    return min(positive.values()) * n / total >= MIN_EXPECTED


def _chi_square(weights: Mapping[str, int], counts: Mapping[str, int]) -> tuple[float, float]:
    from scipy.stats import chisquare  # scipy is slow to import; only a check needs it

    positive = {m: w for m, w in weights.items() if w > 0}
    if any(c > 0 and m not in positive for m, c in counts.items()):
        return float("inf"), 0.0  # a member the weights give nothing got flows
    n, total = sum(counts.values()), sum(positive.values())
    members = sorted(positive)
    observed = [counts.get(m, 0) for m in members]
    expected = [n * positive[m] / total for m in members]
    res = chisquare(observed, expected)
    return float(res.statistic), float(res.pvalue)


def _shares(values: Mapping[str, float], members: Iterable[str]) -> dict[str, float]:
    total = sum(values.get(m, 0) for m in members) or 1
    return {m: values.get(m, 0) / total for m in members}


def _group_test(
    node: str, prefix: Prefix, weights: Mapping[str, int], counts: Mapping[str, int]
) -> GroupTest:
    members = sorted({m for m, w in weights.items() if w > 0} | set(counts))
    expected = _shares({m: max(w, 0) for m, w in weights.items()}, members)
    observed = _shares(counts, members)
    worst = max(members, key=lambda m: (abs(observed[m] - expected[m]), m))
    statistic, p = _chi_square(weights, counts)
    return GroupTest(
        node, prefix, sum(counts.values()), expected, observed, statistic, p, worst, False
    )


def check_groups(
    result: FlowResult,
    *,
    alpha: float = DEFAULT_ALPHA,
    bonferroni: bool = False,
    claimed: FibSnapshot | None = None,
) -> FlowReport:
    """Chi-square every group that saw enough flows (``_testable``): the per-member counts
    against the counts its weights predict. ``claimed`` compares with other weights than
    the ones the flows were hashed on (e.g. what a controller intended); a group it has no
    entry for is skipped. Outliers: p < ``alpha`` (``alpha / groups tested`` with
    ``bonferroni``)."""
    candidates = []
    skipped = 0
    for (node, prefix), g in result.groups.items():
        weights = g.weights if claimed is None else claimed.group(node, prefix)
        if weights is None or not _testable(weights, g.counts):
            skipped += 1
            continue
        candidates.append(_group_test(node, prefix, weights, g.counts))
    threshold = alpha / len(candidates) if bonferroni and candidates else alpha
    tests = tuple(replace(t, outlier=t.p_value < threshold) for t in candidates)
    return FlowReport(result, tests, skipped, alpha, bonferroni, threshold)
