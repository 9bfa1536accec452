"""Unit tests of codec behaviour that the property, interop and malformed tables do not pin:
RFC 6793 AS_TRANS / AS4_PATH, RFC 9072 long OPENs, RFC 9003 shutdown text, RFC 10005 values
at the scale of BAG links, packing counts, and the stream reader."""

from __future__ import annotations

import ipaddress
import math
import struct
from dataclasses import replace

import pytest

from speakers.wire import (
    AS_TRANS,
    Aggregator,
    AsPath,
    AsPathSegment,
    CodecContext,
    EncodeError,
    ErrorAction,
    Keepalive,
    LinkBandwidth,
    MessageHeaderError,
    MessageReader,
    MpReachNlri,
    MultiprotocolCapability,
    Notification,
    Open,
    Origin,
    PathAttributes,
    Prefix,
    RawAttribute,
    SegmentType,
    UnknownCapability,
    Update,
    UpdateMessageError,
    community_str,
    decode_message,
    encode_message,
    pack_announce,
    pack_withdraw,
    parse_community,
    update_decoder,
    update_memo,
)
from speakers.wire.constants import MAX_MESSAGE_LEN

IPv4 = ipaddress.IPv4Address
IPv6 = ipaddress.IPv6Address
TWO_OCTET = CodecContext(four_octet_as=False)


def _update(attrs: PathAttributes, *prefixes: str) -> Update:
    return Update(attributes=attrs, nlri=tuple(Prefix.parse(p) for p in prefixes))


BASE = PathAttributes(origin=Origin.IGP, as_path=AsPath.sequence(65001), next_hop=IPv4("10.0.0.1"))


# --- RFC 6793 ----------------------------------------------------------------------------


def test_open_build_puts_as_trans_in_my_as_for_a_4_octet_asn() -> None:
    msg = Open.build(4_200_000_001, 90, "192.0.2.1", (MultiprotocolCapability(1, 1),))
    assert msg.my_as == AS_TRANS
    assert msg.asn == 4_200_000_001
    wire = encode_message(msg)
    assert wire[20:22] == struct.pack(">H", AS_TRANS)  # My AS field after version
    assert decode_message(wire).asn == 4_200_000_001


def test_open_build_keeps_a_2_octet_asn() -> None:
    msg = Open.build(65001, 90, "192.0.2.1")
    assert msg.my_as == 65001 and msg.asn == 65001
    assert msg.families == frozenset({(1, 1)})  # RFC 4760 §8: no MP capability -> IPv4 unicast


def test_two_octet_peer_gets_as_trans_and_as4_path_and_it_merges_back() -> None:
    path = AsPath(
        (
            AsPathSegment(SegmentType.AS_SEQUENCE, (65001, 4_200_000_001, 65002)),
            AsPathSegment(SegmentType.AS_SET, (4_200_000_002, 64512)),
        )
    )
    attrs = PathAttributes(
        origin=Origin.IGP,
        as_path=path,
        next_hop=IPv4("10.0.0.1"),
        aggregator=Aggregator(4_200_000_009, IPv4("10.9.9.9")),
    )
    update = _update(attrs, "10.1.0.0/16")
    wire = encode_message(update, TWO_OCTET)
    # On the wire, AS_PATH holds AS_TRANS where the ASN needs 4 octets ...
    as_path_at = wire.index(b"\x40\x02")
    assert struct.unpack_from(">3H", wire, as_path_at + 5) == (65001, AS_TRANS, 65002)
    # ... and AS4_PATH (17) and AS4_AGGREGATOR (18) carry the real values.
    assert b"\xc0\x11" in wire and b"\xc0\x12\x08" in wire
    assert decode_message(wire, TWO_OCTET) == update


def test_as4_path_longer_than_as_path_is_ignored() -> None:
    # RFC 6793 §4.2.3: AS4_PATH with more ASNs than AS_PATH is ignored.
    attrs = PathAttributes(
        origin=Origin.IGP,
        as_path=AsPath.sequence(65001),
        next_hop=IPv4("10.0.0.1"),
        other=(RawAttribute(0xC0, 17, bytes.fromhex("0202fa56ea01fa56ea02")),),
    )
    wire = encode_message(_update(attrs, "10.1.0.0/16"), TWO_OCTET)
    decoded = decode_message(wire, TWO_OCTET)
    assert isinstance(decoded, Update)
    assert decoded.attributes.as_path == AsPath.sequence(65001)
    assert decoded.attributes.other == ()


def test_as_sequence_over_255_is_split_and_merged_back() -> None:
    path = AsPath.sequence(*range(1, 301))
    update = _update(
        PathAttributes(origin=Origin.IGP, as_path=path, next_hop=IPv4("10.0.0.1")), "10.0.0.0/8"
    )
    wire = encode_message(update)
    at = wire.index(b"\x50\x02")  # AS_PATH with Extended Length: 2 + 255*4 + 2 + 45*4 > 255
    assert wire[at + 4 : at + 6] == bytes((2, 255))
    assert decode_message(wire) == update
    assert path.length == 300


def test_as_set_over_255_is_refused() -> None:
    path = AsPath((AsPathSegment(SegmentType.AS_SET, tuple(range(1, 300))),))
    with pytest.raises(EncodeError, match="cannot be split"):
        encode_message(_update(PathAttributes(origin=Origin.IGP, as_path=path), "10.0.0.0/8"))


def test_as_path_length_prepend_and_text() -> None:
    path = AsPath(
        (
            AsPathSegment(SegmentType.AS_CONFED_SEQUENCE, (1, 2)),
            AsPathSegment(SegmentType.AS_SEQUENCE, (65001, 65002)),
            AsPathSegment(SegmentType.AS_SET, (7, 8, 9)),
        )
    )
    assert path.length == 3  # confed segments 0, set 1 (RFC 4271 §9.1.2.2 a, RFC 5065)
    assert str(path) == "(1 2) 65001 65002 {7,8,9}"
    assert path.first_asn is None
    assert AsPath.sequence(65002).prepend(65001, 2) == AsPath.sequence(65001, 65001, 65002)
    assert AsPath().prepend(65001).first_asn == 65001


# --- OPEN --------------------------------------------------------------------------------


def test_open_with_parameters_over_255_octets_uses_rfc_9072() -> None:
    caps = tuple(UnknownCapability(200, bytes([i]) * 40) for i in range(8))  # 8 x 42 octets
    msg = Open.build(65001, 90, "192.0.2.1", caps)
    wire = encode_message(msg)
    assert wire[28] == 255 and wire[29] == 255  # Non-Ext OP Len, Non-Ext OP Type
    assert decode_message(wire) == msg


def test_open_keeps_capability_grouping() -> None:
    caps = (MultiprotocolCapability(1, 1), MultiprotocolCapability(2, 1))
    grouped = Open.build(65001, 90, "192.0.2.1", caps, one_per_parameter=False)
    split = Open.build(65001, 90, "192.0.2.1", caps)
    assert grouped.capabilities == split.capabilities
    assert encode_message(grouped) != encode_message(split)
    assert decode_message(encode_message(grouped)) == grouped


# --- NOTIFICATION ------------------------------------------------------------------------


def test_shutdown_communication_utf8_round_trip() -> None:
    note = Notification.shutdown("maintenance: BAG plane 3 drain ✓")
    back = decode_message(encode_message(note))
    assert isinstance(back, Notification)
    assert back.shutdown_communication == "maintenance: BAG plane 3 drain ✓"
    assert back.code_name == "Cease" and back.subcode_name == "Administrative Shutdown"


def test_shutdown_communication_too_long_is_refused() -> None:
    with pytest.raises(EncodeError, match="RFC 9003"):
        Notification.shutdown("x" * 256)


def test_malformed_shutdown_communication_is_kept_raw_not_echoed() -> None:
    note = Notification(6, 2, b"\x05abc")  # length octet says 5, 3 follow
    back = decode_message(encode_message(note))
    assert isinstance(back, Notification)
    assert back.shutdown_communication is None and back.data == b"\x05abc"
    assert Notification(6, 2, b"\x02\xff\xfe").shutdown_communication is None  # not UTF-8


def test_unknown_notification_codes_decode_with_placeholder_names() -> None:
    back = decode_message(encode_message(Notification(42, 7, b"x")))
    assert isinstance(back, Notification)
    assert (back.code_name, back.subcode_name) == ("Unknown(42)", "Unknown(7)")


# --- RFC 10005 at BAG scale --------------------------------------------------------------


@pytest.mark.parametrize(
    "bps",
    [800e9, 16 * 800e9, 432 * 800e9, 16e15, 48e15, 100e6, 0.0],
    ids=["800G", "16x800G", "432x800G", "16P", "48P", "100M", "zero"],
)
def test_link_bandwidth_round_trips_within_float32_precision(bps: float) -> None:
    lb = LinkBandwidth.from_bps(bps, 4_200_000_001)
    assert lb.asn == AS_TRANS  # RFC 10005 §2: a 4-octet AS is carried as AS_TRANS
    attrs = PathAttributes(
        origin=Origin.IGP, as_path=AsPath(), next_hop=IPv4("10.0.0.1"), ext_communities=(lb,)
    )
    back = decode_message(encode_message(_update(attrs, "10.0.0.0/24")))
    assert isinstance(back, Update)
    (got,) = back.attributes.ext_communities
    assert got == lb
    assert math.isclose(got.bps, bps, rel_tol=2**-24, abs_tol=0)
    assert back.attributes.link_bandwidth_bytes_per_s == pytest.approx(bps / 8, rel=2**-24)


def test_link_bandwidth_encoding_is_bytes_per_second_binary32() -> None:
    lb = LinkBandwidth.from_bps(800e9, 65001, transitive=False)
    assert lb.encode() == bytes.fromhex("4004fde9") + struct.pack(">f", 100e9)


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, -math.inf, 1e40 * 8])
def test_link_bandwidth_refuses_to_originate_unusable_values(bad: float) -> None:
    with pytest.raises(EncodeError):
        LinkBandwidth.from_bps(bad)


# --- communities -------------------------------------------------------------------------


def test_community_text_round_trip() -> None:
    for text in ("65001:100", "0:0", "65535:65535", "no-export", "graceful-shutdown"):
        assert community_str(parse_community(text)) == text
    with pytest.raises(ValueError, match="ASN:VALUE"):
        parse_community("65001")
    with pytest.raises(ValueError, match=r"0\.\.65535"):
        parse_community("70000:1")


# --- packing -----------------------------------------------------------------------------


def test_pack_announce_fills_messages_to_the_limit() -> None:
    prefixes = [Prefix((0x0A000000 + (i << 8)).to_bytes(4, "big"), 24) for i in range(5000)]
    messages = pack_announce(BASE, prefixes)
    attrs_len = len(encode_message(_update(BASE))) - 23
    per_message = (MAX_MESSAGE_LEN - 23 - attrs_len) // 4  # a /24 takes 4 octets
    assert len(messages) == math.ceil(5000 / per_message)
    assert all(len(m) <= MAX_MESSAGE_LEN for m in messages[:-1])
    assert max(len(m) for m in messages) > MAX_MESSAGE_LEN - 4
    decoded = [decode_message(m) for m in messages]
    assert sorted(p for u in decoded for p in u.announced) == sorted(prefixes)
    assert {u.attributes for u in decoded} == {BASE}


def test_pack_announce_ipv6_uses_mp_reach_and_drops_next_hop_attribute() -> None:
    prefixes = [
        Prefix(((0x20010DB8 << 96) | (i << 64)).to_bytes(16, "big"), 64) for i in range(1000)
    ]
    messages = pack_announce(
        BASE, prefixes, next_hop=IPv6("2001:db8::1"), link_local=IPv6("fe80::1")
    )
    decoded = [decode_message(m) for m in messages]
    assert all(isinstance(u, Update) and u.attributes.next_hop is None for u in decoded)
    assert all(u.mp_reach.link_local == IPv6("fe80::1") for u in decoded)  # type: ignore[union-attr]
    assert sorted(p for u in decoded for p in u.announced) == sorted(prefixes)
    assert len(messages) == math.ceil(1000 * 9 / (MAX_MESSAGE_LEN - 23 - 4 - 37 - 11))


def test_pack_withdraw_both_families_and_extended_message() -> None:
    v4 = [Prefix((0x0A000000 + i).to_bytes(4, "big"), 32) for i in range(3000)]
    assert len(pack_withdraw(v4)) == math.ceil(3000 * 5 / (MAX_MESSAGE_LEN - 23))
    big = pack_withdraw(v4, CodecContext(extended_message=True))
    assert len(big) == 1 and decode_message(
        big[0], CodecContext(extended_message=True)
    ).withdrawn == tuple(v4)
    v6 = [Prefix(((0x20010DB8 << 96) | i).to_bytes(16, "big"), 128) for i in range(500)]
    decoded = [decode_message(m) for m in pack_withdraw(v6)]
    assert [p for u in decoded for p in u.withdrawn_all] == v6


def test_pack_refuses_mixed_families_and_missing_next_hop() -> None:
    with pytest.raises(EncodeError, match="one address family"):
        pack_withdraw([Prefix.parse("10.0.0.0/8"), Prefix.parse("2001:db8::/32")])
    with pytest.raises(EncodeError, match="NEXT_HOP"):
        pack_announce(PathAttributes(origin=Origin.IGP), [Prefix.parse("10.0.0.0/8")])
    with pytest.raises(EncodeError, match="next hop"):
        pack_announce(BASE, [Prefix.parse("2001:db8::/32")])


def test_update_too_big_for_the_limit_is_refused() -> None:
    prefixes = tuple(Prefix((0x0A000000 + (i << 8)).to_bytes(4, "big"), 24) for i in range(1100))
    with pytest.raises(EncodeError, match="exceeds 4096"):
        encode_message(Update(attributes=BASE, nlri=prefixes))


# --- framing and small messages ----------------------------------------------------------


def test_reader_yields_whole_messages_and_keeps_the_rest() -> None:
    stream = encode_message(Keepalive()) + encode_message(_update(BASE, "10.0.0.0/8"))
    reader = MessageReader()
    reader.feed(stream[:30])
    assert reader.next_message() == (4, stream[:19])
    assert reader.next_message() is None
    reader.feed(stream[30:])
    kind, whole = reader.next_message()  # type: ignore[misc]
    assert kind == 2 and decode_message(whole) == _update(BASE, "10.0.0.0/8")
    assert reader.next_message() is None and reader.buffered == 0


def test_reader_raises_on_a_bad_marker_before_the_body_arrives() -> None:
    reader = MessageReader()
    reader.feed(b"\xff" * 15 + b"\x00" + b"\x00\x13\x04")
    with pytest.raises(MessageHeaderError) as info:
        reader.next_message()
    assert (info.value.code, info.value.subcode) == (1, 1)


def test_end_of_rib_markers() -> None:
    assert Update().end_of_rib == (1, 1)
    eor6 = decode_message(
        bytes.fromhex(
            "ff" * 16
            + "001e 02"  # length 30, UPDATE
            + "0000 0007"  # no withdrawn routes; 7 octets of attributes
            + "90 0f 0003"  # MP_UNREACH_NLRI, Extended Length (exabgp's form), 3 octets
            + "0002 01"  # AFI IPv6, SAFI unicast, no prefixes
        )
    )
    assert isinstance(eor6, Update) and eor6.end_of_rib == (2, 1)  # exabgp's 0x90 form
    assert _update(BASE, "10.0.0.0/8").end_of_rib is None


def test_treat_as_withdraw_view_covers_both_families() -> None:
    update = Update(
        withdrawn=(Prefix.parse("10.9.0.0/16"),),
        attributes=BASE,
        nlri=(Prefix.parse("10.1.0.0/16"),),
    )
    back = update.as_withdraw()
    assert set(back.withdrawn_all) == {Prefix.parse("10.9.0.0/16"), Prefix.parse("10.1.0.0/16")}
    assert back.announced == ()


# --- attribute blocks decoded once (update_decoder._BLOCKS), copies (evolve) -------------


def test_a_repeated_attribute_block_decodes_to_one_shared_object() -> None:
    attrs = replace(BASE, as_path=AsPath.sequence(65001, 4_200_000_123))
    wires = [encode_message(_update(attrs, p)) for p in ("10.1.0.0/24", "10.2.0.0/24")]
    one, two = (decode_message(wire) for wire in wires)
    assert isinstance(one, Update) and isinstance(two, Update)
    assert one.attributes == attrs and one.attributes is two.attributes
    assert two.nlri == (Prefix.parse("10.2.0.0/24"),)
    # Between 2-octet-AS speakers the same octets are another AS_PATH (here a malformed
    # one, AS 0 first): the block decoded for 4-octet ASNs is not served.
    with pytest.raises(UpdateMessageError):
        decode_message(wires[0], TWO_OCTET)


def test_a_block_without_next_hop_is_judged_again_beside_body_nlri() -> None:
    # Without NEXT_HOP a block decodes cleanly when no NLRI comes with it, but beside
    # body NLRI it is treat-as-withdraw (RFC 7606 §3 d): the memo must not serve it.
    no_hop = replace(BASE, as_path=AsPath.sequence(65001, 4_200_000_124), next_hop=None)
    alone = decode_message(encode_message(Update(attributes=no_hop)))
    assert isinstance(alone, Update) and alone.attributes == no_hop
    with pytest.raises(UpdateMessageError) as caught:
        decode_message(encode_message(_update(no_hop, "10.1.0.0/24")))
    assert caught.value.action is ErrorAction.TREAT_AS_WITHDRAW


# --- whole UPDATEs decoded once per process (update_memo._MESSAGES) ------------------


def test_the_same_update_bytes_decode_to_one_shared_update() -> None:
    attrs = replace(BASE, as_path=AsPath.sequence(65001, 4_200_000_125), next_hop=None)
    mp = MpReachNlri(2, 1, IPv6("2001:db8::1"), nlri=(Prefix.parse("2001:db8:7::/64"),))
    wire = encode_message(Update(attributes=attrs, mp_reach=mp))
    copy = bytes(bytearray(wire))  # equal bytes, another object: what a second link brings
    assert copy is not wire
    one, two = decode_message(wire), decode_message(copy)
    assert isinstance(one, Update) and one is two
    assert one == update_decoder.decode_update_body(wire[19:])
    # Between 2-octet-AS speakers the same octets are another AS_PATH (AS 0 first): the
    # Update decoded for 4-octet ASNs is not served, the decode runs and refuses it.
    with pytest.raises(UpdateMessageError):
        decode_message(copy, TWO_OCTET)


def test_a_faulty_update_is_decoded_and_refused_every_time() -> None:
    no_hop = replace(BASE, as_path=AsPath.sequence(65001, 4_200_000_126), next_hop=None)
    wire = encode_message(_update(no_hop, "10.1.0.0/24"))  # NLRI without NEXT_HOP
    for _ in range(2):
        with pytest.raises(UpdateMessageError) as caught:
            decode_message(wire)
        assert caught.value.action is ErrorAction.TREAT_AS_WITHDRAW
    assert (True, wire) not in update_memo._MESSAGES


def test_the_message_memo_is_bounded_in_messages_and_bytes(monkeypatch) -> None:
    update_memo.clear()
    monkeypatch.setattr(update_memo, "MESSAGE_MEMO_SIZE", 3)
    monkeypatch.setattr(update_memo, "MESSAGE_MEMO_BYTES", 200)
    monkeypatch.setattr(update_memo, "MESSAGE_MEMO_LONGEST", 120)
    wires = [
        encode_message(_update(BASE, *(f"10.{k}.{j}.0/24" for j in range(n))))
        for k, n in enumerate((1, 1, 1, 1, 40))
    ]
    for wire in wires:
        assert decode_message(wire) == update_decoder.decode_update_body(wire[19:])
        assert len(update_memo._MESSAGES) <= 3
        assert update_memo._held[0] <= 200
    # The fourth emptied the full memo; the fifth (203 octets) is longer than any kept:
    # decoded, not kept.
    assert list(update_memo._MESSAGES) == [(True, wires[3])]
    update_memo.clear()
    assert not update_memo._MESSAGES and update_memo._held[0] == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"next_hop": IPv4("10.0.0.9")},
        {"as_path": AsPath.sequence(65009), "med": 5, "local_pref": None},
        {"communities": (1, 2), "ext_communities": (), "atomic_aggregate": True},
        {"aggregator": Aggregator(65001, IPv4("10.0.0.2")), "origin": Origin.EGP},
        {"other": (RawAttribute(0xC0, 99, b"x"),)},
    ],
)
def test_evolve_is_dataclasses_replace(changes: dict[str, object]) -> None:
    assert BASE.evolve(**changes) == replace(BASE, **changes)  # type: ignore[arg-type]
