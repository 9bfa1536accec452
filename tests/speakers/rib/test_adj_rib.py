"""The Adj-RIB-Outs of a speaker's neighbors as one table (``AdjRibOuts``), against a
dict per neighbor (``AdjRibOut()``, what a speaker with few neighbors keeps): over random
sequences of records, withdrawals and session resets, each column answers as its dict
does (what changed, what is held, how many)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from speakers.rib import AdjRibOut, AdjRibOuts, Advertised
from speakers.wire import AsPath, Origin, PathAttributes, Prefix

PREFIXES = [Prefix.parse(f"10.{k}.0.0/24") for k in range(5)] + [
    Prefix.parse(f"2001:db8:{k}::/64") for k in range(3)
]
ADVERTS = [
    Advertised(
        PathAttributes(origin=Origin.IGP, as_path=AsPath.sequence(65000, *[7] * n)),
        ipaddress.IPv4Address(f"192.0.2.{hop}"),
    )
    for n in range(2)
    for hop in (1, 2)
]
# An equal advertisement that is another object: recording it changes nothing.
TWIN = Advertised(ADVERTS[0].attributes, ipaddress.IPv4Address("192.0.2.1"))

OPS = st.lists(
    st.tuples(
        st.integers(0, 5),  # the neighbor
        st.sampled_from(["record", "record", "record", "clear"]),
        st.lists(st.sampled_from(PREFIXES), max_size=6),
        st.sampled_from([None, TWIN, *ADVERTS]),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), OPS)
def test_a_column_of_the_table_answers_as_a_dict_of_its_own(width, ops) -> None:
    table = AdjRibOuts()
    columns = [AdjRibOut(table) for _ in range(width)]
    own = [AdjRibOut() for _ in range(width)]
    for i, op, prefixes, advert in ops:
        column, alone = columns[i % width], own[i % width]
        if op == "clear":
            column.clear()
            alone.clear()
        else:
            assert column.record(prefixes, advert) == alone.record(prefixes, advert)
        for a, b in zip(columns, own, strict=True):
            assert sorted(a.items()) == sorted(b.items())
            assert len(a) == len(b)
            assert all(a.get(p) == b.get(p) for p in PREFIXES)
    # A row goes once no neighbor is sent its prefix.
    assert set(table.rows) == {p for c in columns for p, _ in c.items()}


def test_columns_come_before_rows() -> None:
    table = AdjRibOuts()
    first = AdjRibOut(table)
    first.set(PREFIXES[0], ADVERTS[0])
    with pytest.raises(ValueError, match="before any prefix"):
        AdjRibOut(table)
