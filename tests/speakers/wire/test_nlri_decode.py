"""``decode_nlri``'s two ways agree: the C-level one for a field of prefixes of one
whole-octet length, and the loop that decodes every other field (and said when a field is
wrong). Fields of random prefixes, uniform or not, with junk host bits or cut short."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import speakers.wire.prefix as prefix_module
from speakers.wire import Prefix
from speakers.wire.constants import Afi
from speakers.wire.prefix import NlriError, decode_nlri

AFIS = {Afi.IPV4: 32, Afi.IPV6: 128}


@st.composite
def fields(draw: st.DrawFn) -> tuple[int, bytes]:
    """(AFI, NLRI field): mostly one length (often a whole number of octets), sometimes
    another length among them, junk host bits, or the field cut short; at times with
    octets before and after it (``decode_nlri`` reads ``data[start:end]``)."""
    afi = draw(st.sampled_from(sorted(AFIS)))
    bits = AFIS[afi]
    length = draw(st.sampled_from([0, 8, 16, 24, 32, 64, 128, 7, 23, 33, 129]))
    lengths = [length] * draw(st.integers(1, 120))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(lengths) - 1))
        lengths[at] = draw(st.integers(0, bits + 1))
    out = bytearray()
    for n in lengths:
        size = min((n + 7) >> 3, bits >> 3)
        body = bytearray(draw(st.binary(min_size=size, max_size=size)))
        if n & 7 and body and not draw(st.booleans()):
            body[-1] &= (0xFF << (8 - (n & 7))) & 0xFF  # host bits zero, mostly
        out += bytes((n,)) + body
    if draw(st.integers(0, 9)) == 0:
        out = out[: draw(st.integers(0, len(out)))]
    return afi, bytes(out)


def decoded(data: bytes, start: int, end: int, afi: int) -> list[Prefix] | str:
    try:
        return decode_nlri(data, start, end, afi)
    except NlriError as e:
        return f"error: {e.reason}"


@settings(max_examples=400, deadline=None)
@given(fields(), st.binary(max_size=3), st.binary(max_size=3))
def test_uniform_fields_decode_as_the_loop_does(
    field: tuple[int, bytes], before: bytes, after: bytes
) -> None:
    afi, nlri = field
    data, start, end = before + nlri + after, len(before), len(before) + len(nlri)
    fast = decoded(data, start, end, afi)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(prefix_module, "_UNIFORM_MIN", 1 << 30)  # the loop only
        slow = decoded(data, start, end, afi)
    assert fast == slow
    if isinstance(fast, list):
        assert all(type(p) is Prefix for p in fast)


def test_a_table_of_one_length_takes_the_uniform_way() -> None:
    """The C-level way is taken (and gives the prefixes) for /24s and /64s."""
    v4 = [Prefix(bytes((10, i >> 8, i & 0xFF, 0)), 24) for i in range(100)]
    v6 = [Prefix(bytes((0x20, 1, 0xD, 0xB8, 0, 0, 0, i)) + bytes(8), 64) for i in range(100)]
    for prefixes, afi, bits in ((v4, Afi.IPV4, 32), (v6, Afi.IPV6, 128)):
        nlri = b"".join(bytes((p.length,)) + p.packed[: p.length >> 3] for p in prefixes)
        assert prefix_module._decode_uniform(nlri, 0, len(nlri), bits) == prefixes
        assert decode_nlri(nlri, 0, len(nlri), afi) == prefixes
