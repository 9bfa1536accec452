"""A broker's password in a file of its own, mode 0600 from the moment it exists.

Generated compose and stack files name such a file beside them (the broker and the
agents read it where a Docker secret is mounted); ``bagctl`` reads the same file to
connect. It is made once and never overwritten, so regenerating a file keeps the
password a running region uses.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["ensure", "new_password", "read", "write_private"]


def new_password() -> str:
    """A fresh random password (192 bits, URL-safe: no quoting in a URL or a shell)."""
    return secrets.token_urlsafe(24)


def write_private(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 holding ``text``; FileExistsError if it exists (it
    is never opened with wider permissions, even for an instant)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")


def ensure(path: Path) -> bool:
    """A password in ``path``: made (True) unless the file is already there (False)."""
    try:
        write_private(path, new_password())
    except FileExistsError:
        return False
    return True


def read(path: Path) -> str:
    """The password in ``path``; ValueError naming the file when it is empty."""
    password = path.read_text().strip()
    if not password:
        raise ValueError(f"{path}: empty (the broker's password)")
    return password
