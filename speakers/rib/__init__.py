"""Routing tables: paths (``path.py``) and their rank (``rank.py``), the decision process
(``decision.py``), multipath (``multipath.py``), the state prefixes share
(``selection.py``) and one prefix's view of it (``destination.py``), the Loc-RIB and the
per-peer Adj-RIBs. Pure data structures: no I/O, no clocks."""

from .adj_rib import AdjRibIn, AdjRibOut, AdjRibOuts, Advertised
from .decision import DECISION_STEPS, Decision, decide
from .destination import Destination, RouteChange
from .loc_rib import LocRib
from .multipath import MultipathConfig, select_multipath
from .path import DEFAULT_LOCAL_PREF, Path, PeerInfo, local_source
from .rank import Preference, Rank, Tiebreak
from .selection import Selection

__all__ = [
    "DECISION_STEPS",
    "DEFAULT_LOCAL_PREF",
    "AdjRibIn",
    "AdjRibOut",
    "AdjRibOuts",
    "Advertised",
    "Decision",
    "Destination",
    "LocRib",
    "MultipathConfig",
    "Path",
    "PeerInfo",
    "Preference",
    "Rank",
    "RouteChange",
    "Selection",
    "Tiebreak",
    "decide",
    "local_source",
    "select_multipath",
]
