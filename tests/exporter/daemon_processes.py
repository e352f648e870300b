"""Run lvs-arp-exporter, prometheus and node_exporter as child processes, and always stop them.

Each listens on 127.0.0.1 (in the test's own network namespace where one is given), logs to a
file the test can show when it fails, and is terminated, then killed, on the way out.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")

START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0
_LISTENING = re.compile(r"listening on \S*:(\d+)")


def exporter_command() -> str:
    """The installed console script, beside the interpreter running the tests."""
    script = Path(sys.executable).with_name("lvs-arp-exporter")
    if not script.exists():
        pytest.fail(f"{script} is missing: install the project (pip install -e .)", pytrace=False)
    return str(script)


def require_binary(name: str, package: str) -> str:
    """The daemon tests must fail, not skip, where Debian's package is missing."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not found: apt-get install {package}", pytrace=False)
    return found


def free_port() -> int:
    """A port free on 127.0.0.1 now, for daemons that cannot report the port they bound."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def in_netns(netns: str | None, argv: Sequence[str]) -> list[str]:
    return ["ip", "netns", "exec", netns, *argv] if netns else list(argv)


@dataclass
class Daemon:
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def running(argv: Sequence[str], log: Path, netns: str | None = None) -> Iterator[Daemon]:
    with log.open("wb") as sink:
        process = subprocess.Popen(
            in_netns(netns, argv), stdin=subprocess.DEVNULL, stdout=sink, stderr=sink
        )
    daemon = Daemon(process, log)
    try:
        yield daemon
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)


def wait_for(what: str, probe: Callable[[], T | None], daemon: Daemon, timeout_s: float) -> T:
    """Call probe until it answers; fail with the daemon's log if it dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        if daemon.process.poll() is not None:
            pytest.fail(f"{what}: the daemon exited {daemon.process.returncode}:\n"
                        f"{daemon.log_text()}")  # fmt: skip
        answer = probe()
        if answer is not None:
            return answer
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: no answer in {timeout_s:g}s; log:\n{daemon.log_text()}")
        time.sleep(0.2)


@dataclass
class Exporter:
    daemon: Daemon
    port: int
    netns: str | None

    def url(self, path: str = "/metrics") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str = "/metrics") -> bytes:
        return http_get(self.url(path), self.netns)


@contextmanager
def running_exporter(
    args: Sequence[str], log: Path, netns: str | None = None, port: int = 0
) -> Iterator[Exporter]:
    """The exporter on 127.0.0.1; port 0 takes the port it reports in its start-up log."""
    argv = [exporter_command(), f"--web.listen-address=127.0.0.1:{port}", *args]
    with running(argv, log, netns) as daemon:

        def bound_port() -> int | None:
            found = _LISTENING.search(daemon.log_text())
            return int(found.group(1)) if found else None

        yield Exporter(
            daemon, wait_for("exporter start", bound_port, daemon, START_TIMEOUT_S), netns
        )


# No proxy: a developer's http_proxy must not catch loopback traffic.
_FETCH = (
    "import sys, urllib.request as r\n"
    "o = r.build_opener(r.ProxyHandler({}))\n"
    "sys.stdout.buffer.write(o.open(sys.argv[1], timeout=10).read())\n"
)


def http_get(url: str, netns: str | None = None) -> bytes:
    """GET from this namespace, or from inside *netns* (its loopback is its own)."""
    if netns is None:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=10) as answer:
            return bytes(answer.read())
    done = subprocess.run(
        in_netns(netns, [sys.executable, "-c", _FETCH, url]),
        capture_output=True,
        timeout=30,
        check=False,
    )
    if done.returncode != 0:
        raise OSError(f"GET {url} in {netns}: {done.stderr.decode(errors='replace')[-500:]}")
    return done.stdout
