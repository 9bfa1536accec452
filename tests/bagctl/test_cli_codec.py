"""``bagctl demo`` and ``bagctl codec decode``: exit codes, text and ``--json``."""

from __future__ import annotations

import json

from click.testing import CliRunner

from bagctl.cli import cli
from speakers.wire import Keepalive, Notification, encode_message

KEEPALIVE_HEX = encode_message(Keepalive()).hex()


def test_demo_json_reports_every_step() -> None:
    result = CliRunner().invoke(cli, ["demo", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True
    assert report["open"]["decoded"]["my_as"] == 23456  # AS_TRANS for the 4-octet BAG ASN
    assert report["update"]["float32_relative_error"] < 2**-24
    packing = report["packing"]
    assert packing["largest_update_octets"] <= 4096
    assert packing["ipv4_updates"] == 20 and packing["ipv6_updates"] == 45
    assert report["malformed"]["action"] == "treat-as-withdraw"
    assert report["malformed"]["problems"][0]["rule"] == "RFC 7606 §7.14"
    steps = report["region"]["steps"]
    assert [s["report"]["event"].split()[0] for s in steps] == [
        "cold-start",
        "bundle-down",
        "bundle-up",
        "members",
    ]
    s1, s2 = "r1-nsf1-stsw1-1", "r1-nsf1-stsw2-1"
    assert [s["weights"] for s in steps] == [
        {s1: 1, s2: 1},
        {s2: 1},
        {s1: 1, s2: 1},
        {s1: 45, s2: 32},
    ]


def test_demo_text() -> None:
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert "12.8 Tb/s" in result.output and "treat-as-withdraw" in result.output


def test_decode_several_messages_as_json() -> None:
    notification = encode_message(Notification.shutdown("bye")).hex()
    result = CliRunner().invoke(cli, ["codec", "decode", "--json", KEEPALIVE_HEX + notification])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert [m["type"] for m in out["messages"]] == ["KEEPALIVE", "NOTIFICATION"]
    assert out["messages"][1]["shutdown_communication"] == "bye"


def test_decode_reads_stdin_and_ignores_spacing() -> None:
    spaced = " ".join(KEEPALIVE_HEX[i : i + 2] for i in range(0, len(KEEPALIVE_HEX), 2))
    result = CliRunner().invoke(cli, ["codec", "decode", "-"], input=spaced + "\n")
    assert result.exit_code == 0, result.output
    assert "KEEPALIVE" in result.output


def test_decode_malformed_exits_1_with_notification_and_action() -> None:
    bad = "ff" * 16 + "0014" + "04" + "00"  # KEEPALIVE of length 20
    result = CliRunner().invoke(cli, ["codec", "decode", "--json", bad])
    assert result.exit_code == 1
    out = json.loads(result.output)
    assert out["ok"] is False
    assert (out["error"]["code"], out["error"]["subcode"], out["error"]["data"]) == (1, 2, "0014")
    assert out["error"]["action"] == "session-reset"


def test_decode_not_hex_and_trailing_octets() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["codec", "decode", "zz"])
    assert result.exit_code == 1 and "not hex" in result.output
    result = runner.invoke(cli, ["codec", "decode", KEEPALIVE_HEX + "ffff"])
    assert result.exit_code == 1 and "2 trailing octets" in result.output
