"""Convergence tests as files: scenarios (a region, then steps of actions and what must
hold after each), run on an embedded region by ``bagctl test`` or from pytest.

``model.py`` (the frozen data), ``load.py`` (reading a file, every name checked, errors
with file, line and field), ``expect.py`` (judging each expectation against what the
region reports, with expected against actual), ``run.py`` (running one scenario),
``junit.py`` (the JUnit XML CI systems read).
"""

from .load import load_scenario, parse_scenario
from .model import Scenario
from .run import ScenarioResult, StepResult, run_scenario

__all__ = [
    "Scenario",
    "ScenarioResult",
    "StepResult",
    "load_scenario",
    "parse_scenario",
    "run_scenario",
]
