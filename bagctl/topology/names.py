"""A topology file's node names, roles and bundle ends, read fast enough for a Tab key
(shell completion: ``bagctl/cli/complete.py``) and for ``bagctl topo nodes``.

The full reader (``load.py``) builds and checks everything: about 8 s for prometheus's
4 MB (libyaml alone takes 3.5 s of it), where completion has well under a second. But
every generated region, and the copy a running region keeps in its state directory
(``bagctl/bus/host.py``), is written by ``dump.py``: one node or bundle per line, in flow
style. ``scan_names`` reads that form line by line with regular expressions (about 0.1 s
for prometheus). Any line it does not recognise inside ``nodes:`` or ``bundles:`` (block
style, an alias, a flow collection spread over lines) makes it give up rather than
guess: ``read_names`` then reads the file with ``load.py`` after all (exact, errors say
``file:line: field``), unless the caller would rather have nothing past a size.

Nothing here checks the file beyond what it reads: ``bagctl topo validate`` does.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from speakers.yamldoc import ConfigError, read_file

from .load import parse_topology
from .model import Role, Topology


@dataclass(frozen=True, slots=True)
class NodeName:
    """One node as a listing shows it; ``role`` None when the file's value is no role."""

    name: str
    role: Role | None
    asn: int | None
    region: str = ""
    fabric: str = ""


@dataclass(frozen=True)
class TopologyNames:
    """The nodes in file order and each bundle's two ends."""

    nodes: tuple[NodeName, ...]
    bundles: tuple[tuple[str, str], ...]

    @cached_property
    def adjacency(self) -> dict[str, list[str]]:
        """Node name -> the nodes it has a bundle with, in file order."""
        out: dict[str, list[str]] = defaultdict(list)
        for a, b in self.bundles:
            out[a].append(b)
            out[b].append(a)
        return dict(out)

    def peers(self, name: str) -> list[str]:
        return self.adjacency.get(name, [])


def names_of(topo: Topology) -> TopologyNames:
    nodes = tuple(NodeName(n.name, n.role, n.asn, n.region, n.fabric) for n in topo.nodes)
    return TopologyNames(nodes, tuple((b.a, b.b) for b in topo.bundles))


def read_names(path: str | Path, *, full_read_max_bytes: int | None = None) -> TopologyNames:
    """The names in the topology file at ``path``: scanned when it is in ``dump.py``'s
    form, else read in full (``load.py``, no AS-layout check), unless the file is larger
    than ``full_read_max_bytes``. ``ConfigError`` (file:line: field) when it cannot be
    read, is not a topology, or is too large to read in full."""
    text, file = read_file(path)
    scanned = scan_names(text)
    if scanned is not None:
        return scanned
    if full_read_max_bytes is not None and len(text) > full_read_max_bytes:
        raise ConfigError(
            f"not one node per line as `bagctl topo gen` writes it, and over "
            f"{full_read_max_bytes:,} bytes to read in full",
            file=file,
        )
    return names_of(parse_topology(text, file, check=False))


# A flow scalar: double-quoted (dump.py's JSON strings; a name has no escapes), single-
# quoted, or plain up to the next comma or bracket. Three groups: one of them matched.
_VALUE = r"""(?:"([^"\\\n]*)"|'([^'\n]*)'|([^\s,\[\]{}"'#][^,\[\]{}\n]*?))"""
_END = r"[ \t]*(?:#[^\n]*)?(?=\n|$)"  # the rest of a line: spaces, a comment
# Every line is matched with the newline before it: a pattern that starts with a literal
# is searched for at C speed, where ``^`` in MULTILINE mode is tried at every character
# (0.1 s more on prometheus). A top-level key: its name and the rest of its line; any
# other line at column 0 but a comment is not the generated form (a document marker, a
# directive, a top-level list).
_TOP_KEY = re.compile(r"\n([A-Za-z_][\w-]*)[ \t]*:([^\n]*)")
_OTHER_TOP = re.compile(r"\n(?![A-Za-z_][\w-]*[ \t]*:|#|[ \t]|\n|$)")
_BLANK_LINE = re.compile(r"\n[ \t]*(?=#|\n|$)")
_NODE_LINE = re.compile(r"\n[ \t]*-[ \t]*\{([^\n]*)\}" + _END)
_BUNDLE_LINE = re.compile(
    r"\n[ \t]*-[ \t]*(?:\[[ \t]*" + _VALUE + r"[ \t]*,[ \t]*" + _VALUE + r"[ \t]*(?:,[^\n]*)?\]"
    r"|\{([^\n]*)\})" + _END
)
_FIELD = re.compile(r",[ \t]*(\w+)[ \t]*:[ \t]*" + _VALUE + r"[ \t]*(?=,|$)")
_BLANK = re.compile(r"[ \t]*(?:#.*)?")


def _lines(block: str) -> int:
    """Lines in a section (the text after its key's line) that are not blank or comments."""
    return block.count("\n") - len(_BLANK_LINE.findall(block))


def _fields(body: str) -> dict[str, str]:
    """The scalar fields of one flow mapping's body (``name: "x", asn: 1, ...``)."""
    return {k: a or b or c.strip() for k, a, b, c in _FIELD.findall("," + body)}


def _node(body: str) -> NodeName | None:
    f = _fields(body)
    name = f.get("name")
    if not name:
        return None
    try:
        role: Role | None = Role(f.get("role"))
    except ValueError:
        role = None
    asn = f.get("asn", "")
    return NodeName(
        name, role, int(asn) if asn.isdigit() else None, f.get("region", ""), f.get("fabric", "")
    )


def _sections(text: str) -> dict[str, str] | None:
    """The text under each top-level key, or None where the layout is not the generated
    one (a key twice, ``nodes: [...]`` on its own line, anything else at column 0)."""
    text = "\n" + text
    if _OTHER_TOP.search(text):
        return None
    keys = list(_TOP_KEY.finditer(text))
    out: dict[str, str] = {}
    for i, key in enumerate(keys):
        name = key[1]
        if name in out or (name in ("nodes", "bundles") and not _BLANK.fullmatch(key[2])):
            return None
        out[name] = text[key.end() : keys[i + 1].start() if i + 1 < len(keys) else len(text)]
    return out


def scan_names(text: str) -> TopologyNames | None:
    """The names in ``text`` if every line of its ``nodes`` and ``bundles`` is one flow
    collection (``dump.py``'s form), else None: the caller reads the file in full. Whole
    sections go through one regular expression each (a Python loop per line took 0.45 s
    on prometheus); a section is taken only if its matches are all its lines."""
    sections = _sections(text)
    if sections is None or "nodes" not in sections:
        return None
    block = sections["nodes"]
    bodies = _NODE_LINE.findall(block)
    if len(bodies) != _lines(block):
        return None
    nodes = [_node(body) for body in bodies]
    block = sections.get("bundles", "")
    bundles: list[tuple[str, str]] = []
    matches = _BUNDLE_LINE.findall(block)
    if len(matches) != _lines(block):
        return None
    for m in matches:
        if m[6]:  # the mapping form, {a: x, b: y, members: ...}
            f = _fields(m[6])
            a, b = f.get("a", ""), f.get("b", "")
        else:
            a, b = m[0] or m[1] or m[2].strip(), m[3] or m[4] or m[5].strip()
        if not (a and b):
            return None
        bundles.append((a, b))
    if not all(nodes):
        return None
    return TopologyNames(tuple(n for n in nodes if n is not None), tuple(bundles))


__all__ = ["NodeName", "TopologyNames", "names_of", "read_names", "scan_names"]
