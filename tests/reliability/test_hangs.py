"""A read that never returns: the plugin answers UNKNOWN within -t, the exporter in time.

A FIFO with no writer blocks open() for ever, as a wedged NFS root or a stuck driver would.
It is placed in a fake tree where the readers must open it; the plugin and the exporter are
then timed from the outside, as Nagios and Prometheus see them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_host import FakeHost, FakeTree

from .processes import EXPORTER, PLUGIN, RunningExporter, running_exporter

VIP = "10.0.0.100"
PLUGIN_TIMEOUT_S = 1
SCRAPE_TIMEOUT_S = 1.0
# Process start-up, a loaded CI runner, HTTP: what an answer may take beyond its deadline.
SLACK_S = 2.0
CONCURRENT_SCRAPES = 6  # more than the exporter's 4 read slots


def sound_tree(root: Path) -> FakeTree:
    host = FakeHost(1, 2, 1, 2, virtual_services=()).loopback(f"{VIP}/32")
    return host.interface("eth0", "192.0.2.10/24").write(root)


def make_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


HANGING_FILES: dict[str, Callable[[FakeTree], Path]] = {
    "conf/all": lambda tree: tree.conf_file("all", "arp_announce"),
    "conf/eth0": lambda tree: tree.conf_file("eth0", "arp_ignore"),
    "sys flags": lambda tree: tree.flags_file("eth0"),
    "ip_vs": lambda tree: tree.proc_root / "net/ip_vs",
}


@pytest.mark.parametrize("where", list(HANGING_FILES))
def test_plugin_answers_unknown_within_its_timeout(tmp_path: Path, where: str) -> None:
    tree = sound_tree(tmp_path / "host")
    make_fifo(HANGING_FILES[where](tree))
    argv = [PLUGIN, "-r", "realserver", *tree.plugin_args(), f"-t{PLUGIN_TIMEOUT_S}"]
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    elapsed = time.monotonic() - started
    assert done.returncode == 3, done.stdout + done.stderr
    status = done.stdout.splitlines()[0]
    assert status == f"LVS_ARP UNKNOWN: Timeout: check execution aborted after {PLUGIN_TIMEOUT_S}s"
    assert PLUGIN_TIMEOUT_S <= elapsed < PLUGIN_TIMEOUT_S + SLACK_S
    assert done.stderr == ""


SAVE_IT = "save `ip -json address` output to a file"


def test_plugin_refuses_a_fifo_as_ip_json_at_once(tmp_path: Path) -> None:
    """--ip-json is a saved file: a FIFO (even one being written) is refused, not awaited."""
    tree = sound_tree(tmp_path / "host")
    make_fifo(tree.ip_json)
    argv = [PLUGIN, "-r", "realserver", *tree.plugin_args(), "-t5", "--no-boot-check"]
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert time.monotonic() - started < SLACK_S
    assert done.returncode == 3, done.stdout
    status = done.stdout.splitlines()[0]
    # At most 90 characters: the message cut with '…' when the path is long.
    expected = f"LVS_ARP UNKNOWN - {tree.ip_json} is not a regular file: {SAVE_IT}"
    assert len(status) <= 90 and expected.startswith(status.removesuffix("…")), status


def stuck_sysctl_root(root: Path) -> Path:
    """A boot configuration whose only file is a FIFO nobody writes."""
    (root / "etc/sysctl.d").mkdir(parents=True)
    os.mkfifo(root / "etc/sysctl.d/50-stuck.conf")
    return root


def test_plugin_is_not_held_by_a_fifo_in_sysctl_d(tmp_path: Path) -> None:
    """The boot check opens sysctl.d files without blocking: a FIFO is judged, not awaited."""
    tree = sound_tree(tmp_path / "host")
    boot = stuck_sysctl_root(tmp_path / "boot")
    argv = [PLUGIN, "-r", "realserver", *tree.plugin_args(), "-t5", f"--sysctl-root={boot}"]
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert time.monotonic() - started < SLACK_S
    assert done.returncode in (0, 1), done.stdout
    assert "Timeout" not in done.stdout and done.stderr == ""


# --- the exporter ----------------------------------------------------------------------------


def scrape(exporter: RunningExporter, path: str = "/metrics") -> tuple[float, bytes]:
    """(seconds taken, body); no proxy: a developer's http_proxy must not catch loopback."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    started = time.monotonic()
    with opener.open(exporter.url(path), timeout=30) as answer:
        body = bytes(answer.read())
    return time.monotonic() - started, body


def sample(body: bytes, name: str) -> float:
    found = re.search(rb"^" + re.escape(name.encode()) + rb" (\S+)$", body, re.MULTILINE)
    assert found, f"{name} missing from:\n{body.decode()}"
    return float(found.group(1))


def release(fifo: Path) -> None:
    """Let every reader blocked on *fifo* go, then put a regular file in its place."""
    # Blocked readers count as readers, so a non-blocking writer may open it now.
    writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    os.write(writer, b"1\n")
    os.close(writer)
    replacement = fifo.with_name(fifo.name + ".new")
    replacement.write_text("1\n")
    os.replace(replacement, fifo)


def hanging_exporter(tmp_path: Path) -> tuple[list[str], Path]:
    tree = sound_tree(tmp_path / "host")
    fifo = tree.conf_file("eth0", "arp_ignore")
    make_fifo(fifo)
    argv = [EXPORTER, "--role=realserver", *tree.plugin_args()]
    return [*argv, f"--scrape.timeout={SCRAPE_TIMEOUT_S:g}s"], fifo


def test_a_hung_read_fails_the_scrape_in_time_and_stalls_no_other(tmp_path: Path) -> None:
    argv, fifo = hanging_exporter(tmp_path)
    with running_exporter(
        [*argv, "--web.listen-address=127.0.0.1:0"], tmp_path / "exporter.log"
    ) as exporter:
        took, body = scrape(exporter)
        assert took < SCRAPE_TIMEOUT_S + SLACK_S
        assert sample(body, "lvs_arp_scrape_success") == 0
        assert sample(body, 'lvs_arp_scrape_errors_total{reason="timeout"}') == 1

        # Concurrent scrapes each keep their own deadline; none queues behind a hung read.
        answers: list[tuple[float, bytes]] = []
        clients = [
            threading.Thread(target=lambda: answers.append(scrape(exporter)))
            for _ in range(CONCURRENT_SCRAPES)
        ]
        for client in clients:
            client.start()
        landing_took, _ = scrape(exporter, "/")
        for client in clients:
            client.join(timeout=30)
        assert landing_took < 0.5
        assert len(answers) == CONCURRENT_SCRAPES
        assert all(took < SCRAPE_TIMEOUT_S + SLACK_S for took, _ in answers)
        assert all(sample(body, "lvs_arp_scrape_success") == 0 for _, body in answers)

        # Once the read can finish, the held read slots come back and scrapes succeed.
        release(fifo)
        deadline = time.monotonic() + 5
        while sample(scrape(exporter)[1], "lvs_arp_scrape_success") != 1:
            assert time.monotonic() < deadline, "scrapes did not recover"
            time.sleep(0.1)
        log = exporter.log_text()
    assert "reading the host took longer than 1s" in log
    assert "Traceback" not in log


def test_textfile_mode_writes_the_failure_in_time(tmp_path: Path) -> None:
    argv, _ = hanging_exporter(tmp_path)
    target = tmp_path / "lvs_arp.prom"
    started = time.monotonic()
    done = subprocess.run(
        [*argv, f"--textfile={target}"], capture_output=True, text=True, timeout=30, check=False
    )
    assert time.monotonic() - started < SCRAPE_TIMEOUT_S + SLACK_S
    assert done.returncode == 0, done.stderr
    written = target.read_bytes()
    assert sample(written, "lvs_arp_scrape_success") == 0
    assert sample(written, 'lvs_arp_scrape_errors_total{reason="timeout"}') == 1
    assert "Traceback" not in done.stderr


def test_sigterm_stops_an_exporter_with_a_hung_read(tmp_path: Path) -> None:
    """A hung worker thread must not keep systemd waiting for its stop timeout."""
    argv, _ = hanging_exporter(tmp_path)
    with running_exporter(
        [*argv, "--web.listen-address=127.0.0.1:0"], tmp_path / "exporter.log"
    ) as exporter:
        scrape(exporter)
        started = time.monotonic()
        exporter.process.send_signal(signal.SIGTERM)
        exporter.process.wait(timeout=10)
        assert time.monotonic() - started < SLACK_S


def test_exporter_is_not_held_by_a_fifo_in_sysctl_d(tmp_path: Path) -> None:
    tree = sound_tree(tmp_path / "host")
    boot = stuck_sysctl_root(tmp_path / "boot")
    argv = [EXPORTER, "--role=realserver", *tree.plugin_args(), f"--sysctl-root={boot}"]
    with running_exporter(
        [*argv, "--web.listen-address=127.0.0.1:0"], tmp_path / "exporter.log"
    ) as exporter:
        took, body = scrape(exporter)
    assert took < SLACK_S
    assert sample(body, "lvs_arp_scrape_success") == 1
