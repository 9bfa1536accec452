"""TLS to an external broker (``mqtts://``): the files a user names, checked before any
connection, and the ``ssl.SSLContext`` every client of the URL is built with.

The files travel in the broker URL's query (``?ca=FILE&cert=FILE&key=FILE``) because
the URL is what bagctl passes around: ``--broker``, ``$BAGEMU_BROKER`` to the background
region, and the region's state file, which every other command reads. So paths are
made absolute when the URL is parsed: a command run from another directory finds them.

Verification is never off, and no option turns it off: the broker's certificate must
chain to the CA file (only to it, when one is given; else to the system's default CAs),
and name the host the URL connects to (an IP address in the URL needs an IP SAN).

The context is ours rather than paho's ``tls_set`` (aiomqtt's ``TLSParameters``): the
checks that give a clear error are the loading that is used, and an encrypted key fails
here with its name, where OpenSSL would prompt for its passphrase on the terminal of a
background region.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TLS_OPTIONS", "TlsFileError", "TlsFiles", "TlsHandshakeError", "ssl_reason"]

TLS_OPTIONS = ("ca", "cert", "key")  # the URL's query parameters, in this order

_BEGIN_CERT = "-----BEGIN CERTIFICATE-----"


class TlsFileError(ValueError):
    """A TLS file that cannot be used; the message names the file and what is wrong."""


class TlsHandshakeError(ssl.SSLError):
    """The connection failed in the TLS handshake without a TLS reason (reset, closed or
    timed out: a broker that does not speak TLS on that port resets it), so that it is
    told from a broker that cannot be reached at all."""


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """What ``mqtts://`` verifies the broker with, and who we are to it (absolute paths)."""

    ca: str | None = None  # PEM CA certificates to verify the broker; None: the system's
    cert: str | None = None  # PEM client certificate, for a broker that requires one
    key: str | None = None  # its unencrypted PEM private key; None: in ``cert``'s file

    @classmethod
    def from_options(cls, options: dict[str, str]) -> TlsFiles:
        """From the URL's ``ca``/``cert``/``key`` (already unquoted): paths made absolute
        (``~`` expanded), then ``check()``ed."""
        paths = {k: os.path.abspath(os.path.expanduser(v)) for k, v in options.items()}
        files = cls(paths.get("ca"), paths.get("cert"), paths.get("key"))
        files.check()
        return files

    def options(self) -> dict[str, str]:
        """The URL's query parameters (``from_options``' inverse)."""
        values = (self.ca, self.cert, self.key)
        return {k: v for k, v in zip(TLS_OPTIONS, values, strict=True) if v is not None}

    def check(self) -> None:
        """``TlsFileError`` unless every file is there and holds what it should."""
        self.context()

    def context(self) -> ssl.SSLContext:
        """A client context that verifies the broker (module docstring); ``TlsFileError``
        naming the file that cannot be used."""
        if self.ca is None:
            context = ssl.create_default_context()
        else:
            text = _read(self.ca, "CA file", "ca")
            if _BEGIN_CERT not in text:
                raise TlsFileError(f"CA file {self.ca} (?ca=) is not PEM: no {_BEGIN_CERT} line")
            try:
                context = ssl.create_default_context(cadata=text)
            except ssl.SSLError as exc:
                raise TlsFileError(
                    f"CA file {self.ca} (?ca=) holds no usable PEM certificate: {ssl_reason(exc)}"
                ) from None
        if self.key is not None and self.cert is None:
            raise TlsFileError(f"client key {self.key} (?key=) needs its certificate (?cert=)")
        if self.cert is not None:
            self._load_client(context, self.cert, self.key)
        context.sslsocket_class = _ClosedOnFailure
        return context

    @staticmethod
    def _load_client(context: ssl.SSLContext, cert: str, key: str | None) -> None:
        if _BEGIN_CERT not in _read(cert, "client certificate", "cert"):
            raise TlsFileError(
                f"client certificate {cert} (?cert=) is not PEM: no {_BEGIN_CERT} line"
            )
        key_path, flag = (cert, "cert") if key is None else (key, "key")
        key_text = _read(key_path, "client key", flag)
        if "PRIVATE KEY-----" not in key_text:
            raise TlsFileError(f"client key {key_path} (?{flag}=): no PEM private key in it")
        if "ENCRYPTED" in key_text:
            raise TlsFileError(
                f"client key {key_path} (?{flag}=) is encrypted: bagemu needs it unencrypted "
                "(keep it mode 0600)"
            )
        try:
            context.load_cert_chain(cert, key, password=_no_passphrase)
        except ssl.SSLError as exc:
            raise TlsFileError(
                f"client certificate {cert} and key {key_path}: {ssl_reason(exc)}"
            ) from None
        except OSError as exc:  # replaced or removed since read
            raise TlsFileError(f"client certificate {cert}: {exc.strerror or exc}") from None


class _ClosedOnFailure(ssl.SSLSocket):
    """A TLS socket closed when its handshake fails: paho leaves it open then (its
    ``_ssl_wrap_socket``), and a region retrying a broker whose certificate does not
    verify would leave one descriptor behind per attempt until the collector runs."""

    def do_handshake(self, block: bool = False) -> None:
        try:
            super().do_handshake(block)
        except ssl.SSLError:
            self.close()
            raise
        except OSError as exc:
            self.close()
            raise TlsHandshakeError(exc.strerror or str(exc) or type(exc).__name__) from exc


def _read(path: str, what: str, flag: str) -> str:
    try:
        return Path(path).read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise TlsFileError(
            f"{what} {path} (?{flag}=) cannot be read: {exc.strerror or exc}"
        ) from None


def ssl_reason(exc: ssl.SSLError) -> str:
    """OpenSSL's reason in words (``NO_CERTIFICATE_OR_CRL_FOUND``: no certificate or crl
    found), else its text."""
    reason = getattr(exc, "reason", None)  # (set by OpenSSL's errors only)
    if reason == "KEY_VALUES_MISMATCH":
        return "the key is not the certificate's"
    if isinstance(reason, str):
        return reason.lower().replace("_", " ")
    return str(exc.args[0]) if len(exc.args) == 1 else str(exc)


def _no_passphrase() -> bytes:
    """For ``load_cert_chain``: a key that needs a passphrase fails instead of OpenSSL
    prompting for one (``_load_client`` refuses encrypted keys before this is reached)."""
    raise TlsFileError("the client key is encrypted: bagemu needs it unencrypted")
