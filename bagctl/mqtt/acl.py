"""Operator roles on an external broker: a mosquitto ``acl_file`` for one region.

MQTT 3.1.1 tells the region nothing of who published a command, so roles are the
broker's to enforce, by topic (``topics.py``):

- the **region** (the user ``bagctl up --broker`` connects as): everything under the
  region's tree, its agents' topics included;
- **control** operators: commands on ``cmd/`` and queries on ``query/``;
- **read-only** operators: queries on ``query/`` only (``status``, ``inspect``, ``show``,
  ``converge``, ``fib-snapshot``: ``payloads.QUERIES``; the region refuses anything else
  sent there), and the region's retained status, per-node state and events;
- every client reads only the replies addressed to its own client id (``%c``).

A command a read-only operator publishes on ``cmd/`` is dropped by the broker without a
word (MQTT 3.1.1 has no refusal for a publish), so ``bagctl`` says, when such a command
gets no reply, that the ACL may be why.
"""

from __future__ import annotations

from collections.abc import Sequence

from .topics import ROOT, check_name

__all__ = ["mosquitto_acl"]


def _user(name: str) -> str:
    if not name or any(c.isspace() for c in name):
        raise ValueError(f"user {name!r}: a mosquitto user name has no spaces")
    return name


def mosquitto_acl(
    region: str, region_user: str, control: Sequence[str], read_only: Sequence[str]
) -> str:
    """The ``acl_file`` text (module docstring); ValueError for a bad name or a user
    given two roles."""
    base = f"{ROOT}/{check_name('region', region)}"
    roles = [("region", [region_user]), ("control", control), ("read-only", read_only)]
    seen: dict[str, str] = {}
    for role, users in roles:
        for user in users:
            if _user(user) in seen:
                raise ValueError(f"user {user!r} is given two roles: {seen[user]} and {role}")
            seen[user] = role
    looks = [f"topic read {base}/status", f"topic read {base}/events"]
    looks += [f"topic read {base}/node/#", f"topic write {base}/query/#"]
    lines = [
        f"# bagemu region {region}: operator roles (bagctl acl). mosquitto.conf:",
        "#   acl_file THIS_FILE   (with password_file: every user authenticated)",
        "# every client reads the replies to its own client id only",
        f"pattern read {base}/reply/%c/+",
        "",
        f"# the region itself (bagctl up --broker mqtt://{region_user}:...)",
        f"user {region_user}",
        f"topic readwrite {base}/#",
    ]
    for user in control:
        lines += ["", "# control: commands and queries", f"user {user}", *looks]
        lines.append(f"topic write {base}/cmd/#")
    for user in read_only:
        lines += ["", "# read-only: queries, status, state and events", f"user {user}", *looks]
    return "\n".join(lines) + "\n"
