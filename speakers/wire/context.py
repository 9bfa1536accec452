"""What two speakers negotiated that changes how bytes are read and written.

Passed explicitly to every encode and decode call (gobgp's ``MarshallingOption``), never
kept as global state: one process runs thousands of sessions, each with its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from .constants import MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN


@dataclass(frozen=True, slots=True)
class CodecContext:
    """``four_octet_as``: both sides sent the RFC 6793 capability (AS_PATH and AGGREGATOR
    carry 4-octet ASNs). ``extended_message``: both sides sent the RFC 8654 capability
    (UPDATE, NOTIFICATION and ROUTE-REFRESH may reach 65535 octets).

    ``mp_attributes_first`` is a local layout choice, not a negotiated one: RFC 7606 §5.1
    asks for MP_REACH_NLRI / MP_UNREACH_NLRI as the very first attributes (the default);
    False appends them after the others, the layout of older encoders such as exabgp's,
    which the interoperability tests reproduce byte for byte. Decoding accepts both."""

    four_octet_as: bool = True
    extended_message: bool = False
    mp_attributes_first: bool = True

    def __hash__(self) -> int:
        """Three flags as one small int: a context is part of the key the export shares
        encoded UPDATEs by (``packing.pack_updates``), once per neighbor and flush, and
        the generated hash builds a tuple and hashes each field."""
        return self.four_octet_as + 2 * self.extended_message + 4 * self.mp_attributes_first

    @property
    def max_message_len(self) -> int:
        return MAX_EXTENDED_MESSAGE_LEN if self.extended_message else MAX_MESSAGE_LEN


DEFAULT_CONTEXT = CodecContext()
