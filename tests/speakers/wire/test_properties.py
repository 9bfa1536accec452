"""Property tests of the wire codec: round trips, stream framing, packing, link bandwidth.

(a) ``decode(encode(m)) == m`` for every message type and context, including 2-octet-AS
    sessions where the encoder writes AS_TRANS plus AS4_PATH / AS4_AGGREGATOR and the
    decoder rebuilds the real path (RFC 6793 §4.2);
(b) ``encode(decode(b)) == b`` for canonical bytes;
(c) ``MessageReader`` cuts any chunking of a stream into the same messages;
(d) ``pack_announce`` / ``pack_withdraw`` lose nothing, respect the size limit and use the
    fewest messages when every prefix has one size;
(e) RFC 10005 link bandwidth: binary32 precision, and the §4 receive rules.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from ipaddress import IPv4Address, IPv6Address

import pytest
import strategies as S
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from speakers.packing import pack_updates
from speakers.wire import (
    AS_TRANS,
    AsPath,
    AsPathSegment,
    CapabilitiesParameter,
    CodecContext,
    EncodeError,
    ExtendedCommunity,
    LinkBandwidth,
    MessageReader,
    MpReachNlri,
    Notification,
    Open,
    Origin,
    PathAttributes,
    Prefix,
    RawAttribute,
    RouteRefreshCapability,
    UnknownCapability,
    Update,
    decode_message,
    effective_link_bandwidth,
    encode_message,
    pack_announce,
    pack_announce_spliced,
    pack_withdraw,
    update_decoder,
    update_memo,
)
from speakers.wire.attributes import encode_around_next_hop, encode_attributes

# Generating an UPDATE costs a few milliseconds; a few hundred examples per property keep
# the module at about a minute on two cores. No deadline: CI machines are loaded.
ROUND_TRIP = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEAVY = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

FOUR_OCTET_CONTEXTS = st.builds(CodecContext, st.just(True), st.booleans(), st.booleans())
TWO_OCTET_CONTEXTS = st.builds(CodecContext, st.just(False), st.booleans(), st.booleans())


def round_trip(message: object, ctx: CodecContext) -> bytes:
    data = encode_message(message, ctx)  # type: ignore[arg-type]
    assert len(data) <= ctx.max_message_len
    decoded = decode_message(data, ctx)
    assert decoded == message
    assert type(decoded) is type(message)
    return data


# --- (a) decode(encode(m)) == m -----------------------------------------------------------


@ROUND_TRIP
@given(FOUR_OCTET_CONTEXTS.flatmap(lambda c: st.tuples(st.just(c), S.updates(c))))
def test_update_round_trip(case: tuple[CodecContext, Update]) -> None:
    round_trip(case[1], case[0])


@ROUND_TRIP
@given(S.contexts().flatmap(lambda c: st.tuples(st.just(c), S.updates(c))))
def test_a_shared_decode_is_a_fresh_decode_of_the_bytes(case: tuple[CodecContext, Update]) -> None:
    """Every receiver of the same bytes in a process gets one ``Update``
    (``update_memo._MESSAGES``): the one a fresh decode of them gives, in either AS
    width, whatever was decoded before."""
    ctx, update = case
    wire = encode_message(update, ctx)
    fresh = update_decoder.decode_update_body(wire[19:], ctx)
    first = decode_message(wire, ctx)
    again = decode_message(bytes(bytearray(wire)), ctx)
    assert first == fresh == again
    if len(wire) <= update_memo.MESSAGE_MEMO_LONGEST:
        assert again is first


@ROUND_TRIP
@given(TWO_OCTET_CONTEXTS.flatmap(lambda c: st.tuples(st.just(c), S.updates(c))))
def test_update_round_trip_two_octet_as(case: tuple[CodecContext, Update]) -> None:
    """RFC 6793 §4.2: AS_TRANS on the wire, the real path back after the AS4_PATH merge.
    Paths carry no confederation segments (§4.2.2 leaves them out of AS4_PATH) but may
    carry AS_TRANS itself."""
    round_trip(case[1], case[0])


@ROUND_TRIP
@given(
    TWO_OCTET_CONTEXTS.flatmap(lambda c: st.tuples(st.just(c), S.updates(c, allow_as_trans=False)))
)
def test_update_round_trip_two_octet_as_without_as_trans(
    case: tuple[CodecContext, Update],
) -> None:
    round_trip(case[1], case[0])


@ROUND_TRIP
@given(S.contexts(), S.end_of_ribs())
def test_end_of_rib_round_trip(ctx: CodecContext, update: Update) -> None:
    round_trip(update, ctx)
    assert update.end_of_rib is not None


@ROUND_TRIP
@given(S.contexts(), S.opens(max_parameter_len=255))
def test_open_round_trip(ctx: CodecContext, message: Open) -> None:
    data = round_trip(message, ctx)
    # RFC 9072: the extended format exactly when the parameters exceed 255 octets.
    params_len = sum(2 + S._param_len(p) for p in message.parameters)
    assert (data[28] == 255 and data[29] == 255) == (params_len > 255)


@ROUND_TRIP
@example(
    ctx=CodecContext(),
    message=Open(
        65001,
        90,
        S.IPv4Address("192.0.2.1"),
        (CapabilitiesParameter((UnknownCapability(73, b"x" * 250), RouteRefreshCapability())),),
    ),
)
@given(S.contexts(), S.opens())
def test_open_round_trip_long_parameter(ctx: CodecContext, message: Open) -> None:
    """RFC 9072 §2: in the extended format each parameter has a 2-octet length, so one
    Capabilities parameter may exceed 255 octets (several capabilities grouped in one
    parameter, as some speakers send them). The decoder accepts it; the encoder must too."""
    round_trip(message, ctx)


@ROUND_TRIP
@given(
    S.contexts(),
    S.ASNS,
    st.lists(S.capabilities(), max_size=6).map(tuple),
    st.booleans(),
)
def test_built_open_round_trip(
    ctx: CodecContext, asn: int, capabilities: tuple, one_per_parameter: bool
) -> None:
    """``Open.build``: AS_TRANS in My AS for a 4-octet AS (RFC 6793 §4.1), the 4-octet AS
    capability added unless given."""
    message = Open.build(asn, 90, "192.0.2.1", capabilities, one_per_parameter=one_per_parameter)
    assume(all(S._param_len(p) <= 255 for p in message.parameters))
    round_trip(message, ctx)
    assert message.my_as == (asn if asn <= 0xFFFF else AS_TRANS)
    if not any(isinstance(c, S.FourOctetAsCapability) for c in capabilities):
        assert message.asn == asn


@ROUND_TRIP
@given(S.contexts().flatmap(lambda c: st.tuples(st.just(c), S.notifications(c))))
def test_notification_round_trip(case: tuple[CodecContext, Notification]) -> None:
    round_trip(case[1], case[0])


@ROUND_TRIP
@given(
    S.contexts(),
    st.text(max_size=100).filter(lambda t: len(t.encode()) <= 255),
    st.sampled_from((2, 4)),
)
def test_shutdown_communication_round_trip(ctx: CodecContext, reason: str, subcode: int) -> None:
    """RFC 9003 §2: the text survives the wire (an empty one is no communication)."""
    message = Notification.shutdown(reason, subcode)
    decoded = decode_message(encode_message(message, ctx), ctx)
    assert decoded == message
    assert decoded.shutdown_communication == (reason or None)


@given(S.contexts(), S.keepalives())
def test_keepalive_round_trip(ctx: CodecContext, message: object) -> None:
    assert len(round_trip(message, ctx)) == 19


@ROUND_TRIP
@given(S.contexts(), S.route_refreshes())
def test_route_refresh_round_trip(ctx: CodecContext, message: object) -> None:
    assert len(round_trip(message, ctx)) == 23


# --- (b) encode(decode(b)) == b for canonical bytes ---------------------------------------


@ROUND_TRIP
@given(S.contexts_and_messages())
def test_canonical_bytes_round_trip(case: tuple[CodecContext, object]) -> None:
    ctx, message = case
    data = encode_message(message, ctx)  # type: ignore[arg-type]
    assert encode_message(decode_message(data, ctx), ctx) == data


@ROUND_TRIP
@given(FOUR_OCTET_CONTEXTS.flatmap(lambda c: st.tuples(st.just(c), S.updates(c))))
def test_mp_attribute_layouts_decode_alike(case: tuple[CodecContext, Update]) -> None:
    """Decoding accepts MP_(UN)REACH_NLRI first (RFC 7606 §5.1) or last (exabgp's layout)."""
    ctx, update = case
    for first in (True, False):
        data = encode_message(update, replace(ctx, mp_attributes_first=first))
        assert decode_message(data, ctx) == update


@ROUND_TRIP
@given(S.path_attributes())
def test_unused_flag_bits_and_extended_length(attrs: PathAttributes) -> None:
    """Canonical attribute headers: unused flag bits zero, Extended Length iff the value
    exceeds 255 octets, type codes ascending."""
    ctx = CodecContext()
    try:
        data = encode_message(Update(attributes=attrs), ctx)
    except EncodeError:
        assume(False)
    alen = int.from_bytes(data[21:23], "big")
    i, end, codes = 23, 23 + alen, []
    while i < end:
        flags, code = data[i], data[i + 1]
        assert flags & 0x0F == 0
        if flags & 0x10:
            length = int.from_bytes(data[i + 2 : i + 4], "big")
            assert length > 255
            i += 4 + length
        else:
            i += 3 + data[i + 2]
        codes.append(code)
    assert i == end
    assert codes == sorted(codes)
    assert len(codes) == len(set(codes))


@ROUND_TRIP
@given(
    S.path_attributes(),
    st.lists(
        st.builds(
            RawAttribute, st.sampled_from(S.RAW_FLAGS), st.integers(0, 255), st.binary(max_size=8)
        ),
        max_size=5,
    ),
    st.booleans(),
)
def test_the_encoder_never_writes_one_attribute_twice(
    attrs: PathAttributes, raw: list[RawAttribute], four_octet: bool
) -> None:
    """Whatever ``other`` holds (a type the typed fields write, AS4_PATH or AS4_AGGREGATOR,
    which the encoder derives for 2-octet peers, MP_REACH_NLRI, or one code twice), and for
    either kind of peer, each type code is written once (RFC 7606 §3 g makes a repeat an
    error at the receiver)."""
    attrs = replace(attrs, other=tuple(raw))
    try:
        data = encode_attributes(attrs, CodecContext(four_octet_as=four_octet))
    except EncodeError:
        assume(False)
    i, codes = 0, []
    while i < len(data):
        flags, code = data[i], data[i + 1]
        if flags & 0x10:
            i += 4 + int.from_bytes(data[i + 2 : i + 4], "big")
        else:
            i += 3 + data[i + 2]
        codes.append(code)
    assert len(codes) == len(set(codes)), codes


def _wire_segments(data: bytes) -> list[tuple[int, int]]:
    """(type, count) of each AS_PATH segment of an UPDATE whose only attribute is AS_PATH."""
    flags = data[23]
    start, length = (27, int.from_bytes(data[25:27], "big")) if flags & 0x10 else (26, data[25])
    value, out, i = data[start : start + length], [], 0
    while i < len(value):
        out.append((value[i], value[i + 1]))
        i += 2 + 4 * value[i + 1]
    return out


@ROUND_TRIP
@given(S.as_paths())
def test_as_path_segments_on_the_wire(path: AsPath) -> None:
    """Sequences over 255 ASNs go out as full 255-ASN segments and a remainder (RFC 4271
    §5.1.2); the decoder merges them back."""
    ctx = CodecContext(extended_message=True)
    data = encode_message(Update(attributes=PathAttributes(as_path=path)), ctx)
    assert decode_message(data, ctx).attributes.as_path == path
    expected = []
    for kind, asns in path.segments:
        full, rest = divmod(len(asns), 255)
        expected += [(kind, 255)] * full + ([(kind, rest)] if rest else [])
    assert _wire_segments(data) == expected


def _routes(update: Update, announced: bool, withdrawn: bool) -> set[tuple[int, int, Prefix]]:
    """(AFI, SAFI, prefix) of every route ``update`` announces and/or withdraws."""
    out: set[tuple[int, int, Prefix]] = set()
    if announced:
        out |= {(1, 1, p) for p in update.nlri}
        if update.mp_reach is not None and update.mp_reach.raw is None:
            out |= {(update.mp_reach.afi, update.mp_reach.safi, p) for p in update.mp_reach.nlri}
    if withdrawn:
        out |= {(1, 1, p) for p in update.withdrawn}
        if update.mp_unreach is not None and update.mp_unreach.raw is None:
            reach = update.mp_unreach
            out |= {(reach.afi, reach.safi, p) for p in reach.withdrawn}
    return out


@ROUND_TRIP
@example(
    update=Update(
        attributes=PathAttributes(origin=Origin.IGP, as_path=AsPath()),
        mp_reach=MpReachNlri(1, 2, S.IPv4Address("192.0.2.1"), (Prefix.parse("10.1.0.0/16"),)),
    )
)
@given(S.updates())
def test_treat_as_withdraw_keeps_each_route_in_its_family(update: Update) -> None:
    """RFC 7606 §2 treat-as-withdraw: every route the UPDATE carries is withdrawn, in its
    own AFI/SAFI (a multicast route is not a unicast one, RFC 4760). ``families()`` lists
    them all; ``as_withdraw()`` says it in one UPDATE when at most one family besides IPv4
    unicast is involved, and refuses otherwise."""
    by_family = update.families()
    routes = {(afi, safi, p) for (afi, safi), ps in by_family.items() for p in ps}
    assert routes == _routes(update, True, True)
    assert sum(map(len, by_family.values())) == len(update.announced + update.withdrawn_all)
    families = set(by_family) - {(1, 1)}
    if len(families) > 1:
        with pytest.raises(EncodeError):
            update.as_withdraw()
        return
    withdraw = update.as_withdraw()
    assert _routes(withdraw, True, False) == set()
    assert withdraw.attributes == PathAttributes()
    assert _routes(withdraw, False, True) == _routes(update, True, True)


# --- (c) MessageReader --------------------------------------------------------------------


def drain(reader: MessageReader) -> list[tuple[int, bytes]]:
    out = []
    while (item := reader.next_message()) is not None:
        out.append(item)
    return out


@st.composite
def streams(draw: st.DrawFn) -> tuple[CodecContext, list[bytes], bytes]:
    """Several whole encoded messages and a strict prefix of one more (maybe empty)."""
    ctx = draw(S.contexts())
    whole = [encode_message(m, ctx) for m in draw(st.lists(S.messages(ctx), max_size=5))]
    last = encode_message(draw(S.messages(ctx)), ctx)
    partial = last[: draw(st.integers(0, len(last) - 1))]
    return ctx, whole, partial


def _check_stream(
    ctx: CodecContext, whole: list[bytes], partial: bytes, chunks: list[bytes]
) -> None:
    reader = MessageReader(ctx)
    got: list[tuple[int, bytes]] = []
    for chunk in chunks:
        reader.feed(chunk)
        got += drain(reader)
    assert got == [(m[18], m) for m in whole]
    assert reader.buffered == len(partial)
    assert reader.next_message() is None
    for msg_type, data in got:
        assert decode_message(data, ctx).type == msg_type


@HEAVY
@given(streams())
def test_reader_whole_stream(stream: tuple[CodecContext, list[bytes], bytes]) -> None:
    ctx, whole, partial = stream
    _check_stream(ctx, whole, partial, [b"".join(whole) + partial])


@HEAVY
@given(streams())
def test_reader_byte_by_byte(stream: tuple[CodecContext, list[bytes], bytes]) -> None:
    ctx, whole, partial = stream
    data = b"".join(whole) + partial
    _check_stream(ctx, whole, partial, [data[i : i + 1] for i in range(len(data))])


@HEAVY
@given(streams(), st.lists(st.integers(0, 1 << 17), max_size=30))
def test_reader_random_chunks(
    stream: tuple[CodecContext, list[bytes], bytes], cuts: list[int]
) -> None:
    ctx, whole, partial = stream
    data = b"".join(whole) + partial
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    chunks = [data[a:b] for a, b in itertools.pairwise(points)]
    _check_stream(ctx, whole, partial, chunks)


# --- (d) pack_announce / pack_withdraw ----------------------------------------------------


@st.composite
def prefix_batches(draw: st.DrawFn, v6: bool, room: int, uniform: bool) -> list[Prefix]:
    """A bulk of prefixes of one length (enough to need several messages) plus, unless
    ``uniform``, a few of any length; duplicates allowed (a multiset)."""
    width = 128 if v6 else 32
    length = draw(S._lengths(width))
    # Counts around multiples of what one message holds (``room`` octets of NLRI).
    per_message = max(1, room // (1 + (length + 7) // 8))
    around = st.builds(
        lambda k, r: max(0, k * per_message + r), st.integers(1, 3), st.integers(-2, 2)
    )
    n = draw(st.one_of(st.integers(1, 40), around, st.integers(0, 3 * per_message)))
    base = draw(st.integers(0, (1 << width) - 1))
    step = draw(st.integers(1, (1 << width) - 1))
    bulk = [S.make_prefix((base + i * step) % (1 << width), length, width) for i in range(n)]
    if uniform:
        return bulk
    pfx = S.ipv6_prefixes() if v6 else S.ipv4_prefixes()
    extra = draw(st.lists(pfx, max_size=40))
    mixed = bulk + extra
    return draw(st.permutations(mixed)) if len(mixed) < 200 else mixed


@st.composite
def announce_cases(draw: st.DrawFn, uniform: bool = False) -> tuple:
    """Attributes, next hops and prefixes for ``pack_announce``; sometimes the attributes
    are padded (with an unknown optional attribute) to leave only ``room`` octets for NLRI,
    where the size of the MP_REACH_NLRI header starts to matter."""
    ctx = draw(S.contexts())
    v6 = draw(st.booleans())
    attrs = draw(
        S.path_attributes(
            as2_compatible=not ctx.four_octet_as,
            need_origin_as_path=True,
            need_next_hop=not v6,
        )
    )
    next_hop = draw(S.ipv6_addresses()) if v6 else None
    link_local = draw(st.none() | S.ipv6_addresses()) if v6 else None
    room = draw(st.none() | st.integers(17, 400))
    if room is not None:
        base = _base_len(ctx, attrs, next_hop, link_local)
        attrs = _pad(attrs, ctx.max_message_len - room - base)
    room = ctx.max_message_len - _base_len(ctx, attrs, next_hop, link_local)
    prefixes = draw(prefix_batches(v6, room, uniform))
    assume(_base_len(ctx, attrs, next_hop, link_local) + 17 <= ctx.max_message_len)
    return ctx, attrs, next_hop, link_local, prefixes


def _pad(attrs: PathAttributes, octets: int) -> PathAttributes:
    """``attrs`` plus an optional attribute taking ``octets`` octets, header included."""
    value_len = octets - 3 if octets - 3 <= 255 else octets - 4
    assume(0 <= value_len <= 0xFFFF)
    codes = {a.type_code for a in attrs.other}
    code = next(c for c in (255, 254, 253, 252, 251) if c not in codes)
    pad = RawAttribute(0x80, code, bytes(value_len))
    return replace(attrs, other=tuple(sorted((*attrs.other, pad), key=lambda a: a.type_code)))


def _empty_announcement(attrs: PathAttributes, next_hop, link_local) -> Update:
    if next_hop is None:
        return Update(attributes=attrs)
    return Update(
        attributes=S.without_next_hop(attrs),
        mp_reach=MpReachNlri(2, 1, next_hop, (), link_local),
    )


def _base_len(ctx: CodecContext, attrs: PathAttributes, next_hop, link_local) -> int:
    """Octets of the UPDATE that announces nothing: what every packed message shares."""
    try:
        return len(encode_message(_empty_announcement(attrs, next_hop, link_local), ctx))
    except EncodeError:
        return 1 << 20


def optimal_count(n: int, size: int, base: int, max_len: int, mp_value_base: int | None) -> int:
    """Fewest messages for ``n`` prefixes of ``size`` octets, computed from the encoded
    size of the empty message; an MP attribute takes one more header octet once its value
    exceeds 255 octets (RFC 4271 §4.3 Extended Length)."""

    def total(k: int) -> int:
        grow = mp_value_base is not None and mp_value_base <= 255 < mp_value_base + k * size
        return base + k * size + (1 if grow else 0)

    per = (max_len - base) // size
    while per > 0 and total(per) > max_len:
        per -= 1
    assert per > 0
    return -(-n // per)


def _check_packed(messages: list[bytes], ctx: CodecContext) -> list[Update]:
    decoded = []
    for data in messages:
        assert len(data) <= ctx.max_message_len
        update = decode_message(data, ctx)
        assert isinstance(update, Update)
        decoded.append(update)
    return decoded


@HEAVY
@given(announce_cases())
def test_pack_announce(case: tuple) -> None:
    ctx, attrs, next_hop, link_local, prefixes = case
    messages = pack_announce(attrs, prefixes, ctx, next_hop=next_hop, link_local=link_local)
    decoded = _check_packed(messages, ctx)
    assert bool(messages) == bool(prefixes)
    got: list[Prefix] = []
    for update in decoded:
        assert update.withdrawn == () and update.mp_unreach is None
        if next_hop is None:
            assert update.attributes == attrs
            assert update.mp_reach is None
            assert update.nlri
            got += update.nlri
        else:
            assert update.attributes == S.without_next_hop(attrs)
            assert update.nlri == ()
            reach = update.mp_reach
            assert (reach.afi, reach.safi) == (2, 1)
            assert (reach.next_hop, reach.link_local) == (next_hop, link_local)
            assert reach.nlri
            got += reach.nlri
    assert Counter(got) == Counter(prefixes)
    # First-fit decreasing: a message before the last has no room for any prefix that went
    # into a later one (room as the implementation reckons it: 4-octet MP header).
    base = _base_len(ctx, attrs, next_hop, link_local) + (1 if next_hop else 0)
    room = ctx.max_message_len - base
    for i, update in enumerate(decoded[:-1]):
        used = sum(1 + (p.length + 7) // 8 for p in update.announced)
        later = [p for u in decoded[i + 1 :] for p in u.announced]
        assert room - used < min(1 + (p.length + 7) // 8 for p in later)


@HEAVY
@given(announce_cases(uniform=True))
def test_pack_announce_count_is_optimal(case: tuple) -> None:
    ctx, attrs, next_hop, link_local, prefixes = case
    messages = pack_announce(attrs, prefixes, ctx, next_hop=next_hop, link_local=link_local)
    _check_packed(messages, ctx)
    if not prefixes:
        assert messages == []
        return
    size = 1 + (prefixes[0].length + 7) // 8
    base = _base_len(ctx, attrs, next_hop, link_local)
    nh_len = 0 if next_hop is None else 16 + (16 if link_local else 0)
    mp_value_base = None if next_hop is None else 5 + nh_len
    assert len(messages) == optimal_count(
        len(prefixes), size, base, ctx.max_message_len, mp_value_base
    )


@pytest.mark.parametrize(
    ("pad", "count"),
    [
        # 3,828 octets of attributes leave 221 octets, exactly 13 /128s, after the 3-octet
        # MP_REACH_NLRI header a 242-octet value takes: one UPDATE, not two.
        (3817, 13),
        # 4,032 octets leave 17, exactly one /128: one UPDATE, not an EncodeError.
        (4021, 1),
    ],
)
def test_pack_announce_counts_the_short_mp_reach_header(pad: int, count: int) -> None:
    """Regression: ``pack_announce`` reckons every MP_REACH_NLRI header at 4 octets (as if
    Extended Length), one more than a value of up to 255 octets takes, so with large
    attributes it splits what fits in one UPDATE, or refuses a prefix that fits."""
    attrs = PathAttributes(
        origin=Origin.IGP, as_path=AsPath(), other=(RawAttribute(0xC0, 99, bytes(pad)),)
    )
    next_hop = S.IPv6Address("2001:db8::1")
    prefixes = (Prefix(bytes(16), 128),) * count
    single = Update(attributes=attrs, mp_reach=MpReachNlri(2, 1, next_hop, prefixes))
    assert len(encode_message(single)) == 4096  # it fits
    messages = pack_announce(attrs, prefixes, next_hop=next_hop)
    assert [len(m) for m in messages] == [4096]


@st.composite
def withdraw_cases(draw: st.DrawFn, uniform: bool = False) -> tuple:
    ctx = draw(S.contexts())
    v6 = draw(st.booleans())
    room = ctx.max_message_len - (30 if v6 else 23)
    return ctx, v6, draw(prefix_batches(v6, room, uniform))


@HEAVY
@given(withdraw_cases())
def test_pack_withdraw(case: tuple) -> None:
    ctx, v6, prefixes = case
    messages = pack_withdraw(prefixes, ctx)
    assert bool(messages) == bool(prefixes)
    got: list[Prefix] = []
    for update in _check_packed(messages, ctx):
        assert update.attributes == PathAttributes()
        assert update.nlri == () and update.mp_reach is None
        if v6:
            assert update.withdrawn == ()
            assert (update.mp_unreach.afi, update.mp_unreach.safi) == (2, 1)
            assert update.mp_unreach.withdrawn
            got += update.mp_unreach.withdrawn
        else:
            assert update.mp_unreach is None
            assert update.withdrawn
            got += update.withdrawn
    assert Counter(got) == Counter(prefixes)


@HEAVY
@given(withdraw_cases(uniform=True))
def test_pack_withdraw_count_is_optimal(case: tuple) -> None:
    ctx, v6, prefixes = case
    messages = pack_withdraw(prefixes, ctx)
    if not prefixes:
        assert messages == []
        return
    size = 1 + (prefixes[0].length + 7) // 8
    if v6:
        from speakers.wire import MpUnreachNlri

        empty = Update(mp_unreach=MpUnreachNlri(2, 1))
        mp_value_base = 3
    else:
        empty = Update(withdrawn=())
        mp_value_base = None
    base = len(encode_message(empty, ctx))
    assert len(messages) == optimal_count(
        len(prefixes), size, base, ctx.max_message_len, mp_value_base
    )


def _packed_or_refused(pack: Callable[[], list[bytes]]) -> list[bytes] | str:
    try:
        return pack()
    except EncodeError as exc:
        return f"EncodeError: {exc}"


@settings(max_examples=150, deadline=None)
@given(
    S.contexts(),
    S.path_attributes(allow_next_hop=False).map(lambda a: replace(a, other=())),
    st.lists(S.unicast_next_hops(), min_size=1, max_size=3),
    st.lists(S.ipv4_prefixes(), max_size=300),
    st.lists(S.ipv6_prefixes(), max_size=300),
    S.ipv6_addresses(),
)
def test_attributes_spliced_around_each_next_hop_are_those_encoded_with_it(
    ctx: CodecContext,
    attrs: PathAttributes,
    hops: list[IPv4Address],
    v4: list[Prefix],
    v6: list[Prefix],
    v6_hop: IPv6Address,
) -> None:
    """The export encodes a route's attributes once and splices each neighbor's NEXT_HOP
    in (``packing.pack_updates``): byte for byte what encoding them with that next hop
    gives, for either family (IPv6: the next hop in MP_REACH_NLRI), in one UPDATE or (too
    many prefixes) several, and refused where that is refused."""
    try:
        around = encode_around_next_hop(attrs, ctx)
    except EncodeError:  # (an ASN the context cannot carry: refused with the next hop too)
        with pytest.raises(EncodeError):
            encode_attributes(attrs.evolve(next_hop=hops[0]), ctx)
        return
    for hop in hops:
        with_hop = attrs.evolve(next_hop=hop)
        spliced = around[0] + b"\x40\x03\x04" + hop.packed + around[1]
        assert spliced == encode_attributes(with_hop, ctx)
        ours = partial(pack_announce_spliced, around, v4, ctx, next_hop=hop)
        theirs = partial(pack_announce, with_hop, v4, ctx)
        assert _packed_or_refused(ours) == _packed_or_refused(theirs)
    ours = partial(pack_announce_spliced, around, v6, ctx, next_hop=v6_hop)
    theirs = partial(pack_announce, attrs, v6, ctx, next_hop=v6_hop)
    assert _packed_or_refused(ours) == _packed_or_refused(theirs)


def test_only_attributes_without_a_next_hop_or_raw_ones_are_spliced() -> None:
    hop = IPv4Address("192.0.2.1")
    with pytest.raises(ValueError):
        encode_around_next_hop(PathAttributes(next_hop=hop), CodecContext())
    raw = RawAttribute(0xC0, 99, b"x")
    with pytest.raises(ValueError):
        encode_around_next_hop(PathAttributes(other=(raw,)), CodecContext())


def test_pack_rejects_mixed_families() -> None:
    v4, v6 = Prefix.parse("10.0.0.0/8"), Prefix.parse("2001:db8::/32")
    with pytest.raises(EncodeError):
        pack_withdraw([v4, v6])


# --- (e) link bandwidth -------------------------------------------------------------------

F32_MIN_NORMAL = 2.0**-126
# Half the spacing of binary32 subnormals, in bits per second (bytes/s x 8).
SUBNORMAL_HALF_ULP_BPS = 8 * 2.0**-150


@settings(max_examples=2000, deadline=None)
@example(0.0)
@example(800e9)
@example(432 * 800e9)
@example(48e15)
@example(1e20)
@example(1.0)
@given(st.floats(0, 1e20))
def test_link_bandwidth_precision(bps: float) -> None:
    """binary32 keeps 24 significant bits: round to nearest is within 2**-24 relative
    (below binary32's normal range, within half a subnormal step)."""
    lb = LinkBandwidth.from_bps(bps)
    error = abs(lb.bps - bps)
    if bps / 8 >= F32_MIN_NORMAL:
        assert error <= bps * 2.0**-24
    else:
        assert error <= SUBNORMAL_HALF_ULP_BPS
    assert lb.usable
    # The community survives the wire bit for bit.
    attrs = PathAttributes(ext_communities=(lb,))
    decoded = decode_message(encode_message(Update(attributes=attrs))).attributes
    assert decoded.ext_communities == (lb,)
    assert decoded.link_bandwidth_bytes_per_s == lb.bytes_per_s


@given(
    st.one_of(
        st.floats(max_value=-1e-300),
        st.sampled_from((math.nan, math.inf, -math.inf, 1e40 * 8)),
    ),
)
def test_link_bandwidth_refuses_unoriginatable(bps: float) -> None:
    """RFC 10005 §4: negatives SHOULD NOT be originated; NaN, infinities and values beyond
    binary32 carry no bandwidth."""
    with pytest.raises(EncodeError):
        LinkBandwidth.from_bps(bps)


@settings(max_examples=500, deadline=None)
@given(st.floats(0, 1e20), st.integers(0, 0xFFFFFFFF), st.booleans())
def test_link_bandwidth_global_administrator(bps: float, asn: int, transitive: bool) -> None:
    """RFC 10005 §2: the AS in the Global Administrator; AS_TRANS for a 4-octet one."""
    lb = LinkBandwidth.from_bps(bps, asn, transitive)
    assert lb.asn == (asn if asn <= 0xFFFF else AS_TRANS)
    raw = lb.encode()
    assert raw[0] == (0x00 if transitive else 0x40) and raw[1] == 0x04


def _reference_effective(communities) -> float | None:
    values = [v for v in map(S.usable_bytes_per_s, communities) if v is not None]
    return min(values) if values else None


@settings(max_examples=1000, deadline=None)
@given(S.ext_communities(), st.randoms(use_true_random=False))
def test_effective_link_bandwidth(communities: tuple, rnd) -> None:
    """RFC 10005 §4: the lowest usable value, zero included, transitivity ignored;
    negative values, NaN and infinities ignored; None when nothing usable is left.
    Neither the order nor the other extended communities matter."""
    expected = _reference_effective(communities)
    got = effective_link_bandwidth(communities)
    if expected is None:
        assert got is None
    else:
        assert got == expected
        assert math.copysign(1.0, got) == 1.0  # -0.0 reported as a plain zero
    shuffled = list(communities)
    rnd.shuffle(shuffled)
    assert effective_link_bandwidth(shuffled) == got
    assert PathAttributes(ext_communities=communities).link_bandwidth_bytes_per_s == got


@given(st.lists(S.link_bandwidths(), min_size=1, max_size=6))
def test_effective_link_bandwidth_ignores_transitivity(lbs: list[LinkBandwidth]) -> None:
    flipped = [replace(lb, transitive=not lb.transitive) for lb in lbs]
    assert effective_link_bandwidth(lbs) == effective_link_bandwidth(flipped)
    generic = [ExtendedCommunity(b"\x00\x02" + lb.encode()[2:]) for lb in lbs]
    assert effective_link_bandwidth(generic) is None


def test_effective_link_bandwidth_examples() -> None:
    def lb(value: float, transitive: bool = True) -> LinkBandwidth:
        return LinkBandwidth(S.float32_bits(value), 65000, transitive)

    assert effective_link_bandwidth([]) is None
    assert effective_link_bandwidth([lb(1e11), lb(0.0, False)]) == 0.0
    assert effective_link_bandwidth([lb(-1.0), lb(5.0)]) == 5.0
    assert effective_link_bandwidth([lb(math.nan), lb(math.inf), lb(-math.inf)]) is None
    assert effective_link_bandwidth([lb(-0.0)]) == 0.0
    assert effective_link_bandwidth([LinkBandwidth(0x7F800001), lb(7.0, False)]) == 7.0


def test_as_path_segment_helper_matches_decoder_merge() -> None:
    """The strategies' own merge agrees with the codec's canonical form on a known case."""
    segs = (
        AsPathSegment(2, (1, 2)),
        AsPathSegment(2, (3,)),
        AsPathSegment(1, (4,)),
        AsPathSegment(1, (5,)),
        AsPathSegment(3, (6,)),
        AsPathSegment(3, (7,)),
    )
    path = AsPath(segs)
    data = encode_message(Update(attributes=PathAttributes(as_path=path)))
    assert decode_message(data).attributes.as_path == AsPath(S.canonical_segments(segs))


def _sendable(attrs: PathAttributes) -> PathAttributes:
    """``attrs`` as an export makes them: ORIGIN and AS_PATH present, no raw attribute."""
    origin = Origin.IGP if attrs.origin is None else attrs.origin
    as_path = AsPath() if attrs.as_path is None else attrs.as_path
    return replace(attrs, origin=origin, as_path=as_path, other=())


@settings(max_examples=100, deadline=None)
@given(
    S.path_attributes(allow_next_hop=False).map(_sendable),
    S.unicast_next_hops(),
    S.ipv6_addresses(),
    st.lists(S.ipv4_prefixes(), max_size=200),
    st.lists(S.ipv6_prefixes(), max_size=200),
    st.lists(S.ipv4_prefixes(), max_size=50),
    st.lists(S.ipv6_prefixes(), max_size=50),
)
def test_the_speakers_updates_carry_one_family_each(
    attrs: PathAttributes,
    hop4: IPv4Address,
    hop6: IPv6Address,
    v4: list[Prefix],
    v6: list[Prefix],
    gone4: list[Prefix],
    gone6: list[Prefix],
) -> None:
    """What an export flush sends (``packing.pack_updates``): every UPDATE carries one of
    withdrawn routes, the body's NLRI, MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 7606 §5.1),
    and together they carry every route and withdrawal asked for, with its next hop."""
    announce = {(attrs, hop): group for hop, group in ((hop4, v4), (hop6, v6)) if group}
    withdraw = {family: g for family, g in (((1, 1), gone4), ((2, 1), gone6)) if g}
    ctx = CodecContext()
    try:
        messages = pack_updates(announce, withdraw, ctx, {}, {})
    except EncodeError:  # (attributes too big for a message: refused unspliced too)
        with pytest.raises(EncodeError):
            pack_announce(attrs.evolve(next_hop=hop4), v4, ctx)
            pack_announce(attrs, v6, ctx, next_hop=hop6)
        return
    announced: list[tuple[Prefix, object]] = []
    withdrawn: list[Prefix] = []
    for wire in messages:
        update = decode_message(wire, ctx)
        assert isinstance(update, Update)
        carriers = (update.withdrawn, update.nlri, update.mp_reach, update.mp_unreach)
        assert sum(1 for c in carriers if c) == 1, update
        withdrawn += update.withdrawn_all
        announced += [(p, update.attributes.next_hop) for p in update.nlri]
        if update.mp_reach is not None:
            announced += [(p, update.mp_reach.next_hop) for p in update.mp_reach.nlri]
    assert sorted(withdrawn) == sorted(gone4 + gone6)
    expected = [(p, hop4) for p in v4] + [(p, hop6) for p in v6]
    assert sorted(announced, key=str) == sorted(expected, key=str)
