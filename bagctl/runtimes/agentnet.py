"""What an agent (runtimes/agent.py) does to its own network namespace: a failed link made
real, and, for a shard of many speakers on a Swarm overlay, the speakers' addresses and
the routes to every other shard's speakers.

- **Link faults**: ``ip rule add from OWN to PEER unreachable``, so nothing this
  speaker sends reaches the peer (the peer's agent adds the mirror rule: nothing crosses
  either way), and no other speaker of the namespace is touched: a shard's other
  speakers may peer with the same neighbor. ``ip rule del`` brings the link back.
- **A shard's addresses** (the swarm runtime): a task has one address on the region's
  overlay network, its shard many speakers; each speaker's own address (from the
  region's speaker subnet, ``addresses.container_addresses``) is put on ``lo`` and every
  other shard's speakers are reached by a /32 route via that shard's task, found by its
  service name (``endpoint_mode: dnsrr``: the name is the task's address). The other
  shards do the same, so the replies find their way back. Sessions inside the shard run
  between two local addresses (or on the in-memory network) and fail in the speakers
  alone, as in the embedded runtime.

Every change is one ``ip -batch`` run; errors name the command and what ``ip`` said.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Mapping, Sequence

RULE_PREF = 1000  # link-fault rules: after ``local`` (0), before ``main`` (32766)
RESOLVE_TIMEOUT_S = 120.0  # every other shard's task named in DNS
RESOLVE_POLL_S = 0.5  # between lookups of a task that is not scheduled yet


class NetError(RuntimeError):
    """A change to the namespace failed (the message names it; NET_ADMIN missing?)."""


async def ip_batch(lines: Sequence[str], *, ignore: tuple[str, ...] = ()) -> None:
    """Run ``ip -force -batch -`` over ``lines``; NetError with the failures, except
    those whose message contains one of ``ignore`` (a rule already there, a route gone)."""
    if not lines:
        return
    proc = await asyncio.create_subprocess_exec(
        "ip",
        "-force",
        "-batch",
        "-",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate(("\n".join(lines) + "\n").encode())
    failures = [
        line
        for line in err.decode(errors="replace").splitlines()
        if line.strip()
        and not any(text in line for text in ignore)
        and not line.startswith("Command failed")
    ]
    if proc.returncode != 0 and failures:
        shown = "; ".join(failures[:4])
        raise NetError(
            f"`ip -batch` ({lines[0]}{' ...' if len(lines) > 1 else ''}) failed: {shown} "
            "(the container needs cap_add NET_ADMIN)"
        )


def rule(verb: str, own: ipaddress.IPv4Address, peer: ipaddress.IPv4Address) -> str:
    """The ``ip`` line that fails (``add``) or mends (``del``) the link own -> peer."""
    return f"rule {verb} from {own}/32 to {peer}/32 unreachable pref {RULE_PREF}"


async def link(down: bool, own: ipaddress.IPv4Address, peer: ipaddress.IPv4Address) -> None:
    """The link from ``own`` to ``peer`` dead (``down``) or alive (module docstring)."""
    if down:
        await ip_batch([rule("add", own, peer)], ignore=("File exists",))
    else:
        await ip_batch([rule("del", own, peer)], ignore=("No such file", "No such process"))


def shard_routes(
    own: Iterable[ipaddress.IPv4Address],
    others: Mapping[ipaddress.IPv4Address, ipaddress.IPv4Address],
) -> list[str]:
    """The ``ip`` lines of a shard's addressing: each of its speakers' addresses on
    ``lo``, a /32 route to each other speaker via its shard's task (``others``: speaker
    address -> task address)."""
    lines = [f"address replace {a}/32 dev lo" for a in own]
    lines += [f"route replace {a}/32 via {via}" for a, via in others.items()]
    return lines


async def resolve_tasks(
    services: Sequence[str], timeout_s: float = RESOLVE_TIMEOUT_S
) -> dict[str, ipaddress.IPv4Address]:
    """Each service's one task address, as the overlay's DNS gives it (tasks start in
    any order, so a name not known yet is asked again until ``timeout_s``)."""
    loop = asyncio.get_running_loop()
    found: dict[str, ipaddress.IPv4Address] = {}
    deadline = loop.time() + timeout_s
    while len(found) < len(services):
        for name in services:
            if name in found:
                continue
            try:
                infos = await loop.getaddrinfo(name, None, family=socket.AF_INET)
            except OSError:
                continue
            addresses = sorted({info[4][0] for info in infos})
            if len(addresses) == 1:
                found[name] = ipaddress.IPv4Address(addresses[0])
        if len(found) < len(services):
            if loop.time() > deadline:
                missing = [s for s in services if s not in found]
                raise NetError(
                    f"no single task address for {', '.join(missing)} after {timeout_s:g} s "
                    "(the services' tasks did not start, or run more than one replica)"
                )
            await asyncio.sleep(RESOLVE_POLL_S)  # a poll of DNS: no event to await
    return found


__all__ = ["NetError", "ip_batch", "link", "resolve_tasks", "rule", "shard_routes"]
