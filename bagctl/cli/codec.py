"""``bagctl codec decode``: read BGP messages from hex and say what they carry, or what is
wrong with them and what RFC 4271/7606 say to do."""

from __future__ import annotations

import sys

import click

from speakers.wire import BgpError, CodecContext, MessageReader, decode_message
from speakers.wire.describe import describe_error, describe_message

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
    reader = MessageReader(ctx)
    reader.feed(data)
    described: list[dict[str, object]] = []
    error: dict[str, object] | None = None
    try:
        while (item := reader.next_message()) is not None:
            described.append(describe_message(decode_message(item[1], ctx)))
    except BgpError as exc:
        error = describe_error(exc)
    leftover = reader.buffered if error is None else 0
    if as_json:
        emit_json(
            {
                "ok": error is None and not leftover,
                "messages": described,
                "error": error,
                "trailing_octets": leftover,
            }
        )
    else:
        for i, msg in enumerate(described):
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
    if error is not None or leftover:
        sys.exit(1)


def _one_line(msg: dict[str, object]) -> str:
    parts = [str(msg["type"])]
    for key, value in msg.items():
        if key != "type":
            parts.append(f"{key}={value}")
    return " ".join(parts)
