"""Graceful restart on the wire (RFC 4724): the capability, the End-of-RIB markers, what
two OPENs agree on, the configuration, and when a session's end keeps its routes."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st
from session_helpers import Pair, config, of_type

from speakers.config import ConfigError, parse_config
from speakers.graceful import GracefulRestart, offer, retains
from speakers.session import SessionDown, SessionEstablished
from speakers.session.events import DownReason
from speakers.speaker import Speaker
from speakers.wire import (
    CeaseSubcode,
    ErrorCode,
    GracefulRestartCapability,
    GracefulRestartFamily,
    Notification,
    OpenMessageError,
    Update,
    decode_message,
    encode_end_of_rib,
)
from speakers.wire.capabilities import decode_capabilities, encode_capability

families = st.lists(
    st.builds(
        GracefulRestartFamily,
        st.integers(0, 0xFFFF),
        st.integers(0, 0xFF),
        st.booleans(),
    ),
    max_size=8,
).map(tuple)


@given(st.integers(0, 4095), families, st.booleans(), st.booleans())
def test_the_capability_round_trips(time_s: int, fams: tuple, r: bool, n: bool) -> None:
    cap = GracefulRestartCapability(time_s, fams, restarting=r, notification=n)
    assert decode_capabilities(encode_capability(cap)) == (cap,)


def test_the_capability_bytes_are_rfc_4724s() -> None:
    cap = offer(GracefulRestart(enabled=True, restart_time_s=120), ((1, 1), (2, 1)), True)
    # code 64, length 10; R bit + 120 s; IPv4 unicast F; IPv6 unicast F
    assert encode_capability(cap).hex() == "400a80780001018000020180"
    helper = offer(GracefulRestart(enabled=True, restart_time_s=120), ((1, 1),), False)
    assert encode_capability(helper).hex() == "4006007800010100"
    # Reserved flag bits and the family flags' low bits are ignored, as RFC 4724 §3 asks.
    (read,) = decode_capabilities(bytes.fromhex("40063078000101ff"))
    assert read == GracefulRestartCapability(120, (GracefulRestartFamily(1, 1, True),))


@pytest.mark.parametrize("value", ["", "00", "007800", "0078000101"])
def test_a_malformed_capability_is_an_open_error(value: str) -> None:
    raw = bytes.fromhex("40%02x" % (len(value) // 2) + value)
    with pytest.raises(OpenMessageError, match="GRACEFUL_RESTART"):
        decode_capabilities(raw)


def test_end_of_rib_markers_encode_as_rfc_4724_section_2_says() -> None:
    ipv4 = encode_end_of_rib(1, 1)
    assert ipv4.hex() == "ff" * 16 + "00170200000000"  # an empty UPDATE
    ipv6 = encode_end_of_rib(2, 1)
    assert ipv6.hex() == "ff" * 16 + "001d0200000006800f03000201"
    for data, family in ((ipv4, (1, 1)), (ipv6, (2, 1))):
        message = decode_message(data)
        assert isinstance(message, Update) and message.end_of_rib == family


def gr(time_s: int = 120, restarting: bool = False) -> GracefulRestartCapability:
    return offer(GracefulRestart(enabled=True, restart_time_s=time_s), ((1, 1), (2, 1)), restarting)


@pytest.mark.parametrize(
    ("ours", "theirs", "agreed"),
    [(gr(), gr(90, True), gr(90, True)), (None, gr(), None), (gr(), None, None)],
    ids=["both", "we-offer-none", "peer-offers-none"],
)
def test_negotiated_holds_the_peers_capability_when_both_offer_one(ours, theirs, agreed) -> None:
    pair = Pair.make(
        config(65001, "10.0.0.1", 65002, graceful_restart=ours),
        config(65002, "10.0.0.2", 65001, graceful_restart=theirs),
    )
    pair.connect()
    pair.transfer()
    (est,) = of_type(pair.events_a, SessionEstablished)
    assert est.negotiated.graceful_restart == agreed


CEASE = Notification(ErrorCode.CEASE, CeaseSubcode.ADMINISTRATIVE_RESET)


@pytest.mark.parametrize(
    ("event", "peer", "kept"),
    [
        (SessionDown(DownReason.CONNECTION_LOST, True), gr(), True),
        (SessionDown(DownReason.CONNECTION_LOST, True), None, False),
        (SessionDown(DownReason.CONNECTION_LOST, False), gr(), False),
        (SessionDown(DownReason.NOTIFICATION_RECEIVED, True, CEASE), gr(), False),
        (SessionDown(DownReason.NOTIFICATION_SENT, True, CEASE, sent=True), gr(), False),
        (SessionDown(DownReason.HOLD_TIMER_EXPIRED, True), gr(), False),
        (SessionDown(DownReason.ADMIN_STOP, True), gr(), False),
    ],
    ids=["lost", "no-capability", "never-up", "cease-in", "cease-out", "hold", "admin"],
)
def test_only_a_lost_connection_keeps_routes(event: SessionDown, peer, kept: bool) -> None:
    """RFC 4724 §4.2 without RFC 8538: a NOTIFICATION either way (our hold timer sends one)
    ends the session plainly."""
    assert retains(event, peer) is kept


BASE = "name: s\nasn: 1\nrouter_id: 1.1.1.1\nlisten: {address: 127.0.0.1}\n"


def test_configuration_shorthand_mapping_and_per_neighbor() -> None:
    assert parse_config(BASE).graceful_restart == GracefulRestart()  # off by default
    assert parse_config(BASE + "graceful_restart: true\n").graceful_restart.enabled
    cfg = parse_config(
        BASE + "graceful_restart: {restart_time_s: 30, select_defer_time_s: 10}\n"
        "neighbors:\n  - {name: a, address: 10.0.0.1, remote_as: 2, graceful_restart: false}\n"
    )
    assert cfg.graceful_restart == GracefulRestart(True, 30, 360.0, 10.0)
    assert cfg.neighbors[0].graceful_restart is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "graceful_restart: {restart_time_s: 5000}\n",
            "cfg.yaml:5: graceful_restart.restart_time_s: expected an integer 0..4095",
        ),
        ("graceful_restart: {stale: 1}\n", "cfg.yaml:5: graceful_restart.stale: unknown field"),
        ("graceful_restart: yes please\n", "cfg.yaml:5: graceful_restart: expected a mapping"),
    ],
)  # fmt: skip
def test_configuration_errors_name_file_line_and_field(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(BASE + text, "cfg.yaml")
    assert str(info.value).startswith(expected)


def test_a_restarting_speaker_needs_graceful_restart_enabled() -> None:
    cfg = parse_config(BASE)
    assert cfg.listen_address == ipaddress.ip_address("127.0.0.1")
    with pytest.raises(ValueError, match="graceful restart is not enabled"):
        Speaker(cfg, preserved_fib=[])
