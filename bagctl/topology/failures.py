"""What is broken or drained in a region right now, as one immutable value.

Every runtime keeps its region's ``Failures`` (replacing it on each operation), the
verifier reads it as the state its model is built for, and the management bus reads a
bundle's working members from it: one record, so the three cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TypeVar

from .model import Bundle

BundleKey = tuple[str, str]  # a bundle's ends, sorted (``Bundle.key``)
_T = TypeVar("_T")


@dataclass(frozen=True)
class Failures:
    """Bundles down, bundles with members down, and drained nodes (``Region.failures()``,
    or a test's hand-made state)."""

    down: frozenset[BundleKey] = frozenset()
    members_up: Mapping[BundleKey, int] = field(default_factory=dict)
    drained: Mapping[str, str] = field(default_factory=dict)  # node -> drain method

    # --- the operations that change it ---------------------------------------------------

    def bundle_down(self, bundle: Bundle) -> Failures:
        return replace(self, down=self.down | {bundle.key})

    def bundle_up(self, bundle: Bundle) -> Failures:
        return replace(self, down=self.down - {bundle.key})

    def with_members(self, bundle: Bundle, members_up: int) -> Failures:
        """``members_up`` of ``bundle``'s members work (all of them: the bundle is whole)."""
        members = dict(self.members_up)
        if members_up >= bundle.members:
            members.pop(bundle.key, None)
        else:
            members[bundle.key] = members_up
        return replace(self, members_up=members)

    def drain(self, node: str, method: str) -> Failures:
        return replace(self, drained={**self.drained, node: method})

    def undrain(self, node: str) -> Failures:
        return replace(self, drained={k: v for k, v in self.drained.items() if k != node})

    # --- reading it ----------------------------------------------------------------------

    def members_working(self, bundle: Bundle) -> int:
        """The members ``bundle``'s capacity counts (its state while up; 0 is never
        recorded: a bundle without working members is down)."""
        return self.members_up.get(bundle.key, bundle.members)

    def capacity_bps(self, bundle: Bundle) -> float:
        """The bundle's capacity now: 0 when down, its working members' otherwise."""
        if bundle.key in self.down:
            return 0.0
        return self.members_working(bundle) * bundle.member_speed_bps

    def as_dict(self) -> dict[str, object]:
        return {
            "bundles_down": [list(k) for k in sorted(self.down)],
            "members_up": {f"{a} {b}": n for (a, b), n in sorted(self.members_up.items())},
            "drained": dict(sorted(self.drained.items())),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> Failures:
        """The inverse of ``as_dict``; ValueError naming the field that is malformed."""
        down: set[BundleKey] = set()
        for item in _items(d, "bundles_down", list):
            if not isinstance(item, list | tuple) or len(item) != 2:
                raise ValueError(f"bundles_down: {item!r} is not a pair of node names")
            a, b = (str(x) for x in item)
            down.add((a, b) if a <= b else (b, a))
        members: dict[BundleKey, int] = {}
        for key, n in _items(d, "members_up", dict).items():
            ends = str(key).split()
            if len(ends) != 2 or not isinstance(n, int) or isinstance(n, bool):
                raise ValueError(f"members_up: {key!r}: {n!r} is not 'A B': member count")
            a, b = ends
            members[(a, b) if a <= b else (b, a)] = n
        drained = {str(k): str(v) for k, v in _items(d, "drained", dict).items()}
        return cls(down=frozenset(down), members_up=members, drained=drained)


def _items(d: Mapping[str, object], key: str, kind: type[_T]) -> _T:
    value = d.get(key)
    if value is None:
        return kind()
    if not isinstance(value, kind):
        raise ValueError(f"{key}: expected a {kind.__name__}, not {type(value).__name__}")
    return value


def members_capacity(bundle: Bundle, members_up: int) -> float:
    """The capacity of ``bundle`` with ``members_up`` of its members working; ValueError
    when that many cannot be up (0 of them is the bundle down, a different operation)."""
    if not 0 < members_up <= bundle.members:
        raise ValueError(
            f"bundle {bundle.a}-{bundle.b} has {bundle.members} members; {members_up} cannot "
            "be up (take the bundle down instead of all its members)"
        )
    return members_up * bundle.member_speed_bps


__all__ = ["BundleKey", "Failures", "members_capacity"]
