"""A FIB entry's weighted next-hop group: what a prefix forwards over, and how the
multipaths' link bandwidths become it (``build_group``: ``ucmp_weights``, then ``quantize``).
Pure; the FIB (``fib.py``) keeps one per prefix and shares equal ones."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .ucmp import MissingBandwidthMode, QuantizedGroup, quantize, ucmp_weights
from .wire.prefix import IPAddress

__all__ = ["NextHopGroup", "build_group", "next_hop_key"]


def next_hop_key(next_hop: IPAddress) -> tuple[int, int, str]:
    """Sort key for next hops: IPv4 before IPv6, then by address (an IPv4 prefix may have
    IPv6 next hops, RFC 8950, and the two address types do not compare with each other)."""
    return next_hop.version, int(next_hop), getattr(next_hop, "scope_id", None) or ""


@dataclass(frozen=True, slots=True)
class NextHopGroup:
    """What a prefix forwards over.

    ``members``: (next hop, integer weight >= 1), sorted by ``next_hop_key``: the entries a
    hardware WCMP group holds. ``weights`` (a property): (next hop, real UCMP weight) for
    every multipath given, same order, drained or skipped ones with 0.0 (they are not in
    ``members``). ``quantization``: how the weights became ``members`` (None for a group
    built by hand).

    The real weights are kept packed (``real``: float64 each, native order, one per
    multipath; ``multipaths``: their next hops, or () where they are the members' own, as
    they are unless a path got no member): a tuple of (next hop, float) pairs cost 80 B
    per multipath, and an RDSW's group has 40 (``bench/memory.py``). Build one with
    ``with_weights``.
    """

    members: tuple[tuple[IPAddress, int], ...]
    real: bytes = b""
    quantization: QuantizedGroup | None = None
    multipaths: tuple[IPAddress, ...] = ()

    def __post_init__(self) -> None:
        hops = [nh for nh, _ in self.members]
        keys = [next_hop_key(nh) for nh in hops]
        if not hops or keys != sorted(set(keys)):
            raise ValueError("members: at least one, unique, sorted by next_hop_key")
        if any(weight < 1 for _, weight in self.members):
            raise ValueError("members: integer weights must be >= 1")
        paths = len(self.multipaths or self.members)
        if self.real and len(self.real) != 8 * paths:
            raise ValueError(f"real: {paths} weights expected, {len(self.real) // 8} given")

    @classmethod
    def with_weights(
        cls,
        members: tuple[tuple[IPAddress, int], ...],
        weights: Sequence[tuple[IPAddress, float]],
        quantization: QuantizedGroup | None = None,
    ) -> NextHopGroup:
        """The group of ``members`` whose multipaths have these real ``weights``."""
        hops = tuple(nh for nh, _ in weights)
        same = hops == tuple(nh for nh, _ in members)
        real = struct.pack(f"{len(weights)}d", *(w for _, w in weights))
        return cls(members, real, quantization, () if same else hops)

    @property
    def weights(self) -> tuple[tuple[IPAddress, float], ...]:
        """(next hop, real UCMP weight) per multipath; () for a group built by hand."""
        if not self.real:
            return ()
        hops = self.multipaths or tuple(nh for nh, _ in self.members)
        reals = struct.unpack(f"{len(hops)}d", self.real)
        return tuple(zip(hops, reals, strict=True))

    @property
    def total(self) -> int:
        """Sum of the member weights: the hardware entries this group takes."""
        return sum(weight for _, weight in self.members)

    @property
    def next_hops(self) -> tuple[IPAddress, ...]:
        return tuple(nh for nh, _ in self.members)

    def shares(self) -> tuple[tuple[IPAddress, float], ...]:
        """(next hop, fraction of the traffic) per member."""
        total = self.total
        return tuple((nh, weight / total) for nh, weight in self.members)

    def describe(self) -> dict[str, Any]:
        """JSON-friendly view: every multipath with its real weight, members and share."""
        members = dict(self.members)
        total = self.total
        paths = self.weights or tuple((nh, weight / total) for nh, weight in self.members)
        out: dict[str, Any] = {
            "total": total,
            "next_hops": [
                {
                    "next_hop": str(nh),
                    "weight": members.get(nh, 0),
                    "share": members.get(nh, 0) / total,
                    "ucmp_weight": real,
                }
                for nh, real in paths
            ],
        }
        if self.quantization is not None:
            out["quantization"] = {
                "l1_error": self.quantization.l1_error,
                "max_relative_error": self.quantization.max_relative_error,
            }
        return out


def build_group(
    next_hops_with_bandwidth: Sequence[tuple[IPAddress, float | None]],
    *,
    mode: MissingBandwidthMode = MissingBandwidthMode.DEFAULT,
    max_group_size: int = 128,
    default_bandwidth_bytes_per_s: float | None = None,
) -> NextHopGroup:
    """The group for these multipaths (pure): ``ucmp_weights`` then ``quantize``.

    The result depends on the set of (next hop, bandwidth) pairs only, not on their order.
    More paths with positive weight than ``max_group_size``: the ``max_group_size`` heaviest
    are kept (ties to the lower next hop) and the rest get no member, as FRR installs only its
    first ``multipath_num`` next hops; their real weights stay in ``weights``, and the
    quantization errors are then measured against the kept paths' renormalised weights.
    Raises ValueError for no paths or a repeated next hop.
    """
    paths = sorted(next_hops_with_bandwidth, key=lambda p: next_hop_key(p[0]))
    if not paths:
        raise ValueError("no next hops: remove the prefix instead")
    hops = [nh for nh, _ in paths]
    if len(set(hops)) != len(hops):
        raise ValueError(f"repeated next hop in {[str(nh) for nh in hops]}")
    weights = ucmp_weights(
        [bw for _, bw in paths], mode, default_bandwidth_bytes_per_s=default_bandwidth_bytes_per_s
    )
    kept = list(weights)
    positive = [i for i, w in enumerate(weights) if w > 0]
    if len(positive) > max_group_size:
        # sorted() is stable and paths are in next-hop order: ties keep the lower next hop.
        for i in sorted(positive, key=lambda i: -weights[i])[max_group_size:]:
            kept[i] = 0.0
    quantization = quantize(kept, max_group_size)
    return NextHopGroup.with_weights(
        tuple((nh, m) for nh, m in zip(hops, quantization.members, strict=True) if m),
        tuple(zip(hops, weights, strict=True)),
        quantization,
    )
