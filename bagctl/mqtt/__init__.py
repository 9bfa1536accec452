"""MQTT plumbing shared by the management bus (``bagctl.bus``) and the runtimes whose
shards are reached over a broker (``bagctl.runtimes.compose``): broker URLs and the
embedded amqtt broker (``broker``), and the region's versioned topic tree (``topics``).
It sits below both, so neither imports the other for it."""

from .broker import BrokerUrl, EmbeddedBroker
from .topics import Topics, check_name, topic_matches

__all__ = ["BrokerUrl", "EmbeddedBroker", "Topics", "check_name", "topic_matches"]
