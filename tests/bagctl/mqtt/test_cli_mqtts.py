"""``bagctl`` over ``mqtts://`` (issue 16): a region on a TLS mosquitto (conftest.py),
controlled by commands that find the broker URL, TLS files included, in the region's
state file; the password printed nowhere. And the errors a user sees: a CA file that is
not there, a broker whose certificate does not verify.

Every step awaits a command's exit; nothing sleeps to synchronise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from tlsbroker import PASSWORD, Pki, TlsBroker

from bagctl.mqtt.broker import BrokerUrl

ROOT = Path(__file__).resolve().parents[3]
MINI = str(ROOT / "topologies" / "mini.yaml")
LEAF, FTSW1 = "r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-1"


class Bagctl:
    """``python -m bagctl`` with a state directory of its own; every output kept."""

    def __init__(self, state_dir: Path) -> None:
        self.env = {**os.environ, "BAGEMU_STATE_DIR": str(state_dir)}
        self.outputs: list[str] = []

    def run(self, *args: str, code: int | None = 0) -> str:
        argv = [sys.executable, "-m", "bagctl", *args]
        proc = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=180)
        self.outputs.append(proc.stdout + proc.stderr)
        if code is not None:
            assert proc.returncode == code, (args, proc.returncode, proc.stdout, proc.stderr)
        return proc.stdout

    def json(self, *args: str, code: int = 0) -> dict:
        return json.loads(self.run(*args, "--json", code=code))


def test_region_over_mqtts(pki: Pki, tls_broker: TlsBroker, tmp_path: Path) -> None:
    port = tls_broker.tls_port
    url = tls_broker.url(pki.ca)
    bagctl = Bagctl(tmp_path)
    up = bagctl.json("up", MINI, "--detach", "--transport", "memory", "--broker", url)
    try:
        assert up["report"]["sessions_established"] == 64
        assert up["broker"] == f"mqtts://bagemu:***@127.0.0.1:{port}?ca={pki.ca}"
        # The state file keeps the whole URL, TLS files too: what the next commands use.
        state = json.loads((tmp_path / "mini.json").read_text())
        assert BrokerUrl.parse(state["broker"]) == BrokerUrl.parse(url)
        assert (tmp_path / "mini.json").stat().st_mode & 0o777 == 0o600
        status = bagctl.json("status")
        assert status["ok"] and status["result"]["pid"] == up["pid"]
        down = bagctl.json("link", "down", LEAF, FTSW1)
        assert down["ok"] and down["result"]["members_up"] == 0
        assert bagctl.json("status")["result"]["bundles_down"] == [sorted([LEAF, FTSW1])]

        # Another CA: the broker's certificate does not verify, and the CLI says so.
        other = ["--broker", tls_broker.url(pki.other_ca), "--region", "mini"]
        err = bagctl.json("status", *other, code=1)
        assert err["code"] == "broker-error"
        assert f"TLS verification of the broker at 127.0.0.1:{port} failed" in err["error"]
        # A CA file that is not there: named, before any connection.
        missing = tmp_path / "no-such-ca.pem"
        err = bagctl.json("status", "--broker", tls_broker.url(missing), "--region", "mini", code=1)
        assert err["code"] == "bad-payload"
        assert f"CA file {missing} (?ca=) cannot be read: No such file" in err["error"]
    except BaseException:
        bagctl.run("down", code=None)
        raise
    out = bagctl.json("down")
    assert out["ok"] and out["pid"] == up["pid"] and out["stopped_by"] == "shutdown command"
    assert not (tmp_path / "mini.json").exists()
    printed = [*bagctl.outputs, (tmp_path / "mini.log").read_text()]
    assert not [o for o in printed if PASSWORD in o or quote(PASSWORD, safe="") in o]


def test_up_says_what_is_wrong_with_tls(pki: Pki, tls_broker: TlsBroker, tmp_path: Path) -> None:
    """``bagctl up`` with a CA file that is not PEM: refused before any background
    process starts, the file named; with another CA: the region cannot connect, and
    ``up`` says why. Neither shows the password."""
    bagctl = Bagctl(tmp_path)
    not_pem = tls_broker.url(pki.client_key)
    err = bagctl.json("up", MINI, "--detach", "--transport", "memory", "--broker", not_pem, code=1)
    assert f"CA file {pki.client_key} (?ca=) is not PEM" in err["error"]
    assert not (tmp_path / "mini.log").exists()  # no child was started
    other = tls_broker.url(pki.other_ca)
    err = bagctl.json("up", MINI, "--transport", "memory", "--broker", other, code=1)
    port = tls_broker.tls_port
    assert err["error"].startswith(
        f"cannot use the MQTT broker mqtts://bagemu:***@127.0.0.1:{port}"
    )
    assert f"TLS verification of the broker at 127.0.0.1:{port} failed" in err["error"]
    assert not [o for o in bagctl.outputs if PASSWORD in o or quote(PASSWORD, safe="") in o]
