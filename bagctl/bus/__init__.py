"""The management bus: control and observe a running region over MQTT.

``topics`` (the versioned topic tree), ``payloads`` (JSON schemas, strict validation),
``broker`` (URLs, the embedded amqtt broker), ``server`` (serve a ``Runtime``), ``client``
(send a command, await its reply), ``host`` (a region, its broker and server in one
process, and the state file the CLI finds it by). README "Management bus" documents it.
"""

from .broker import BrokerUrl, EmbeddedBroker
from .client import BusClient
from .payloads import VERSION, BusError, Command, parse_command
from .server import BusServer
from .topics import Topics

__all__ = [
    "VERSION",
    "BrokerUrl",
    "BusClient",
    "BusError",
    "BusServer",
    "Command",
    "EmbeddedBroker",
    "Topics",
    "parse_command",
]
