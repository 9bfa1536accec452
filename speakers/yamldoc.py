"""YAML documents that remember where each value came from, and typed field readers.

Used by every bagemu file format (speaker configuration, topologies): a value read
through ``Fields.get`` either converts or raises ``ConfigError`` naming the file, the
line and the field (``region.yaml:14: bundles[3].members: expected an integer 1..512``).
Converters are plain functions ``(value, where) -> value`` raising ``ValueError``.
"""

from __future__ import annotations

import gzip
import ipaddress
import math
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar, overload

import yaml

from .wire import Prefix, parse_community
from .wire.prefix import IPAddress

T = TypeVar("T")
D = TypeVar("D")
E = TypeVar("E", bound=Enum)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_VALUES = 4_000_000  # values a document may expand to (the prometheus preset: ~0.6 M)


class ConfigError(ValueError):
    """A configuration problem, located: ``file:line: field: message``."""

    def __init__(
        self, message: str, *, file: str = "<config>", line: int | None = None, where: str = ""
    ) -> None:
        self.file, self.line, self.where, self.message = file, line, where, message
        loc = f"{file}:{line}" if line is not None else file
        super().__init__(f"{loc}: {where + ': ' if where else ''}{message}")


def read_file(path: str | Path) -> tuple[str, str]:
    """A file's text and its name as errors give it; ``ConfigError`` naming the file if it
    cannot be read (what every ``load_*`` of a bagemu format does first). A name ending in
    ``.gz`` is gzip-compressed."""
    p = Path(path)
    try:
        if p.suffix == ".gz":  # shipped compressed (a Swarm config holds 500 kB at most)
            return gzip.decompress(p.read_bytes()).decode(), str(p)
        return p.read_text(), str(p)
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", file=str(p)) from None
    except (EOFError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=str(p)) from None


class YamlDocument:
    """The YAML document with each node's line, so errors can point at them."""

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        try:
            # One parse: compose the node tree (it carries the lines), then build the data
            # from it; libyaml's loader when PyYAML has it (several times faster).
            loader = _Loader(text)
            try:
                root = loader.get_single_node()
                self.data = loader.construct_document(root) if root is not None else None
            finally:
                loader.dispose()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            raise ConfigError(
                f"not valid YAML: {getattr(exc, 'problem', exc)}", file=file, line=line
            ) from None
        self.lines: dict[str, int] = {}
        if root is not None:
            self._index(root)

    def _index(self, root: yaml.Node) -> None:
        """Each value's line by its path. Aliases are followed (an alias's values have
        paths of their own), so a document of nested aliases (a "billion laughs") would
        expand to more values than memory holds: past ``MAX_VALUES`` it is refused,
        before anything reads it."""
        stack: list[tuple[yaml.Node, str]] = [(root, "")]
        lines = self.lines
        while stack:
            node, path = stack.pop()
            lines[path] = node.start_mark.line + 1
            if len(lines) > MAX_VALUES:
                raise ConfigError(
                    f"the document expands to over {MAX_VALUES:,} values (YAML aliases "
                    "nested too deep?): refused",
                    file=self.file,
                    line=node.start_mark.line + 1,
                )
            if isinstance(node, yaml.MappingNode):
                for key, value in reversed(node.value):
                    sub = f"{path}.{key.value}" if path else str(key.value)
                    lines[sub] = key.start_mark.line + 1
                    if isinstance(value, yaml.Node):
                        stack.append((value, sub))
            elif isinstance(node, yaml.SequenceNode):
                for i in range(len(node.value) - 1, -1, -1):
                    stack.append((node.value[i], f"{path}[{i}]"))

    def error(self, where: str, message: str) -> ConfigError:
        line = self.lines.get(where)
        probe = where
        while line is None and probe:
            probe = probe.rsplit(".", 1)[0] if "." in probe else ""
            line = self.lines.get(probe)
        return ConfigError(message, file=self.file, line=line, where=where)


class Fields:
    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc

    def mapping(self, value: Any, where: str, known: set[str]) -> dict[str, Any]:
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.doc.error(where, f"expected a mapping, got {type(value).__name__}")
        unknown = sorted(set(map(str, value)) - known)
        if unknown:
            raise self.doc.error(
                f"{where}.{unknown[0]}" if where else unknown[0],
                f"unknown field {unknown[0]!r} (known: {', '.join(sorted(known))})",
            )
        return value

    @overload
    def get(self, m: dict[str, Any], key: str, where: str, conv: Callable[[Any, str], T]) -> T: ...

    @overload
    def get(
        self, m: dict[str, Any], key: str, where: str, conv: Callable[[Any, str], T], default: D
    ) -> T | D: ...

    def get(
        self,
        m: dict[str, Any],
        key: str,
        where: str,
        conv: Callable[[Any, str], T],
        default: object = ...,
    ) -> object:
        """``m[key]`` through ``conv``; ``default`` when absent (none given: required)."""
        path = f"{where}.{key}" if where else key
        if key not in m or m[key] is None:
            if default is ...:
                raise self.doc.error(path, "required field is missing")
            return default
        try:
            return conv(m[key], path)
        except ConfigError:
            raise
        except (ValueError, TypeError) as exc:
            raise self.doc.error(path, str(exc)) from None


def integer(lo: int, hi: int) -> Callable[[Any, str], int]:
    def conv(v: Any, where: str) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError(f"expected an integer {lo}..{hi}, got {v!r}")
        return v

    return conv


def number(v: Any, where: str) -> float:
    if isinstance(v, str):
        v = parse_bps(v)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
        raise ValueError(f"expected a non-negative number, got {v!r}")
    return float(v)


def seconds(v: Any, where: str) -> float:
    """A duration: seconds as a number (``0.000005``), or with a unit (``5us``, ``2ms``,
    ``1.5s``); non-negative and at most a day (no delay of a network comes near it)."""
    if isinstance(v, str):
        text = v.strip().lower()
        for unit, scale in (("us", 1e-6), ("ms", 1e-3), ("s", 1.0)):
            if text.endswith(unit):
                try:
                    v = float(text[: -len(unit)]) * scale
                except ValueError:
                    raise ValueError(
                        f"expected a duration like 5us, 2ms or 1.5s, got {v!r}"
                    ) from None
                break
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ValueError(f"expected a duration in seconds, got {v!r}")
    if not 0.0 <= v <= 86_400.0:
        raise ValueError(f"expected a duration of 0 to 86400 seconds, got {v!r}")
    return float(v)


_UNITS = {"k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15}


def parse_bps(text: str) -> float:
    """``800G``, ``12.8T``, ``48P``, ``100M`` or a plain number: bits per second."""
    t = text.strip().lower().removesuffix("bps").removesuffix("b/s")
    scale = _UNITS.get(t[-1:], 1.0) if t else 1.0
    body = t[:-1] if t[-1:] in _UNITS else t
    try:
        return float(body) * scale
    except ValueError:
        raise ValueError(f"expected bits per second like 800G or 12.8T, got {text!r}") from None


def string(v: Any, where: str) -> str:
    if not isinstance(v, str) or not v:
        raise ValueError(f"expected a non-empty string, got {v!r}")
    return v


def boolean(v: Any, where: str) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"expected true or false, got {v!r}")
    return v


def ip(v: Any, where: str) -> IPAddress:
    try:
        return ipaddress.ip_address(str(v))
    except ValueError:
        raise ValueError(f"expected an IP address, got {v!r}") from None


def ipv4(v: Any, where: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(str(v))
    except ValueError:
        raise ValueError(f"expected an IPv4 address, got {v!r}") from None


def prefix(v: Any, where: str) -> Prefix:
    try:
        return Prefix.parse(str(v))
    except ValueError as exc:
        raise ValueError(f"expected a prefix like 10.1.0.0/16 with host bits zero: {exc}") from None


def enum_value(kind: type[E]) -> Callable[[Any, str], E]:
    def conv(v: Any, where: str) -> E:
        for member in kind:
            if v == member.value:
                return member
        raise ValueError(f"expected one of {', '.join(m.value for m in kind)}, got {v!r}")

    return conv


def communities(v: Any, where: str) -> tuple[int, ...]:
    if not isinstance(v, list):
        raise ValueError("expected a list of communities like 65001:100")
    return tuple(parse_community(str(c)) for c in v)


def list_of(v: Any, where: str) -> list[Any]:
    if not isinstance(v, list):
        raise ValueError(f"expected a list, got {type(v).__name__}")
    return v


def one_of_ints(allowed: tuple[int, ...]) -> Callable[[Any, str], int]:
    def conv(v: Any, where: str) -> int:
        if v not in allowed or isinstance(v, bool):
            raise ValueError(f"expected one of {', '.join(map(str, allowed))}, got {v!r}")
        return int(v)

    return conv


def ipv6(v: Any, where: str) -> ipaddress.IPv6Address:
    try:
        return ipaddress.IPv6Address(str(v))
    except ValueError:
        raise ValueError(f"expected an IPv6 address, got {v!r}") from None
