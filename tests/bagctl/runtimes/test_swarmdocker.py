"""Which ended tasks of a stack are the region's failure (``swarmdocker.ended_tasks``),
read from ``docker stack ps`` listings recorded on a one-node swarm (Docker 20.10): a
service restarted on failure and one never restarted."""

from __future__ import annotations

from bagctl.runtimes.swarmdocker import ended_tasks

EXIT = '"task: non-zero exit (3)"'


def listing(*rows: tuple[str, str, str, str]) -> str:
    return "\n".join("\t".join(row) for row in rows) + "\n"


def test_an_attempt_the_swarm_starts_again_is_not_a_failure() -> None:
    # The broker's restart policy (on-failure): a failed attempt and its successor, as
    # ``docker stack ps`` lists them while the successor is ready, then running.
    for successor in (("Ready", "Ready less than a second ago"), ("Running", "Running 1s")):
        restarted = listing(
            ("r_mosquitto.1", *successor, ""),
            ("r_mosquitto.1", "Shutdown", "Failed 1 second ago", EXIT),
        )
        assert ended_tasks(restarted) == {}


def test_an_attempt_with_no_successor_is_reported_with_its_error() -> None:
    # A shard (restart condition none) failed, beside a broker that was restarted; and a
    # task whose last attempt failed too (its restarts used up).
    stack = listing(
        ("r_mosquitto.1", "Running", "Running 5 seconds ago", ""),
        ("r_mosquitto.1", "Shutdown", "Failed 9 seconds ago", EXIT),
        ("r_shard0.1", "Shutdown", "Failed 10 seconds ago", EXIT),
        ("r_shard1.1", "Shutdown", "Rejected 3 seconds ago", '"no suitable node"'),
        ("r_shard2.1", "Running", "Running 4 seconds ago", ""),
    )
    assert ended_tasks(stack) == {
        "r_shard0.1": f"failed: {EXIT}",
        "r_shard1.1": 'rejected: "no suitable node"',
    }


def test_a_stack_without_tasks_or_with_a_short_line_has_no_failure() -> None:
    assert ended_tasks("") == {}
    assert ended_tasks("r_shard0.1\tRunning\n") == {}
