"""``decode_stream``, called directly: whole messages, the first malformed one, and
octets left over."""

from __future__ import annotations

from bagctl.decode import decode_stream
from speakers.wire import CodecContext, Keepalive, Notification, encode_message

CTX = CodecContext()
KEEPALIVE = encode_message(Keepalive())
BAD_KEEPALIVE = bytes.fromhex(
    "ff" * 16  # marker
    + "0014"  # length 20: a KEEPALIVE is exactly 19 octets
    + "04"  # type KEEPALIVE
    + "00"  # one octet too many
)


def test_every_whole_message_in_order() -> None:
    decoded = decode_stream(KEEPALIVE + encode_message(Notification.shutdown("bye")), CTX)
    assert [m["type"] for m in decoded.messages] == ["KEEPALIVE", "NOTIFICATION"]
    assert decoded.ok and decoded.error is None and decoded.trailing_octets == 0


def test_stops_at_the_first_malformed_message() -> None:
    decoded = decode_stream(KEEPALIVE + BAD_KEEPALIVE + KEEPALIVE, CTX)
    assert [m["type"] for m in decoded.messages] == ["KEEPALIVE"]
    assert decoded.error is not None and not decoded.ok
    assert (decoded.error["code"], decoded.error["subcode"]) == (1, 2)  # Bad Message Length
    assert decoded.trailing_octets == 0  # not counted: the stream has no boundaries left


def test_octets_after_the_last_whole_message() -> None:
    decoded = decode_stream(KEEPALIVE + KEEPALIVE[:7], CTX)
    assert len(decoded.messages) == 1 and decoded.error is None
    assert decoded.trailing_octets == 7 and not decoded.ok
    assert decode_stream(b"", CTX).ok
