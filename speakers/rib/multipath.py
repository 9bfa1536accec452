"""Which paths share the traffic with the best one (eBGP multipath, as-path multipath-relax).

Multipath is a view over the decision, not a second algorithm: the candidates are the
paths still tied with the best after the eBGP-over-iBGP step (``Decision.tied``). Without
relax they must also have the best path's exact AS_PATH (FRR's rule); with relax, equal
length is enough, so paths through different neighbor ASes (every switch of a Meta-style
fabric tier has its own AS) share the load. Each next hop counts once, and
``max_paths`` keeps the best and then the lowest (BGP Identifier, peer address).
"""

from __future__ import annotations

from dataclasses import dataclass

from .decision import Decision
from .path import Path
from .rank import Tiebreak


@dataclass(frozen=True, slots=True)
class MultipathConfig:
    max_paths_ebgp: int = 64
    max_paths_ibgp: int = 1
    as_path_relax: bool = True

    def __post_init__(self) -> None:
        if self.max_paths_ebgp < 1 or self.max_paths_ibgp < 1:
            raise ValueError("maximum-paths must be at least 1")


def _tiebreak(p: Path) -> Tiebreak:
    return p.rank.tiebreak  # (BGP Identifier, peer address)


def select_multipath(decision: Decision, config: MultipathConfig) -> tuple[Path, ...]:
    """The best path first, then the other multipaths in a deterministic order."""
    best = decision.best
    if best.source.local or len(decision.tied) == 1:
        return (best,)
    limit = config.max_paths_ebgp if best.source.ebgp else config.max_paths_ibgp
    chosen = [best]
    hops = {best.hop_key}
    for path in sorted(decision.tied, key=_tiebreak):
        if len(chosen) >= limit:
            break
        if path is best or path.hop_key in hops or path.source.local:
            continue
        if not config.as_path_relax and path.attributes.as_path != best.attributes.as_path:
            continue
        chosen.append(path)
        hops.add(path.hop_key)
    return tuple(chosen)
