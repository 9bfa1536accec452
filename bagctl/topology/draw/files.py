"""Writing a drawing to a file: the format by the suffix, and the same bytes every time.

``check_output`` names the format (``.svg``, ``.png``, ``.html``) before anything is drawn;
``write_picture`` draws the figure inside an ``rc_context`` holding the few rcParams the
output needs (SVG text as text, stable SVG ids), undone on return so nothing leaks between
calls, and writes PNG, SVG, or an HTML page with the SVG inline (``inline_svg``). The
region drawing (``topology_picture.py``) and ``bagctl/verify/plot`` both write this way.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.typing import RcKeyType

FORMATS = (".svg", ".png", ".html")

RC_PARAMS: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text stays text: names searchable, small files
    "svg.hashsalt": "bagemu",  # stable ids, so the same topology gives the same SVG
    "font.family": "DejaVu Sans",
}

PAGE_CSS = """
body { font-family: sans-serif; margin: 1.5em; color: #1a1a1a; }
.drawing { overflow-x: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: right; }
th:first-child, td:first-child, .text { text-align: left; }
th { background: #f2f2f2; }
"""


def check_output(path: str | Path) -> str:
    """The output format (``.svg``, ``.png`` or ``.html``) for ``path``; ``ValueError``
    for any other suffix, before anything is drawn."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        got = f"suffix {suffix!r}" if suffix else "no suffix"
        raise ValueError(
            f"cannot draw to {str(path)!r}: {got}; the output must end in "
            f"{', '.join(FORMATS[:-1])} or {FORMATS[-1]}"
        )
    return suffix


def write_picture(
    out: Path, fmt: str, title: str, figure: Callable[[], Figure], page: Callable[[str], str]
) -> None:
    """Draw ``figure()`` and write it to ``out`` as ``fmt`` (``check_output``): PNG or SVG
    titled ``title`` in its metadata (no date, so reruns compare equal), or the HTML that
    ``page`` makes around the inline SVG."""
    with matplotlib.rc_context(RC_PARAMS):
        fig = figure()
        if fmt == ".png":
            fig.savefig(out, format="png", dpi=100, metadata={"Title": title})
        elif fmt == ".svg":
            fig.savefig(out, format="svg", metadata={"Title": title, "Date": None})
        else:
            out.write_text(page(inline_svg(fig)), encoding="utf-8")


def inline_svg(fig: Figure) -> str:
    """The figure as an ``<svg>`` element for an HTML page: no XML prolog, DOCTYPE or
    metadata, and no namespace declarations (HTML parsing puts ``<svg>`` in the SVG
    namespace itself), so the page names no outside address at all."""
    buf = io.StringIO()
    fig.savefig(
        buf, format="svg", metadata={"Format": None, "Type": None, "Creator": None, "Date": None}
    )
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    head_end = text.index(">") + 1
    head = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text[:head_end])
    return head + text[head_end:]
