"""``mqtts://`` (bagctl/mqtt/tls.py, BrokerUrl): the URL and its TLS files, checked
before any connection with errors that name the file; then a real mosquitto over TLS
(conftest.py): the right CA connects, publishes and receives; another CA, a broker that
does not speak TLS, or a missing client certificate is refused saying so."""

from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path

import aiomqtt
import pytest
from tlsbroker import PASSWORD, Pki, TlsBroker

from bagctl.bus import BusClient, BusError
from bagctl.mqtt.broker import BrokerTlsError, BrokerUrl, BrokerUrlError
from bagctl.mqtt.tls import TlsFiles


def test_url_round_trip_and_redaction(
    pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = BrokerUrl.parse(
        f"mqtts://bagemu:p%40ss@broker.example?ca={pki.ca}"
        f"&cert={pki.client_cert}&key={pki.client_key}"
    )
    assert (url.host, url.port, url.username, url.password) == (
        "broker.example", 8883, "bagemu", "p@ss",
    )  # fmt: skip
    assert url.tls == TlsFiles(str(pki.ca), str(pki.client_cert), str(pki.client_key))
    assert BrokerUrl.parse(str(url)) == url  # what the state file keeps comes back whole
    assert url.redacted() == (
        f"mqtts://bagemu:***@broker.example:8883?ca={pki.ca}"
        f"&cert={pki.client_cert}&key={pki.client_key}"
    )
    # No CA file: the system's CAs (still verified); no query at all.
    system = BrokerUrl.parse("mqtts://broker.example:9883")
    assert system.tls == TlsFiles() and str(system) == "mqtts://broker.example:9883"
    assert BrokerUrl.parse("mqtt://broker.example").tls is None  # plain stays plain
    # Relative paths, ``+`` and spaces: absolute in the URL, so that another command, run
    # from anywhere, finds the file (it reads the URL from the region's state file).
    odd = tmp_path / "my ca+1.pem"
    odd.write_bytes(pki.ca.read_bytes())
    monkeypatch.chdir(tmp_path)
    rel = BrokerUrl.parse("mqtts://h?ca=my%20ca+1.pem")
    assert rel.tls is not None and rel.tls.ca == str(odd)
    assert BrokerUrl.parse(str(rel)) == rel and "my%20ca%2B1.pem" in str(rel)


def test_bad_urls_and_files_are_named(pki: Pki, tmp_path: Path) -> None:
    """Each problem in words, naming the file, before any connection; never the password."""
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")
    encrypted = tmp_path / "enc.key"
    encrypted.write_text("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED...")
    missing = tmp_path / "missing.pem"
    cases = {
        f"?ca={missing}": f"CA file {missing} (?ca=) cannot be read: No such file or directory",
        f"?ca={tmp_path}": f"CA file {tmp_path} (?ca=) cannot be read: Is a directory",
        f"?ca={pki.client_key}": f"CA file {pki.client_key} (?ca=) is not PEM",
        f"?ca={garbage}": f"CA file {garbage} (?ca=) holds no usable PEM certificate",
        f"?cert={pki.client_cert}&key={pki.server_key}": (
            f"client certificate {pki.client_cert} and key {pki.server_key}: "
            "the key is not the certificate's"
        ),
        f"?cert={pki.client_cert}&key={encrypted}": f"client key {encrypted} (?key=) is encrypted",
        f"?cert={pki.client_cert}": f"client key {pki.client_cert} (?cert=): no PEM private key",
        f"?key={pki.client_key}": "needs its certificate (?cert=)",
        f"?ca={pki.ca}&ca={pki.ca}": "option 'ca' given twice",
        "?ca=": "option 'ca' has no file",
        "?insecure=1": "unknown option 'insecure' (expected ca=FILE, cert=FILE, key=FILE)",
    }
    for query, message in cases.items():
        with pytest.raises(BrokerUrlError) as info:
            BrokerUrl.parse(f"mqtts://bagemu:hunter2@127.0.0.1:8883{query}")
        assert message in str(info.value), query
        assert str(info.value).startswith("broker URL 'mqtts://bagemu:***@127.0.0.1:8883")
        assert "hunter2" not in str(info.value)
    with pytest.raises(BrokerUrlError, match=r"unexpected query \(TLS files need mqtts://\)"):
        BrokerUrl.parse(f"mqtt://127.0.0.1?ca={pki.ca}")
    with pytest.raises(BrokerUrlError, match=r"expected mqtt://.* or mqtts://"):
        BrokerUrl.parse("tls://127.0.0.1")
    with pytest.raises(BrokerUrlError, match="Port out of range") as info:
        BrokerUrl.parse("mqtts://bagemu:hunter2@127.0.0.1:99999")
    assert "hunter2" not in str(info.value)


async def test_right_ca_connects_publishes_and_receives(pki: Pki, tls_broker: TlsBroker) -> None:
    url = BrokerUrl.parse(tls_broker.url(pki.ca))
    client = await url.connect("tls-ok", within_s=10, timeout=10)
    try:
        sock = client._client.socket()  # paho's: a TLS socket, Nagle off all the same
        assert isinstance(sock, ssl.SSLSocket)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        await client.subscribe("bagemu/tls/t", qos=1)
        await client.publish("bagemu/tls/t", b"over TLS", qos=1)
        async with asyncio.timeout(10):
            message = await anext(client.messages)
        assert message.payload == b"over TLS"
    finally:
        await client.__aexit__(None, None, None)
    # A client certificate, where the listener requires one.
    port = tls_broker.mutual_port
    mutual = f"{tls_broker.url(pki.ca, port)}&cert={pki.client_cert}&key={pki.client_key}"
    async with BrokerUrl.parse(mutual).client("tls-mutual", timeout=10) as client:
        await client.publish("bagemu/tls/t", b"with a certificate", qos=1)


async def test_another_ca_is_refused_naming_the_host(pki: Pki, tls_broker: TlsBroker) -> None:
    url = BrokerUrl.parse(tls_broker.url(pki.other_ca))
    where = f"127.0.0.1:{tls_broker.tls_port}"
    # OpenSSL's reason between the two (here: self-signed certificate in certificate chain)
    said = f"TLS verification of the broker at {where} failed: "
    checked = f" (checked against the CA file {pki.other_ca} (?ca=))"
    with pytest.raises(BrokerTlsError) as info:
        async with url.client("tls-other-ca", timeout=10):
            pass
    assert str(info.value).startswith(said) and str(info.value).endswith(checked)
    # At once, though ``connect`` retries a broker that is not there yet for 30 s.
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(BrokerTlsError) as info:
        await url.connect("tls-other-ca", within_s=30, timeout=10)
    assert str(info.value).startswith(said) and str(info.value).endswith(checked)
    assert loop.time() - started < 10
    # What bagctl's commands see (BusClient): a broker-error that says so.
    with pytest.raises(BusError) as info:
        async with BusClient(url, "mini"):
            pass
    assert info.value.code == "broker-error"
    assert info.value.message.startswith(said) and info.value.message.endswith(checked)
    assert PASSWORD not in info.value.message


async def test_the_certificate_must_name_the_host(pki: Pki, tls_broker: TlsBroker) -> None:
    """The right CA, but a name the certificate does not carry (it names 127.0.0.1 only)."""
    url = BrokerUrl.parse(tls_broker.url(pki.ca).replace("@127.0.0.1:", "@localhost:"))
    with pytest.raises(BrokerTlsError) as info:
        async with url.client("tls-hostname", timeout=10):
            pass
    assert str(info.value).startswith(
        f"TLS verification of the broker at localhost:{tls_broker.tls_port} failed: "
        "Hostname mismatch, certificate is not valid for 'localhost'."
    )


async def test_system_cas_do_not_trust_a_private_ca(tls_broker: TlsBroker) -> None:
    """No ``?ca=``: verified against the system's CAs, which never signed our test CA;
    verification is not skipped for want of a file."""
    with pytest.raises(BrokerTlsError) as info:
        async with BrokerUrl.parse(tls_broker.url(None)).client("tls-system", timeout=10):
            pass
    message = str(info.value)
    assert message.startswith(f"TLS verification of the broker at 127.0.0.1:{tls_broker.tls_port}")
    assert message.endswith("(checked against the system's CAs; a private CA needs ?ca=FILE)")


async def test_a_broker_without_tls_on_the_port(pki: Pki, tls_broker: TlsBroker) -> None:
    url = BrokerUrl.parse(tls_broker.url(pki.ca, tls_broker.plain_port))
    expected = rf"TLS handshake with the broker at 127\.0\.0\.1:{tls_broker.plain_port} failed"
    with pytest.raises(BrokerTlsError, match=expected):
        async with url.client("tls-plain", timeout=10):
            pass


async def test_a_ca_file_gone_after_parse(pki: Pki, tls_broker: TlsBroker, tmp_path: Path) -> None:
    """A TLS file removed while a region runs: its reconnections fail with the file named
    (``BrokerTlsError``, an ``MqttError`` that ``MqttLink`` retries), never a traceback."""
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pki.ca.read_bytes())
    url = BrokerUrl.parse(tls_broker.url(ca))
    ca.unlink()
    with pytest.raises(BrokerTlsError, match=f"CA file {ca} .*cannot be read") as info:
        url.client("tls-gone", timeout=10)
    assert isinstance(info.value, aiomqtt.MqttError) and PASSWORD not in str(info.value)
