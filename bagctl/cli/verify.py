"""``bagctl verify``: do the switches' UCMP weights spread traffic the way the topology's
capacities call for? (``bagctl.verify``; the expected side never looks at BGP state.)

The running region sends its topology, failures and every FIB over the bus (and, with
``--transients``, the last operation's FIB change stream); the checking runs here, so a
big region's event loop is not held up. ``--from FILE`` checks a snapshot saved with
``--save FILE`` instead, with no region running. This command only gets the snapshot,
hands it to ``bagctl.verify.verify_region`` and prints the ``Verification`` it returns:
what counts as a problem is decided there.

Exit status: 0 within tolerance, 3 when verification found problems (the worst offenders
are named), 1 when it could not run (no region, bad file or argument).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from ..bus.payloads import BusError
from ..topology.failures import Failures
from ..topology.load import parse_topology
from ..verify import Verification, VerifyOptions, verify_region
from ..verify.check import DEFAULT_TOLERANCE
from ..verify.chisquare import DEFAULT_ALPHA
from ..verify.fibview import FibSnapshot
from ..verify.traffic import MatrixError, load_matrix
from ..verify.transients import FibChangeStream
from .control import fail_bus, request, resolve, target_options, timeout_option
from .output import emit_json, fail
from .tables import print_table

EXIT_PROBLEMS = 3


def _fetch(target_args: dict[str, Any], timeout_s: float, changes: bool) -> dict[str, Any]:
    target = resolve(target_args["state_dir"], target_args["region"], target_args["broker"])
    args = {"changes": 1} if changes else {}
    snapshot: dict[str, Any] = request(target, "fib-snapshot", args, timeout_s)
    return snapshot


def _load_snapshot(path: str) -> dict[str, Any]:
    try:
        data: object = json.loads(Path(path).read_text())
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{path}: not JSON: line {exc.lineno}: {exc.msg}") from None
    if isinstance(data, dict) and isinstance(data.get("result"), dict):
        data = data["result"]  # a saved `--json` reply
    snapshot = data if isinstance(data, dict) else {}
    for key in ("topology", "fib"):
        if key not in snapshot:
            raise click.ClickException(f"{path}: not a verify snapshot (no {key!r}; see --save)")
    return snapshot


def _pct(x: float) -> str:
    return f"{x:.1%}" if x == x and x != float("inf") else str(x)


def _render(v: Verification) -> None:
    r = v.check
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
    rows: list[list[object]] = [
        [e.node, e.prefix, f"{e.error:.3f}", _shares(e.actual), _shares(e.expected)]
        for e in r.weight_errors[:5]
        if e.error > r.tolerance
    ]
    if rows:
        print_table(["NODE", "PREFIX", "ERROR", "FIB", "IDEAL"], rows)
    links = r.overloaded[:10] or r.links[:5]
    if links:
        click.echo("overloaded links:" if r.overloaded else "most utilized links:")
        print_table(
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
    for f in r.faults[:10]:
        where = " -> ".join(f.cycle) if f.cycle else f.node
        click.echo(f"{f.kind}: {f.prefix} at {where}")
    if v.flows is not None:
        fl = v.flows
        click.echo(
            f"flows: {fl.result.flows} hashed, {fl.result.delivered} delivered, "
            f"{len(fl.tests)} groups tested, {len(fl.outliers)} outliers "
            f"(Bonferroni, family-wise alpha {fl.alpha:g})"
        )
    if v.transients is not None:
        t = v.transients
        click.echo(
            f"transients over {t.changes} FIB changes: {t.loops} loops, "
            f"{t.black_holes} black holes, longest {t.longest_ms:.2f} ms"
            + (f" ({v.transients_note})" if v.transients_note else "")
        )
    for problem in v.problems:
        click.echo(f"PROBLEM: {problem}")
    click.echo("OK" if v.ok else "FAILED")


def _shares(shares: Mapping[str, float]) -> str:
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
    default=DEFAULT_ALPHA,
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
        matrix = load_matrix(matrix_file, topo) if matrix_file else None
        stream = data.get("fib_changes") if transients else None
        fib_changes = FibChangeStream.from_dict(stream) if stream else None
    except MatrixError as exc:
        fail(str(exc), as_json=as_json)
        return
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        where = from_file or "the region's snapshot"
        fail(f"{where}: not a usable verify snapshot: {exc}", as_json=as_json)
        return
    options = VerifyOptions(
        tolerance=tolerance,
        matrix=matrix,
        flows=n_flows,
        seed=seed,
        alpha=alpha,
        pcap=pcap,
        transients=transients,
        max_transient_ms=max_transient_ms,
    )
    verification = verify_region(
        topo,
        fib,
        failures,
        options,
        fib_changes=fib_changes,
        last_report=data.get("last_report") or None,
    )
    if plot:
        from ..verify.plot import render_report

        render_report(topo, verification.check, plot)
    if as_json:  # the envelope of every command: ok, result, and code and error if not ok
        result = verification.as_dict()
        del result["ok"]
        if plot:
            result["plot"] = str(plot)
        out: dict[str, object] = {"ok": verification.ok, "result": result}
        if not verification.ok:
            out |= {"code": "verify-failed", "error": verification.problems[0]}
        emit_json(out)
    else:
        _render(verification)
    if not verification.ok:
        raise SystemExit(EXIT_PROBLEMS)
