"""Our codec against exabgp 5.0.15 and scapy's scapy.contrib.bgp, byte for byte.

For every message of the table in ``interop_helpers.CASES``:

- the three encoders produce the same octets (and the literal octets, where the table
  pins them by hand);
- every decoder reads every encoder's octets: ours returns the expected dataclass, exabgp
  and scapy the expected fields (``expected_view``);
- for IPv6 UPDATEs, exabgp and scapy also read our default layout, which puts
  MP_REACH_NLRI first as RFC 7606 §5.1 asks, where exabgp appends it.
"""

from __future__ import annotations

import pytest
from exabgp.bgp.message.update.eor import EOR
from exabgp.protocol.family import AFI, SAFI
from interop_helpers import (
    CASES,
    EXABGP_LAYOUT,
    Case,
    KeepaliveSpec,
    LinkBw,
    NotificationSpec,
    OpenSpec,
    RouteRefreshSpec,
    UpdateSpec,
    exabgp_decode,
    exabgp_encode,
    exabgp_negotiated,
    exabgp_view,
    expected_view,
    hexwire,
    ours,
    scapy_configure,
    scapy_decode,
    scapy_packet,
    scapy_view,
)

from speakers.wire import (
    DEFAULT_CONTEXT,
    Afi,
    CodecContext,
    LinkBandwidth,
    MpUnreachNlri,
    Notification,
    Open,
    Safi,
    Update,
    decode_message,
    encode_message,
)

CASE_PARAMS = [pytest.param(c, id=c.id) for c in CASES]


@pytest.fixture(autouse=True)
def _scapy(monkeypatch: pytest.MonkeyPatch) -> None:
    scapy_configure(monkeypatch)


def encode_ours(case: Case) -> bytes:
    # exabgp appends MP_REACH_NLRI / MP_UNREACH_NLRI after the other attributes.
    return encode_message(ours(case.spec), EXABGP_LAYOUT)


ENCODERS = {
    "ours": encode_ours,
    "exabgp": lambda case: exabgp_encode(case.spec),
    "scapy": lambda case: bytes(scapy_packet(case.spec)),
}
# (case, encoder) pairs: every encoder that can express the case.
ENCODED = [
    pytest.param(c, e, id=f"{c.id}-by-{e}")
    for c in CASES
    for e in ENCODERS
    if e != "scapy" or c.scapy
]


def split_update(raw: bytes) -> tuple[bytes, list[bytes], bytes]:
    """An UPDATE as (header and withdrawn routes, each path attribute with its header in
    wire order, NLRI)."""
    wlen = int.from_bytes(raw[19:21])
    a_start = 19 + 2 + wlen + 2
    a_end = a_start + int.from_bytes(raw[a_start - 2 : a_start])
    attrs, i = [], a_start
    while i < a_end:
        head = 4 if raw[i] & 0x10 else 3  # Extended Length
        end = i + head + int.from_bytes(raw[i + 2 : i + head])
        attrs.append(raw[i:end])
        i = end
    return raw[:a_start], attrs, raw[a_end:]


def test_table_covers_the_issue() -> None:
    """The messages the issue names are all in the table, once each by id."""
    assert len({c.id for c in CASES}) == len(CASES)
    specs = [c.spec for c in CASES]
    kinds = {type(s) for s in specs}
    assert {KeepaliveSpec, RouteRefreshSpec, OpenSpec, NotificationSpec, UpdateSpec} <= kinds
    opens = [s for s in specs if isinstance(s, OpenSpec)]
    assert any(s.asn > 0xFFFF for s in opens) and any(s.asn <= 0xFFFF for s in opens)
    assert any(("extended-message",) in s.capabilities for s in opens)
    assert any(("route-refresh",) in s.capabilities for s in opens)
    dual_stack = {("multiprotocol", 1, 1), ("multiprotocol", 2, 1)}
    assert any(dual_stack <= set(s.capabilities) for s in opens)
    notifications = [s for s in specs if isinstance(s, NotificationSpec)]
    assert any(s.shutdown is None and s.data for s in notifications)
    assert any(s.shutdown and s.shutdown.isascii() for s in notifications)
    assert any(s.shutdown and not s.shutdown.isascii() for s in notifications)
    updates = [s for s in specs if isinstance(s, UpdateSpec)]
    assert any(s.withdrawn for s in updates) and any(s.mp_withdrawn for s in updates)
    assert any(s.mp_nlri and not s.mp_link_local for s in updates)
    assert any(s.mp_link_local for s in updates)
    assert any(len(a) > 255 for s in updates for _, a in s.as_path or ())
    assert any("no-export" in s.communities and len(s.communities) > 1 for s in updates)
    lbs = [c for s in updates for c in s.ext_communities if isinstance(c, LinkBw)]
    assert {c.bps for c in lbs} >= {800e9, 432 * 800e9, 48e15}
    assert any(
        {c.transitive for c in s.ext_communities if isinstance(c, LinkBw)} == {True, False}
        for s in updates
    )


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_encoders_agree_byte_for_byte(case: Case) -> None:
    ours_hex = encode_ours(case).hex()
    assert ours_hex == exabgp_encode(case.spec).hex()
    if case.scapy:
        assert ours_hex == bytes(scapy_packet(case.spec)).hex()
    if case.wire is not None:
        assert ours_hex == case.wire.hex()


@pytest.mark.parametrize(("case", "encoder"), ENCODED)
def test_our_decoder_reads(case: Case, encoder: str) -> None:
    decoded = decode_message(ENCODERS[encoder](case))
    assert decoded == ours(case.spec)
    spec = case.spec
    if isinstance(spec, OpenSpec):
        assert isinstance(decoded, Open)
        assert decoded.asn == (
            spec.asn if ("four-octet-as", spec.asn) in spec.capabilities else spec.my_as
        )
    if isinstance(spec, NotificationSpec) and spec.shutdown is not None:
        assert isinstance(decoded, Notification)
        assert decoded.shutdown_communication == spec.shutdown
        assert Notification.shutdown(spec.shutdown, spec.subcode) == decoded
    if isinstance(spec, UpdateSpec):
        assert isinstance(decoded, Update)
        lbs = [c for c in decoded.attributes.ext_communities if type(c) is LinkBandwidth]
        wanted = [c for c in spec.ext_communities if isinstance(c, LinkBw)]
        assert [(c.asn, c.transitive, c.bytes_per_s) for c in lbs] == [
            (w.global_admin, w.transitive, w.bytes_per_s) for w in wanted
        ]
        for c, w in zip(lbs, wanted, strict=True):
            assert c.bps == pytest.approx(w.bps, rel=1e-7)  # binary32: 24-bit mantissa


def expected_by_exabgp(case: Case) -> dict:
    view = expected_view(case.spec)
    if view.get("as_path") == []:
        # exabgp reads an empty AS_PATH (40 02 00) as none at all (ASPath.unpack returns
        # None), so it cannot tell the two apart; it does encode the empty one itself.
        del view["as_path"]
    return view


@pytest.mark.parametrize(("case", "encoder"), ENCODED)
def test_exabgp_decoder_reads(case: Case, encoder: str) -> None:
    assert exabgp_view(exabgp_decode(ENCODERS[encoder](case))) == expected_by_exabgp(case)


@pytest.mark.parametrize(("case", "encoder"), [p for p in ENCODED if p.values[0].scapy])
def test_scapy_decoder_reads(case: Case, encoder: str) -> None:
    raw = ENCODERS[encoder](case)
    pkt = scapy_decode(raw)
    assert scapy_view(pkt) == expected_view(case.spec)
    assert bytes(pkt) == raw  # and writes back what it read


MP_CASES = [
    pytest.param(c, id=c.id) for c in CASES if isinstance(c.spec, UpdateSpec) and c.spec.mp_nlri
]


@pytest.mark.parametrize("case", MP_CASES)
def test_mp_first_layout_is_read_by_exabgp_and_scapy(case: Case) -> None:
    """Our default layout puts MP_REACH_NLRI first (RFC 7606 §5.1); exabgp appends it.
    Both libraries read ours, and scapy, told to, builds the same octets."""
    raw = encode_message(ours(case.spec), DEFAULT_CONTEXT)
    assert raw != encode_ours(case)
    first = split_update(raw)[1][0]
    assert (first[0] & 0xE0, first[1]) == (0x80, 14)  # MP_REACH_NLRI, optional
    assert raw.hex() == bytes(scapy_packet(case.spec, mp_first=True)).hex()
    assert exabgp_view(exabgp_decode(raw)) == expected_by_exabgp(case)
    assert scapy_view(scapy_decode(raw)) == expected_view(case.spec)
    assert decode_message(raw) == ours(case.spec)


# exabgp's IPv6 End-of-RIB sets Extended Length on a 3-octet MP_UNREACH_NLRI; ours does
# not (RFC 4271 §4.3 allows both). Not byte-identical, so outside the table: each reads the
# other's.
EOR_IPV6_EXABGP = hexwire(
    """
    ffffffffffffffffffffffffffffffff  # marker
    001e                              # length 30
    02                                # type UPDATE
    0000                              # withdrawn routes length 0
    0007                              # total path attribute length 7
    90 0f 0003                        # MP_UNREACH_NLRI, optional + Extended Length, 3
    0002 01                           #   AFI IPv6, SAFI unicast, no prefixes: End-of-RIB
    """
)
EOR_IPV6_OURS = hexwire(
    """
    ffffffffffffffffffffffffffffffff  # marker
    001d                              # length 29
    02                                # type UPDATE
    0000                              # withdrawn routes length 0
    0006                              # total path attribute length 6
    80 0f 03                          # MP_UNREACH_NLRI, optional, 3
    0002 01                           #   AFI IPv6, SAFI unicast, no prefixes: End-of-RIB
    """
)


def test_ipv6_end_of_rib_both_ways() -> None:
    assert EOR(AFI.ipv6, SAFI.unicast).message() == EOR_IPV6_EXABGP
    eor = Update(mp_unreach=MpUnreachNlri(Afi.IPV6, Safi.UNICAST))
    assert encode_message(eor) == EOR_IPV6_OURS
    for raw in (EOR_IPV6_EXABGP, EOR_IPV6_OURS):
        decoded = decode_message(raw)
        assert decoded == eor and decoded.end_of_rib == (Afi.IPV6, Safi.UNICAST)
        theirs = exabgp_decode(raw)
        assert isinstance(theirs, EOR)
        assert (theirs.nlris[0].afi, theirs.nlris[0].safi) == (AFI.ipv6, SAFI.unicast)
        unreach = {"afi": 2, "safi": 1, "withdrawn": []}
        assert scapy_view(scapy_decode(raw)) == {"message": "update", "mp_unreach": unreach}


TWO_OCTET = CodecContext(four_octet_as=False, mp_attributes_first=False)
AS4_CASES = [
    pytest.param(c, id=c.id)
    for c in CASES
    if c.id in ("update-ipv4-all-attributes", "update-ipv4-as-path-300-asns")
]


@pytest.mark.parametrize("case", AS4_CASES)
def test_two_octet_as_session(case: Case) -> None:
    """To a speaker without 4-octet ASNs (RFC 6793 §4.2.2) both send AS_TRANS in AS_PATH
    and AGGREGATOR and the real ASNs in AS4_PATH / AS4_AGGREGATOR, attribute for attribute
    the same octets. Only the order differs: ours ascends by type code (RFC 4271 §5,
    SHOULD); exabgp puts each AS4_* attribute right after its 2-octet counterpart. So the
    attributes are compared one by one, and each side decodes the other's message.
    (scapy cannot take part: its AS4_PATH holds a single segment.)"""
    theirs = exabgp_encode(case.spec, asn4=False)
    mine = encode_message(ours(case.spec), TWO_OCTET)
    my_head, my_attrs, my_nlri = split_update(mine)
    their_head, their_attrs, their_nlri = split_update(theirs)
    assert (my_head.hex(), my_nlri.hex()) == (their_head.hex(), their_nlri.hex())
    assert sorted(a.hex() for a in my_attrs) == sorted(a.hex() for a in their_attrs)
    codes = [a[1] for a in my_attrs]
    assert 17 in codes and codes == sorted(codes)  # AS4_PATH, and ascending type codes
    assert decode_message(theirs, TWO_OCTET) == ours(case.spec)
    neg = exabgp_negotiated(asn4=False)
    # exabgp rebuilds the path from AS4_PATH (RFC 6793 §4.2.3) as one AS_SEQUENCE of
    # 300, where the wire had 255 + 45; where a long sequence is cut is a wire matter.
    assert joined(exabgp_view(exabgp_decode(mine, neg))) == joined(expected_view(case.spec))


def joined(view: dict) -> dict:
    """``view`` with adjacent AS_SEQUENCE segments of its AS_PATH joined."""
    segments: list[tuple[int, list[int]]] = []
    for kind, asns in view["as_path"]:
        if segments and kind == segments[-1][0] == 2:
            segments[-1] = (2, segments[-1][1] + asns)
        else:
            segments.append((kind, asns))
    return {**view, "as_path": segments}
