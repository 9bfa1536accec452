"""Whole BGP messages out of a captured byte stream, each described (``bagctl codec
decode``): what they carry, or what is wrong with the first malformed one and what RFC
4271/7606 say to do.

Decoding stops at the first malformed message, as a session would (after a header error
the stream has no trustworthy boundaries left); bytes after the last whole message are
counted, not guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass

from speakers.wire import BgpError, CodecContext, MessageReader, decode_message
from speakers.wire.describe import describe_error, describe_message


@dataclass(frozen=True, slots=True)
class DecodedStream:
    messages: tuple[dict[str, object], ...]  # describe_message of each, in order
    error: dict[str, object] | None  # describe_error of the first malformed one
    trailing_octets: int  # after the last whole message (0 once a message is malformed)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.trailing_octets


def decode_stream(data: bytes, ctx: CodecContext) -> DecodedStream:
    """Every whole message in ``data``, up to the first malformed one (module doc)."""
    reader = MessageReader(ctx)
    reader.feed(data)
    described: list[dict[str, object]] = []
    error: dict[str, object] | None = None
    try:
        while (item := reader.next_message()) is not None:
            described.append(describe_message(decode_message(item[1], ctx)))
    except BgpError as exc:
        error = describe_error(exc)
    trailing = reader.buffered if error is None else 0
    return DecodedStream(tuple(described), error, trailing)


__all__ = ["DecodedStream", "decode_stream"]
