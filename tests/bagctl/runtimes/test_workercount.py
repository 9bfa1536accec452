"""``--workers auto`` (bagctl/runtimes/workercount.py): the count chosen for every preset
on a 2-core host and on others, the descriptor rule against the real partition (at the
usual limit and a small one: the fewest workers that fit, and none when a zone cannot),
and what ``auto``, ``0`` and a count mean."""

from __future__ import annotations

from functools import cache

import pytest

from bagctl.runtimes.partition import partition, speaker_weights
from bagctl.runtimes.workercount import (
    AUTO,
    FD_SHARE,
    Host,
    core_workers,
    descriptor_workers,
    fitting_workers,
    parse_workers,
    resolve_workers,
    usable_cores,
)
from bagctl.topology.generate import generate
from bagctl.topology.model import Topology

TWO_CORES = Host(cores=2, open_files=20_000)  # the machine the rule was measured on

# preset -> (sessions, workers on TWO_CORES over TCP, over the in-memory network)
PRESETS = {
    "mini": (64, 1, 1),
    "clos": (144, 1, 1),
    "region": (2_704, 1, 1),  # two workers were no faster here
    "two-region-planar": (9_216, 2, 2),  # 239 s -> 137 s on two
    "two-region-spread": (9_664, 2, 2),
    # 84,096 session ends and 5,910 listeners over TCP: six workers by the estimate, but
    # whole zones leave the busiest of six with 16,712 sockets, of seven 16,008: eight
    "prometheus": (42_048, 8, 2),
}


@cache
def preset(name: str) -> Topology:
    return generate(name)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_on_two_cores(name: str) -> None:
    sessions, tcp, memory = PRESETS[name]
    topo = preset(name)
    assert sum(1 for _ in topo.sessions()) == sessions
    assert resolve_workers(AUTO, topo, "tcp", TWO_CORES).workers == tcp
    assert resolve_workers(AUTO, topo, "memory", TWO_CORES).workers == memory


def busiest(topo: Topology, workers: int) -> int:
    """The most sockets over TCP any worker of the partition holds: a session end each,
    a listener per speaker."""
    weight = speaker_weights(topo)
    return max(sum(weight[n] + 1 for n in g) for g in partition(topo, workers))


@pytest.mark.parametrize(
    ("name", "open_files"),
    [(name, 20_000) for name in PRESETS] + [("region", 5_000), ("two-region-spread", 7_000)],
)
def test_the_fewest_workers_whose_sockets_fit_the_real_partition(
    name: str, open_files: int
) -> None:
    """Over TCP, every worker of auto's count holds its sockets within ``FD_SHARE`` of
    the limit on the partition the region will run, and one worker fewer would not (past
    the cores' own count): the real partition, not only the estimate."""
    topo = preset(name)
    host = Host(cores=2, open_files=open_files)
    workers = resolve_workers(AUTO, topo, "tcp", host).workers
    assert busiest(topo, workers) <= FD_SHARE * open_files
    floor = resolve_workers(AUTO, topo, "memory", host).workers
    if workers > floor:
        assert busiest(topo, workers - 1) > FD_SHARE * open_files


def test_no_count_fits_when_one_zone_alone_is_over_the_limit() -> None:
    """region's DSF zones (960 sessions each, never cut) need some 2,000 sockets: with
    1,000 open files nothing fits, and auto says what would help."""
    topo = preset("region")
    assert fitting_workers(topo, 1_000) is None
    choice = resolve_workers(AUTO, topo, "tcp", Host(cores=2, open_files=1_000))
    assert choice.workers == 1
    assert "a DSF zone alone needs more than 1,000 open files a process" in choice.why
    assert "--transport memory" in choice.why


def test_one_process_below_4000_sessions_then_a_core_each_with_2000_sessions_at_least() -> None:
    assert core_workers(3_999, 16) == (1, "3,999 sessions, fewer than 4,000")
    assert core_workers(4_000, 16)[0] == 2
    assert core_workers(9_216, 16) == (
        4,
        "9,216 sessions, 16 cores, at least 2,000 sessions a worker",
    )
    assert core_workers(42_048, 16) == (16, "42,048 sessions, 16 cores")
    assert core_workers(42_048, 1) == (1, "42,048 sessions, 1 core")
    assert core_workers(4_672, 2) == (2, "4,672 sessions, 2 cores")  # z=2: 58.6 s -> 40.2 s
    many = Host(cores=16, open_files=20_000)
    assert resolve_workers(AUTO, preset("two-region-planar"), "memory", many).workers == 4


def test_over_tcp_enough_workers_for_the_descriptors_whatever_the_cores() -> None:
    """two-region-spread (19,328 session ends) ran out of descriptors in one process:
    on one core, auto still runs it over two workers over TCP, and in one process in
    memory."""
    one_core = Host(cores=1, open_files=20_000)
    topo = preset("two-region-spread")
    choice = resolve_workers(AUTO, topo, "tcp", one_core)
    assert choice.workers == 2
    assert "over TCP, 20,000 open files a process" in choice.why
    assert resolve_workers(AUTO, topo, "memory", one_core).workers == 1


def test_the_descriptor_estimate_with_a_small_limit() -> None:
    # 300 sessions, 100 speakers: 700 sockets; 800 of 1,000 open files: one process
    assert descriptor_workers(300, 100, 1_000) == 1
    # 1,000 sessions, 100 speakers: 2,100 sockets, 2,205 with the partition's slack
    assert descriptor_workers(1_000, 100, 1_000) == 3
    assert descriptor_workers(10**6, 10**5, None) == 1  # no limit
    # mini (64 sessions, 38 speakers: 166 sockets) against a limit of 100 open files
    mini = preset("mini")
    small = Host(cores=2, open_files=100)
    choice = resolve_workers(AUTO, mini, "tcp", small)
    assert choice.workers == fitting_workers(mini, 100) and choice.workers >= 3
    assert choice.why.startswith("64 sessions over TCP, 100 open files a process")
    assert resolve_workers(AUTO, mini, "memory", small).workers == 1  # no sockets inside


def test_what_auto_0_and_a_count_mean() -> None:
    topo = preset("mini")
    assert parse_workers("auto") == AUTO == parse_workers(" Auto ")
    assert parse_workers("0") == 0 and parse_workers("3") == 3
    for bad in ("-1", "two", "", "1.5"):
        with pytest.raises(ValueError, match="is not auto or a count of workers"):
            parse_workers(bad)
    auto = resolve_workers(AUTO, topo, "tcp", TWO_CORES)
    assert auto.describe() == "one process (auto: 64 sessions, fewer than 4,000)"
    assert auto.as_dict() == {"count": 1, "asked": "auto", "why": "64 sessions, fewer than 4,000"}
    per_core = resolve_workers(0, topo, "tcp", Host(cores=3, open_files=None))
    assert per_core.describe() == "3 workers (0: one per core, 3 usable)"
    assert resolve_workers(3, topo, "tcp", TWO_CORES).describe() == "3 workers (3: as asked)"
    with pytest.raises(ValueError):
        resolve_workers(-2, topo, "tcp", TWO_CORES)
    planar = resolve_workers(AUTO, preset("two-region-planar"), "tcp", TWO_CORES)
    assert planar.describe() == "2 workers (auto: 9,216 sessions, 2 cores)"


def test_this_host() -> None:
    host = Host.this()
    assert host.cores == usable_cores() >= 1
    assert host.open_files is None or host.open_files > 0
