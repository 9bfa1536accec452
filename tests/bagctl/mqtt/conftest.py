"""A throwaway PKI and a real mosquitto with TLS listeners, for the ``mqtts://`` tests.

``pki``: a CA, another CA nobody should trust, a server certificate for 127.0.0.1 (an IP
SAN: clients connect to that address, and Python checks it) and a client certificate,
made with the ``openssl`` command (scripts/setup.sh installs it; the ``cryptography``
package is not a dependency). ``tls_broker``: mosquitto on three free 127.0.0.1 ports:
TLS, TLS that requires a client certificate, and plain MQTT; user ``bagemu`` with a
password in every case. Skipped only where mosquitto is not installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator

import pytest
from tlsbroker import (
    CLIENT_EXT,
    MOSQUITTO,
    PASSWORD,
    SERVER_EXT,
    USER,
    Pki,
    TlsBroker,
    free_port,
    issue,
    make_ca,
)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca, other = make_ca(d, "bagemu-test-ca"), make_ca(d, "other-ca")
    server = issue(d, "bagemu-test-ca", "broker", SERVER_EXT, 1001)
    client = issue(d, "bagemu-test-ca", "operator", CLIENT_EXT, 1002)
    return Pki(ca, other, *server, *client)


@pytest.fixture(scope="module")
def tls_broker(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsBroker]:
    if not os.path.exists(MOSQUITTO):
        pytest.skip("mosquitto is not installed")
    d = tmp_path_factory.mktemp("mosquitto")
    passwords = d / "passwd"
    passwords.touch(mode=0o600)
    passwd = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    subprocess.run([passwd, "-b", str(passwords), USER, PASSWORD], check=True)
    ports = free_port(), free_port(), free_port()
    tls = f"cafile {pki.ca}\ncertfile {pki.server_cert}\nkeyfile {pki.server_key}\n"
    conf = d / "mosquitto.conf"
    conf.write_text(
        f"allow_anonymous false\npassword_file {passwords}\npersistence false\n"
        "log_dest stderr\n"
        + ("user root\n" if os.geteuid() == 0 else "")
        # As root, mosquitto would drop to its own user, who cannot read our tmp files.
        + f"listener {ports[0]} 127.0.0.1\n{tls}"
        + f"listener {ports[1]} 127.0.0.1\n{tls}require_certificate true\n"
        + f"listener {ports[2]} 127.0.0.1\n"
    )
    broker = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stderr=subprocess.PIPE, text=True)
    assert broker.stderr is not None
    log: list[str] = []
    for line in broker.stderr:  # its listeners are open once it says it runs
        log.append(line)
        if " running" in line:
            break
    else:
        broker.wait()
        pytest.fail(f"mosquitto did not start: {''.join(log)}")
    stderr = broker.stderr
    # Read the rest as it comes (a full pipe would stop mosquitto mid-test).
    drain = threading.Thread(target=lambda: log.extend(stderr), daemon=True)
    drain.start()
    try:
        yield TlsBroker(*ports, log)
    finally:
        broker.terminate()
        broker.wait(timeout=10)
        drain.join(timeout=10)
        stderr.close()
