"""Two peers over real loopback TCP: sessions come up, UPDATEs flow, links fail."""

from __future__ import annotations

import asyncio
import ipaddress
import random
import shutil
import subprocess

import pytest

from speakers.session import (
    DownReason,
    Session,
    SessionConfig,
    SessionDown,
    SessionEstablished,
    SessionEvent,
    UpdateReceived,
)
from speakers.session.peer import Peer
from speakers.transport import Endpoint, Listener, PeerTransport
from speakers.transport.listener import BACKLOG
from speakers.wire import AsPath, Origin, PathAttributes, Prefix, Update, encode_message

IP = ipaddress.ip_address


class Side:
    """One speaker's end: a listener and a PeerTransport, with its events recorded."""

    def __init__(
        self, local: str, remote: str, asn: int, peer_as: int, port: int, **kw: object
    ) -> None:
        cfg = SessionConfig(
            local_as=asn,
            router_id=ipaddress.IPv4Address(local),
            peer_as=peer_as,
            connect_retry_s=0.5,
            idle_hold_s=0.2,
            **kw,  # type: ignore[arg-type]
        )
        self.events: list[SessionEvent] = []
        self.changed = asyncio.Event()
        self.listener = Listener(IP(local), port)
        self.endpoint = Endpoint(IP(local), IP(remote), port)
        self.peer = Peer(cfg, rng=random.Random(asn), name=f"to-{remote}")
        self.transport: PeerTransport | None = None
        self.cfg = cfg

    def make(self, md5: str | None = None, gtsm: bool = False) -> None:
        ep = self.endpoint
        self.endpoint = Endpoint(
            ep.local_address, ep.remote_address, ep.port, md5, ttl_security=gtsm
        )
        self.transport = PeerTransport(self.peer, self.endpoint, self._on_event)
        self.listener.peers[self.endpoint.remote_address] = self.transport

    def _on_event(self, session: Session, event: SessionEvent) -> None:
        self.events.append(event)
        self.changed.set()

    async def wait_for(self, predicate, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    def count(self, kind: type) -> int:
        return sum(isinstance(e, kind) for e in self.events)


async def pair(
    a_addr: str,
    b_addr: str,
    port: int,
    md5: tuple[str | None, str | None] = (None, None),
    gtsm: tuple[bool, bool] = (False, False),
) -> tuple[Side, Side]:
    a = Side(a_addr, b_addr, 65001, 65002, port)
    b = Side(b_addr, a_addr, 65002, 65001, port)
    a.make(md5[0], gtsm[0])
    b.make(md5[1], gtsm[1])
    await a.listener.start()
    await b.listener.start()
    assert a.transport and b.transport
    a.transport.start()
    b.transport.start()
    return a, b


def close(*sides: Side) -> None:
    for side in sides:
        assert side.transport is not None
        side.transport.close()
        side.listener.close()


async def test_sessions_establish_and_an_update_crosses() -> None:
    a, b = await pair("127.0.11.1", "127.0.11.2", 17911)
    try:
        await a.wait_for(lambda: a.count(SessionEstablished) == 1)
        await b.wait_for(lambda: b.count(SessionEstablished) == 1)
        attrs = PathAttributes(
            origin=Origin.IGP,
            as_path=AsPath.sequence(65001),
            next_hop=ipaddress.IPv4Address("127.0.11.1"),
        )
        assert a.transport is not None
        update = Update(attributes=attrs, nlri=(Prefix.parse("10.1.0.0/16"),))
        assert a.transport.send_updates([encode_message(update)]) == 1
        await b.wait_for(lambda: b.count(UpdateReceived) == 1)
        (got,) = [e for e in b.events if isinstance(e, UpdateReceived)]
        assert got.update.nlri == (Prefix.parse("10.1.0.0/16"),)
        assert len(a.peer.sessions()) == 1 and len(b.peer.sessions()) == 1  # collision resolved
    finally:
        close(a, b)


async def test_admin_down_sends_cease_and_peer_sees_it_at_once() -> None:
    a, b = await pair("127.0.12.1", "127.0.12.2", 17912)
    try:
        await a.wait_for(lambda: a.count(SessionEstablished) == 1)
        await b.wait_for(lambda: b.count(SessionEstablished) == 1)
        assert a.transport is not None
        a.transport.stop("link admin down")

        def established_down() -> list[SessionDown]:
            return [e for e in b.events if isinstance(e, SessionDown) and e.was_established]

        await b.wait_for(lambda: bool(established_down()))
        down = established_down()[0]
        assert down.reason is DownReason.NOTIFICATION_RECEIVED
        assert (
            down.notification is not None
            and down.notification.shutdown_communication == "link admin down"
        )
    finally:
        close(a, b)


async def test_dropped_link_is_seen_as_connection_lost_and_sessions_come_back() -> None:
    a, b = await pair("127.0.13.1", "127.0.13.2", 17913)
    try:
        await a.wait_for(lambda: a.count(SessionEstablished) == 1)
        assert a.transport is not None
        a.transport.drop()
        await b.wait_for(
            lambda: any(
                isinstance(e, SessionDown) and e.reason is DownReason.CONNECTION_LOST
                for e in b.events
            )
        )
        await a.wait_for(lambda: a.count(SessionEstablished) == 2)
        await b.wait_for(lambda: b.count(SessionEstablished) == 2)
        # A link that fails: no NOTIFICATION crosses it, and the side that saw it fail
        # says so (issue 18: it said "admin-stop: Cease/Administrative Shutdown").
        a.transport.link_down()
        (down,) = [e for e in a.events if isinstance(e, SessionDown) and e.was_established][1:]
        assert down.reason is DownReason.CONNECTION_LOST and down.notification is None
    finally:
        close(a, b)


async def test_tcp_md5_match_and_mismatch() -> None:
    a, b = await pair("127.0.14.1", "127.0.14.2", 17914, md5=("s3cret", "s3cret"))
    try:
        await a.wait_for(lambda: a.count(SessionEstablished) == 1)
    finally:
        close(a, b)
    a, b = await pair("127.0.15.1", "127.0.15.2", 17915, md5=("s3cret", "other"))
    try:
        with pytest.raises(TimeoutError):
            await a.wait_for(lambda: a.count(SessionEstablished) == 1, timeout=2.0)
    finally:
        close(a, b)


async def test_gtsm_both_sides_connect_and_one_side_alone_does_not() -> None:
    """RFC 5082: with GTSM both ends send at TTL 255 and accept only TTL 255 (one hop);
    loopback keeps the TTL as sent, so a peer sending at the default 64 never gets a
    segment through to the GTSM side, in either direction."""
    a, b = await pair("127.0.16.1", "127.0.16.2", 17916, gtsm=(True, True))
    try:
        await a.wait_for(lambda: a.count(SessionEstablished) == 1)
        await b.wait_for(lambda: b.count(SessionEstablished) == 1)
    finally:
        close(a, b)
    a, b = await pair("127.0.17.1", "127.0.17.2", 17917, gtsm=(False, True))
    try:
        with pytest.raises(TimeoutError):
            await a.wait_for(lambda: a.count(SessionEstablished) == 1, timeout=2.0)
        assert b.count(SessionEstablished) == 0
    finally:
        close(a, b)


async def test_a_listener_whose_address_is_taken_raises_and_leaks_no_socket() -> None:
    """The bind fails (address in use): the error reaches the caller and the socket is
    closed at once, not left for the collector (a ResourceWarning in someone else's test)."""
    import errno
    import gc
    import socket as socketlib
    import warnings

    taken = socketlib.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        port = taken.getsockname()[1]
        listener = Listener(IP("127.0.0.1"), port)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            # The address and port are named: regions of one host differ by port.
            with pytest.raises(OSError, match=f"127.0.0.1 port {port}: .*in use") as raised:
                await listener.start()
            assert raised.value.errno == errno.EADDRINUSE
            gc.collect()
        assert not [w for w in seen if issubclass(w.category, ResourceWarning)]
    finally:
        taken.close()


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2)")
async def test_the_listener_keeps_its_backlog() -> None:
    """Its backlog is ``BACKLOG`` (asyncio's create_server would listen again with 100):
    ``ss`` shows a listening socket's backlog as its Send-Q."""
    listener = Listener(IP("127.0.18.1"), 0)
    await listener.start()
    try:
        out = subprocess.run(
            ["ss", "-ltnH", f"src 127.0.18.1:{listener.port}"],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        assert out[0] == "LISTEN" and int(out[2]) == BACKLOG == 512
    finally:
        listener.close()
