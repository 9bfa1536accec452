"""``Failures``: the one record of what is broken, its operations and its JSON form; and
``Topology.bundle``, the constant-time bundle lookup every runtime and verify use."""

from __future__ import annotations

import pytest

from bagctl.topology.failures import Failures, members_capacity
from bagctl.topology.model import Bundle, Node, Role, Topology

G = 100e9


@pytest.fixture
def topo() -> Topology:
    nodes = (
        Node("leaf", Role.RTSW, 65001, "r1", fabric="f"),
        Node("spine", Role.FTSW, 65100, "r1", fabric="f"),
    )
    return Topology("t", nodes, (Bundle("spine", "leaf", 4, G),))


def test_bundle_lookup_either_order(topo: Topology) -> None:
    assert topo.bundle("leaf", "spine") is topo.bundle("spine", "leaf") is topo.bundles[0]
    with pytest.raises(KeyError, match="no bundle between 'leaf' and 'nowhere' in region t"):
        topo.bundle("leaf", "nowhere")


def test_operations_make_new_values(topo: Topology) -> None:
    b = topo.bundles[0]
    none = Failures()
    down = none.bundle_down(b)
    assert none.down == frozenset() and down.down == {("leaf", "spine")}
    assert down.capacity_bps(b) == 0.0 and none.capacity_bps(b) == 4 * G
    assert down.bundle_up(b) == none
    three = none.with_members(b, 3)
    assert three.members_working(b) == 3 and three.capacity_bps(b) == 3 * G
    assert three.with_members(b, 4) == none  # whole again: forgotten
    drained = none.drain("spine", "as-path-prepend")
    assert drained.drained == {"spine": "as-path-prepend"} and drained.undrain("spine") == none


def test_json_round_trip(topo: Topology) -> None:
    b = topo.bundles[0]
    f = Failures().bundle_down(b).with_members(b, 2).drain("leaf", "link-bandwidth-zero")
    assert f.as_dict() == {
        "bundles_down": [["leaf", "spine"]],
        "members_up": {"leaf spine": 2},
        "drained": {"leaf": "link-bandwidth-zero"},
    }
    assert Failures.from_dict(f.as_dict()) == f
    assert Failures.from_dict({}) == Failures()


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"bundles_down": "a b"}, "bundles_down: expected a list, not str"),
        ({"bundles_down": [["a"]]}, "bundles_down: \\['a'\\] is not a pair"),
        ({"members_up": {"a": 1}}, "members_up: 'a': 1 is not 'A B': member count"),
        ({"members_up": {"a b": "2"}}, "members_up: 'a b': '2'"),
        ({"drained": ["x"]}, "drained: expected a dict, not list"),
    ],
)
def test_from_dict_names_the_bad_field(doc: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Failures.from_dict(doc)


def test_members_capacity_bounds(topo: Topology) -> None:
    b = topo.bundles[0]
    assert members_capacity(b, 1) == G
    for bad in (0, 5):
        with pytest.raises(ValueError, match=f"has 4 members; {bad} cannot be up"):
            members_capacity(b, bad)
