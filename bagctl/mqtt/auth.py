"""``RegionPassword``: the amqtt authentication plugin of a region's embedded broker.

A region's bus controls the region (``shutdown`` included), so its broker admits only
clients that present the credentials generated for this run (``EmbeddedBroker``), which
``bagctl`` reads from the region's state file (mode 0600, in a directory of its user):
another local user, who can reach 127.0.0.1 but not the file, is refused at CONNECT.
Loaded by amqtt by its dotted path, so only the region's process imports amqtt.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from amqtt.plugins.base import BaseAuthPlugin
from amqtt.session import Session


class RegionPassword(BaseAuthPlugin):  # type: ignore[misc]  # (amqtt is untyped)
    """Admits the one username and password of ``Config``, compared in constant time."""

    @dataclass
    class Config:
        username: str
        password: str

    async def authenticate(self, *, session: Session) -> bool:
        config = self.context.config
        assert isinstance(config, RegionPassword.Config)
        user = (session.username or "").encode()
        password = (session.password or "").encode()
        return hmac.compare_digest(user, config.username.encode()) & hmac.compare_digest(
            password, config.password.encode()
        )
