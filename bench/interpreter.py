"""Which CPython ran a benchmark, for every bench's figures to name.

Two builds of one version can differ by a fifth in this project's CPU figures: this
project's machine has pyenv's 3.11.7, built without profile-guided and link-time
optimisation, and Debian's optimised 3.11.2 (README, "The interpreter"). A version alone
(``platform.python_version()``) cannot tell them apart; the real path of the base
interpreter (a venv's ``python`` is a link to it) does.
"""

from __future__ import annotations

import os
import platform
import sys


def interpreter() -> str:
    """``CPython 3.11.2 /usr/bin/python3.11``: implementation, version, base executable."""
    base = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    return f"{platform.python_implementation()} {platform.python_version()} {base}"


__all__ = ["interpreter"]
