"""Read a topology YAML file into a ``Topology``, validating as it goes.

Every error names the file, the line and the field (``region.yaml:42: bundles[7].b:
unknown node 'r1-ftsw9'``). Structural checks happen here, where the field paths are
known; graph checks (the AS layout) are in ``validate.py`` and point at a node or bundle.
The format is described by ``topologies/topology.schema.json`` and the README.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

from speakers.config import graceful_restart as read_graceful_restart
from speakers.wire import Prefix
from speakers.yamldoc import (
    Fields,
    YamlDocument,
    boolean,
    integer,
    list_of,
    number,
    one_of_ints,
    prefix,
    read_file,
    seconds,
    string,
)

from .model import (
    EXPORT_MODES,
    MISSING_MODES,
    Addressing,
    Bundle,
    Defaults,
    Node,
    Role,
    Topology,
)

_TOP = {"name", "description", "defaults", "addressing", "nodes", "bundles"}
_NODE = {
    "name", "role", "asn", "region", "building", "fabric", "plane", "host_capacity",
    "chassis_ports", "prefixes", "aggregates", "link_bandwidth", "missing_bandwidth",
}  # fmt: skip
_BUNDLE = {"a", "b", "members", "speed", "kind", "latency", "md5_password"}
_DEFAULTS = {
    "hold_time_s", "connect_retry_s", "mrai_s", "missing_bandwidth", "max_group_size",
    "link_bandwidth", "max_paths", "processing_s", "latency_s", "extended_message",
    "max_prefixes", "max_prefixes_restart_s", "ttl_security", "md5_password",
    "aggregate_complete_only", "graceful_restart",
}  # fmt: skip
ASN = integer(1, 0xFFFFFFFF)
# What an MQTT topic level, a compose service (a container's name and hostname alias)
# and a file name all take: a region or node name becomes each of them.
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


def safe_name(v: Any, where: str) -> str:
    """A region or node name (``NAME_RE``): no ``/``, ``+`` or ``#`` (MQTT topics), no
    spaces, 1 to 63 characters."""
    text = string(v, where)
    if not NAME_RE.fullmatch(text):
        raise ValueError(
            f"{text!r} cannot name a node or region: 1-63 of A-Z a-z 0-9 _ . -, starting "
            "with a letter or digit (it becomes an MQTT topic level, a container name "
            "and a file name)"
        )
    return text


DEFAULTS = Defaults()  # what a file that names no default gets


def _choice(values: tuple[str, ...]) -> Any:
    def conv(v: Any, where: str) -> str:
        if not isinstance(v, str) or v not in values:
            raise ValueError(f"expected one of {', '.join(values)}, got {v!r}")
        return v

    return conv


def _md5_key(v: Any, where: str) -> str:
    """A TCP-MD5 key: 1 to 80 octets (Linux's TCP_MD5SIG_MAXKEYLEN)."""
    key = string(v, where)
    if not 1 <= len(key.encode()) <= 80:
        raise ValueError("a TCP-MD5 key is 1 to 80 octets")
    return key


_EXPORT_MODE = _choice(EXPORT_MODES)
_MISSING_MODE = _choice(MISSING_MODES)


def _network(kind: type) -> Any:
    def conv(v: Any, where: str) -> Any:
        try:
            return kind(str(v))
        except ValueError as exc:
            raise ValueError(f"expected a {kind.__name__}: {exc}") from None

    return conv


def _role(v: Any, where: str) -> Role:
    try:
        return Role(v)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {v!r} (roles: {roles})") from None


def _prefixes(
    r: Fields, doc: YamlDocument, m: dict[str, Any], w: str, key: str
) -> tuple[Prefix, ...]:
    out = []
    for j, raw in enumerate(r.get(m, key, w, list_of, [])):
        try:
            out.append(prefix(raw, f"{w}.{key}[{j}]"))
        except ValueError as exc:
            raise doc.error(f"{w}.{key}[{j}]", str(exc)) from None
    return tuple(out)


def parse_topology(text: str, file: str = "<topology>", *, check: bool = True) -> Topology:
    doc = YamlDocument(text, file)
    r = Fields(doc)
    top = r.mapping(doc.data, "", _TOP)
    d = r.mapping(top.get("defaults"), "defaults", _DEFAULTS)
    defaults = Defaults(
        hold_time_s=r.get(d, "hold_time_s", "defaults", integer(0, 65535), 9),
        connect_retry_s=r.get(d, "connect_retry_s", "defaults", number, 1.0),
        mrai_s=r.get(d, "mrai_s", "defaults", number, 0.0),
        missing_bandwidth=r.get(d, "missing_bandwidth", "defaults", _MISSING_MODE, "default"),
        max_group_size=r.get(
            d, "max_group_size", "defaults", one_of_ints((64, 128, 256, 512)), 128
        ),
        link_bandwidth=r.get(d, "link_bandwidth", "defaults", _EXPORT_MODE, "cumulative"),
        max_paths=r.get(d, "max_paths", "defaults", integer(1, 1024), 64),
        extended_message=r.get(d, "extended_message", "defaults", boolean, False),
        aggregate_complete_only=r.get(d, "aggregate_complete_only", "defaults", boolean, False),
        graceful_restart=read_graceful_restart(
            r, d.get("graceful_restart"), "defaults.graceful_restart"
        ),
        max_prefixes=r.get(d, "max_prefixes", "defaults", integer(1, 1 << 32), None),
        max_prefixes_restart_s=r.get(d, "max_prefixes_restart_s", "defaults", seconds, None),
        ttl_security=r.get(d, "ttl_security", "defaults", boolean, False),
        md5_password=r.get(d, "md5_password", "defaults", _md5_key, None),
        processing_s=r.get(d, "processing_s", "defaults", seconds, DEFAULTS.processing_s),
        latency_s=r.get(d, "latency_s", "defaults", seconds, DEFAULTS.latency_s),
    )
    if defaults.hold_time_s in (1, 2):
        raise doc.error("defaults.hold_time_s", "hold time must be 0 or at least 3 (RFC 4271 §4.2)")
    a = r.mapping(top.get("addressing"), "addressing", {"loopback_v4", "link_v4", "link_v6"})
    base = Addressing()
    addressing = Addressing(
        loopback_v4=r.get(
            a, "loopback_v4", "addressing", _network(ipaddress.IPv4Network), base.loopback_v4
        ),
        link_v4=r.get(a, "link_v4", "addressing", _network(ipaddress.IPv4Network), base.link_v4),
        link_v6=r.get(a, "link_v6", "addressing", _network(ipaddress.IPv6Network), base.link_v6),
    )
    nodes: list[Node] = []
    where_node: dict[str, str] = {}
    for i, raw in enumerate(r.get(top, "nodes", "", list_of)):
        w = f"nodes[{i}]"
        m = r.mapping(raw, w, _NODE)
        name = r.get(m, "name", w, safe_name)
        if name in where_node:
            raise doc.error(
                f"{w}.name", f"duplicate node name {name!r} (first at {where_node[name]})"
            )
        where_node[name] = w
        prefixes = _prefixes(r, doc, m, w, "prefixes")
        aggregates = _prefixes(r, doc, m, w, "aggregates")
        node = Node(
            name=name,
            role=r.get(m, "role", w, _role),
            asn=r.get(m, "asn", w, ASN),
            region=r.get(m, "region", w, string),
            building=r.get(m, "building", w, string, ""),
            fabric=r.get(m, "fabric", w, string, ""),
            plane=r.get(m, "plane", w, integer(0, 1 << 16), None),
            host_capacity_bps=r.get(m, "host_capacity", w, number, 0.0),
            chassis_ports=r.get(m, "chassis_ports", w, integer(1, 1 << 16), None),
            prefixes=prefixes,
            aggregates=aggregates,
            link_bandwidth=r.get(m, "link_bandwidth", w, _EXPORT_MODE, None),
            missing_bandwidth=r.get(m, "missing_bandwidth", w, _MISSING_MODE, None),
        )
        if node.role is not Role.BAG and not node.fabric:
            raise doc.error(
                f"{w}.fabric", f"a {node.role.value} must name the L2 fabric it belongs to"
            )
        nodes.append(node)
    roles = {n.name: n.role for n in nodes}
    bundles: list[Bundle] = []
    where_bundle: dict[tuple[str, str], str] = {}
    for i, raw in enumerate(r.get(top, "bundles", "", list_of, [])):
        w = f"bundles[{i}]"
        if isinstance(raw, list):  # compact form: [a, b, members, speed(, kind)]
            if not 4 <= len(raw) <= 5:
                raise doc.error(
                    w, "expected [a, b, members, speed] or [a, b, members, speed, kind]"
                )
            raw = dict(zip(("a", "b", "members", "speed", "kind"), raw, strict=False))
        m = r.mapping(raw, w, _BUNDLE)
        bundle = Bundle(
            a=r.get(m, "a", w, string),
            b=r.get(m, "b", w, string),
            members=r.get(m, "members", w, integer(1, 100_000)),
            member_speed_bps=r.get(m, "speed", w, number),
            kind=r.get(m, "kind", w, _choice(("link", "dsf_mesh")), "link"),
            latency_s=r.get(m, "latency", w, seconds, None),
            md5_password=r.get(m, "md5_password", w, _md5_key, None),
        )
        for end in ("a", "b"):
            if getattr(bundle, end) not in roles:
                raise doc.error(f"{w}.{end}", f"unknown node {getattr(bundle, end)!r}")
        if bundle.a == bundle.b:
            raise doc.error(w, f"bundle from {bundle.a!r} to itself")
        if bundle.member_speed_bps <= 0:
            raise doc.error(f"{w}.speed", "zero capacity: member speed must be above 0")
        if bundle.key in where_bundle:
            raise doc.error(
                w,
                f"a second bundle between {bundle.a} and {bundle.b} (first at "
                f"{where_bundle[bundle.key]}): give the first one more members",
            )
        if bundle.kind == "dsf_mesh" and {roles[bundle.a], roles[bundle.b]} != {
            Role.RDSW,
            Role.EDSW,
        }:
            raise doc.error(
                f"{w}.kind", "dsf_mesh joins an RDSW and an EDSW across their scheduled fabric"
            )
        where_bundle[bundle.key] = w
        bundles.append(bundle)
    topo = Topology(
        name=r.get(top, "name", "", safe_name),
        nodes=tuple(nodes),
        bundles=tuple(bundles),
        defaults=defaults,
        addressing=addressing,
        description=r.get(top, "description", "", string, ""),
    )
    if check:
        from .validate import validate

        problems = validate(topo)
        if problems:
            first = problems[0]
            where = where_node.get(first.node, "") if first.node else ""
            if first.bundle is not None:
                where = where_bundle.get(first.bundle, where)
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise doc.error(where, first.message + more)
    return topo


def load_topology(path: str | Path, *, check: bool = True) -> Topology:
    return parse_topology(*read_file(path), check=check)
