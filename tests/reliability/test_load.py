"""The exporter process under load on loopback: many clients and slow ones stall no scrape.

A dribbling client (a byte every half second) and a silent one hold connections while 100
clients scrape at the same instant; every one of them is answered, and a scrape after the
burst is as quick as ever. A request is bounded in time (the dribbler is cut at the
request deadline) and in size (header count, line length), whatever the client sends.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fake_host import FakeHost

from exporter.http_server import ConnectionLimits

from .processes import EXPORTER, RunningExporter, running_exporter

CLIENTS = 100
INTERFACES = 100
BURST_BOUND_S = 15.0  # measured ~2.5 s on a loaded 2-core runner: 100 reads, one at a time
QUICK_S = 1.0
DRIP_INTERVAL_S = 0.5
# The CLI keeps ConnectionLimits' defaults; slack for a loaded runner.
REQUEST_DEADLINE_S = ConnectionLimits().request_seconds
DEADLINE_SLACK_S = 3.0


@pytest.fixture
def exporter(tmp_path: Path) -> Iterator[RunningExporter]:
    host = FakeHost(1, 2, 1, 2).loopback("10.0.0.100/32")
    for n in range(INTERFACES):
        host.interface(f"eth{n}", f"192.0.2.{n + 1}/24")
    tree = host.write(tmp_path / "host")
    argv = [EXPORTER, "--role=realserver", *tree.plugin_args(), "--no-boot-check"]
    with running_exporter(
        [*argv, "--web.listen-address=127.0.0.1:0"], tmp_path / "exporter.log"
    ) as running:
        yield running


def scrape(exporter: RunningExporter) -> tuple[int | str, float]:
    """(status, or the error's name; seconds); never raises, so every client is counted."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", exporter.port, timeout=30)
    try:
        connection.request("GET", "/metrics")
        response = connection.getresponse()
        response.read()
        outcome: int | str = response.status
    except OSError as err:
        outcome = type(err).__name__
    finally:
        connection.close()
    return outcome, time.monotonic() - started


class Dribbler:
    """Sends a request one byte at a time, for ever; records when the server hangs up."""

    def __init__(self, exporter: RunningExporter) -> None:
        self.connected = time.monotonic()
        self.cut_after_s: float | None = None
        self._socket = socket.create_connection(("127.0.0.1", exporter.port), timeout=30)
        self._thread = threading.Thread(target=self._drip, daemon=True)
        self._thread.start()

    def _drip(self) -> None:
        request = b"GET /metrics HTTP/1.0\r\nX-Slow: " + b"a" * 10_000
        for byte in request:
            try:
                self._socket.send(bytes([byte]))
            except OSError:
                break  # reset or broken pipe: the server has closed it
            time.sleep(DRIP_INTERVAL_S)
        self.cut_after_s = time.monotonic() - self.connected

    def wait_for_cut(self, timeout_s: float) -> float | None:
        self._thread.join(timeout_s)
        return self.cut_after_s

    def close(self) -> None:
        self._socket.close()


@contextmanager
def slow_clients(exporter: RunningExporter) -> Iterator[Dribbler]:
    silent = socket.create_connection(("127.0.0.1", exporter.port), timeout=30)
    dribbler = Dribbler(exporter)
    try:
        yield dribbler
    finally:
        dribbler.close()
        silent.close()


def test_a_hundred_clients_and_slow_ones_stall_no_scrape(exporter: RunningExporter) -> None:
    with slow_clients(exporter) as dribbler:
        start = threading.Barrier(CLIENTS)
        outcomes: list[tuple[int | str, float]] = []

        def client() -> None:
            start.wait()
            outcomes.append(scrape(exporter))

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        after_burst = scrape(exporter)
        cut_after_s = dribbler.wait_for_cut(REQUEST_DEADLINE_S + DEADLINE_SLACK_S)

    assert Counter(status for status, _ in outcomes) == {200: CLIENTS}
    assert max(took for _, took in outcomes) < BURST_BOUND_S
    assert after_burst[0] == 200 and after_burst[1] < QUICK_S
    # The slow client does not hold its worker beyond the request deadline.
    assert cut_after_s is not None, "the dribbling client was never cut off"
    assert cut_after_s < REQUEST_DEADLINE_S + DEADLINE_SLACK_S
    assert "Traceback" not in exporter.log_text()


def raw_request(exporter: RunningExporter, request: bytes) -> tuple[bytes, float]:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", exporter.port), timeout=10) as connection:
        # The server may answer and close before the client has sent it all.
        with contextlib.suppress(OSError):
            connection.sendall(request)
        answer = connection.recv(4096)
    return answer, time.monotonic() - started


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /metrics HTTP/1.0\r\n" + b"X-Many: 1\r\n" * 1000 + b"\r\n", b"431"),
        (b"GET /" + b"a" * 100_000 + b" HTTP/1.0\r\n\r\n", b"414"),
        (b"GET /metrics HTTP/1.0\r\nX-Long: " + b"a" * 100_000 + b"\r\n\r\n", b"431"),
    ],
    ids=["1000 headers", "100 KB request line", "100 KB header"],
)
def test_a_request_is_bounded_in_size(
    exporter: RunningExporter, request_bytes: bytes, status: bytes
) -> None:
    answer, took = raw_request(exporter, request_bytes)
    assert answer.startswith(b"HTTP/1.0 " + status) or answer.startswith(b"HTTP/1.1 " + status)
    assert took < QUICK_S
    assert scrape(exporter)[0] == 200
