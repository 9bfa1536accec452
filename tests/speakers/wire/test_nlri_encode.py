"""NLRI encoding and packing take a C-level way for prefixes of one length (a table's
usually are) and a loop for the rest: both give what RFC 4271 §4.3 and first-fit
decreasing give, checked against plain definitions of them over random prefix lists,
uniform or not."""

from __future__ import annotations

import pytest
import strategies as S
from hypothesis import given, settings
from hypothesis import strategies as st

from speakers.wire import Prefix
from speakers.wire.encode_error import EncodeError
from speakers.wire.prefix import encode_nlri, nlri_size
from speakers.wire.update import _fill


@st.composite
def prefix_lists(draw: st.DrawFn) -> list[Prefix]:
    """One family's prefixes: mostly all of one length, sometimes mixed."""
    width = draw(st.sampled_from([4, 16]))
    if draw(st.booleans()):
        return draw(st.lists(S.ipv4_prefixes() if width == 4 else S.ipv6_prefixes(), max_size=60))
    length = draw(st.integers(0, 8 * width))
    addresses = draw(st.lists(st.integers(0, (1 << 8 * width) - 1), max_size=300))
    return [S.make_prefix(a, length, 8 * width) for a in addresses]


def nlri_by_definition(prefixes: list[Prefix]) -> bytes:
    """RFC 4271 §4.3: per prefix, its length octet and the fewest octets holding it."""
    return b"".join(bytes((p.length,)) + p.packed[: (p.length + 7) // 8] for p in prefixes)


def first_fit_decreasing(prefixes: list[Prefix], room: int) -> list[list[Prefix]]:
    """Each message takes the largest remaining prefixes that fit, in their order, then
    the next size down, until nothing fits."""
    left = list(prefixes)
    groups = []
    while left:
        group, free = [], room
        for size in sorted({nlri_size(p) for p in left}, reverse=True):
            for p in [p for p in left if nlri_size(p) == size]:
                if size <= free:
                    group.append(p)
                    free -= size
        left = [p for p in left if all(p is not q for q in group)]
        groups.append(group)
    return groups


@settings(max_examples=300, deadline=None)
@given(prefix_lists())
def test_encode_nlri_is_the_rfc_encoding(prefixes: list[Prefix]) -> None:
    expected = nlri_by_definition(prefixes)
    assert encode_nlri(prefixes) == expected
    assert encode_nlri(tuple(prefixes)) == expected
    assert encode_nlri(iter(prefixes)) == expected  # any iterable, read once


def test_encode_nlri_of_one_length_in_both_widths() -> None:
    # One length but two widths: not one stride (the addresses' heads are still whole).
    v4 = [S.make_prefix(i << 8, 24, 32) for i in range(10)]
    v6 = [S.make_prefix(i << 104, 24, 128) for i in range(10)]
    for prefixes in (v4 + v6, v6 + v4, [*v4[:9], v6[0]], [*v6[:9], v4[0]]):
        assert encode_nlri(prefixes) == nlri_by_definition(prefixes)


def test_encode_nlri_of_prefixes_not_of_their_family_width() -> None:
    # Not canonical (the decoder never makes them): encoded octet for octet as given.
    short = [Prefix(bytes((10, i)), 24) for i in range(10)]  # 2 octets for a /24
    mixed = [Prefix(bytes(2), 24), Prefix(bytes(6), 24)] + [Prefix(bytes(4), 24)] * 8
    for prefixes in (short, mixed):
        assert encode_nlri(prefixes) == nlri_by_definition(prefixes)


@settings(max_examples=300, deadline=None)
@given(prefix_lists(), st.integers(17, 200))
def test_fill_is_first_fit_decreasing(prefixes: list[Prefix], room: int) -> None:
    assert _fill(prefixes, room) == first_fit_decreasing(prefixes, room)


def test_fill_says_when_a_prefix_cannot_fit() -> None:
    uniform = [Prefix.parse("2001:db8::/64")] * 3  # 9 octets each
    mixed = [*uniform, Prefix.parse("2001:db8::/32")]
    for prefixes in (uniform, mixed):
        with pytest.raises(EncodeError, match="no room for a 9-octet prefix in 8 octets"):
            _fill(prefixes, 8)
