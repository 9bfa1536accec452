"""The parameters of the generators: what ``--param name=value`` accepts and means.

``Param`` reads a value the way the command line gives it (a string) or a program does (a
number), refusing what cannot build a topology with a ``ParamError`` that names the
parameter; ``region_params`` is the set every preset has (a preset picks the defaults),
``JOIN_PARAMS`` what two regions add. Bandwidths are kept as the topology file will read
them back (``canon_bps``), so a generated topology survives ``dump`` and ``load`` equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from speakers.yamldoc import parse_bps

from ..dump import bps_text

SUMMARIZE = ("none", "fabric", "pod")  # summarization levels (``aggregation.py``)
AGGREGATE_WHEN = ("complete", "any")  # when aggregates are announced (``aggregation.py``)
JOINS = ("planar", "spread")  # how two regions' BAG layers meet (``bags.py``)


class ParamError(ValueError):
    """A bad ``--param``, or parameters that cannot build a topology; names the parameter."""


def canon_bps(bps: float) -> float:
    """``bps`` as the file will read it back (``dump`` writes ``bps_text``, ``load`` parses it)."""
    return parse_bps(bps_text(bps))


@dataclass(frozen=True)
class Param:
    """One ``--param``: its default, what it means, and how a string is read."""

    default: int | float | str
    help: str
    kind: str = "int"  # "int", "bps" (800G, 14.4T or bits/s) or "choice"
    minimum: int = 1
    choices: tuple[str, ...] = ()

    def convert(self, name: str, value: Any) -> int | float | str:
        if self.kind == "int":
            v = value
            if isinstance(v, str) and v.strip().lstrip("+-").isdigit():
                v = int(v.strip())
            if isinstance(v, bool) or not isinstance(v, int) or v < self.minimum:
                raise ParamError(
                    f"parameter {name!r}: expected an integer >= {self.minimum}, got {value!r}"
                )
            return v
        if self.kind == "bps":
            try:
                v = parse_bps(value) if isinstance(value, str) else value
            except ValueError:
                v = None
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < math.inf:
                raise ParamError(
                    f"parameter {name!r}: expected a bandwidth like 800G or 14.4T, got {value!r}"
                )
            return canon_bps(float(v))
        if not isinstance(value, str) or value not in self.choices:
            raise ParamError(
                f"parameter {name!r}: expected one of {', '.join(self.choices)}, got {value!r}"
            )
        return value

    def show(self, value: int | float | str | None = None) -> str:
        """``value`` (default: the default) as it would be typed after ``--param k=``."""
        v = self.default if value is None else value
        return bps_text(float(v)) if self.kind == "bps" else str(v)


def region_params(**defaults: int | str) -> dict[str, Param]:
    """The parameters of one region (every preset), with this preset's defaults."""
    spec = {
        "planes": (
            "BAG planes; each NSF spine plane has one STSW per BAG plane (STSW j links the "
            "BAGs of plane j), and each DSF zone edsw_per_plane EDSWs per BAG plane",
            "int",
            1,
        ),
        "bags_per_plane": ("BAG chassis per plane; each STSW/EDSW of a plane links all", "int", 1),
        "bag_ports": ("ports of one BAG chassis (Jericho3-AI: up to 432 x 800G)", "int", 1),
        "bag_speed": ("member speed of every BAG link (to STSW, EDSW, other BAGs)", "bps", 1),
        "nsf_zones": ("NSF fabrics in the region (one building each)", "int", 0),
        "spine_planes": ("NSF spine planes (= FTSWs per pod)", "int", 1),
        "pods": ("pods per NSF fabric", "int", 1),
        "rtsw_per_pod": ("RTSWs (racks) per pod", "int", 1),
        "rtsw_host": ("GPU-facing capacity of each RTSW", "bps", 1),
        "rtsw_ftsw_members": ("members from each RTSW to each FTSW of its pod", "int", 1),
        "nsf_speed": ("member speed of RTSW-FTSW links", "bps", 1),
        "ftsw_stsw_members": ("members from each FTSW to each STSW of its plane", "int", 1),
        "ftsw_stsw_speed": ("member speed of FTSW-STSW links", "bps", 1),
        "stsw_bag_members": ("members from each STSW to each BAG of its BAG plane", "int", 1),
        "dsf_zones": ("DSF zones in the region (one building each)", "int", 0),
        "rdsw": ("RDSWs per DSF zone", "int", 1),
        "fdsw": ("FDSWs per DSF zone (the cell fabric: capacity only, no BGP)", "int", 1),
        "edsw_per_plane": ("EDSWs per DSF zone and BAG plane", "int", 1),
        "rdsw_host": ("GPU-facing capacity of each RDSW", "bps", 1),
        "rdsw_fdsw_members": ("members from each RDSW to each FDSW", "int", 1),
        "fdsw_edsw_members": ("members from each FDSW to each EDSW", "int", 1),
        "dsf_speed": ("member speed of the cell fabric links", "bps", 1),
        "edsw_bag_members": ("members from each EDSW to each BAG of its plane", "int", 1),
        "prefixes_per_leaf": ("GPU subnets (a /24 and a /64 each) per RTSW and RDSW", "int", 1),
    }
    out = {}
    for name, (help_, kind, minimum) in spec.items():
        given = defaults.pop(name)
        default = parse_bps(str(given)) if kind == "bps" else given
        out[name] = Param(default, help_, kind, minimum)
    out["hold_time_s"] = Param(
        defaults.pop("hold_time_s", 9),
        "BGP hold time of every speaker (keepalive a third of it; 0: none)",
        "int",
        0,
    )
    out["summarize"] = Param(
        defaults.pop("summarize", "none"),
        "prefix summarization at tier boundaries: none; fabric (STSWs and EDSWs announce "
        "their fabric's aggregates to BAG instead of every leaf subnet); pod (FTSWs also "
        "announce their pod's aggregates to the STSWs)",
        "choice",
        0,
        SUMMARIZE,
    )
    out["aggregate_when"] = Param(
        defaults.pop("aggregate_when", "complete"),
        "when a summarizing switch announces an aggregate: complete (only while every leaf "
        "subnet in it is reachable through the switch; RFC 7938 §8.2's hazard avoided) or "
        "any (while one is: a leaf uplink down then black-holes or loops)",
        "choice",
        0,
        AGGREGATE_WHEN,
    )
    if defaults:
        raise TypeError(f"unknown region parameters {sorted(defaults)}")
    return out


JOIN_PARAMS = {
    "inter_bag_members": Param(
        376, "members from each BAG to the other region (split over spread_width peers)"
    ),
    "spread_width": Param(
        8, "spread: BAGs of the other region each BAG links (one per plane offset)"
    ),
}
