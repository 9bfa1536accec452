"""Prefix summarization (aggregate-address) between real speakers, over TCP and in memory;
the speaker's own bookkeeping without sessions; the configuration."""

from __future__ import annotations

import ipaddress

import pytest
from speaker_helpers import Fabric, Link, Node

from speakers.config import Aggregate, ConfigError, SpeakerConfig, parse_config
from speakers.speaker import Speaker
from speakers.wire import Prefix

G = 1e9
AGG = "10.0.0.0/22"
P1, P2 = "10.0.0.0/24", "10.0.1.0/24"  # originated by l1 and l2


def pod(base: str, *, memory: bool, summary_only: bool = True) -> Fabric:
    #               top
    #        1.6T /     \\ 400G
    #           a1       a2         both aggregate 10.0.0.0/22, suppressing toward top
    #   400G  /   \\ 400G  / \\ 200G (l2-a2)
    #        l1    l2    l1   l2    l1: 10.0.0.0/24, l2: 10.0.1.0/24, both at 800G
    agg = (Aggregate(Prefix.parse(AGG), summary_only, frozenset({"top"})),)
    return Fabric(
        [
            Node("top", 65000, f"{base}.1"),
            Node("a1", 65101, f"{base}.2", aggregates=agg),
            Node("a2", 65102, f"{base}.3", aggregates=agg),
            Node("l1", 65201, f"{base}.4", [(P1, 800 * G)]),
            Node("l2", 65202, f"{base}.5", [(P2, 800 * G)]),
        ],
        [
            Link("top", "a1", 1600 * G),
            Link("top", "a2", 400 * G),
            Link("a1", "l1", 400 * G),
            Link("a1", "l2", 400 * G),
            Link("a2", "l1", 400 * G),
            Link("a2", "l2", 200 * G),
        ],
        memory=memory,
    )


def paths(fabric: Fabric, node: str, prefix: str) -> list[dict]:
    dests = fabric[node].rib(Prefix.parse(prefix))
    return dests[0]["paths"] if dests else []


def bandwidth_from(fabric: Fabric, node: str, prefix: str, source: str) -> float | None:
    for p in paths(fabric, node, prefix):
        if p["source"] == source:
            return p["link_bandwidth_bps"]
    return None


def near(value: float | None, expected: float) -> bool:
    return value is not None and value == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("transport", ["tcp", "memory"])
async def test_top_sees_only_the_aggregate_weighted_by_capacity(transport: str) -> None:
    fabric = pod("127.0.50", memory=transport == "memory")
    seen_at_top: set[str] = set()
    fabric["top"].route_events.append(lambda change: seen_at_top.add(str(change.prefix)))
    await fabric.start()
    try:
        # a1: l1 400G + l2 400G = 800G, under its 1.6T link to top.
        # a2: l1 400G + l2 200G = 600G, capped by its 400G link to top on export.
        await fabric.wait(
            lambda: (
                fabric.weights("top", AGG) == {"a1": 2, "a2": 1}
                and near(bandwidth_from(fabric, "top", AGG, "a1"), 800 * G)
                and near(bandwidth_from(fabric, "top", AGG, "a2"), 400 * G)
                # the leaves still see each other's /24 (no suppression downward)
                and fabric.weights("l1", P2) == {"a1": 2, "a2": 1}
                and fabric.weights("l2", P1) == {"a1": 2, "a2": 1}
            )
        )
        assert seen_at_top == {AGG}  # no /24 ever reached top
        assert near(bandwidth_from(fabric, "a2", AGG, "<local>"), 600 * G)
        dest = fabric["top"].loc_rib.get(Prefix.parse(AGG))
        assert dest is not None
        for p in dest.paths.values():
            attrs = p.attributes
            assert attrs.atomic_aggregate and attrs.aggregator is not None
            assert str(attrs.as_path) == str(p.source.asn)  # empty AS_PATH, our AS prepended
            assert (attrs.aggregator.asn, attrs.aggregator.address) == (
                p.source.asn,
                p.source.router_id,
            )
        # The aggregator forwards by the specifics: no FIB entry for the aggregate.
        assert fabric.weights("a1", AGG) == {} and fabric.weights("a1", P1) == {"l1": 1}

        # Members of a1-l1 fail as a1 sees it: l1's share at a1 is capped at 100G.
        fabric["a1"].set_link_capacity("l1", 100 * G)
        await fabric.wait(lambda: fabric.weights("top", AGG) == {"a1": 5, "a2": 4})
        fabric["a1"].set_link_capacity("l1", 400 * G)
        await fabric.wait(lambda: fabric.weights("top", AGG) == {"a1": 2, "a2": 1})

        # One leaf's prefix goes: the aggregate stays, with less bandwidth (a1 400G, a2
        # min(400G, 400G)).
        fabric["l2"].withdraw_origin(Prefix.parse(P2))
        await fabric.wait(
            lambda: (
                fabric.weights("top", AGG) == {"a1": 1, "a2": 1}
                and near(bandwidth_from(fabric, "top", AGG, "a1"), 400 * G)
                and fabric.weights("l1", P2) == {}
            )
        )
        # The last one goes: the aggregate is withdrawn everywhere.
        fabric["l1"].withdraw_origin(Prefix.parse(P1))
        await fabric.wait(
            lambda: all(not paths(fabric, n, AGG) for n in ("top", "a1", "a2", "l1", "l2"))
        )
        assert seen_at_top == {AGG}
        # And comes back with the first contributor.
        fabric["l2"].originate(Prefix.parse(P2), 800 * G)
        await fabric.wait(lambda: fabric.weights("top", AGG) == {"a1": 2, "a2": 1})
    finally:
        fabric.close()


@pytest.mark.parametrize("transport", ["tcp", "memory"])
async def test_summary_only_false_sends_both(transport: str) -> None:
    fabric = pod("127.0.51", memory=transport == "memory", summary_only=False)
    await fabric.start()
    try:
        await fabric.wait(
            lambda: (
                fabric.weights("top", AGG) == {"a1": 2, "a2": 1}
                and fabric.weights("top", P1) == {"a1": 1, "a2": 1}  # 400G each way
                and fabric.weights("top", P2) == {"a1": 2, "a2": 1}  # 400G vs 200G
            )
        )
    finally:
        fabric.close()


# --- the speaker's own bookkeeping, without sessions ---------------------------------------


def lone_speaker(*aggregates: Aggregate) -> Speaker:
    return Speaker(
        SpeakerConfig(
            name="s",
            asn=65001,
            router_id=ipaddress.IPv4Address("10.255.0.1"),
            listen_address=ipaddress.ip_address("127.0.52.1"),
            aggregates=aggregates,
        )
    )


def local_bandwidth(speaker: Speaker, prefix: str) -> float | None:
    dest = speaker.loc_rib.get(Prefix.parse(prefix))
    if dest is None or dest.best is None:
        return None
    return dest.best.link_bandwidth


def test_local_contributors_nesting_and_an_originated_aggregate_prefix() -> None:
    s = lone_speaker(Aggregate(Prefix.parse("10.0.0.0/16")), Aggregate(Prefix.parse(AGG)))
    changes: list[str] = []
    s.route_events.append(lambda change: changes.append(str(change.prefix)))
    s.originate(Prefix.parse(P1), 800 * G)
    s.originate(Prefix.parse(P2), 400 * G)
    # Local contributors count with their own bandwidth, once per source: the largest.
    assert near(local_bandwidth(s, AGG), 800 * G / 8)
    # The /22 is ours: not a contributor of the /16, whose contributors are the /24s.
    outer = s.aggregates.get(Prefix.parse("10.0.0.0/16"))
    assert outer is not None and set(map(str, outer.contributors)) == {P1, P2}
    assert near(local_bandwidth(s, "10.0.0.0/16"), 800 * G / 8)
    # Same bandwidth, nothing to re-export: no route change for the aggregates.
    changes.clear()
    s.originate(Prefix.parse("10.0.2.0/24"), 100 * G)
    assert changes == ["10.0.2.0/24"]
    # We originate the /22 itself: that route takes the aggregate's place...
    s.originate(Prefix.parse(AGG), 50 * G)
    assert near(local_bandwidth(s, AGG), 50 * G / 8)
    dest = s.loc_rib.get(Prefix.parse(AGG))
    assert dest is not None and dest.best is not None and not dest.best.attributes.atomic_aggregate
    # ...and counts inside the /16 like any route; when withdrawn, the aggregate is back.
    assert Prefix.parse(AGG) in outer.contributors
    s.withdraw_origin(Prefix.parse(AGG))
    assert near(local_bandwidth(s, AGG), 800 * G / 8)
    assert Prefix.parse(AGG) not in outer.contributors
    s.withdraw_origin(Prefix.parse(AGG))  # only the aggregate there: not withdrawn by this
    assert near(local_bandwidth(s, AGG), 800 * G / 8)
    for p in (P1, P2, "10.0.2.0/24"):
        s.withdraw_origin(Prefix.parse(p))
    assert len(s.loc_rib) == 0
    assert s.fib() == []  # nothing local is installed in the FIB


def test_api_built_config_is_checked() -> None:
    with pytest.raises(ValueError, match=r"aggregates\[0\].suppress_toward: no neighbor named 'x'"):
        lone_speaker(Aggregate(Prefix.parse(AGG), suppress_toward=frozenset({"x"})))
    with pytest.raises(ValueError, match="duplicate aggregate"):
        lone_speaker(Aggregate(Prefix.parse(AGG)), Aggregate(Prefix.parse(AGG)))


# --- configuration ----------------------------------------------------------------------------

HEAD = """\
asn: 65001
router_id: 10.255.0.1
listen: {address: 127.0.0.1}
neighbors:
  - {name: stsw1, address: 10.0.0.1, remote_as: 2}
  - {name: stsw2, address: 10.0.0.2, remote_as: 3}
"""


def test_yaml_aggregates() -> None:
    cfg = parse_config(
        HEAD
        + "aggregates:\n"
        + "  - {prefix: 10.0.0.0/19, summary_only: true, suppress_toward: [stsw1, stsw2]}\n"
        + "  - {prefix: 10.1.0.0/19, summary_only: false}\n"
        + "  - 2001:db8::/48\n"
    )
    assert cfg.aggregates == (
        Aggregate(Prefix.parse("10.0.0.0/19"), True, frozenset({"stsw1", "stsw2"})),
        Aggregate(Prefix.parse("10.1.0.0/19"), False, None),
        Aggregate(Prefix.parse("2001:db8::/48")),
    )
    assert parse_config(HEAD).aggregates == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "aggregates:\n  - prefix: 10.0.0.0/19\n    suppress_toward:\n      - stsw1\n"
            "      - stsw9\n",
            "cfg.yaml:11: aggregates[0].suppress_toward[1]: no neighbor named 'stsw9'",
        ),
        (
            "aggregates:\n  - {prefix: 10.0.1.0/19}\n",
            "cfg.yaml:8: aggregates[0].prefix: expected a prefix like 10.1.0.0/16 with host bits",
        ),
        (
            "aggregates:\n  - 10.0.0.0/19\n  - {prefix: 10.0.0.0/19}\n",
            "cfg.yaml:9: aggregates[1].prefix: duplicate aggregate 10.0.0.0/19 (also",
        ),
        (
            "aggregates:\n  - {prefix: 10.0.0.0/19, summary_only: yes please}\n",
            "cfg.yaml:8: aggregates[0].summary_only: expected true or false",
        ),
        (
            "aggregates:\n  - {prefix: 10.0.0.0/19, as_set: true}\n",
            "cfg.yaml:8: aggregates[0].as_set: unknown field 'as_set'",
        ),
        (
            "aggregates:\n  - {prefix: 10.0.0.0/19, suppress_toward: stsw1}\n",
            "cfg.yaml:8: aggregates[0].suppress_toward: expected a list",
        ),
    ],
    ids=["unknown-neighbor", "host-bits", "duplicate", "bad-bool", "unknown-field", "not-a-list"],
)
def test_yaml_aggregate_errors(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(HEAD + text, "cfg.yaml")
    assert str(info.value).startswith(expected), str(info.value)
