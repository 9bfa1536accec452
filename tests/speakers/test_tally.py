"""``UpdateTally`` (speakers/neighbor.py), shared by the speakers of a shard: after any
sequence of UPDATEs in and out, sessions up and down, and speakers leaving it (a restart's
old instance, ``detach``), each sum is the walk over the neighbors still counted there."""

from __future__ import annotations

import random
from ipaddress import IPv4Address, ip_address

from hypothesis import given
from hypothesis import strategies as st

from speakers.config import NeighborConfig, SpeakerConfig
from speakers.neighbor import Neighbor, UpdateTally
from speakers.session import DownReason, Negotiated, SessionDown

SPEAKERS, NEIGHBORS = 3, 3
OPS = ("in", "out", "established", "down", "detach")


def speaker_config(i: int) -> SpeakerConfig:
    return SpeakerConfig(
        name=f"s{i}",
        asn=65000 + i,
        router_id=IPv4Address(f"10.0.0.{i + 1}"),
        listen_address=ip_address(f"10.0.0.{i + 1}"),
        neighbors=tuple(
            NeighborConfig(
                f"s{i}-n{j}", ip_address(f"10.{i}.{j}.2"), 64000 + j, ip_address(f"10.{i}.{j}.1")
            )
            for j in range(NEIGHBORS)
        ),
    )


def negotiated(peer_as: int) -> Negotiated:
    return Negotiated(
        peer_as, IPv4Address("10.9.9.9"), 9, 3.0, frozenset({(1, 1)}), True, False, True, False
    )


@given(
    st.lists(
        st.tuples(
            st.sampled_from(OPS),
            st.integers(0, SPEAKERS - 1),
            st.integers(0, NEIGHBORS - 1),
            st.integers(1, 5),
        ),
        max_size=80,
    )
)
def test_the_tally_is_the_sum_over_the_neighbors_counted(
    ops: list[tuple[str, int, int, int]],
) -> None:
    tally = UpdateTally()
    rng = random.Random(0)
    configs = [speaker_config(i) for i in range(SPEAKERS)]
    speakers = [[Neighbor.configured(nb, c, rng, False) for nb in c.neighbors] for c in configs]
    counted = set(range(SPEAKERS))
    for group in speakers:
        for nb in group:
            nb.tally = tally
    for op, s, n, count in ops:
        nb = speakers[s][n]
        if op == "in":
            nb.update_received()
        elif op == "out":
            nb.updates_sent(count)
        elif op == "established":
            nb.session_established(negotiated(nb.config.remote_as), configs[s].asn, 0.0)
        elif op == "down":
            nb.session_down(SessionDown(DownReason.CONNECTION_LOST, was_established=True))
        elif s in counted:  # a restarted speaker's old instance leaves the shard's tally
            tally.detach(speakers[s])
            counted.discard(s)
        neighbors = [nb for i in counted for nb in speakers[i]]
        assert tally == UpdateTally(
            sum(nb.updates_in for nb in neighbors),
            sum(nb.updates_out for nb in neighbors),
            sum(nb.session_updates_in for nb in neighbors),
            sum(nb.session_updates_out for nb in neighbors),
        )
    # A detached neighbor counts apart, from where it stood.
    for i in set(range(SPEAKERS)) - counted:
        for nb in speakers[i]:
            assert nb.tally is not tally
            assert nb.tally.updates_out == nb.updates_out
