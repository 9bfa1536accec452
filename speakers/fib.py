"""The FIB: one weighted next-hop group per prefix, and the stream of its changes.

The last pure stage of Path -> Selection -> RouteChange -> UCMP weights -> ``FibChange``.
``Fib.install(prefix, [(next_hop, bandwidth), ...])`` turns the multipaths' link bandwidths
into real weights (``ucmp_weights``) and integer members (``quantize``) under the mode and
group size the switch is configured with, and records what changed; ``group`` and ``put``
do the same in two steps, for many prefixes at once (a batch of one UPDATE's). No asyncio,
no I/O: the only outside input is the injected ``clock`` (``time.monotonic_ns`` by
default), read once per change, or once per ``put`` (its changes happen together).

Change stream. Later stages measure convergence from it (time of the last change per
prefix) and look for transient loops (replaying changes across switches by ``at_ns``), so:
- every actual change appends one ``FibChange`` (install, replace or remove); reinstalling an
  equal group is a no-op and records nothing, so a quiet FIB means converged;
- each change has an ``index``, 0, 1, 2, ... per FIB; ``changes_since(index)`` returns those
  still kept in a bounded in-memory log (``change_log_size``) and raises ``ChangesDropped``
  if the reader fell further behind than that, so a gap is never silent;
- ``subscribe(listener)`` calls ``listener(change)`` synchronously after each change is
  applied, in subscription order, and returns the function that unsubscribes it;
  ``subscribe_batches(listener)`` calls ``listener(changes)`` once per ``put`` that changed
  anything, after those, with its changes in order (a consumer that does the same for each
  change of an UPDATE does it once). Listeners must not raise: the FIB has already changed,
  and the exception reaches ``install``'s caller.

What counts as a change: the ``NextHopGroup`` compares unequal, real weights included. A
consumer that cares only about forwarding (the members) checks ``forwarding_changed``.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import replace
from itertools import repeat
from typing import Any, NamedTuple, TypeVar

from .nexthop_group import NextHopGroup, build_group, next_hop_key
from .ucmp import MissingBandwidthMode
from .wire.prefix import IPAddress, Prefix

__all__ = [
    "ChangesDropped",
    "Fib",
    "FibChange",
    "NextHopGroup",
    "build_group",
    "next_hop_key",
]


class FibChange(NamedTuple):
    """One actual change of one prefix's forwarding entry (a NamedTuple, not a frozen
    dataclass: a cold start makes one per prefix and switch, and a tuple is three times
    quicker to make).

    ``index``: position in this FIB's change stream (0, 1, 2, ...). ``at_ns``: the FIB's
    clock when applied (monotonic nanoseconds by default). ``old`` / ``new``: the group
    before and after, None meaning no route.
    """

    index: int  # type: ignore[assignment]  # (a field; tuple.index is not used on it)
    at_ns: int
    prefix: Prefix
    old: NextHopGroup | None
    new: NextHopGroup | None

    @property
    def kind(self) -> str:
        """``install`` (no route before), ``remove`` (none after) or ``replace``."""
        return "install" if self.old is None else "remove" if self.new is None else "replace"

    @property
    def forwarding_changed(self) -> bool:
        """Whether the members changed, not only the real weights behind them."""
        old = self.old.members if self.old else None
        new = self.new.members if self.new else None
        return old != new

    def describe(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "at_ns": self.at_ns,
            "prefix": str(self.prefix),
            "kind": self.kind,
            "old": self.old.describe() if self.old else None,
            "new": self.new.describe() if self.new else None,
        }


class ChangesDropped(LookupError):
    """``changes_since`` was asked for changes the bounded log no longer holds: resync from
    ``Fib.entries()`` and continue from ``Fib.next_index``."""


Listener = Callable[[FibChange], None]
BatchListener = Callable[[tuple[FibChange, ...]], None]
T = TypeVar("T")


_GROUP_SWEEP_MIN = 256
_FIELDS = len(FibChange._fields)  # a change's entries in the flat log (``Fib._log``)
_PAIRS_KEPT = 1 << 10  # (next hop, members) pairs shared among groups; emptied when full


class Fib:
    """Prefix -> ``NextHopGroup``, with a change stream (module docstring).

    ``mode``, ``max_group_size`` and ``default_bandwidth_bytes_per_s`` are the switch's UCMP
    configuration (``build_group``); ``clock`` returns integer nanoseconds.
    """

    def __init__(
        self,
        mode: MissingBandwidthMode = MissingBandwidthMode.DEFAULT,
        max_group_size: int = 128,
        clock: Callable[[], int] = time.monotonic_ns,
        *,
        default_bandwidth_bytes_per_s: float | None = None,
        change_log_size: int = 1 << 17,
    ) -> None:
        if max_group_size < 1 or change_log_size < 1:
            raise ValueError("max_group_size and change_log_size must be >= 1")
        self.mode = mode
        self.max_group_size = max_group_size
        self.default_bandwidth_bytes_per_s = default_bandwidth_bytes_per_s
        self._clock = clock
        self._table: dict[Prefix, NextHopGroup] = {}
        # The change log, flat: each change's five fields in a row (``_FIELDS``), so that
        # it holds no object per change. A FibChange kept per change was the one object
        # per prefix besides the prefix itself that lives on and that CPython's collector
        # tracks (a tuple subclass is never untracked): a cold start of 200,000 prefixes
        # kept 131,072 of them, and the collector's full passes walk all of them.
        self._log: deque[Any] = deque(maxlen=_FIELDS * change_log_size)
        self._next_index = 0
        # Replaced on (un)subscribe, never changed in place: a listener may unsubscribe
        # itself while called, and no copy is made per change.
        self._listeners: tuple[Listener, ...] = ()
        self._batch_listeners: tuple[BatchListener, ...] = ()
        # Groups by multipaths, shared by prefixes; swept when doubled (``_sweep``).
        self._groups: dict[Hashable, NextHopGroup] = {}
        self._sweep_at = _GROUP_SWEEP_MIN
        self._members: dict[tuple[IPAddress, int], tuple[IPAddress, int]] = {}  # (_shared)

    # -- the table ---------------------------------------------------------------------

    def install(
        self,
        prefix: Prefix,
        next_hops_with_bandwidth: Sequence[tuple[IPAddress, float | None]],
        key: Hashable | None = None,
    ) -> FibChange | None:
        """Install or replace ``prefix``'s group from its multipaths' (next hop, usable link
        bandwidth in bytes/s or None). Returns the change, or None if the group is unchanged.
        ``key``: as for ``group``."""
        return self._apply(prefix, self.group(next_hops_with_bandwidth, key))

    def group(
        self,
        next_hops_with_bandwidth: Sequence[tuple[IPAddress, float | None]],
        key: Hashable | None = None,
    ) -> NextHopGroup:
        """The group for these multipaths (``build_group`` under this FIB's settings), the
        same object for every prefix with the same set while any of them holds it (CPU and
        memory). ``key``: a cheaper stand-in for the pairs as the cache key (equal exactly
        when the pairs are), e.g. next hops as integers: hashing address objects is slow."""
        if key is None:
            key = tuple(next_hops_with_bandwidth)
        group = self._groups.get(key)
        if group is None:
            group = self._shared(
                build_group(
                    next_hops_with_bandwidth,
                    mode=self.mode,
                    max_group_size=self.max_group_size,
                    default_bandwidth_bytes_per_s=self.default_bandwidth_bytes_per_s,
                )
            )
            self._groups[key] = group
            if len(self._groups) >= self._sweep_at:
                self._sweep()
        return group

    def _shared(self, group: NextHopGroup) -> NextHopGroup:
        """``group`` of the (next hop, member count) pairs of earlier groups where equal:
        they repeat (the same next hops, mostly the same counts), and a pair is 56 B. Not
        the real weights: they differ more, and the table kept more than it saved
        (``bench/memory.py``)."""
        members = self._members
        if len(members) > _PAIRS_KEPT:
            members.clear()
        shared = tuple(members.setdefault(m, m) for m in group.members)
        return replace(group, members=shared)

    def put(self, entries: Iterable[tuple[Prefix, NextHopGroup | None]]) -> list[FibChange]:
        """Each prefix forwards over its group (from ``group()``; None: removed), all at
        one instant: the clock is read once, at the first change (the entries of one
        UPDATE change together). Returns the changes (an entry equal to what it was makes
        none, and reads no clock)."""
        now: int | None = None
        table, log_extend = self._table, self._log.extend
        make = tuple.__new__  # (the NamedTuple's own __new__ is a Python-level call)
        changed = []
        for prefix, group in entries:
            old = table.get(prefix)
            # (None == group would call the dataclass's __eq__ for every new prefix)
            if old is group or (old is not None and group is not None and old == group):
                continue
            if group is None:
                del table[prefix]
            else:
                table[prefix] = group
            if now is None:
                now = self._clock()
            change = make(FibChange, (self._next_index, now, prefix, old, group))
            self._next_index += 1
            changed.append(change)
            log_extend(change)  # (its fields: ``_log``)
            for listener in self._listeners:  # (read per change: one may unsubscribe)
                listener(change)
        if changed and self._batch_listeners:
            batch = tuple(changed)
            for batch_listener in self._batch_listeners:
                batch_listener(batch)
        return changed

    def _sweep(self) -> None:
        """Forget the groups only the cache still holds (transients of a convergence). In
        CPython a group referenced by nothing else has a reference count of 3 here: the
        cache's dict, the loop's variable and getrefcount's argument."""
        self._groups = {k: g for k, g in self._groups.items() if sys.getrefcount(g) > 3}
        self._sweep_at = max(_GROUP_SWEEP_MIN, 2 * len(self._groups))

    def set_mode(self, mode: MissingBandwidthMode) -> None:
        """Weigh paths without link bandwidth by ``mode`` from now on. The groups built under
        the old mode are forgotten; the caller reinstalls every prefix (``Routes.reweigh``),
        since a group keeps its weights, not the bandwidths behind them."""
        self.mode = mode
        self._groups = {}

    def adopt(self, entries: Iterable[tuple[Prefix, NextHopGroup]]) -> None:
        """Take ``entries`` as they are, recording no change: forwarding state that an
        earlier instance left in the hardware (a graceful restart) did not change."""
        self._table.update(entries)

    def clear(self) -> None:
        """Remove every entry, each a recorded change (a process gone, its routes with it)."""
        for prefix in list(self._table):
            self._apply(prefix, None)

    def remove(self, prefix: Prefix) -> FibChange | None:
        """Remove ``prefix``. Returns the change, or None if it had no route."""
        return self._apply(prefix, None)

    def lookup(self, prefix: Prefix) -> NextHopGroup | None:
        """The exact prefix's group (``longest_match`` for what forwarding would use)."""
        return self._table.get(prefix)

    def longest_match(self, prefix: Prefix) -> tuple[Prefix, NextHopGroup] | None:
        """The entry that forwards ``prefix`` (a host address as a /32 or /128): the most
        specific one covering it, as a router's lookup would; None: no route. A scan of
        the table: for someone asking (``show fib``), not for forwarding at line rate."""
        group = self._table.get(prefix)
        if group is not None:
            return prefix, group
        bits = 8 * len(prefix.packed)
        query = int.from_bytes(prefix.packed, "big")
        best: tuple[Prefix, NextHopGroup] | None = None
        for p, g in self._table.items():
            if len(p.packed) * 8 != bits or p.length > prefix.length:
                continue
            if best is not None and p.length <= best[0].length:
                continue
            shift = bits - p.length
            if query >> shift == int.from_bytes(p.packed, "big") >> shift:
                best = (p, g)
        return best

    def entries(self) -> list[tuple[Prefix, NextHopGroup]]:
        """Every (prefix, group), IPv4 first, then by address and length."""
        return sorted(self._table.items(), key=lambda e: (len(e[0].packed), e[0]))

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, prefix: object) -> bool:
        return prefix in self._table

    def _apply(self, prefix: Prefix, group: NextHopGroup | None) -> FibChange | None:
        changes = self.put([(prefix, group)])
        return changes[0] if changes else None

    # -- the change stream -------------------------------------------------------------

    @property
    def next_index(self) -> int:
        """The index the next change will get: the number of changes so far."""
        return self._next_index

    def changes_since(self, index: int) -> tuple[FibChange, ...]:
        """Changes with ``change.index >= index``, oldest first.

        Raises ``ChangesDropped`` if some of them left the bounded log, ValueError if
        ``index`` is beyond ``next_index``.
        """
        first = self._next_index - len(self._log) // _FIELDS
        if index > self._next_index:
            raise ValueError(f"index {index} is beyond the next change ({self._next_index})")
        if index < first:
            raise ChangesDropped(f"changes {index}..{first - 1} are no longer kept")
        fields = iter(itertools.islice(self._log, _FIELDS * (index - first), None))
        rows = zip(*[fields] * _FIELDS, strict=True)  # the flat log, a change at a time
        return tuple(map(tuple.__new__, repeat(FibChange), rows))

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(change)`` after every change; returns the unsubscribe function."""
        self._listeners += (listener,)

        def unsubscribe() -> None:
            self._listeners = _without(self._listeners, listener)

        return unsubscribe

    def subscribe_batches(self, listener: BatchListener) -> Callable[[], None]:
        """Call ``listener(changes)`` once for the changes of each ``put`` (or ``install``,
        ``remove``) that changed anything, in order; returns the unsubscribe function."""
        self._batch_listeners += (listener,)

        def unsubscribe() -> None:
            self._batch_listeners = _without(self._batch_listeners, listener)

        return unsubscribe

    # -- views -------------------------------------------------------------------------

    def describe(self) -> list[dict[str, Any]]:
        """JSON-friendly table for the CLI: one object per prefix, in ``entries`` order."""
        return [{"prefix": str(p), **group.describe()} for p, group in self.entries()]


def _without(listeners: tuple[T, ...], listener: T) -> tuple[T, ...]:
    """``listeners`` less the first that is ``listener`` (a new tuple: never changed in
    place, so a loop calling them is not disturbed)."""
    for i, existing in enumerate(listeners):
        if existing is listener:
            return listeners[:i] + listeners[i + 1 :]
    return listeners
