"""The asyncio adapters around ``Peer``: the only package of ``speakers`` that does I/O.

After every input (bytes, a connection coming or going, a timer) the adapter drains each
FSM of the peer: bytes go to that FSM's TCP connection, ``ConnectRequested`` starts a dial,
``CloseRequested`` closes, and everything else goes to the speaker's ``on_event``. Then it
resolves collisions and re-arms one timer at the earliest deadline (aioquic's
``asyncio/protocol.py`` shape).

Sockets: each speaker binds its own address (127.x.y.z, ::1 or a namespace address) for
both listening and dialing, sets TCP_NODELAY, and optionally TCP-MD5 (RFC 2385) per
neighbor through Linux's ``TCP_MD5SIG``.

Modules: ``peer_transport.py`` (``PeerTransport``, the adapter), ``connection.py``
(``Connection``, one connection's asyncio protocol), ``inputs.py`` (the delay model),
``barrier.py`` (TCP across the steps of a region's clock), ``endpoint.py`` (where a
neighbor is), ``listener.py`` (accepting connections), ``tcp_md5.py`` (the socket
option).
"""

from .connection import CLOSE_GRACE_S, Connection
from .endpoint import Endpoint
from .listener import Listener
from .peer_transport import PeerTransport
from .tcp_md5 import TCP_MD5SIG, md5sig_option, set_md5

__all__ = [
    "CLOSE_GRACE_S",
    "TCP_MD5SIG",
    "Connection",
    "Endpoint",
    "Listener",
    "PeerTransport",
    "md5sig_option",
    "set_md5",
]
