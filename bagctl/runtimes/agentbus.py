"""The host's side of a region's agents (runtimes/agent.py): one MQTT connection to the
region's broker carrying every agent's requests, replies, events and ``state``, and the
region's handle on each agent (a ``RemoteShard``). The compose placement (an agent per
speaker's container, runtimes/compose.py) and the swarm placement (an agent per shard's
task, runtimes/swarm.py) share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

import aiomqtt

from ..mqtt.broker import BrokerUrl
from ..mqtt.topics import Topics
from . import docker
from .messages import ShardError
from .placement import RegionEvents, RemoteShard


class AgentBus:
    """The host's one MQTT connection to every agent of the region: requests out,
    replies, events and ``state`` in, handed to each agent's ``AgentShard``."""

    def __init__(self, url: BrokerUrl, topics: Topics) -> None:
        self.url = url
        self.topics = topics
        self.handles: dict[str, AgentShard] = {}
        # The last ``state`` of agents not attached yet: a swarm's tasks may say
        # ``ready`` (retained, so delivered once, at subscription) before the region
        # has made their handles.
        self._early: dict[str, dict[str, Any]] = {}
        self._client: aiomqtt.Client | None = None
        self._reader: asyncio.Task[None] | None = None

    async def connect(self, timeout_s: float) -> None:
        """Connect as soon as the broker's container accepts (retried: nothing tells us
        when mosquitto listens), and subscribe to every agent's replies and state."""
        identifier = f"bagemu-host-{self.topics.region}-{os.getpid()}"
        try:
            client = await self.url.connect(
                identifier, within_s=timeout_s, timeout=5, max_delay_s=0.5
            )
        except aiomqtt.MqttError as exc:
            raise docker.DockerError(
                f"the region's broker did not accept a connection within {timeout_s:g} s ({exc})"
            ) from None
        self._client = client
        # Every wave publishes one request per agent at once: not a backlog to warn about.
        client.pending_calls_threshold = 1 << 20
        await client.subscribe(self.topics.agent_filter("rep"), qos=1)
        await client.subscribe(self.topics.agent_filter("state"), qos=1)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._client is not None
        try:
            async for message in self._client.messages:
                route = self.topics.parse_agent(str(message.topic))
                payload = message.payload
                if route is None or not isinstance(payload, bytes | bytearray) or not payload:
                    continue
                try:
                    msg = json.loads(payload)
                except ValueError:
                    continue  # not from an agent of ours
                if not isinstance(msg, dict):
                    continue
                name, what = route
                handle = self.handles.get(name)
                if handle is None:
                    if what == "state":
                        self._early[name] = msg  # said before its handle exists
                elif what == "rep":
                    handle.on_message(msg)
                elif what == "state":
                    handle.on_state(msg)
        except aiomqtt.MqttError as exc:
            for handle in self.handles.values():
                handle.lost(f"is out of reach: the region's broker was lost ({exc})")

    def attach(self, name: str, handle: AgentShard) -> None:
        """From now on, what agent ``name`` says goes to ``handle`` (and what it said
        before, if anything)."""
        self.handles[name] = handle
        early = self._early.pop(name, None)
        if early is not None:
            handle.on_state(early)

    async def publish(self, node: str, payload: bytes) -> None:
        if self._client is None:
            raise ShardError(f"agent {node}: not connected to the region's broker")
        await self._client.publish(self.topics.agent(node, "req"), payload, qos=1)

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await client.__aexit__(None, None, None)


class AgentShard(RemoteShard):
    """The handle on one agent (a speaker's container, or a shard's task), over the
    region's broker; ``on_ready`` hears each time it says ``ready``."""

    def __init__(
        self,
        index: int,
        node: str,
        bus: AgentBus,
        events: RegionEvents,
        on_ready: Callable[[], None],
    ) -> None:
        super().__init__(index, f"agent {node}", events)
        self.node = node
        self.ready = asyncio.Event()
        self.said: dict[str, Any] = {}  # its last ``ready`` message (what it runs)
        self._bus = bus
        self._on_ready = on_ready

    def on_state(self, msg: dict[str, Any]) -> None:
        state = msg.get("state")
        if state == "ready":
            self.gone = None
            self.said = msg
            self.ready.set()
            self._on_ready()
        elif state in ("gone", "stopped"):
            self.lost(f"has {'stopped' if state == 'stopped' else 'died'}")

    def lost(self, why: str) -> None:
        self.ready.clear()
        super().lost(why)

    async def _send(self, message: dict[str, object]) -> None:
        await self._bus.publish(self.node, json.dumps(message, separators=(",", ":")).encode())

    async def close(self) -> None:
        self.lost("is stopping with the region")


class AgentHandles:
    """The handles on a placement's agents (one per shard spec, ``name_of`` naming its
    agent), attached to ``bus``; how many said ``ready``, reported as ``what`` while they
    start; and waiting for all of them. Shared by the compose, attached and swarm
    placements, which differ only in names and in what they check while they wait."""

    def __init__(self, bus: AgentBus, events: RegionEvents, what: str) -> None:
        self.bus, self.events, self.what = bus, events, what
        self.handles: list[AgentShard] = []

    def attach(self, index: int, name: str) -> AgentShard:
        handle = AgentShard(index, name, self.bus, self.events, self.progress)
        self.handles.append(handle)
        self.bus.attach(name, handle)
        return handle

    def progress(self) -> None:
        """Agents ready of those expected."""
        ready = sum(1 for h in self.handles if h.ready.is_set())
        self.events.placement_progress(ready, len(self.handles), self.what)

    def missing(self) -> list[str]:
        return [h.node for h in self.handles if not h.ready.is_set()]

    async def all_ready(
        self,
        timeout_s: float,
        check: Callable[[], Awaitable[None]] | None = None,
        poll_s: float = 2.0,
    ) -> bool:
        """Whether every agent said ``ready`` within ``timeout_s``; ``check`` runs every
        ``poll_s`` meanwhile (an agent that exits never says so on the bus: docker knows,
        and has no event to await here), and may raise."""

        async def every() -> None:
            for handle in self.handles:
                await handle.ready.wait()

        ready = asyncio.ensure_future(every())
        try:
            async with asyncio.timeout(timeout_s):
                while not ready.done():
                    await asyncio.wait({ready}, timeout=poll_s)
                    if not ready.done() and check is not None:
                        await check()
        except TimeoutError:
            return False
        finally:
            ready.cancel()
        return True


class NoEvents:
    """Events before the region has spawned its shards: nobody to tell."""

    def shard_event(self, index: int, event: object) -> None:
        pass

    def shard_lost(self, index: int, why: str) -> None:
        pass

    def placement_progress(self, done: int, total: int, what: str) -> None:
        pass


__all__ = ["AgentBus", "AgentShard", "NoEvents"]
