"""Where the bus runs: a broker URL (``mqtt://[user:pass@]host:port``), and the embedded
amqtt broker ``bagctl up`` starts on 127.0.0.1 when no ``--broker`` is given.

The embedded broker accepts anonymous clients on loopback only, with none of amqtt's
default plugins but that (no $SYS publishing, no packet logging). An external broker
(mosquitto) brings its own authentication and ACLs; README "Management bus" has an example.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

import aiomqtt

if TYPE_CHECKING:
    from amqtt.broker import Broker

DEFAULT_MQTT_PORT = 1883


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    host: str
    port: int = DEFAULT_MQTT_PORT
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        """``mqtt://[user:pass@]host[:port]``; ValueError naming what is wrong."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"broker URL {url!r}: {exc}") from None
        if parts.scheme != "mqtt":
            raise ValueError(f"broker URL {url!r}: expected mqtt://[user:pass@]host:port")
        if not parts.hostname:
            raise ValueError(f"broker URL {url!r}: no host")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"broker URL {url!r}: unexpected path or query")
        return cls(
            parts.hostname,
            DEFAULT_MQTT_PORT if port is None else port,
            None if parts.username is None else unquote(parts.username),
            None if parts.password is None else unquote(parts.password),
        )

    def __str__(self) -> str:
        auth = ""
        if self.username is not None:
            auth = quote(self.username, safe="")
            if self.password is not None:
                auth += ":" + quote(self.password, safe="")
            auth += "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"mqtt://{auth}{host}:{self.port}"

    def client(
        self, identifier: str, *, timeout: float, will: aiomqtt.Will | None = None
    ) -> aiomqtt.Client:
        """An aiomqtt client for this broker (not yet connected)."""
        return aiomqtt.Client(
            self.host,
            self.port,
            username=self.username,
            password=self.password,
            identifier=identifier,
            will=will,
            timeout=timeout,
        )

    async def connect(
        self,
        identifier: str,
        *,
        within_s: float,
        timeout: float,
        will: aiomqtt.Will | None = None,
        max_delay_s: float = 1.0,
    ) -> aiomqtt.Client:
        """A connected client, retrying for up to ``within_s`` (a broker in a container
        that is still starting: nothing tells us when it listens); the last error, as
        ``aiomqtt.MqttError``, once that time is up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        delay = 0.05
        while True:
            client = self.client(identifier, timeout=timeout, will=will)
            try:
                await client.__aenter__()
                return client
            except aiomqtt.MqttError as exc:
                if loop.time() + delay > deadline:
                    raise aiomqtt.MqttError(
                        f"broker {self.redacted()} unreachable: {exc}"
                    ) from None
            await asyncio.sleep(delay)  # a retry's back-off, not a synchronisation
            delay = min(max_delay_s, delay * 2)

    def redacted(self) -> str:
        """The URL with the password hidden (for messages and logs)."""
        if self.password is None:
            return str(self)
        return str(self).replace(f":{quote(self.password, safe='')}@", ":***@", 1)


class EmbeddedBroker:
    """amqtt on ``host``, on a free port unless one is given; ``start()`` returns its URL."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self._broker: Broker | None = None

    async def start(self) -> BrokerUrl:
        from amqtt.broker import Broker  # imported here: only the region's process needs it

        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.WARNING)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        broker = Broker(config)
        await broker.start()
        self._broker = broker
        server = broker._servers["default"].instance  # amqtt has no public accessor for it
        self.port = server.sockets[0].getsockname()[1]
        return BrokerUrl(self.host, self.port)

    async def stop(self) -> None:
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.shutdown()


__all__ = ["DEFAULT_MQTT_PORT", "BrokerUrl", "EmbeddedBroker"]
