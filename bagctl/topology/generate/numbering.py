"""How generated nodes are numbered: their ASNs and their GPU subnets.

AS numbering, in the style of RFC 7938 §5.2 and Meta's NSDI'21 BGP paper: private
4-octet ASNs (RFC 6996), one decimal field per level, ``42 R T ZZ IIII``:

    ASN = 4_200_000_000 + region * 10_000_000 + tier * 1_000_000 + zone * 10_000 + index

with tier 1 RTSW, 2 FTSW, 3 STSW, 4 BAG, 5 RDSW, 6 EDSW, 7 FDSW (FDSWs carry no BGP; the
format wants an ASN anyway), ``zone`` the fabric's number among its kind (``r1-nsf2`` is
NSF zone 2, ``r1-dsf1`` DSF zone 1; 0 for BAG) and ``index`` as follows. Reuse goes as far
as eBGP loop prevention allows (``validate.py`` checks every layout we emit):

- leaves (RTSW, RDSW): one ASN each (index = leaf number). Every leaf must hear every
  other leaf, in any fabric or region, so no two leaves may share one.
- FTSW: one ASN per pod, shared by its spine planes (index = pod). Pods must differ: a
  route from pod p climbs through pod p's FTSW and would be dropped by an FTSW of another
  pod sharing that ASN on its way down.
- STSW: one ASN per NSF fabric (index 0), like RFC 7938's shared Tier-1 ASN. A route never
  needs two STSWs of one fabric (pod to pod turns at one STSW; BAG paths back into the
  same fabric are valleys, and the shared ASN is what drops them).
- EDSW: one ASN per DSF zone (index 0), for the same reason.
- BAG: one ASN per region (zone 0, index 0): a route crosses at most one BAG of each
  region (up, across once, down).

Prefixes: each leaf originates ``prefixes_per_leaf`` GPU subnets, an IPv4 /24 and an IPv6
/64 each: subnet g of region r (counted over the region's leaves in file order) is
``10.(32(r - 1) + g // 256).(g % 256).0/24`` and ``2001:db8:r:g::/64`` (g in hex), so
regions 1-4 get 10.0.0.0/11, 10.32.0.0/11, ... inside 10.0.0.0/9, clear of the model's
default link pool 10.128.0.0/9.
"""

from __future__ import annotations

import ipaddress

from speakers.wire import Prefix

from ..model import Role
from .params import ParamError

ASN_BASE = 4_200_000_000
_TIER_DIGIT = {
    Role.RTSW: 1,
    Role.FTSW: 2,
    Role.STSW: 3,
    Role.BAG: 4,
    Role.RDSW: 5,
    Role.EDSW: 6,
    Role.FDSW: 7,
}
MAX_REGIONS = 4  # 10.0.0.0/9 split in four /11s, one per region
_SUBNETS_PER_REGION = 32 * 256


def asn(region: int, role: Role, zone: int = 0, index: int = 0) -> int:
    """The ASN of the module docstring's scheme: ``42 R T ZZ IIII``."""
    if not 1 <= region <= 9:
        raise ParamError(f"region {region}: the AS scheme has one digit for regions (1-9)")
    if not 0 <= zone <= 99:
        raise ParamError(f"zone {zone}: the AS scheme has two digits for zones (at most 99)")
    if not 0 <= index <= 9999:
        raise ParamError(f"index {index}: the AS scheme has four digits per zone (at most 9999)")
    return ASN_BASE + region * 10_000_000 + _TIER_DIGIT[role] * 1_000_000 + zone * 10_000 + index


def leaf_prefixes(region: int, first: int, count: int) -> tuple[Prefix, ...]:
    """GPU subnets ``first`` .. ``first + count - 1`` of ``region``: a /24 and a /64 each."""
    if not 1 <= region <= MAX_REGIONS:
        raise ParamError(
            f"region {region}: leaf subnets come from 10.0.0.0/9 split per region, "
            f"so regions 1-{MAX_REGIONS} only"
        )
    if first + count > _SUBNETS_PER_REGION:
        raise ParamError(
            f"region {region} needs {first + count} GPU subnets, its 10.x/11 holds "
            f"{_SUBNETS_PER_REGION}: fewer leaves or a lower prefixes_per_leaf"
        )
    out: list[Prefix] = []
    for g in range(first, first + count):
        v4 = ipaddress.IPv4Network(f"10.{32 * (region - 1) + g // 256}.{g % 256}.0/24")
        v6 = ipaddress.IPv6Network(f"2001:db8:{region:x}:{g:x}::/64")
        out += [Prefix.from_network(v4), Prefix.from_network(v6)]
    return tuple(out)
