"""The management bus: control and observe a running region over MQTT.

``payloads`` (JSON schemas, strict validation), ``server`` (serve a ``Region``), ``client``
(send a command, await its reply), ``host`` (a region, its broker and server in one
process, and the state file the CLI finds it by), ``detach`` (that process in the
background, and its ready line), ``target`` (which running region a command talks to),
``teardown`` (stopping it, and what a compose region left), ``replay`` (an event log's
commands, again); broker URLs, the embedded broker and the topic tree are
``bagctl.mqtt``'s, shared with the runtimes. README "Management bus" documents it.
"""

from ..mqtt.broker import BrokerUrl, EmbeddedBroker
from ..mqtt.topics import Topics
from .client import BusClient
from .payloads import VERSION, BusError, Command, parse_command
from .server import BusServer

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
