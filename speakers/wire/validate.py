"""One verdict per received UPDATE: the decoder's RFC 7606 faults plus the session's checks.

The decoder cannot know who the peer is, whether the session is eBGP or which address
families it carries, so it judges every fault on its own (``update.py``) and hands over
either the ``Update`` or an ``UpdateMessageError`` carrying what it decoded.
``judge_update`` turns that into the single verdict the session acts on:

1. NLRI of families the session has not negotiated, or has disabled after an RFC 7606
   AFI/SAFI disable, are dropped (``filter_families``, RFC 4760 §7);
2. the decoder's problems are re-judged where the session changes their action
   (``judge_for_session``: LOCAL_PREF from an external neighbor, RFC 7606 §7.5);
3. the checks that need the session run on what is left (``session_problems``: RFC 7606
   §7.2, §7.5, §7.9, §7.10; RFC 4271 §6.3 for the next hop);
4. every problem found, the decoder's first, goes into one ``UpdateMessageError`` whose
   action is the strongest of them all (RFC 7606 §3 h) and whose ``update`` is what is
   left to process.

So faults found by both sides are reported together (two attribute discards, say, one
from each), and the session applies one action, once. ``validate_update`` is steps 3-4
alone, for an UPDATE that decoded cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .constants import AttrType, UpdateSubcode
from .errors import AttributeProblem, ErrorAction, UpdateMessageError
from .prefix import IPAddress
from .update import Update


@dataclass(frozen=True, slots=True)
class SessionView:
    """What the verdict needs to know about the session an UPDATE arrived on.

    ``families``: the (AFI, SAFI) pairs the session accepts now (None: any)."""

    peer_as: int
    local_as: int
    local_addresses: tuple[IPAddress, ...] = ()  # one or two: a tuple (48 B), not a set
    enforce_first_as: bool = True
    families: frozenset[tuple[int, int]] | None = None

    @property
    def ebgp(self) -> bool:
        return self.peer_as != self.local_as


def judge_update(
    received: Update | UpdateMessageError, session: SessionView
) -> Update | UpdateMessageError:
    """The verdict on what the decoder returned (``Update``) or raised (module docstring):
    the ``Update`` to process when nothing is wrong, else one ``UpdateMessageError``."""
    if isinstance(received, Update):
        decoded, update = None, received
    else:
        decoded = judge_for_session(received, session)
        if decoded.update is None:
            return decoded  # nothing was decoded that the session could check
        update = decoded.update
    update = filter_families(update, session.families)
    checked, problems = session_problems(update, session)
    if decoded is None:
        return UpdateMessageError(problems, checked) if problems else checked
    if not problems and checked is decoded.update:
        return decoded
    return UpdateMessageError(decoded.problems + problems, checked, decoded.afi_safi)


def filter_families(update: Update, families: frozenset[tuple[int, int]] | None) -> Update:
    """``update`` without the NLRI of families not in ``families`` (RFC 4760 §7)."""
    if families is None:
        return update
    if (update.nlri or update.withdrawn) and (1, 1) not in families:
        update = replace(update, nlri=(), withdrawn=())
    mp = update.mp_reach
    if mp is not None and (mp.afi, mp.safi) not in families:
        update = replace(update, mp_reach=None)
    mu = update.mp_unreach
    if mu is not None and (mu.afi, mu.safi) not in families:
        update = replace(update, mp_unreach=None)
    return update


_IBGP_ONLY = (AttrType.ORIGINATOR_ID, AttrType.CLUSTER_LIST)


def validate_update(update: Update, session: SessionView) -> Update:
    """``update`` (a clean decode) after the session's checks, attributes discarded as
    they ask; raises ``UpdateMessageError`` for any problem, as the decoder does."""
    checked, problems = session_problems(update, session)
    if problems:
        raise UpdateMessageError(problems, checked)
    return checked


def session_problems(
    update: Update, session: SessionView
) -> tuple[Update, tuple[AttributeProblem, ...]]:
    """The checks that need the session: ``update`` with the attributes they discard
    removed (``update`` itself if none), and the problems found."""
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
        ibgp_only = [a for a in attrs.other if a.type_code in _IBGP_ONLY] if attrs.other else ()
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
    mp_reach = update.mp_reach
    if update.nlri or (mp_reach is not None and mp_reach.nlri):  # anything announced
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
        if mp_reach is not None and mp_reach.nlri:
            hops.append(mp_reach.next_hop)
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
    if attrs is not update.attributes:
        update = replace(update, attributes=attrs)
    return update, tuple(problems)


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
