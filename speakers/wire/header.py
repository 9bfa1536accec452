"""The 19-octet message header (RFC 4271 §4.1, §6.1), and whole messages out of a stream.

``check_header`` validates marker, length and type and the per-type length bounds, raising
``MessageHeaderError`` with the data RFC 4271 §6.1 asks for (the erroneous length, or the
erroneous type). ``MessageReader`` buffers bytes from a transport and hands out one whole
message at a time, like h11's receive buffer: it never decodes bodies, so it can run ahead
of the session without knowing what was negotiated.
"""

from __future__ import annotations

import struct

from .constants import (
    HEADER_LEN,
    KEEPALIVE_LEN,
    MARKER,
    MAX_MESSAGE_LEN,
    MIN_NOTIFICATION_LEN,
    MIN_OPEN_LEN,
    MIN_UPDATE_LEN,
    HeaderSubcode,
    MessageType,
)
from .context import DEFAULT_CONTEXT, CodecContext
from .errors import MessageHeaderError

_LEN_TYPE = struct.Struct(">HB")

# RFC 4271 §6.1 per-type bounds; RFC 8654 §4: OPEN and KEEPALIVE never exceed 4096.
_MIN_LEN = {
    MessageType.OPEN: MIN_OPEN_LEN,
    MessageType.UPDATE: MIN_UPDATE_LEN,
    MessageType.NOTIFICATION: MIN_NOTIFICATION_LEN,
    MessageType.KEEPALIVE: KEEPALIVE_LEN,
    MessageType.ROUTE_REFRESH: HEADER_LEN,  # RFC 7313 §5 checks the body (messages.py)
}
_MAX_LEN = {MessageType.OPEN: MAX_MESSAGE_LEN, MessageType.KEEPALIVE: KEEPALIVE_LEN}


def check_header(data: bytes | bytearray, ctx: CodecContext = DEFAULT_CONTEXT) -> tuple[int, int]:
    """Validate the header at the start of ``data`` (at least 19 octets) and return
    ``(length, type)``."""
    if data[:16] != MARKER:
        # RFC 4271 §6.1: the marker must be all ones.
        raise MessageHeaderError(
            HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED, "marker is not all ones"
        )
    length, msg_type = _LEN_TYPE.unpack_from(data, 16)
    if length < HEADER_LEN or length > ctx.max_message_len:
        # RFC 4271 §6.1: Data is the erroneous Length field.
        raise MessageHeaderError(
            HeaderSubcode.BAD_MESSAGE_LENGTH,
            f"length {length} outside {HEADER_LEN}..{ctx.max_message_len}",
            bytes(data[16:18]),
        )
    if msg_type not in _MIN_LEN:
        # RFC 4271 §6.1: Data is the erroneous Type field.
        raise MessageHeaderError(
            HeaderSubcode.BAD_MESSAGE_TYPE, f"unknown message type {msg_type}", bytes(data[18:19])
        )
    if length < _MIN_LEN[msg_type] or length > _MAX_LEN.get(msg_type, length):
        raise MessageHeaderError(
            HeaderSubcode.BAD_MESSAGE_LENGTH,
            f"{MessageType(msg_type).name} of length {length}",
            bytes(data[16:18]),
        )
    return length, msg_type


class MessageReader:
    """Accumulates stream bytes; ``next_message`` returns one whole message or None.

    ``ctx`` may be replaced once the OPENs are exchanged (the extended-message limit).
    After a ``MessageHeaderError`` the stream is unusable: RFC 4271 §6.1 closes the session.
    """

    def __init__(self, ctx: CodecContext = DEFAULT_CONTEXT) -> None:
        self.ctx = ctx
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self._buffer += data

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def next_message(self) -> tuple[int, bytes] | None:
        """``(type, whole message)`` once enough bytes have arrived, else None."""
        buf = self._buffer
        if len(buf) < HEADER_LEN:
            return None
        length, msg_type = check_header(buf, self.ctx)
        if len(buf) < length:
            return None
        message = bytes(buf[:length])
        del buf[:length]
        return msg_type, message
