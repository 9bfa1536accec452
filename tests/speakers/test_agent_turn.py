"""A switch's BGP agent reads a burst of UPDATEs before its FIB hears of it.

With a delay model (``SpeakerConfig.processing_s``: ``transport/inputs.py``), the agent
handles one message at a time. What an UPDATE changes is decided when the agent reads
it (the Loc-RIB moves at once), but the FIB, the export and the route observers hear of
a burst's changes at the agent's turn, once per prefix (``Routes.release``), as FRR's
bgpd queues each destination once for zebra. Four neighbors announcing one prefix at
one instant give one FIB change with four members, not four changes of one to four."""

from __future__ import annotations

from speaker_helpers import Fabric, Link, Node
from test_clock import run_until

from speakers.clock import VirtualClock
from speakers.fib import FibChange
from speakers.wire import Prefix

PROCESSING_S = 10e-6
P = Prefix.parse("10.9.0.0/24")
NODES = [Node("x", 65000, "127.0.10.1"), Node("y", 65100, "127.0.10.2")] + [
    Node(f"n{i}", 65000 + i, f"127.0.10.{10 + i}") for i in range(1, 5)
]
LINKS = [Link("x", "y", 400e9)] + [Link("x", f"n{i}", 100e9) for i in range(1, 5)]


async def test_a_burst_reaches_the_fib_and_the_export_once_at_the_agents_turn() -> None:
    clock = VirtualClock()
    fabric = Fabric(NODES, LINKS, memory=True, clocks={n.name: clock for n in NODES},
                    processing_s=PROCESSING_S)  # fmt: skip
    await fabric.start()
    try:
        await run_until(fabric, clock, 1.0)
        assert fabric.established()
        x = fabric["x"]
        changes: list[FibChange] = []
        x.fib_table.subscribe(changes.append)
        heard: list[str] = []
        x.route_events.append(lambda change: heard.append(str(change.prefix)))
        sent_to_y = x.neighbors["y"].updates_out
        for i in range(1, 5):  # four UPDATEs for P, sent at one instant
            fabric[f"n{i}"].originate(P, i * 1e9)
        await fabric.wait(fabric.quiet)  # (sent: waiting at x's agent)
        start = clock.time()
        # Two of them read: decided (the Loc-RIB has both), not yet in the FIB.
        clock.advance(start + 2.5 * PROCESSING_S)
        selected = x.loc_rib.get(P)
        assert selected is not None and len(selected.paths) == 2
        assert x.fib_table.lookup(P) is None and changes == [] and heard == []
        await run_until(fabric, clock, 1.1)
        group = x.fib_table.lookup(P)
        assert group is not None and len(group.members) == 4
        weights = sorted(w for _, w in group.members)
        assert [w * 10 // weights[0] for w in weights] == [10, 20, 30, 40]  # UCMP: 1:2:3:4
        assert [c.prefix for c in changes] == [P] and heard == [str(P)]
        # At the fourth message's turn, the emulated instant it was read.
        assert abs(changes[0].at_ns - (start + 4 * PROCESSING_S) * 1e9) < 10
        # y hears of P once: one UPDATE for the burst, with the four paths' bandwidth.
        assert x.neighbors["y"].updates_out - sent_to_y == 1
        assert str(P) in {str(d.prefix) for d in fabric["y"].loc_rib}
    finally:
        fabric.close()
