"""One speaker of a compose region, in its own container: a shard of one speaker whose
parent is reached over MQTT.

``python -m bagctl.runtimes.agent --topology FILE --node NAME --subnet NET --broker URL``
(the command ``bagctl compose generate`` gives each speaker's container). The agent
builds the region's speaker configurations as every runtime does
(``topology.configs.speaker_configs``, with container addresses,
``addresses.container_addresses``) and runs its node's in a one-speaker shard: the same
``speakers.Speaker`` that ``python -m speakers CONFIG`` runs, real eBGP over TCP to the
neighbors' containers.

- **Bring-up on its own**: listen, start the sessions, and originate the node's routes
  once every session it expects is Established (FRR's ``bgp update-delay``, per node;
  after ``--update-delay`` seconds it originates anyway), so a bare ``docker compose up``
  of the generated file gives a working region. ``/run/bagemu/status.json`` says how far
  it got; ``/run/bagemu/established`` exists while every expected session is up (the
  container's healthcheck).
- **The shard protocol** (runtimes/protocol.py): the same requests, replies and events
  as a worker process's, carried by ``MqttChannel`` on
  ``bagemu/v1/<region>/agent/<node>/req`` and ``.../rep``; ``.../state`` (retained) says
  ``ready`` once the speaker listens, and ``gone`` (the agent's last will) if it dies. So
  to the region (runtimes/region.py) a container is one more shard
  (runtimes/compose.py).
- **A failed link is made real**: ``link_down`` first adds ``ip route add unreachable
  PEER/32`` in the container's network namespace (needs ``NET_ADMIN``), so nothing more
  crosses the link in either direction (the peer's agent does the same), then drops the
  session as every runtime does (``Shard.link_down``: no NOTIFICATION, fast external
  fallover); ``link_up`` removes the route and restarts the session. Requests that
  would bring the speaker up a second time (listen, start_sessions, originate) are
  refused.

Logs are JSON lines on stderr. SIGTERM stops the agent at once (``docker compose down``).
Exit codes: 0 stopped, 1 broker lost or unreachable, 2 bad arguments (named).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import replace
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any, TypeVar

import aiomqtt

from speakers.__main__ import JsonFormatter
from speakers.clock import Timer
from speakers.yamldoc import ConfigError

from ..mqtt.broker import BrokerUrl
from ..mqtt.topics import Topics
from ..topology import load_topology
from ..topology.configs import DEFAULT_PORT
from . import agentnet
from .agentplan import AgentError, address_shard, plan_shard
from .composefile import STATUS_DIR
from .gctune import tune_for_region
from .protocol import LinkDown, LinkUp, Listen, Originate, Request, Snapshot, StartSessions
from .records import ShardSpec
from .service import ShardService, emitter, serve
from .stackfile import BROKER_USER

log = logging.getLogger("bagctl.agent")
R = TypeVar("R")

VERSION = 1
CONNECT_TIMEOUT_S = 60.0  # the broker's container may start after ours
UPDATE_DELAY_S = 120.0


def _encode(obj: dict[str, object]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


class MqttChannel:
    """The shard protocol (``service.Channel``) over one MQTT connection: requests from
    ``req_topic``, replies and events to ``rep_topic``, QoS 1, in order."""

    def __init__(self, client: aiomqtt.Client, req_topic: str, rep_topic: str) -> None:
        self.client = client
        self.req_topic, self.rep_topic = req_topic, rep_topic
        self._in: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._out: asyncio.Queue[bytes] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self.lost: str | None = None

    async def start(self) -> None:
        await self.client.subscribe(self.req_topic, qos=1)
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._write())]

    def close(self) -> None:
        """End ``receive`` (the agent is stopping)."""
        self._in.put_nowait(None)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _read(self) -> None:
        try:
            async for message in self.client.messages:
                if str(message.topic) != self.req_topic or message.retain:
                    continue  # only live requests to us (a retained one is never run)
                payload = message.payload
                data = payload if isinstance(payload, bytes | bytearray) else b""
                try:
                    request = json.loads(data)
                except ValueError:
                    log.warning("not a JSON request on %s: %r", self.req_topic, data[:200])
                    continue
                if isinstance(request, dict):
                    self._in.put_nowait(request)
        except aiomqtt.MqttError as exc:
            self.lost = f"lost the broker: {exc}"
        self._in.put_nowait(None)

    async def _write(self) -> None:
        while True:
            payload = await self._out.get()
            try:
                await self.client.publish(self.rep_topic, payload, qos=1)
            except aiomqtt.MqttError as exc:
                self.lost = f"lost the broker: {exc}"
                self._in.put_nowait(None)
            finally:
                self._out.task_done()

    def send(self, obj: dict[str, object]) -> None:
        self._out.put_nowait(_encode(obj))

    async def receive(self) -> dict[str, Any] | None:
        return await self._in.get()

    async def drain(self) -> None:
        await self._out.join()


class AgentService(ShardService):
    """The shard of one speaker in its container (module docstring): brings its speaker
    up by itself and makes link failures real in its network namespace."""

    def __init__(
        self,
        spec: ShardSpec,
        channel: MqttChannel,
        *,
        name: str,
        links: Mapping[tuple[str, str], tuple[IPv4Address, IPv4Address]],
        status_dir: Path,
        update_delay_s: float = UPDATE_DELAY_S,
    ) -> None:
        super().__init__(spec, emitter(channel))
        self.name = name  # the node (compose), or shardK (swarm)
        # On the host's clock the agent brings its speakers up by itself (a file run by
        # ``docker compose up``); on the region's, ``bagctl up`` drives it as any shard.
        self.autonomous = spec.clock == "host"
        # (speaker, neighbor in another container) -> (their addresses): what a link
        # fault cuts in this namespace (agentnet.link)
        self.links = links
        self.status_dir = status_dir
        self.update_delay_s = update_delay_s
        self.originated = False
        self._status: tuple[int, int, bool] | None = None
        self._delay: Timer | None = None

    async def bring_up(self) -> None:
        """On its own: listen, dial, and originate once every session is up (module
        docstring); driven by the region: nothing yet (the region sends listen,
        start_sessions and originate, as to every shard)."""
        self.status_dir.mkdir(parents=True, exist_ok=True)
        if not self.autonomous:
            self._write_status()
            return
        await self.shard.listen(originate=False)
        self.shard.start_sessions()
        clock = self.shard.clock
        self._delay = clock.call_at(clock.time() + self.update_delay_s, self._originate)
        self._maybe_originate()

    def _originate(self) -> None:
        if not self.originated:
            self.originated = True
            if self._delay is not None:
                self._delay.cancel()
            self.shard.originate()
            log.info("%s: originating its routes", self.name)

    def _maybe_originate(self) -> None:
        if self.autonomous and not self.originated and self.shard.speakers:
            up, expected = self.shard.ends()
            if up == expected:
                self._originate()
        self._write_status()

    def _write_status(self) -> None:
        up, expected = self.shard.ends() if self.shard.speakers else (0, 1)
        status = (up, expected, self.originated)
        if status == self._status:
            return
        self._status = status
        doc = {"agent": self.name, "nodes": sorted(self.shard.spec.configs), "ends_up": up}
        doc |= {"ends_expected": expected}
        doc |= {"originated": self.originated, "at": round(time.time(), 3)}
        tmp = self.status_dir / "status.json.tmp"
        tmp.write_text(json.dumps(doc) + "\n")
        tmp.replace(self.status_dir / "status.json")
        marker = self.status_dir / "established"
        if up == expected:
            marker.touch()
        else:
            marker.unlink(missing_ok=True)

    def _look(self) -> None:
        self._maybe_originate()
        super()._look()

    async def handle(self, request: Request[R]) -> R:
        if self.autonomous and isinstance(request, Listen | StartSessions | Originate):
            raise ValueError(f"{request.op}: agent {self.name} brings its speakers up by itself")
        if isinstance(request, Snapshot):
            self._maybe_originate()  # pending origination is work, not quiet
        elif isinstance(request, LinkDown | LinkUp):
            self.shard.speaker(request.node).neighbor(request.peer)  # a bad name fails here
            ends = self.links.get((request.node, request.peer))
            if ends is not None:  # a session between containers: cut it for real
                await agentnet.link(isinstance(request, LinkDown), *ends)
        return await super().handle(request)


def _password(args: argparse.Namespace) -> str | None:
    """The broker's password: from a file, or from a descriptor the container's
    launcher opened as root before it dropped to the agent's user (composefile.py
    ``unprivileged``: the agent itself cannot read the 0600 file)."""
    try:
        if args.broker_password_fd is not None:
            with open(args.broker_password_fd, closefd=True) as f:
                return f.read().strip()
        if args.broker_password_file is not None:
            return Path(args.broker_password_file).read_text().strip()
    except OSError as exc:
        raise AgentError(f"the broker's password: {exc}") from None
    return None


async def run_agent(args: argparse.Namespace) -> int:
    # Unchecked: `bagctl compose generate` checked the file (AS layout and all), and the
    # checks load networkx, which would double what every container reads at start.
    topo = load_topology(args.topology, check=False)
    plan = plan_shard(args, topo)
    try:
        url = BrokerUrl.parse(args.broker)
    except ValueError as exc:
        raise AgentError(f"--broker: {exc}") from None
    password = _password(args)
    if password is not None:
        url = replace(url, username=url.username or BROKER_USER, password=password)
    name, spec = plan.name, plan.spec
    if args.shard is not None:
        await address_shard(plan)
    links = {
        (node, nb.name): (plan.addresses[node], plan.addresses[nb.name])
        for node, config in spec.configs.items()
        for nb in config.neighbors
        if nb.name in spec.remote
    }
    topics = Topics(topo.name)
    state_topic = topics.agent(name, "state")
    gone = _encode({"v": VERSION, "state": "gone", "node": name})
    will = aiomqtt.Will(state_topic, gone, qos=1, retain=True)
    # the broker's container may start after ours
    client = await url.connect(
        f"bagemu-agent-{topo.name}-{name}", within_s=CONNECT_TIMEOUT_S, timeout=10, will=will
    )
    channel = MqttChannel(client, topics.agent(name, "req"), topics.agent(name, "rep"))
    service = AgentService(
        spec,
        channel,
        name=name,
        links=links,
        status_dir=Path(args.status_dir),
        update_delay_s=args.update_delay,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, channel.close)
    try:
        await channel.start()
        await service.bring_up()
        nodes = list(spec.configs)
        ready = {"v": VERSION, "state": "ready", "node": name, "nodes": nodes}
        ready["address"] = str(plan.addresses[nodes[0]])
        await client.publish(state_topic, _encode(ready), qos=1, retain=True)
        log.info("%s: %d speakers listening on port %s", name, len(nodes), args.port)
        await serve(service, channel)  # until SIGTERM, ``close`` or the broker is lost
        if channel.lost is None:
            with contextlib.suppress(aiomqtt.MqttError):
                stopped = {"v": VERSION, "state": "stopped", "node": name}
                await client.publish(state_topic, _encode(stopped), qos=1, retain=True)
    finally:
        service.close()
        await channel.aclose()
        with contextlib.suppress(aiomqtt.MqttError):
            await client.__aexit__(None, None, None)
    if channel.lost is not None:
        log.error("%s: %s", name, channel.lost)
        return 1
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bagctl.runtimes.agent", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--topology", required=True, help="the region's topology file")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--node", help="the node (BGP speaker) this agent runs (compose)")
    which.add_argument(
        "--shard", help="the shard this agent runs (swarm), or hostname (its -N: Kubernetes)"
    )
    p.add_argument("--shards", type=int, default=1, help="with --shard: how many shards")
    p.add_argument("--subnet", required=True, help="the speakers' IPv4 subnet")
    p.add_argument(
        "--peer-dns",
        default="shard{}",
        help="with --shard: shard N's DNS name, {} standing for N (default %(default)s)",
    )
    p.add_argument("--broker", required=True, help="mqtt://host:port of the region's broker")
    p.add_argument("--broker-password-file", help="the broker's password (user bagemu)")
    p.add_argument(
        "--broker-password-fd", type=int, help="the broker's password, on this open descriptor"
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="BGP port (default %(default)s)")
    p.add_argument(
        "--transport",
        choices=["tcp", "memory"],
        default="tcp",
        help="sessions inside the shard (between shards: always TCP)",
    )
    p.add_argument("--seed", type=int, default=1, help="the region's seed (timer jitter)")
    p.add_argument("--status-dir", default=STATUS_DIR, help="status.json and the health file")
    p.add_argument(
        "--update-delay",
        type=float,
        default=UPDATE_DELAY_S,
        help="seconds after which routes are originated even if a session is still down",
    )
    p.add_argument(
        "--clock",
        choices=["host", "region"],
        default="host",
        help="the speaker's time: the host's (a file run by itself), or the region's, "
        "moved by `bagctl up` (default %(default)s)",
    )
    p.add_argument("--log-level", default=os.environ.get("BAGEMU_AGENT_LOG", "info"))
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=str(args.log_level).upper(), handlers=[handler])
    tune_for_region()
    try:
        return asyncio.run(run_agent(args))
    except (AgentError, ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except aiomqtt.MqttError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
