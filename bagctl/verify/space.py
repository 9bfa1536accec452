"""Every prefix a check meets, numbered so that containment is arithmetic on integers.

Prefixes sorted by family, then first address, then length (shorter first) come in the
preorder of their containment forest: a prefix comes before every prefix inside it, and
those come right after it, together. So a prefix's rank and ``end`` (one past the rank of
the last prefix inside it) bound its subtree: ``q`` lies inside ``p`` (or is ``p``) exactly
when ``rank(p) <= rank(q) < end(p)``. ``parent`` is the longest prefix strictly containing
each one. The verifier's tables (``tables.py``) key their entries by rank, and the push
(``bundles.py``) answers "which entries of this switch touch these destinations" with a
bisect over ranks, and "which entry forwards this destination" by walking ``parent``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from speakers.wire import Prefix


def _span(p: Prefix) -> tuple[int, int, int]:
    """(family width, first address, last address) of ``p``."""
    width = len(p.packed) * 8
    first = int.from_bytes(p.packed, "big")
    return width, first, first + (1 << (width - p.length)) - 1


@dataclass(frozen=True)
class PrefixSpace:
    """``prefixes`` in preorder (module docstring); ``rank[p]`` is ``p``'s index."""

    prefixes: tuple[Prefix, ...]
    end: tuple[int, ...]  # per rank: one past the last rank inside it
    parent: tuple[int, ...]  # per rank: the longest strictly containing prefix, or -1
    rank: dict[Prefix, int] = field(repr=False, compare=False)

    @classmethod
    def of(cls, prefixes: Iterable[Prefix]) -> PrefixSpace:
        ordered = sorted(set(prefixes), key=lambda p: (len(p.packed), p.packed, p.length))
        end = [len(ordered)] * len(ordered)
        parent = [-1] * len(ordered)
        open_: list[tuple[int, int, int]] = []  # (rank, width, last address): an open subtree
        for i, p in enumerate(ordered):
            width, first, last = _span(p)
            while open_ and (open_[-1][1] != width or open_[-1][2] < first):
                end[open_.pop()[0]] = i
            if open_:
                parent[i] = open_[-1][0]
            open_.append((i, width, last))
        return cls(tuple(ordered), tuple(end), tuple(parent), {p: i for i, p in enumerate(ordered)})

    def __len__(self) -> int:
        return len(self.prefixes)

    @cached_property
    def ends(self) -> np.ndarray:
        """``end`` as an array."""
        return np.array(self.end, dtype=np.int64)

    @cached_property
    def parents(self) -> np.ndarray:
        """``parent`` as an array."""
        return np.array(self.parent, dtype=np.int64)

    def ancestors(self, r: int) -> list[int]:
        """The ranks strictly containing rank ``r``, longest first."""
        out = []
        r = self.parent[r]
        while r >= 0:
            out.append(r)
            r = self.parent[r]
        return out
