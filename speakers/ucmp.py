"""UCMP: next-hop weights from RFC 10005 link bandwidth, and what to re-advertise.

Pure functions, no state. Three stages, each a function:

1. ``ucmp_weights(bandwidths, mode)``: one real weight per multipath (non-negative, summing
   to 1) from each path's usable link bandwidth (``effective_link_bandwidth``; None when the
   path has none). RFC 10005 §3.2 leaves the weighting itself out of scope: we weight in
   proportion to the bandwidth, as FRR, Arista EOS and rustbgpd do.
2. ``quantize(weights, max_members)``: integer member counts for a hardware WCMP group,
   which has a finite number of entries (64 to 512), so shares are approximated.
3. ``readvertised_bandwidth(mode, ...)``: the value we attach when we advertise the prefix
   on, with ourselves as next hop.

Missing values (``MissingBandwidthMode``) follow FRR's ``bgp bestpath bandwidth
ignore|skip-missing|default-weight-for-missing`` and its default when none is configured
(https://docs.frrouting.org/en/latest/wecmp_linkbw.html). The default is RFC 10005 §4's
SHOULD: if any multipath lacks a valid community, load-balance equally.

Zero values (RFC 10005 §3.2: mixed zero and non-zero, or all zero, is local policy). Our
policy, in every mode that weights by bandwidth:
- while any contributing path has a non-zero value, a zero-bandwidth path gets weight 0: a
  sender advertises zero to drain a path (§3.1), and a drained path carries nothing;
- if every contributing value is zero, load-balance equally among those paths: the route
  is still installed (zero is not malformed, §4), and no path is better than another.
deviation from FRR (not from the RFC): FRR treats a zero value as a missing one
(``bgp_zebra_use_nhop_weighted``), so one drained path turns its default into plain ECMP;
we keep §3.1's meaning of zero, the drain, in every mode.

Re-advertisement (``ReadvertiseMode``). A BAG switch speaks eBGP on every link and so
always sets itself as next hop: RFC 10005 §3.3.1 (next hop changed) lets it strip, pass or
regenerate the community, and a regenerated value follows the origination rules of §3.1.
RFC 10005 §3.4 lets the value be computed from the Loc-RIB multipath constituents and
leaves how out of scope, so ``CUMULATIVE`` is our documented rule: the sum of the usable
bandwidths of the multipaths we use, capped by the capacity of the link to the neighbor
we advertise to. The cap is there because the neighbor uses the received value as the
weight of its path through us, and no more than the link between us can flow that way:
without it a switch with a thin link to the neighbor but fat paths beyond would attract
more than that link carries.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache, reduce

__all__ = [
    "BINARY32_MAX",
    "FRR_MISSING_SHARE",
    "NUM_MULTIPATHS_REFERENCE_BYTES_PER_S",
    "MissingBandwidthMode",
    "QuantizedGroup",
    "ReadvertiseMode",
    "ecmp_weights",
    "passes_through",
    "quantize",
    "readvertised_bandwidth",
    "reduce_ratio",
    "ucmp_weights",
]

# FRR's num-multipaths reference: 1 Mb/s per path, carried in bytes per second (RFC 10005 §2).
NUM_MULTIPATHS_REFERENCE_BYTES_PER_S = 1e6 / 8
# FRR 8.4's weight scale: the paths with a value share 100, a path without one weighs 1.
FRR_MISSING_SHARE = 100.0
# Largest finite IEEE-754 binary32: RFC 10005 §2 carries the value as one.
BINARY32_MAX = 3.4028234663852886e38


class MissingBandwidthMode(Enum):
    """How paths without a usable link bandwidth are weighted (FRR's names and defaults).

    ``DEFAULT``: FRR with nothing configured, and RFC 10005 §4's SHOULD: if every multipath
    has a usable value, weight by it; otherwise plain ECMP.
    ``IGNORE``: ``bgp bestpath bandwidth ignore``: always plain ECMP.
    ``SKIP_MISSING``: ``... skip-missing``: paths without a value get weight 0 (unused) as
    long as one path has a value; if none has, plain ECMP.
    ``DEFAULT_WEIGHT_FOR_MISSING``: ``... default-weight-for-missing``: a path without a
    value weighs FRR 8.4's 1 of 100; ``SMALLEST_FOR_MISSING`` (bagemu's): as much as the
    smallest value present (rules at ``ucmp_weights``). If none has a value, plain ECMP.
    """

    DEFAULT = "default"
    IGNORE = "ignore"
    SKIP_MISSING = "skip-missing"
    DEFAULT_WEIGHT_FOR_MISSING = "default-weight-for-missing"
    SMALLEST_FOR_MISSING = "smallest-for-missing"


class ReadvertiseMode(Enum):
    """What link bandwidth to attach when advertising a prefix with ourselves as next hop.

    ``NONE``: attach nothing (RFC 10005 §3.3.1: strip). ``FIXED``: a configured value.
    ``LINK_CAPACITY``: the capacity of the link to the neighbor we advertise to.
    ``CUMULATIVE``: sum of the multipaths' usable values, capped by that capacity.
    ``NUM_MULTIPATHS``: number of multipaths x 1 Mb/s, as FRR's ``num-multipaths``.
    ``RECEIVED``: FRR's behaviour with no route-map setting the value (RFC 10005
    §3.3.1 "pass it unchanged"): the best path's received community goes on as it came
    (its AS, its value; nothing if it has none), except when several multipaths all carry
    a value: then their sum, uncapped, under our AS (as FRR's ``bgp_path_info_mpath_cumbw``).
    """

    NONE = "none"
    FIXED = "fixed"
    LINK_CAPACITY = "link-capacity"
    CUMULATIVE = "cumulative"
    NUM_MULTIPATHS = "num-multipaths"
    RECEIVED = "received"


def _check_bandwidth(value: float, what: str) -> None:
    # Callers pass effective_link_bandwidth() results, which already dropped what RFC 10005
    # §4 says to ignore (negative values; NaN and infinities by policy). Anything else here
    # is a caller bug, so it raises rather than being ignored a second time.
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{what} {value!r} B/s: must be finite and >= 0")


def ecmp_weights(count: int) -> tuple[float, ...]:
    """``count`` equal weights: plain ECMP."""
    return (1.0 / count,) * count if count > 0 else ()


def _proportional(values: Sequence[float], eligible: Sequence[bool]) -> tuple[float, ...]:
    """Weights in proportion to ``values`` over the ``eligible`` paths, 0 for the others.

    RFC 10005 §3.2, local policy: a zero value among non-zero ones gets weight 0 (drained);
    all eligible values zero -> equal weights among the eligible paths.
    """
    top = max((v for v, ok in zip(values, eligible, strict=True) if ok), default=0.0)
    if top == 0.0:
        count = sum(eligible)
        return tuple(1.0 / count if ok else 0.0 for ok in eligible)
    # Scale by the largest value first so the sum cannot overflow whatever the magnitudes.
    scaled = [v / top if ok else 0.0 for v, ok in zip(values, eligible, strict=True)]
    total = math.fsum(scaled)
    return tuple(s / total for s in scaled)


def ucmp_weights(
    bandwidths: Sequence[float | None],
    mode: MissingBandwidthMode = MissingBandwidthMode.DEFAULT,
    *,
    default_bandwidth_bytes_per_s: float | None = None,
) -> tuple[float, ...]:
    """One real weight per path, in input order: non-negative, summing to 1 (up to rounding).

    ``bandwidths[i]`` is path i's usable link bandwidth in bytes/s (``effective_link_bandwidth``
    of its communities), None if it has none. Empty input gives ``()``; otherwise at least one
    weight is positive. Then hand the weights to ``quantize`` for a hardware group.

    ``DEFAULT_WEIGHT_FOR_MISSING`` and ``SMALLEST_FOR_MISSING``: a missing path counts as
    ``default_bandwidth_bytes_per_s`` when given (0 makes it a drained path). Otherwise, in
    the first, as FRR 8.4 weighs it: each path with a value gets its share of their total
    on a scale of 100, one without gets 1, so it counts as a hundredth of the present
    values' sum (6400 Mb/s and none: 100:1; 3200, 9600 and none: 25:75:1): in use (unlike
    skip-missing), with as little as FRR gives it (later FRR scales to 255). In the second
    (bagemu's own rule) as the smallest non-zero value present: never more than any
    measured path. In both, if every present value is zero (all drained), the missing paths
    share the traffic equally: zero is an explicit drain (RFC 10005 §3.1), absence is not.
    The default is ignored by the other modes, so a configuration can carry it anyway.
    """
    for b in bandwidths:
        if b is not None:
            _check_bandwidth(b, "link bandwidth")
    if default_bandwidth_bytes_per_s is not None:
        _check_bandwidth(default_bandwidth_bytes_per_s, "default bandwidth")
    count = len(bandwidths)
    present = [b is not None for b in bandwidths]
    if count == 0:
        return ()
    if mode is MissingBandwidthMode.IGNORE or not any(present):
        return ecmp_weights(count)  # RFC 10005 §4: no valid community -> equal load-balancing
    if mode is MissingBandwidthMode.DEFAULT:
        if not all(present):
            # RFC 10005 §4: a multipath lacks a valid community -> SHOULD balance equally.
            return ecmp_weights(count)
        return _proportional([b or 0.0 for b in bandwidths], present)
    # RFC 10005 §4: equal load-balancing when a value is missing "unless local configuration
    # overrides"; the remaining modes are that override.
    if mode is MissingBandwidthMode.SKIP_MISSING:
        return _proportional([b or 0.0 for b in bandwidths], present)
    substitute = default_bandwidth_bytes_per_s
    values: list[float | None] = list(bandwidths)
    if substitute is None:
        measured = [b for b in bandwidths if b]
        if not measured:
            substitute = 1.0
        elif mode is MissingBandwidthMode.SMALLEST_FOR_MISSING:
            substitute = min(measured)
        else:
            # A hundredth of the sum, on values scaled by the largest first: a sum of
            # subnormal values divided by 100 would underflow to zero (a drain).
            top = max(measured)
            values = [None if b is None else b / top for b in bandwidths]
            substitute = math.fsum(b / top for b in measured) / FRR_MISSING_SHARE
    filled = [substitute if b is None else b for b in values]
    return _proportional(filled, [True] * count)


@dataclass(frozen=True, slots=True)
class QuantizedGroup:
    """Integer member counts approximating real weights in a finite WCMP table.

    ``members[i]``: entries for path i (0 only for a weight-0 path); ``total``: their sum.
    ``share_i = members[i] / total``, ``w_i`` the weights normalised to sum 1.
    ``l1_error``: sum of |share_i - w_i| (twice the fraction of traffic sent to the wrong
    path). ``max_relative_error``: max over paths with w_i > 0 of |share_i - w_i| / w_i.
    """

    members: tuple[int, ...]
    total: int
    max_relative_error: float
    l1_error: float

    def shares(self) -> tuple[float, ...]:
        """Fraction of the traffic each path gets from these members."""
        return tuple(m / self.total for m in self.members) if self.total else self.members


def reduce_ratio(members: Sequence[int]) -> tuple[int, ...]:
    """``members`` divided by their gcd: the same shares in the fewest entries (2:2 -> 1:1)."""
    g = reduce(math.gcd, members, 0)
    return tuple(m // g for m in members) if g > 1 else tuple(members)


def _apportion(nums: Sequence[int], seats: int) -> list[int]:
    """Largest-remainder (Hamilton) apportionment of ``seats`` to positive integer ``nums``,
    each getting at least one seat (requires ``len(nums) <= seats``).

    Quotas ``q_i = nums_i * seats / sum(nums)`` in exact integer arithmetic. A path whose
    quota is below 1 is fixed at 1 and the others share what is left, repeated until every
    remaining quota is at least 1 (each fixed path's |1 - q_i| < 1 still). The remaining
    paths get floor(q_i), and the seats left over go to the largest remainders, ties to
    the lower index, so each gets |members_i - q_i| < 1 on its renormalised quota.
    """
    members = [0] * len(nums)
    live = list(range(len(nums)))
    weight = sum(nums)
    while True:
        low = [i for i in live if nums[i] * seats < weight]
        if not low:
            break
        for i in low:
            members[i] = 1
            weight -= nums[i]
        seats -= len(low)
        live = [i for i in live if members[i] == 0]
    remainders = []
    handed = 0
    for i in live:
        quotient, remainder = divmod(nums[i] * seats, weight)
        members[i] = quotient
        handed += quotient
        remainders.append((remainder, -i))
    for _, neg_i in heapq.nlargest(seats - handed, remainders):
        members[-neg_i] += 1
    return members


def _l1_numerator(members: Sequence[int], nums: Sequence[int], total: int, weight: int) -> int:
    """sum |m_i / total - n_i / weight| scaled by total * weight: an exact integer."""
    return sum(abs(m * weight - n * total) for m, n in zip(members, nums, strict=True))


def _ratio(numerator: int, denominator: int) -> float:
    """numerator / denominator, correctly rounded; inf beyond float range (a path with a
    subnormal weight given one whole member is that far off, relatively)."""
    try:
        return numerator / denominator
    except OverflowError:
        return math.inf


def _numerators(weights: Sequence[float]) -> tuple[list[int], int]:
    """Every weight as an integer over one common power-of-two denominator (exact for
    floats), so apportionment and error comparisons involve no rounding."""
    ratios = [w.as_integer_ratio() for w in weights]
    denominator = max(q for _, q in ratios)
    nums = [p * (denominator // q) for p, q in ratios]
    return nums, sum(nums)


def quantize(weights: Sequence[float], max_members: int) -> QuantizedGroup:
    """Integer members per path, total <= ``max_members``, every positive weight >= 1 member.

    Strategy: the largest-remainder (Hamilton) method, which at a fixed total T minimises
    sum |members_i - w_i T| (the L1 error) and keeps each |members_i - w_i T| < 1. T =
    ``max_members`` alone is not enough: 2:1 at 128 gives 85 + 43 with an error, while 2 + 1
    is exact. So every total from the number of positive paths to ``max_members`` is
    apportioned and the lowest L1 error wins, ties to the smallest total (fewer hardware
    entries); the winner is divided by its gcd (``reduce_ratio``), which changes no share.
    Provably no worse than Hamilton at ``max_members``: that is one of the candidates, and
    errors are compared exactly (integer arithmetic over the floats' exact values). Cheap:
    O(max_members x paths) integer operations, stopping at the first exact total, and
    results are cached (a fabric has few distinct weight vectors across many prefixes).

    Bound: when every positive weight has w_i x total >= 1, each |members_i - w_i total| < 1.
    A path whose quota at the chosen total is below 1 still gets one member (a path in the
    multipath set must carry traffic), taken from the larger paths.

    Weights need not sum to 1; they are normalised. Raises ValueError for a negative or
    non-finite weight, ``max_members`` < 1, no positive weight in a non-empty input, or more
    positive weights than ``max_members`` (they cannot all get a member). Empty in, empty out.
    """
    return _quantize(tuple(float(w) for w in weights), max_members)


@lru_cache(maxsize=4096)
def _quantize(weights: tuple[float, ...], max_members: int) -> QuantizedGroup:
    if max_members < 1:
        raise ValueError(f"max_members {max_members}: must be >= 1")
    for w in weights:
        if not (math.isfinite(w) and w >= 0):
            raise ValueError(f"weight {w!r}: must be finite and >= 0")
    if not weights:
        return QuantizedGroup((), 0, 0.0, 0.0)
    used = [i for i, w in enumerate(weights) if w > 0]
    if not used:
        raise ValueError("no path has a positive weight: nothing to forward over")
    if len(used) > max_members:
        raise ValueError(
            f"{len(used)} paths with positive weight do not fit in {max_members} members"
        )
    nums, weight = _numerators([weights[i] for i in used])
    # The L1 error of members m at total T is err / (T * weight), err an integer: compare
    # err_a / T_a < err_b / T_b as err_a * T_b < err_b * T_a, exactly.
    best_total = len(used)
    best = _apportion(nums, best_total)
    best_err = _l1_numerator(best, nums, best_total, weight)
    for total in range(best_total + 1, max_members + 1):
        if best_err == 0:
            break  # exact: nothing larger can do better, and ties go to the smaller total
        members = _apportion(nums, total)
        err = _l1_numerator(members, nums, total, weight)
        if err * best_total < best_err * total:
            best, best_total, best_err = members, total, err
    reduced = reduce_ratio(best)
    total = sum(reduced)
    full = [0] * len(weights)
    for i, m in zip(used, reduced, strict=True):
        full[i] = m
    # |m/T - n/W| / (n/W) = |m W - n T| / (n T), computed on the unreduced counts.
    relative = max(
        _ratio(abs(m * weight - n * best_total), n * best_total)
        for m, n in zip(best, nums, strict=True)
    )
    return QuantizedGroup(tuple(full), total, relative, best_err / (best_total * weight))


def readvertised_bandwidth(
    mode: ReadvertiseMode,
    *,
    multipath_bandwidths: Sequence[float | None] = (),
    link_capacity_bytes_per_s: float | None = None,
    fixed_bytes_per_s: float | None = None,
) -> float | None:
    """The link bandwidth (bytes/s) to attach when advertising with ourselves as next hop,
    or None to attach none.

    RFC 10005 §3.3.1: the next hop changed (always, on our eBGP links), so the community is
    stripped or regenerated per configuration, a regenerated value following §3.1.
    ``multipath_bandwidths``: usable values of the multipaths we forward over (None: none).

    - ``NONE``: None.
    - ``FIXED``: ``fixed_bytes_per_s`` (required).
    - ``LINK_CAPACITY``: ``link_capacity_bytes_per_s``; None when unknown.
    - ``CUMULATIVE`` (RFC 10005 §3.4 MAY; the rule is ours, module docstring): min(sum of the
      present values, link capacity). Paths without a value add nothing. A sum of zero is
      advertised as zero: every path beyond us is drained, so the neighbor should drain its
      path through us too. If no multipath has a value, fall back to the link capacity: the
      link is then the only bandwidth we know of (None if it is unknown too).
    - ``NUM_MULTIPATHS``: number of multipaths x 1 Mb/s (FRR's num-multipaths reference).
    - ``RECEIVED``: the sum of the multipaths' values, uncapped, when ``passes_through``
      is false; otherwise None, and the caller passes the received community on unchanged.

    Values above binary32's range are clamped to its maximum so the result always encodes.
    """
    for b in multipath_bandwidths:
        if b is not None:
            _check_bandwidth(b, "multipath bandwidth")
    if link_capacity_bytes_per_s is not None:
        _check_bandwidth(link_capacity_bytes_per_s, "link capacity")
    if fixed_bytes_per_s is not None:
        _check_bandwidth(fixed_bytes_per_s, "fixed bandwidth")
    value: float | None
    if mode is ReadvertiseMode.NONE:
        value = None
    elif mode is ReadvertiseMode.FIXED:
        if fixed_bytes_per_s is None:
            raise ValueError("FIXED re-advertisement needs fixed_bytes_per_s")
        value = fixed_bytes_per_s
    elif mode is ReadvertiseMode.LINK_CAPACITY:
        value = link_capacity_bytes_per_s
    elif mode is ReadvertiseMode.CUMULATIVE:
        present = [b for b in multipath_bandwidths if b is not None]
        if not present:
            value = link_capacity_bytes_per_s
        else:
            # RFC 10005 §3.4: computed from the multipath constituents (how: out of scope).
            value = math.fsum(present)
            if link_capacity_bytes_per_s is not None:
                value = min(value, link_capacity_bytes_per_s)
    elif mode is ReadvertiseMode.RECEIVED:
        if passes_through(multipath_bandwidths):
            value = None
        else:
            value = math.fsum(b for b in multipath_bandwidths if b is not None)
    else:  # NUM_MULTIPATHS
        value = len(multipath_bandwidths) * NUM_MULTIPATHS_REFERENCE_BYTES_PER_S
    return None if value is None else min(value, BINARY32_MAX)


def passes_through(multipath_bandwidths: Sequence[float | None]) -> bool:
    """Whether ``RECEIVED`` sends the best path's received community unchanged: unless
    several multipaths all carry a value (FRR sums those, ``bgp_path_info_mpath_chkwtd``)."""
    return len(multipath_bandwidths) < 2 or any(b is None for b in multipath_bandwidths)
