"""``bagctl demo``: what bagemu can show today, with no setup: the codec as a BAG switch
uses it, then the ``mini`` region failing and repairing bundles (``bagctl/demo.py`` runs
it; this prints it, as text or ``--json``)."""

from __future__ import annotations

import sys

import click

from speakers.wire import format_bps

from ..demo import BAG_ASN, BUNDLE_BPS, run_demo
from ..interrupts import Interrupted
from .output import emit_json, interrupted


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def demo(as_json: bool) -> None:
    """Encode and decode what a BAG switch sends: OPEN, UPDATE with link bandwidth, a packed
    table, and a malformed UPDATE."""
    try:
        report = run_demo()
    except Interrupted as exc:  # Ctrl-C or SIGTERM: the region torn down, never exit 0
        interrupted(exc)
        return
    if as_json:
        emit_json({"ok": True, **report})
        return
    o, u, p, m = report["open"], report["update"], report["packing"], report["malformed"]
    echo = click.echo
    echo(f"OPEN from a BAG chassis, AS {BAG_ASN} (My AS = AS_TRANS): {o['octets']} octets")
    echo(f"  {o['hex']}")
    echo(
        f"UPDATE from an RTSW, 4 GPU subnets, link bandwidth {format_bps(BUNDLE_BPS)} "
        f"(16 x 800G): {u['octets']} octets"
    )
    echo(f"  {u['hex']}")
    echo(
        f"  received link bandwidth {u['link_bandwidth_received_bps']:.6g} b/s "
        f"(float32, relative error {u['float32_relative_error']:.1e})"
    )
    echo(
        f"Packing: {p['ipv4_prefixes']} IPv4 /24 -> {p['ipv4_updates']} UPDATEs, "
        f"{p['ipv6_prefixes']} IPv6 /64 -> {p['ipv6_updates']} UPDATEs "
        f"(largest {p['largest_update_octets']} octets); encode {p['encode_s']}s, "
        f"decode {p['decode_s']}s, all prefixes read back"
    )
    echo(f"Malformed UPDATE: {m.get('error')}")
    echo(f"  -> {m.get('action')}, per {m['problems'][0]['rule'] if m.get('problems') else '-'}")
    r = report["region"]
    echo(f"Region {r['preset']} (embedded runtime, TCP): {r['bag']} UCMP weights for {r['prefix']}")
    for step in r["steps"]:
        rep = step["report"]
        echo(
            f"  {rep['event']:45} converged {rep['converged_s'] * 1000:7.1f} ms, "
            f"{rep['updates_sent']:5} UPDATEs, {rep['fib_changes']:5} FIB changes -> "
            + ", ".join(
                f"{hop.rsplit('-', 2)[-2]}-{hop.rsplit('-', 1)[-1]}:{w}"
                for hop, w in step["weights"].items()
            )
        )
    sys.stdout.flush()
