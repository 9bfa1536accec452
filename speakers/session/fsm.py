"""The BGP finite state machine of RFC 4271 §8, sans I/O.

Theory of operation (h11 and aioquic style): a ``Session`` never touches a socket or a
clock. Its driver feeds it inputs, each with ``now`` in monotonic seconds:

- ``start`` / ``stop``                 ManualStart (Event 1, 4 passive) / ManualStop (Event 2)
- ``connection_made``                  Tcp_CR_Acked / TcpConnectionConfirmed (Events 16, 17)
- ``connection_failed``                TcpConnectionFails (Event 18)
- ``receive_data``                     bytes; decoded into Events 19-28
- ``handle_timer``                     ConnectRetry/Hold/Keepalive expiry (Events 9-11), and
                                       the IdleHold timer that paces AutomaticStart (Event 3)
- ``collision_dump``                   OpenCollisionDump (Event 23), from the peer arbiter
- ``send_update``                      an UPDATE the RIB wants sent (Established only)

and pulls outputs: ``data_to_send()`` (bytes for the connection), ``next_event()`` (the
``events.py`` dataclasses, in order) and ``next_deadline()`` (when to call ``handle_timer``).

The transitions follow RFC 4271 §8.2.2 state by state; each handler names the events it
implements. What the RFC leaves optional: no DelayOpen; AutomaticStart after an IdleHold
time that doubles on each failed attempt (DampPeerOscillations, §8.1.1) and resets once
Established. Unexpected messages get the RFC 6608 FSM Error subcode of the state.

Why one module of some 500 lines: it is one state machine, and its handlers read top to
bottom as the rows of RFC 4271 §8.2.2. What is not a transition already lives apart:
OPEN negotiation (``negotiation.py``), the timers (``timers.py``), what the session
reports (``events.py``), the RFC 7606 verdict on an UPDATE (``wire/validate.py``) and
collision resolution (``peer.py``). Splitting the handlers would split a state's rows.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from ..wire import (
    BgpError,
    CeaseSubcode,
    ErrorAction,
    ErrorCode,
    Keepalive,
    MessageHeaderError,
    MessageReader,
    MessageType,
    Notification,
    Open,
    RouteRefresh,
    Update,
    UpdateMessageError,
    decode_framed,
    encode_message,
)
from ..wire.constants import FsmSubcode, OpenSubcode
from ..wire.validate import SessionView, judge_update
from .events import (
    CloseRequested,
    ConnectRequested,
    DownReason,
    FamilyDisabled,
    RouteRefreshReceived,
    SessionDown,
    SessionEstablished,
    SessionEvent,
    State,
    StateChanged,
    UpdateReceived,
    UpdateWithdrawn,
)
from .negotiation import NO_FAMILIES, Negotiated, SessionConfig, build_open, negotiate
from .timers import Timer, Timers

_KEEPALIVE_BYTES = encode_message(Keepalive())
_CONNECTED = (State.OPEN_SENT, State.OPEN_CONFIRM, State.ESTABLISHED)
_FSM_SUBCODE = {
    State.OPEN_SENT: FsmSubcode.UNEXPECTED_MESSAGE_IN_OPENSENT,
    State.OPEN_CONFIRM: FsmSubcode.UNEXPECTED_MESSAGE_IN_OPENCONFIRM,
    State.ESTABLISHED: FsmSubcode.UNEXPECTED_MESSAGE_IN_ESTABLISHED,
}


class SessionError(Exception):
    """An input that the current state cannot take from its driver (a driver bug)."""


class Session:
    """One BGP session's FSM over at most one connection at a time (module docstring)."""

    def __init__(
        self, config: SessionConfig, *, rng: random.Random | None = None, name: str = ""
    ) -> None:
        self.config = config
        self.name = name or str(config.peer_as)
        self.state = State.IDLE
        self.negotiated: Negotiated | None = None
        self.connect_retry_counter = 0
        self.disabled_families = NO_FAMILIES
        self._view: tuple[Negotiated, int, SessionView] | None = None  # ``_session_view``
        self.admin_down = True  # until start(); ManualStop sets it again
        self._timers = Timers(rng or random.Random())
        self._reader = MessageReader()
        self._out = bytearray()
        # Events to hand out, from ``_head`` on; emptied once all are read. A list, not a
        # deque: 56 B, not 760, for each of a region's 84,000 session ends.
        self._events: list[SessionEvent] = []
        self._head = 0
        self._idle_hold_s = config.idle_hold_s
        self._open_bytes = encode_message(build_open(config))

    def configure(self, config: SessionConfig) -> None:
        """What the next OPEN offers (a restarted speaker clears its Restart State bit once
        its routes are selected, RFC 4724 §4.1); the session now is left as it is."""
        self.config = config
        self._open_bytes = encode_message(build_open(config))

    # --- outputs ------------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        """Bytes to write on the connection, in order; the buffer is emptied."""
        data = bytes(self._out)
        self._out.clear()
        return data

    def next_event(self) -> SessionEvent | None:
        events = self._events
        if not events:
            return None
        event, self._head = events[self._head], self._head + 1
        if self._head == len(events):
            events.clear()
            self._head = 0
        return event

    def next_deadline(self) -> float | None:
        """When ``handle_timer`` must next be called (monotonic seconds), or None."""
        return self._timers.next_deadline()

    def timer_deadline(self, timer: Timer) -> float | None:
        return self._timers.deadline(timer)

    @property
    def connected(self) -> bool:
        return self.state in _CONNECTED

    # --- inputs: administration ---------------------------------------------------------

    def start(self, now: float, *, passive: bool | None = None) -> None:
        """ManualStart (Event 1), or ManualStart_with_PassiveTcpEstablishment (Event 4)."""
        self.admin_down = False
        if self.state is State.IDLE:
            self._timers.stop(Timer.IDLE_HOLD)
            self._automatic_start(now, "ManualStart", passive)

    def stop(
        self,
        now: float,
        reason: str = "",
        subcode: int = CeaseSubcode.ADMINISTRATIVE_SHUTDOWN,
    ) -> None:
        """ManualStop (Event 2): a Cease with ``subcode`` and, for Administrative
        Shutdown/Reset, ``reason`` as the RFC 8203/9003 shutdown communication."""
        self.admin_down = True
        self.connect_retry_counter = 0
        if self.state in _CONNECTED:
            if subcode in (CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, CeaseSubcode.ADMINISTRATIVE_RESET):
                note = Notification.shutdown(reason[:255], subcode)
            else:
                note = Notification(ErrorCode.CEASE, subcode)
            why = (
                DownReason.MAXIMUM_PREFIX
                if subcode == CeaseSubcode.MAXIMUM_NUMBER_OF_PREFIXES_REACHED
                else DownReason.ADMIN_STOP
            )
            self._fail(now, "ManualStop", why, note, sent=True, detail=reason)
        elif self.state is not State.IDLE:
            self._events.append(CloseRequested())
            self._to_idle(now, "ManualStop")
        self._timers.stop_all()

    def collision_dump(self, now: float) -> None:
        """OpenCollisionDump (Event 23): this connection lost RFC 4271 §6.8 resolution."""
        self.admin_down = True  # the arbiter discards this FSM; it must not restart
        if self.state in _CONNECTED:
            note = Notification(ErrorCode.CEASE, CeaseSubcode.CONNECTION_COLLISION_RESOLUTION)
            self._fail(now, "OpenCollisionDump", DownReason.COLLISION, note, sent=True)
        self._timers.stop_all()

    # --- inputs: transport --------------------------------------------------------------

    def connection_made(self, now: float) -> None:
        """Tcp_CR_Acked / TcpConnectionConfirmed (Events 16, 17), in Connect or Active."""
        if self.state not in (State.CONNECT, State.ACTIVE):
            raise SessionError(f"{self.name}: connection_made in {self.state.value}")
        # RFC 4271 §8.2.2 Connect/Active, Events 16-17: stop ConnectRetry, send OPEN,
        # set the HoldTimer to a large value, go to OpenSent.
        self._timers.stop(Timer.CONNECT_RETRY)
        self._reader = MessageReader()
        self._out.clear()
        self._out += self._open_bytes
        self._timers.start(Timer.HOLD, now, self.config.open_hold_time_s)
        self._set_state(State.OPEN_SENT, "TcpConnectionConfirmed")

    def connection_failed(self, now: float) -> None:
        """TcpConnectionFails (Event 18): an attempt failed, or the connection dropped."""
        if self.state is State.CONNECT:
            # deviation (RFC 4271 §8.2.2 Connect, Event 18 without DelayOpen says Idle):
            # go to Active with ConnectRetry running, as RFC 1771, FRR and BIRD do, so the
            # peer's own connection is accepted while we wait to retry.
            self._timers.start(Timer.CONNECT_RETRY, now, self.config.connect_retry_s, jitter=True)
            self._set_state(State.ACTIVE, "TcpConnectionFails")
        elif self.state is State.OPEN_SENT:
            # RFC 4271 §8.2.2 OpenSent, Event 18: close, restart ConnectRetry, go Active.
            self._events.append(
                SessionDown(DownReason.CONNECTION_LOST, False, detail="connection lost in OpenSent")
            )
            self._timers.stop(Timer.HOLD)
            self._timers.start(Timer.CONNECT_RETRY, now, self.config.connect_retry_s, jitter=True)
            self._set_state(State.ACTIVE, "TcpConnectionFails")
        elif self.state in (State.OPEN_CONFIRM, State.ESTABLISHED):
            self._fail(now, "TcpConnectionFails", DownReason.CONNECTION_LOST, None)
        # Idle/Active: nothing is connected; nothing to do.

    def receive_data(self, data: bytes, now: float) -> None:
        """Bytes from the connection: whole messages are decoded and acted on in order."""
        if self.state not in _CONNECTED:
            return  # late bytes after we closed: dropped
        self._reader.feed(data)
        while self.state in _CONNECTED:
            try:
                item = self._reader.next_message()
            except MessageHeaderError as exc:  # BGPHeaderErr (Event 21)
                self._fail_with_error(now, "BGPHeaderErr", exc)
                return
            if item is None:
                return
            msg_type, raw = item
            self._receive_message(msg_type, raw, now)

    def handle_timer(self, now: float) -> None:
        """Fire every timer due at ``now``."""
        while (timer := self._timers.pop_expired(now)) is not None:
            self._on_timer(timer, now)

    def input_pending(self, now: float) -> None:
        """The driver saw bytes from the peer waiting to be read (in the socket, or queued
        by an in-memory link) while our process was busy: the peer is alive, so restart
        the Hold timer rather than let it expire on our own backlog. FRR does the same by
        reading sockets and refreshing hold timers in a separate I/O thread."""
        if self.state not in _CONNECTED or not self._timers.running(Timer.HOLD):
            return
        if self.negotiated is not None:
            self._restart_hold(now)
        else:  # OpenSent: the large pre-OPEN hold time
            self._timers.start(Timer.HOLD, now, self.config.open_hold_time_s)

    # --- inputs: from the RIB -----------------------------------------------------------

    def send_update(self, message: bytes, now: float) -> None:
        """Queue one encoded UPDATE (Established only)."""
        self.send_updates((message,), now)

    def send_updates(self, messages: Iterable[bytes], now: float) -> None:
        """Queue encoded UPDATEs (Established only), sent at one instant: the keepalive
        restarted once."""
        if self.state is not State.ESTABLISHED:
            raise SessionError(f"{self.name}: send_update in {self.state.value}")
        for message in messages:
            self._out += message
        self._restart_keepalive(now)

    # --- internals ----------------------------------------------------------------------

    def _set_state(self, new: State, cause: str) -> None:
        old, self.state = self.state, new
        if old is not new:
            self._events.append(StateChanged(old, new, cause))

    def _automatic_start(self, now: float, cause: str, passive: bool | None) -> None:
        # RFC 4271 §8.2.2 Idle, Events 1/3/4/5: ConnectRetryCounter stays, start the
        # ConnectRetryTimer, then initiate a connection (Connect) or listen (Active).
        self._timers.start(Timer.CONNECT_RETRY, now, self.config.connect_retry_s, jitter=True)
        if passive if passive is not None else self.config.passive:
            self._set_state(State.ACTIVE, cause)
        else:
            self._events.append(ConnectRequested())
            self._set_state(State.CONNECT, cause)

    def automatic_start_passive(self, now: float) -> None:
        """AutomaticStart_with_PassiveTcpEstablishment (Event 5): the arbiter uses it when
        the peer connects while we sit in Idle waiting to restart."""
        if self.state is State.IDLE and not self.admin_down:
            self._timers.stop(Timer.IDLE_HOLD)
            self._automatic_start(now, "AutomaticStart_with_PassiveTcpEstablishment", True)

    def _on_timer(self, timer: Timer, now: float) -> None:
        state = self.state
        if timer is Timer.IDLE_HOLD:
            if state is State.IDLE and not self.admin_down:
                self._automatic_start(now, "AutomaticStart", None)
        elif timer is Timer.CONNECT_RETRY:  # Event 9
            if state is State.CONNECT:
                # RFC 4271 §8.2.2 Connect, Event 9: drop the attempt, restart the timer,
                # initiate again (ConnectRequested supersedes an attempt in progress).
                self._timers.start(
                    Timer.CONNECT_RETRY, now, self.config.connect_retry_s, jitter=True
                )
                self._events.append(ConnectRequested())
            elif state is State.ACTIVE:
                self._timers.start(
                    Timer.CONNECT_RETRY, now, self.config.connect_retry_s, jitter=True
                )
                if not self.config.passive:
                    # RFC 4271 §8.2.2 Active, Event 9: initiate a connection, go Connect.
                    self._events.append(ConnectRequested())
                    self._set_state(State.CONNECT, "ConnectRetryTimer_Expires")
        elif timer is Timer.HOLD:  # Event 10
            if state in _CONNECTED:
                note = Notification(ErrorCode.HOLD_TIMER_EXPIRED, 0)
                self._fail(now, "HoldTimer_Expires", DownReason.HOLD_TIMER_EXPIRED, note, sent=True)
        elif timer is Timer.KEEPALIVE and state in (State.OPEN_CONFIRM, State.ESTABLISHED):
            self._out += _KEEPALIVE_BYTES  # Event 11
            self._restart_keepalive(now)

    def _restart_keepalive(self, now: float) -> None:
        # RFC 4271 §8.2.2 Established: each KEEPALIVE or UPDATE sent restarts it, unless
        # the negotiated hold time is zero.
        if self.negotiated is not None and self.negotiated.hold_time_s:
            self._timers.start(Timer.KEEPALIVE, now, self.negotiated.keepalive_s, jitter=True)

    def _restart_hold(self, now: float) -> None:
        if self.negotiated is not None and self.negotiated.hold_time_s:
            self._timers.start(Timer.HOLD, now, self.negotiated.hold_time_s)

    def _receive_message(self, msg_type: int, raw: bytes, now: float) -> None:
        try:
            # The reader checked the header with the codec now in force (``_on_open``).
            msg = decode_framed(msg_type, raw, self._reader.ctx)
        except UpdateMessageError as exc:
            if self.state is State.ESTABLISHED:
                self._on_update(exc, now)
            else:
                self._unexpected(now, MessageType.UPDATE)
            return
        except BgpError as exc:
            if msg_type == MessageType.OPEN and self.state is State.OPEN_SENT:
                self._fail_with_error(now, "BGPOpenMsgErr", exc)  # Event 22
            elif msg_type == MessageType.ROUTE_REFRESH and self.state is State.ESTABLISHED:
                self._fail_with_error(now, "RouteRefreshMsgErr", exc)  # RFC 7313 §5
            elif msg_type in (MessageType.OPEN, MessageType.ROUTE_REFRESH):
                self._unexpected(now, msg_type)
            else:
                self._fail_with_error(now, "BGPHeaderErr", exc)
            return
        if isinstance(msg, Notification):
            self._on_notification(msg, now)
        elif isinstance(msg, Open):
            self._on_open(msg, now)
        elif isinstance(msg, Keepalive):
            self._on_keepalive(now)
        elif isinstance(msg, Update):
            if self.state is not State.ESTABLISHED:
                self._unexpected(now, MessageType.UPDATE)
                return
            self._on_update(msg, now)
        elif isinstance(msg, RouteRefresh):
            if self.state is not State.ESTABLISHED:
                self._unexpected(now, MessageType.ROUTE_REFRESH)
                return
            self._restart_hold(now)
            assert self.negotiated is not None
            # RFC 2918 §4 / RFC 7313 §5: only if negotiated; unknown subtypes are ignored.
            # RFC 7313 §3.2: subtype 0 asks for our Adj-RIB-Out; BoRR (1) and EoRR (2) frame
            # the peer's own re-advertisement and ask for nothing. deviation (RFC 7313 §4):
            # we keep no stale marks between them, so a route the peer drops without a
            # withdrawal during its refresh stays until withdrawn.
            if self.negotiated.route_refresh and msg.subtype == 0:
                self._events.append(RouteRefreshReceived(msg))

    def _on_notification(self, note: Notification, now: float) -> None:
        # RFC 4271 §8.2.2: NotifMsgVerErr (Event 24) / NotifMsg (Event 25) -> Idle, no reply.
        is_version = (note.code, note.subcode) == (
            ErrorCode.OPEN_MESSAGE_ERROR,
            OpenSubcode.UNSUPPORTED_VERSION_NUMBER,
        )
        cause = "NotifMsgVerErr" if is_version else "NotifMsg"
        self._fail(now, cause, DownReason.NOTIFICATION_RECEIVED, note, sent=False)

    def _on_open(self, msg: Open, now: float) -> None:
        if self.state is not State.OPEN_SENT:
            self._unexpected(now, MessageType.OPEN)
            return
        try:
            negotiated = negotiate(self.config, msg)
        except BgpError as exc:
            self._fail_with_error(now, "BGPOpenMsgErr", exc)
            return
        # RFC 4271 §8.2.2 OpenSent, Event 19: send KEEPALIVE, set the Keepalive and Hold
        # timers from the negotiated hold time (neither if it is 0), go to OpenConfirm.
        self.negotiated = negotiated
        self._reader.ctx = negotiated.codec  # RFC 8654: larger messages from now on
        self._timers.stop(Timer.CONNECT_RETRY)
        self._timers.stop(Timer.HOLD)
        self._out += _KEEPALIVE_BYTES
        self._restart_keepalive(now)
        self._restart_hold(now)
        self._set_state(State.OPEN_CONFIRM, "BGPOpen")

    def _on_keepalive(self, now: float) -> None:
        if self.state is State.OPEN_SENT:
            self._unexpected(now, MessageType.KEEPALIVE)
        elif self.state is State.OPEN_CONFIRM:
            # RFC 4271 §8.2.2 OpenConfirm, Event 26: restart HoldTimer, go Established.
            self._restart_hold(now)
            self._idle_hold_s = self.config.idle_hold_s
            self.connect_retry_counter = 0
            self._set_state(State.ESTABLISHED, "KeepAliveMsg")
            assert self.negotiated is not None
            self._events.append(SessionEstablished(self.negotiated))
        else:
            self._restart_hold(now)

    def _on_update(self, received: Update | UpdateMessageError, now: float) -> None:
        """UpdateMsg / UpdateMsgErr (Events 27, 28) in Established: what the codec returned
        or raised gets one RFC 7606 verdict with the session's own checks
        (``judge_update``), whose strongest action is applied here, once."""
        assert self.negotiated is not None
        self._restart_hold(now)
        verdict = judge_update(received, self._session_view())
        if isinstance(verdict, Update):
            self._events.append(UpdateReceived(verdict))
            return
        action = verdict.action
        if action is ErrorAction.AFI_SAFI_DISABLE and verdict.afi_safi is not None:
            self.disabled_families |= {verdict.afi_safi}
            self._events.append(FamilyDisabled(verdict.afi_safi[0], verdict.afi_safi[1], verdict))
        elif action is ErrorAction.TREAT_AS_WITHDRAW and verdict.update is not None:
            self._events.append(UpdateWithdrawn(verdict.update, verdict))
        elif action is ErrorAction.ATTRIBUTE_DISCARD and verdict.update is not None:
            self._events.append(UpdateReceived(verdict.update, verdict))
        else:  # SESSION_RESET (Event 28, UpdateMsgErr)
            self._fail_with_error(now, "UpdateMsgErr", verdict)

    def _session_view(self) -> SessionView:
        """Built once per session and per family disabled (it grows only, and is cleared
        with ``negotiated``), not once per UPDATE."""
        negotiated = self.negotiated
        assert negotiated is not None
        view = self._view
        if view is None or view[0] is not negotiated or view[1] != len(self.disabled_families):
            built = SessionView(
                peer_as=negotiated.peer_as,
                local_as=self.config.local_as,
                local_addresses=self.config.local_addresses,
                enforce_first_as=self.config.enforce_first_as,
                # RFC 4760 §7: only what was negotiated, less what RFC 7606 disabled.
                families=negotiated.families - self.disabled_families
                if self.disabled_families
                else negotiated.families,
            )
            view = self._view = (negotiated, len(self.disabled_families), built)
        return view[2]

    def _unexpected(self, now: float, msg_type: int) -> None:
        # RFC 6608 §3: the subcode names the state the unexpected message arrived in.
        note = Notification(ErrorCode.FINITE_STATE_MACHINE_ERROR, _FSM_SUBCODE[self.state])
        detail = f"unexpected {MessageType(msg_type).name} in {self.state.value}"
        self._fail(now, "FsmError", DownReason.NOTIFICATION_SENT, note, sent=True, detail=detail)

    def _fail_with_error(self, now: float, cause: str, exc: BgpError) -> None:
        self._fail(
            now,
            cause,
            DownReason.NOTIFICATION_SENT,
            exc.to_notification(),
            sent=True,
            detail=str(exc),
        )

    def _fail(
        self,
        now: float,
        cause: str,
        reason: DownReason,
        note: Notification | None,
        *,
        sent: bool = False,
        detail: str = "",
    ) -> None:
        """Leave a connected state for Idle: send ``note`` if ``sent``, close, report."""
        was_established = self.state is State.ESTABLISHED
        if note is not None and sent:
            self._out += encode_message(note, self._reader.ctx)
        self._events.append(CloseRequested())
        self._events.append(SessionDown(reason, was_established, note, sent, detail))
        self._to_idle(now, cause)

    def _to_idle(self, now: float, cause: str) -> None:
        # RFC 4271 §8.2.2: release resources, ConnectRetryCounter + 1, timers stopped.
        self._timers.stop_all()
        self.connect_retry_counter += 1
        self.negotiated = None
        self.disabled_families = NO_FAMILIES
        self._reader = MessageReader()
        self._set_state(State.IDLE, cause)
        if not self.admin_down:
            # DampPeerOscillations (RFC 4271 §8.1.1): wait, doubling up to a cap.
            self._timers.start(Timer.IDLE_HOLD, now, self._idle_hold_s, jitter=True)
            self._idle_hold_s = min(self._idle_hold_s * 2, self.config.max_idle_hold_s)
