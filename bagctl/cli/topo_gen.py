"""``bagctl topo gen --preset NAME [--param k=v ...] -o FILE``: write a generated region.

The presets and their parameters live in ``bagctl/topology/generate/presets.py`` (``PRESETS``);
``--list`` prints them with their defaults and meaning. The file is checked the way
``bagctl topo info`` will read it (``parse_topology``, AS layout included) before it is
written, unless ``--no-check``.
"""

from __future__ import annotations

import click

from speakers.yamldoc import ConfigError

from .complete import complete_preset
from .output import emit_json, fail


def _overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    from bagctl.topology.generate import ParamError

    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ParamError(f"--param {pair!r}: expected NAME=VALUE, e.g. planes=4")
        out[key.strip()] = value.strip()
    return out


def _list_presets(as_json: bool) -> None:
    from bagctl.topology.generate import PRESETS

    if as_json:
        emit_json(
            {
                name: {
                    "description": p.description,
                    "params": {
                        k: {"default": v.show(), "help": v.help, "kind": v.kind}
                        for k, v in p.params.items()
                    },
                }
                for name, p in PRESETS.items()
            }
        )
        return
    for name, p in PRESETS.items():
        click.echo(f"{name}: {p.description}")
        width = max(map(len, p.params))
        for k, v in p.params.items():
            click.echo(f"  {k:<{width}}  {v.show():>7}  {v.help}")
        click.echo()


@click.command()
@click.option(
    "--preset",
    metavar="NAME",
    shell_complete=complete_preset,
    help="mini, region, two-region-planar, ...",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a preset parameter (repeatable); --list shows them.",
)
@click.option("-o", "--output", metavar="FILE", help="YAML file to write.")
@click.option("--list", "list_", is_flag=True, help="List presets and their parameters.")
@click.option("--no-check", is_flag=True, help="Write without re-reading and validating.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def gen(
    preset: str | None,
    params: tuple[str, ...],
    output: str | None,
    list_: bool,
    no_check: bool,
    as_json: bool,
) -> None:
    """Generate the topology of PRESET into FILE.

    Exits 1 on an unknown preset or parameter, a bad value, parameters that cannot build
    a region (e.g. more BAG ports than the chassis has), or a file that fails to read back.
    """
    if list_:
        _list_presets(as_json)
        return
    if not preset or not output:
        fail("--preset and -o/--output are required (or --list)", as_json=as_json)
        return
    from bagctl.topology import parse_topology
    from bagctl.topology.dump import dump_topology
    from bagctl.topology.generate import PRESETS, ParamError, generate, preset_params
    from bagctl.topology.info import topology_info

    try:
        overrides = _overrides(params)
        values = preset_params(preset, overrides)
        topo = generate(preset, **overrides)
        text = dump_topology(topo)
        if not no_check:
            parse_topology(text, output)
    except (ParamError, ConfigError) as exc:
        fail(str(exc), as_json=as_json)
        return
    try:
        with open(output, "w") as f:
            f.write(text)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}", as_json=as_json)
        return
    info = topology_info(topo)
    if as_json:
        spec = PRESETS[preset]
        emit_json(
            {
                "ok": True,
                "preset": preset,
                "output": output,
                "bytes": len(text.encode()),
                "params": {
                    k: spec.params[k].show(v) if spec.params[k].kind == "bps" else v
                    for k, v in values.items()
                },
                **{k: info[k] for k in ("speakers", "sessions", "bundles", "member_links")},
            }
        )
    else:
        click.echo(
            f"{output}: {len(text.encode()):,} bytes; {info['speakers']:,} speakers, "
            f"{info['sessions']:,} sessions, {info['member_links']:,} member links"
        )
