"""Hand-written pieces that start-up time keeps, each checked against the real thing.

- glob matching of sysctl.d keys against libc's fnmatch(3) (through ctypes, tests only);
- the sysctl.d file list against `systemd-analyze --root DIR cat-config sysctl.d`;
- the README's metric table against the families the exporter really exposes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fake_host import ETHER_DOWN, FakeHost
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from checks.assess import NodeCheck
from checks.boot.sysctl_d import SYSCTL_DIRS, list_conf_files
from checks.boot.view import glob_matches
from checks.model import Role
from exporter.collector import ArpCollector, build_registry
from exporter.exposition import text_format

REPO = Path(__file__).resolve().parent.parent
FNM_PERIOD = 1 << 2

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
_libc.fnmatch.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int)
_libc.fnmatch.restype = ctypes.c_int


def libc_fnmatch(pattern: str, name: str) -> bool:
    """glob(3) matches each path component with fnmatch(FNM_PERIOD), in the C locale."""
    return _libc.fnmatch(pattern.encode(), name.encode(), FNM_PERIOD) == 0


_PATTERN_PIECES = st.sampled_from(
    ["a", "b", "e", "t", "h", "0", "1", ".", "-", "_", "*", "?", "[", "]", "!", "^", "\\",
     "[:alpha:]", "[:digit:]", "[a-c]", "[!a]", "[]a]", ":"]
)  # fmt: skip
_NAME_CHARS = st.sampled_from(list("abeth01.-_[]!^\\:*?"))


@settings(max_examples=3000, deadline=None)
@given(
    pattern=st.lists(_PATTERN_PIECES, min_size=1, max_size=6).map("".join),
    name=st.lists(_NAME_CHARS, min_size=1, max_size=8).map("".join),
)
def test_one_key_component_matches_as_libc_fnmatch(pattern: str, name: str) -> None:
    assert glob_matches(pattern, name) == libc_fnmatch(pattern, name)


@pytest.mark.parametrize(
    ("pattern", "name"),
    [
        ("eth*", "eth0"),
        ("*", ".hidden"),
        (".*", ".hidden"),
        ("[!e]th0", "eth0"),
        ("e\\th0", "eth0"),
    ],
)
def test_known_component_cases_agree_with_libc(pattern: str, name: str) -> None:
    assert glob_matches(pattern, name) == libc_fnmatch(pattern, name)


# --- the sysctl.d file list -------------------------------------------------------------

_FILE_NAMES = st.sampled_from(["10-a.conf", "50-b.conf", "99-z.conf", "a.conf", "x.txt", "Z.conf"])
_LAYOUT = st.lists(
    st.tuples(
        st.sampled_from([d for d in SYSCTL_DIRS if d != "/lib/sysctl.d"]),
        _FILE_NAMES,
        st.sampled_from(["file", "mask", "link"]),
    ),
    max_size=10,
)


def _build(root: Path, layout: list[tuple[str, str, str]]) -> None:
    for directory, name, kind in layout:
        folder = root / directory.lstrip("/")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        if path.exists() or path.is_symlink():
            continue
        if kind == "mask":
            path.symlink_to("/dev/null")
        elif kind == "link":
            # A link inside the root, as Debian's 99-sysctl.conf -> ../sysctl.conf.
            (root / "etc").mkdir(exist_ok=True)
            (root / "etc" / "sysctl.conf").write_text("kernel.x = 1\n")
            path.symlink_to(
                "../sysctl.conf" if directory == "/etc/sysctl.d" else "/etc/sysctl.conf"
            )
        else:
            path.write_text("net.ipv4.conf.all.arp_ignore = 1\n")


def systemd_listing(root: Path) -> list[str]:
    tool = shutil.which("systemd-analyze")
    assert tool, "systemd-analyze is missing: .ci/run installs Debian's systemd"
    done = subprocess.run(
        [tool, f"--root={root}", "cat-config", "sysctl.d"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    prefix = f"# {root}"
    return [line[len(prefix) :] for line in done.stdout.splitlines() if line.startswith(prefix)]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(layout=_LAYOUT)
def test_the_file_list_is_systemds(tmp_path: Path, layout: list[tuple[str, str, str]]) -> None:
    root = Path(os.path.realpath(tmp_path)) / f"root{abs(hash(tuple(layout)))}"
    root.mkdir()
    _build(root, layout)
    files, _issues = list_conf_files(str(root))
    assert [f.path for f in files] == systemd_listing(root)


# --- the README's metric table -----------------------------------------------------------


PROBE_ONLY = "with `--probe-arp`"  # a row's meaning starts so: exposed only when probing


def _readme_metrics(probe_only: bool = False) -> set[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## The exporter", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `lvs_arp")]
    rows = [row for row in rows if row.split("|")[3].strip().startswith(PROBE_ONLY) is probe_only]
    return {name for row in rows for name in re.findall(r"`(lvs_arp_[a-z_]+)`", row.split("|")[1])}


def _exposed(tmp_path: Path) -> set[str]:
    host = FakeHost(all_ignore=1, all_announce=2).loopback("192.0.2.100/32")
    host.interface("eth0", "192.0.2.10/24").interface("eth1", flags=ETHER_DOWN)
    tree = host.write(tmp_path / "tree")
    boot = tmp_path / "image"
    (boot / "etc" / "sysctl.d").mkdir(parents=True)
    check = NodeCheck(
        Role.REALSERVER,
        proc_root=str(tree.proc_root),
        sys_root=str(tree.sys_root),
        ip_json=str(tree.ip_json),
        sysctl_root=str(boot),
    )
    text = text_format(build_registry(ArpCollector(check)).collect()).decode()
    names = set()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            names.add(sample.name)
    return {n for n in names if n.startswith("lvs_arp")}


def test_the_readme_lists_every_metric_the_exporter_exposes(tmp_path: Path) -> None:
    exposed = _exposed(tmp_path)
    documented = _readme_metrics()
    # The README names info metrics and counters as exposed: `_info` and `_total` included.
    assert documented == exposed


def test_the_readme_lists_the_probe_metrics_as_probe_only() -> None:
    """The rows marked PROBE_ONLY are what a probing exporter adds (its families built from
    probe findings here; tests/kernel/test_probe_faces.py scrapes them off a real wire)."""
    from ipaddress import IPv4Address

    from checks.assess import Assessment
    from checks.judge.probe import judge_probe, probe_finding
    from checks.model import ArpKnobs, HostState
    from checks.read.arp_probe import ProbeResult, Responder
    from exporter.families import probe_families

    vip = IPv4Address("192.0.2.100")
    heard = (Responder("02:00:00:00:00:11", False, (IPv4Address("192.0.2.11"),), True),)
    verdict = judge_probe(
        Role.DIRECTOR, vip, True, False, [ProbeResult(vip, "lan0", heard, 0.3, 2, 1)]
    )
    host = HostState(ArpKnobs(0, 0), ArpKnobs(0, 0), (), ())
    judged = Assessment(Role.DIRECTOR, (vip,), host, (), (probe_finding(verdict),))
    text = text_format(probe_families(judged)).decode()
    exposed = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
    assert _readme_metrics(probe_only=True) == exposed
