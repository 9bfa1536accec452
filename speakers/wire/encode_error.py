"""``EncodeError``: a value that cannot be put on the wire.

A ``ValueError``, not a ``BgpError``: encoding fails on the caller's mistake (a message too
long, a field out of range), never on a peer's. It has a module of its own because every
part of the codec raises it, the NOTIFICATION dataclass (``notification.py``) included,
which ``errors.py`` builds in ``BgpError.to_notification``: defined in ``errors.py``, it
would close an import cycle through ``notification.py``.
"""


class EncodeError(ValueError):
    """A value cannot be encoded (too long for the message, out of range, ...)."""
