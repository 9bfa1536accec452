"""``NodeStates``: the retained per-node state a region publishes on its bus (each
switch's sessions, and its FIB where the region is small enough), and publishes again
after a broker restart, which forgets retained messages."""

from __future__ import annotations

from ..mqtt.link import MqttLink
from ..mqtt.topics import Topics
from ..runtimes import Region
from .payloads import VERSION, encode

__all__ = ["RETAIN_FIB_MAX_SPEAKERS", "NodeStates"]

RETAIN_FIB_MAX_SPEAKERS = 1000


class NodeStates:
    def __init__(self, runtime: Region, topics: Topics) -> None:
        self.runtime = runtime
        self.topics = topics
        self.published: dict[str, bytes] = {}  # retained topic -> last payload
        speakers = sum(1 for _ in runtime.topo.speakers())
        self._views = ("sessions", "fib") if speakers <= RETAIN_FIB_MAX_SPEAKERS else ("sessions",)

    async def publish(self, link: MqttLink) -> None:
        """Sessions and FIB of the nodes where they changed. Regions over
        ``RETAIN_FIB_MAX_SPEAKERS`` speakers retain sessions only: thousands of whole
        FIBs are too much for a broker to hold; ``show fib`` asks on demand."""
        changed = await self.runtime.changed_nodes()
        for node in self.runtime.topo.speakers():
            if node.name not in changed:
                continue
            for what in self._views:
                view = await self.runtime.show(what, node.name)
                view.pop("prefix", None)
                payload = encode({"v": VERSION, **view})
                topic = self.topics.node(node.name, what)
                if self.published.get(topic) != payload:
                    self.published[topic] = payload
                    await link.publish(topic, payload, retain=True)

    async def republish(self, link: MqttLink) -> None:
        """Everything retained so far, again (a restarted broker has forgotten it)."""
        for topic, payload in list(self.published.items()):
            await link.publish(topic, payload, retain=True)
