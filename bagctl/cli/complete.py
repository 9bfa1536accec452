"""Shell completion of what a command line names: nodes, a bundle's far end, regions,
presets, topology files (click 8 ``shell_complete`` callbacks; ``bagctl completion``
prints the script that makes a shell call them).

A Tab must answer at once, so the names come from this machine, never from the broker:
the running region's topology copy (``NAME.topology.yaml``, named by its state file in
the state directory: ``bagctl/bus/host.py``), for the region ``--region`` names if it is
already on the line, else for every region running, read by ``topology/names.py``
(about 0.1 s for prometheus's 5,910 nodes and 50,688 bundles). No command that takes a
node also takes a topology file, so with no region running a node has no candidates.

A callback never raises and never prints: completion runs inside the user's shell, where
a traceback or a stray line would land in the middle of what they are typing. On any
problem it offers nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import click
from click.shell_completion import CompletionItem

from ..bus.host import StateDir, pid_alive
from ..topology.names import NodeName, TopologyNames, read_names

# A running region's copy is always in the one-line form the scan reads; a file in
# another form is read in full only up to this size (prometheus's 4 MB would take 8 s).
FULL_READ_MAX_BYTES = 512 * 1024

Callback = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def _never_raises(callback: Callback) -> Callback:
    @functools.wraps(callback)
    def guarded(
        ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        try:
            return callback(ctx, param, incomplete)
        except Exception:  # a shell's Tab must never show a traceback
            return []

    return guarded


def _state_dir(ctx: click.Context) -> StateDir:
    return StateDir(ctx.params.get("state_dir"))


def running_topologies(ctx: click.Context) -> Iterator[Path]:
    """The topology copies of the regions this command line would talk to: the one
    ``--region`` names, else every region whose process is alive."""
    sd = _state_dir(ctx)
    region = ctx.params.get("region")
    for name in [region] if isinstance(region, str) and region else sd.regions():
        state = sd.read(name)
        if state is None:
            continue
        pid, topology = state.get("pid"), state.get("topology")
        if isinstance(pid, int) and pid_alive(pid) and isinstance(topology, str):
            yield Path(topology)


def _names(ctx: click.Context) -> Iterator[TopologyNames]:
    for path in running_topologies(ctx):
        try:
            yield read_names(path, full_read_max_bytes=FULL_READ_MAX_BYTES)
        except (OSError, ValueError):  # gone, or not a topology (ConfigError)
            continue


def _item(node: NodeName) -> CompletionItem:
    """A node with its role and AS as the help zsh and fish show beside it."""
    role = node.role.value if node.role is not None else "?"
    return CompletionItem(node.name, help=f"{role} AS{node.asn}" if node.asn else role)


def _nodes(ctx: click.Context, incomplete: str, speakers_only: bool) -> list[CompletionItem]:
    found: dict[str, CompletionItem] = {}
    for names in _names(ctx):
        for node in names.nodes:
            if not node.name.startswith(incomplete) or node.name in found:
                continue
            if speakers_only and node.role is not None and not node.role.speaks_bgp:
                continue
            found[node.name] = _item(node)
    return list(found.values())


@_never_raises
def complete_speaker(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """A switch that runs a BGP speaker (``node drain``, ``show rib``: an FDSW has none)."""
    return _nodes(ctx, incomplete, speakers_only=True)


@_never_raises
def complete_bundle_end(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """``link down A B``: A is any node with a bundle; B, a node A has a bundle with."""
    first = ctx.params.get("a") if param.name == "b" else None
    found: dict[str, CompletionItem] = {}
    for names in _names(ctx):
        by_name = {n.name: n for n in names.nodes}
        if isinstance(first, str) and first in by_name:
            candidates = [by_name[p] for p in names.peers(first) if p in by_name]
        else:
            candidates = [n for n in names.nodes if names.peers(n.name)]
        for node in candidates:
            if node.name.startswith(incomplete):
                found.setdefault(node.name, _item(node))
    return list(found.values())


@_never_raises
def complete_region(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """``--region``: the regions with a state file (running, or left by a killed run)."""
    return [CompletionItem(r) for r in _state_dir(ctx).regions() if r.startswith(incomplete)]


@_never_raises
def complete_preset(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """``topo gen --preset``: the generator's presets, each with its description."""
    from ..topology.generate import PRESETS

    return [
        CompletionItem(name, help=preset.description)
        for name, preset in PRESETS.items()
        if name.startswith(incomplete)
    ]


@_never_raises
def complete_topology_file(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """A topology argument: a file (no command takes a preset name in its place; ``topo
    gen --preset`` writes one). The shell lists the files itself."""
    return [CompletionItem(incomplete, type="file")]


__all__ = [
    "FULL_READ_MAX_BYTES",
    "complete_bundle_end",
    "complete_preset",
    "complete_region",
    "complete_speaker",
    "complete_topology_file",
    "running_topologies",
]
