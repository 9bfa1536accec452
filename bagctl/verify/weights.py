"""Every FIB entry against the model's ideal split for the same prefix at the same switch.

The error of an entry is the largest difference between the FIB's share of a next hop and
the ideal share (0 = exact, 1 = all traffic on the wrong next hop). An entry for a prefix
the model has no route to, and a modelled route missing from a switch's FIB, count 1.

Both sides are ``tables.Table`` rows sorted the same way, so matching an entry to its
ideal is a ``searchsorted``; the error is computed once per distinct pair of groups (a
region has millions of entries but thousands of groups), and a ``WeightError`` is made
only for an entry that is off.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .arrays import find
from .loads import normalize
from .report import WeightError
from .tables import Nodes, Table


def weight_errors(fib: Table, ideal: Table, nodes: Nodes) -> tuple[list[WeightError], int, float]:
    """(errors worst first, entries checked, the sum of their errors)."""
    space = fib.space
    found, at = find(ideal.keys, fib.keys)
    expected = np.where(found, ideal.group[at], -1) if len(ideal.keys) else -np.ones_like(at)
    pair = fib.group * np.int64(len(ideal.groups) + 1) + (expected + 1)
    pairs, inverse = np.unique(pair, return_inverse=True)
    shares = [normalize(g) for g in fib.groups]
    empty: dict[str, float] = {}
    error_of = []
    for code in pairs.tolist():
        g, e = divmod(code, len(ideal.groups) + 1)
        error_of.append(_difference(shares[g], ideal.groups[e - 1] if e else empty))
    error = np.asarray(error_of, dtype=np.float64)[inverse.ravel()] if error_of else np.zeros(0)
    errors = []
    for i in np.flatnonzero(error > 0).tolist():
        e = int(expected[i])
        errors.append(
            WeightError(
                nodes.names[int(fib.node[i])],
                str(space.prefixes[int(fib.rank[i])]),
                float(error[i]),
                shares[int(fib.group[i])],
                ideal.groups[e] if e >= 0 else empty,
            )
        )
    checked, total = len(fib.keys), float(error.sum())
    # Modelled routes the FIB lacks (a switch that should forward but cannot).
    has_fib = np.isin(ideal.node, np.fromiter(fib.present, np.int64, count=len(fib.present)))
    missing = np.flatnonzero(has_fib & ~find(fib.keys, ideal.keys)[0]).tolist()
    for i in missing:
        errors.append(
            WeightError(
                nodes.names[int(ideal.node[i])],
                str(space.prefixes[int(ideal.rank[i])]),
                1.0,
                {},
                ideal.groups[int(ideal.group[i])],
            )
        )
    errors.sort(key=lambda e: (-e.error, e.node, e.prefix))
    return errors, checked + len(missing), total + len(missing)


def _difference(actual: Mapping[str, float], expected: Mapping[str, float]) -> float:
    if not actual and not expected:
        return 0.0
    if not actual or not expected:
        return 1.0
    return max(abs(actual.get(h, 0.0) - expected.get(h, 0.0)) for h in {*actual, *expected})
