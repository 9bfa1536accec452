"""The published JSON Schema: it is what ``schema.py`` builds, every shipped topology and the
hand-written example satisfy it, and documents ``load.py`` refuses field by field fail it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from bagctl.topology import parse_topology
from bagctl.topology.generate import PRESETS
from bagctl.topology.schema import SCHEMA_FILE, schema_text, topology_schema
from speakers.yamldoc import ConfigError

ROOT = Path(__file__).resolve().parents[3]
SMALL = Path(__file__).with_name("small.yaml")
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 4 MB files
VALIDATOR = jsonschema.Draft202012Validator(topology_schema())


def _load(path: Path) -> object:
    return yaml.load(path.read_text(), Loader=Loader)


def test_shipped_schema_is_the_built_one() -> None:
    assert SCHEMA_FILE == ROOT / "topologies" / "topology.schema.json"
    assert SCHEMA_FILE.read_text() == schema_text(), "run python -m bagctl.topology.schema"
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_FILE.read_text()))


@pytest.mark.parametrize(
    "path",
    [
        SMALL,
        *[
            pytest.param(ROOT / "topologies" / f"{p}.yaml", id=p, marks=_marks)
            for p in PRESETS
            for _marks in ([pytest.mark.slow] if p == "prometheus" else [],)
        ],
    ],
    ids=lambda p: getattr(p, "name", str(p)),
)
def test_topologies_satisfy_the_schema(path: Path) -> None:
    errors = [e.message for e in VALIDATOR.iter_errors(_load(path))]
    assert errors == []


BASE = yaml.load(SMALL.read_text(), Loader=Loader)


def _edited(path: tuple, value: object) -> dict:
    doc = copy.deepcopy(BASE)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("nodes", 0, "role"), "spine"),
        (("nodes", 0, "colour"), "red"),
        (("nodes", 0, "asn"), 0),
        (("nodes", 0, "asn"), "65101"),
        (("nodes", 2, "fabric"), _DELETE),
        (("nodes", 0, "host_capacity"), "fast"),
        (("nodes", 0, "prefixes"), ["10.1.1.0/33"]),
        (("nodes", 0, "prefixes"), ["fast"]),
        (("nodes", 0, "name"), ""),
        (("bundles", 0), ["rtsw1", "ftsw1", 400]),
        (("bundles", 0), ["rtsw1", "ftsw1", 1, "400G", "lag"]),
        (("bundles", 0), ["rtsw1", "ftsw1", 0, "400G"]),
        (("bundles", 11, "speed"), "800 Gbit"),
        (("bundles", 11, "speed"), 0),
        (("bundles", 11, "weight"), 3),
        (("defaults",), {"hold_time_s": 2}),
        (("defaults",), {"link_bandwidth": "sum"}),
        (("defaults",), {"max_group_size": 100}),
        (("addressing",), {"link_v4": "10.128.0.0/33"}),
        (("nodes",), _DELETE),
        (("title",), "x"),
    ],
    ids=lambda v: "delete" if v is _DELETE else None,
)
def test_broken_documents_fail_the_schema_and_the_loader(path: tuple, value: object) -> None:
    doc = _edited(path, value)
    assert list(VALIDATOR.iter_errors(doc)), "schema accepted it"
    with pytest.raises(ConfigError):  # and load.py refuses it too: they agree
        parse_topology(yaml.safe_dump(doc), "bad.yaml")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("bundles", 11), {"a": "bag1", "b": "bag2", "members": 10, "speed": "800Gbps"}),
        (("bundles", 11), ["bag1", "bag2", 10, 8e11, None]),
        (("nodes", 8, "fabric"), None),  # a BAG needs no fabric; null is "absent"
        (("nodes", 0, "building"), None),
        (("nodes", 0, "prefixes"), ["10.1.1.1", "2001:db8::1"]),  # host routes
        (("defaults",), {"hold_time_s": 0, "mrai_s": "0.5", "max_group_size": 512}),
        (("addressing",), {"link_v6": "fd00:1::/48", "loopback_v4": None}),
    ],
)
def test_variants_the_loader_accepts_pass_the_schema(path: tuple, value: object) -> None:
    doc = _edited(path, value)
    assert [e.message for e in VALIDATOR.iter_errors(doc)] == []
    parse_topology(yaml.safe_dump(doc), "ok.yaml")
