"""The BGP port of a region whose speakers listen on this host's loopback addresses.

Every embedded region numbers its speakers' addresses the same way (127.64.0.0/10 in
file order), so two regions of one host (a user's ``bagctl up``, a CI job, the test
suite) would both listen on 127.64.0.1:1179 and the second would fail to start. Unless a
port is given, a region takes ``DEFAULT_PORT`` if it is free on every address it
listens on, else the next port that is: it probes by binding, as its listeners will
(SO_REUSEADDR). Two regions starting at the same instant can still pick the same port;
the second then fails to start, naming the address in use, and touches nothing of the
first.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

from speakers.wire.prefix import IPAddress

from ..topology.configs import DEFAULT_PORT

TRIES = 2000


def free_on_all(addresses: Iterable[IPAddress], first: int = DEFAULT_PORT) -> int:
    """The first port from ``first`` on which every one of ``addresses`` can listen."""
    wanted = sorted(set(addresses), key=str)
    for port in range(first, min(first + TRIES, 65536)):
        if all(_bindable(address, port) for address in wanted):
            return port
    raise OSError(f"no port from {first} is free on all {len(wanted)} speaker addresses")


def _bindable(address: IPAddress, port: int) -> bool:
    family = socket.AF_INET if address.version == 4 else socket.AF_INET6
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((str(address), port))
        except OSError:
            return False
    return True


__all__ = ["free_on_all"]
