"""Typed errors for malformed input: what went wrong, and what the RFCs say to do about it.

The codec raises deep and the session catches once at its input (as aioquic does with
``QuicConnectionError``). Every error carries the NOTIFICATION code, subcode and data the
RFCs require, so the session never re-derives them; UPDATE errors also carry the RFC 7606
action, already reduced to the strongest one (RFC 7606 §3 h), and the part of the UPDATE
the action applies to.

Decoding any byte string raises only ``BgpError`` subclasses. Encoding a value that cannot
be put on the wire raises ``EncodeError`` (``encode_error.py``), a ``ValueError``: that is
a bug in the caller, not a fault of the peer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from .constants import (
    MAX_MESSAGE_LEN,
    MIN_NOTIFICATION_LEN,
    ErrorCode,
    error_code_name,
    error_subcode_name,
)
from .notification import Notification

MAX_NOTIFICATION_DATA = MAX_MESSAGE_LEN - MIN_NOTIFICATION_LEN

if TYPE_CHECKING:  # the error carries the UPDATE it applies to; update.py raises it
    from .update import Update


class ErrorAction(IntEnum):
    """RFC 7606 §2 approaches, ordered weakest to strongest so ``max()`` picks per §3 h."""

    ATTRIBUTE_DISCARD = 1
    TREAT_AS_WITHDRAW = 2
    AFI_SAFI_DISABLE = 3
    SESSION_RESET = 4

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


class BgpError(Exception):
    """A received message is malformed. ``to_notification()`` is what to send back."""

    code: int = 0
    action: ErrorAction = ErrorAction.SESSION_RESET

    def __init__(self, subcode: int, reason: str, data: bytes = b"") -> None:
        self.subcode = subcode
        self.reason = reason
        self.data = data
        super().__init__(str(self))

    def __str__(self) -> str:
        return (
            f"{error_code_name(self.code)} / {error_subcode_name(self.code, self.subcode)}: "
            f"{self.reason}"
        )

    def to_notification(self) -> Notification:
        """The NOTIFICATION to send. Its data is cut to fit a 4096-octet message: RFC 7313
        §5 asks for a whole ROUTE-REFRESH as data, which can be longer than that."""
        return Notification(self.code, self.subcode, self.data[:MAX_NOTIFICATION_DATA])


class MessageHeaderError(BgpError):
    code = ErrorCode.MESSAGE_HEADER_ERROR


class OpenMessageError(BgpError):
    code = ErrorCode.OPEN_MESSAGE_ERROR


class RouteRefreshMessageError(BgpError):
    code = ErrorCode.ROUTE_REFRESH_MESSAGE_ERROR


@dataclass(frozen=True, slots=True)
class AttributeProblem:
    """One fault found in an UPDATE, with the RFC 7606 approach its rule names.

    ``subcode`` and ``data`` are what a NOTIFICATION would carry were the session reset
    for this fault alone; ``rule`` cites the RFC section that decided the action.
    """

    subcode: int
    action: ErrorAction
    reason: str
    rule: str
    data: bytes = b""
    attr_type: int | None = None


class UpdateMessageError(BgpError):
    """An UPDATE with one or more faults.

    ``action`` is the strongest of ``problems`` (RFC 7606 §3 h); ``subcode``/``data`` come
    from the first problem with that action. What the session does with it:

    - ``SESSION_RESET``: send ``to_notification()`` and close.
    - ``AFI_SAFI_DISABLE``: stop accepting ``afi_safi`` on this session and drop its routes
      (RFC 4760 §7); a speaker that cannot disable a family resets with ``to_notification()``
      (UPDATE Message Error / Optional Attribute Error, as RFC 4760 §7 says).
    - ``TREAT_AS_WITHDRAW``: withdraw every prefix of ``update`` (announced or withdrawn).
    - ``ATTRIBUTE_DISCARD``: process ``update`` as usual; the faulty attributes are gone.
    """

    code = ErrorCode.UPDATE_MESSAGE_ERROR

    def __init__(
        self,
        problems: tuple[AttributeProblem, ...],
        update: Update | None = None,
        afi_safi: tuple[int, int] | None = None,
    ) -> None:
        assert problems, "an UpdateMessageError needs at least one problem"
        self.problems = problems
        self.update = update
        self.afi_safi = afi_safi
        self.action = max(p.action for p in problems)
        first = next(p for p in problems if p.action == self.action)
        super().__init__(first.subcode, "; ".join(p.reason for p in problems), first.data)

    def __str__(self) -> str:
        return f"{super().__str__()} -> {self.action.label}"
