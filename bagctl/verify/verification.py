"""One verification of a region's FIBs: options in, one report out (``verify_region``).

``bagctl verify``, the management bus and scenario files all call ``verify_region`` with
plain data: the topology, the FIB snapshot, the failures the region was told about, the
last operation's FIB change stream and convergence report when there are some, and a
``VerifyOptions``. It runs the checks the options ask for, each in its own module:

- always, the weights and loads against the model (``check.py``, a ``VerifyReport``);
- with ``flows``, N hashed flows and a chi-square test per group (``flows.py``);
- with ``transients``, the loops and black holes while the last operation converged
  (``transients.py``);

and returns them in one frozen ``Verification`` whose ``problems`` are the verdict. What
counts as a problem is decided here and nowhere else, so every caller fails on the same
things with the same words: the check's own problems, then the flows' (a group failing its
test, a flow meeting a black hole or a loop), then the transients' (no change stream when
one was asked for; an interval longer than ``max_transient_ms``, or one still open, only
when that limit is given). A cold start's transients are shown and never counted: nothing
was forwarded before it, so every destination starts out black-holed.

The model of the topology is built once and serves the check and the transients. Flows
import scapy, which costs the CLI's start-up half a second, so they are imported only when
asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..topology.failures import Failures
from ..topology.model import Topology
from .check import DEFAULT_TOLERANCE, verify
from .chisquare import DEFAULT_ALPHA, FlowReport, check_groups
from .fibview import FibSnapshot
from .model import build_model
from .report import VerifyReport
from .traffic import TrafficMatrix, gravity_matrix
from .transients import FibChangeStream, TransientReport, find_transients

COLD_START_EVENT = "cold-start"  # the convergence report's event for a region's bring-up
COLD_START_NOTE = "the last operation is the cold start: shown, not counted"


@dataclass(frozen=True)
class VerifyOptions:
    """What to check and how strictly; the defaults are ``bagctl verify``'s.

    ``ValueError`` for a value no check can use (``pcap`` without ``flows`` included: the
    pcap holds the flows)."""

    tolerance: float = DEFAULT_TOLERANCE  # weight error, overload and throughput shortfall
    matrix: TrafficMatrix | None = None  # None: the gravity matrix of the topology
    flows: int = 0  # hash this many flows (0: no flow check)
    seed: int = 0  # of the flows
    alpha: float = DEFAULT_ALPHA  # family-wise significance of the chi-square tests
    pcap: str | None = None  # write the flows here
    transients: bool = False  # replay the last operation's FIB change stream
    max_transient_ms: float | None = None  # count transients longer (None: only show them)

    def __post_init__(self) -> None:
        if not 0 <= self.tolerance < 1:
            raise ValueError(f"tolerance must be at least 0 and below 1, got {self.tolerance}")
        if self.flows < 0:
            raise ValueError(f"flows must be at least 0, got {self.flows}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be above 0 and below 1, got {self.alpha}")
        if self.pcap and not self.flows:
            raise ValueError("a pcap needs flows to write")
        if self.max_transient_ms is not None and self.max_transient_ms < 0:
            raise ValueError(f"max_transient_ms must be at least 0, got {self.max_transient_ms}")


@dataclass(frozen=True)
class Verification:
    """What one ``verify_region`` found. ``as_dict()`` is the ``--json`` form: the check's
    keys (``VerifyReport.as_dict``), then ``flows`` and ``transients`` when asked for, with
    ``problems`` and ``ok`` covering all three."""

    options: VerifyOptions
    check: VerifyReport
    flows: FlowReport | None = None  # None: options.flows is 0
    # None: not asked for, or asked for and the region sent no change stream (a problem)
    transients: TransientReport | None = None
    transients_note: str = ""  # why the transients are shown but not counted
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        out = self.check.as_dict()
        if self.flows is not None:
            out["flows"] = _flows_dict(self.flows, self.options.pcap)
        if self.options.transients:
            out["transients"] = _transients_dict(self.transients, self.transients_note)
        out["problems"] = list(self.problems)
        out["ok"] = self.ok
        return out


def verify_region(
    topo: Topology,
    fib: FibSnapshot,
    failures: Failures,
    options: VerifyOptions,
    *,
    fib_changes: FibChangeStream | None = None,
    last_report: Mapping[str, object] | None = None,
) -> Verification:
    """Check ``fib`` against ``topo`` with ``failures`` as ``options`` ask (module
    docstring). ``fib_changes``: the last operation's FIB change stream, read with
    ``options.transients``; ``last_report``: that operation's convergence report
    (``ConvergenceReport.as_dict()``), whose ``event`` says whether it was the cold start."""
    matrix = options.matrix or gravity_matrix(topo)
    model = build_model(topo, failures)
    check = verify(topo, fib, failures, matrix=matrix, tolerance=options.tolerance, model=model)
    problems = list(check.problems)
    flows = None
    if options.flows:
        flows = _check_flows(topo, fib, matrix, options)
        problems += _flow_problems(flows)
    transients, note = None, ""
    if options.transients:
        if fib_changes is not None:
            transients = find_transients(
                fib, fib_changes.rows, model.owners, matrix, fib_changes.dropped
            )
            if last_report is not None and last_report.get("event") == COLD_START_EVENT:
                note = COLD_START_NOTE
        problems += _transient_problems(transients, note, options.max_transient_ms)
    return Verification(options, check, flows, transients, note, tuple(problems))


def _check_flows(
    topo: Topology, fib: FibSnapshot, matrix: TrafficMatrix, options: VerifyOptions
) -> FlowReport:
    """``options.flows`` flows drawn from the matrix, walked through ``fib`` and tested
    group by group; the pcap written when asked for."""
    from .flowgen import flows_for_matrix, owners_of, write_pcap  # scapy: see module docstring
    from .flowwalk import walk_flows

    owners = owners_of(topo)
    flows = flows_for_matrix(matrix, options.flows, options.seed, owners=owners)
    result = walk_flows(fib, owners, flows)
    # Bonferroni: with hundreds of groups, a per-group alpha would flag some by chance
    # alone; the family-wise error stays at most alpha (chisquare.FlowReport).
    checked = check_groups(result, alpha=options.alpha, bonferroni=True)
    if options.pcap:
        write_pcap(options.pcap, flows)
    return checked


def _flow_problems(report: FlowReport) -> list[str]:
    out = []
    if report.outliers:
        out.append(f"{len(report.outliers)} next-hop groups fail the chi-square test")
    if report.result.black_holes or report.result.loops:
        out.append("flows met a black hole or a loop")
    return out


def _transient_problems(
    report: TransientReport | None, note: str, max_ms: float | None
) -> list[str]:
    if report is None:
        return ["--transients: the region sent no FIB change stream"]
    if note or max_ms is None:
        return []
    if report.longest_ms > max_ms:
        return [
            f"{report.loops} transient loops and {report.black_holes} transient black holes "
            f"in the last operation, the longest {report.longest_ms:.2f} ms (over "
            f"--max-transient-ms {max_ms:g})"
        ]
    if report.any_open:
        return ["a transient loop or black hole outlasted the last FIB change"]
    return []


def _flows_dict(report: FlowReport, pcap: str | None) -> dict[str, object]:
    """The flow check as ``--json`` gives it: counts, what the flows met, the outliers."""
    result = report.result
    return {
        "flows": result.flows,
        "delivered": result.delivered,
        "black_holes": [h.as_dict() for h in result.black_holes],
        "loops": [lp.as_dict() for lp in result.loops],
        "groups_tested": len(report.tests),
        "alpha": report.alpha,
        "threshold": report.threshold,
        "outliers": [t.as_dict() for t in report.outliers],
        "pcap": pcap,
    }


def _transients_dict(report: TransientReport | None, note: str) -> dict[str, object] | None:
    if report is None:
        return None
    out = report.as_dict()
    if note:
        out["note"] = note
    return out
