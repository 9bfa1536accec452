"""What a converged lab looks like, from both sides, as checks for ``wait_until``: each
returns None when what it expects holds, else what differs.

The expectations come from the plan alone (interop_plan.py): the paths each side should
hold, their next hops and AS paths, the link bandwidth the peer should read (as that peer
stores it: ``Peer.lb_wraps_at_32_bits``) and the UCMP shares each FIB should give them.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable
from functools import partial

from interop_lab import Lab
from interop_plan import (
    AS_TRANS,
    BAGEMU_ORIGIN_BPS,
    BAGEMU_PREFIXES,
    PEER_PREFIXES,
    Session,
    f32,
)
from peer_api import Peer, PeerPath

ESTABLISHED = "Established"


def _addr(text: str) -> str:
    return str(ipaddress.ip_address(text))


def _version(prefix: str) -> int:
    return 6 if ":" in prefix else 4


def lb_as_read(peer: Peer, session: Session, route_bps: float) -> float:
    """The bytes/s ``peer`` should show for bagemu's community on ``session``, for a
    route of ``route_bps``: the binary32 on the wire, or that as a wrapped uint32."""
    value = f32(session.bagemu_bps(route_bps) / 8)
    return float(int(value) % 2**32) if peer.lb_wraps_at_32_bits else value


def all_established(lab: Lab) -> str | None:
    ours = {name: state for name, state in lab.bagemu.sessions().items() if state != ESTABLISHED}
    theirs = {_addr(a) for a in lab.peer.established()}
    expected = {str(s.bagemu_address) for s in lab.plan.sessions}
    if ours or theirs != expected:
        return f"bagemu not established: {ours}; {lab.peer.name} established: {sorted(theirs)}"
    return None


def none_established(lab: Lab) -> str | None:
    up = lab.peer.established()
    return None if not up else f"{lab.peer.name} still established with {sorted(up)}"


def _path_problems(lab: Lab, path: PeerPath, s: Session, route_bps: float) -> list[str]:
    problems = []
    if _addr(path.next_hop) != str(s.bagemu_address):
        problems.append(f"next hop {path.next_hop}")
    if path.as_path != (lab.plan.bagemu_as,):
        problems.append(f"AS path {path.as_path}, expected ({lab.plan.bagemu_as},)")
    lb = path.link_bandwidth
    expected = lb_as_read(lab.peer, s, route_bps)
    if lb is None:
        problems.append("no link bandwidth")
    else:
        if lb.asn != AS_TRANS:  # RFC 10005 §2: a 4-octet AS goes as AS_TRANS
            problems.append(f"link bandwidth AS {lb.asn}")
        if not math.isclose(lb.bytes_per_s, expected, rel_tol=1e-6):
            problems.append(f"link bandwidth {lb.bytes_per_s} B/s, expected {expected}")
        if lb.transitive is not None and lb.transitive != s.transitive:
            problems.append(f"transitive {lb.transitive}, sent {s.transitive}")
    return problems


def peer_holds(lab: Lab, prefix: str, route_bps: float = BAGEMU_ORIGIN_BPS) -> str | None:
    """The peer holds bagemu's ``prefix`` over each session of its family, right."""
    sessions = lab.plan.family(_version(prefix))
    paths = {_addr(p.neighbor): p for p in lab.peer.paths(prefix)}
    expected = {str(s.bagemu_address) for s in sessions}
    if set(paths) != expected:
        got = sorted(paths)
        return f"{lab.peer.name}: paths to {prefix} from {got}, expected {sorted(expected)}"
    for s in sessions:
        problems = _path_problems(lab, paths[str(s.bagemu_address)], s, route_bps)
        if problems:
            return f"{lab.peer.name}: {prefix} via {s.name}: {'; '.join(problems)}"
    return None


def peer_lacks(lab: Lab, prefix: str) -> str | None:
    paths = lab.peer.paths(prefix)
    return None if not paths else f"{lab.peer.name} still holds {prefix} from {paths}"


def _shares(weights: dict[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    return {hop: w / total for hop, w in weights.items()}


def _compare_shares(got: dict[str, float], want: dict[str, float], tol: float) -> str | None:
    got_s, want_s = _shares(got), _shares(want)
    if set(got_s) != set(want_s) or any(abs(got_s[h] - want_s[h]) > tol for h in want_s):
        return f"weights {got}, expected shares {want_s}"
    return None


def bagemu_fib_holds(lab: Lab, prefix: str) -> str | None:
    """bagemu's FIB holds the peer's ``prefix`` over both links, weighed by the link
    bandwidth the peer attached."""
    entry = lab.bagemu.fib().get(prefix)
    if entry is None:
        return f"bagemu's FIB has no {prefix}"
    want = {str(s.peer_address): s.peer_bps for s in lab.plan.family(_version(prefix))}
    problem = _compare_shares({_addr(h): w for h, w in entry.items()}, want, tol=0.01)
    return None if problem is None else f"bagemu's FIB for {prefix}: {problem}"


def bagemu_fib_lacks(lab: Lab, prefix: str) -> str | None:
    entry = lab.bagemu.fib().get(prefix)
    return None if entry is None else f"bagemu's FIB still has {prefix}: {entry}"


def peer_forwards(lab: Lab, prefix: str, route_bps: float = BAGEMU_ORIGIN_BPS) -> str | None:
    """The kernel in the peer's namespace forwards ``prefix`` over both links, weighed by
    the link bandwidth as the peer read it (``lb_as_read``), to within 2%."""
    got = {_addr(h): float(w) for h, w in lab.peer.forwarding_weights(prefix).items()}
    sessions = lab.plan.family(_version(prefix))
    want = {str(s.bagemu_address): lb_as_read(lab.peer, s, route_bps) for s in sessions}
    problem = _compare_shares(got, want, tol=0.02) if got else "no route"
    return None if problem is None else f"{lab.peer.name}'s kernel for {prefix}: {problem}"


def converged(lab: Lab) -> str | None:
    """Every session up, each side's prefixes at the other, as the plan says."""
    checks: list[Callable[[], str | None]] = [partial(all_established, lab)]
    checks += [partial(peer_holds, lab, p) for p in BAGEMU_PREFIXES.values()]
    checks += [partial(bagemu_fib_holds, lab, p) for p in PEER_PREFIXES.values()]
    for check in checks:
        problem = check()
        if problem is not None:
            return problem
    return None
