"""Idle and dribbling connections hold no worker a scrape needs (issue 13, kind 3).

An unauthenticated client can open many TCP connections and never send a byte. They must
not starve scrapes: with IDLE connections open, at least 99 of 100 scrapes succeed, and
once they close no 503 lingers. Counts and times are bounded; everything is on loopback.
"""

from __future__ import annotations

import contextlib
import http.client
import resource
import shutil
import socket
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fake_host import FakeHost

from .processes import EXPORTER, RunningExporter, running_exporter

IDLE = 300
SCRAPES = 100
PARALLEL_SCRAPES = 10
SCRAPE_TIMEOUT_S = 5.0
REQUIRED_SUCCESSES = 99
AFTER_CLOSE_SCRAPES = 20


# Below what the default limits need (1,024 arriving + 64 workers + 256 waiting + 128 kept):
# the exporter then holds fewer connections open and sheds more often.
LOW_OPEN_FILE_LIMIT = 600


@pytest.fixture(params=[None, LOW_OPEN_FILE_LIMIT], ids=["default limits", "600 open files"])
def exporter_and_limit(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[RunningExporter, int | None]]:
    host = FakeHost(1, 2, 1, 2).loopback("10.0.0.100/32").interface("eth0", "192.0.2.1/24")
    tree = host.write(tmp_path / "host")
    argv = [EXPORTER, "--role=realserver", *tree.plugin_args(), "--no-boot-check"]
    if request.param is not None:
        prlimit = shutil.which("prlimit")
        assert prlimit, "prlimit (util-linux) sets the exporter's open-file limit"
        argv = [prlimit, f"--nofile={request.param}:{request.param}", "--", *argv]
    with running_exporter(
        [*argv, "--web.listen-address=127.0.0.1:0"], tmp_path / "exporter.log"
    ) as running:
        yield running, request.param


def scrape(port: int) -> int | str:
    """The status, or the error's name; never raises, so every scrape is counted."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=SCRAPE_TIMEOUT_S)
    try:
        connection.request("GET", "/metrics")
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError as err:
        return type(err).__name__
    finally:
        connection.close()


def scrapes(port: int, count: int) -> Counter[int | str]:
    with ThreadPoolExecutor(max_workers=PARALLEL_SCRAPES) as pool:
        return Counter(pool.map(scrape, [port] * count))


@contextlib.contextmanager
def idle_connections(port: int, count: int) -> Iterator[list[socket.socket]]:
    """*count* connections that never send a byte; all closed when the block ends."""
    opened: list[socket.socket] = []
    try:
        for _ in range(count):
            opened.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        yield opened
    finally:
        for connection in opened:
            connection.close()


def test_idle_connections_do_not_starve_scrapes(
    exporter_and_limit: tuple[RunningExporter, int | None],
) -> None:
    exporter, open_file_limit = exporter_and_limit
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft > IDLE + 100, "this test needs more open files than the test runner allows"
    with idle_connections(exporter.port, IDLE):
        time.sleep(0.5)  # let the server accept them all before scraping
        during = scrapes(exporter.port, SCRAPES)
    after = scrapes(exporter.port, AFTER_CLOSE_SCRAPES)
    print(f"with {IDLE} idle connections: {dict(during)}; after closing: {dict(after)}")
    assert during[200] >= REQUIRED_SUCCESSES, during
    assert after == {200: AFTER_CLOSE_SCRAPES}, after
    assert "Traceback" not in exporter.log_text()
    if open_file_limit is not None:
        assert f"the open-file limit ({open_file_limit}) allows" in exporter.log_text()
