"""The NOTIFICATION message (RFC 4271 §4.5): what a ``BgpError`` becomes on the wire.

A leaf of the codec: ``errors.py`` builds one in ``BgpError.to_notification``, and the
session, the peer arbiter and ``messages.py`` (which encodes and decodes it with the other
message types) use it, so it depends on the constants and ``EncodeError`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from .constants import (
    MAX_SHUTDOWN_COMMUNICATION_LEN,
    CeaseSubcode,
    ErrorCode,
    MessageType,
    error_code_name,
    error_subcode_name,
)
from .encode_error import EncodeError


@dataclass(frozen=True, slots=True)
class Notification:
    """RFC 4271 §4.5. ``data`` is kept raw; a Cease with a shutdown communication (RFC
    8203, RFC 9003) exposes its text as ``shutdown_communication``."""

    code: int
    subcode: int = 0
    data: bytes = b""

    type = MessageType.NOTIFICATION

    @classmethod
    def shutdown(
        cls, reason: str = "", subcode: int = CeaseSubcode.ADMINISTRATIVE_SHUTDOWN
    ) -> Notification:
        """A Cease (Administrative Shutdown or Reset) carrying ``reason`` (RFC 9003 §2:
        a length octet and at most 255 octets of UTF-8)."""
        if subcode not in (CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, CeaseSubcode.ADMINISTRATIVE_RESET):
            raise EncodeError("a shutdown communication goes with Cease subcode 2 or 4")
        text = reason.encode("utf-8")
        if len(text) > MAX_SHUTDOWN_COMMUNICATION_LEN:
            raise EncodeError(
                f"shutdown communication of {len(text)} octets exceeds "
                f"{MAX_SHUTDOWN_COMMUNICATION_LEN} (RFC 9003 §2)"
            )
        return cls(ErrorCode.CEASE, subcode, bytes((len(text),)) + text if text else b"")

    @property
    def code_name(self) -> str:
        return error_code_name(self.code)

    @property
    def subcode_name(self) -> str:
        return error_subcode_name(self.code, self.subcode)

    @property
    def shutdown_communication(self) -> str | None:
        """The text of an RFC 9003 shutdown communication, or None if there is none or it
        is malformed (a bad length or invalid UTF-8; RFC 9003 §4: log, do not echo)."""
        if self.code != ErrorCode.CEASE or self.subcode not in (2, 4) or not self.data:
            return None
        if self.data[0] != len(self.data) - 1:
            return None
        try:
            return self.data[1:].decode("utf-8")
        except UnicodeDecodeError:
            return None

    def __str__(self) -> str:
        text = f"{self.code_name} / {self.subcode_name}"
        reason = self.shutdown_communication
        if reason:
            return f"{text}: {reason!r}"
        return f"{text} data={self.data.hex()}" if self.data else text
