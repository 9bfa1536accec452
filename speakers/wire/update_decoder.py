"""Decoding UPDATE messages (RFC 4271 §4.3, RFC 4760), with RFC 7606 error handling.

Decoding is one pass over the attributes. A fault in one attribute becomes an
``AttributeProblem`` with the RFC 7606 approach its rule names (``attribute_decoders.py``)
and parsing carries on, so the NLRI is still found (RFC 7606 §5.1: the lengths in the
message, not those of the attributes, locate it). At the end the strongest approach wins
(§3 h) and, if there was any fault, ``UpdateMessageError`` is raised carrying the decoded
``Update`` it applies to. The session adds its own checks (``validate.judge_update``).

Every UPDATE a speaker receives goes through ``decode_update_body``, so its loop is
written for speed (plain ints for flags, a memo of decoded attribute values, and one of
whole attribute blocks: ``_BLOCKS``).
"""

from __future__ import annotations

import struct
from dataclasses import replace
from typing import Any

from .attribute_decoders import ATTRIBUTE_RULES, Malformed, merge_as4
from .attributes import OPTIONAL_NON_TRANSITIVE, PathAttributes, RawAttribute
from .constants import Afi, AttrFlag, AttrType, UpdateSubcode
from .context import DEFAULT_CONTEXT, CodecContext
from .errors import AttributeProblem, ErrorAction, UpdateMessageError
from .prefix import IPAddress, IPv4Address, IPv6Address, NlriError, decode_nlri, nlri_problem
from .update import EMPTY_ATTRIBUTES, MpReachNlri, MpUnreachNlri, Update

_U16 = struct.Struct(">H")
_MP_HEAD = struct.Struct(">HBB")  # AFI, SAFI, next-hop length
_PARSED_FAMILIES = frozenset({(1, 1), (1, 2), (2, 1), (2, 2)})


def _problem(
    subcode: int,
    action: ErrorAction,
    reason: str,
    rule: str,
    data: bytes = b"",
    code: int | None = None,
) -> AttributeProblem:
    return AttributeProblem(subcode, action, reason, rule, data, code)


def _session_reset(subcode: int, reason: str, rule: str, data: bytes = b"") -> UpdateMessageError:
    return UpdateMessageError((_problem(subcode, ErrorAction.SESSION_RESET, reason, rule, data),))


class _MpMalformed(Exception):
    def __init__(self, reason: str, afi_safi: tuple[int, int] | None) -> None:
        self.reason = reason
        self.afi_safi = afi_safi
        super().__init__(reason)


def _expected_next_hop_lengths(afi: int) -> tuple[int, ...]:
    # RFC 4760 §3 with RFC 2545 §3 (IPv6: global, or global + link-local) and
    # RFC 8950 §3 (IPv4 NLRI over an IPv6 next hop).
    return (16, 32) if afi == Afi.IPV6 else (4, 16, 32)


def _decode_mp_reach(value: bytes) -> MpReachNlri:
    if len(value) < 5:  # RFC 7606 §5.3
        family = struct.unpack_from(">HB", value) if len(value) >= 3 else None
        raise _MpMalformed(f"MP_REACH_NLRI length {len(value)} < 5", family)
    afi, safi, nh_len = _MP_HEAD.unpack_from(value)
    if (afi, safi) not in _PARSED_FAMILIES:
        return MpReachNlri(afi, safi, raw=value[3:])
    if nh_len not in _expected_next_hop_lengths(afi):
        # RFC 7606 §7.11: the NLRI cannot be located reliably.
        raise _MpMalformed(f"MP_REACH_NLRI afi={afi}: next-hop length {nh_len}", (afi, safi))
    start = 5 + nh_len
    if start > len(value):
        raise _MpMalformed(
            f"MP_REACH_NLRI: next hop of {nh_len} octets overruns the attribute", (afi, safi)
        )
    nh = value[4 : 4 + nh_len]
    next_hop: IPAddress = IPv4Address(nh) if nh_len == 4 else IPv6Address(nh[:16])
    link_local = IPv6Address(nh[16:]) if nh_len == 32 else None
    try:
        nlri = decode_nlri(value, start, len(value), afi)
    except NlriError as exc:
        raise _MpMalformed(f"MP_REACH_NLRI: {exc.reason}", (afi, safi)) from None
    return MpReachNlri(afi, safi, next_hop, tuple(nlri), link_local)


def _decode_mp_unreach(value: bytes) -> MpUnreachNlri:
    if len(value) < 3:  # RFC 7606 §5.3
        raise _MpMalformed(f"MP_UNREACH_NLRI length {len(value)} < 3", None)
    afi, safi = struct.unpack_from(">HB", value)
    if (afi, safi) not in _PARSED_FAMILIES:
        return MpUnreachNlri(afi, safi, raw=value[3:])
    try:
        withdrawn = decode_nlri(value, 3, len(value), afi)
    except NlriError as exc:
        raise _MpMalformed(f"MP_UNREACH_NLRI: {exc.reason}", (afi, safi)) from None
    return MpUnreachNlri(afi, safi, tuple(withdrawn))


# Plain ints in the decode loop: IntFlag arithmetic costs a Python-level call per use.
_FLAG_BITS = int(AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE)
_OPTIONAL = int(AttrFlag.OPTIONAL)
_PARTIAL = int(AttrFlag.PARTIAL)
_EXTENDED_LENGTH = int(AttrFlag.EXTENDED_LENGTH)
_MP_CODES = (int(AttrType.MP_REACH_NLRI), int(AttrType.MP_UNREACH_NLRI))


# Decoded attribute values by (type code, 4-octet AS, value bytes). A value depends on
# nothing else and is immutable, and a switch that sends a route to dozens of neighbors
# sends them the same AS_PATH and communities: in a process running many speakers the
# memo decodes each once and shares one object between every receiver. Bounded: emptied
# when full. Malformed values raise before they are stored.
DECODE_MEMO_SIZE = 1 << 16
_DECODED: dict[tuple[int, bool, bytes], object] = {}
_MISSING = object()

# Whole attribute blocks by (4-octet AS, bytes) that decoded cleanly into ``PathAttributes``
# with ORIGIN, AS_PATH and NEXT_HOP and no MP_(UN)REACH_NLRI (those carry NLRI, so their
# bytes rarely repeat). A peer that sends one prefix per UPDATE repeats the same block
# thousands of times: it is decoded once, and every UPDATE then shares one attributes
# object, which the RIB compares by identity first (``Routes._path``). Nothing in such a
# block depends on the NLRI beside it: the checks that do (mandatory attributes, RFC 7606
# §5.2) cannot fail with all three present and no fault. Small, and emptied when full:
# a flood of distinct blocks would otherwise keep tens of thousands of attribute objects
# alive for nothing, and the collector's full passes walk them all (a flood of 10,000
# distinct routes took 8% longer with a memo as large as ``_DECODED``).
BLOCK_MEMO_SIZE = 1 << 10
_BLOCKS: dict[tuple[bool, bytes], PathAttributes] = {}
_COMPLETE = frozenset((AttrType.ORIGIN, AttrType.AS_PATH, AttrType.NEXT_HOP))


def clear_memos() -> None:
    """Forget every decoded value and block, as in a fresh process (bench/codec.py)."""
    _DECODED.clear()
    _BLOCKS.clear()


def decode_update_body(body: bytes, ctx: CodecContext = DEFAULT_CONTEXT) -> Update:
    """Decode an UPDATE body (after the 19-octet header).

    Returns the ``Update``, or raises ``UpdateMessageError`` (see ``errors.py`` for what
    each action asks of the session).
    """
    n = len(body)
    if n < 4:
        raise _session_reset(
            UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
            f"UPDATE body of {n} octets < 4",
            "RFC 4271 §6.3",
        )
    wlen = _U16.unpack_from(body)[0]
    a_at = 2 + wlen
    if a_at + 2 > n:
        raise _session_reset(
            UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
            f"Withdrawn Routes Length {wlen} overruns the message",
            "RFC 4271 §6.3 (unchanged by RFC 7606 §3 b)",
        )
    alen = _U16.unpack_from(body, a_at)[0]
    a_start = a_at + 2
    a_end = a_start + alen
    if a_end > n:
        # RFC 4271 §6.3: Withdrawn Routes Length + Total Attribute Length + 23 > Length.
        raise _session_reset(
            UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
            f"Total Attribute Length {alen} overruns the message by {a_end - n} octets",
            "RFC 4271 §6.3 (unchanged by RFC 7606 §3 b)",
        )
    try:
        withdrawn = decode_nlri(body, 2, a_at, Afi.IPV4)
    except NlriError as exc:
        raise UpdateMessageError((nlri_problem(exc.reason, "Withdrawn Routes"),)) from None
    try:
        nlri = decode_nlri(body, a_end, n, Afi.IPV4)
    except NlriError as exc:
        raise UpdateMessageError((nlri_problem(exc.reason, "NLRI"),)) from None
    # A block led by MP_(UN)REACH_NLRI (RFC 7606 §5.1 puts them first) is never stored:
    # not even looked up, as it can be thousands of octets.
    block = None
    if a_end - a_start >= 3 and body[a_start + 1] not in _MP_CODES:
        block = (ctx.four_octet_as, body[a_start:a_end])
        known = _BLOCKS.get(block)
        if known is not None:
            return Update(tuple(withdrawn), known, tuple(nlri))

    fields: dict[str, Any] = {}  # PathAttributes' keyword arguments, each of its own type
    other: list[RawAttribute] = []
    problems: list[AttributeProblem] = []
    seen: set[int] = set()
    mp_reach: MpReachNlri | None = None
    mp_unreach: MpUnreachNlri | None = None
    afi_safi: tuple[int, int] | None = None
    i = a_start
    while i < a_end:
        flags = body[i]
        hdr = 4 if flags & _EXTENDED_LENGTH else 3
        if a_end - i < hdr:
            problems.append(
                _problem(
                    UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
                    ErrorAction.TREAT_AS_WITHDRAW,
                    f"{a_end - i} octet(s) left in the attributes, too few for a header",
                    "RFC 7606 §4 (second case)",
                )
            )
            break
        code = body[i + 1]
        length = _U16.unpack_from(body, i + 2)[0] if hdr == 4 else body[i + 2]
        v_start = i + hdr
        v_end = v_start + length
        if v_end > a_end:
            problems.append(
                _problem(
                    UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
                    ErrorAction.TREAT_AS_WITHDRAW,
                    f"attribute {_name(code)} length {length} overruns the attributes by "
                    f"{v_end - a_end} octets",
                    "RFC 7606 §4 (first case)",
                    body[i:a_end],
                    code,
                )
            )
            break
        value = body[v_start:v_end]
        i = v_end
        if code in seen:
            if code in _MP_CODES:
                raise _session_reset(
                    UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
                    f"{_name(code)} appears more than once",
                    "RFC 7606 §3 g",
                )
            problems.append(
                _problem(
                    UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
                    ErrorAction.ATTRIBUTE_DISCARD,
                    f"attribute {_name(code)} repeated; later copies discarded",
                    "RFC 7606 §3 g",
                    code=code,
                )
            )
            continue
        seen.add(code)
        rule = ATTRIBUTE_RULES.get(code)
        if rule is not None:
            if (flags & _FLAG_BITS) != rule.flags or (
                flags & _PARTIAL and rule.flags != _FLAG_BITS
            ):
                problems.append(
                    _problem(
                        UpdateSubcode.ATTRIBUTE_FLAGS_ERROR,
                        rule.action,
                        f"{_name(code)} flags {flags:#04x}, expected {rule.flags:#04x}",
                        f"RFC 7606 §3 c with {rule.rule}",
                        body[v_start - hdr : v_end],
                        code,
                    )
                )
                continue
            try:
                memo_key = (code, ctx.four_octet_as, value)
                decoded = _DECODED.get(memo_key, _MISSING)
                if decoded is _MISSING:
                    decoded = rule.decode(value, ctx)
                    if len(_DECODED) >= DECODE_MEMO_SIZE:
                        _DECODED.clear()
                    _DECODED[memo_key] = decoded
                fields[rule.name] = decoded
            except Malformed as exc:
                problems.append(
                    _problem(
                        exc.subcode,
                        rule.action,
                        exc.reason,
                        rule.rule,
                        body[v_start - hdr : v_end],
                        code,
                    )
                )
            continue
        if code in _MP_CODES:
            if (flags & _FLAG_BITS) != OPTIONAL_NON_TRANSITIVE or flags & _PARTIAL:
                family = struct.unpack_from(">HB", value) if len(value) >= 3 else None
                malformed = _MpMalformed(f"{_name(code)} flags {flags:#04x}, expected 0x80", family)
            else:
                try:
                    if code == AttrType.MP_REACH_NLRI:
                        mp_reach = _decode_mp_reach(value)
                    else:
                        mp_unreach = _decode_mp_unreach(value)
                    continue
                except _MpMalformed as caught:
                    malformed = caught
            # RFC 7606 §7.11, §7.12, §5.3 and RFC 4760 §7: AFI/SAFI disable where the family
            # is known, else session reset; the NOTIFICATION is Optional Attribute Error.
            afi_safi = afi_safi or malformed.afi_safi
            problems.append(
                _problem(
                    UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
                    ErrorAction.AFI_SAFI_DISABLE
                    if malformed.afi_safi
                    else ErrorAction.SESSION_RESET,
                    malformed.reason,
                    "RFC 7606 §5.3/§7.11 and RFC 4760 §7",
                    body[v_start - hdr : v_end],
                    code,
                )
            )
            continue
        if not flags & _OPTIONAL:
            # RFC 4271 §6.3, unchanged by RFC 7606: an unrecognized well-known attribute.
            raise _session_reset(
                UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
                f"unrecognized well-known attribute type {code}",
                "RFC 4271 §6.3",
                body[v_start - hdr : v_end],
            )
        other.append(RawAttribute(flags & 0xE0, code, value))

    if not ctx.four_octet_as:
        merge_as4(fields, other)
    elif any(a.type_code in _AS4_CODES for a in other):
        # RFC 6793 §4.1 and §6: between two 4-octet-AS speakers AS_PATH and AGGREGATOR
        # are already exact; AS4_PATH and AS4_AGGREGATOR from such a peer are discarded
        # and logged (an attribute-discard verdict), never passed on.
        for a in other:
            if a.type_code in _AS4_CODES:
                problems.append(
                    _problem(
                        UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
                        ErrorAction.ATTRIBUTE_DISCARD,
                        f"{_name(a.type_code)} from a 4-octet-AS speaker discarded",
                        "RFC 6793 §4.1, §6",
                        code=a.type_code,
                    )
                )
        other = [a for a in other if a.type_code not in _AS4_CODES]
    if other:
        # Canonical order (ascending type code), as the encoder writes them.
        fields["other"] = tuple(sorted(other, key=_type_code))
    attributes = PathAttributes(**fields) if fields else EMPTY_ATTRIBUTES
    update = Update(tuple(withdrawn), attributes, tuple(nlri), mp_reach, mp_unreach)

    if nlri or (mp_reach is not None and mp_reach.nlri):
        # RFC 4271 §6.3 + RFC 7606 §3 d: ORIGIN and AS_PATH with any NLRI; NEXT_HOP with
        # body NLRI only (RFC 4760 §3). Missing -> treat-as-withdraw.
        for code in _mandatory(bool(nlri)):
            if code not in seen:
                problems.append(
                    _problem(
                        UpdateSubcode.MISSING_WELL_KNOWN_ATTRIBUTE,
                        ErrorAction.TREAT_AS_WITHDRAW,
                        f"missing well-known attribute {_name(code)}",
                        "RFC 7606 §3 d",
                        bytes((code,)),  # RFC 4271 §6.3: Data is the missing type code
                        code,
                    )
                )
    if not problems:
        if block is not None and mp_reach is None and mp_unreach is None and seen >= _COMPLETE:
            if len(_BLOCKS) >= BLOCK_MEMO_SIZE:
                _BLOCKS.clear()
            _BLOCKS[block] = attributes
        return update
    if not nlri and AttrType.MP_REACH_NLRI not in seen and seen - {AttrType.MP_UNREACH_NLRI}:
        # RFC 7606 §5.2: path attributes but no reachable NLRI (a malformed MP_REACH_NLRI
        # still marks NLRI, handled by §7.11) -> any fault stronger than attribute discard
        # becomes a session reset, with the NOTIFICATION RFC 4271 gives that fault.
        problems = [
            replace(
                p, action=ErrorAction.SESSION_RESET, rule=f"{p.rule}, escalated by RFC 7606 §5.2"
            )
            if p.action > ErrorAction.ATTRIBUTE_DISCARD
            else p
            for p in problems
        ]
    raise UpdateMessageError(tuple(problems), update, afi_safi)


def _type_code(attr: RawAttribute) -> int:
    return attr.type_code


_AS4_CODES = (AttrType.AS4_PATH, AttrType.AS4_AGGREGATOR)
_MANDATORY_BODY = (AttrType.ORIGIN, AttrType.AS_PATH, AttrType.NEXT_HOP)
_MANDATORY_MP = (AttrType.ORIGIN, AttrType.AS_PATH)


def _mandatory(body_nlri: bool) -> tuple[int, ...]:
    return _MANDATORY_BODY if body_nlri else _MANDATORY_MP


def _name(code: int) -> str:
    try:
        return AttrType(code).name
    except ValueError:
        return f"type {code}"
