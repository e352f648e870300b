"""Fixtures for the exporter's web tests: a small PKI made with the openssl CLI, and servers
on 127.0.0.1 that are always shut down.

There is deliberately no __init__.py here: without tests/__init__.py, pytest would import this
folder as a package named "exporter" and shadow the real one.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from throwaway_pki import Pki, make_pki

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


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    if shutil.which("openssl") is None:
        pytest.fail("the TLS tests make their certificates with the openssl CLI; install openssl")
    return make_pki(tmp_path_factory.mktemp("pki"))


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
