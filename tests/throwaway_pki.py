"""A throw-away PKI made with the openssl CLI: a CA, a server certificate for 127.0.0.1,
::1 and localhost, a client certificate, and a client signed by a CA nobody trusts.

Shared by the exporter's web tests and the reliability tests that drive the exporter as a
process; a top-level module because tests/ holds no package of its own.
"""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pki:
    """A test CA, a server certificate for 127.0.0.1, ::1 and localhost, and two clients."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    # Signed by a CA the server is never told about.
    stranger_cert: Path
    stranger_key: Path


_EXTENSIONS = """\
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,IP:::1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _openssl(folder: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=60)


def _new_key_and_request(folder: Path, name: str) -> None:
    _openssl(
        folder, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.csr",
    )  # fmt: skip


def _make_ca(folder: Path, name: str) -> None:
    _new_key_and_request(folder, name)
    _openssl(
        folder, "x509", "-req", "-in", f"{name}.csr", "-signkey", f"{name}.key",
        "-days", "2", "-extfile", "extensions.cnf", "-extensions", "ca", "-out", f"{name}.crt",
    )  # fmt: skip


def _make_leaf(folder: Path, name: str, ca: str, kind: str) -> None:
    _new_key_and_request(folder, name)
    _openssl(
        folder, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
        "-set_serial", str(secrets.randbits(63)), "-days", "2",
        "-extfile", "extensions.cnf", "-extensions", kind, "-out", f"{name}.crt",
    )  # fmt: skip


def make_pki(folder: Path) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "extensions.cnf").write_text(_EXTENSIONS)
    _make_ca(folder, "ca")
    _make_ca(folder, "stranger-ca")
    _make_leaf(folder, "server", "ca", "server")
    _make_leaf(folder, "client", "ca", "client")
    _make_leaf(folder, "stranger", "stranger-ca", "client")
    return Pki(
        ca_cert=folder / "ca.crt",
        server_cert=folder / "server.crt",
        server_key=folder / "server.key",
        client_cert=folder / "client.crt",
        client_key=folder / "client.key",
        stranger_cert=folder / "stranger.crt",
        stranger_key=folder / "stranger.key",
    )
