"""Fixtures for the exporter's web tests: a small PKI made with the openssl CLI, and servers
on 127.0.0.1 that are always shut down.

There is deliberately no __init__.py here: without tests/__init__.py, pytest would import this
folder as a package named "exporter" and shadow the real one.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from exporter.http_server import MetricsServer


class FakeRender:
    """Stands in for the collector: answers a fixed body and remembers each Accept header."""

    body = b"# HELP lvs_arp_up Test.\n# TYPE lvs_arp_up gauge\nlvs_arp_up 1\n"
    content_type = "text/plain; version=0.0.4; charset=utf-8"

    def __init__(self) -> None:
        self.accept_headers: list[str | None] = []

    def __call__(self, accept: str | None) -> tuple[bytes, str]:
        self.accept_headers.append(accept)
        return self.body, self.content_type


@pytest.fixture
def fake_render() -> FakeRender:
    return FakeRender()


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
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)


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


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    if shutil.which("openssl") is None:
        pytest.fail("the TLS tests make their certificates with the openssl CLI; install openssl")
    folder = tmp_path_factory.mktemp("pki")
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


StartServer = Callable[..., MetricsServer]


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """start_server(render=None, listen="127.0.0.1:0", **MetricsServer keywords), running."""
    servers: list[MetricsServer] = []

    def start(render: Any = None, listen: str = "127.0.0.1:0", **options: Any) -> MetricsServer:
        server = MetricsServer(listen, render or FakeRender(), **options)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.shutdown()
