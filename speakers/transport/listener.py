"""``Listener``: one speaker's listening socket (or in-memory listener), handing each
incoming connection to the ``PeerTransport`` of the neighbor at its remote address and
refusing strangers (RFC 4486 §4: Cease/Connection Rejected)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket

from ..memnet import MemoryNetwork, MemoryTransport
from ..session.peer import REFUSAL
from ..wire.prefix import IPAddress
from .connection import Connection
from .gtsm import set_gtsm
from .peer_transport import PeerTransport
from .tcp_md5 import set_md5

BACKLOG = 512  # connections waiting to be accepted: a whole fabric may dial at once


class Listener:
    """One speaker's listening socket: hands each incoming connection to the
    ``PeerTransport`` of the neighbor at the remote address, and refuses strangers."""

    def __init__(self, address: IPAddress, port: int, network: MemoryNetwork | None = None) -> None:
        self.address = address
        self.port = port
        self.network = network
        self.peers: dict[IPAddress, PeerTransport] = {}
        self._server: asyncio.Server | None = None
        self._sock: socket.socket | None = None

    async def start(self) -> None:
        if self.network is not None:
            self.port = self.network.listen(self.address, self.port, self._accept_memory)
            return
        family = socket.AF_INET if self.address.version == 4 else socket.AF_INET6
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((str(self.address), self.port))
            except OSError as e:
                # Named: the kernel's "Address already in use" says neither (regions of
                # one host share their speakers' addresses and differ by port).
                where = f"{self.address} port {self.port}"
                raise OSError(e.errno, f"cannot listen on {where}: {e.strerror or e}") from e
            for remote, pt in self.peers.items():
                if pt.endpoint.md5_password:
                    set_md5(sock, remote, pt.endpoint.md5_password)
            gtsm = [pt.endpoint.ttl_security for pt in self.peers.values()]
            if gtsm and all(gtsm):
                set_gtsm(sock, self.address.version)  # even a forged SYN is dropped
            sock.setblocking(False)
        except BaseException:
            sock.close()  # e.g. the address is in use: no socket left for the GC to find
            raise
        self._sock = sock
        self.port = sock.getsockname()[1]
        loop = asyncio.get_running_loop()
        # create_server listens again (its default backlog, 100, would replace ours).
        self._server = await loop.create_server(self._factory, sock=sock, backlog=BACKLOG)

    def _factory(self) -> Connection:
        return _IncomingProtocol(self)

    def _accept_memory(self, transport: MemoryTransport) -> None:
        proto = _IncomingProtocol(self)
        transport.protocol = proto
        proto.connection_made(transport)

    def close(self) -> None:
        if self.network is not None:
            self.network.unlisten(self.address, self.port)
        if self._server is not None:
            self._server.close()


class _IncomingProtocol(Connection):
    def __init__(self, listener: Listener) -> None:
        super().__init__(owner=None, session=None)
        self.listener = listener

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        host = transport.get_extra_info("peername")[0]
        with contextlib.suppress(ValueError):
            remote = ipaddress.ip_address(host.split("%")[0])
            pt = self.listener.peers.get(remote)
            if pt is not None:
                sock = transport.get_extra_info("socket")
                if pt.endpoint.ttl_security and sock is not None:
                    set_gtsm(sock, remote.version)  # (the listener's own, when all have it)
                pt.accept(self)
                return
        self.write(REFUSAL)  # RFC 4486 §4: Connection Rejected, not a configured peer
        self.close()
