"""A convergence test in plain pytest, as a user's repository would hold it: bagemu
installed, nothing else set up (no asyncio mode, no conftest). Run it with

    pytest examples/test_mini_uplink.py --junitxml report.xml
"""

from bagctl.testing import (
    Lab,
    assert_converged_within,
    assert_no_session_lost,
    assert_verify,
    assert_weights,
)

RACK, PLANE1, PLANE2 = "r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-1", "r1-nsf1-ftsw1-2"
OTHER_POD = "10.0.7.0/24"  # a rack in the other pod: reached through both planes


def test_a_rack_uplink_down_moves_its_traffic_to_the_other_plane(bagemu: Lab) -> None:
    region = bagemu.region("mini")
    assert_no_session_lost(region.cold)
    assert_weights(region, RACK, OTHER_POD, {PLANE1: 1, PLANE2: 1})

    report = region.bundle_down(RACK, PLANE1)
    assert_converged_within(report, ms=1)  # emulated: the same on any runner
    assert_no_session_lost(report)
    assert region.session_state(RACK, PLANE1) != "Established"
    assert_weights(region, RACK, OTHER_POD, {PLANE2: 1})
    assert_verify(region)

    region.bundle_up(RACK, PLANE1)
    assert region.session_state(RACK, PLANE1) == "Established"
    assert_weights(region, RACK, OTHER_POD, {PLANE1: 1, PLANE2: 1})


def test_a_hung_switch_is_caught_by_its_neighbors_hold_timers(bagemu: Lab) -> None:
    region = bagemu.region("mini", hold_time_s=90)
    region.freeze(PLANE1)
    region.wait(100)  # 100 s of the region's time, in well under a second
    assert region.session_state(RACK, PLANE1) != "Established"
    assert_weights(region, RACK, OTHER_POD, {PLANE2: 1})
