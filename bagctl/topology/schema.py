"""The topology file format as a JSON Schema (draft 2020-12), for editors and CI linters.

``topology_schema()`` builds it from the same tables ``load.py`` uses (field sets, roles,
bandwidth modes), and ``topologies/topology.schema.json`` is its dump (``write_schema`` or
``python -m bagctl.topology.schema``); a test keeps the two equal. YAML editors pick it up
from a comment such as ``# yaml-language-server: $schema=topology.schema.json``.

What the schema checks is what ``load.py`` checks field by field: known fields only, types
and ranges, roles, the bundle mapping or compact ``[a, b, members, speed(, kind)]`` form,
bandwidth as a number of bits/s or a string like ``800G`` / ``12.8T`` / ``400Gbps``,
``fabric`` required on every role but ``bag``, ``null`` meaning "default" for an optional
field. What it cannot check (JSON Schema does not see across the document) stays with
``load.py`` and ``validate.py``: bundle ends that name no node, duplicate names, parallel
bundles, ``dsf_mesh`` ends, host bits in prefixes, the AS layout. One known looseness: a
float such as ``5.0`` passes as an integer here (JSON Schema compares numbers by value),
while ``load.py`` wants a YAML integer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .load import _BUNDLE, _DEFAULTS, _NODE, _TOP
from .model import EXPORT_MODES, MISSING_MODES, Role

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "topologies" / "topology.schema.json"

# speakers.yamldoc.parse_bps: optional sign-less decimal, unit k M G T P (any case), then an
# optional "bps" or "b/s"; surrounding blanks allowed.
_BPS_PATTERN = (
    r"^\s*\+?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*[kKmMgGtTpP]?"
    r"([bB][pP][sS]|[bB]/[sS])?\s*$"
)
_V4 = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_V4_ADDR = rf"{_V4}(\.{_V4}){{3}}"
_V6_ADDR = r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*"
_V4_NET = rf"^{_V4_ADDR}(/([0-9]|[12][0-9]|3[0-2]))?$"
_V6_NET = rf"^{_V6_ADDR}(/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))?$"
# a prefix without a length is a host route, as for ipaddress.ip_network
_PREFIX = (
    rf"^({_V4_ADDR}(/([0-9]|[12][0-9]|3[0-2]))?"
    rf"|{_V6_ADDR}(/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))?)$"
)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional field: ``null`` (or absent) means its default, as in ``Fields.get``."""
    return {"anyOf": [schema, {"type": "null"}]}


def _integer(lo: int, hi: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": lo, "maximum": hi}


def _mapping(fields: set[str], properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    assert set(properties) == fields, sorted(set(properties) ^ fields)  # same as load.py
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": {k: properties[k] for k in sorted(properties)},
    }


def topology_schema() -> dict[str, Any]:
    """The JSON Schema of a topology file, as a dict."""
    string = {"type": "string", "minLength": 1}
    bandwidth = {"$ref": "#/$defs/bandwidth"}
    defaults = _mapping(
        _DEFAULTS,
        {
            "hold_time_s": _nullable(
                {**_integer(0, 65535), "not": {"enum": [1, 2]}, "description": "0 or >= 3"}
            ),
            "connect_retry_s": _nullable({"$ref": "#/$defs/number"}),
            "mrai_s": _nullable({"$ref": "#/$defs/number"}),
            "missing_bandwidth": _nullable({"enum": list(MISSING_MODES)}),
            "max_group_size": _nullable({"enum": [64, 128, 256, 512]}),
            "link_bandwidth": _nullable({"enum": list(EXPORT_MODES)}),
            "max_paths": _nullable(_integer(1, 1024)),
            "extended_message": _nullable({"type": "boolean"}),
            "aggregate_complete_only": _nullable({"type": "boolean"}),
            "graceful_restart": _nullable(
                {
                    "anyOf": [
                        {"type": "boolean"},
                        _mapping(
                            {
                                "enabled",
                                "restart_time_s",
                                "stalepath_time_s",
                                "select_defer_time_s",
                            },
                            {
                                "enabled": _nullable({"type": "boolean"}),
                                "restart_time_s": _nullable(_integer(0, 4095)),
                                "stalepath_time_s": _nullable({"$ref": "#/$defs/duration"}),
                                "select_defer_time_s": _nullable({"$ref": "#/$defs/duration"}),
                            },
                            [],
                        ),
                    ]
                }
            ),
            "max_prefixes": _nullable(_integer(1, 1 << 32)),
            "max_prefixes_restart_s": _nullable({"$ref": "#/$defs/duration"}),
            "ttl_security": _nullable({"type": "boolean"}),
            "md5_password": _nullable({"type": "string", "minLength": 1, "maxLength": 80}),
            "processing_s": _nullable({"$ref": "#/$defs/duration"}),
            "latency_s": _nullable({"$ref": "#/$defs/duration"}),
        },
        [],
    )
    addressing = _mapping(
        {"loopback_v4", "link_v4", "link_v6"},
        {
            "loopback_v4": _nullable({"type": "string", "pattern": _V4_NET}),
            "link_v4": _nullable({"type": "string", "pattern": _V4_NET}),
            "link_v6": _nullable({"type": "string", "pattern": _V6_NET}),
        },
        [],
    )
    node = _mapping(
        _NODE,
        {
            "name": string,
            "role": {"enum": [r.value for r in Role]},
            "asn": _integer(1, 0xFFFFFFFF),
            "region": string,
            "building": _nullable(string),
            "fabric": _nullable(string),
            "plane": _nullable(_integer(0, 1 << 16)),
            "host_capacity": _nullable({"$ref": "#/$defs/number"}),
            "chassis_ports": _nullable(_integer(1, 1 << 16)),
            "prefixes": _nullable(
                {"type": "array", "items": {"type": "string", "pattern": _PREFIX}}
            ),
            "aggregates": _nullable(
                {"type": "array", "items": {"type": "string", "pattern": _PREFIX}}
            ),
            "link_bandwidth": _nullable({"enum": list(EXPORT_MODES)}),
            "missing_bandwidth": _nullable({"enum": list(MISSING_MODES)}),
        },
        ["name", "role", "asn", "region"],
    )
    node["description"] = "A switch; every role but bag names its L2 fabric."
    node["if"] = {"properties": {"role": {"const": "bag"}}}
    node["else"] = {"required": ["fabric"], "properties": {"fabric": string}}
    kind = {"enum": ["link", "dsf_mesh"]}
    bundle_mapping = _mapping(
        _BUNDLE,
        {
            "a": string,
            "b": string,
            "members": _integer(1, 100_000),
            "speed": bandwidth,
            "kind": _nullable(kind),
            "latency": _nullable({"$ref": "#/$defs/duration"}),
            "md5_password": _nullable({"type": "string", "minLength": 1, "maxLength": 80}),
        },
        ["a", "b", "members", "speed"],
    )
    bundle_compact = {
        "type": "array",
        "description": "[a, b, members, speed] or [a, b, members, speed, kind]",
        "minItems": 4,
        "maxItems": 5,
        "prefixItems": [string, string, _integer(1, 100_000), bandwidth, _nullable(kind)],
        "items": False,
    }
    top = _mapping(
        _TOP,
        {
            "name": string,
            "description": _nullable(string),
            "defaults": _nullable(defaults),
            "addressing": _nullable(addressing),
            "nodes": {"type": "array", "items": {"$ref": "#/$defs/node"}},
            "bundles": _nullable(
                {"type": "array", "items": {"oneOf": [bundle_mapping, bundle_compact]}}
            ),
        },
        ["name", "nodes"],
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "bagemu region topology",
        "description": (
            "Switches (nodes) and the bundles between them; read by bagctl "
            "(bagctl/topology/load.py). Cross-references (bundle ends, duplicate names, "
            "the AS layout) are checked by bagctl, not by this schema."
        ),
        **top,
        "$defs": {
            "number": {
                "description": "a non-negative number, or a string like 800G (parse_bps)",
                "anyOf": [
                    {"type": "number", "minimum": 0},
                    {"type": "string", "pattern": _BPS_PATTERN},
                ],
            },
            "bandwidth": {
                "description": "bits per second: a number above 0, or 800G, 12.8T, 400Gbps",
                "anyOf": [
                    {"type": "number", "exclusiveMinimum": 0},
                    {"type": "string", "pattern": _BPS_PATTERN},
                ],
            },
            "duration": {
                "description": "seconds: a number from 0 to 86400, or 5us, 2ms, 1.5s",
                "anyOf": [
                    {"type": "number", "minimum": 0, "maximum": 86400},
                    {"type": "string", "pattern": r"^\s*[0-9]+(\.[0-9]*)?\s*(us|ms|s)\s*$"},
                ],
            },
            "node": node,
        },
    }


def schema_text() -> str:
    """The schema as shipped: pretty-printed JSON with a trailing newline."""
    return json.dumps(topology_schema(), indent=2) + "\n"


def write_schema(path: str | Path = SCHEMA_FILE) -> Path:
    p = Path(path)
    p.write_text(schema_text())
    return p


if __name__ == "__main__":
    print(write_schema())
