"""Whole UPDATE messages decoded once per process, shared by every receiver of the bytes.

A fabric switch sends the same bytes to most of its neighbors: one next hop and one
AS_PATH for all of them (an EDSW's new link bandwidth for a fabric's aggregate reaches
each of its RDSWs as the same two messages; on z = 2 of ``bench/scale.py`` a bundle
failure's 8,762 UPDATEs are 296 distinct messages, a cold start's 436,192 are 14,434).
With the in-memory network or workers many of the receivers live in one process, so a
message that decoded without a fault is kept by (4-octet AS, bytes) and every receiver
gets the one immutable ``Update`` (its attributes then one object too, which the RIB's
interning finds by identity: ``rib.interning``). What depends on the receiving session
(the peer's AS first, the families it negotiated: RFC 7606's verdict) is judged by each
session after the decode (``validate.judge_update``), so sharing changes no verdict; a
faulty message raises and is not kept, so it is decoded and refused every time.

Bounded in messages and in bytes and emptied when full, as the decoder's memos are
(``update_decoder``); a message longer than ``MESSAGE_MEMO_LONGEST`` is not kept: the
decoded NLRI of a 4,096-octet UPDATE is a thousand prefix objects, a table's worth of
them must not stay alive for nothing, and a table is rarely sent twice alike.
"""

from __future__ import annotations

from .constants import HEADER_LEN
from .context import DEFAULT_CONTEXT, CodecContext
from .update import Update
from .update_decoder import decode_update_body

MESSAGE_MEMO_SIZE = 1 << 12
MESSAGE_MEMO_BYTES = 1 << 18
MESSAGE_MEMO_LONGEST = 1 << 10
_MESSAGES: dict[tuple[bool, bytes], Update] = {}
_held = [0]  # what ``_MESSAGES`` holds, in octets (a list: no ``global``)


def decode_update_message(data: bytes, ctx: CodecContext = DEFAULT_CONTEXT) -> Update:
    """Decode a whole UPDATE message whose header is already checked (``data`` with its
    19-octet header): ``decode_update_body``'s outcome, shared with every other receiver
    of the same bytes (module docstring). Raises what ``decode_update_body`` raises."""
    key = (ctx.four_octet_as, data)
    known = _MESSAGES.get(key)
    if known is not None:
        return known
    update = decode_update_body(data[HEADER_LEN:], ctx)  # (a fault raises: not kept)
    size = len(data)
    if size <= MESSAGE_MEMO_LONGEST:
        held = _held[0] + size
        if len(_MESSAGES) >= MESSAGE_MEMO_SIZE or held > MESSAGE_MEMO_BYTES:
            _MESSAGES.clear()
            held = size
        _MESSAGES[key] = update
        _held[0] = held
    return update


def clear() -> None:
    """Forget every message, as in a fresh process (bench/codec.py)."""
    _MESSAGES.clear()
    _held[0] = 0


__all__ = ["clear", "decode_update_message"]
