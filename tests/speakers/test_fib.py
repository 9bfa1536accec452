"""The FIB: groups built from multipaths, and the change stream later stages measure from.

Time comes from a fake clock, so ``at_ns`` is known exactly and no test sleeps.
"""

from __future__ import annotations

import gc
import ipaddress
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from speakers.fib import ChangesDropped, Fib, FibChange, NextHopGroup, build_group
from speakers.ucmp import MissingBandwidthMode
from speakers.wire import Prefix

G800 = 800e9 / 8  # one 800G link, bytes/s
P1 = Prefix.parse("10.1.0.0/16")
P2 = Prefix.parse("10.2.0.0/16")
P6 = Prefix.parse("2001:db8::/32")
A = ipaddress.IPv4Address("10.0.0.1")
B = ipaddress.IPv4Address("10.0.0.2")
C = ipaddress.IPv4Address("10.0.0.3")
V6 = ipaddress.IPv6Address("fe80::1")


class FakeClock:
    """Integer nanoseconds advancing by ``step`` per read."""

    def __init__(self, start: int = 1_000, step: int = 1_000) -> None:
        self.now = start - step
        self.step = step

    def __call__(self) -> int:
        self.now += self.step
        return self.now


def fib(**kw: object) -> Fib:
    return Fib(clock=FakeClock(), **kw)  # type: ignore[arg-type]


# -- groups --------------------------------------------------------------------------------


def test_bag_bundles_become_two_members_and_one() -> None:
    group = build_group([(B, 8 * G800), (A, 16 * G800)])
    assert group.members == ((A, 2), (B, 1))
    assert group.total == 3
    assert group.shares() == ((A, 2 / 3), (B, 1 / 3))
    assert group.weights == ((A, pytest.approx(2 / 3)), (B, pytest.approx(1 / 3)))
    assert group.quantization is not None and group.quantization.l1_error < 1e-15


def test_drained_path_is_not_a_member_but_keeps_its_weight() -> None:
    group = build_group([(A, G800), (B, 0.0), (C, G800)])
    assert group.members == ((A, 1), (C, 1))
    assert group.weights == ((A, 0.5), (B, 0.0), (C, 0.5))


def test_mode_and_group_size_are_applied() -> None:
    missing = [(A, 3 * G800), (B, None), (C, G800)]
    assert build_group(missing).members == ((A, 1), (B, 1), (C, 1))  # RFC 10005 §4 ECMP
    skip = build_group(missing, mode=MissingBandwidthMode.SKIP_MISSING)
    assert skip.members == ((A, 3), (C, 1))
    small = build_group([(A, 1000.0), (B, 1.0)], max_group_size=8)
    assert small.members == ((A, 7), (B, 1))


def test_too_many_paths_keep_the_heaviest() -> None:
    paths = [(A, 1.0), (B, 3.0), (C, 2.0)]
    group = build_group(paths, max_group_size=2)
    assert group.next_hops == (B, C)
    assert dict(group.weights)[A] == pytest.approx(1 / 6)
    tied = build_group([(C, 1.0), (B, 1.0), (A, 1.0)], max_group_size=2)
    assert tied.next_hops == (A, B)


def test_mixed_address_families_sort_ipv4_first() -> None:
    group = build_group([(V6, G800), (B, G800), (A, G800)])
    assert group.next_hops == (A, B, V6)


def test_invalid_groups() -> None:
    with pytest.raises(ValueError, match="no next hops"):
        build_group([])
    with pytest.raises(ValueError, match="repeated"):
        build_group([(A, 1.0), (A, 2.0)])
    with pytest.raises(ValueError):
        NextHopGroup(members=((B, 1), (A, 1)))
    with pytest.raises(ValueError):
        NextHopGroup(members=((A, 0),))
    with pytest.raises(ValueError):
        NextHopGroup(members=())


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.none() | st.floats(min_value=0, max_value=1e12),
        min_size=1,
        max_size=16,
    ),
    st.randoms(use_true_random=False),
    st.sampled_from(list(MissingBandwidthMode)),
)
def test_group_depends_on_the_path_set_not_its_order(
    bandwidths: list[float | None], rng: object, mode: MissingBandwidthMode
) -> None:
    paths = [(ipaddress.IPv4Address(f"10.0.1.{i + 1}"), b) for i, b in enumerate(bandwidths)]
    shuffled = list(paths)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    assert build_group(paths, mode=mode) == build_group(shuffled, mode=mode)


# -- the table and its change stream ---------------------------------------------------------


def test_install_replace_remove_emit_changes_with_increasing_time() -> None:
    table = fib()
    first = table.install(P1, [(A, G800), (B, G800)])
    second = table.install(P1, [(A, 2 * G800), (B, G800)])
    third = table.remove(P1)
    assert isinstance(first, FibChange) and isinstance(second, FibChange)
    assert isinstance(third, FibChange)
    assert [c.kind for c in (first, second, third)] == ["install", "replace", "remove"]
    assert [c.at_ns for c in (first, second, third)] == [1_000, 2_000, 3_000]
    assert [c.index for c in (first, second, third)] == [0, 1, 2]
    assert first.old is None and first.new == second.old and second.new == third.old
    assert third.new is None
    assert second.new is not None and second.new.members == ((A, 2), (B, 1))
    assert table.changes_since(0) == (first, second, third)
    assert len(table) == 0 and table.lookup(P1) is None


def test_identical_reinstall_emits_nothing_and_reads_no_clock() -> None:
    clock = FakeClock()
    table = Fib(clock=clock)
    table.install(P1, [(A, G800), (B, None)])
    assert table.install(P1, [(B, None), (A, G800)]) is None
    assert table.remove(P2) is None
    assert table.next_index == 1 and len(table.changes_since(0)) == 1
    assert clock.now == 1_000


def test_weight_only_change_is_recorded_but_not_a_forwarding_change() -> None:
    table = fib(max_group_size=2)
    table.install(P1, [(A, 3.0), (B, 1.0)])
    change = table.install(P1, [(A, 2.0), (B, 1.0)])
    assert change is not None and not change.forwarding_changed
    assert change.old is not None and change.new is not None
    assert change.old.members == change.new.members == ((A, 1), (B, 1))
    moved = table.install(P1, [(A, 2.0), (C, 1.0)])
    assert moved is not None and moved.forwarding_changed


def test_changes_since_reads_incrementally_and_reports_gaps() -> None:
    table = fib(change_log_size=3)
    assert table.changes_since(0) == ()
    made = [table.install(P1, [(A, float(i + 1)), (B, 1.0)]) for i in range(5)]
    assert table.next_index == 5
    assert [c.index for c in table.changes_since(2)] == [2, 3, 4]
    assert table.changes_since(2) == tuple(made[2:])  # as they were made, every field
    assert [c.index for c in table.changes_since(4)] == [4]
    assert table.changes_since(5) == ()
    with pytest.raises(ChangesDropped):
        table.changes_since(1)
    with pytest.raises(ValueError):
        table.changes_since(6)


def live_changes() -> int:
    return sum(1 for o in gc.get_objects() if type(o) is FibChange)


def test_the_change_log_keeps_no_object_per_change() -> None:
    # A cold start makes a change per prefix and switch. Kept as objects, they are what
    # CPython's collector walks on each full pass (a tuple subclass is never untracked).
    table = fib()
    group = table.group([(A, G800)])
    gc.collect()  # (no other test's garbage left to go while this one counts)
    before = live_changes()
    table.put([(Prefix(bytes((10, i >> 8, i & 0xFF, 0)), 24), group) for i in range(1000)])
    assert live_changes() == before
    kept = table.changes_since(0)
    assert [c.index for c in kept] == list(range(1000)) and kept[999].new is group


def test_subscribers_see_every_change_in_order_until_they_unsubscribe() -> None:
    table = fib()
    seen: list[tuple[str, int]] = []
    unsubscribe = table.subscribe(lambda c: seen.append(("a", c.index)))

    def once(change: FibChange) -> None:
        seen.append(("b", change.index))
        stop_b()

    stop_b = table.subscribe(once)
    table.install(P1, [(A, G800)])
    table.install(P2, [(A, G800)])
    unsubscribe()
    table.remove(P1)
    unsubscribe()  # twice is harmless
    assert seen == [("a", 0), ("b", 0), ("a", 1)]
    assert table.next_index == 3


def test_batch_subscribers_get_each_puts_changes_once_after_the_per_change_ones() -> None:
    table = fib()
    seen: list[object] = []
    table.subscribe(lambda c: seen.append(c.index))
    stop = table.subscribe_batches(lambda batch: seen.append([c.index for c in batch]))
    group = table.group([(A, G800)])
    table.put([(P1, group), (P2, group), (P6, None)])  # P6 had no entry: no change
    table.put([(P1, group)])  # nothing changed: no batch
    table.remove(P2)
    stop()
    table.remove(P1)
    stop()  # twice is harmless
    assert seen == [0, 1, [0, 1], 2, [2], 3]


def test_a_per_change_subscriber_sees_the_fib_as_of_its_change_within_one_put() -> None:
    # One put, three changes: each listener call sees the table, the index and the log
    # with its change and not the next; every change has the put's one instant.
    table = fib()
    group = table.group([(A, G800)])
    seen: list[tuple[int, bool, bool, int, int]] = []

    def look(change: FibChange) -> None:
        kept = table.changes_since(0)
        seen.append((change.index, P1 in table, P2 in table, table.next_index, kept[-1].index))

    table.subscribe(look)
    changes = table.put([(P1, group), (P6, None), (P2, group), (P1, None)])
    assert seen == [(0, True, False, 1, 0), (1, True, True, 2, 1), (2, False, True, 3, 2)]
    assert len({c.at_ns for c in changes}) == 1
    assert [c.index for c in table.changes_since(0)] == [0, 1, 2]


def test_entries_lookup_and_len() -> None:
    table = fib()
    table.install(P6, [(V6, None)])
    table.install(P2, [(A, G800)])
    table.install(P1, [(B, G800), (A, G800)])
    assert [p for p, _ in table.entries()] == [P1, P2, P6]
    assert len(table) == 3 and P6 in table and Prefix.parse("10.3.0.0/16") not in table
    group = table.lookup(P1)
    assert group is not None and group.members == ((A, 1), (B, 1))


def test_describe_is_json_friendly() -> None:
    table = fib()
    table.install(P1, [(A, 16 * G800), (B, 8 * G800), (C, 0.0)])
    view = table.describe()
    assert json.loads(json.dumps(view)) == view
    (entry,) = view
    assert entry["prefix"] == "10.1.0.0/16" and entry["total"] == 3
    assert [(h["next_hop"], h["weight"]) for h in entry["next_hops"]] == [
        ("10.0.0.1", 2),
        ("10.0.0.2", 1),
        ("10.0.0.3", 0),
    ]
    assert entry["next_hops"][0]["share"] == pytest.approx(2 / 3)
    assert entry["next_hops"][2]["ucmp_weight"] == 0.0
    assert entry["quantization"]["l1_error"] < 1e-15
    change = table.remove(P1)
    assert change is not None
    described = change.describe()
    assert json.loads(json.dumps(described)) == described
    assert described["kind"] == "remove" and described["new"] is None


def test_hand_built_group_describes_without_quantization() -> None:
    group = NextHopGroup(members=((A, 3), (B, 1)))
    view = group.describe()
    assert "quantization" not in view
    assert [h["share"] for h in view["next_hops"]] == [0.75, 0.25]
