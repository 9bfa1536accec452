"""The demo's codec part, called directly (``bagctl demo`` runs it with the region's,
tests/bagctl/test_cli_codec.py)."""

from __future__ import annotations

from bagctl.demo import BAG_ASN, BUNDLE_BPS, codec_demo
from speakers.wire import Open, Update, decode_message


def test_codec_demo_reports_what_was_sent() -> None:
    report = codec_demo()
    assert list(report) == ["open", "update", "packing", "malformed"]
    sent = decode_message(bytes.fromhex(report["open"]["hex"]))
    assert isinstance(sent, Open) and report["open"]["octets"] == 57
    assert report["open"]["decoded"]["my_as"] == 23456 != BAG_ASN  # AS_TRANS (RFC 6793)
    update = decode_message(bytes.fromhex(report["update"]["hex"]))
    assert isinstance(update, Update) and len(update.nlri) == 4
    assert report["update"]["link_bandwidth_sent_bps"] == BUNDLE_BPS
    packing = report["packing"]
    assert (packing["ipv4_updates"], packing["ipv6_updates"]) == (20, 45)
    assert packing["largest_update_octets"] <= 4096
    assert report["malformed"]["action"] == "treat-as-withdraw"
