"""Read a scenario file into a ``Scenario`` (model.py), checking every name against the
region it brings up, so a typo is an error before anything runs.

Errors name the file, the line and the field, as topology files' do
(``leaf.yaml:14: steps[1].bundle_down: no bundle between 'a' and 'b'``); ``bagctl test``
exits 2 on one. The format is in ``scenarios/README.md``.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from speakers.config import graceful_restart as read_graceful_restart
from speakers.policy import DrainMethod
from speakers.yamldoc import (
    ConfigError,
    Fields,
    YamlDocument,
    boolean,
    integer,
    list_of,
    prefix,
    read_file,
    string,
)
from speakers.yamldoc import number as bits_per_s  # a number, or 800G, 12.8T

from ..runtimes.workercount import AUTO, WorkerRequest
from ..topology.generate import generate
from ..topology.generate.params import ParamError
from ..topology.load import load_topology
from ..topology.model import EXPORT_MODES, MISSING_MODES, Topology
from ..verify.check import DEFAULT_TOLERANCE
from .model import (
    Action,
    Expectations,
    RegionSpec,
    RouteExpect,
    Scenario,
    SessionExpect,
    Step,
    VerifyExpect,
    WeightsExpect,
)

_TOP = {"name", "region", "cold_start", "steps"}
_REGION = {
    "preset", "params", "topology", "workers", "transport", "hold_time_s", "graceful_restart",
}  # fmt: skip
_EXPECT = {
    "converged_within_ms", "max_updates", "session_losses", "sessions", "routes", "weights",
    "verify", "fib_golden",
}  # fmt: skip
# Each action key and what its value holds (``_action``).
ACTIONS = (
    "bundle_down", "bundle_up", "members", "drain", "undrain", "restart", "flap", "announce",
    "withdraw", "set_bandwidth",
)  # fmt: skip
# What ``verify: {finds: [...]}`` may name: in the FIBs after the step, or while it
# converged (its FIB change stream replayed, bagctl/verify/transients.py).
FAULTS = ("loop", "black-hole", "transient-loop", "transient-black-hole")
_REPORTLESS = ("check", "wait_s", "freeze")  # no convergence report to judge
_STEP = {"name", "expect", *ACTIONS, *_REPORTLESS}


def load_scenario(path: str | Path) -> Scenario:
    return parse_scenario(*read_file(path), base=Path(path).parent)


def parse_scenario(text: str, file: str, *, base: Path = Path(".")) -> Scenario:
    doc = YamlDocument(text, file)
    return _Reader(doc, base).scenario()


class _Reader:
    def __init__(self, doc: YamlDocument, base: Path) -> None:
        self.doc, self.r, self.base = doc, Fields(doc), base
        self.topo: Topology | None = None

    def scenario(self) -> Scenario:
        r = self.r
        top = r.mapping(self.doc.data, "", _TOP)
        name = r.get(top, "name", "", string, Path(self.doc.file).stem)
        region = self.region(r.mapping(top.get("region"), "region", _REGION))
        cold = self.expect(top.get("cold_start"), "cold_start", reportless=False)
        raw_steps = r.get(top, "steps", "", list_of)
        if not raw_steps:
            raise self.doc.error("steps", "a scenario needs at least one step")
        steps = tuple(self.step(raw, f"steps[{i}]") for i, raw in enumerate(raw_steps))
        return Scenario(name, self.doc.file, region, cold, steps)

    # --- the region -----------------------------------------------------------------------

    def region(self, m: dict[str, Any]) -> RegionSpec:
        r, w = self.r, "region"
        preset = r.get(m, "preset", w, string, None)
        topology = r.get(m, "topology", w, string, None)
        if (preset is None) == (topology is None):
            raise self.doc.error(w, "give one of preset or topology")
        params = r.mapping(m.get("params"), f"{w}.params", set(map(str, m.get("params") or {})))
        spec = RegionSpec(
            preset=preset,
            params=tuple(sorted((str(k), v) for k, v in params.items())),
            topology=None if topology is None else str(self.base / topology),
            workers=r.get(m, "workers", w, _workers, 1),
            transport=r.get(m, "transport", w, _choice("memory", "tcp"), "memory"),
            hold_time_s=r.get(m, "hold_time_s", w, _hold_time, None),
            graceful_restart=None
            if "graceful_restart" not in m
            else read_graceful_restart(r, m["graceful_restart"], f"{w}.graceful_restart"),
        )
        try:
            self.topo = region_topology(spec)
        except ParamError as exc:
            raise self.doc.error(f"{w}.params", str(exc)) from None
        except ConfigError:
            raise
        except ValueError as exc:  # a preset's own checks
            raise self.doc.error(w, str(exc)) from None
        return spec

    # --- steps ----------------------------------------------------------------------------

    def step(self, raw: Any, w: str) -> Step:
        m = self.r.mapping(raw, w, _STEP)
        kinds = [k for k in (*ACTIONS, *_REPORTLESS) if k in m]
        if len(kinds) != 1:
            found = ", ".join(kinds) or "none"
            raise self.doc.error(w, f"a step has exactly one action ({found} given)")
        kind = kinds[0]
        action = self.action(kind, m[kind], f"{w}.{kind}")
        name = self.r.get(m, "name", w, string, action.describe())
        expect = self.expect(m.get("expect"), f"{w}.expect", reportless=kind in _REPORTLESS)
        return Step(name, action, expect, self.doc.lines.get(w))

    def action(self, kind: str, value: Any, w: str) -> Action:
        r = self.r
        if kind == "check":
            if value is not True:
                raise self.doc.error(w, "check takes true")
            return Action("check")
        if kind == "wait_s":
            return Action("wait", (self.value(value, w, _positive),))
        if kind in ("bundle_down", "bundle_up"):
            return Action(kind, self.bundle(value, w))
        if kind in ("undrain", "freeze"):
            return Action(kind, (self.speaker(value, w),))
        if kind == "restart":  # NODE, or {node: NODE, graceful: true} (RFC 4724)
            if not isinstance(value, dict):
                return Action(kind, (self.speaker(value, w),))
            m = r.mapping(value, w, {"node", "graceful"})
            node = self.speaker(m.get("node"), f"{w}.node")
            graceful = r.get(m, "graceful", w, boolean, False)
            return Action(kind, (node, "graceful") if graceful else (node,))
        if kind == "drain":
            m = value if isinstance(value, dict) else {"node": value}
            m = r.mapping(m, w, {"node", "method"})
            method = r.get(m, "method", w, _choice(*(d.value for d in DrainMethod)), None)
            node = self.speaker(m.get("node"), f"{w}.node")
            return Action("drain", (node, method or DrainMethod.LINK_BANDWIDTH_ZERO.value))
        if kind == "members":
            m = r.mapping(value, w, {"bundle", "up"})
            a, b = self.bundle(m.get("bundle"), f"{w}.bundle")
            assert self.topo is not None
            up = r.get(m, "up", w, integer(1, self.topo.bundle(a, b).members))
            return Action("set_members", (a, b, up))
        if kind in ("announce", "withdraw"):
            m = r.mapping(
                value, w, {"node", "prefix"} | ({"bandwidth"} if kind == "announce" else set())
            )
            node = self.speaker(m.get("node"), f"{w}.node")
            pfx = str(r.get(m, "prefix", w, prefix))
            if kind == "withdraw":
                return Action("withdraw", (node, pfx))
            return Action("announce", (node, pfx, r.get(m, "bandwidth", w, bits_per_s, None)))
        if kind == "set_bandwidth":
            return self.set_bandwidth(value, w)
        m = r.mapping(value, w, {"bundle", "count", "interval_s"})  # flap
        a, b = self.bundle(m.get("bundle"), f"{w}.bundle")
        count = r.get(m, "count", w, integer(1, 100), 1)
        interval = r.get(m, "interval_s", w, _seconds_at_most(3600.0), 1.0)
        return Action("flap", (a, b, count, interval))

    def set_bandwidth(self, value: Any, w: str) -> Action:
        """A switch's link-bandwidth policy changed at run time: ``export`` toward ``peer``
        (else every neighbor), ``missing`` for its own weights."""
        r = self.r
        m = r.mapping(value, w, {"node", "peer", "export", "missing"})
        node = self.speaker(m.get("node"), f"{w}.node")
        peer = m.get("peer")
        if peer is not None:
            self.bundle([node, peer], f"{w}.peer")
        export = r.get(m, "export", w, _choice(*EXPORT_MODES), None)
        missing = r.get(m, "missing", w, _choice(*MISSING_MODES), None)
        if export is None and missing is None:
            raise self.doc.error(w, "name an export mode, a missing mode or both")
        if peer is not None and export is None:
            raise self.doc.error(f"{w}.peer", "a peer narrows an export mode: give export")
        return Action("set_bandwidth", (node, peer, export, missing))

    def value(self, value: Any, w: str, conv: Any) -> Any:
        """``value`` through ``conv``, its error located at ``w``."""
        try:
            return conv(value, w)
        except (ValueError, TypeError) as exc:
            raise self.doc.error(w, str(exc)) from None

    def bundle(self, value: Any, w: str) -> tuple[str, str]:
        if not (isinstance(value, list) and len(value) == 2):
            raise self.doc.error(w, "expected the bundle's two ends, [a, b]")
        a, b = (self.speaker(v, f"{w}[{i}]") for i, v in enumerate(value))
        assert self.topo is not None
        try:
            self.topo.bundle(a, b)
        except KeyError:
            raise self.doc.error(w, f"no bundle between {a!r} and {b!r}") from None
        return a, b

    def speaker(self, value: Any, w: str) -> str:
        assert self.topo is not None
        if not isinstance(value, str):
            raise self.doc.error(w, f"expected a node name, got {value!r}")
        names = {n.name for n in self.topo.speakers()}
        if value not in names:
            nodes = {n.name for n in self.topo.nodes}
            what = "a node that speaks no BGP" if value in nodes else "no such node"
            raise self.doc.error(w, f"{value!r}: {what} in region {self.topo.name}")
        return value

    # --- expectations ---------------------------------------------------------------------

    def expect(self, raw: Any, w: str, *, reportless: bool) -> Expectations:
        r = self.r
        m = r.mapping(raw, w, _EXPECT)
        e = Expectations(
            converged_within_ms=r.get(m, "converged_within_ms", w, _non_negative, None),
            max_updates=r.get(m, "max_updates", w, integer(0, 1 << 62), None),
            session_losses=r.get(m, "session_losses", w, integer(0, 1 << 30), None),
            sessions=tuple(self.sessions(r.get(m, "sessions", w, list_of, []), f"{w}.sessions")),
            routes=tuple(self.routes(r.get(m, "routes", w, list_of, []), f"{w}.routes")),
            weights=tuple(self.weights(r.get(m, "weights", w, list_of, []), f"{w}.weights")),
            verify=self.verify(m.get("verify"), f"{w}.verify"),
            fib_golden=self.golden(m.get("fib_golden"), f"{w}.fib_golden"),
        )
        if reportless and e.wants_report():
            raise self.doc.error(
                w,
                "converged_within_ms, max_updates and session_losses judge an operation's "
                "report, and this step runs no operation",
            )
        return e

    def sessions(self, items: list[Any], w: str) -> list[SessionExpect]:
        out = []
        for i, item in enumerate(items):
            m = self.r.mapping(item, f"{w}[{i}]", {"between", "established"})
            a, b = self.bundle(m.get("between"), f"{w}[{i}].between")
            out.append(SessionExpect(a, b, self.r.get(m, "established", f"{w}[{i}]", boolean)))
        return out

    def routes(self, items: list[Any], w: str) -> list[RouteExpect]:
        out = []
        for i, item in enumerate(items):
            wi = f"{w}[{i}]"
            m = self.r.mapping(item, wi, {"node", "prefix", "present"})
            node = self.speaker(m.get("node"), f"{wi}.node")
            pfx = str(self.r.get(m, "prefix", wi, prefix))
            out.append(RouteExpect(node, pfx, self.r.get(m, "present", wi, boolean, True)))
        return out

    def weights(self, items: list[Any], w: str) -> list[WeightsExpect]:
        out = []
        for i, item in enumerate(items):
            wi = f"{w}[{i}]"
            m = self.r.mapping(item, wi, {"node", "prefix", "ratios", "tolerance"})
            node = self.speaker(m.get("node"), f"{wi}.node")
            pfx = str(self.r.get(m, "prefix", wi, prefix))
            raw = m.get("ratios")
            ratios = self.r.mapping(raw, f"{wi}.ratios", set(map(str, raw or {})))
            if not ratios:
                raise self.doc.error(f"{wi}.ratios", "expected next hop: ratio for each next hop")
            parsed = tuple(
                (self.speaker(k, f"{wi}.ratios.{k}"), self.value(v, f"{wi}.ratios.{k}", _positive))
                for k, v in sorted(ratios.items())
            )
            tolerance = self.r.get(m, "tolerance", wi, _fraction, 0.01)
            out.append(WeightsExpect(node, pfx, parsed, tolerance))
        return out

    def golden(self, value: Any, w: str) -> str | None:
        """The golden FIB file, relative to the scenario's folder (it may not exist yet:
        ``bagctl test --update-golden`` writes it)."""
        return None if value is None else str(self.base / self.value(value, w, string))

    def verify(self, value: Any, w: str) -> VerifyExpect | None:
        if value is None or value is False:
            return None
        if value is True:
            value = {}
        keys = {"tolerance", "min_ideal_ratio", "max_transient_ms", "finds"}
        m = self.r.mapping(value, w, keys)
        finds = self.r.get(m, "finds", w, list_of, [])
        for i, kind in enumerate(finds):
            self.value(kind, f"{w}.finds[{i}]", _choice(*FAULTS))
        return VerifyExpect(
            tolerance=self.r.get(m, "tolerance", w, _fraction, DEFAULT_TOLERANCE),
            min_ideal_ratio=self.r.get(m, "min_ideal_ratio", w, _ratio, None),
            max_transient_ms=self.r.get(m, "max_transient_ms", w, _non_negative, None),
            finds=tuple(finds),
        )


def region_topology(spec: RegionSpec) -> Topology:
    """The topology ``spec`` names, with its hold time if it sets one."""
    if spec.topology is not None:
        topo = load_topology(spec.topology)
    else:
        assert spec.preset is not None
        topo = generate(spec.preset, **dict(spec.params))
    if spec.hold_time_s is not None:
        defaults = dataclasses.replace(topo.defaults, hold_time_s=spec.hold_time_s)
        topo = dataclasses.replace(topo, defaults=defaults)
    if spec.graceful_restart is not None:
        defaults = dataclasses.replace(topo.defaults, graceful_restart=spec.graceful_restart)
        topo = dataclasses.replace(topo, defaults=defaults)
    return topo


def _choice(*values: str) -> Any:
    def conv(v: Any, where: str) -> str:
        if v not in values:
            raise ValueError(f"expected one of {', '.join(values)}, got {v!r}")
        return str(v)

    return conv


def _workers(v: Any, where: str) -> WorkerRequest:
    """``auto`` (runtimes/workercount.py) or a count, 1 to 64."""
    if v == AUTO:
        return "auto"
    try:
        return integer(1, 64)(v, where)
    except ValueError:
        raise ValueError(f"expected auto or an integer 1..64, got {v!r}") from None


def _hold_time(v: Any, where: str) -> int:
    hold = integer(0, 65535)(v, where)
    if hold in (1, 2):
        raise ValueError("a hold time is 0 or at least 3 s (RFC 4271 §4.2)")
    return hold


def _number(v: Any, where: str) -> float:
    """A plain number (not a bit rate: ``number`` would read ``800G``)."""
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ValueError(f"expected a number, got {v!r}")
    return float(v)


def _positive(v: Any, where: str) -> float:
    x = _number(v, where)
    if x <= 0:
        raise ValueError(f"expected a number above 0, got {v!r}")
    return x


def _non_negative(v: Any, where: str) -> float:
    x = _number(v, where)
    if x < 0:
        raise ValueError(f"expected a number at least 0, got {v!r}")
    return x


def _fraction(v: Any, where: str) -> float:
    x = _number(v, where)
    if not 0 <= x < 1:
        raise ValueError(f"expected a fraction at least 0 and below 1, got {v!r}")
    return x


def _ratio(v: Any, where: str) -> float:
    x = _number(v, where)
    if not 0 <= x <= 1:
        raise ValueError(f"expected a ratio from 0 to 1, got {v!r}")
    return x


def _seconds_at_most(limit: float) -> Any:
    def conv(v: Any, where: str) -> float:
        x = _number(v, where)
        if not 0 <= x <= limit:
            raise ValueError(f"expected seconds from 0 to {limit:g}, got {v!r}")
        return x

    return conv


__all__ = ["ACTIONS", "load_scenario", "parse_scenario", "region_topology"]
