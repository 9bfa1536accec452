"""Bundle members over the bus: ``link down A B --members N`` fails N more members,
``link up A B --members N`` brings N back, ``link up A B`` all of them, reading what is up
from the region's own record (``Region.failures``), so two clients never disagree."""

from __future__ import annotations

from ..runtimes import ConvergenceReport, Region
from ..topology.model import Bundle
from .payloads import BusError


def _state(region: Region, bundle: Bundle) -> tuple[bool, int, int]:
    """Whether ``bundle`` is down, its working members (0 when down), and the members
    its capacity counts."""
    failures = region.failures
    down = bundle.key in failures.down
    capacity = failures.members_working(bundle)
    return down, 0 if down else capacity, capacity


def members(region: Region, bundle: Bundle) -> dict[str, object]:
    """The bundle and its members up, for a reply."""
    _, up, _ = _state(region, bundle)
    return {"bundle": [bundle.a, bundle.b], "members": bundle.members, "members_up": up}


async def link_down(
    region: Region, bundle: Bundle, count: int | None, timeout: float
) -> ConvergenceReport:
    """The whole bundle down, or ``count`` more of its members."""
    _, up, _ = _state(region, bundle)
    if count is not None and count > up:
        raise BusError(
            "members-out-of-range",
            f"bundle {bundle.a}-{bundle.b}: {up} of {bundle.members} members up, "
            f"cannot take {count} down",
        )
    if count is None or count == up:
        return await region.bundle_down(bundle.a, bundle.b, timeout)
    return await region.set_members(bundle.a, bundle.b, up - count, timeout)


async def link_up(
    region: Region, bundle: Bundle, count: int | None, timeout: float
) -> ConvergenceReport:
    """The whole bundle up, or ``count`` more of its members."""
    down, up, capacity_members = _state(region, bundle)
    target = bundle.members if count is None else up + count
    if target > bundle.members:
        raise BusError(
            "members-out-of-range",
            f"bundle {bundle.a}-{bundle.b}: {up} of {bundle.members} members up, "
            f"cannot bring {count} more up",
        )
    report = None
    if target != capacity_members:
        report = await region.set_members(bundle.a, bundle.b, target, timeout)
    if down or report is None:
        report = await region.bundle_up(bundle.a, bundle.b, timeout)
    return report
