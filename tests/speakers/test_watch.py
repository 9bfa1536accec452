"""``Watchlist`` (speakers/watch.py): with every item marked when its work starts, a look
answers what a walk over every item answers, and forgets only items with no work."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from speakers.watch import Watches, Watchlist

ITEMS = 6
# (item, its work from now: None = none, else when it is due), or a look
Event = tuple[int, float | None] | None
events = st.lists(
    st.one_of(
        st.none(),
        st.tuples(
            st.integers(0, ITEMS - 1),
            st.one_of(st.none(), st.floats(0, 100, allow_nan=False)),
        ),
    ),
    max_size=60,
)


@given(events)
def test_looks_agree_with_a_walk(seq: list[Event]) -> None:
    work: dict[int, float | None] = dict.fromkeys(range(ITEMS))
    busy: Watchlist[int] = Watchlist()
    due: Watchlist[int] = Watchlist()
    for event in seq:
        if event is not None:
            item, when = event
            if when is not None and work[item] is None:  # the contract: marked as work starts
                busy.mark(item)
                due.mark(item)
            work[item] = when
            continue
        walked_due = min((w for w in work.values() if w is not None), default=None)
        assert due.earliest(work.__getitem__) == walked_due
        assert busy.any(lambda i: work[i] is not None) == (walked_due is not None)
        # Only idle items are forgotten: every item with work is still marked.
        assert all(i in due for i, w in work.items() if w is not None)
        assert len(due) == sum(w is not None for w in work.values())


def test_any_stops_at_the_first_busy_item_and_forgets_the_idle_before_it() -> None:
    watch: Watchlist[str] = Watchlist()
    for item in "abc":
        watch.mark(item)
    asked: list[str] = []

    def busy(item: str) -> bool:
        asked.append(item)
        return item == "b"

    assert watch.any(busy)
    assert asked == ["a", "b"]
    assert "a" not in watch and "b" in watch and "c" in watch


def test_forget_drops_an_item_from_both_lists() -> None:
    watches: Watches[str] = Watches()
    watches.busy.mark("s")
    watches.due.mark("s")
    watches.forget("s")
    assert len(watches.busy) == len(watches.due) == 0
    assert watches.due.earliest(lambda s: 1.0) is None


def test_total_sums_and_forgets_the_empty() -> None:
    watch: Watchlist[str] = Watchlist()
    held = {"a": 3, "b": 0, "c": 4}
    for item in held:
        watch.mark(item)
    assert watch.total(held.__getitem__) == 7
    assert "b" not in watch and "a" in watch and "c" in watch
