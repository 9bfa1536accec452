"""A neighbor's session brought up against a sans-IO peer: what tests of the RIB and the
export need of a session (its negotiated families and codec), without sockets."""

from __future__ import annotations

import ipaddress
import random

from speakers.neighbor import Neighbor
from speakers.session import Session, SessionConfig


def establish(nb: Neighbor, peer_as: int, peer_id: ipaddress.IPv4Address, local_as: int) -> None:
    """``nb``'s primary session Established with a peer of ``peer_as`` and BGP ID ``peer_id``."""
    ours = nb.peer.primary
    theirs = Session(SessionConfig(peer_as, peer_id, local_as), rng=random.Random(2))
    ours.start(0.0)
    theirs.start(0.0, passive=True)
    ours.connection_made(0.0)
    theirs.connection_made(0.0)
    for _ in range(4):  # OPENs, then KEEPALIVEs
        theirs.receive_data(ours.data_to_send(), 0.0)
        ours.receive_data(theirs.data_to_send(), 0.0)
    assert ours.negotiated is not None and nb.established
