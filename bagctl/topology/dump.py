"""Write a ``Topology`` as YAML that ``load.py`` reads back to an equal ``Topology``.

One node or bundle per line (flow style), bundles in the compact ``[a, b, members, speed]``
form, so generated regions of thousands of nodes stay readable and diff well.
"""

from __future__ import annotations

import dataclasses
import json

from .model import Addressing, Defaults, Topology


def bps_text(value: float) -> str:
    for scale, unit in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale and (value / scale) == round(value / scale, 6):
            return f"{value / scale:g}{unit}"
    return f"{value:g}"


def _scalar(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar
    if isinstance(value, bool):
        return "true" if value else "false"
    if dataclasses.is_dataclass(value):  # a group of settings (graceful_restart): flow style
        fields = dataclasses.fields(value)
        return "{" + ", ".join(f"{f.name}: {_scalar(getattr(value, f.name))}" for f in fields) + "}"
    return str(value)


def dump_topology(topo: Topology) -> str:
    lines = [f"# bagemu topology: {topo.name}"]
    lines.append(f"name: {_scalar(topo.name)}")
    if topo.description:
        lines.append(f"description: {_scalar(topo.description)}")
    d, base = topo.defaults, Defaults()
    changed = {
        k: getattr(d, k) for k in Defaults.__dataclass_fields__ if getattr(d, k) != getattr(base, k)
    }
    if changed:
        lines.append("defaults:")
        lines += [f"  {k}: {_scalar(v)}" for k, v in changed.items()]
    a, abase = topo.addressing, Addressing()
    if a != abase:
        lines.append("addressing:")
        lines += [f"  {k}: {_scalar(str(getattr(a, k)))}" for k in Addressing.__dataclass_fields__]
    lines.append("nodes:")
    for n in topo.nodes:
        parts = [
            f"name: {_scalar(n.name)}",
            f"role: {n.role.value}",
            f"asn: {n.asn}",
            f"region: {_scalar(n.region)}",
        ]
        if n.building:
            parts.append(f"building: {_scalar(n.building)}")
        if n.fabric:
            parts.append(f"fabric: {_scalar(n.fabric)}")
        if n.plane is not None:
            parts.append(f"plane: {n.plane}")
        if n.host_capacity_bps:
            parts.append(f"host_capacity: {bps_text(n.host_capacity_bps)}")
        if n.chassis_ports is not None:
            parts.append(f"chassis_ports: {n.chassis_ports}")
        if n.prefixes:
            parts.append("prefixes: [" + ", ".join(_scalar(str(p)) for p in n.prefixes) + "]")
        if n.aggregates:
            parts.append("aggregates: [" + ", ".join(_scalar(str(p)) for p in n.aggregates) + "]")
        if n.link_bandwidth is not None:
            parts.append(f"link_bandwidth: {n.link_bandwidth}")
        if n.missing_bandwidth is not None:
            parts.append(f"missing_bandwidth: {n.missing_bandwidth}")
        lines.append("  - {" + ", ".join(parts) + "}")
    lines.append("bundles:  # [a, b, members, member speed(, kind)]")
    for b in topo.bundles:
        speed = bps_text(b.member_speed_bps)
        if b.latency_s is not None or b.md5_password is not None:
            parts = [f"a: {_scalar(b.a)}", f"b: {_scalar(b.b)}", f"members: {b.members}"]
            parts += [f"speed: {speed}", f"kind: {b.kind}"]
            if b.latency_s is not None:
                parts.append(f"latency: {b.latency_s!r}")
            if b.md5_password is not None:
                parts.append(f"md5_password: {_scalar(b.md5_password)}")
            lines.append("  - {" + ", ".join(parts) + "}")
            continue
        kind = f", {b.kind}" if b.kind != "link" else ""
        lines.append(f"  - [{_scalar(b.a)}, {_scalar(b.b)}, {b.members}, {speed}{kind}]")
    return "\n".join(lines) + "\n"
