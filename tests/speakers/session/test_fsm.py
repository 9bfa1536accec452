"""The RFC 4271 §8 FSM driven event by event, without sockets or sleeps."""

from __future__ import annotations

import ipaddress
import itertools
import random

import pytest
from session_helpers import Clock, Pair, Wire, config, drain, of_type, pump

from speakers.session import (
    CloseRequested,
    ConnectRequested,
    DownReason,
    FamilyDisabled,
    RouteRefreshReceived,
    Session,
    SessionDown,
    SessionError,
    SessionEstablished,
    State,
    StateChanged,
    Timer,
    UpdateReceived,
    UpdateWithdrawn,
)
from speakers.session.peer import Peer
from speakers.wire import (
    AsPath,
    ErrorAction,
    Keepalive,
    MessageReader,
    MpReachNlri,
    Notification,
    Open,
    Origin,
    PathAttributes,
    Prefix,
    RouteRefresh,
    Update,
    decode_message,
    encode_message,
)

A = config(65001, "10.0.0.1", 65002)
B = config(65002, "10.0.0.2", 65001)
NH = ipaddress.IPv4Address("10.0.0.2")


def established(**kw_b: object) -> Pair:
    pair = Pair.make(A, config(65002, "10.0.0.2", 65001, **kw_b) if kw_b else B)
    pair.connect()
    pair.transfer()
    assert pair.a.state is State.ESTABLISHED and pair.b.state is State.ESTABLISHED
    return pair


def messages(data: bytes) -> list[object]:
    reader = MessageReader()
    reader.feed(data)
    out = []
    while (item := reader.next_message()) is not None:
        out.append(decode_message(item[1]))
    return out


def update_from_b(*prefixes: str, first_as: int = 65002) -> bytes:
    attrs = PathAttributes(origin=Origin.IGP, as_path=AsPath.sequence(first_as), next_hop=NH)
    return encode_message(Update(attributes=attrs, nlri=tuple(Prefix.parse(p) for p in prefixes)))


# --- Idle, Connect, Active ---------------------------------------------------------------


def test_idle_ignores_everything_until_started() -> None:
    session = Session(A, rng=random.Random(1))
    session.receive_data(encode_message(Keepalive()), 0.0)
    session.handle_timer(1e9)
    assert session.state is State.IDLE and drain(session) == []
    with pytest.raises(SessionError):
        session.connection_made(0.0)
    assert session.state is State.IDLE


def test_start_dials_and_connect_retry_redials() -> None:
    session = Session(A, rng=random.Random(1))
    session.start(0.0)
    assert drain(session) == [
        ConnectRequested(),
        StateChanged(State.IDLE, State.CONNECT, "ManualStart"),
    ]
    deadline = session.timer_deadline(Timer.CONNECT_RETRY)
    assert deadline is not None and 0.75 * A.connect_retry_s <= deadline <= A.connect_retry_s
    session.handle_timer(deadline)
    assert drain(session) == [ConnectRequested()]  # RFC 4271 §8.2.2 Connect, Event 9
    assert session.state is State.CONNECT


def test_connect_failure_goes_active_then_redials() -> None:
    session = Session(A, rng=random.Random(1))
    session.start(0.0)
    drain(session)
    session.connection_failed(0.5)
    assert session.state is State.ACTIVE
    drain(session)
    deadline = session.next_deadline()
    assert deadline is not None
    session.handle_timer(deadline)
    assert drain(session) == [
        ConnectRequested(),
        StateChanged(State.ACTIVE, State.CONNECT, "ConnectRetryTimer_Expires"),
    ]


def test_passive_session_stays_active() -> None:
    session = Session(config(65001, "10.0.0.1", 65002, passive=True), rng=random.Random(1))
    session.start(0.0)
    assert session.state is State.ACTIVE
    session.handle_timer(1e6)
    assert session.state is State.ACTIVE
    assert not of_type(drain(session), ConnectRequested)


def test_manual_stop_in_connect_closes_and_stays_down() -> None:
    session = Session(A, rng=random.Random(1))
    session.start(0.0)
    drain(session)
    session.stop(1.0)
    assert session.state is State.IDLE and CloseRequested() in drain(session)
    assert session.next_deadline() is None  # no automatic restart after ManualStop


# --- OpenSent, OpenConfirm, Established --------------------------------------------------


def test_open_exchange_reaches_established_with_negotiated_values() -> None:
    pair = Pair.make(A, config(65002, "10.0.0.2", 65001, hold_time_s=30, families=((1, 1),)))
    pair.connect()
    assert pair.a.state is State.OPEN_SENT
    sent = messages(pair.a.data_to_send())
    assert isinstance(sent[0], Open) and sent[0].asn == 65001
    pair.b.receive_data(encode_message(sent[0]), pair.clock.now)
    pair.collect()
    assert pair.b.state is State.OPEN_CONFIRM
    pair.transfer()
    assert [e.new for e in of_type(pair.events_a, StateChanged)] == [
        State.CONNECT,
        State.OPEN_SENT,
        State.OPEN_CONFIRM,
        State.ESTABLISHED,
    ]
    (est,) = of_type(pair.events_a, SessionEstablished)
    n = est.negotiated
    assert (n.hold_time_s, n.keepalive_s) == (9, 3.0)  # the smaller hold time (RFC 4271 §4.2)
    assert n.families == frozenset({(1, 1)}) and n.four_octet_as and n.peer_as == 65002
    assert n.peer_router_id == ipaddress.IPv4Address("10.0.0.2")


def test_keepalives_flow_and_hold_timer_is_refreshed() -> None:
    pair = established()
    for _ in range(10):
        pair.tick(2.0)
        pair.transfer()
    assert pair.a.state is State.ESTABLISHED and pair.b.state is State.ESTABLISHED


def test_hold_timer_expiry_when_peer_goes_silent() -> None:
    pair = established()
    pair.tick(9.0)  # b's keepalives are never delivered: a frozen peer, not a closed one
    down = of_type(pair.events_a, SessionDown)
    assert down and down[0].reason is DownReason.HOLD_TIMER_EXPIRED and down[0].was_established
    sent = messages(pair.a.data_to_send())
    assert Notification(4, 0) in sent
    assert pair.a.state is State.IDLE


def test_automatic_restart_backs_off_until_established() -> None:
    session = Session(A, rng=random.Random(3))
    session.start(0.0)
    gaps = []
    for _ in range(4):
        assert session.state is State.CONNECT
        session.connection_made(session.next_deadline() or 0.0)
        hold = session.timer_deadline(Timer.HOLD)
        assert hold is not None
        session.handle_timer(hold)  # no OPEN from the peer: Hold expires in OpenSent
        assert session.state is State.IDLE
        idle = session.timer_deadline(Timer.IDLE_HOLD)
        assert idle is not None
        gaps.append(idle - hold)
        session.handle_timer(idle)  # AutomaticStart (Event 3)
    # DampPeerOscillations: each wait roughly doubles (jitter in [0.75, 1]).
    assert all(later > earlier * 1.3 for earlier, later in itertools.pairwise(gaps))
    assert session.connect_retry_counter == 4


def test_hold_time_zero_means_no_keepalives_and_no_hold_timer() -> None:
    pair = Pair.make(config(65001, "10.0.0.1", 65002, hold_time_s=0), B)
    pair.connect()
    pair.transfer()
    assert pair.a.state is State.ESTABLISHED
    assert pair.a.negotiated is not None and pair.a.negotiated.hold_time_s == 0
    assert pair.a.next_deadline() is None and pair.b.next_deadline() is None
    pair.tick(3600)
    assert pair.a.data_to_send() == b"" and pair.a.state is State.ESTABLISHED


@pytest.mark.parametrize(
    ("cfg_b", "code", "subcode"),
    [
        (config(65002, "10.0.0.2", 65009), 2, 2),  # b expects another AS: Bad Peer AS
        (config(65002, "10.0.0.2", 65001, min_hold_time_s=20), 2, 6),  # hold 9 < 20
        (config(65002, "10.0.0.2", 65001, families=((2, 2),)), 2, 7),  # nothing in common
    ],
    ids=["bad-peer-as", "hold-time-below-minimum", "no-common-family"],
)
def test_open_rejected_by_the_receiver(cfg_b, code: int, subcode: int) -> None:
    pair = Pair.make(A, cfg_b)
    pair.connect()
    pair.b.receive_data(pair.a.data_to_send(), pair.clock.now)
    pair.collect()
    assert pair.b.state is State.IDLE
    notes = [m for m in messages(pair.b.data_to_send()) if isinstance(m, Notification)]
    assert (notes[0].code, notes[0].subcode) == (code, subcode)
    (down,) = of_type(pair.events_b, SessionDown)
    assert down.reason is DownReason.NOTIFICATION_SENT and not down.was_established


def test_ibgp_with_our_own_router_id_is_bad_bgp_identifier() -> None:
    pair = Pair.make(config(65001, "10.0.0.1", 65001), config(65001, "10.0.0.1", 65001))
    pair.connect()
    pair.b.receive_data(pair.a.data_to_send(), pair.clock.now)
    notes = [m for m in messages(pair.b.data_to_send()) if isinstance(m, Notification)]
    assert (notes[0].code, notes[0].subcode) == (2, 3)


def test_open_version_3_gets_version_error_and_peer_goes_idle_quietly() -> None:
    pair = Pair.make(A, B)
    pair.connect()
    raw = bytearray(pair.a.data_to_send())
    raw[19] = 3
    pair.b.receive_data(bytes(raw), pair.clock.now)
    note = messages(pair.b.data_to_send())[-1]
    assert note == Notification(2, 1, b"\x00\x04")
    pair.a.receive_data(encode_message(note), pair.clock.now)  # NotifMsgVerErr (Event 24)
    pair.collect()
    assert pair.a.state is State.IDLE and pair.a.data_to_send() == b""
    assert of_type(pair.events_a, StateChanged)[-1].cause == "NotifMsgVerErr"


@pytest.mark.parametrize(
    ("state", "message", "subcode"),
    [
        (State.OPEN_SENT, Keepalive(), 1),
        (State.OPEN_CONFIRM, Update(), 2),
        (State.ESTABLISHED, "open", 3),
    ],
    ids=["keepalive-in-opensent", "update-in-openconfirm", "open-in-established"],
)
def test_unexpected_message_is_an_fsm_error_with_the_rfc_6608_subcode(
    state, message, subcode
) -> None:
    pair = Pair.make(A, B)
    pair.connect()
    if state is not State.OPEN_SENT:
        pair.a.receive_data(pair.b.data_to_send(), pair.clock.now)  # b's OPEN: a -> OpenConfirm
    if state is State.ESTABLISHED:
        pair.a.receive_data(encode_message(Keepalive()), pair.clock.now)
    assert pair.a.state is state
    pair.a.data_to_send()
    payload = build_open_bytes() if message == "open" else encode_message(message)
    pair.a.receive_data(payload, pair.clock.now)
    assert Notification(5, subcode) in messages(pair.a.data_to_send())
    assert pair.a.state is State.IDLE


def build_open_bytes() -> bytes:
    return encode_message(Open.build(65002, 9, "10.0.0.2"))


def test_bad_marker_is_a_header_error() -> None:
    pair = established()
    pair.a.receive_data(b"\x00" * 19, pair.clock.now)
    assert Notification(1, 1) in messages(pair.a.data_to_send())
    assert pair.a.state is State.IDLE


def test_manual_stop_sends_cease_with_shutdown_communication() -> None:
    pair = established()
    pair.a.stop(pair.clock.now, "BAG plane 2 maintenance")
    pair.transfer()
    (down_b,) = of_type(pair.events_b, SessionDown)
    assert down_b.reason is DownReason.NOTIFICATION_RECEIVED
    assert down_b.notification is not None
    assert down_b.notification.shutdown_communication == "BAG plane 2 maintenance"
    assert pair.a.state is State.IDLE and pair.a.next_deadline() is None
    assert pair.b.state is State.IDLE and pair.b.timer_deadline(Timer.IDLE_HOLD) is not None


def test_connection_lost_in_opensent_goes_active_and_in_established_goes_idle() -> None:
    pair = Pair.make(A, B)
    pair.connect()
    pair.a.connection_failed(pair.clock.now)
    assert pair.a.state is State.ACTIVE
    pair = established()
    pair.a.connection_failed(pair.clock.now)
    pair.collect()
    (down,) = of_type(pair.events_a, SessionDown)
    assert down.reason is DownReason.CONNECTION_LOST and down.was_established


# --- UPDATE handling (RFC 7606 actions) --------------------------------------------------


def test_valid_update_is_delivered_and_refreshes_hold_timer() -> None:
    pair = established()
    pair.tick(6.0)
    pair.transfer()
    before = pair.a.timer_deadline(Timer.HOLD)
    pair.clock.advance(1.0)
    pair.a.receive_data(update_from_b("10.1.0.0/16", "10.2.0.0/16"), pair.clock.now)
    pair.collect()
    (received,) = of_type(pair.events_a, UpdateReceived)
    assert [str(p) for p in received.update.nlri] == ["10.1.0.0/16", "10.2.0.0/16"]
    assert received.error is None
    after = pair.a.timer_deadline(Timer.HOLD)
    assert before is not None and after is not None and after > before


def test_first_as_mismatch_is_treat_as_withdraw_and_session_stays() -> None:
    pair = established()
    pair.a.receive_data(update_from_b("10.1.0.0/16", first_as=65099), pair.clock.now)
    pair.collect()
    (withdrawn,) = of_type(pair.events_a, UpdateWithdrawn)
    assert withdrawn.update.families() == {(1, 1): (Prefix.parse("10.1.0.0/16"),)}
    assert pair.a.state is State.ESTABLISHED and pair.a.data_to_send() == b""


def test_attribute_discard_delivers_the_rest() -> None:
    pair = established()
    raw = bytearray(update_from_b("10.1.0.0/16"))
    # Append a malformed ATOMIC_AGGREGATE (length 1): attribute discard (RFC 7606 §7.6).
    bad = b"\x40\x06\x01\x00"
    attr_len = int.from_bytes(raw[21:23], "big")
    at = 23 + attr_len
    raw[at:at] = bad
    raw[21:23] = (attr_len + len(bad)).to_bytes(2, "big")
    raw[16:18] = len(raw).to_bytes(2, "big")
    pair.a.receive_data(bytes(raw), pair.clock.now)
    pair.collect()
    (received,) = of_type(pair.events_a, UpdateReceived)
    assert received.error is not None and received.update.attributes.atomic_aggregate is False
    assert pair.a.state is State.ESTABLISHED


def test_codec_and_session_discards_are_both_reported() -> None:
    """The codec discards a malformed ATOMIC_AGGREGATE (RFC 7606 §7.6), the session a
    LOCAL_PREF from an external neighbor (§7.5): one UpdateReceived names both."""
    pair = established()
    attrs = PathAttributes(
        origin=Origin.IGP, as_path=AsPath.sequence(65002), next_hop=NH, local_pref=200
    )
    raw = bytearray(encode_message(Update(attributes=attrs, nlri=(Prefix.parse("10.1.0.0/16"),))))
    bad = b"\x40\x06\x01\x00"  # ATOMIC_AGGREGATE of length 1 (it has none)
    attr_len = int.from_bytes(raw[21:23], "big")
    at = 23 + attr_len
    raw[at:at] = bad
    raw[21:23] = (attr_len + len(bad)).to_bytes(2, "big")
    raw[16:18] = len(raw).to_bytes(2, "big")
    pair.a.receive_data(bytes(raw), pair.clock.now)
    pair.collect()
    (received,) = of_type(pair.events_a, UpdateReceived)
    assert received.error is not None
    assert [p.attr_type for p in received.error.problems] == [6, 5]  # codec's, then session's
    assert received.error.action is ErrorAction.ATTRIBUTE_DISCARD
    assert received.update.attributes.local_pref is None
    assert received.update.attributes.atomic_aggregate is False
    assert received.update.nlri == (Prefix.parse("10.1.0.0/16"),)
    assert pair.a.state is State.ESTABLISHED


def test_afi_safi_disable_drops_the_family_for_the_session() -> None:
    pair = established()
    mp = MpReachNlri(2, 1, ipaddress.IPv6Address("2001:db8::2"), (Prefix.parse("2001:db8:1::/48"),))
    good = Update(
        attributes=PathAttributes(origin=Origin.IGP, as_path=AsPath.sequence(65002)), mp_reach=mp
    )
    raw = bytearray(encode_message(good))
    at = raw.index(b"\x00\x02\x01\x10")  # AFI 2, SAFI 1, next-hop length 16
    raw[at + 3] = 15  # RFC 7606 §7.11: next-hop length inconsistent
    pair.a.receive_data(bytes(raw), pair.clock.now)
    pair.collect()
    (disabled,) = of_type(pair.events_a, FamilyDisabled)
    assert (disabled.afi, disabled.safi) == (2, 1) and pair.a.state is State.ESTABLISHED
    pair.a.receive_data(encode_message(good), pair.clock.now)
    pair.collect()
    (received,) = of_type(pair.events_a, UpdateReceived)
    assert received.update.mp_reach is None  # the disabled family is ignored from now on


def test_session_reset_error_sends_notification() -> None:
    pair = established()
    raw = bytearray(update_from_b("10.1.0.0/16"))
    raw[-3] = 33  # NLRI prefix length 33 -> Invalid Network Field (RFC 7606 §5.3)
    pair.a.receive_data(bytes(raw), pair.clock.now)
    assert Notification(3, 10) in messages(pair.a.data_to_send())
    assert pair.a.state is State.IDLE


def test_route_refresh_is_reported_when_negotiated() -> None:
    pair = established()
    pair.a.receive_data(encode_message(RouteRefresh(1, 1)), pair.clock.now)
    pair.collect()
    assert of_type(pair.events_a, RouteRefreshReceived) == [
        RouteRefreshReceived(RouteRefresh(1, 1))
    ]


def test_borr_and_eorr_ask_for_nothing() -> None:
    # RFC 7313 §3.2: Begin- and End-of-Route-Refresh frame the peer's re-advertisement; taken
    # as requests, each would make the speaker send its whole Adj-RIB-Out again.
    pair = established()
    for subtype in (1, 2):  # BoRR, EoRR
        pair.a.receive_data(encode_message(RouteRefresh(1, 1, subtype)), pair.clock.now)
    pair.collect()
    assert of_type(pair.events_a, RouteRefreshReceived) == []
    assert pair.a.state is State.ESTABLISHED and not pair.a.data_to_send()


def test_send_update_needs_established() -> None:
    session = Session(A, rng=random.Random(1))
    with pytest.raises(SessionError):
        session.send_update(update_from_b("10.0.0.0/8"), 0.0)
    pair = established()
    pair.b.send_update(update_from_b("10.9.0.0/16"), pair.clock.now)
    pair.transfer()
    assert of_type(pair.events_a, UpdateReceived)[0].update.nlri == (Prefix.parse("10.9.0.0/16"),)


def test_updates_sent_together_go_in_order_and_restart_the_keepalive_once() -> None:
    # RFC 4271 §8.2.2: each UPDATE sent restarts the KeepaliveTimer; sent at one instant,
    # that is one restart (jittered: 0.75 to 1 times the negotiated keepalive).
    pair = established()
    pair.b.data_to_send()
    now = pair.clock.now + 1.0
    first, second = update_from_b("10.1.0.0/16"), update_from_b("10.2.0.0/16")
    pair.b.send_updates([first, second], now)
    assert pair.b.data_to_send() == first + second
    keepalive = pair.b.negotiated.keepalive_s  # type: ignore[union-attr]
    deadline = pair.b.timer_deadline(Timer.KEEPALIVE)
    assert deadline is not None and now + 0.75 * keepalive <= deadline <= now + keepalive
    with pytest.raises(SessionError):
        Session(A, rng=random.Random(1)).send_updates([first], now)


# --- collisions (RFC 4271 §6.8) ----------------------------------------------------------


def _collide(cfg_x, cfg_y) -> tuple[Peer, Peer, list[Wire], Clock]:
    """Both dial at once: each outgoing connection completes, then each side accepts the
    other's, so both peers hold two connections until RFC 4271 §6.8 decides."""
    clock = Clock()
    x = Peer(cfg_x, rng=random.Random(1), name="x")
    y = Peer(cfg_y, rng=random.Random(2), name="y")
    x.start(clock.now)
    y.start(clock.now)
    x_out = x.connection_made(clock.now)
    y_out = y.connection_made(clock.now)
    x_in, y_in = x.accept(clock.now), y.accept(clock.now)
    assert x_in is x.secondary and y_in is y.secondary and x_in and y_in
    wires = [Wire(x_out, y_in), Wire(y_out, x_in)]
    # Both OPENs cross before any KEEPALIVE: all four FSMs reach OpenConfirm, the case
    # RFC 4271 §6.8 decides by BGP Identifier.
    opens = [(w.right, w.left.data_to_send()) for w in wires]
    opens += [(w.left, w.right.data_to_send()) for w in wires]
    for dst, data in opens:
        dst.receive_data(data, clock.now)
    assert {s.state for s in (x_out, y_out, x_in, y_in)} == {State.OPEN_CONFIRM}
    x.resolve_collisions(clock.now)
    y.resolve_collisions(clock.now)
    pump([x, y], wires, clock.now)
    return x, y, wires, clock


@pytest.mark.parametrize(
    ("cfg_x", "cfg_y", "winner_dialer"),
    [
        (config(65001, "10.0.0.9", 65002), config(65002, "10.0.0.2", 65001), "x"),
        (config(65001, "10.0.0.1", 65002), config(65002, "10.0.0.2", 65001), "y"),
        (config(65001, "10.0.0.5", 65002), config(65002, "10.0.0.5", 65001), "y"),  # RFC 6286
    ],
    ids=["x-higher-id", "y-higher-id", "equal-ids-larger-as"],
)
def test_collision_keeps_the_connection_dialed_by_the_higher_identifier(
    cfg_x, cfg_y, winner_dialer
) -> None:
    x, y, wires, _ = _collide(cfg_x, cfg_y)
    assert x.secondary is None and y.secondary is None
    assert x.primary.state is State.ESTABLISHED and y.primary.state is State.ESTABLISHED
    survivor = next(w for w in wires if x.primary in (w.left, w.right))
    assert y.primary in (survivor.left, survivor.right)  # both ends kept the same connection
    dialer = x if winner_dialer == "x" else y
    assert dialer.initiated_locally(dialer.primary)


def _started_pair() -> tuple[Clock, Peer, Peer]:
    """Two peers of each other, both started (``x`` has the lower identifier)."""
    clock = Clock()
    x = Peer(config(65001, "10.0.0.1", 65002), rng=random.Random(1), name="x")
    y = Peer(config(65002, "10.0.0.2", 65001), rng=random.Random(2), name="y")
    x.start(clock.now)
    y.start(clock.now)
    return clock, x, y


def test_a_connection_established_first_wins_over_the_identifier() -> None:
    # RFC 4271 §6.8: a collision with an Established connection closes the new one, even
    # when the identifiers would have chosen it.
    clock, x, y = _started_pair()
    x_out, y_out = x.connection_made(clock.now), y.connection_made(clock.now)
    x_in, y_in = x.accept(clock.now), y.accept(clock.now)
    assert x_in is not None and y_in is not None
    pump([x, y], [Wire(x_out, y_in)], clock.now)  # x's connection completes first
    assert x_out.state is State.ESTABLISHED
    pump([x, y], [Wire(x_out, y_in), Wire(y_out, x_in)], clock.now)
    assert x.primary is x_out and y.primary is y_in
    assert x.secondary is None and y.secondary is None
    assert x_in.state is State.IDLE and y_out.state is State.IDLE


def test_a_peers_next_deadline_is_the_earliest_of_both_fsms() -> None:
    # The transport arms one timer per peer at this deadline: with a collision under
    # way, either FSM's may come first.
    clock, x, y = _started_pair()
    assert x.next_deadline() == x.primary.next_deadline()
    x.connection_made(clock.now)  # OpenSent: the large hold timer (RFC 4271 §8.2.2)
    clock.now += 5.0
    second = x.accept(clock.now)  # y's connection, while ours waits for an OPEN
    assert second is x.secondary and second is not None
    assert x.next_deadline() == x.primary.next_deadline() < second.next_deadline()
    y_out = y.connection_made(clock.now)
    second.receive_data(y_out.data_to_send(), clock.now)  # y's OPEN: OpenConfirm
    assert second.state is State.OPEN_CONFIRM
    assert x.next_deadline() == second.next_deadline() < x.primary.next_deadline()
    x.primary.stop(clock.now)
    drain(x.primary)
    assert x.primary.next_deadline() is None
    assert x.next_deadline() == second.next_deadline()


def test_connection_while_established_is_refused() -> None:
    x, _, _, clock = _collide(config(65001, "10.0.0.9", 65002), config(65002, "10.0.0.2", 65001))
    assert x.accept(clock.now) is None and x.state is State.ESTABLISHED


def test_connection_to_an_admin_down_peer_is_refused() -> None:
    peer = Peer(A, rng=random.Random(1))
    assert peer.accept(0.0) is None
    peer.start(0.0)
    assert peer.accept(0.0) is peer.primary and peer.primary.state is State.OPEN_SENT


def test_bytes_waiting_to_be_read_keep_the_hold_timer_from_expiring() -> None:
    pair = established()
    deadline = pair.a.timer_deadline(Timer.HOLD)
    assert deadline is not None
    pair.clock.now = deadline
    pair.a.input_pending(pair.clock.now)  # the driver sees unread bytes from b
    pair.a.handle_timer(pair.clock.now)
    assert pair.a.state is State.ESTABLISHED
    later = pair.a.timer_deadline(Timer.HOLD)
    assert later is not None and later > deadline
