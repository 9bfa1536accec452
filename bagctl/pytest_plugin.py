"""The pytest plugin installed with bagemu (entry point ``pytest11``): the ``bagemu``
fixture, a ``bagctl.testing.Lab`` whose regions are taken down after the test, whether
it passed or not. Nothing else changes in a test session that does not ask for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .testing import Lab


@pytest.fixture
def bagemu() -> Iterator[Lab]:
    """Regions for this test (``bagemu.region("mini")``), closed when it ends."""
    lab = Lab()
    try:
        yield lab
    finally:
        lab.close()
