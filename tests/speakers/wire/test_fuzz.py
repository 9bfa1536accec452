"""Fuzzing the decoder: no byte string makes it raise anything but a ``BgpError``.

Random bytes rarely get past the 19-octet header, so most examples start from valid
encoded messages (a corpus of every message type and context) and mutate them: byte
flips, small additions to a byte (off-by-one length fields), 2-octet length-field
rewrites, insertions, deletions, truncations and splices from other messages. In most
examples the marker and the Length field are then repaired, so the body parsers see the
damage rather than the header check.

Every error raised must be one the session can act on: its NOTIFICATION encodes (and
decodes back) under the same context, and an ``UpdateMessageError`` satisfies the
RFC 7606 bookkeeping ``errors.py`` promises (the strongest action wins, and the
non-reset actions carry the UPDATE they apply to).

``test_mutated_messages_slow`` runs 100,000 examples (marked slow; CI runs it too).
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Sequence

import pytest
import strategies as S
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from speakers.wire import (
    AS_TRANS,
    AsPath,
    AsPathSegment,
    BgpError,
    CodecContext,
    ErrorAction,
    MessageHeaderError,
    MessageReader,
    Notification,
    OpenMessageError,
    RouteRefreshMessageError,
    Update,
    UpdateMessageError,
    decode_message,
    encode_message,
)
from speakers.wire.errors import MAX_NOTIFICATION_DATA

MARKER = b"\xff" * 16
CONTEXTS = tuple(
    CodecContext(four, extended, first)
    for four in (True, False)
    for extended in (False, True)
    for first in (True, False)
)

FAST = settings(
    max_examples=2_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- the property -------------------------------------------------------------------------


def check_error(exc: BgpError, ctx: CodecContext) -> None:
    """What the session relies on when it catches ``exc``."""
    notification = exc.to_notification()
    assert isinstance(notification, Notification)
    assert notification.code == exc.code
    # The data is the RFC's, cut to fit one 4096-octet NOTIFICATION (errors.py).
    assert notification.subcode == exc.subcode
    assert notification.data == exc.data[:MAX_NOTIFICATION_DATA]
    wire = encode_message(notification, ctx)  # must fit: it is the reply to send
    assert decode_message(wire, ctx) == notification
    str(exc)  # logged; must not raise
    if isinstance(exc, UpdateMessageError):
        assert exc.problems
        assert exc.action == max(p.action for p in exc.problems)
        first = next(p for p in exc.problems if p.action == exc.action)
        assert (exc.subcode, exc.data) == (first.subcode, first.data)
        if exc.action in (ErrorAction.TREAT_AS_WITHDRAW, ErrorAction.ATTRIBUTE_DISCARD):
            assert isinstance(exc.update, Update)
        if exc.action == ErrorAction.TREAT_AS_WITHDRAW:
            # What the session withdraws: every prefix, in its family.
            for (afi, _safi), prefixes in exc.update.families().items():
                assert all(len(p.packed) == (4 if afi == 1 else 16) for p in prefixes)
        if exc.action == ErrorAction.AFI_SAFI_DISABLE:
            assert isinstance(exc.update, Update)
            assert exc.afi_safi is not None
    else:
        assert isinstance(exc, MessageHeaderError | OpenMessageError | RouteRefreshMessageError)
        assert exc.action == ErrorAction.SESSION_RESET


def check_decode(data: bytes, ctx: CodecContext) -> object | None:
    """Decode ``data``: a message, or None after a well-formed ``BgpError``. Any other
    exception propagates and fails the test."""
    try:
        message = decode_message(data, ctx)
    except BgpError as exc:
        check_error(exc, ctx)
        return None
    assert message.type == data[18]
    if isinstance(message, Update):
        # RFC 7607 §2: AS 0 in AS_PATH, AGGREGATOR, AS4_PATH or AS4_AGGREGATOR is malformed,
        # so no accepted UPDATE carries it (whichever attribute it came from).
        attrs = message.attributes
        assert attrs.as_path is None or 0 not in set(attrs.as_path.asns())
        assert attrs.aggregator is None or attrs.aggregator.asn != 0
    return message


# --- the corpus ---------------------------------------------------------------------------

CORPUS_SIZE = 400


def _handmade() -> list[tuple[CodecContext, bytes]]:
    """Valid but non-canonical encodings the generated corpus lacks."""
    hdr = MARKER

    def frame(msg_type: int, body: bytes) -> bytes:
        return hdr + struct.pack(">HB", 19 + len(body), msg_type) + body

    def update(attrs: bytes, nlri: bytes = b"", withdrawn: bytes = b"") -> bytes:
        body = struct.pack(">H", len(withdrawn)) + withdrawn
        return frame(2, body + struct.pack(">H", len(attrs)) + attrs + nlri)

    origin = b"\x40\x01\x01\x00"
    as_path = b"\x40\x02\x06\x02\x01\x00\x00\xfd\xe8"  # AS_SEQUENCE 65000
    next_hop = b"\x40\x03\x04\x0a\x00\x00\x01"
    as2_path = b"\x40\x02\x08\x02\x03\x5b\xa0\x00\x01\x5b\xa0"  # 23456 1 23456
    as4_path = b"\xc0\x11\x0e\x02\x03\xfa\x56\xea\x00\x00\x00\x00\x01\x00\x01\x11\x70"
    aggregator2 = b"\xc0\x07\x06\x5b\xa0\xc0\x00\x02\x01"
    as4_aggregator = b"\xc0\x12\x08\x00\x01\x11\x70\xc0\x00\x02\x01"
    v4 = CodecContext()
    as2 = CodecContext(four_octet_as=False)
    return [
        # Extended Length on short values, Partial on an optional transitive attribute.
        (
            v4,
            update(
                b"\x50\x01\x00\x01\x00" + as_path + next_hop + b"\xe0\x08\x04\0\0\0\1",
                b"\x18\x0a\x01\x02",
            ),
        ),
        # RFC 8950: IPv4 NLRI over an IPv6 next hop (global + link-local), SNPA octet set.
        (
            v4,
            update(
                b"\x80\x0e\x29\x00\x01\x01\x20"
                + bytes(range(32))
                + b"\x01\x18\x0a\x00\x01"
                + origin
                + as_path
            ),
        ),
        # MP_UNREACH_NLRI of an unparsed family and an End-of-RIB for IPv6.
        (v4, update(b"\x80\x0f\x05\x00\x19\x46\xaa\xbb")),
        (v4, update(b"\x80\x0f\x03\x00\x02\x01")),
        # A 2-octet-AS speaker's path and aggregator with their AS4 companions.
        (
            as2,
            update(
                origin + as2_path + next_hop + aggregator2 + as4_path + as4_aggregator,
                b"\x10\xc0\xa8",
            ),
        ),
        # RFC 9072 OPEN: extended optional parameters length.
        (
            v4,
            frame(
                1,
                b"\x04\xfd\xe8\x00\x5a\xc0\x00\x02\x01\xff\xff\x00\x0f"
                b"\x02\x00\x0c\x01\x04\x00\x01\x00\x01\x41\x04\x00\x00\xfd\xe8",
            ),
        ),
        # ROUTE-REFRESH with a subtype, NOTIFICATION with a shutdown communication.
        (v4, frame(5, b"\x00\x02\x01\x01")),
        (v4, frame(3, b"\x06\x02\x05hello")),
        (v4, frame(4, b"")),
    ]


class Corpus(list):
    """The seed messages, with a short repr: hypothesis prints a failing test's arguments,
    fixtures included."""

    def __repr__(self) -> str:
        return f"<corpus of {len(self)} encoded messages>"


_corpus_cache = Corpus()


def _corpus_messages(ctx: CodecContext) -> st.SearchStrategy:
    """Mostly UPDATEs and OPENs, whose parsers have the most to get wrong."""
    return st.one_of(
        S.updates(ctx), S.updates(ctx), S.updates(ctx), S.opens(), S.opens(), S.messages(ctx)
    )


def build_corpus() -> Sequence[tuple[CodecContext, bytes]]:
    """Encoded messages of every type under every context, generated once by the
    strategies with a fixed seed, plus ``_handmade()``."""
    if _corpus_cache:
        return _corpus_cache
    seeds: dict[tuple[CodecContext, bytes], None] = {}

    @settings(
        max_examples=CORPUS_SIZE,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(S.contexts().flatmap(lambda c: st.tuples(st.just(c), _corpus_messages(c))))
    def collect(case: tuple[CodecContext, object]) -> None:
        ctx, message = case
        seeds[ctx, encode_message(message, ctx)] = None  # type: ignore[arg-type]

    collect()
    seeds.update(dict.fromkeys(_handmade()))
    _corpus_cache.extend(seeds)
    return _corpus_cache


@pytest.fixture(scope="module")
def corpus() -> Sequence[tuple[CodecContext, bytes]]:
    return build_corpus()


# --- mutations ----------------------------------------------------------------------------

POSITIONS = st.integers(0, 1 << 16)
INTERESTING_BYTES = st.sampled_from(
    (
        0x00,
        0x01,
        0x02,
        0x03,
        0x04,
        0x0F,
        0x10,
        0x1F,
        0x20,
        0x40,
        0x50,
        0x7F,
        0x80,
        0x90,
        0xC0,
        0xD0,
        0xE0,
        0xF0,
        0xFE,
        0xFF,
    )
)
INTERESTING_U16 = st.one_of(
    st.integers(0, 300),
    st.sampled_from((0xFFFF, 0xFFFE, 0x8000, 0x7FFF, 4096, 4077, 4095, 4097, 65535 - 19)),
    st.integers(0, 0xFFFF),
)

IN_PLACE = st.one_of(
    st.tuples(st.just("flip"), POSITIONS, st.integers(1, 255)),
    st.tuples(st.just("set"), POSITIONS, INTERESTING_BYTES),
    st.tuples(st.just("add"), POSITIONS, st.integers(-3, 3)),
    st.tuples(st.just("u16"), POSITIONS, INTERESTING_U16),
)
MUTATIONS = st.one_of(
    IN_PLACE,
    IN_PLACE,
    st.tuples(st.just("insert"), POSITIONS, st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("delete"), POSITIONS, st.integers(1, 16)),
    st.tuples(st.just("truncate"), POSITIONS),
    st.tuples(st.just("splice"), POSITIONS, st.integers(0, 1 << 16), POSITIONS, st.integers(1, 64)),
)


def mutate(
    data: bytes,
    ops: Sequence[tuple],
    fix_header: bool,
    corpus: Sequence[tuple[CodecContext, bytes]],
    repair: bool = False,
) -> bytes:
    out = bytearray(data)
    for op in ops:
        kind, pos = op[0], op[1]
        if pos & 7 and len(out) > 19:  # 7 in 8 land in the body, past the header
            pos = 19 + (pos >> 3) % (len(out) - 18)
        else:
            pos = (pos >> 3) % (len(out) + 1)
        if kind == "flip" and pos < len(out):
            out[pos] ^= op[2]
        elif kind == "set" and pos < len(out):
            out[pos] = op[2]
        elif kind == "add" and pos < len(out):
            out[pos] = (out[pos] + op[2]) & 0xFF
        elif kind == "u16":
            out[pos : pos + 2] = struct.pack(">H", op[2])
        elif kind == "insert":
            out[pos:pos] = op[2]
        elif kind == "delete":
            del out[pos : pos + op[2]]
        elif kind == "truncate":
            del out[pos:]
        elif kind == "splice":
            other = corpus[op[2] % len(corpus)][1]
            start = op[3] % len(other)
            out[pos:pos] = other[start : start + op[4]]
    if fix_header and 19 <= len(out) <= 0xFFFF:
        out[:16] = MARKER
        out[16:18] = struct.pack(">H", len(out))
        if repair:
            repair_lengths(out)
    return bytes(out)


def repair_lengths(out: bytearray) -> None:
    """After an insertion or deletion, make the outer length fields of an UPDATE (Total
    Path Attribute Length) or an OPEN (Optional Parameters Length, RFC 9072 or not) agree
    with the message again, so the damage reaches the attribute and capability parsers."""
    n = len(out)
    if out[18] == 2 and n >= 23:
        a_at = 21 + int.from_bytes(out[19:21], "big")
        if a_at + 2 <= n and a_at + 2 + int.from_bytes(out[a_at : a_at + 2], "big") > n:
            out[a_at : a_at + 2] = struct.pack(">H", n - a_at - 2)
    elif out[18] == 1 and n >= 29:
        if out[28] == 255 and n >= 32 and out[29] == 255:
            out[30:32] = struct.pack(">H", n - 32)
        elif n - 29 <= 255:
            out[28] = n - 29


# A mutation plan: which corpus message, what to do to it, whether to repair the header
# (80%: the body parsers see the damage), and which context to decode with (80%: the one
# the message was encoded with). Plain data, so that drawing it is cheap and it does not
# depend on the corpus object (a fixture).
PLANS = st.tuples(
    st.integers(0, 1 << 20),
    st.lists(MUTATIONS, min_size=1, max_size=4),
    st.integers(0, 9),
    st.integers(0, 4),
    st.sampled_from(CONTEXTS),
)


def apply_plan(
    plan: tuple, corpus: Sequence[tuple[CodecContext, bytes]]
) -> tuple[CodecContext, bytes]:
    index, ops, fix, keep_ctx, other_ctx = plan
    seed_ctx, seed = corpus[index % len(corpus)]
    message = mutate(seed, ops, fix < 8, corpus, repair=fix < 5)
    return (seed_ctx if keep_ctx else other_ctx), message


# --- the tests ----------------------------------------------------------------------------


@pytest.mark.slow
@settings(max_examples=100_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=PLANS)
def test_mutated_messages_slow(corpus: Sequence[tuple[CodecContext, bytes]], plan: tuple) -> None:
    ctx, message = apply_plan(plan, corpus)
    check_decode(message, ctx)


@FAST
@given(plan=PLANS)
def test_mutated_messages(corpus: Sequence[tuple[CodecContext, bytes]], plan: tuple) -> None:
    ctx, message = apply_plan(plan, corpus)
    check_decode(message, ctx)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(S.contexts_and_messages(), st.lists(MUTATIONS, min_size=1, max_size=4), st.booleans())
def test_mutated_fresh_messages(
    corpus: Sequence[tuple[CodecContext, bytes]],
    case: tuple[CodecContext, object],
    ops: list[tuple],
    fix_header: bool,
) -> None:
    """The same, from messages hypothesis builds afresh (slower, but shrinks to a message)."""
    ctx, message = case
    check_decode(mutate(encode_message(message, ctx), ops, fix_header, corpus), ctx)  # type: ignore[arg-type]


@FAST
@given(st.binary(max_size=200), st.sampled_from(CONTEXTS))
def test_arbitrary_bytes(data: bytes, ctx: CodecContext) -> None:
    check_decode(data, ctx)


@FAST
@given(
    st.one_of(st.integers(1, 5), st.integers(0, 255)),
    st.binary(max_size=300),
    st.sampled_from(CONTEXTS),
)
def test_arbitrary_bodies(msg_type: int, body: bytes, ctx: CodecContext) -> None:
    """A valid header in front of random octets: the body parsers, not the header check."""
    check_decode(MARKER + struct.pack(">HB", 19 + len(body), msg_type) + body, ctx)


@FAST
@example(msg_type=5, length=4096)  # ROUTE-REFRESH: the NOTIFICATION data is the message
@example(msg_type=3, length=4096)
@example(msg_type=2, length=4096)
@given(st.sampled_from((1, 2, 3, 4, 5)), st.integers(19, 4096))
def test_long_messages_of_zeros(msg_type: int, length: int) -> None:
    """Every type at every length up to 4096, body all zero: each error's NOTIFICATION
    must still fit in 4096 octets."""
    check_decode(MARKER + struct.pack(">HB", length, msg_type) + bytes(length - 19), CodecContext())


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(plans=st.lists(PLANS, min_size=1, max_size=4), cuts=st.lists(POSITIONS, max_size=12))
def test_reader_on_mutated_streams(
    corpus: Sequence[tuple[CodecContext, bytes]], plans: list[tuple], cuts: list[int]
) -> None:
    """``MessageReader`` on a stream of damaged messages, fed in chunks: it hands out
    whole messages of the length their header says, or raises a ``MessageHeaderError``
    (after which the stream is unusable, RFC 4271 §6.1)."""
    pieces = [apply_plan(plan, corpus) for plan in plans]
    ctx = pieces[0][0]
    stream = b"".join(p[1] for p in pieces)
    points = sorted({0, len(stream), *(c % (len(stream) + 1) for c in cuts)})
    reader = MessageReader(ctx)
    taken = 0
    try:
        for a, b in itertools.pairwise(points):
            reader.feed(stream[a:b])
            while (item := reader.next_message()) is not None:
                msg_type, message = item
                assert message == stream[taken : taken + len(message)]
                assert int.from_bytes(message[16:18], "big") == len(message)
                assert msg_type == message[18]
                assert len(message) <= ctx.max_message_len
                taken += len(message)
                check_decode(message, ctx)
    except MessageHeaderError as exc:
        check_error(exc, ctx)
        return
    assert reader.buffered == len(stream) - taken


@settings(
    max_examples=2_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(plan=PLANS)
def test_decoded_messages_reencode(
    corpus: Sequence[tuple[CodecContext, bytes]], plan: tuple
) -> None:
    """Whatever the decoder accepts (on a 4-octet-AS session) is a value the encoder can
    write, and writing it is canonical: it decodes to the same value. (On 2-octet-AS
    sessions the AS4_PATH merge is lossy by design, RFC 6793 §4.2.3.)"""
    ctx, message = apply_plan(plan, corpus)
    ctx = CodecContext(True, ctx.extended_message, ctx.mp_attributes_first)
    decoded = check_decode(message, ctx)
    if decoded is None:
        return
    wire = encode_message(decoded, ctx)  # type: ignore[arg-type]
    assert decode_message(wire, ctx) == decoded
    assert encode_message(decode_message(wire, ctx), ctx) == wire


def test_unknown_attributes_out_of_order_decode_canonically() -> None:
    """Regression: optional attributes of types 12 then 0 on the wire. The encoder sorts
    ``other`` by type code, so the decoder must too, or the decoded value is not the
    canonical one: re-encoding changes it, and two UPDATEs with the same attributes in
    another order give unequal ``PathAttributes`` (the RIB groups paths by them)."""
    attrs = b"\x80\x0c\x00\xc0\x00\x00"  # type 12 (optional), type 0 (optional transitive)
    body = b"\0\0" + struct.pack(">H", len(attrs)) + attrs
    data = MARKER + struct.pack(">HB", 19 + len(body), 2) + body
    decoded = check_decode(data, CodecContext())
    assert [a.type_code for a in decoded.attributes.other] == [0, 12]
    assert decode_message(encode_message(decoded)) == decoded


# --- RFC 6793 §4.2.3: merging a 2-octet speaker's AS4_PATH and AS4_AGGREGATOR -------------


def _attr(flags: int, code: int, value: bytes) -> bytes:
    if len(value) > 255:
        return bytes((flags | 0x10, code)) + struct.pack(">H", len(value)) + value
    return bytes((flags, code, len(value))) + value


def _segments_value(segments: Sequence[AsPathSegment], width: int) -> bytes:
    out = b""
    for kind, asns in segments:
        out += bytes((kind, len(asns))) + b"".join(a.to_bytes(width, "big") for a in asns)
    return out


_SEGMENTS_2 = st.lists(
    st.builds(
        AsPathSegment,
        st.sampled_from((1, 2, 2, 2, 3, 4)),
        st.lists(S.ASNS_2 | st.just(AS_TRANS), min_size=1, max_size=6).map(tuple),
    ),
    max_size=4,
)
_SEGMENTS_4 = st.lists(
    st.builds(
        AsPathSegment,
        st.sampled_from((1, 2, 2, 2, 3, 4)),
        st.lists(st.integers(0, 0xFFFFFFFF), min_size=1, max_size=6).map(tuple),
    ),
    max_size=4,
)


@settings(
    max_examples=1_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@example(  # AS4_AGGREGATOR carrying AS 0 (RFC 7607 §2: malformed, so discarded)
    as_path=[AsPathSegment(2, (AS_TRANS,))],
    as4_path=None,
    aggregator=AS_TRANS,
    as4_aggregator=bytes(4) + bytes((192, 0, 2, 1)),
)
@given(
    as_path=_SEGMENTS_2,
    as4_path=st.none() | _SEGMENTS_4.map(lambda s: _segments_value(s, 4)) | st.binary(max_size=20),
    aggregator=st.none() | st.sampled_from((AS_TRANS, 1, 65535)) | S.ASNS_2,
    as4_aggregator=st.none() | st.binary(min_size=8, max_size=8) | st.binary(max_size=10),
)
def test_as4_merge(
    as_path: list[AsPathSegment],
    as4_path: bytes | None,
    aggregator: int | None,
    as4_aggregator: bytes | None,
) -> None:
    """A 2-octet-AS session's AS_PATH / AGGREGATOR with arbitrary AS4_PATH /
    AS4_AGGREGATOR: decoding raises only ``BgpError``, and when it succeeds the merged
    path follows RFC 6793 §4.2.3: AS4_PATH replaces the tail of AS_PATH when it is
    well-formed, free of confederation segments and AS 0, and no longer than AS_PATH, and
    the AGGREGATOR is not a 2-octet AS other than AS_TRANS; the path length is AS_PATH's."""
    ctx = CodecContext(four_octet_as=False)
    attrs = b"\x40\x01\x01\x00" + _attr(0x40, 2, _segments_value(as_path, 2))
    attrs += b"\x40\x03\x04\x0a\x00\x00\x01"
    if aggregator is not None:
        attrs += _attr(0xC0, 7, aggregator.to_bytes(2, "big") + b"\xc0\x00\x02\x01")
    if as4_path is not None:
        attrs += _attr(0xC0, 17, as4_path)
    if as4_aggregator is not None:
        attrs += _attr(0xC0, 18, as4_aggregator)
    body = b"\0\0" + struct.pack(">H", len(attrs)) + attrs + b"\x18\x0a\x00\x01"
    data = MARKER + struct.pack(">HB", 19 + len(body), 2) + body
    decoded = check_decode(data, ctx)
    if decoded is None:
        return
    path = decoded.attributes.as_path
    plain = AsPath(S.canonical_segments(as_path))
    assert path.length == plain.length
    as4 = _parse_as4_path(as4_path)
    agg_blocks = (
        aggregator is not None
        and as4_aggregator is not None
        and len(as4_aggregator) == 8
        and aggregator != AS_TRANS
    )
    if as4 is None or agg_blocks or AsPath(tuple(as4)).length > plain.length:
        assert path == plain
    else:
        flat = list(path.asns())
        tail = [a for seg in as4 for a in seg.asns]
        assert flat[len(flat) - len(tail) :] == tail


def _parse_as4_path(value: bytes | None) -> list[AsPathSegment] | None:
    """An independent reading of AS4_PATH: None unless well-formed, without AS 0 and
    without confederation segments (RFC 6793 §6, RFC 7607 §2)."""
    if value is None:
        return None
    out, i = [], 0
    while i < len(value):
        if len(value) - i < 2 or value[i] not in (1, 2) or value[i + 1] == 0:
            return None
        n = value[i + 1]
        if i + 2 + 4 * n > len(value):
            return None
        asns = struct.unpack(">%dI" % n, value[i + 2 : i + 2 + 4 * n])
        if 0 in asns:
            return None
        out.append(AsPathSegment(value[i], asns))
        i += 2 + 4 * n
    return out
