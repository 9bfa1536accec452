"""The presets: calibrated parameter sets, and ``generate(preset, **params)``.

``PRESETS`` names each preset's builder (one region, or two joined), its parameters with
their defaults (``params.py``) and a description; ``build_region`` assembles one region
from the building blocks (``fabrics.py``, ``bags.py``, ``aggregation.py``).

Calibration: why an NSF's effective oversubscription exceeds its L2-to-BAG figure.
``info.py`` gives ``l2_to_bag`` = host capacity / BAG uplink and ``effective`` = host
capacity / max flow from the hosts to BAG. Meta publishes about 4.5:1 for the first and
4.98:1 for an NSF's second, so some cut inside the NSF is about 10% below its BAG uplink.
We put it where an NSF built before BAG has one: the spine. Pods are non-blocking (RTSW
uplinks >= host capacity); each pod's FTSWs reach the spine about 5:1 oversubscribed, as
sized for pod-to-pod traffic; and each STSW was given a few more BAG-facing ports than the
capacity its FTSW-facing ports bring in (BAG links come in whole 800G members per BAG
chassis, and BAG is built never to be the bottleneck), so those extra BAG ports are
stranded: max flow = the FTSW -> STSW cut, a little below the BAG uplink. Two
calibrations:

- 31:28 (``region``, ``prometheus``): for each BAG chassis of its plane an STSW has 31 x
  800G toward it and 28 x 800G coming in from FTSWs (``region``: a 64-port 800G STSW with
  28 down and 31 up). Leaves serve 14.4T and pods hold 31 racks, which makes the host
  capacity exactly 4.5 x BAG uplink, so effective = 4.5 x 31/28 = 4.982.
- 10:9 (``mini``, two-region presets): an STSW has 10 units toward BAG for every 9 coming
  in from FTSWs, and host capacity is 4.48 x BAG uplink, so effective = 4.48 x 10/9 =
  4.978.

With whole members and whole switches the two published figures cannot both be hit
exactly at every size: 4.98/4.5 = 83/75, so an exact pair needs a factor 83 (or 31 with
4.5 exactly, or 25 with 4.48) somewhere in the counts; these two calibrations are the
smallest we found that keep realistic switch sizes.

DSF zones are scheduled and non-blocking (the cell fabric carries each RDSW's full host
capacity), so their effective figure equals their L2-to-BAG one: RDSW count = 4.5 x BAG
uplink / host capacity per RDSW.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..model import Defaults, Topology
from .aggregation import summarize
from .bags import bag_layer, join_regions
from .clos import CLOS_PARAMS, build_clos
from .fabrics import Fabric, dsf_zone, nsf_fabric
from .params import JOIN_PARAMS, JOINS, Param, ParamError, region_params


@dataclass(frozen=True)
class Preset:
    """A named topology recipe: its builder, its parameters with their defaults, what it is."""

    name: str
    build: Callable[..., Topology]
    params: Mapping[str, Param]
    description: str


def _bag_fabric_ports(p: Mapping[str, Any]) -> int:
    """Ports each BAG chassis gives its region's fabrics: an STSW per NSF spine plane and
    ``edsw_per_plane`` EDSWs per DSF zone, each with its bundle's members."""
    return int(
        p["nsf_zones"] * p["spine_planes"] * p["stsw_bag_members"]
        + p["dsf_zones"] * p["edsw_per_plane"] * p["edsw_bag_members"]
    )


def build_region(region: int, p: Mapping[str, Any], name: str = "") -> Topology:
    """One region from the parameters of ``region_params``: its NSF fabrics, then its DSF
    zones, each in its own building, under one BAG layer."""
    if p["nsf_zones"] + p["dsf_zones"] < 1:
        raise ParamError("nsf_zones + dsf_zones: a region needs at least one L2 fabric")
    fabrics: list[Fabric] = []
    subnet = 0
    for zone in range(1, p["nsf_zones"] + 1):
        fab = nsf_fabric(
            region=region,
            zone=zone,
            spine_planes=p["spine_planes"],
            stsw_per_plane=p["planes"],
            pods=p["pods"],
            rtsw_per_pod=p["rtsw_per_pod"],
            rtsw_host_bps=p["rtsw_host"],
            rtsw_ftsw_members=p["rtsw_ftsw_members"],
            ftsw_stsw_members=p["ftsw_stsw_members"],
            ftsw_stsw_speed_bps=p["ftsw_stsw_speed"],
            speed_bps=p["nsf_speed"],
            prefixes_per_leaf=p["prefixes_per_leaf"],
            first_subnet=subnet,
            building=f"r{region}-dc{zone}",
        )
        fabrics.append(fab)
        subnet += fab.subnets
    for i in range(1, p["dsf_zones"] + 1):
        zone = p["nsf_zones"] + i
        fab = dsf_zone(
            region=region,
            zone=i,
            rdsw=p["rdsw"],
            fdsw=p["fdsw"],
            edsw_per_plane=p["edsw_per_plane"],
            bag_planes=p["planes"],
            rdsw_host_bps=p["rdsw_host"],
            rdsw_fdsw_members=p["rdsw_fdsw_members"],
            fdsw_edsw_members=p["fdsw_edsw_members"],
            speed_bps=p["dsf_speed"],
            prefixes_per_leaf=p["prefixes_per_leaf"],
            first_subnet=subnet,
            building=f"r{region}-dc{zone}",
        )
        fabrics.append(fab)
        subnet += fab.subnets
    used = _bag_fabric_ports(p)
    if used > p["bag_ports"]:
        raise ParamError(
            f"bag_ports: each BAG would need {used} ports for its fabrics (nsf_zones x "
            f"spine_planes x stsw_bag_members + dsf_zones x edsw_per_plane x "
            f"edsw_bag_members), its chassis has {p['bag_ports']}"
        )
    return bag_layer(
        fabrics,
        region=region,
        planes=p["planes"],
        bags_per_plane=p["bags_per_plane"],
        chassis_ports=p["bag_ports"],
        stsw_bag_members=p["stsw_bag_members"],
        edsw_bag_members=p["edsw_bag_members"],
        speed_bps=p["bag_speed"],
        name=name,
    )


def _defaults(p: Mapping[str, Any]) -> Defaults:
    if p["hold_time_s"] in (1, 2):
        raise ParamError("hold_time_s: 0 or at least 3 (RFC 4271 §4.2)")
    # Aggregates announced only when complete (the default), where there are aggregates.
    complete = p["summarize"] != "none" and p["aggregate_when"] == "complete"
    return Defaults(hold_time_s=p["hold_time_s"], aggregate_complete_only=complete)


def _one_region(name: str, description: str) -> Callable[..., Topology]:
    def build(**p: Any) -> Topology:
        topo = summarize(build_region(1, p, name), p["summarize"])
        return Topology(
            topo.name,
            topo.nodes,
            topo.bundles,
            defaults=_defaults(p),
            description=f"bagctl topo gen --preset {name}: {description}",
        )

    return build


def _two_regions(name: str, description: str) -> Callable[..., Topology]:
    def build(**p: Any) -> Topology:
        used = _bag_fabric_ports(p)
        if used + p["inter_bag_members"] > p["bag_ports"]:
            raise ParamError(
                f"bag_ports: each BAG would need {used} ports for its fabrics plus "
                f"inter_bag_members {p['inter_bag_members']}, its chassis has {p['bag_ports']}"
            )
        a, b = build_region(1, p), build_region(2, p)
        topo = join_regions(
            a,
            b,
            join=p["join"],
            planes=p["planes"],
            bags_per_plane=p["bags_per_plane"],
            members=p["inter_bag_members"],
            spread_width=p["spread_width"],
            speed_bps=p["bag_speed"],
            name=name,
        )
        topo = summarize(topo, p["summarize"])
        return Topology(
            topo.name,
            topo.nodes,
            topo.bundles,
            defaults=_defaults(p),
            description=f"bagctl topo gen --preset {name}: {description}",
        )

    return build


# 31:28 (module docstring): per BAG of its plane, an STSW has 31 x 800G up and 28 x 800G
# coming in from FTSWs; RTSW and RDSW serve 14.4T each; 31 racks per pod make the host
# capacity exactly 4.5 x BAG uplink.
_CALIBRATED_31_28: dict[str, int | str] = {
    "bag_ports": 432,
    "bag_speed": "800G",
    "rtsw_per_pod": 31,
    "rtsw_host": "14.4T",
    "nsf_speed": "800G",
    "ftsw_stsw_speed": "800G",
    "stsw_bag_members": 31,
    "fdsw": 9,
    "rdsw_host": "14.4T",
    "rdsw_fdsw_members": 2,
    "fdsw_edsw_members": 2,
    "dsf_speed": "800G",
    "prefixes_per_leaf": 1,
}
# 10:9 (module docstring): RTSWs serve 51.2T, host = 4.48 x BAG uplink.
_CALIBRATED_10_9: dict[str, int | str] = {
    "bag_ports": 432,
    "bag_speed": "800G",
    "rtsw_host": "51.2T",
    "nsf_speed": "800G",
    "ftsw_stsw_speed": "400G",
    "rdsw_host": "14.4T",
    "dsf_speed": "800G",
    "prefixes_per_leaf": 1,
}

_MINI = "one region: 2 BAG planes x 2 chassis, one NSF fabric (2 pods), one DSF zone"
_REGION = "one region: 4 BAG planes x 1 chassis, 3 NSF fabrics (4 pods each), 1 DSF zone"
_TWO = "two regions, each 8 BAG planes x 8 chassis with one NSF fabric and one DSF zone"
_PROMETHEUS = "one region: 8 BAG planes x 6 chassis, 6 NSF fabrics, 6 DSF zones"

_TWO_REGION_DEFAULTS: dict[str, int | str] = {
    **_CALIBRATED_10_9,
    "planes": 8,
    "bags_per_plane": 8,
    "nsf_zones": 1,
    "spine_planes": 5,
    "pods": 16,
    "rtsw_per_pod": 14,
    "rtsw_ftsw_members": 13,
    "ftsw_stsw_members": 9,
    "stsw_bag_members": 10,
    "dsf_zones": 1,
    "rdsw": 96,
    "fdsw": 9,
    "edsw_per_plane": 3,
    "rdsw_fdsw_members": 2,
    "fdsw_edsw_members": 2,
    "edsw_bag_members": 2,
    "summarize": "pod",
    "hold_time_s": 90,
}


def _two_region_params(join: str) -> dict[str, Param]:
    return {
        **region_params(**_TWO_REGION_DEFAULTS),
        "join": Param(join, "how the BAG layers meet: planar or spread", "choice", 0, JOINS),
        **JOIN_PARAMS,
    }


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "mini",
            _one_region("mini", _MINI),
            region_params(
                **_CALIBRATED_10_9,
                planes=2,
                bags_per_plane=2,
                nsf_zones=1,
                spine_planes=2,
                pods=2,
                rtsw_per_pod=7,
                rtsw_ftsw_members=32,
                ftsw_stsw_members=45,
                stsw_bag_members=25,
                dsf_zones=1,
                rdsw=8,
                fdsw=2,
                edsw_per_plane=1,
                rdsw_fdsw_members=9,
                fdsw_edsw_members=9,
                edsw_bag_members=8,
            ),
            _MINI + "; demos and tests (at most 40 speakers), published ratios at small size",
        ),
        Preset(
            "region",
            _one_region("region", _REGION),
            region_params(
                **_CALIBRATED_31_28,
                planes=4,
                bags_per_plane=1,
                nsf_zones=3,
                spine_planes=4,
                pods=4,
                rtsw_ftsw_members=5,
                ftsw_stsw_members=7,
                dsf_zones=1,
                rdsw=60,
                edsw_per_plane=4,
                edsw_bag_members=15,
                summarize="pod",
                hold_time_s=90,
            ),
            _REGION + "; every BAG port used (432)",
        ),
        Preset(
            "two-region-planar",
            _two_regions("two-region-planar", _TWO + "; joined planar"),
            _two_region_params("planar"),
            _TWO + "; BAG (j, k) to BAG (j, k) of the other region",
        ),
        Preset(
            "two-region-spread",
            _two_regions("two-region-spread", _TWO + "; joined spread"),
            _two_region_params("spread"),
            _TWO + "; each BAG striped over 8 BAGs of the other region, one per plane",
        ),
        Preset(
            "prometheus",
            _one_region("prometheus", _PROMETHEUS),
            region_params(
                **_CALIBRATED_31_28,
                planes=8,
                bags_per_plane=6,
                nsf_zones=6,
                spine_planes=2,
                pods=24,
                rtsw_ftsw_members=9,
                ftsw_stsw_members=7,
                dsf_zones=6,
                rdsw=120,
                edsw_per_plane=5,
                edsw_bag_members=2,
                summarize="pod",
                hold_time_s=90,
            ),
            _PROMETHEUS + "; the largest region (thousands of speakers)",
        ),
        Preset(
            "clos",
            build_clos,
            CLOS_PARAMS,
            "a standard 3-tier Clos (leaves, spines, super-spines), RFC 7938 numbering: "
            "no BAG, for comparing with other routing stacks",
        ),
    )
}


def preset_params(preset: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The preset's parameters with ``overrides`` applied and converted (strings from the
    command line are fine); unknown names and bad values raise ``ParamError``."""
    if preset not in PRESETS:
        raise ParamError(f"unknown preset {preset!r} (presets: {', '.join(PRESETS)})")
    spec = PRESETS[preset].params
    values = {name: p.default for name, p in spec.items()}
    for name, value in (overrides or {}).items():
        if name not in spec:
            raise ParamError(
                f"unknown parameter {name!r} for preset {preset!r} (accepted: {', '.join(spec)})"
            )
        values[name] = spec[name].convert(name, value)
    return values


def generate(preset: str, **params: Any) -> Topology:
    """Build ``preset`` with ``params`` overriding its defaults (``PRESETS[preset].params``)."""
    values = preset_params(preset, params)
    topo = PRESETS[preset].build(**values)
    spec = PRESETS[preset].params
    changed = [k for k, v in values.items() if v != spec[k].default]
    if changed:
        extra = ", ".join(f"{k}={spec[k].show(values[k])}" for k in changed)
        topo = replace(topo, description=f"{topo.description} ({extra})")
    return topo
