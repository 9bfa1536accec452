"""``bagctl verify``: do the switches' UCMP weights spread traffic the way the topology's
capacities call for? (``bagctl.verify``; the expected side never looks at BGP state.)

The running region sends its topology, failures and every FIB over the bus (and, with
``--transients``, the last operation's FIB change stream); the checking runs here, so a
big region's event loop is not held up. ``--from FILE`` checks a snapshot saved with
``--save FILE`` instead, with no region running.

Exit status: 0 within tolerance, 3 when verification found problems (the worst offenders
are named), 1 when it could not run (no region, bad file or argument).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..bus.payloads import BusError
from ..topology.failures import Failures
from ..topology.load import parse_topology
from ..verify.check import DEFAULT_TOLERANCE, verify
from ..verify.fibview import FibSnapshot
from ..verify.model import build_model
from ..verify.report import VerifyReport
from ..verify.traffic import MatrixError, draw_pairs, gravity_matrix, load_matrix
from .control import fail_bus, request, resolve, table, target_options, timeout_option
from .output import emit_json, fail

EXIT_PROBLEMS = 3


def _fetch(target_args: dict[str, Any], timeout_s: float, changes: bool) -> dict[str, Any]:
    target = resolve(target_args["state_dir"], target_args["region"], target_args["broker"])
    args = {"changes": 1} if changes else {}
    return request(target, "fib-snapshot", args, timeout_s)


def _load_snapshot(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{path}: not JSON: line {exc.lineno}: {exc.msg}") from None
    if isinstance(data, dict) and isinstance(data.get("result"), dict):
        data = data["result"]  # a saved `--json` reply
    for key in ("topology", "fib"):
        if not isinstance(data, dict) or key not in data:
            raise click.ClickException(f"{path}: not a verify snapshot (no {key!r}; see --save)")
    return data


def _pct(x: float) -> str:
    return f"{x:.1%}" if x == x and x != float("inf") else str(x)


def _render(report: VerifyReport, extra: dict[str, Any]) -> None:
    r = report
    click.echo(
        f"{r.region}: {r.speakers} speakers, {r.entries_checked} FIB entries, "
        f"matrix {r.matrix}, tolerance {r.tolerance:g}"
    )
    click.echo(
        f"throughput before the first link is full: FIB {_pct(r.actual_vs_ideal)} of ideal, "
        f"plain ECMP {_pct(r.ecmp_vs_ideal)}"
    )
    click.echo(
        f"weights: max error {r.max_weight_error:.4f}, mean {r.mean_weight_error:.5f}, "
        f"{sum(1 for e in r.weight_errors if e.error > r.tolerance)} over tolerance"
    )
    rows = [
        [e.node, e.prefix, f"{e.error:.3f}", _shares(e.actual), _shares(e.expected)]
        for e in r.weight_errors[:5]
        if e.error > r.tolerance
    ]
    if rows:
        click.echo(table(["NODE", "PREFIX", "ERROR", "FIB", "IDEAL"], rows))
    links = r.overloaded[:10] or r.links[:5]
    if links:
        click.echo("overloaded links:" if r.overloaded else "most utilized links:")
        click.echo(
            table(
                ["FROM", "TO", "UTIL", "IDEAL", "ECMP"],
                [
                    [
                        link.a,
                        link.b,
                        _pct(link.utilization),
                        _pct(link.ideal_bps / link.capacity_bps) if link.capacity_bps else "-",
                        _pct(link.ecmp_bps / link.capacity_bps) if link.capacity_bps else "-",
                    ]
                    for link in links
                ],
            )
        )
    for f in r.faults[:10]:
        where = " -> ".join(f.cycle) if f.cycle else f.node
        click.echo(f"{f.kind}: {f.prefix} at {where}")
    if "flows" in extra:
        fl = extra["flows"]
        click.echo(
            f"flows: {fl['flows']} hashed, {fl['delivered']} delivered, "
            f"{fl['groups_tested']} groups tested, {len(fl['outliers'])} outliers "
            f"(Bonferroni, family-wise alpha {fl['alpha']:g})"
        )
    if "transients" in extra:
        t = extra["transients"]
        if t is not None:
            click.echo(
                f"transients over {t['changes']} FIB changes: {t['loops']} loops, "
                f"{t['black_holes']} black holes, longest {t['longest_ms']:.2f} ms"
                + (f" ({t['note']})" if "note" in t else "")
            )
    for problem in extra.get("problems", r.problems):
        click.echo(f"PROBLEM: {problem}")
    click.echo("OK" if not extra.get("problems", r.problems) else "FAILED")


def _shares(shares: dict[str, float]) -> str:
    return " ".join(f"{h}:{s:.2f}" for h, s in sorted(shares.items())) or "-"


@click.command()
@click.option(
    "--tolerance",
    type=click.FloatRange(0, 1, max_open=True),
    default=DEFAULT_TOLERANCE,
    show_default=True,
    help="Largest acceptable weight-share error, overload and throughput shortfall.",
)
@click.option(
    "--matrix",
    "matrix_file",
    type=click.Path(dir_okay=False),
    help="Traffic matrix YAML (default: every GPU-facing switch to every other fabric).",
)
@click.option("--flows", "n_flows", type=click.IntRange(0), default=0, help="Hash N flows.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the flows.")
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.001,
    show_default=True,
    help="With --flows: family-wise significance of the chi-square tests (Bonferroni).",
)
@click.option("--pcap", type=click.Path(dir_okay=False), help="Write the flows as a pcap.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Utilization picture.")
@click.option("--transients", is_flag=True, help="Report the last operation's transients.")
@click.option(
    "--max-transient-ms",
    type=click.FloatRange(0),
    default=None,
    help="With --transients: fail when a loop or black hole lasted longer (default: report).",
)
@click.option("--save", type=click.Path(dir_okay=False), help="Save the fetched snapshot.")
@click.option(
    "--from",
    "from_file",
    type=click.Path(dir_okay=False),
    help="Check a saved snapshot (no region).",
)
@timeout_option(default=60.0, help="Seconds to wait for the region's reply.")
@target_options
def verify_cmd(
    tolerance: float,
    matrix_file: str | None,
    n_flows: int,
    seed: int,
    alpha: float,
    pcap: str | None,
    plot: str | None,
    transients: bool,
    max_transient_ms: float | None,
    save: str | None,
    from_file: str | None,
    timeout_s: float,
    **target: Any,
) -> None:
    """Check the FIB weights against the traffic split the topology calls for."""
    as_json = bool(target.pop("as_json"))
    if pcap and not n_flows:
        fail("--pcap needs --flows N", as_json=as_json)
    if plot:
        from ..topology.draw import check_output

        try:
            check_output(plot)
        except ValueError as exc:
            fail(f"--plot: {exc}", as_json=as_json)
    try:
        data = _load_snapshot(from_file) if from_file else _fetch(target, timeout_s, transients)
    except BusError as error:
        fail_bus(error, as_json)
        return
    except click.ClickException as exc:
        fail(exc.message, as_json=as_json)
        return
    if save:
        Path(save).write_text(json.dumps(data))
    try:
        topo = parse_topology(data["topology"], from_file or "<region>")
        failures = Failures.from_dict(data.get("failures") or {})
        fib = FibSnapshot.from_names(data["fib"])
        matrix = load_matrix(matrix_file, topo) if matrix_file else gravity_matrix(topo)
    except MatrixError as exc:
        fail(str(exc), as_json=as_json)
        return
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        where = from_file or "the region's snapshot"
        fail(f"{where}: not a usable verify snapshot: {exc}", as_json=as_json)
        return
    model = build_model(topo, failures)
    report = verify(topo, fib, failures, matrix=matrix, tolerance=tolerance, model=model)
    extra: dict[str, Any] = {}
    problems = list(report.problems)
    if n_flows:
        flow_report = _flows(topo, fib, matrix, n_flows, seed, pcap, alpha)
        extra["flows"] = flow_report
        if flow_report["outliers"]:
            problems.append(
                f"{len(flow_report['outliers'])} next-hop groups fail the chi-square test"
            )
        if flow_report["black_holes"] or flow_report["loops"]:
            problems.append("flows met a black hole or a loop")
    if transients:
        extra["transients"] = _transients(data, fib, model, matrix)
        t = extra["transients"]
        last = data.get("last_report") or {}
        if t is None:
            problems.append("--transients: the region sent no FIB change stream")
        elif last.get("event") == "cold-start":
            # Nothing was forwarded before a cold start: every destination starts out
            # black-holed, which says nothing about the region. Shown, not counted.
            t["note"] = "the last operation is the cold start: shown, not counted"
        elif max_transient_ms is not None and t["longest_ms"] > max_transient_ms:
            problems.append(
                f"{t['loops']} transient loops and {t['black_holes']} transient black holes "
                f"in the last operation, the longest {t['longest_ms']:.2f} ms (over "
                f"--max-transient-ms {max_transient_ms:g})"
            )
        elif max_transient_ms is not None and any(x["open"] for x in t["transients"]):
            problems.append("a transient loop or black hole outlasted the last FIB change")
    if plot:
        from ..verify.plot import render_utilization

        render_utilization(
            topo,
            report.utilization(),
            plot,
            failed=sorted(failures.down),
            degraded={k: (n, topo.bundle(*k).members) for k, n in failures.members_up.items()},
            title=report.headline(),
        )
        extra["plot"] = str(plot)
    extra["problems"] = problems
    if as_json:
        out = report.as_dict()
        out.update({k: v for k, v in extra.items() if k != "problems"})
        out["problems"] = problems
        out["ok"] = not problems
        emit_json(out)
    else:
        _render(report, extra)
    if problems:
        raise SystemExit(EXIT_PROBLEMS)


def _flows(
    topo: Any, fib: FibSnapshot, matrix: Any, n: int, seed: int, pcap: str | None, alpha: float
) -> dict[str, Any]:
    from ..verify.flows import (
        Demand,
        check_groups,
        flows_for_pairs,
        make_flows,
        owners_of,
        walk_flows,
        write_pcap,
    )

    owners = owners_of(topo)
    if matrix.explicit is None:  # the gravity matrix: draw pairs bundle by bundle
        flows = flows_for_pairs(draw_pairs(matrix, n, seed), seed, owners=owners)
    else:
        sources = [
            Demand(src, p, rate) for p, d in matrix.demands.items() for src, rate in d.items()
        ]
        flows = make_flows(n, sources, seed, owners=owners)
    result = walk_flows(fib, owners, flows)
    # Bonferroni: with hundreds of groups, a per-group alpha would flag some by chance
    # alone; the family-wise error stays at most alpha (flows.FlowReport).
    checked = check_groups(result, alpha=alpha, bonferroni=True)
    if pcap:
        write_pcap(pcap, flows)
    return {
        "flows": result.flows,
        "delivered": result.delivered,
        "black_holes": [h.as_dict() for h in result.black_holes],
        "loops": [lp.as_dict() for lp in result.loops],
        "groups_tested": len(checked.tests),
        "alpha": checked.alpha,
        "threshold": checked.threshold,
        "outliers": [t.as_dict() for t in checked.outliers],
        "pcap": pcap,
    }


def _transients(
    data: dict[str, Any], fib: FibSnapshot, model: Any, matrix: Any
) -> dict[str, Any] | None:
    from ..verify.transients import find_transients

    stream = data.get("fib_changes")
    if not stream:
        return None
    report = find_transients(
        fib, stream["changes"], model.owners, matrix, int(stream.get("dropped", 0))
    )
    return report.as_dict()
