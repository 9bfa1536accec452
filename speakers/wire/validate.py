"""UPDATE checks that need the session: who the peer is, and whether the session is eBGP.

The decoder cannot know these, so the session runs ``validate_update`` on what
``decode_message`` returned (or on ``UpdateMessageError.update`` for attribute-discard).
It returns the UPDATE to process, possibly with attributes discarded, or raises
``UpdateMessageError`` like the decoder does, so the session handles both the same way.
``judge_for_session`` re-judges the decoder's own errors where the session changes the
RFC 7606 action (LOCAL_PREF from an external neighbor).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .constants import AttrType, UpdateSubcode
from .errors import AttributeProblem, ErrorAction, UpdateMessageError
from .prefix import IPAddress
from .update import Update


@dataclass(frozen=True, slots=True)
class SessionView:
    """What validation needs to know about the session an UPDATE arrived on."""

    peer_as: int
    local_as: int
    local_addresses: frozenset[IPAddress] = frozenset()
    enforce_first_as: bool = True

    @property
    def ebgp(self) -> bool:
        return self.peer_as != self.local_as


_IBGP_ONLY = (AttrType.ORIGINATOR_ID, AttrType.CLUSTER_LIST)


def validate_update(update: Update, session: SessionView) -> Update:
    """The RFC 7606 checks that depend on the session (module docstring)."""
    problems: list[AttributeProblem] = []
    attrs = update.attributes
    if session.ebgp:
        if attrs.local_pref is not None:
            # RFC 7606 §7.5: LOCAL_PREF from an external neighbor -> attribute discard.
            attrs = replace(attrs, local_pref=None)
            problems.append(
                AttributeProblem(
                    UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
                    ErrorAction.ATTRIBUTE_DISCARD,
                    "LOCAL_PREF received from an external neighbor",
                    "RFC 7606 §7.5",
                    attr_type=AttrType.LOCAL_PREF,
                )
            )
        ibgp_only = [a for a in attrs.other if a.type_code in _IBGP_ONLY]
        if ibgp_only:
            # RFC 7606 §7.9, §7.10: ORIGINATOR_ID / CLUSTER_LIST from eBGP -> discard.
            attrs = replace(attrs, other=tuple(a for a in attrs.other if a not in ibgp_only))
            problems += [
                AttributeProblem(
                    UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
                    ErrorAction.ATTRIBUTE_DISCARD,
                    f"{AttrType(a.type_code).name} received from an external neighbor",
                    "RFC 7606 §7.9/§7.10",
                    attr_type=a.type_code,
                )
                for a in ibgp_only
            ]
    if update.announced:
        path = attrs.as_path
        if (
            session.ebgp
            and session.enforce_first_as
            and path is not None
            and path.first_asn != session.peer_as
        ):
            # RFC 4271 §6.3 MAY check; RFC 7606 §7.2 SHOULD treat-as-withdraw.
            problems.append(
                AttributeProblem(
                    UpdateSubcode.MALFORMED_AS_PATH,
                    ErrorAction.TREAT_AS_WITHDRAW,
                    f"AS_PATH starts with {path.first_asn}, the peer is AS {session.peer_as}",
                    "RFC 7606 §7.2 (first AS)",
                    attr_type=AttrType.AS_PATH,
                )
            )
        hops: list[IPAddress | None] = [attrs.next_hop] if update.nlri else []
        if update.mp_reach is not None and update.mp_reach.nlri:
            hops.append(update.mp_reach.next_hop)
        for hop in hops:
            if hop is not None and hop in session.local_addresses:
                # RFC 4271 §6.3: NEXT_HOP must not be the receiver's own address;
                # RFC 7606 §3 e turns that session reset into treat-as-withdraw.
                problems.append(
                    AttributeProblem(
                        UpdateSubcode.INVALID_NEXT_HOP_ATTRIBUTE,
                        ErrorAction.TREAT_AS_WITHDRAW,
                        f"next hop {hop} is this speaker's own address",
                        "RFC 4271 §6.3, RFC 7606 §3 e",
                        attr_type=AttrType.NEXT_HOP,
                    )
                )
    if not problems:
        return update
    raise UpdateMessageError(tuple(problems), replace(update, attributes=attrs))


def judge_for_session(error: UpdateMessageError, session: SessionView) -> UpdateMessageError:
    """The decoder's error, re-judged with what it could not know: the session.

    RFC 7606 §7.5: a LOCAL_PREF from an external neighbor SHALL be discarded ("attribute
    discard"), malformed or not; only from an internal one is a bad length treat-as-withdraw,
    the decoder's verdict (escalated to session reset by §5.2 when there is no NLRI). The
    attribute is already absent from ``error.update``. Returns ``error`` if nothing changes.
    """
    if not session.ebgp or error.update is None:
        return error
    problems = tuple(
        replace(p, action=ErrorAction.ATTRIBUTE_DISCARD, rule=f"{p.rule}; RFC 7606 §7.5 (eBGP)")
        if p.attr_type == AttrType.LOCAL_PREF and p.action > ErrorAction.ATTRIBUTE_DISCARD
        else p
        for p in error.problems
    )
    if problems == error.problems:
        return error
    return UpdateMessageError(problems, error.update, error.afi_safi)
