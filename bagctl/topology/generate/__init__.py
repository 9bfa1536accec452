"""Generators: NSF fabrics, DSF zones, BAG layers in planes, two regions joined; presets.

Pure functions build ``Topology`` objects (``model.py``) from a few counts; ``PRESETS``
names the calibrated sets of them, and ``generate(preset, **params)`` builds one. Every
result passes ``parse_topology(dump_topology(t))`` (validation included) and comes back
equal; ``topologies/<preset>.yaml`` holds each preset as shipped.

One module per job:

- ``fabrics.py``: ``nsf_fabric`` and ``dsf_zone``, the L2 fabrics, each a ``Fabric``;
- ``bags.py``: ``bag_layer`` (a region's BAG chassis over its fabrics), ``join_regions``;
- ``aggregation.py``: ``summarize``, prefix summarization at tier boundaries;
- ``numbering.py``: the AS numbering and GPU subnet schemes;
- ``params.py``: ``Param`` and ``ParamError``, what every preset's ``--param`` accepts;
- ``presets.py``: the calibrated presets (why an NSF's figures are what they are),
  ``preset_params`` and ``generate``.
"""

from .aggregation import summarize
from .bags import bag_layer, bag_name, join_regions
from .fabrics import Fabric, dsf_zone, nsf_fabric
from .numbering import ASN_BASE, MAX_REGIONS, asn, leaf_prefixes
from .params import JOINS, SUMMARIZE, Param, ParamError
from .presets import PRESETS, Preset, build_region, generate, preset_params

__all__ = [
    "ASN_BASE",
    "JOINS",
    "MAX_REGIONS",
    "PRESETS",
    "SUMMARIZE",
    "Fabric",
    "Param",
    "ParamError",
    "Preset",
    "asn",
    "bag_layer",
    "bag_name",
    "build_region",
    "dsf_zone",
    "generate",
    "join_regions",
    "leaf_prefixes",
    "nsf_fabric",
    "preset_params",
    "summarize",
]
