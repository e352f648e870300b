"""Debian's node_exporter reads what `lvs-arp-exporter --textfile` writes, without an error."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from daemon_processes import (
    exporter_command,
    free_port,
    http_get,
    require_binary,
    running,
    wait_for,
)
from fake_host import FakeHost, FakeTree
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.daemons

VIP = "192.0.2.100"
# The file label the LvsArpTextfileStale rule selects on.
STALE_RULE_FILE = re.compile(r"(.*/)?lvs_arp\.prom")


def write_textfile(tree: FakeTree, target: Path) -> None:
    command = [exporter_command(), "--role=realserver", *tree.plugin_args(), f"--textfile={target}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


def samples(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return found


def test_node_exporter_serves_the_textfile_without_a_scrape_error(tmp_path: Path) -> None:
    node_exporter = require_binary("prometheus-node-exporter", "prometheus-node-exporter")
    host = FakeHost().loopback(f"{VIP}/32").interface("eth0", "192.0.2.10/24")
    textfiles = tmp_path / "textfiles"
    textfiles.mkdir()
    target = textfiles / "lvs_arp.prom"
    write_textfile(host.write(tmp_path / "leaking"), target)

    port = free_port()
    argv = [
        node_exporter,
        f"--web.listen-address=127.0.0.1:{port}",
        "--collector.disable-defaults",
        "--collector.textfile",
        f"--collector.textfile.directory={textfiles}",
    ]
    url = f"http://127.0.0.1:{port}/metrics"
    lan_ignore = (("interface", "eth0"), ("parameter", "arp_ignore"))
    with running(argv, tmp_path / "node_exporter.log") as daemon:

        def scrape() -> dict[str, dict[tuple[tuple[str, str], ...], float]] | None:
            try:
                return samples(http_get(url).decode())
            except OSError:
                return None

        found = wait_for("node_exporter scrape", scrape, daemon, timeout_s=20)
        assert found["node_textfile_scrape_error"] == {(): 0}
        assert found["lvs_arp_misconfigured"][lan_ignore] == 1
        assert found["lvs_arp_scrape_success"] == {(): 1}
        [mtime_labels] = found["node_textfile_mtime_seconds"]
        assert STALE_RULE_FILE.fullmatch(dict(mtime_labels)["file"])

        # The timer's next run, after the node was fixed, replaces the file in place.
        host.all_ignore, host.all_announce = 1, 2
        write_textfile(host.write(tmp_path / "fixed"), target)
        found = wait_for("node_exporter rescrape", scrape, daemon, timeout_s=20)
        assert found["lvs_arp_misconfigured"][lan_ignore] == 0
        assert found["node_textfile_scrape_error"] == {(): 0}
    assert "lvs_arp" not in daemon.log_text(), "node_exporter complained about our file"
