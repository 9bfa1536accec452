"""Hypothesis strategies for the BGP wire codec, every value in canonical form.

Canonical (see ``speakers/wire/attributes.py``): whatever ``encode_message`` writes and
``decode_message`` gives back unchanged. So, beyond mere validity:

- prefixes have their host bits zero;
- an ``AsPath`` never has two adjacent sequences of one kind (the decoder merges them),
  sets hold at most 255 ASNs (the encoder refuses more), sequences may hold more (the
  encoder splits them), and ASNs are 1..2**32-1 (AS 0 is malformed, RFC 7607);
- ``other`` holds optional attributes of type codes no typed field or MP attribute claims,
  unique and sorted by type code, their flags among 0x80, 0xC0, 0xE0;
- an UPDATE announcing anything carries the attributes RFC 4271 §6.3 makes mandatory
  (else the decoder raises treat-as-withdraw), and its NEXT_HOP is a unicast address.

With ``four_octet_as=False`` the encoder sends AS_TRANS plus AS4_PATH / AS4_AGGREGATOR and
the decoder merges them back (RFC 6793 §4.2), which is lossless only for paths without
confederation segments (§4.2.2 leaves them out of AS4_PATH) and with no raw attribute of
type 17 or 18 competing with the ones the encoder writes: ``as2_compatible`` gives those.
"""

from __future__ import annotations

import ipaddress
import math
import struct
from collections.abc import Sequence
from dataclasses import replace

from hypothesis import assume
from hypothesis import strategies as st

from speakers.wire import (
    AS_TRANS,
    Aggregator,
    AsPath,
    AsPathSegment,
    CapabilitiesParameter,
    CodecContext,
    EncodeError,
    EnhancedRouteRefreshCapability,
    ExtendedCommunity,
    ExtendedMessageCapability,
    FourOctetAsCapability,
    GracefulRestartCapability,
    GracefulRestartFamily,
    Keepalive,
    LinkBandwidth,
    MpReachNlri,
    MpUnreachNlri,
    MultiprotocolCapability,
    Notification,
    Open,
    Origin,
    PathAttributes,
    Prefix,
    RawAttribute,
    RouteRefresh,
    RouteRefreshCapability,
    UnknownCapability,
    Update,
    encode_message,
)

IPv4Address = ipaddress.IPv4Address
IPv6Address = ipaddress.IPv6Address

U8 = st.integers(0, 0xFF)
U16 = st.integers(0, 0xFFFF)
U32 = st.integers(0, 0xFFFFFFFF)
ASNS = st.integers(1, 0xFFFFFFFF)
ASNS_2 = st.integers(1, 0xFFFF)

# Type codes the typed fields of PathAttributes and the MP attributes claim.
TYPED_CODES = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16})
AS4_CODES = frozenset({17, 18})  # AS4_PATH, AS4_AGGREGATOR
# AS4_PATH and AS4_AGGREGATOR are never kept raw: merged into AS_PATH and AGGREGATOR on a
# 2-octet session, discarded on a 4-octet one (RFC 6793 §4.1, §6), derived when encoding.
RAW_CODES = tuple(c for c in range(256) if c not in TYPED_CODES and c not in AS4_CODES)
RAW_CODES_AS2 = RAW_CODES
RAW_FLAGS = (0x80, 0xC0, 0xE0)
# Capability codes capabilities.py types; any other is an UnknownCapability.
TYPED_CAPABILITY_CODES = frozenset({1, 2, 6, 64, 65, 70})
# (AFI, SAFI) pairs update.py parses; any other MP family is kept raw.
PARSED_FAMILIES = frozenset({(1, 1), (1, 2), (2, 1), (2, 2)})


def contexts() -> st.SearchStrategy[CodecContext]:
    return st.builds(CodecContext, st.booleans(), st.booleans(), st.booleans())


# --- prefixes and addresses ---------------------------------------------------------------


def make_prefix(address: int, length: int, width: int) -> Prefix:
    """The prefix of ``address`` (an int of ``width`` bits) of ``length``, host bits zeroed."""
    mask = ((1 << width) - 1) ^ ((1 << (width - length)) - 1)
    return Prefix((address & mask).to_bytes(width // 8, "big"), length)


def _lengths(width: int) -> st.SearchStrategy[int]:
    # Every length, with the boundaries and the common ones drawn often.
    common = (0, 8, 16, 24, width) if width == 32 else (0, 32, 48, 64, 127, width)
    return st.one_of(st.integers(0, width), st.sampled_from(common))


def ipv4_prefixes() -> st.SearchStrategy[Prefix]:
    return st.builds(make_prefix, U32, _lengths(32), st.just(32))


def ipv6_prefixes() -> st.SearchStrategy[Prefix]:
    return st.builds(make_prefix, st.integers(0, (1 << 128) - 1), _lengths(128), st.just(128))


def prefixes() -> st.SearchStrategy[Prefix]:
    return st.one_of(ipv4_prefixes(), ipv6_prefixes())


def ipv4_addresses() -> st.SearchStrategy[IPv4Address]:
    return st.builds(IPv4Address, U32)


def unicast_next_hops() -> st.SearchStrategy[IPv4Address]:
    """What the decoder accepts as NEXT_HOP (RFC 4271 §6.3): not 0.0.0.0, not
    255.255.255.255, not class D."""
    return st.builds(IPv4Address, st.integers(1, 0xFFFFFFFE)).filter(
        lambda a: not 224 <= a.packed[0] <= 239
    )


def ipv6_addresses() -> st.SearchStrategy[IPv6Address]:
    return st.builds(IPv6Address, st.integers(0, (1 << 128) - 1))


# --- AS_PATH ------------------------------------------------------------------------------


def canonical_segments(segments: Sequence[AsPathSegment]) -> tuple[AsPathSegment, ...]:
    """Adjacent sequences of one kind merged (written here, not imported, so the tests do
    not trust the decoder's own merge)."""
    out: list[AsPathSegment] = []
    for seg in segments:
        if out and seg.kind in (2, 3) and out[-1].kind == seg.kind:
            out[-1] = AsPathSegment(seg.kind, out[-1].asns + seg.asns)
        else:
            out.append(seg)
    return tuple(out)


def _long_run(first: int, count: int, step: int) -> tuple[int, ...]:
    return tuple((first - 1 + i * step) % 0xFFFFFFFF + 1 for i in range(count))


def _asn_tuples(asns: st.SearchStrategy[int], max_size: int) -> st.SearchStrategy[tuple]:
    return st.lists(asns, min_size=1, max_size=max_size).map(tuple)


def as_path_segments(
    asns: st.SearchStrategy[int] = ASNS,
    kinds: Sequence[int] = (1, 2, 3, 4),
    allow_as_trans: bool = True,
) -> st.SearchStrategy[AsPathSegment]:
    short = _asn_tuples(asns, 8)
    full_set = _asn_tuples(asns, 255)
    sets = [k for k in kinds if k in (1, 4)]
    seqs = [k for k in kinds if k in (2, 3)]
    options = []
    if sets:
        options.append(st.builds(AsPathSegment, st.sampled_from(sets), st.one_of(short, full_set)))
    if seqs:
        # Long sequences (over 255 ASNs, split on encode) are built arithmetically: drawing
        # hundreds of integers one by one would make every example slow.
        long = st.builds(_long_run, asns, st.integers(200, 700), asns)
        if not allow_as_trans:
            long = long.filter(lambda t: AS_TRANS not in t)
        options.append(
            st.builds(AsPathSegment, st.sampled_from(seqs), st.one_of(short, short, short, long))
        )
    return st.one_of(options)


def as_paths(
    asns: st.SearchStrategy[int] = ASNS,
    kinds: Sequence[int] = (1, 2, 3, 4),
    max_segments: int = 5,
    allow_as_trans: bool = True,
) -> st.SearchStrategy[AsPath]:
    segs = st.lists(as_path_segments(asns, kinds, allow_as_trans), max_size=max_segments)
    return segs.map(lambda s: AsPath(canonical_segments(s)))


# --- path attributes ----------------------------------------------------------------------

# binary32 bit patterns the RFC 10005 §4 rules distinguish.
SPECIAL_FLOAT_BITS = (
    0x00000000,  # +0
    0x80000000,  # -0
    0x00000001,  # smallest subnormal
    0x3F800000,  # 1.0
    0xBF800000,  # -1.0 (negative: ignored)
    0x7F7FFFFF,  # largest finite
    0xFF7FFFFF,  # most negative finite
    0x7F800000,  # +inf
    0xFF800000,  # -inf
    0x7FC00000,  # quiet NaN
    0x7F800001,  # signalling NaN
    0xFFC00001,  # negative NaN with payload
    0xFFFFFFFF,
    0x51BA43B7,  # 1e11 B/s: 800 Gb/s
)


def float32_bits(value: float) -> int:
    return struct.unpack(">I", struct.pack(">f", value))[0]


def float_bits() -> st.SearchStrategy[int]:
    return st.one_of(
        U32,
        st.sampled_from(SPECIAL_FLOAT_BITS),
        st.floats(width=32, allow_nan=False).map(float32_bits),
        st.floats(0, 1e20).map(float32_bits),
    )


def link_bandwidths() -> st.SearchStrategy[LinkBandwidth]:
    return st.builds(LinkBandwidth, float_bits(), U16, st.booleans())


def _is_link_bandwidth(raw: bytes) -> bool:
    return raw[1] == 0x04 and raw[0] in (0x00, 0x40)


def generic_ext_communities() -> st.SearchStrategy[ExtendedCommunity]:
    """Any 8 octets but a link bandwidth (which the decoder types): neighbours of it too."""
    near = st.builds(
        lambda t, s, rest: bytes((t, s)) + rest,
        st.sampled_from((0x00, 0x40, 0x01, 0x41, 0x80, 0x03)),
        st.sampled_from((0x02, 0x03, 0x04, 0x05)),
        st.binary(min_size=6, max_size=6),
    )
    raw = st.one_of(st.binary(min_size=8, max_size=8), near)
    return raw.filter(lambda r: not _is_link_bandwidth(r)).map(ExtendedCommunity)


def ext_communities() -> st.SearchStrategy[tuple]:
    one = st.one_of(link_bandwidths(), generic_ext_communities())
    return st.lists(one, max_size=6).map(tuple)


def raw_attributes(codes: Sequence[int] = RAW_CODES) -> st.SearchStrategy[tuple]:
    """Unique, sorted ``other`` attributes; some values over 255 octets (Extended Length)."""
    value = st.one_of(
        st.binary(max_size=12), st.binary(max_size=60), st.binary(min_size=250, max_size=300)
    )
    one = st.builds(RawAttribute, st.sampled_from(RAW_FLAGS), st.sampled_from(codes), value)
    unique = st.lists(one, max_size=4, unique_by=lambda a: a.type_code)
    return unique.map(lambda attrs: tuple(sorted(attrs, key=lambda a: a.type_code)))


def _maybe(strategy: st.SearchStrategy, required: bool) -> st.SearchStrategy:
    return strategy if required else st.none() | strategy


@st.composite
def path_attributes(
    draw: st.DrawFn,
    *,
    as2_compatible: bool = False,
    allow_as_trans: bool = True,
    need_origin_as_path: bool = False,
    need_next_hop: bool = False,
    allow_next_hop: bool = True,
) -> PathAttributes:
    """Every field optional unless required. ``as2_compatible``: round-trips through a
    2-octet-AS session (module docstring); ``allow_as_trans``: may AS_TRANS itself appear
    in the AS_PATH and AGGREGATOR."""
    asns = ASNS if allow_as_trans else ASNS.filter(lambda a: a != AS_TRANS)
    if as2_compatible:
        path = as_paths(asns, kinds=(1, 2), allow_as_trans=allow_as_trans)
        codes = RAW_CODES_AS2
    else:
        path = as_paths(asns, allow_as_trans=allow_as_trans)
        codes = RAW_CODES
    next_hop = None
    if need_next_hop:
        next_hop = draw(unicast_next_hops())
    elif allow_next_hop:
        next_hop = draw(st.none() | unicast_next_hops())
    return PathAttributes(
        origin=draw(_maybe(st.sampled_from(Origin), need_origin_as_path)),
        as_path=draw(_maybe(path, need_origin_as_path)),
        next_hop=next_hop,
        med=draw(st.none() | U32),
        local_pref=draw(st.none() | U32),
        atomic_aggregate=draw(st.booleans()),
        aggregator=draw(st.none() | st.builds(Aggregator, asns, ipv4_addresses())),
        communities=tuple(draw(st.lists(U32, max_size=8))),
        ext_communities=draw(ext_communities()),
        other=draw(raw_attributes(codes)),
    )


# --- UPDATE -------------------------------------------------------------------------------

_SAFIS = st.sampled_from((1, 2))


def _prefix_tuples(prefix: st.SearchStrategy[Prefix], max_size: int) -> st.SearchStrategy:
    return st.lists(prefix, max_size=max_size).map(tuple)


def _unparsed_family() -> st.SearchStrategy[tuple[int, int]]:
    return st.tuples(U16, U8).filter(lambda f: f not in PARSED_FAMILIES)


def mp_reach_nlri() -> st.SearchStrategy[MpReachNlri]:
    """IPv6 (global, optional link-local), IPv4 with an IPv4 next hop, or an unparsed
    family kept raw (at least next-hop length and reserved octet: RFC 7606 §5.3)."""
    v6 = st.builds(
        MpReachNlri,
        st.just(2),
        _SAFIS,
        ipv6_addresses(),
        _prefix_tuples(ipv6_prefixes(), 20),
        st.none() | ipv6_addresses(),
    )
    v4 = st.builds(
        MpReachNlri, st.just(1), _SAFIS, ipv4_addresses(), _prefix_tuples(ipv4_prefixes(), 20)
    )
    raw = _unparsed_family().flatmap(
        lambda f: st.builds(
            MpReachNlri, st.just(f[0]), st.just(f[1]), raw=st.binary(min_size=2, max_size=40)
        )
    )
    return st.one_of(v6, v6, v4, raw)


def mp_unreach_nlri() -> st.SearchStrategy[MpUnreachNlri]:
    v6 = st.builds(MpUnreachNlri, st.just(2), _SAFIS, _prefix_tuples(ipv6_prefixes(), 20))
    v4 = st.builds(MpUnreachNlri, st.just(1), _SAFIS, _prefix_tuples(ipv4_prefixes(), 20))
    raw = _unparsed_family().flatmap(
        lambda f: st.builds(MpUnreachNlri, st.just(f[0]), st.just(f[1]), raw=st.binary(max_size=40))
    )
    return st.one_of(v6, v6, v4, raw)


def fits(message: object, ctx: CodecContext) -> bool:
    try:
        encode_message(message, ctx)  # type: ignore[arg-type]
    except EncodeError:
        return False
    return True


@st.composite
def updates(
    draw: st.DrawFn, ctx: CodecContext | None = None, *, allow_as_trans: bool = True
) -> Update:
    """A canonical UPDATE that encodes under ``ctx`` (default: 4-octet AS, 4096 octets);
    with ``ctx.four_octet_as`` False, one that survives the AS4_PATH round trip."""
    ctx = ctx or CodecContext()
    big = ctx.extended_message
    withdrawn = draw(_prefix_tuples(ipv4_prefixes(), 200 if big else 30))
    nlri = draw(_prefix_tuples(ipv4_prefixes(), 200 if big else 30))
    mp_reach = draw(st.none() | mp_reach_nlri())
    mp_unreach = draw(st.none() | mp_unreach_nlri())
    announces_mp = mp_reach is not None and bool(mp_reach.nlri)
    attributes = draw(
        path_attributes(
            as2_compatible=not ctx.four_octet_as,
            allow_as_trans=allow_as_trans,
            need_origin_as_path=bool(nlri) or announces_mp,
            need_next_hop=bool(nlri),
        )
    )
    update = Update(withdrawn, attributes, nlri, mp_reach, mp_unreach)
    assume(fits(update, ctx))
    return update


def end_of_ribs() -> st.SearchStrategy[Update]:
    """RFC 4724 §2 End-of-RIB markers: the empty UPDATE, or an empty MP_UNREACH_NLRI."""
    return st.one_of(
        st.just(Update()),
        st.builds(
            lambda a, s: Update(mp_unreach=MpUnreachNlri(a, s)), st.sampled_from((1, 2)), _SAFIS
        ),
    )


# --- OPEN ---------------------------------------------------------------------------------


def capabilities() -> st.SearchStrategy:
    unknown_code = U8.filter(lambda c: c not in TYPED_CAPABILITY_CODES)
    unknown_value = st.one_of(st.binary(max_size=8), st.binary(max_size=255))
    return st.one_of(
        st.builds(MultiprotocolCapability, U16, U8),
        st.builds(MultiprotocolCapability, st.sampled_from((1, 2)), _SAFIS),
        st.just(RouteRefreshCapability()),
        st.just(EnhancedRouteRefreshCapability()),
        st.just(ExtendedMessageCapability()),
        st.builds(FourOctetAsCapability, ASNS),
        st.builds(
            GracefulRestartCapability,
            st.integers(0, 4095),
            st.lists(st.builds(GracefulRestartFamily, U16, U8, st.booleans()), max_size=8).map(
                tuple
            ),
            st.booleans(),
            st.booleans(),
        ),
        st.builds(UnknownCapability, unknown_code, unknown_value),
    )


def _cap_len(cap: object) -> int:
    return 2 + len(cap.encode_value())  # type: ignore[attr-defined]


def _param_len(param: CapabilitiesParameter) -> int:
    return sum(_cap_len(c) for c in param.capabilities)


@st.composite
def opens(draw: st.DrawFn, *, max_parameter_len: int | None = None) -> Open:
    """OPENs grouping capabilities one per parameter, several per parameter, or a mix;
    about a quarter with more than 255 octets of parameters (RFC 9072 extended format,
    where a single parameter may exceed 255 octets too), all within 4096 octets.
    ``max_parameter_len`` bounds each Capabilities parameter's value."""
    caps = st.lists(capabilities(), max_size=40)
    grouping = draw(st.sampled_from(("one-per-parameter", "one-parameter", "mixed", "long")))
    if grouping == "one-per-parameter":
        params = [CapabilitiesParameter((c,)) for c in draw(caps)]
    elif grouping == "one-parameter":
        params = [CapabilitiesParameter(tuple(draw(caps)))]
    elif grouping == "mixed":
        groups = draw(st.lists(st.lists(capabilities(), max_size=8), max_size=12))
        params = [CapabilitiesParameter(tuple(g)) for g in groups]
    else:
        # Many families (built, not drawn one by one), grouped either way, plus a few more.
        count = draw(st.integers(30, 300))
        many = [MultiprotocolCapability(1 + i % 2, i // 2 % 256) for i in range(count)]
        many += draw(st.lists(capabilities(), max_size=4))
        if draw(st.booleans()):
            params = [CapabilitiesParameter((c,)) for c in many]
        else:
            cut = draw(st.integers(0, len(many)))
            params = [
                CapabilitiesParameter(tuple(many[:cut])),
                CapabilitiesParameter(tuple(many[cut:])),
            ]
    if max_parameter_len is not None:
        assume(all(_param_len(p) <= max_parameter_len for p in params))
    message = Open(
        my_as=draw(ASNS_2),
        hold_time_s=draw(st.one_of(st.just(0), st.integers(3, 0xFFFF), st.sampled_from((3, 90)))),
        bgp_identifier=draw(st.builds(IPv4Address, st.integers(1, 0xFFFFFFFF))),
        parameters=tuple(params),
    )
    # An OPEN never exceeds 4096 octets (RFC 8654 §4), whatever the context.
    assume(10 + 3 + sum(3 + _param_len(p) for p in params) + 19 <= 4096)
    return message


def built_opens() -> st.SearchStrategy[Open]:
    """What ``Open.build`` makes (a speaker's own OPEN)."""
    return st.builds(
        Open.build,
        ASNS,
        st.sampled_from((0, 3, 90, 180, 0xFFFF)),
        st.builds(IPv4Address, st.integers(1, 0xFFFFFFFF)),
        st.lists(capabilities(), max_size=6).map(tuple),
        one_per_parameter=st.booleans(),
    )


# --- NOTIFICATION, KEEPALIVE, ROUTE-REFRESH -----------------------------------------------


def notifications(ctx: CodecContext | None = None) -> st.SearchStrategy[Notification]:
    ctx = ctx or CodecContext()
    room = ctx.max_message_len - 21
    data = st.one_of(st.binary(max_size=32), st.binary(max_size=min(room, 4096)))
    reason = st.text(max_size=80).filter(lambda t: len(t.encode()) <= 255)
    return st.one_of(
        st.builds(Notification, U8, U8, data),
        st.builds(Notification, st.integers(1, 7), st.integers(0, 11), st.binary(max_size=8)),
        st.builds(Notification.shutdown, reason, st.sampled_from((2, 4))),
    )


def keepalives() -> st.SearchStrategy[Keepalive]:
    return st.just(Keepalive())


def route_refreshes() -> st.SearchStrategy[RouteRefresh]:
    return st.one_of(
        st.builds(RouteRefresh, U16, U8, U8),
        st.builds(RouteRefresh, st.sampled_from((1, 2)), _SAFIS, st.sampled_from((0, 1, 2))),
    )


# --- every message ------------------------------------------------------------------------


def messages(ctx: CodecContext | None = None) -> st.SearchStrategy:
    """Any message that encodes under ``ctx`` and decodes back equal."""
    ctx = ctx or CodecContext()
    return st.one_of(
        updates(ctx),
        end_of_ribs(),
        opens(),
        built_opens(),
        notifications(ctx),
        keepalives(),
        route_refreshes(),
    )


def contexts_and_messages() -> st.SearchStrategy[tuple[CodecContext, object]]:
    return contexts().flatmap(lambda ctx: st.tuples(st.just(ctx), messages(ctx)))


# --- link bandwidth helpers shared by the tests -------------------------------------------


def bits_to_float(bits: int) -> float:
    return struct.unpack(">f", struct.pack(">I", bits))[0]


def usable_bytes_per_s(community: object) -> float | None:
    """An independent reading of RFC 10005 §4 plus bagemu's NaN/inf policy."""
    if not isinstance(community, LinkBandwidth):
        return None
    value = bits_to_float(community.value_bits)
    if math.isnan(value) or math.isinf(value) or value < 0:
        return None
    return abs(value)  # -0.0 is a zero


def without_next_hop(attrs: PathAttributes) -> PathAttributes:
    return replace(attrs, next_hop=None)
