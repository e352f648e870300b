"""Interfaces come and go while the exporter is scraped and the plugin runs: nothing breaks.

A loop adds and deletes veth pairs in the node's namespace, reusing names (a deleted name
comes back moments later, as with a flapping VLAN) and never holding more than a few
hundred interfaces. Meanwhile 1,000 scrapes (half to an exporter on netlink, half to one on
/proc and /sys files) and 200 plugin runs (likewise split) read the same namespace. An
interface that vanishes mid-read must simply not be there: no 5xx, no traceback, no failed
read, no UNKNOWN.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest
from fake_host import FakeHost

from checks.errors import ReadError
from checks.read import files as file_reader

from .churn_driver import PluginLog, ScrapeLog
from .node_netns import SOUND_KNOBS, VIP, Node, sound_realserver
from .processes import EXPORTER, PLUGIN, RunningExporter, running_exporter

SCRAPES = 1000
PLUGIN_RUNS = 200
PLUGIN_PARALLEL = 2
CHURN_SLOTS = 100  # veth pairs at most: 200 churning interfaces
# Pause between churn operations: enough churn to hit reads mid-way, without starving the
# readers of CPU on a 2-core runner.
CHURN_PAUSE_S = 0.008
DRIVER = Path(__file__).with_name("churn_driver.py")
DRIVER_TIMEOUT_S = 180.0
FILE_READER_ARGS = ["--proc-root=/proc", "--sys-root=/sys"]


class Churn:
    """Adds and deletes veth pairs through one long-lived `ip -batch` until stopped."""

    def __init__(self, node: Node) -> None:
        self.operations = 0
        self.ip_errors: str | None = None  # set by stop()
        self._stop = threading.Event()
        self._ip = subprocess.Popen(
            ["ip", "-n", node.name, "-force", "-batch", "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._thread = threading.Thread(target=self._loop, name="churn", daemon=True)

    def __enter__(self) -> Churn:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _loop(self) -> None:
        assert self._ip.stdin is not None
        serial = 0
        while not self._stop.is_set():
            slot = serial % CHURN_SLOTS
            commands = [] if serial < CHURN_SLOTS else [f"link del c{slot}a"]
            commands += [
                f"link add c{slot}a type veth peer name c{slot}b",
                f"link set c{slot}a up",
                # An address too, so the address dump races deletions as well.
                f"address add 198.51.100.{slot}/32 dev c{slot}a",
            ]
            try:
                self._ip.stdin.write("\n".join(commands) + "\n")
                self._ip.stdin.flush()
            except BrokenPipeError:
                return
            self.operations += len(commands)
            serial += 1
            time.sleep(CHURN_PAUSE_S)

    def stop(self) -> str:
        """Stop, and return what `ip` printed on stderr (empty when every command worked)."""
        if self.ip_errors is not None:
            return self.ip_errors
        self._stop.set()
        self._thread.join(timeout=10)
        try:  # communicate() closes ip's stdin: it ends after the last command
            _, errors = self._ip.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self._ip.kill()
            _, errors = self._ip.communicate()
        self.ip_errors = errors or ""
        return self.ip_errors


def _sound_boot_config(root: Path) -> Path:
    """A sysctl.d that restores today's values, so the plugin's boot check finds them sound."""
    conf = root / "etc/sysctl.d/90-lvs-arp.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(
        "".join(
            f"net.ipv4.conf.{c}.{k} = {v}\n"
            for c in ("all", "default")
            for k, v in SOUND_KNOBS.items()
        )
    )
    return root


def _drive(
    node: Node, exporters: list[RunningExporter], sysctl_root: Path
) -> tuple[list[ScrapeLog], PluginLog]:
    plugin = [PLUGIN, "-r", "realserver", f"--sysctl-root={sysctl_root}"]
    spec = {
        "exporter_ports": [exporter.port for exporter in exporters],
        "scrapes": SCRAPES,
        "plugin_runs": PLUGIN_RUNS,
        "plugin_parallel": PLUGIN_PARALLEL,
        "plugin_argvs": [plugin, [*plugin, *FILE_READER_ARGS]],
    }
    done = subprocess.run(
        node.argv([sys.executable, str(DRIVER), json.dumps(spec)]),
        capture_output=True,
        text=True,
        timeout=DRIVER_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    return [ScrapeLog(**log) for log in report["scrapes"]], PluginLog(**report["plugin"])


def _complaints(log: str) -> str:
    return "\n".join(line for line in log.splitlines() if "level=info" not in line)


def test_scrapes_and_plugin_runs_survive_interface_churn(
    netns_support: None, tmp_path: Path
) -> None:
    with sound_realserver("churn") as node:
        live = [EXPORTER, "--role=realserver", "--web.listen-address=127.0.0.1:0"]
        files = [*live, *FILE_READER_ARGS]
        with (
            running_exporter(node.argv(live), tmp_path / "live.log") as netlink_exporter,
            running_exporter(node.argv(files), tmp_path / "files.log") as file_exporter,
            Churn(node) as churn,
        ):
            scrapes, plugin = _drive(
                node, [netlink_exporter, file_exporter], _sound_boot_config(tmp_path / "root")
            )
            ip_errors = churn.stop()
            live_pairs = (node.interface_count() - 3) // 2  # lo, lan0, lan0p
            logs = netlink_exporter.log_text() + file_exporter.log_text()

    assert sum(log.scrapes for log in scrapes) == SCRAPES
    for log in scrapes:
        assert log.statuses == {"200": log.scrapes}, log.failures
        assert log.unsuccessful == 0, _complaints(logs)
        assert len(set(log.interface_counts)) >= 10, "reads never saw the churn"
    assert plugin.runs == PLUGIN_RUNS
    assert plugin.exit_codes == {"0": PLUGIN_RUNS}, plugin.failures
    assert plugin.failures == []
    assert "Traceback" not in logs
    assert "level=error" not in logs and "level=warn" not in logs, logs
    # The churn really ran alongside, and stayed bounded.
    assert ip_errors == ""
    assert churn.operations >= 4 * CHURN_SLOTS
    assert live_pairs <= CHURN_SLOTS


def test_a_device_being_unregistered_is_skipped_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """net-sysfs answers -EINVAL for a device past NETREG_REGISTERED (dev_isalive()).

    Its conf dir can outlive that by moments (inetdev_destroy runs in the same unregister),
    so the churn test meets this only now and then; here it is every time.
    """
    tree = (
        FakeHost(1, 2, 1, 2)
        .loopback(f"{VIP}/32")
        .interface("eth0")
        .interface("eth1")
        .write(tmp_path)
    )
    going = str(tree.flags_file("eth1"))
    real_open: Callable[..., IO[Any]] = open

    def unregistering_open(path: str, *args: Any, **kwargs: Any) -> IO[Any]:
        if path == going:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL), path)
        return real_open(path, *args, **kwargs)

    # A module global shadows the builtin for the file reader alone.
    monkeypatch.setattr(file_reader, "open", unregistering_open, raising=False)
    # Live roots (what is_running_kernel() says of /proc and /sys): the device is skipped.
    state = file_reader.read_file_host(str(tree.proc_root), str(tree.sys_root), (), live=True)
    assert [interface.name for interface in state.interfaces] == ["eth0", "lo"]
    # An offline tree fails closed instead: a copy missing a file is not a vanished device.
    with pytest.raises(ReadError, match="eth1/flags"):
        tree.read()
