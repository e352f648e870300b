"""Read-only, proven: whole plugin and exporter runs under an audit hook, and kernel snapshots.

audited.py runs the real entry points in-process under sys.addaudithook and reports any
open for writing, any file-system change and any process started; the only writes allowed
are the exporter's own --textfile (temp file, chmod, rename). A hook cannot see what goes
into a netlink socket, so live runs also compare the namespace's every conf value, link
and address before and after: nothing the check did changed the kernel either.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import bcrypt
from fake_host import FakeHost, FakeTree

from .node_netns import VIP, Node, sound_realserver
from .pki import make_pki, write_web_config
from .processes import running_exporter

AUDITED = str(Path(__file__).with_name("audited.py"))
# -B: Python's own .pyc writes are not the check's. -X frozen_modules=off is not needed.
PYTHON = [sys.executable, "-B", AUDITED]
_SUMMARY = re.compile(r"^AUDIT-SUMMARY (.*)$", re.MULTILINE)
PASSWORD = "read-only-proof"
SCRAPES = 5


@dataclass(frozen=True)
class Audit:
    counts: dict[str, int]
    violations: list[str]

    @classmethod
    def parse(cls, stderr: str) -> Audit:
        found = _SUMMARY.findall(stderr)
        assert len(found) == 1, f"no audit summary; the run died early?\n{stderr}"
        counts = {k: int(v) for k, v in (field.split("=") for field in found[0].split())}
        violations = [line for line in stderr.splitlines() if line.startswith("AUDIT-VIOLATION")]
        return cls(counts, violations)


def audited(kind: str, *args: str, node: Node | None = None) -> tuple[int, str, Audit]:
    argv = [*PYTHON, kind, *args]
    done = subprocess.run(
        node.argv(argv) if node else argv, capture_output=True, text=True, timeout=60, check=False
    )
    return done.returncode, done.stdout, Audit.parse(done.stderr)


def fake_director(root: Path) -> FakeTree:
    host = FakeHost(1, 2, 1, 2, virtual_services=(VIP,)).loopback()
    return host.interface("eth0", "192.0.2.2/24", f"{VIP}/32").write(root)


def files_under(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file below *root* with its mode and content: what a write would change."""
    return {
        str(path.relative_to(root)): (path.lstat().st_mode, path.read_bytes())
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def kernel_snapshot(node: Node) -> str:
    """The namespace's IPv4/IPv6 conf values, links and addresses, as text to compare."""
    sysctls = subprocess.run(
        node.argv(["sysctl", "-a", "-r", r"^net\.ipv[46]\.conf\."]),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    links = json.loads(node.ip("-d", "-j", "link", "show"))
    addresses = json.loads(node.ip("-j", "address", "show"))
    return sysctls + json.dumps(links, sort_keys=True) + json.dumps(addresses, sort_keys=True)


def test_the_hook_reports_a_write() -> None:
    """The negative control: without it a silent hook would pass every other test."""
    _, _, audit = audited("selftest")
    assert audit.violations and "'/dev/null', 'w'" in audit.violations[0]


def test_plugin_on_fake_trees_opens_nothing_for_writing(tmp_path: Path) -> None:
    tree = fake_director(tmp_path / "host")
    before = files_under(tmp_path)
    for role in ("director", "realserver"):
        args = ["-r", role, "-v", f"--vip={VIP}", *tree.plugin_args()]
        code, stdout, audit = audited("plugin", *args)
        assert code in (0, 1, 2), stdout
        assert audit.violations == []
        assert audit.counts["conf_reads"] >= 8  # all, default, lo, eth0 and their flags
    assert files_under(tmp_path) == before


def test_plugin_live_writes_no_file_and_changes_no_kernel_value(netns_support: None) -> None:
    with sound_realserver("audit-plugin", veth_pairs=3) as node:
        before = kernel_snapshot(node)
        code, stdout, audit = audited("plugin", "-r", "realserver", "-v", node=node)
        after = kernel_snapshot(node)
    # WARNING where this host's own sysctl.d would not restore the namespace's values.
    assert code in (0, 1), stdout
    assert audit.violations == []
    assert audit.counts["conf_reads"] >= 4  # conf/all and conf/default; links by netlink
    assert after == before


def test_exporter_textfile_writes_its_own_file_only(tmp_path: Path) -> None:
    tree = fake_director(tmp_path / "host")
    out = tmp_path / "textfiles"
    out.mkdir()
    before = files_under(tmp_path / "host")
    code, _, audit = audited(
        "exporter", "--role=director", *tree.plugin_args(), f"--textfile={out / 'lvs.prom'}"
    )
    assert code == 0
    assert audit.violations == []
    assert audit.counts["textfile_steps"] >= 4  # mkstemp, fdopen, fchmod, rename: all seen
    assert [p.name for p in out.iterdir()] == ["lvs.prom"]  # no temp file left behind
    assert files_under(tmp_path / "host") == before


def test_exporter_serving_tls_and_auth_writes_nothing(netns_support: None, tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    config = write_web_config(tmp_path / "web.yml", pki, {"prometheus": hashed})
    curl = ["curl", "--silent", "--show-error", "--fail", "--max-time", "10"]
    curl += ["--cacert", str(pki.ca_cert), "--cert", str(pki.client_cert)]
    curl += ["--key", str(pki.client_key), "--user", f"prometheus:{PASSWORD}"]
    with sound_realserver("audit-exporter", veth_pairs=3) as node:
        before = kernel_snapshot(node)
        argv = [*PYTHON, "exporter", "--role=realserver", f"--web.config.file={config}"]
        argv.append("--web.listen-address=127.0.0.1:0")
        # SIGINT: the exporter shuts down cleanly, so the hook's exit summary is written.
        with running_exporter(
            node.argv(argv), tmp_path / "exporter.log", stop_signal=signal.SIGINT
        ) as exporter:
            url = f"https://127.0.0.1:{exporter.port}/metrics"
            for _ in range(SCRAPES):
                body = subprocess.run(
                    node.argv([*curl, url]), capture_output=True, timeout=30, check=True
                ).stdout
                assert b"lvs_arp_scrape_success 1" in body
            time.sleep(0.2)  # let the last worker finish before the stop signal
        after = kernel_snapshot(node)
    audit = Audit.parse(exporter.log_text())
    assert audit.violations == []
    assert audit.counts["conf_reads"] >= 2 * SCRAPES
    assert after == before
