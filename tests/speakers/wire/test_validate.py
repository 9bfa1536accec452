"""Session-dependent UPDATE checks (RFC 7606 §7.2, §7.5, §7.9-7.10; RFC 4271 §6.3)."""

from __future__ import annotations

import ipaddress

import pytest

from speakers.wire import (
    AsPath,
    ErrorAction,
    MpReachNlri,
    Origin,
    PathAttributes,
    Prefix,
    RawAttribute,
    Update,
    UpdateMessageError,
)
from speakers.wire.validate import SessionView, judge_update, validate_update

NH = ipaddress.IPv4Address("10.0.0.1")
EBGP = SessionView(peer_as=65001, local_as=65000, local_addresses=(NH,))
IBGP = SessionView(peer_as=65000, local_as=65000)


def _update(**attrs: object) -> Update:
    base = dict(
        origin=Origin.IGP,
        as_path=AsPath.sequence(65001),
        next_hop=ipaddress.IPv4Address("10.0.0.2"),
    )
    base.update(attrs)
    return Update(attributes=PathAttributes(**base), nlri=(Prefix.parse("10.1.0.0/16"),))  # type: ignore[arg-type]


def test_valid_update_passes_unchanged() -> None:
    update = _update()
    assert validate_update(update, EBGP) is update


def test_local_pref_from_ebgp_is_discarded_not_from_ibgp() -> None:
    update = _update(local_pref=200, as_path=AsPath.sequence(65001))
    with pytest.raises(UpdateMessageError) as info:
        validate_update(update, EBGP)
    assert info.value.action == ErrorAction.ATTRIBUTE_DISCARD
    assert info.value.update is not None and info.value.update.attributes.local_pref is None
    assert (
        validate_update(_update(local_pref=200, as_path=AsPath()), IBGP).attributes.local_pref
        == 200
    )


def test_originator_id_and_cluster_list_from_ebgp_are_discarded() -> None:
    other = (
        RawAttribute(0x80, 9, b"\x01\x02\x03\x04"),
        RawAttribute(0x80, 10, b"\x01\x02\x03\x04"),
    )
    with pytest.raises(UpdateMessageError) as info:
        validate_update(_update(other=other), EBGP)
    assert info.value.action == ErrorAction.ATTRIBUTE_DISCARD and len(info.value.problems) == 2
    assert info.value.update is not None and info.value.update.attributes.other == ()


def test_first_as_not_the_peer_is_treat_as_withdraw() -> None:
    with pytest.raises(UpdateMessageError) as info:
        validate_update(_update(as_path=AsPath.sequence(65099, 65001)), EBGP)
    assert info.value.action == ErrorAction.TREAT_AS_WITHDRAW
    assert info.value.subcode == 11
    relaxed = SessionView(peer_as=65001, local_as=65000, enforce_first_as=False)
    assert validate_update(_update(as_path=AsPath.sequence(65099)), relaxed)


def test_own_address_as_next_hop_is_treat_as_withdraw() -> None:
    with pytest.raises(UpdateMessageError) as info:
        validate_update(_update(next_hop=NH), EBGP)
    assert (info.value.action, info.value.subcode) == (ErrorAction.TREAT_AS_WITHDRAW, 8)
    own6 = ipaddress.IPv6Address("2001:db8::1")
    session = SessionView(peer_as=65001, local_as=65000, local_addresses=(own6,))
    mp = Update(
        attributes=PathAttributes(origin=Origin.IGP, as_path=AsPath.sequence(65001)),
        mp_reach=MpReachNlri(2, 1, own6, (Prefix.parse("2001:db8:1::/48"),)),
    )
    with pytest.raises(UpdateMessageError):
        validate_update(mp, session)


def test_withdraw_only_update_skips_path_checks() -> None:
    update = Update(withdrawn=(Prefix.parse("10.1.0.0/16"),))
    assert validate_update(update, EBGP) is update


def test_malformed_local_pref_from_ebgp_is_discarded_not_withdrawn() -> None:
    from speakers.wire import encode_message
    from speakers.wire.messages import decode_message
    from speakers.wire.validate import judge_for_session

    raw = bytearray(encode_message(_update(local_pref=200)))
    at = raw.index(b"\x40\x05\x04")
    raw[at + 2] = 5  # LOCAL_PREF length 5 (RFC 7606 §7.5)
    raw[at + 3 + 4 : at + 3 + 4] = b"\x00"
    raw[16:18] = len(raw).to_bytes(2, "big")
    raw[21:23] = (int.from_bytes(raw[21:23], "big") + 1).to_bytes(2, "big")
    with pytest.raises(UpdateMessageError) as info:
        decode_message(bytes(raw))
    assert info.value.action == ErrorAction.TREAT_AS_WITHDRAW  # the codec's iBGP verdict
    judged = judge_for_session(info.value, EBGP)
    assert judged.action == ErrorAction.ATTRIBUTE_DISCARD
    assert judged.update is not None and judged.update.attributes.local_pref is None
    assert judge_for_session(info.value, IBGP) is info.value


def _with_bad_atomic_aggregate(update: Update) -> bytes:
    from speakers.wire import encode_message

    raw = bytearray(encode_message(update))
    bad = b"\x40\x06\x01\x00"  # ATOMIC_AGGREGATE of length 1: discard (RFC 7606 §7.6)
    attr_len = int.from_bytes(raw[21:23], "big")
    raw[23 + attr_len : 23 + attr_len] = bad
    raw[21:23] = (attr_len + len(bad)).to_bytes(2, "big")
    raw[16:18] = len(raw).to_bytes(2, "big")
    return bytes(raw)


def _codec_error(raw: bytes) -> UpdateMessageError:
    from speakers.wire.messages import decode_message

    with pytest.raises(UpdateMessageError) as info:
        decode_message(raw)
    return info.value


def test_one_verdict_keeps_the_codec_and_the_session_discards() -> None:
    codec = _codec_error(_with_bad_atomic_aggregate(_update(local_pref=200)))
    assert [p.attr_type for p in codec.problems] == [6]
    verdict = judge_update(codec, EBGP)
    assert isinstance(verdict, UpdateMessageError)
    assert [p.attr_type for p in verdict.problems] == [6, 5]
    assert verdict.action == ErrorAction.ATTRIBUTE_DISCARD
    assert verdict.update is not None and verdict.update.attributes.local_pref is None


def test_one_verdict_takes_the_strongest_action_of_both_sides() -> None:
    raw = _with_bad_atomic_aggregate(_update(as_path=AsPath.sequence(65099)))
    verdict = judge_update(_codec_error(raw), EBGP)
    assert isinstance(verdict, UpdateMessageError)
    assert [(p.attr_type, p.action) for p in verdict.problems] == [
        (6, ErrorAction.ATTRIBUTE_DISCARD),
        (2, ErrorAction.TREAT_AS_WITHDRAW),  # first AS is not the peer (RFC 7606 §7.2)
    ]
    assert verdict.action == ErrorAction.TREAT_AS_WITHDRAW and verdict.subcode == 11


def test_one_verdict_passes_a_clean_update_and_drops_families_not_accepted() -> None:
    update = _update()
    assert judge_update(update, EBGP) is update
    v6_only = SessionView(peer_as=65001, local_as=65000, families=frozenset({(2, 1)}))
    verdict = judge_update(update, v6_only)
    assert isinstance(verdict, Update) and verdict.nlri == ()
    codec = _codec_error(_with_bad_atomic_aggregate(update))
    assert judge_update(codec, EBGP) is codec  # nothing for the session to add
