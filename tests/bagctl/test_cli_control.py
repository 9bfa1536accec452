"""``bagctl`` controlling a region that runs in another OS process, over MQTT: the
embedded broker (region over real TCP), and a real mosquitto with a password file.

Every step awaits a reply, an exit or a line of output; nothing sleeps to synchronise."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bagctl.bus import BrokerUrl, BusClient
from bagctl.runtimes.ports import free_on_all
from bagctl.topology import load_topology
from bagctl.topology.configs import speaker_configs

ROOT = Path(__file__).resolve().parents[2]
MINI = str(ROOT / "topologies" / "mini.yaml")
LEAF, FTSW1, FTSW2 = "r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-1", "r1-nsf1-ftsw1-2"
BAG, S1, S2, P = "r1-bag1-1", "r1-nsf1-stsw1-1", "r1-nsf1-stsw2-1", "10.0.0.0/24"
MOSQUITTO = "/usr/sbin/mosquitto"


class Cli:
    def __init__(self, state_dir: Path, *extra: str) -> None:
        self.env = {**os.environ, "BAGEMU_STATE_DIR": str(state_dir)}
        self.extra = list(extra)  # e.g. --broker URL --region mini

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "bagctl", *args]

    def run(self, *args: str, code: int | None = 0, target: bool = True) -> str:
        argv = self.argv(*args, *(self.extra if target else []))
        proc = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=180)
        if code is not None:
            assert proc.returncode == code, (args, proc.returncode, proc.stdout, proc.stderr)
        return proc.stdout + proc.stderr

    def json(self, *args: str, code: int = 0) -> dict:
        return json.loads(self.run(*args, "--json", code=code))

    def weights(self) -> dict[str, int]:
        return self.json("show", "fib", BAG, P)["result"]["fib"][0]["weights"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_ports() -> set[int]:
    ports = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A":  # TCP_LISTEN
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


async def raw_replies(url: str, payloads: list[bytes]) -> list[dict]:
    async with BusClient(BrokerUrl.parse(url), "mini") as bus:
        return [await bus.reply_to_raw(p, timeout_s=10) for p in payloads]


def scenario(cli: Cli, state_dir: Path, broker_url: str) -> int:
    """The issue's scenario; returns the region's pid (still running)."""
    # A second `up` of the same region: specific error, and the first is unharmed.
    out = cli.run("up", MINI, "--detach", "--transport", "memory", code=1, target=False)
    assert "region mini is already running" in out

    events = subprocess.Popen(
        cli.argv("events", "--count", "2", "--json", *cli.extra),
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert events.stderr is not None and "listening" in events.stderr.readline()

    down = cli.json("link", "down", LEAF, FTSW1)
    assert down["ok"] and down["result"]["members_up"] == 0
    seen = [json.loads(line) for line in events.communicate(timeout=60)[0].splitlines()]
    assert [(e["kind"], e["cmd"]) for e in seen] == [("command", "link-down")] * 1 + [
        ("result", "link-down")
    ]
    report = cli.json("converge")["result"]["report"]
    assert report["event"] == f"bundle-down {LEAF} {FTSW1}"
    assert report["sessions_established"] == report["sessions_expected"] == 63
    assert cli.weights() == {S2: 1}  # re-weighted: plane 1 lost its path from the leaf

    # verify, across processes: the region sends its FIBs, failures and FIB change
    # stream; the check runs here. The leaf's prefix was black-holed at FTSW1 until the
    # withdrawals arrived: a transient, reported with its duration but not counted.
    verified = cli.json("verify", "--transients")
    v = verified["result"]
    assert verified["ok"] and v["failures"]["bundles_down"] == [sorted([LEAF, FTSW1])]
    assert v["weights"]["max_error"] < 0.01 and not v["faults"]
    t = v["transients"]
    assert t["changes"] > 0 and t["black_holes"] >= 1 and t["loops"] == 0
    assert {P} <= {x["prefix"] for x in t["transients"]} and not any(
        x["open"] for x in t["transients"]
    )
    # The event log keeps what verify asked for, not every FIB (100 kB a line on mini).
    logged = [
        json.loads(line)
        for line in (state_dir / "mini.events.jsonl").read_text().splitlines()
        if '"cmd":"fib-snapshot"' in line and '"kind":"result"' in line
    ]
    assert logged and all(e["result"] == {"fib_nodes": 36} for e in logged)

    # Bad input on every surface gets its specific error; the region keeps working.
    assert "Missing argument 'B'" in cli.run("link", "down", LEAF, code=2)
    out = cli.run("link", "down", LEAF, FTSW2, "--members", "0", code=2)
    assert "0 is not in the range x>=1" in out
    err = cli.json("show", "fib", "r1-bag9-9", code=1)
    assert err["code"] == "unknown-node" and "no BGP speaker 'r1-bag9-9'" in err["error"]
    err = cli.json("link", "down", LEAF, "r1-bag1-1", code=1)
    assert err["code"] == "no-such-bundle"
    err = cli.json("link", "up", LEAF, FTSW2, "--members", "1", code=1)
    assert err["code"] == "members-out-of-range" and "32 of 32 members up" in err["error"]
    err = cli.json("node", "restart", BAG, "--graceful", code=1)  # mini: RFC 4724 is off
    assert err["code"] == "invalid" and "graceful restart is off" in err["error"]
    replies = asyncio.run(
        raw_replies(broker_url, [b"{oops", b'{"v": 1, "cmd": "show", "args": {"what": 5}}'])
    )
    assert [r["error"]["code"] for r in replies] == ["bad-json", "bad-payload"]
    err = cli.json("cancel", code=1)  # nothing runs between two commands
    assert err["code"] == "not-found" and "no command is running" in err["error"]

    rows = cli.json("inspect")["result"]["nodes"]  # as containerlab's inspect
    assert len(rows) == 36 and all(r["state"] == "running" for r in rows)
    assert sum(r["sessions_up"] for r in rows) == 2 * 63  # the bundle down above
    assert {r["node"]: r for r in rows}[BAG]["role"] == "bag"

    # Two clients at once, each with its own reply.
    procs = [
        subprocess.Popen(cli.argv(*args, "--json", *cli.extra), env=cli.env, stdout=subprocess.PIPE)
        for args in (("show", "sessions", BAG), ("status",))
    ]  # fmt: skip
    outs = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    assert outs[0]["cmd"] == "show" and outs[0]["result"]["node"] == BAG
    assert outs[1]["cmd"] == "status" and outs[1]["result"]["bundles_down"] == [[FTSW1, LEAF]]

    cli.json("link", "up", LEAF, FTSW1)
    assert cli.weights() == {S1: 1, S2: 1}  # the weights return
    cli.json("link", "down", LEAF, FTSW2, "--members", "16")
    assert cli.weights() == {S1: 45, S2: 32}
    cli.json("link", "up", LEAF, FTSW2)

    # Replay the event log: the same commands, the same weights at the end.
    log = state_dir / "mini.events.jsonl"
    replayed = cli.json("replay", str(log), code=1)  # the refused members command fails again
    steps = [(r["cmd"], r["ok"]) for r in replayed["replayed"]]
    assert steps[0] == ("link-down", True) and ("link-up", False) in steps
    assert cli.weights() == {S1: 1, S2: 1}
    return cli.json("status")["result"]["pid"]


def stop(cli: Cli, pid: int, ports: set[int]) -> None:
    out = cli.json("down")
    assert out["ok"] and out["pid"] == pid and out["stopped_by"] == "shutdown command"
    assert gone(pid)
    assert not ports & listening_ports()
    err = cli.json("status", code=1)
    assert err["code"] in ("not-running", "not-answering")


def test_embedded_broker_tcp_region(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    err = cli.json("status", code=1)  # nothing running yet
    assert err["code"] == "not-running" and "no region is running" in err["error"]
    nothing = cli.json("down")  # nothing to stop: said, exit 0 (a CI cleanup step)
    assert nothing["ok"] and nothing["stopped"] is None and "nothing to stop" in nothing["note"]
    # Free on every address the region listens on, not only on 127.0.0.1: another region
    # of this host (same addresses, another port) may hold it there, as a dial's own port.
    speakers = speaker_configs(load_topology(MINI)).values()
    bgp = free_on_all((c.listen_address for c in speakers), first=free_port())
    up = cli.json("up", MINI, "--detach", "--transport", "tcp", "--port", str(bgp))
    try:  # from here on, whatever fails, the region is taken down (never left running)
        assert up["report"]["sessions_established"] == 64 and not gone(up["pid"])
        state = json.loads((tmp_path / "mini.json").read_text())
        # The embedded broker's password: in the 0600 state file only, never printed.
        assert state["pid"] == up["pid"] and up["broker"].startswith("mqtt://bagemu:***@")
        assert BrokerUrl.parse(state["broker"]).redacted() == up["broker"]
        assert (tmp_path / "mini.json").stat().st_mode & 0o777 == 0o600
        broker_port = BrokerUrl.parse(up["broker"]).port
        assert {bgp, broker_port} <= listening_ports()
        # The region's topology copy, which a shell's Tab reads (no broker asked).
        assert state["topology"] == str(tmp_path / "mini.topology.yaml")
        assert (tmp_path / "mini.topology.yaml").stat().st_mode & 0o777 == 0o600  # MD5 keys
        tab = {"_BAGCTL_COMPLETE": "bash_complete", "COMP_CWORD": "4"}
        tab["COMP_WORDS"] = f"bagctl link down {LEAF} "
        proc = subprocess.run(cli.argv(), env=cli.env | tab, capture_output=True, text=True)
        assert proc.stdout.split() == [f"plain,{FTSW1}", f"plain,{FTSW2}"], proc.stderr
        pid = scenario(cli, tmp_path, state["broker"])
    except BaseException:
        cli.run("down", code=None)
        raise
    stop(cli, pid, {bgp, broker_port})
    assert not (tmp_path / "mini.json").exists()
    assert not (tmp_path / "mini.topology.yaml").exists()


@pytest.mark.skipif(not os.path.exists(MOSQUITTO), reason="mosquitto is not installed")
def test_external_mosquitto_with_password(tmp_path: Path) -> None:
    port = free_port()
    passwords = tmp_path / "passwd"
    passwords.touch(mode=0o600)
    passwd = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    subprocess.run([passwd, "-b", str(passwords), "bagemu", "s3cret"], check=True)
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwords}\n"
        "persistence false\nlog_dest stderr\n" + ("user root\n" if os.geteuid() == 0 else "")
        # As root, mosquitto would drop to its own user, who cannot read our tmp files.
    )
    broker = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stderr=subprocess.PIPE, text=True)
    try:
        assert broker.stderr is not None
        for line in broker.stderr:
            if " running" in line:
                break
        url = f"mqtt://bagemu:s3cret@127.0.0.1:{port}"
        cli = Cli(tmp_path)
        # The sharded runtime here (two worker processes), the single process above.
        up = cli.json(
            "up", MINI, "--detach", "--transport", "memory", "--workers", "2", "--broker", url
        )
        assert up["broker"] == f"mqtt://bagemu:***@127.0.0.1:{port}"  # never printed
        # nor in the region process's command line or environment (its children inherit it)
        assert "s3cret" not in Path(f"/proc/{up['pid']}/cmdline").read_text()
        assert b"s3cret" not in Path(f"/proc/{up['pid']}/environ").read_bytes()
        # Wrong password: the broker refuses, and the CLI says so.
        bad = Cli(tmp_path, "--broker", f"mqtt://bagemu:nope@127.0.0.1:{port}", "--region", "mini")
        err = bad.json("status", code=1)
        assert err["code"] == "broker-error" and "refused" in err["error"]
        try:
            pid = scenario(cli, tmp_path, url)
        except BaseException:
            cli.run("down", code=None)
            raise
        stop(cli, pid, set())

        async def retained_status() -> bytes | None:
            async with BusClient(BrokerUrl.parse(url), "mini") as bus:
                return await bus.retained(bus.topics.status, timeout_s=1.0)

        assert asyncio.run(retained_status()) is None  # cleared at shutdown
    finally:
        broker.terminate()
        broker.communicate(timeout=10)  # also closes its stderr pipe
