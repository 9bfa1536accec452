"""Our speaker against a real ExaBGP 5 (the one pinned in pyproject) over loopback TCP.

Topology: our speaker ``bag`` (AS 4200040001, 127.0.40.1) with two exabgp neighbors, each its
own exabgp process (``exabgp_peer.ExaBgp``): ``exa1`` (AS 65402, 127.0.40.2) dials us; ``exa2``
(AS 65403, 127.0.40.3) listens and we dial it, so both connection directions are exercised
without a collision. Both exabgps announce the same IPv4 and IPv6 prefixes with link bandwidth
in exabgp's raw-hex extended-community form (800G and 400G: both above the ~34 Gb/s its
``bandwidth:`` keyword can express), so our FIB holds a two-member UCMP group at 2:1. Our
speaker originates an IPv4 and an IPv6 prefix and exports them with link bandwidth (transitive
to exa1, non-transitive to exa2); exabgp's JSON shows what it received, and since exabgp
5.0.15 does not name the link-bandwidth community there, its 8 octets are decoded here.
Then withdrawals, the loss of exa2 (SIGKILL) and its return change the right FIB members, and
a graceful stop reaches both exabgps as an RFC 8203 Cease.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from exabgp_peer import ExaBgp, decode_extended_community, link_bandwidth_hex

from speakers.config import (
    ExportPolicy,
    NeighborConfig,
    Originate,
    PrefixList,
    PrefixListEntry,
    SpeakerConfig,
)
from speakers.speaker import Speaker
from speakers.ucmp import ReadvertiseMode
from speakers.wire import AS_TRANS, Prefix

G = 1e9
PORT = 1179
BAG, EXA1, EXA2 = "127.0.40.1", "127.0.40.2", "127.0.40.3"
BAG_AS, EXA1_AS, EXA2_AS = 4200040001, 65402, 65403

# What the exabgps announce (same prefixes from both, different bandwidths).
V4, V6 = "10.40.1.0/24", "2001:db8:40:1::/64"
EXA1_BPS, EXA2_BPS = 800 * G, 400 * G
BOTH = {EXA1: 2, EXA2: 1}  # our FIB members for them: 800G : 400G

# What we originate, and what each exabgp should see as its link bandwidth.
OWN_V4, OWN_V6 = "10.40.100.0/24", "2001:db8:40:100::/64"
OWN_BPS = 1600 * G
TO_EXA1_BPS = 800 * G  # cumulative: min(1.6T, the 800G link)
TO_EXA2_BPS = 400 * G  # link-capacity: the 400G link, non-transitive


def f32(value: float) -> float:
    return struct.unpack(">f", struct.pack(">f", value))[0]


def speaker_config() -> SpeakerConfig:
    ip = ipaddress.ip_address
    own = PrefixList((PrefixListEntry(Prefix.parse(OWN_V4)), PrefixListEntry(Prefix.parse(OWN_V6))))
    return SpeakerConfig(
        name="bag",
        asn=BAG_AS,
        router_id=ipaddress.IPv4Address(BAG),
        listen_address=ip(BAG),
        listen_port=PORT,
        connect_retry_s=0.5,
        neighbors=(
            NeighborConfig(
                name="exa1",
                address=ip(EXA1),
                remote_as=EXA1_AS,
                local_address=ip(BAG),
                passive=True,  # exa1 dials us
                link_capacity_bps=800 * G,
                export=ExportPolicy(link_bandwidth=ReadvertiseMode.CUMULATIVE, prefix_list=own),
            ),
            NeighborConfig(
                name="exa2",
                address=ip(EXA2),
                remote_as=EXA2_AS,
                local_address=ip(BAG),
                port=PORT,  # we dial exa2
                link_capacity_bps=400 * G,
                export=ExportPolicy(
                    link_bandwidth=ReadvertiseMode.LINK_CAPACITY,
                    link_bandwidth_transitive=False,
                    prefix_list=own,
                ),
            ),
        ),
        originate=(
            Originate(Prefix.parse(OWN_V4), OWN_BPS),
            Originate(Prefix.parse(OWN_V6), OWN_BPS),
        ),
    )


def announce(prefix: str, exa: ExaBgp, bandwidth_bps: float) -> str:
    # IPv6 over an IPv4 session: the exabgp's IPv4 address mapped into IPv6 as its next hop
    # (RFC 4291 §2.5.5.2), as our speaker does.
    hop = "self" if ":" not in prefix else f"::ffff:{exa.address}"
    community = link_bandwidth_hex(bandwidth_bps, exa.asn)
    return f"announce route {prefix} next-hop {hop} extended-community [ {community} ]"


def members(speaker: Speaker, prefix: str) -> dict[str, int]:
    """Next hop (as the IPv4 address of the exabgp behind it) -> integer weight."""
    group = speaker.fib_table.lookup(Prefix.parse(prefix))
    if group is None:
        return {}
    out = {}
    for hop, weight in group.members:
        mapped = getattr(hop, "ipv4_mapped", None)
        out[str(mapped or hop)] = weight
    return out


class Watch:
    """Wake on any FIB, route or session change of our speaker."""

    def __init__(self, speaker: Speaker) -> None:
        self.speaker = speaker
        self.changed = asyncio.Event()
        speaker.fib_table.subscribe(lambda change: self.changed.set())
        speaker.route_events.append(lambda change: self.changed.set())
        speaker.session_events.append(lambda name, event: self.changed.set())

    async def until(self, check: Callable[[], bool], timeout_s: float = 20.0) -> None:
        try:
            async with asyncio.timeout(timeout_s):
                while not check():
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            raise AssertionError(
                f"not reached in {timeout_s} s; our FIB: {self.speaker.fib_table.describe()}"
            ) from None


def check_received(exa: ExaBgp, prefix: str, bandwidth_bps: float, transitive: bool) -> None:
    """exabgp's JSON for our route: prefix, AS path, next hop, link-bandwidth bytes."""
    route = exa.rib[prefix]
    expected_hop = BAG if ":" not in prefix else f"::ffff:{BAG}"
    assert ipaddress.ip_address(route.next_hop) == ipaddress.ip_address(expected_hop)
    attrs = route.attributes
    assert attrs["origin"] == "igp"
    # Our AS prepended to an empty path, as a 4-octet AS (exabgp 5 JSON: segments by index).
    assert attrs["as-path"] == {"0": {"element": "as-sequence", "value": [BAG_AS]}}
    assert "local-preference" not in attrs and "med" not in attrs
    (community,) = attrs["extended-community"]
    lb = decode_extended_community(community["value"])
    assert lb.type_high == (0x00 if transitive else 0x40)
    assert lb.subtype == 0x04
    assert lb.asn == AS_TRANS  # RFC 10005 §2: a 4-octet AS goes as AS_TRANS
    assert lb.bytes_per_s == f32(bandwidth_bps / 8)


def notifications(exa: ExaBgp) -> list[dict]:
    """NOTIFICATIONs exabgp received, as its JSON has them (code, subcode, data, message)."""
    return [m["neighbor"]["notification"] for m in exa.messages if m["type"] == "notification"]


async def test_exabgp_interop(tmp_path: Path) -> None:
    speaker = Speaker(speaker_config(), rng=random.Random(40))
    watch = Watch(speaker)
    exa1 = ExaBgp("exa1", EXA1, EXA1_AS, BAG, BAG_AS, PORT, tmp_path)
    exa2 = ExaBgp("exa2", EXA2, EXA2_AS, BAG, BAG_AS, PORT, tmp_path, passive=True, port=PORT)
    try:
        await speaker.start()
        await exa1.start()
        await exa2.start()
        for exa, bps in ((exa1, EXA1_BPS), (exa2, EXA2_BPS)):
            for prefix in (V4, V6):
                await exa.command(announce(prefix, exa, bps))

        # Receive side: a two-member UCMP group per prefix, weighted 2:1.
        await watch.until(lambda: members(speaker, V4) == BOTH == members(speaker, V6))
        rib = speaker.rib(Prefix.parse(V4))[0]
        by_source = {p["source"]: p for p in rib["paths"]}
        assert by_source["exa1"]["link_bandwidth_bps"] == pytest.approx(EXA1_BPS, rel=1e-6)
        assert by_source["exa2"]["link_bandwidth_bps"] == pytest.approx(EXA2_BPS, rel=1e-6)
        assert by_source["exa1"]["as_path"] == str(EXA1_AS)
        group = speaker.fib_table.lookup(Prefix.parse(V6))
        assert group is not None
        mapped = {ipaddress.ip_address(f"::ffff:{exa}") for exa in (EXA1, EXA2)}
        assert set(group.next_hops) == mapped
        assert [w for _, w in group.weights] == pytest.approx([2 / 3, 1 / 3])  # UCMP, not ECMP

        # Send side: exabgp's JSON shows our routes, and only them (export prefix list).
        own = {OWN_V4, OWN_V6}
        await exa1.wait(lambda: set(exa1.rib) == own)
        await exa2.wait(lambda: set(exa2.rib) == own)
        for prefix in own:
            check_received(exa1, prefix, TO_EXA1_BPS, transitive=True)
            check_received(exa2, prefix, TO_EXA2_BPS, transitive=False)
        # After the first table, an End-of-RIB marker per family, as exabgp reads them.
        both = [("ipv4", "unicast"), ("ipv6", "unicast")]
        for exa in (exa1, exa2):
            await exa.wait(lambda exa=exa: sorted(exa.end_of_rib) == both)

        # Withdrawals remove the right member of the right prefix only.
        await exa2.command(f"withdraw route {V4}")
        await watch.until(lambda: members(speaker, V4) == {EXA1: 1})
        assert members(speaker, V6) == BOTH
        await exa1.command(f"withdraw route {V6}")
        await watch.until(lambda: members(speaker, V6) == {EXA2: 1})
        assert members(speaker, V4) == {EXA1: 1}
        await exa2.command(announce(V4, exa2, EXA2_BPS))
        await exa1.command(announce(V6, exa1, EXA1_BPS))
        await watch.until(lambda: members(speaker, V4) == BOTH == members(speaker, V6))

        # Session loss: exa2 dies (SIGKILL, no NOTIFICATION); its members go.
        await exa2.kill()
        await watch.until(lambda: members(speaker, V4) == {EXA1: 1} == members(speaker, V6))
        assert speaker.neighbor("exa2").flaps == 1
        assert speaker.neighbor("exa2").last_down == "connection-lost"  # no NOTIFICATION

        # exa2 comes back (we dial it again): members back, and it gets our routes again.
        await exa2.start()
        for prefix in (V4, V6):
            await exa2.command(announce(prefix, exa2, EXA2_BPS))
        await watch.until(lambda: members(speaker, V4) == BOTH == members(speaker, V6))
        await exa2.wait(lambda: set(exa2.rib) == own)
        for prefix in own:
            check_received(exa2, prefix, TO_EXA2_BPS, transitive=False)

        # No NOTIFICATION so far either way, and exa1's session never flapped.
        assert speaker.neighbor("exa1").flaps == 0
        assert [m["neighbor"]["state"] for m in exa1.messages if m["type"] == "state"] == [
            "connected",
            "up",
        ]
        for exa in (exa1, exa2):
            assert notifications(exa) == [], exa.name

        # Graceful stop: each exabgp gets Cease / Administrative Shutdown with our reason.
        await speaker.stop("bagemu interop done")
        for exa in (exa1, exa2):
            await exa.wait(lambda exa=exa: notifications(exa) != [])
            (note,) = notifications(exa)
            assert (note["code"], note["subcode"]) == (6, 2)
            assert note["message"] == 'Shutdown Communication: "bagemu interop done"'  # RFC 8203
    except BaseException:
        for exa in (exa1, exa2):
            print(f"--- {exa.name} log ---\n{exa.log_text()}")
        print(speaker.sessions())
        raise
    finally:
        await exa1.close()
        await exa2.close()
        speaker.close()
