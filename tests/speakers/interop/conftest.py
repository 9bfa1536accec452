"""The ``lab`` fixture: one lab per peer daemon, shared by the tests of a module.

A lab costs a few seconds to start (GoBGP's first dial alone waits 5 to 9 s), so each
daemon gets one per module and every test starts by waiting for the lab to be converged
(``interop_checks.converged``) and leaves it converged. A test that fails gets the lab's
logs (bagemu's and the daemon's) printed with its report.

The tests skip only where they cannot run: not root (namespaces), no ``ip``, or the
daemon's package missing; scripts/setup.sh installs all three, and tests/test_repo.py
checks that it does, so CI runs them.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest
from interop_lab import PEERS, Lab, open_lab, why_not

FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture(scope="module", params=list(PEERS))
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    reason = why_not(request.param)
    if reason is not None:
        pytest.skip(f"{request.param}: {reason}")
    with open_lab(request.param) as opened:
        yield opened


@pytest.fixture(autouse=True)
def logs_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if request.node.stash.get(FAILED, False) and "lab" in request.fixturenames:
        print(request.getfixturevalue("lab").logs())
