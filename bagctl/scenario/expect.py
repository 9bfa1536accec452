"""Judging expectations: pure functions from what was expected and what the region
reported to the failures, each saying what was expected and what was found.

An empty list is a pass. Every message starts with the expectation's field name, so a
CI log or a JUnit failure reads like the scenario file (``weights r1 10.0.2.0/24:
expected ftsw1 50.0%, ftsw2 50.0% (within 1.0%), got ftsw1 66.7%, ftsw2 33.3%``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import Expectations, RouteExpect, SessionExpect, WeightsExpect

Fib = Mapping[str, Mapping[str, Mapping[str, int]]]  # node -> prefix -> next hop -> weight
FIB_DIFF_LINES = 20  # a golden FIB's differences shown, at most


def report_failures(expect: Expectations, report: Mapping[str, Any]) -> list[str]:
    """The convergence report's expectations (``ConvergenceReport.as_dict()``)."""
    out = []
    emulated_ms = 1000 * float(report.get("converged_emulated_s", 0.0))
    if expect.converged_within_ms is not None and emulated_ms > expect.converged_within_ms:
        out.append(
            f"converged_within_ms: expected at most {expect.converged_within_ms:g} ms, "
            f"got {emulated_ms:.3f} ms (emulated; {report.get('converged_s')} s wall)"
        )
    updates = int(report.get("updates_sent", 0))
    if expect.max_updates is not None and updates > expect.max_updates:
        out.append(f"max_updates: expected at most {expect.max_updates}, got {updates}")
    losses: list[Any] = list(report.get("losses") or [])
    if expect.session_losses is not None and len(losses) != expect.session_losses:
        named = "; ".join(_loss(x) for x in losses) or "none"
        out.append(f"session_losses: expected {expect.session_losses}, got {len(losses)}: {named}")
    return out


def _loss(loss: object) -> str:
    if isinstance(loss, Mapping):
        return f"{loss.get('node')} - {loss.get('peer')} ({loss.get('cause')})"
    return str(loss)


def session_failure(expect: SessionExpect, state: str | None) -> str | None:
    """``state``: the session's state seen from ``expect.a`` (None: no such neighbor)."""
    up = state == "Established"
    if up == expect.established:
        return None
    want = "Established" if expect.established else "not Established"
    return f"sessions {expect.a} - {expect.b}: expected {want}, got {state}"


def route_failure(expect: RouteExpect, best_from: str | None) -> str | None:
    """``best_from``: where the node's best path for the prefix comes from (None: none)."""
    if (best_from is not None) == expect.present:
        return None
    if expect.present:
        return f"routes {expect.node} {expect.prefix}: expected a route, got none"
    return f"routes {expect.node} {expect.prefix}: expected no route, got one from {best_from}"


def shares(weights: Mapping[str, float]) -> dict[str, float]:
    """Each next hop's share of the whole."""
    total = sum(weights.values())
    return {k: (v / total if total else 0.0) for k, v in weights.items()}


def weights_failure(expect: WeightsExpect, actual: Mapping[str, int]) -> str | None:
    """The FIB's weights against the expected ratios, share by share."""
    want, got = shares(dict(expect.ratios)), shares(actual)
    hops = sorted(set(want) | set(got))
    limit = expect.tolerance + 1e-12  # (0.26 - 0.25 is a hair above 0.01 in floating point)
    off = [h for h in hops if abs(want.get(h, 0.0) - got.get(h, 0.0)) > limit]
    if not off:
        return None
    shown_want = ", ".join(f"{h} {want[h]:.1%}" for h in sorted(want))
    shown_got = ", ".join(f"{h} {got[h]:.1%}" for h in sorted(got)) or "no FIB entry"
    return (
        f"weights {expect.node} {expect.prefix}: expected {shown_want} (within "
        f"{expect.tolerance:.1%}), got {shown_got}; off: {', '.join(off)}"
    )


def fib_differences(golden: Fib, actual: Fib) -> list[str]:
    """Every entry that differs, as ``node prefix: golden -> actual`` (None: absent)."""
    out = []
    for node in sorted(set(golden) | set(actual)):
        g, a = golden.get(node, {}), actual.get(node, {})
        for prefix in sorted(set(g) | set(a)):
            if dict(g.get(prefix, {})) != dict(a.get(prefix, {})):
                before = dict(g[prefix]) if prefix in g else None
                after = dict(a[prefix]) if prefix in a else None
                out.append(f"{node} {prefix}: {before} -> {after}")
    return out


def fib_failure(golden_file: str, golden: Fib, actual: Fib) -> str | None:
    diffs = fib_differences(golden, actual)
    if not diffs:
        return None
    shown = "\n    ".join(diffs[:FIB_DIFF_LINES])
    more = (
        f"\n    ... and {len(diffs) - FIB_DIFF_LINES} more" if len(diffs) > FIB_DIFF_LINES else ""
    )
    return (
        f"fib_golden {golden_file}: {len(diffs)} entries differ (golden -> actual; "
        f"--update-golden rewrites the file):\n    {shown}{more}"
    )


__all__ = [
    "fib_differences",
    "fib_failure",
    "report_failures",
    "route_failure",
    "session_failure",
    "shares",
    "weights_failure",
]
