"""``Routes`` (routes.py): UPDATEs from a neighbor into the Loc-RIB, without sockets."""

from __future__ import annotations

import ipaddress
import random
from dataclasses import replace

from speakers.config import NeighborConfig, SpeakerConfig
from speakers.export import ExportQueue
from speakers.neighbor import Neighbor
from speakers.rib import Path, PeerInfo, RouteChange
from speakers.routes import Routes
from speakers.wire import AsPath, Origin, PathAttributes, Prefix, Update

V4 = ipaddress.IPv4Address
PEER = V4("192.0.2.2")


def setup() -> tuple[Routes, Neighbor, list[RouteChange]]:
    config = NeighborConfig(name="up", address=PEER, remote_as=65001, local_address=V4("192.0.2.1"))
    speaker = SpeakerConfig(
        name="x", asn=65000, router_id=V4("10.0.0.1"), listen_address=V4("192.0.2.1"),
        neighbors=(config,),
    )  # fmt: skip
    nb = Neighbor.configured(config, speaker, random.Random(1))
    nb.info = PeerInfo("up", PEER, 65001, V4("10.0.0.2"), ebgp=True)  # as once established
    routes = Routes(speaker, {"up": nb}, ExportQueue(0.0, random.Random(1)), lambda: None)
    changes: list[RouteChange] = []
    routes.route_events.append(changes.append)
    return routes, nb, changes


def attrs(*asns: int) -> PathAttributes:
    return PathAttributes(origin=Origin.IGP, as_path=AsPath.sequence(*asns), next_hop=PEER)


def announce(routes: Routes, nb: Neighbor, attributes: PathAttributes, *prefixes: str) -> None:
    routes.receive(nb, Update(attributes=attributes, nlri=tuple(map(Prefix.parse, prefixes))))


def best(routes: Routes, prefix: str) -> Path:
    dest = routes.loc_rib.get(Prefix.parse(prefix))
    assert dest is not None and dest.best is not None
    return dest.best


def test_updates_with_equal_attributes_share_one_path() -> None:
    # A peer flooding one prefix per UPDATE: one Path for the run, not one per UPDATE.
    routes, nb, _ = setup()
    announce(routes, nb, attrs(65001, 1), "10.1.0.0/24")
    announce(routes, nb, attrs(65001, 1), "10.2.0.0/24")  # equal, another object
    assert best(routes, "10.1.0.0/24") is best(routes, "10.2.0.0/24")
    announce(routes, nb, attrs(65001, 2), "10.3.0.0/24")
    assert best(routes, "10.3.0.0/24") != best(routes, "10.1.0.0/24")


def test_a_new_session_gets_new_paths_and_equal_ones_change_nothing() -> None:
    routes, nb, changes = setup()
    announce(routes, nb, attrs(65001, 1), "10.1.0.0/24")
    announce(routes, nb, attrs(65001, 1), "10.1.0.0/24")  # the same route again
    assert len(changes) == 1
    assert nb.info is not None
    nb.info = replace(nb.info, router_id=V4("10.0.0.3"))  # the session came back
    announce(routes, nb, attrs(65001, 1), "10.2.0.0/24")
    path = best(routes, "10.2.0.0/24")
    assert path is not best(routes, "10.1.0.0/24")
    assert path.source is nb.info
