"""Helpers of the ``mqtts://`` tests (their fixtures: conftest.py): a throwaway PKI made
with the ``openssl`` command, and what a test needs to know of the TLS mosquitto."""

from __future__ import annotations

import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

MOSQUITTO = "/usr/sbin/mosquitto"
PASSWORD = "s3cret:with/odd@chars"  # quoted in URLs: redaction must still hide it
USER = "bagemu"

SERVER_EXT = """basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""
CLIENT_EXT = SERVER_EXT.replace("serverAuth", "clientAuth").replace(
    "subjectAltName = IP:127.0.0.1\n", ""
)


@dataclass(frozen=True)
class Pki:
    ca: Path
    other_ca: Path  # a CA that signed nothing of the broker's
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def openssl(cwd: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d: Path, name: str) -> Path:
    openssl(
        d, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={name}",
    )  # fmt: skip
    return d / f"{name}.pem"


def issue(d: Path, ca: str, name: str, ext: str, serial: int) -> tuple[Path, Path]:
    """A certificate for ``name`` signed by ``ca`` with the extensions ``ext``."""
    (d / f"{name}.ext").write_text(ext)
    openssl(d, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", f"{name}.key")  # fmt: skip
    openssl(d, "req", "-new", "-key", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
    openssl(
        d, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
        "-set_serial", str(serial), "-days", "2", "-out", f"{name}.pem",
        "-extfile", f"{name}.ext",
    )  # fmt: skip
    return d / f"{name}.pem", d / f"{name}.key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class TlsBroker:
    tls_port: int
    mutual_port: int  # requires a client certificate
    plain_port: int
    log: list[str]  # mosquitto's stderr, for failures' messages

    def url(self, ca: Path | None, port: int | None = None, password: str = PASSWORD) -> str:
        query = "" if ca is None else f"?ca={ca}"
        auth = f"{USER}:{quote(password, safe='')}"
        return f"mqtts://{auth}@127.0.0.1:{port or self.tls_port}{query}"
