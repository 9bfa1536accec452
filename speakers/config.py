"""Speaker configuration: frozen dataclasses, loaded and validated from YAML.

Every error names the file, the line and the field (``speaker.yaml:14: neighbors[2].
remote_as: expected an integer 1..4294967295, got 'x'``). The format is documented in the
README ("Speaker configuration"); ``EXAMPLE`` is a complete example.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .aggregate import Aggregate, aggregate_problems
from .graceful import GracefulRestart
from .rib import MultipathConfig
from .ucmp import MissingBandwidthMode, ReadvertiseMode
from .wire import Prefix
from .wire.prefix import IPAddress
from .yamldoc import ConfigError as ConfigError  # its errors, named where configs are
from .yamldoc import Fields as _Reader
from .yamldoc import YamlDocument as _Located
from .yamldoc import boolean as _bool
from .yamldoc import communities as _communities
from .yamldoc import enum_value as _enum
from .yamldoc import integer as _int
from .yamldoc import ip as _ip
from .yamldoc import ipv4 as _ipv4
from .yamldoc import ipv6 as _ipv6
from .yamldoc import list_of as _list
from .yamldoc import number as _number
from .yamldoc import one_of_ints as _enum_int
from .yamldoc import prefix as _prefix
from .yamldoc import read_file
from .yamldoc import seconds as _seconds
from .yamldoc import string as _str


@dataclass(frozen=True, slots=True)
class PrefixListEntry:
    """``prefix`` with optional ``ge``/``le`` length bounds, as routers write them."""

    prefix: Prefix
    ge: int | None = None
    le: int | None = None
    permit: bool = True

    def matches(self, candidate: Prefix) -> bool:
        if len(candidate.packed) != len(self.prefix.packed):
            return False
        if self.ge is None and self.le is None:
            return candidate == self.prefix
        lo = self.ge if self.ge is not None else self.prefix.length
        hi = self.le if self.le is not None else len(candidate.packed) * 8
        if not lo <= candidate.length <= hi or candidate.length < self.prefix.length:
            return False
        bits = self.prefix.length
        a = (
            int.from_bytes(candidate.packed, "big") >> (len(candidate.packed) * 8 - bits)
            if bits
            else 0
        )
        b = (
            int.from_bytes(self.prefix.packed, "big") >> (len(candidate.packed) * 8 - bits)
            if bits
            else 0
        )
        return a == b


@dataclass(frozen=True, slots=True)
class PrefixList:
    """First match decides; no match denies (as every router's prefix lists do)."""

    entries: tuple[PrefixListEntry, ...]

    def permits(self, prefix: Prefix) -> bool:
        for entry in self.entries:
            if entry.matches(prefix):
                return entry.permit
        return False


@dataclass(frozen=True, slots=True)
class ImportPolicy:
    allowas_in: int = 0  # how many times our own AS may appear in a received AS_PATH
    prefix_list: PrefixList | None = None


@dataclass(frozen=True, slots=True)
class ExportPolicy:
    """What we change when advertising to one neighbor (eBGP: we are always the next hop).

    ``link_bandwidth``: the RFC 10005 community we attach (``ucmp.ReadvertiseMode``; any
    received one is replaced, RFC 10005 §3.3.1, since the next hop changes).
    """

    link_bandwidth: ReadvertiseMode = ReadvertiseMode.CUMULATIVE
    link_bandwidth_fixed_bps: float | None = None
    link_bandwidth_transitive: bool = True
    prepend: int = 0
    set_communities: tuple[int, ...] = ()
    strip_communities: bool = False
    prefix_list: PrefixList | None = None
    sender_side_loop_detection: bool = True


@dataclass(frozen=True, slots=True)
class NeighborConfig:
    name: str
    address: IPAddress
    remote_as: int
    local_address: IPAddress
    port: int = 179
    link_capacity_bps: float | None = None
    md5_password: str | None = None
    passive: bool = False
    hold_time_s: int | None = None
    # RFC 8654: offer the Extended Message capability to this neighbor (None: the
    # speaker's ``extended_message``); used when both sides offer it.
    extended_message: bool | None = None
    # Maximum-prefix (speakers/inbound.py): past this many prefixes from the neighbor the
    # session ends with Cease 6/1 (RFC 4486 §4); it restarts after max_prefixes_restart_s
    # if set, else stays down until brought up.
    max_prefixes: int | None = None
    max_prefixes_restart_s: float | None = None
    ttl_security: bool = False  # GTSM (RFC 5082) on this session's TCP connections
    graceful_restart: bool | None = None  # RFC 4724 with this neighbor (None: the speaker's)
    export: ExportPolicy = field(default_factory=ExportPolicy)
    import_policy: ImportPolicy = field(default_factory=ImportPolicy)
    latency_s: float = 0.0  # what the link adds to each message from the neighbor (delay.py)


@dataclass(frozen=True, slots=True)
class Originate:
    prefix: Prefix
    bandwidth_bps: float | None = None
    communities: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class SpeakerConfig:
    name: str
    asn: int
    router_id: ipaddress.IPv4Address
    listen_address: IPAddress
    listen_port: int = 179
    hold_time_s: int = 9
    connect_retry_s: float = 2.0
    mrai_s: float = 0.0
    multipath: MultipathConfig = field(default_factory=MultipathConfig)
    missing_bandwidth: MissingBandwidthMode = MissingBandwidthMode.DEFAULT
    default_bandwidth_bps: float | None = None
    max_group_size: int = 128
    next_hop_ipv6: ipaddress.IPv6Address | None = None
    neighbors: tuple[NeighborConfig, ...] = ()
    originate: tuple[Originate, ...] = ()
    aggregates: tuple[Aggregate, ...] = ()  # prefix summarization (aggregate.py)
    processing_s: float = 0.0  # each message received costs this much, one at a time
    extended_message: bool = False  # RFC 8654 offered to every neighbor that does not say
    graceful_restart: GracefulRestart = field(default_factory=GracefulRestart)  # RFC 4724


# --- loading ------------------------------------------------------------------------------


def _prefix_list(r: _Reader) -> Callable[[Any, str], PrefixList]:
    def conv(v: Any, where: str) -> PrefixList:
        entries = []
        for i, item in enumerate(_list(v, where)):
            w = f"{where}[{i}]"
            if isinstance(item, str):
                item = {"prefix": item}
            m = r.mapping(item, w, {"prefix", "ge", "le", "action"})
            prefix = r.get(m, "prefix", w, _prefix)
            width = len(prefix.packed) * 8
            ge = r.get(m, "ge", w, _int(prefix.length, width), None)
            le = r.get(m, "le", w, _int(ge or prefix.length, width), None)
            action = r.get(m, "action", w, _str, "permit")
            if action not in ("permit", "deny"):
                raise r.doc.error(f"{w}.action", f"expected permit or deny, got {action!r}")
            entries.append(PrefixListEntry(prefix, ge, le, action == "permit"))
        return PrefixList(tuple(entries))

    return conv


_TOP = {
    "name", "asn", "router_id", "listen", "hold_time_s", "connect_retry_s", "mrai_s",
    "multipath", "bandwidth", "next_hop_ipv6", "neighbors", "originate", "aggregates",
    "processing_s", "extended_message", "graceful_restart",
}  # fmt: skip
_NEIGHBOR = {
    "name", "address", "remote_as", "local_address", "port", "link_capacity", "md5_password",
    "passive", "hold_time_s", "export", "import", "latency_s", "extended_message",
    "max_prefixes", "max_prefixes_restart_s", "ttl_security", "graceful_restart",
}  # fmt: skip
_ASN = _int(1, 0xFFFFFFFF)


def parse_config(text: str, file: str = "<config>") -> SpeakerConfig:
    doc = _Located(text, file)
    r = _Reader(doc)
    top = r.mapping(doc.data, "", _TOP)
    listen = r.mapping(top.get("listen"), "listen", {"address", "port"})
    mp = r.mapping(
        top.get("multipath"), "multipath", {"max_paths", "max_paths_ibgp", "as_path_relax"}
    )
    bw = r.mapping(top.get("bandwidth"), "bandwidth", {"missing", "default", "max_group_size"})
    neighbors = []
    names: dict[str, str] = {}
    for i, raw in enumerate(r.get(top, "neighbors", "", _list, [])):
        w = f"neighbors[{i}]"
        n = r.mapping(raw, w, _NEIGHBOR)
        name = r.get(n, "name", w, _str, None) or f"neighbor{i}"
        if "<" in name or ">" in name:
            raise doc.error(f"{w}.name", f"neighbor name {name!r}: '<' and '>' are reserved")
        if name in names:
            raise doc.error(f"{w}.name", f"duplicate neighbor name {name!r} (also {names[name]})")
        names[name] = w
        ex = r.mapping(n.get("export"), f"{w}.export", {
            "link_bandwidth", "link_bandwidth_fixed", "link_bandwidth_transitive", "prepend",
            "set_communities", "strip_communities", "prefix_list", "sender_side_loop_detection",
        })  # fmt: skip
        im = r.mapping(n.get("import"), f"{w}.import", {"allowas_in", "prefix_list"})
        we, wi = f"{w}.export", f"{w}.import"
        export = ExportPolicy(
            link_bandwidth=r.get(
                ex, "link_bandwidth", we, _enum(ReadvertiseMode), ReadvertiseMode.CUMULATIVE
            ),
            link_bandwidth_fixed_bps=r.get(ex, "link_bandwidth_fixed", we, _number, None),
            link_bandwidth_transitive=r.get(ex, "link_bandwidth_transitive", we, _bool, True),
            prepend=r.get(ex, "prepend", we, _int(0, 64), 0),
            set_communities=r.get(ex, "set_communities", we, _communities, ()),
            strip_communities=r.get(ex, "strip_communities", we, _bool, False),
            prefix_list=r.get(ex, "prefix_list", we, _prefix_list(r), None),
            sender_side_loop_detection=r.get(ex, "sender_side_loop_detection", we, _bool, True),
        )
        if (
            export.link_bandwidth is ReadvertiseMode.FIXED
            and export.link_bandwidth_fixed_bps is None
        ):
            raise doc.error(f"{we}.link_bandwidth", "mode 'fixed' needs link_bandwidth_fixed")
        neighbors.append(
            NeighborConfig(
                name=name,
                address=r.get(n, "address", w, _ip),
                remote_as=r.get(n, "remote_as", w, _ASN),
                local_address=r.get(n, "local_address", w, _ip, None)
                or r.get(listen, "address", "listen", _ip),
                port=r.get(
                    n,
                    "port",
                    w,
                    _int(1, 65535),
                    r.get(listen, "port", "listen", _int(0, 65535), 179),
                ),
                link_capacity_bps=r.get(n, "link_capacity", w, _number, None),
                md5_password=r.get(n, "md5_password", w, _str, None),
                passive=r.get(n, "passive", w, _bool, False),
                hold_time_s=r.get(n, "hold_time_s", w, _int(0, 65535), None),
                extended_message=r.get(n, "extended_message", w, _bool, None),
                max_prefixes=r.get(n, "max_prefixes", w, _int(1, 1 << 32), None),
                max_prefixes_restart_s=r.get(n, "max_prefixes_restart_s", w, _seconds, None),
                ttl_security=r.get(n, "ttl_security", w, _bool, False),
                graceful_restart=r.get(n, "graceful_restart", w, _bool, None),
                latency_s=r.get(n, "latency_s", w, _seconds, 0.0),
                export=export,
                import_policy=ImportPolicy(
                    allowas_in=r.get(im, "allowas_in", wi, _int(0, 10), 0),
                    prefix_list=r.get(im, "prefix_list", wi, _prefix_list(r), None),
                ),
            )
        )
    originate = []
    for i, raw in enumerate(r.get(top, "originate", "", _list, [])):
        w = f"originate[{i}]"
        if isinstance(raw, str):
            raw = {"prefix": raw}
        o = r.mapping(raw, w, {"prefix", "bandwidth", "communities"})
        originate.append(
            Originate(
                prefix=r.get(o, "prefix", w, _prefix),
                bandwidth_bps=r.get(o, "bandwidth", w, _number, None),
                communities=r.get(o, "communities", w, _communities, ()),
            )
        )
    aggregates = []
    for i, raw in enumerate(r.get(top, "aggregates", "", _list, [])):
        w = f"aggregates[{i}]"
        if isinstance(raw, str):
            raw = {"prefix": raw}
        a = r.mapping(raw, w, {"prefix", "summary_only", "suppress_toward", "complete_only"})
        toward = r.get(a, "suppress_toward", w, _list, None)
        for j, item in enumerate(toward or ()):
            if not isinstance(item, str) or item not in names:
                raise doc.error(f"{w}.suppress_toward[{j}]", f"no neighbor named {item!r}")
        aggregates.append(
            Aggregate(
                prefix=r.get(a, "prefix", w, _prefix),
                summary_only=r.get(a, "summary_only", w, _bool, True),
                suppress_toward=None if toward is None else frozenset(toward),
                complete_only=r.get(a, "complete_only", w, _bool, False),
            )
        )
    for where, problem in aggregate_problems(aggregates, names):
        raise doc.error(where, problem)  # what is left: a duplicate prefix
    seen_addr: dict[IPAddress, str] = {}
    for i, nb in enumerate(neighbors):
        if nb.address in seen_addr:
            raise doc.error(
                f"neighbors[{i}].address",
                f"address {nb.address} also used by {seen_addr[nb.address]}",
            )
        seen_addr[nb.address] = nb.name
    hold = r.get(top, "hold_time_s", "", _int(0, 65535), 9)
    if hold in (1, 2):
        raise doc.error("hold_time_s", "hold time must be 0 or at least 3 seconds (RFC 4271 §4.2)")
    try:
        multipath = MultipathConfig(
            max_paths_ebgp=r.get(mp, "max_paths", "multipath", _int(1, 1024), 64),
            max_paths_ibgp=r.get(mp, "max_paths_ibgp", "multipath", _int(1, 1024), 1),
            as_path_relax=r.get(mp, "as_path_relax", "multipath", _bool, True),
        )
    except ValueError as exc:
        raise doc.error("multipath", str(exc)) from None
    return SpeakerConfig(
        name=r.get(top, "name", "", _str, "speaker"),
        asn=r.get(top, "asn", "", _ASN),
        router_id=r.get(top, "router_id", "", _ipv4),
        listen_address=r.get(listen, "address", "listen", _ip),
        listen_port=r.get(listen, "port", "listen", _int(0, 65535), 179),
        hold_time_s=hold,
        connect_retry_s=r.get(top, "connect_retry_s", "", _number, 2.0),
        mrai_s=r.get(top, "mrai_s", "", _number, 0.0),
        multipath=multipath,
        missing_bandwidth=r.get(
            bw, "missing", "bandwidth", _enum(MissingBandwidthMode), MissingBandwidthMode.DEFAULT
        ),
        default_bandwidth_bps=r.get(bw, "default", "bandwidth", _number, None),
        max_group_size=r.get(
            bw, "max_group_size", "bandwidth", _enum_int((64, 128, 256, 512)), 128
        ),
        next_hop_ipv6=r.get(top, "next_hop_ipv6", "", _ipv6, None),
        neighbors=tuple(neighbors),
        originate=tuple(originate),
        aggregates=tuple(aggregates),
        processing_s=r.get(top, "processing_s", "", _seconds, 0.0),
        extended_message=r.get(top, "extended_message", "", _bool, False),
        graceful_restart=graceful_restart(r, top.get("graceful_restart"), "graceful_restart"),
    )


def graceful_restart(r: _Reader, value: Any, where: str) -> GracefulRestart:
    """``true``/``false``, or a mapping of ``GracefulRestart``'s fields (a topology's
    defaults read the same shape)."""
    if value is None or isinstance(value, bool):
        return GracefulRestart(enabled=bool(value))
    keys = {"enabled", "restart_time_s", "stalepath_time_s", "select_defer_time_s"}
    m = r.mapping(value, where, keys)
    return GracefulRestart(
        enabled=r.get(m, "enabled", where, _bool, True),
        restart_time_s=r.get(m, "restart_time_s", where, _int(0, 4095), 120),
        stalepath_time_s=r.get(m, "stalepath_time_s", where, _seconds, 360.0),
        select_defer_time_s=r.get(m, "select_defer_time_s", where, _seconds, 360.0),
    )


def load_config(path: str | Path) -> SpeakerConfig:
    return parse_config(*read_file(path))


EXAMPLE = """\
# One BAG switch with two RTSW neighbors (bagemu speaker configuration).
name: bag1
asn: 4200001000            # 4-octet ASNs are fine (RFC 6793)
router_id: 10.255.0.1
listen: {address: 127.0.1.1, port: 1179}
hold_time_s: 9             # keepalive = hold / 3; 0 disables both
connect_retry_s: 2
mrai_s: 0                  # as in Meta's fabrics
extended_message: false    # RFC 8654: UPDATEs up to 65,535 octets where both offer it
graceful_restart: {enabled: true, restart_time_s: 120, stalepath_time_s: 360}  # RFC 4724
multipath: {max_paths: 64, as_path_relax: true}
bandwidth:
  missing: default         # or ignore, skip-missing, default-weight-for-missing, ...: README
  max_group_size: 128      # WCMP members per next-hop group: 64, 128, 256 or 512
next_hop_ipv6: "::ffff:127.0.1.1"   # our next hop for IPv6 routes on IPv4 sessions
neighbors:
  - name: rtsw1
    address: 127.0.2.1
    remote_as: 4200100001
    link_capacity: 12.8T   # 16 x 800G
    export: {link_bandwidth: cumulative}
  - name: rtsw2
    address: 127.0.2.2
    remote_as: 4200100002
    link_capacity: 6.4T
    md5_password: s3cret   # TCP-MD5 (RFC 2385); both ends must agree
originate:
  - {prefix: 10.100.0.0/24, bandwidth: 12.8T}
aggregates:                # summarize: rtsw1 and rtsw2 get 10.100.0.0/16, not what is inside
  - {prefix: 10.100.0.0/16, summary_only: true, suppress_toward: [rtsw1, rtsw2]}
"""
