"""``bagctl topo info FILE [--json]``: a region's figures (``bagctl/topology/info.py``).

Counts by role, capacities by tier pair, per-fabric host capacity, BAG uplink, max flow
and oversubscription, the NSF effective figure, inter-BAG Pbps per region pair and the
largest chassis, beside the published figures of Meta's BAG where they apply. ``--json``
prints ``topology_info()`` as one object.
"""

from __future__ import annotations

from typing import Any

import click

from speakers.yamldoc import ConfigError

from .complete import complete_topology_file
from .output import emit_json, fail

PUBLISHED = {
    "l2_to_bag": "about 4.5:1",
    "nsf_effective": "4.98:1",
    "inter_bag": "16-48 Pbps per region pair",
    "chassis": "up to 432 x 800G",
}


def _pbps(value: float) -> str:
    """A capacity given in Pbps, printed in Pbps from 1 Pbps up, else in Tbps."""
    return f"{value:,.3f} Pbps" if value >= 1 else f"{value * 1000:,.1f} Tbps"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}:1"


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  "
        + "  ".join(
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(r)
        ).rstrip()
        for r in rows
    ]


def render(info: dict[str, Any]) -> str:
    """The text report of ``topology_info`` output."""
    lines = [
        f"{info['name']}: regions {', '.join(info['regions'])}",
        f"  speakers {info['speakers']:,}  sessions {info['sessions']:,}  "
        f"bundles {info['bundles']:,}  member links {info['member_links']:,}  "
        f"prefixes {info['prefixes']:,}",
        "nodes by role",
        *_table([[role, f"{n:,}"] for role, n in info["nodes_by_role"].items()], {1}),
        "capacity by tier pair",
        *_table([[k, _pbps(v)] for k, v in info["capacity_pbps_by_tiers"].items()], {1}),
        "fabrics",
    ]
    header = ["fabric", "kind", "nodes", "hosts", "BAG uplink", "max flow", "L2-to-BAG", "eff."]
    rows = [header] + [
        [
            name,
            f["kind"],
            f"{f['nodes']:,}",
            _pbps(f["host_capacity_pbps"]),
            _pbps(f["bag_uplink_pbps"]),
            _pbps(f["max_flow_to_bag_pbps"]),
            _ratio(f["l2_to_bag_oversubscription"]),
            _ratio(f["effective_oversubscription"]),
        ]
        for name, f in info["fabrics"].items()
    ]
    lines += _table(rows, {2, 3, 4, 5, 6, 7})
    lines.append(f"  published: L2-to-BAG {PUBLISHED['l2_to_bag']}")
    lines.append(
        f"NSF effective oversubscription {_ratio(info['nsf_effective_oversubscription'])}"
        f"  (published {PUBLISHED['nsf_effective']})"
    )
    lines.append(f"inter-BAG capacity  (published {PUBLISHED['inter_bag']})")
    pairs = info["inter_bag_pbps"]
    lines += _table([[k, f"{v:,.3f} Pbps"] for k, v in pairs.items()], {1}) if pairs else ["  -"]
    lines.append(
        f"max chassis ports {info['max_chassis_ports']}  (published {PUBLISHED['chassis']})"
    )
    return "\n".join(lines)


@click.command()
@click.argument("file", metavar="FILE", shell_complete=complete_topology_file)
@click.option("--no-check", is_flag=True, help="Skip the AS-layout validation.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(file: str, no_check: bool, as_json: bool) -> None:
    """Print the figures of the topology in FILE; how each is computed is in the README.

    Exits 1 if FILE cannot be read or fails validation (file:line: field: message).
    """
    from bagctl.topology import load_topology
    from bagctl.topology.info import topology_info

    try:
        topo = load_topology(file, check=not no_check)
    except ConfigError as exc:
        fail(str(exc), as_json=as_json)
        return
    figures = topology_info(topo)
    if as_json:
        emit_json(figures)
    else:
        click.echo(render(figures))
