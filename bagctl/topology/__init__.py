"""Region topologies: the model (``model.py``), the YAML format (``load.py``, ``dump.py``),
AS-layout checks (``validate.py``), session addresses (``addresses.py``), figures
(``info.py``), generators (``generate/``) and drawings (``draw/``)."""

from .load import load_topology, parse_topology
from .model import Bundle, Defaults, Node, Role, Topology

__all__ = ["Bundle", "Defaults", "Node", "Role", "Topology", "load_topology", "parse_topology"]
