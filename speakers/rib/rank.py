"""``Rank``: where a path stands in the decision process, as one sort key (lowest wins).

A path is ranked each time a rival for its prefix arrives or leaves (dozens of times per
path on a spine with dozens of neighbors), so ``Path.build`` builds its rank once. The
rank is the decision steps of ``decision.py`` but MED, which compares only the routes
from one neighbor AS and so cannot be part of a key (``decide`` falls back to the steps
when a MED is present). Each field is named after its step and holds that step's key,
ordered so that lower is better:

- ``preference``: the steps through eBGP-over-iBGP. Paths with equal preference tie for
  multipath (``multipath.py``); a path with a worse one moves neither the best path nor
  the multipath set (``destination.py``).
- ``tiebreak``: the last two steps, which leave a single best path; also the order of the
  multipath set after its best path.

NamedTuples compare as plain tuples do (element by element, in C), so naming the fields
costs the decision's fast path nothing.
"""

from __future__ import annotations

from typing import NamedTuple


class Preference(NamedTuple):
    """The keys of the steps through eBGP-over-iBGP (RFC 4271 §9.1.2.2 a-d, less MED)."""

    local_pref: int  # RFC 4271 §9.1.1: LOCAL_PREF, negated (highest wins)
    local_origin: int  # vendor step (FRR, Cisco): -1 for a route we originate, else 0
    as_path_length: int  # RFC 4271 §9.1.2.2 a
    origin: int  # RFC 4271 §9.1.2.2 b: IGP 0 < EGP 1 < INCOMPLETE 2
    ebgp_over_ibgp: int  # RFC 4271 §9.1.2.2 d: -1 for a path learned over eBGP, else 0


class Tiebreak(NamedTuple):
    """The keys of the last steps (RFC 4271 §9.1.2.2 f, g); e (IGP cost) is skipped."""

    router_id: int  # RFC 4271 §9.1.2.2 f: the BGP Identifier as an integer
    peer_address: int  # RFC 4271 §9.1.2.2 g: IPv4 addresses, then IPv6 ones (+2**128)


class Rank(NamedTuple):
    """A path's sort key: ``preference`` first, then ``tiebreak`` (module docstring)."""

    preference: Preference
    tiebreak: Tiebreak


STEP_OF_FIELD = {name: name.replace("_", "-") for name in Preference._fields + Tiebreak._fields}
"""Each rank field -> the name of its decision step (``decision.DECISION_STEPS``)."""


def deciding_step(best: Rank, runner_up: Rank) -> str:
    """The step that put ``best`` ahead of ``runner_up``: the first field they differ in.

    With the paths sorted by rank, that is also the last step that removed any path, i.e.
    the step that narrowed the field to one (``Decision.reason``). Raises ValueError for
    equal ranks."""
    if best.preference != runner_up.preference:
        fields = zip(Preference._fields, best.preference, runner_up.preference, strict=True)
    else:
        fields = zip(Tiebreak._fields, best.tiebreak, runner_up.tiebreak, strict=True)
    for name, a, b in fields:
        if a != b:
            return STEP_OF_FIELD[name]
    raise ValueError("decision left 2 indistinguishable paths")
