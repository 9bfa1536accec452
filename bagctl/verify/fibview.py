"""What the switches forward with: every node's FIB as next-hop node names and integer
weights, independent of the runtime that produced it.

``FibSnapshot`` is the *actual* side of the verifier. It is built from a running region
(``Region.fib_weights()``, the same on every runtime), from ``bagctl show fib --json``
output, or by hand in a test; it holds names, never addresses, so it compares directly with
the topology. Lookups are longest-prefix match, as a switch forwards: with summarization a
BAG holds a fabric's aggregate, not the leaf's /24.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from speakers.wire import Prefix

Weights = Mapping[str, int]  # next-hop node name -> integer weight (WCMP group members)


def parse_prefix(text: str | Prefix) -> Prefix:
    return text if isinstance(text, Prefix) else Prefix.parse(text)


def _bits(packed: bytes) -> int:
    return int.from_bytes(packed, "big")


class PrefixIndex:
    """Prefixes by (family width, length), each a dict of leading bits: which of them
    contain an address is one dict probe per length present, longest first. The FIB's
    longest-prefix match, the model's aggregates over a prefix and the transients'
    covering entries all ask it."""

    def __init__(self, prefixes: Iterable[Prefix] = ()) -> None:
        tables: dict[tuple[int, int], dict[int, Prefix]] = {}
        for p in prefixes:
            width = len(p.packed) * 8
            key = _bits(p.packed) >> (width - p.length) if p.length else 0
            tables.setdefault((width, p.length), {})[key] = p
        # ((width, length, table) ...), longest first
        self._rows = [(w, n, t) for (w, n), t in sorted(tables.items(), key=lambda kv: -kv[0][1])]

    def covering(self, address: bytes, max_length: int | None = None) -> list[Prefix]:
        """Every prefix containing the packed ``address``, longest first, none longer
        than ``max_length``."""
        width = len(address) * 8
        value = _bits(address)
        out = []
        for w, length, table in self._rows:
            if w != width or (max_length is not None and length > max_length):
                continue
            hit = table.get(value >> (width - length) if length else 0)
            if hit is not None:
                out.append(hit)
        return out

    def longest(self, address: bytes) -> Prefix | None:
        """The longest prefix containing ``address``."""
        width = len(address) * 8
        value = _bits(address)
        for w, length, table in self._rows:
            if w != width:
                continue
            hit = table.get(value >> (width - length) if length else 0)
            if hit is not None:
                return hit
        return None


@dataclass(frozen=True)
class FibSnapshot:
    """``entries[node][prefix]`` is that node's next-hop group for ``prefix``.

    A node with no entry for an address drops it (unless it originates a covering prefix:
    then the traffic has arrived). A group's weights are the integer members of the WCMP
    group. The verifier's check reads it into arrays (``tables.py``)."""

    entries: Mapping[str, Mapping[Prefix, Weights]]
    _index: dict[str, PrefixIndex] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def from_names(cls, entries: Mapping[str, Mapping[str, Mapping[str, int]]]) -> FibSnapshot:
        """From JSON-able ``{node: {"10.0.0.0/24": {"next-hop-node": weight}}}``.

        Equal prefixes and equal groups become one object each (a region repeats both
        thousands of times), which also lets the verifier cache per group."""
        prefixes: dict[str, Prefix] = {}
        groups: dict[tuple[tuple[str, int], ...], dict[str, int]] = {}
        out: dict[str, dict[Prefix, Weights]] = {}
        for node, table in entries.items():
            mine: dict[Prefix, Weights] = {}
            for text, weights in table.items():
                p = prefixes.get(text)
                if p is None:
                    p = prefixes[text] = parse_prefix(text)
                key = tuple(sorted(weights.items()))
                group = groups.get(key)
                if group is None:
                    group = groups[key] = dict(key)
                mine[p] = group
            out[node] = mine
        return FibSnapshot(out)

    def group(self, node: str, prefix: Prefix) -> Weights | None:
        """The exact entry for ``prefix`` at ``node``, or None."""
        return self.entries.get(node, {}).get(prefix)

    def lookup(self, node: str, address: bytes) -> tuple[Prefix, Weights] | None:
        """Longest-prefix match of the packed ``address`` (4 or 16 octets) at ``node``."""
        hit = self._prefixes(node).longest(address)
        return None if hit is None else (hit, self.entries[node][hit])

    def _prefixes(self, node: str) -> PrefixIndex:
        index = self._index.get(node)
        if index is None:
            index = self._index[node] = PrefixIndex(self.entries.get(node, {}))
        return index


def covers(outer: Prefix, inner: Prefix) -> bool:
    """``outer`` contains ``inner`` (same family, no longer, same leading bits)."""
    if len(outer.packed) != len(inner.packed) or outer.length > inner.length:
        return False
    width = len(outer.packed) * 8
    shift = width - outer.length
    return _bits(outer.packed) >> shift == _bits(inner.packed) >> shift


def address_in(prefix: Prefix, address: bytes) -> bool:
    return covers(prefix, Prefix(address, len(address) * 8))
