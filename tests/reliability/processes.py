"""Start lvs-arp-exporter (or a wrapper around it) as a child process, and always stop it.

The exporter logs its bound port ("listening on 127.0.0.1:PORT"), so tests ask for port 0
and never race another test for a fixed one.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
PLUGIN = str(BIN / "check_lvs_arp")
EXPORTER = str(BIN / "lvs-arp-exporter")
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0
_LISTENING = re.compile(r"listening on \S*:(\d+)")


class StartError(RuntimeError):
    """The exporter exited or stayed silent instead of listening; carries its log."""


@dataclass
class RunningExporter:
    process: subprocess.Popen[bytes]
    log: Path
    port: int

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def url(self, path: str = "/metrics") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@contextmanager
def running_exporter(
    argv: Sequence[str], log: Path, stop_signal: int = signal.SIGTERM
) -> Iterator[RunningExporter]:
    """Run *argv* (an exporter command line listening on port 0) until the block ends.

    stop_signal SIGINT lets an in-process wrapper run its exit handlers (the exporter turns
    it into a clean shutdown); SIGTERM is how systemd stops it.
    """
    with log.open("wb") as sink:
        process = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=sink, stderr=sink)
    try:
        yield RunningExporter(process, log, _wait_for_port(process, log))
    finally:
        stop(process, stop_signal)


def stop(process: subprocess.Popen[bytes], stop_signal: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(stop_signal)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)


def _wait_for_port(process: subprocess.Popen[bytes], log: Path) -> int:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        found = _LISTENING.search(log.read_text(errors="replace"))
        if found:
            return int(found.group(1))
        if process.poll() is not None:
            raise StartError(f"exporter exited {process.returncode}:\n{log.read_text()}")
        time.sleep(0.05)
    raise StartError(f"exporter did not listen within {START_TIMEOUT_S:g}s:\n{log.read_text()}")
