"""``bagctl codec decode``: read BGP messages from hex and say what they carry, or what is
wrong with them and what RFC 4271/7606 say to do (``bagctl/decode.py`` decodes them)."""

from __future__ import annotations

import sys

import click

from speakers.wire import CodecContext

from ..decode import decode_stream
from .output import emit_json, fail


@click.group()
def codec() -> None:
    """Encode and decode BGP messages."""


@codec.command()
@click.argument("hex_input", metavar="HEX|-")
@click.option("--two-octet-as", is_flag=True, help="Peer without the RFC 6793 capability.")
@click.option("--extended-message", is_flag=True, help="RFC 8654 negotiated (65535 max).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def decode(hex_input: str, two_octet_as: bool, extended_message: bool, as_json: bool) -> None:
    """Decode one or more whole BGP messages given as hex ('-' reads stdin).

    Spaces, newlines and colons in the hex are ignored. Exits 1 if any message is
    malformed, after printing the error with its NOTIFICATION code/subcode and RFC 7606
    action.
    """
    text = sys.stdin.read() if hex_input == "-" else hex_input
    cleaned = "".join(ch for ch in text if ch not in " \t\r\n:")
    try:
        data = bytes.fromhex(cleaned)
    except ValueError as exc:
        fail(f"input is not hex: {exc}", as_json=as_json)
        return
    ctx = CodecContext(four_octet_as=not two_octet_as, extended_message=extended_message)
    decoded = decode_stream(data, ctx)
    error, leftover = decoded.error, decoded.trailing_octets
    if as_json:
        emit_json(
            {
                "ok": decoded.ok,
                "messages": list(decoded.messages),
                "error": error,
                "trailing_octets": leftover,
            }
        )
    else:
        for i, msg in enumerate(decoded.messages):
            click.echo(f"[{i}] {_one_line(msg)}")
        if error is not None:
            click.echo(f"error: {error['error']}", err=True)
            click.echo(
                f"  -> {error['action']}; NOTIFICATION {error['code']}/{error['subcode']}"
                f" data={error['data'] or '-'}",
                err=True,
            )
        if leftover:
            click.echo(f"error: {leftover} trailing octets do not make a whole message", err=True)
    if not decoded.ok:
        sys.exit(1)


def _one_line(msg: dict[str, object]) -> str:
    parts = [str(msg["type"])]
    for key, value in msg.items():
        if key != "type":
            parts.append(f"{key}={value}")
    return " ".join(parts)
