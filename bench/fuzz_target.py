"""The fuzz target of ``bench/fuzz.py`` (atheris, coverage-guided): run it through that
script, which gives libFuzzer its arguments and reads its figures.

Each input's first byte says what to do with the rest:
- bit 0 clear: the codec. ``decode_message`` on the bytes, with the session context the
  byte's bits 1-2 choose (4-octet AS, Extended Message); a ``BgpError`` is the codec doing
  its job (a NOTIFICATION), anything else is a crash. A message that decodes is encoded
  again: that may refuse (``EncodeError``) but nothing else may raise.
- bit 0 set: the session. A fresh pair of sans-IO sessions is brought to Established,
  then one side is fed the bytes as if from the wire; the state machine must take any
  byte stream (answering with a NOTIFICATION and closing is fine, an exception is not),
  and its events are drained.
"""

from __future__ import annotations

import contextlib
import ipaddress
import random
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports():
    from speakers.session import Session, SessionConfig
    from speakers.wire import BgpError, CodecContext, EncodeError, decode_message, encode_message

CONTEXTS = [
    CodecContext(four_octet_as=four, extended_message=ext)
    for four in (True, False)
    for ext in (False, True)
]


def _session(local_as: int, peer_as: int, router_id: str, name: str) -> Session:
    config = SessionConfig(
        local_as=local_as, router_id=ipaddress.IPv4Address(router_id), peer_as=peer_as
    )
    return Session(config, rng=random.Random(1), name=name)


def established() -> Session:
    """A session in Established with its peer (one OPEN and KEEPALIVE each way)."""
    a, b = _session(65001, 65002, "10.0.0.1", "a"), _session(65002, 65001, "10.0.0.2", "b")
    now = 1000.0
    a.start(now)
    b.start(now, passive=True)
    a.connection_made(now)
    b.connection_made(now)
    for _ in range(6):
        ab, ba = a.data_to_send(), b.data_to_send()
        if ab:
            b.receive_data(ab, now)
        if ba:
            a.receive_data(ba, now)
        while a.next_event() is not None or b.next_event() is not None:
            pass
    assert b.state.value == "Established", b.state
    return b


def test_one_input(data: bytes) -> None:
    if not data:
        return
    mode, body = data[0], data[1:]
    if mode & 1:
        session = established()
        session.receive_data(body, 1000.5)
        while session.next_event() is not None:
            pass
        session.data_to_send()
        return
    ctx = CONTEXTS[(mode >> 1) & 3]
    try:
        message = decode_message(body, ctx)
    except BgpError:
        return
    with contextlib.suppress(EncodeError):  # refusing to encode is fine; raising else is not
        encode_message(message, ctx)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
