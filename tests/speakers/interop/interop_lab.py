"""One interop lab: bagemu and one peer daemon, each in its own namespace, joined by two
veth links (interop_plan.py says what runs over them), torn down whatever happens.

``open_lab("frr")`` makes a run id, a work directory (``/tmp/bagemu-interop-<run>-*``:
configurations, sockets, pid files and logs of this run only; the FRR daemons, which drop
to their own user, need a directory they can reach, hence not pytest's tmp_path), the two
namespaces and links, starts the peer then bagemu, and yields the ``Lab``. On the way out
it stops both (SIGTERM, then SIGKILL), deletes the namespaces and the work directory: all
it made and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import bird_peer
import frr_peer
import gobgp_peer
from bagemu_speaker import BagemuSpeaker
from interop_plan import GracefulTimers, Plan, make_plan
from netlab import NetLab, Netns, new_run_id
from peer_api import Peer

PeerFactory = Callable[[Netns, Path, Plan], Peer]

# name -> (why it cannot run here or None, constructor)
PEERS: dict[str, tuple[Callable[[], str | None], PeerFactory]] = {
    "frr": (frr_peer.missing, frr_peer.FrrPeer),
    "gobgp": (gobgp_peer.missing, gobgp_peer.GoBgpPeer),
    "bird": (bird_peer.missing, bird_peer.BirdPeer),
}


def why_not(peer: str) -> str | None:
    """Why a lab with ``peer`` cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root: network namespaces and veth pairs"
    if shutil.which("ip") is None:
        return "no ip command (Debian package iproute2)"
    return PEERS[peer][0]()


@dataclass(frozen=True, slots=True)
class Lab:
    plan: Plan
    bagemu: BagemuSpeaker
    peer: Peer
    bagemu_ns: Netns
    peer_ns: Netns
    workdir: Path

    def logs(self) -> str:
        return f"--- bagemu ---\n{self.bagemu.process.log_tail()}\n{self.peer.logs()}"


@contextlib.contextmanager
def open_lab(peer_name: str, graceful: GracefulTimers | None = None) -> Iterator[Lab]:
    """The lab for ``peer_name``; ``graceful``: both sides restart gracefully, with those
    timers (interop_plan.py)."""
    run_id = new_run_id()
    workdir = Path(tempfile.mkdtemp(prefix=f"bagemu-interop-{run_id}-"))
    workdir.chmod(0o711)  # the peer's own directory below is reached by its user
    try:
        with NetLab(run_id) as net:
            bagemu_ns, peer_ns = net.namespace("b"), net.namespace("p")
            links = {i: net.link(bagemu_ns, peer_ns, i).addresses for i in (1, 2)}
            plan = make_plan(run_id, links, graceful)
            (workdir / "bagemu").mkdir()
            (workdir / peer_name).mkdir()
            peer = PEERS[peer_name][1](peer_ns, workdir / peer_name, plan)
            bagemu = BagemuSpeaker(bagemu_ns, workdir / "bagemu", plan)
            lab = Lab(plan, bagemu, peer, bagemu_ns, peer_ns, workdir)
            try:
                try:
                    peer.start()
                    bagemu.start()
                except BaseException:
                    print(lab.logs())  # pytest shows it with the failed setup
                    raise
                yield lab
            finally:
                bagemu.stop()
                peer.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
