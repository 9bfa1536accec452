"""UCMP weights, their quantization into hardware groups, and re-advertised bandwidth.

(a) ``ucmp_weights``: every ``MissingBandwidthMode``, with present, missing and zero values
    (RFC 10005 §3.2 zero policy, §4 equal load-balancing by default);
(b) ``quantize``: exact ratios, awkward ratios, limits, and the largest-remainder bounds;
(c) ``readvertised_bandwidth``: every ``ReadvertiseMode`` (RFC 10005 §3.3.1, §3.4);
(d) properties of (a) and (b) under hypothesis.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from speakers.ucmp import (
    BINARY32_MAX,
    FRR_MISSING_SHARE,
    NUM_MULTIPATHS_REFERENCE_BYTES_PER_S,
    MissingBandwidthMode,
    QuantizedGroup,
    ReadvertiseMode,
    ecmp_weights,
    passes_through,
    quantize,
    readvertised_bandwidth,
    reduce_ratio,
    ucmp_weights,
)
from speakers.wire import LinkBandwidth, effective_link_bandwidth

M = MissingBandwidthMode
R = ReadvertiseMode
G800 = 800e9 / 8  # one 800G link, bytes/s


def approx(values: tuple[float, ...] | list[float]) -> object:
    return pytest.approx(list(values), rel=1e-12, abs=1e-15)


# -- (a) weights per mode ------------------------------------------------------------------


def test_empty_input_has_no_weights() -> None:
    for mode in M:
        assert ucmp_weights([], mode) == ()


def test_default_weights_by_bandwidth_when_every_path_has_one() -> None:
    assert list(ucmp_weights([3.0, 1.0])) == approx([0.75, 0.25])


def test_default_is_ecmp_when_any_path_lacks_bandwidth() -> None:
    # RFC 10005 §4: a multipath without a valid community -> equal load-balancing.
    assert list(ucmp_weights([3.0, None, 1.0])) == approx([1 / 3] * 3)


def test_ignore_is_always_ecmp() -> None:
    assert list(ucmp_weights([3.0, 1.0, 0.0], M.IGNORE)) == approx([1 / 3] * 3)


def test_every_mode_is_ecmp_when_no_path_has_bandwidth() -> None:
    for mode in M:
        assert list(ucmp_weights([None, None], mode)) == approx([0.5, 0.5])


def test_skip_missing_gives_missing_paths_nothing() -> None:
    assert list(ucmp_weights([3.0, None, 1.0], M.SKIP_MISSING)) == approx([0.75, 0.0, 0.25])


def test_default_weight_for_missing_uses_the_configured_default() -> None:
    got = ucmp_weights(
        [6.0, None, 2.0], M.DEFAULT_WEIGHT_FOR_MISSING, default_bandwidth_bytes_per_s=2.0
    )
    assert list(got) == approx([0.6, 0.2, 0.2])


def test_default_weight_for_missing_gives_frr_84_weight_1_of_100() -> None:
    # FRR 8.4 (issue 17's measurements): M1 6400 Mb/s and M2 without gives 100:1; 3200,
    # 9600 and none gives 25:75:1. Zero stays drained.
    got = ucmp_weights([6400.0, None], M.DEFAULT_WEIGHT_FOR_MISSING)
    assert list(got) == approx([100 / 101, 1 / 101])
    got = ucmp_weights([3200.0, 9600.0, None, 0.0], M.DEFAULT_WEIGHT_FOR_MISSING)
    assert list(got) == approx([25 / 101, 75 / 101, 1 / 101, 0.0])


def test_smallest_for_missing_counts_a_missing_path_as_the_smallest_value() -> None:
    # bagemu's own rule: the missing path counts as 2.0, the smallest non-zero value present.
    got = ucmp_weights([6.0, None, 2.0, 0.0], M.SMALLEST_FOR_MISSING)
    assert list(got) == approx([0.6, 0.2, 0.2, 0.0])
    got = ucmp_weights([6.0, None], M.SMALLEST_FOR_MISSING, default_bandwidth_bytes_per_s=2.0)
    assert list(got) == approx([0.75, 0.25])


def test_default_weight_for_missing_sends_to_missing_paths_when_the_rest_is_drained() -> None:
    # Zero is an explicit drain (RFC 10005 §3.1); absence is not.
    got = ucmp_weights([0.0, None, None], M.DEFAULT_WEIGHT_FOR_MISSING)
    assert list(got) == approx([0.0, 0.5, 0.5])


def test_default_weight_for_missing_zero_default_makes_everything_drained() -> None:
    got = ucmp_weights([0.0, None], M.DEFAULT_WEIGHT_FOR_MISSING, default_bandwidth_bytes_per_s=0.0)
    assert list(got) == approx([0.5, 0.5])


def test_default_bandwidth_is_ignored_by_other_modes() -> None:
    got = ucmp_weights([6.0, None], M.SKIP_MISSING, default_bandwidth_bytes_per_s=6.0)
    assert list(got) == approx([1.0, 0.0])


# -- (a) zero values: RFC 10005 §3.2 local policy ------------------------------------------


@pytest.mark.parametrize(
    "mode",
    [M.DEFAULT, M.SKIP_MISSING, M.DEFAULT_WEIGHT_FOR_MISSING, M.SMALLEST_FOR_MISSING],
    ids=lambda m: m.value,
)
def test_zero_path_is_drained_while_another_has_bandwidth(mode: MissingBandwidthMode) -> None:
    assert list(ucmp_weights([G800, 0.0, 2 * G800], mode)) == approx([1 / 3, 0.0, 2 / 3])


@pytest.mark.parametrize(
    "mode",
    [M.DEFAULT, M.SKIP_MISSING, M.DEFAULT_WEIGHT_FOR_MISSING, M.SMALLEST_FOR_MISSING],
    ids=lambda m: m.value,
)
def test_all_zero_is_ecmp(mode: MissingBandwidthMode) -> None:
    assert list(ucmp_weights([0.0, 0.0, 0.0], mode)) == approx([1 / 3] * 3)


def test_skip_missing_all_present_zero_is_ecmp_among_them() -> None:
    assert list(ucmp_weights([0.0, None, 0.0], M.SKIP_MISSING)) == approx([0.5, 0.0, 0.5])


def test_default_zero_and_missing_is_ecmp() -> None:
    assert list(ucmp_weights([0.0, None])) == approx([0.5, 0.5])


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_unusable_values_are_a_caller_error(bad: float) -> None:
    # effective_link_bandwidth() already drops them (RFC 10005 §4), so they cannot arrive.
    with pytest.raises(ValueError):
        ucmp_weights([1.0, bad])
    with pytest.raises(ValueError):
        ucmp_weights([1.0, None], M.DEFAULT_WEIGHT_FOR_MISSING, default_bandwidth_bytes_per_s=bad)


def test_extreme_magnitudes_do_not_overflow() -> None:
    assert list(ucmp_weights([1e308, 1e308])) == approx([0.5, 0.5])
    assert list(ucmp_weights([BINARY32_MAX, 5e-324])) == approx([1.0, 0.0])


def test_ecmp_weights() -> None:
    assert ecmp_weights(0) == ()
    assert ecmp_weights(4) == (0.25,) * 4


# -- the BAG example -------------------------------------------------------------------------


def test_bag_bundles_16_and_8_by_800g_give_2_to_1_in_three_members() -> None:
    bundles = [
        effective_link_bandwidth([LinkBandwidth.from_bps(16 * 800e9, 4200000001)]),
        effective_link_bandwidth([LinkBandwidth.from_bps(8 * 800e9, 4200000002)]),
    ]
    weights = ucmp_weights(bundles)
    assert list(weights) == approx([2 / 3, 1 / 3])
    for size in (64, 128, 256, 512):
        group = quantize(weights, size)
        assert group.members == (2, 1) and group.total == 3
        assert group.l1_error < 1e-15 and group.max_relative_error < 1e-15


# -- (b) quantization ----------------------------------------------------------------------


def test_equal_weights_reduce_to_one_member_each() -> None:
    assert quantize([0.5, 0.5], 128) == QuantizedGroup((1, 1), 2, 0.0, 0.0)
    assert quantize([1 / 3] * 3, 64).members == (1, 1, 1)


def test_five_three_two_at_64() -> None:
    group = quantize([0.5, 0.3, 0.2], 64)
    assert group.members == (5, 3, 2) and group.total == 10
    assert group.l1_error < 1e-15


def test_thousand_to_one_still_gives_the_small_path_a_member() -> None:
    group = quantize([1000, 1], 64)
    assert group.members == (63, 1) and group.total == 64
    assert group.l1_error == pytest.approx(2 * (1 / 64 - 1 / 1001))
    assert group.max_relative_error == pytest.approx((1 / 64 - 1 / 1001) * 1001)


def test_min_one_member_takes_from_the_large_path() -> None:
    # Quotas 3.88, 0.04, 0.04, 0.04 at 4 entries: every path keeps one member.
    assert quantize([0.97, 0.01, 0.01, 0.01], 4).members == (1, 1, 1, 1)
    assert quantize([0.97, 0.01, 0.01, 0.01], 8).members == (5, 1, 1, 1)


def test_zero_weight_paths_get_no_member() -> None:
    group = quantize([0.0, 2.0, 0.0, 1.0], 64)
    assert group.members == (0, 2, 0, 1) and group.total == 3
    assert group.shares() == (0.0, 2 / 3, 0.0, 1 / 3)


def test_awkward_ratio_beats_hamilton_at_the_table_size() -> None:
    weights = [1.0, math.sqrt(2), math.pi]
    group = quantize(weights, 64)
    assert group.total <= 64
    assert group.l1_error <= _hamilton_l1(weights, 64) + 1e-15


def test_quantize_limits() -> None:
    assert quantize([], 64) == QuantizedGroup((), 0, 0.0, 0.0)
    assert quantize([7.0], 1) == QuantizedGroup((1,), 1, 0.0, 0.0)
    with pytest.raises(ValueError, match="do not fit"):
        quantize([1.0] * 65, 64)
    assert quantize([1.0] * 64 + [0.0], 64).total == 64
    with pytest.raises(ValueError, match="positive"):
        quantize([0.0, 0.0], 64)
    with pytest.raises(ValueError):
        quantize([1.0, -0.5], 64)
    with pytest.raises(ValueError):
        quantize([1.0, math.nan], 64)
    with pytest.raises(ValueError):
        quantize([1.0], 0)


def test_reduce_ratio() -> None:
    assert reduce_ratio([64, 64]) == (1, 1)
    assert reduce_ratio([86, 42]) == (43, 21)
    assert reduce_ratio([0, 4, 6]) == (0, 2, 3)
    assert reduce_ratio([3, 5]) == (3, 5)
    assert reduce_ratio([]) == ()


# -- (c) re-advertisement ----------------------------------------------------------------


def test_readvertise_none_and_fixed() -> None:
    assert readvertised_bandwidth(R.NONE, multipath_bandwidths=[G800]) is None
    assert readvertised_bandwidth(R.FIXED, fixed_bytes_per_s=5e9) == 5e9
    with pytest.raises(ValueError, match="fixed_bytes_per_s"):
        readvertised_bandwidth(R.FIXED)


def test_readvertise_link_capacity() -> None:
    assert readvertised_bandwidth(R.LINK_CAPACITY, link_capacity_bytes_per_s=8 * G800) == 8 * G800
    assert readvertised_bandwidth(R.LINK_CAPACITY) is None


def test_cumulative_is_the_sum_capped_by_the_link_to_the_neighbor() -> None:
    paths = [16 * G800, 8 * G800, None]
    assert readvertised_bandwidth(R.CUMULATIVE, multipath_bandwidths=paths) == 24 * G800
    capped = readvertised_bandwidth(
        R.CUMULATIVE, multipath_bandwidths=paths, link_capacity_bytes_per_s=16 * G800
    )
    assert capped == 16 * G800
    under = readvertised_bandwidth(
        R.CUMULATIVE, multipath_bandwidths=paths, link_capacity_bytes_per_s=32 * G800
    )
    assert under == 24 * G800


def test_cumulative_without_values_falls_back_to_link_capacity() -> None:
    got = readvertised_bandwidth(
        R.CUMULATIVE, multipath_bandwidths=[None, None], link_capacity_bytes_per_s=G800
    )
    assert got == G800
    assert readvertised_bandwidth(R.CUMULATIVE, multipath_bandwidths=[None]) is None


def test_cumulative_of_drained_paths_is_zero() -> None:
    # Every path beyond us is drained: the neighbor should drain its path through us.
    got = readvertised_bandwidth(
        R.CUMULATIVE, multipath_bandwidths=[0.0, 0.0, None], link_capacity_bytes_per_s=G800
    )
    assert got == 0.0


def test_num_multipaths_uses_frr_reference_of_one_megabit() -> None:
    # FRR's documentation: 4 equal paths are encoded as 500,000 bytes/s.
    got = readvertised_bandwidth(R.NUM_MULTIPATHS, multipath_bandwidths=[None, 0.0, G800, 1.0])
    assert got == 500_000 == 4 * NUM_MULTIPATHS_REFERENCE_BYTES_PER_S


def test_pass_through_sums_several_measured_multipaths_only() -> None:
    # FRR's default (its bgp_link_bw_ip topotest): r2 with paths of 2 and 1 Mb/s sends 3 Mb/s
    # under its own AS, uncapped; one path, or one without a value, goes on as received.
    mb = NUM_MULTIPATHS_REFERENCE_BYTES_PER_S
    both = readvertised_bandwidth(
        R.RECEIVED, multipath_bandwidths=[2 * mb, mb], link_capacity_bytes_per_s=mb
    )
    assert both == 3 * mb
    assert readvertised_bandwidth(R.RECEIVED, multipath_bandwidths=[2 * mb]) is None
    assert readvertised_bandwidth(R.RECEIVED, multipath_bandwidths=[2 * mb, None]) is None
    assert passes_through([2 * mb]) and passes_through([None, mb]) and passes_through([])
    assert not passes_through([0.0, mb])


def test_readvertised_value_always_fits_binary32() -> None:
    got = readvertised_bandwidth(R.CUMULATIVE, multipath_bandwidths=[BINARY32_MAX] * 2)
    assert got == BINARY32_MAX
    assert LinkBandwidth.from_bytes_per_s(got).bytes_per_s == BINARY32_MAX


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_readvertise_rejects_unusable_inputs(bad: float) -> None:
    with pytest.raises(ValueError):
        readvertised_bandwidth(R.CUMULATIVE, multipath_bandwidths=[bad])
    with pytest.raises(ValueError):
        readvertised_bandwidth(R.LINK_CAPACITY, link_capacity_bytes_per_s=bad)
    with pytest.raises(ValueError):
        readvertised_bandwidth(R.FIXED, fixed_bytes_per_s=bad)


# -- (d) properties ------------------------------------------------------------------------


def _hamilton_l1(weights: list[float], total: int) -> float:
    """Reference: plain largest-remainder at ``total`` (no minimum), in exact fractions."""
    exact = [Fraction(w) for w in weights]
    scale = sum(exact)
    quotas = [w / scale * total for w in exact]
    members = [math.floor(q) for q in quotas]
    order = sorted(range(len(quotas)), key=lambda i: quotas[i] - members[i], reverse=True)
    for i in order[: total - sum(members)]:
        members[i] += 1
    return float(
        sum(abs(Fraction(m, total) - w / scale) for m, w in zip(members, exact, strict=True))
    )


bandwidth = st.floats(min_value=0.0, max_value=BINARY32_MAX, allow_nan=False)
maybe_bandwidth = st.none() | bandwidth
PROPS = settings(max_examples=300, deadline=None)


@PROPS
@given(st.lists(maybe_bandwidth, max_size=40), st.sampled_from(list(M)), st.none() | bandwidth)
def test_weights_are_non_negative_and_sum_to_one(
    bandwidths: list[float | None], mode: MissingBandwidthMode, default: float | None
) -> None:
    weights = ucmp_weights(bandwidths, mode, default_bandwidth_bytes_per_s=default)
    assert len(weights) == len(bandwidths)
    assert all(w >= 0 for w in weights)
    if bandwidths:
        assert math.fsum(weights) == pytest.approx(1.0, rel=1e-12)
        assert any(w > 0 for w in weights)


@PROPS
@given(st.lists(st.floats(min_value=1e-3, max_value=1e15), min_size=1, max_size=40))
def test_default_weights_are_proportional_to_bandwidth(bandwidths: list[float]) -> None:
    weights = ucmp_weights(bandwidths)
    total = math.fsum(bandwidths)
    assert list(weights) == pytest.approx([b / total for b in bandwidths], rel=1e-9)


@PROPS
@given(st.lists(maybe_bandwidth, min_size=1, max_size=40))
def test_a_missing_path_weighs_a_hundredth_of_the_measured_ones(
    bandwidths: list[float | None],
) -> None:
    weights = ucmp_weights(bandwidths, M.DEFAULT_WEIGHT_FOR_MISSING)
    missing = [w for w, b in zip(weights, bandwidths, strict=True) if b is None]
    measured = [w for w, b in zip(weights, bandwidths, strict=True) if b]
    for w in missing if measured else ():
        assert w * FRR_MISSING_SHARE == pytest.approx(math.fsum(measured), rel=1e-9)


@PROPS
@given(st.lists(maybe_bandwidth, min_size=1, max_size=40))
def test_smallest_for_missing_never_outweighs_a_measured_path(
    bandwidths: list[float | None],
) -> None:
    weights = ucmp_weights(bandwidths, M.SMALLEST_FOR_MISSING)
    missing = [w for w, b in zip(weights, bandwidths, strict=True) if b is None]
    measured = [w for w, b in zip(weights, bandwidths, strict=True) if b]
    if missing and measured:
        assert max(missing) <= min(measured) * (1 + 1e-12)


weight = st.floats(min_value=0.0, max_value=1e6, allow_nan=False) | st.just(0.0)
sizes = st.sampled_from([8, 64, 128, 256, 512])


@PROPS
@given(st.lists(weight, min_size=1, max_size=64), sizes)
@example([1000.0, 1.0], 64)
@example([0.5, 0.3, 0.2], 64)
def test_quantize_respects_limits_and_largest_remainder_bounds(
    weights: list[float], max_members: int
) -> None:
    positive = [i for i, w in enumerate(weights) if w > 0]
    assume(0 < len(positive) <= max_members)
    group = quantize(weights, max_members)
    members = group.members
    assert group.total == sum(members) <= max_members
    assert all((m >= 1) == (w > 0) for m, w in zip(members, weights, strict=True))
    assert reduce_ratio(members) == members
    normalised = [w / math.fsum(weights) for w in weights]
    if min(normalised[i] for i in positive) * group.total >= 1:
        # Largest remainder: each count is within one member of its quota.
        for m, w in zip(members, normalised, strict=True):
            assert abs(m - w * group.total) < 1 + 1e-9
        assert group.l1_error < len(positive) / group.total + 1e-12
    if min(normalised[i] for i in positive) * max_members >= 1:
        # No worse than plain Hamilton at the full table size.
        assert group.l1_error <= _hamilton_l1(weights, max_members) + 1e-12
    shares = group.shares()
    assert group.l1_error == pytest.approx(
        sum(abs(s - w) for s, w in zip(shares, normalised, strict=True)), abs=1e-9
    )


@PROPS
@given(st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=12), sizes)
def test_quantize_is_idempotent_on_exact_ratios(counts: list[int], max_members: int) -> None:
    reduced = reduce_ratio(counts)
    assume(0 < sum(reduced) <= max_members)
    total = sum(reduced)
    group = quantize([c / total for c in reduced], max_members)
    assert group.members == reduced and group.total == total
    assert group.l1_error < 1e-12
    assert quantize(group.shares(), max_members) == group
