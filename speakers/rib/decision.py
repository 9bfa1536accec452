"""The BGP decision process (RFC 4271 §9.1.2), as an ordered list of elimination steps.

Each step takes the surviving candidates and keeps the best of them by one criterion, as
§9.1.2.2 describes it ("remove from consideration ..."), rather than comparing paths two
at a time: MED is only comparable between routes from the same neighbor AS, so a pairwise
comparison is not a total order and would make the result depend on arrival order. Here
the result depends on the set of paths only.

Steps, in order: LOCAL_PREF (§9.1.1), locally originated (vendor step, as FRR and Cisco),
AS_PATH length (§9.1.2.2 a), ORIGIN (b), MED per neighbor AS (c), eBGP over iBGP (d), IGP
cost to the next hop (e: skipped, every next hop of an emulated link is directly
connected), lowest BGP Identifier (f), lowest peer address (g). The step that narrowed
the field to one path is the ``reason``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .path import Path
from .rank import deciding_step

Step = Callable[[list[Path]], list[Path]]


def _keep_max(key: Callable[[Path], int]) -> Step:
    def step(paths: list[Path]) -> list[Path]:
        best = max(key(p) for p in paths)
        return [p for p in paths if key(p) == best]

    return step


def _keep_min(key: Callable[[Path], int]) -> Step:
    def step(paths: list[Path]) -> list[Path]:
        best = min(key(p) for p in paths)
        return [p for p in paths if key(p) == best]

    return step


def _med_per_neighbor_as(paths: list[Path]) -> list[Path]:
    # RFC 4271 §9.1.2.2 c: for each neighbor AS, drop the routes whose MED is above the
    # lowest MED among that AS's routes; routes from different ASes are not compared.
    lowest: dict[int, int] = {}
    for p in paths:
        n = p.neighbor_as
        lowest[n] = min(lowest.get(n, p.med), p.med)
    return [p for p in paths if p.med == lowest[p.neighbor_as]]


def _address_key(p: Path) -> int:
    address = p.source.address
    return int(address) + (1 << 128 if isinstance(address, ipaddress.IPv6Address) else 0)


@dataclass(frozen=True, slots=True)
class DecisionStep:
    name: str
    rule: str
    apply: Step


DECISION_STEPS: tuple[DecisionStep, ...] = (
    DecisionStep("local-pref", "RFC 4271 §9.1.1", _keep_max(lambda p: p.local_pref)),
    DecisionStep("local-origin", "vendor step", _keep_max(lambda p: int(p.source.local))),
    DecisionStep("as-path-length", "RFC 4271 §9.1.2.2 a", _keep_min(lambda p: p.as_path_length)),
    DecisionStep("origin", "RFC 4271 §9.1.2.2 b", _keep_min(lambda p: p.origin)),
    DecisionStep("med", "RFC 4271 §9.1.2.2 c", _med_per_neighbor_as),
    DecisionStep("ebgp-over-ibgp", "RFC 4271 §9.1.2.2 d", _keep_max(lambda p: int(p.source.ebgp))),
    DecisionStep("router-id", "RFC 4271 §9.1.2.2 f", _keep_min(lambda p: int(p.source.router_id))),
    DecisionStep("peer-address", "RFC 4271 §9.1.2.2 g", _keep_min(_address_key)),
)

# Multipath candidates are those that tie with the best through this step (multipath.py).
MULTIPATH_LAST_STEP = "ebgp-over-ibgp"


@dataclass(frozen=True, slots=True)
class Decision:
    best: Path
    reason: str  # the step that left one path ("only-path" when there was one)
    tied: tuple[Path, ...]  # the paths still tied after MULTIPATH_LAST_STEP


def decide(paths: Sequence[Path]) -> Decision | None:
    """The best path of ``paths`` and why; None if there are none."""
    if not paths:
        return None
    candidates = list(paths)
    if len(candidates) == 1:
        return Decision(candidates[0], "only-path", (candidates[0],))
    if all(p.attributes.med is None for p in candidates):
        # Fast path (every eBGP export strips MED, so this is the fabric's common case):
        # with no MED the steps form one lexicographic key (``Path.rank``), and one sort
        # finds the best and the paths tied with it through eBGP-over-iBGP. Same result
        # as the steps.
        return _decide_by_rank(candidates)
    return _decide_by_steps(candidates)


def _decide_by_steps(candidates: list[Path]) -> Decision:
    reason = "only-path"
    tied: tuple[Path, ...] = ()
    for step in DECISION_STEPS:
        if len(candidates) > 1:
            narrowed = step.apply(candidates)
            if len(narrowed) < len(candidates):
                reason = step.name
            candidates = narrowed
        if step.name == MULTIPATH_LAST_STEP:
            tied = tuple(candidates)
    if len(candidates) > 1:
        # Two paths from the same peer address and identifier cannot both be in a table.
        raise ValueError(f"decision left {len(candidates)} indistinguishable paths")
    return Decision(candidates[0], reason, tied)


def _decide_by_rank(candidates: list[Path]) -> Decision:
    ranked = [(p.rank, p) for p in candidates]
    ranked.sort(key=lambda item: item[0])
    (best_rank, best), (second_rank, _) = ranked[0], ranked[1]
    reason = deciding_step(best_rank, second_rank)
    preference = best_rank.preference
    tied = tuple(p for rank, p in ranked if rank.preference == preference)
    return Decision(best, reason, tied)
