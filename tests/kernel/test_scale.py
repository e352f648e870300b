"""At the scale of a Kubernetes IPVS node, on a real kernel: one finding per cause, bounded output.

1,000 veth interfaces and 5,000 service IPs /32 on a NOARP interface (as kube-proxy's
kube-ipvs0 holds them), built with `ip -batch` in a namespace of our own. The dummy is not
named kube-ipvs0: on a kube-proxy node the check knows kube-proxy itself restores conf/all
at every start, and these tests are about values a reboot loses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from netns_commands import delete_namespaces, run
from prometheus_client.parser import text_string_to_metric_families

BIN = os.path.dirname(sys.executable)
PAIRS = 500  # 1,000 veth ends, plus the dummy's peer: 1,001 ARP interfaces
VIPS = 5000
ARP_INTERFACES = 2 * PAIRS + 1
NAGIOS_CORE_MAX = 8192
STATUS_LINE_MAX = 90


def _vip(n: int) -> str:
    return f"10.96.{n // 250}.{n % 250 + 1}"


@pytest.fixture(scope="module")
def big_node(netns_support: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name = f"lvsscale{os.getpid()}"
    run(["ip", "netns", "add", name])
    try:
        batch = [f"link add v{i} type veth peer name w{i}" for i in range(PAIRS)]
        batch += [f"link set v{i} up" for i in range(PAIRS)]
        batch += ["link add svc-dummy0 type veth peer name kpeer", "link set svc-dummy0 arp off"]
        batch += [f"addr add {_vip(n)}/32 dev svc-dummy0" for n in range(VIPS)]
        run(["ip", "-n", name, "-batch", "-"], stdin="\n".join(batch) + "\n", timeout_s=120)
        yield name
    finally:
        delete_namespaces([name])


def _set(node: str, ignore: int, announce: int) -> None:
    """Values set at run time only, as `echo` or kube-proxy's strictARP does."""
    for key, value in (("arp_ignore", ignore), ("arp_announce", announce)):
        run(["ip", "netns", "exec", node, "sysctl", "-qw", f"net.ipv4.conf.all.{key}={value}"])


def _in(node: str, *argv: str, root: Path) -> subprocess.CompletedProcess[str]:
    command = ["ip", "netns", "exec", node, os.path.join(BIN, argv[0]), *argv[1:]]
    command += ["--sysctl-root", str(root)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def empty_sysctl_root(tmp_path: Path) -> Path:
    (tmp_path / "etc" / "sysctl.d").mkdir(parents=True)
    return tmp_path


def test_sound_now_but_not_persisted_is_one_warning_per_setting(
    big_node: str, empty_sysctl_root: Path
) -> None:
    _set(big_node, 1, 2)
    plain = _in(big_node, "check_lvs_arp", "--role", "realserver", root=empty_sysctl_root)
    verbose = _in(big_node, "check_lvs_arp", "--role", "realserver", "-v", root=empty_sysctl_root)
    assert plain.returncode == 1, plain.stdout
    status, _, perfdata = plain.stdout.splitlines()[0].partition(" | ")
    assert status.startswith("LVS_ARP WARNING - on reboot")
    assert len(status) <= STATUS_LINE_MAX
    assert "(+1 more)" in status  # arp_ignore and arp_announce: two causes, no more
    assert f"arp_interfaces={ARP_INTERFACES};" in perfdata
    assert f"unsound_after_reboot={ARP_INTERFACES};" in perfdata
    assert f"vips={VIPS};" in perfdata
    assert "warning=2;" in perfdata
    assert len(plain.stdout.encode()) <= 1024  # NRPE v2 keeps 1 KB
    assert len(verbose.stdout.encode()) <= NAGIOS_CORE_MAX
    assert verbose.stdout.count("WARNING: on reboot") == 2

    report = _in(
        big_node, "lvs-arp-preflight", "--role", "realserver", "--json", root=empty_sysctl_root
    )
    document = json.loads(report.stdout)
    lost = [c for c in document["checks"] if c["cause"] == "lost_at_reboot"]
    assert sorted(c["setting"]["parameter"] for c in lost) == ["arp_announce", "arp_ignore"]
    for check in lost:
        assert check["setting"]["conf"] == "all"
        assert check["interface_count"] == len(check["interfaces"]) == ARP_INTERFACES
        assert check["vip_count"] == len(check["vips"]) == VIPS
        assert len(check["fix"]["settings"]) == 1
    # Linear: every list in the document together is within a small multiple of the host.
    listed = sum(len(c["interfaces"]) + len(c["vips"]) for c in document["checks"])
    assert listed <= 6 * (ARP_INTERFACES + VIPS)


def test_a_leak_through_conf_all_is_one_critical_finding(
    big_node: str, empty_sysctl_root: Path
) -> None:
    _set(big_node, 0, 2)
    report = _in(
        big_node,
        "lvs-arp-preflight",
        "--role",
        "realserver",
        "--json",
        "--no-boot-check",
        root=empty_sysctl_root,
    )
    document = json.loads(report.stdout)
    assert document["exit_code"] == 2
    leaks = [c for c in document["checks"] if c["status"] == "FAIL"]
    assert [c["cause"] for c in leaks] == ["reply_leak"]
    assert leaks[0]["interface_count"] == ARP_INTERFACES
    assert leaks[0]["vip_count"] == VIPS
    assert leaks[0]["fix"]["sysctl_lines"] == ["net.ipv4.conf.all.arp_ignore = 1"]
    plain = _in(big_node, "check_lvs_arp", "--role", "realserver", root=empty_sysctl_root)
    assert plain.returncode == 2
    assert plain.stdout.startswith("LVS_ARP CRITICAL - 1,001 interfaces answer ARP for 5,000 VIPs")


def test_the_exporter_stays_under_its_series_bound(
    big_node: str, empty_sysctl_root: Path, tmp_path: Path
) -> None:
    _set(big_node, 1, 2)
    out = tmp_path / "lvs_arp.prom"
    done = _in(
        big_node,
        "lvs-arp-exporter",
        "--role",
        "realserver",
        "--textfile",
        str(out),
        root=empty_sysctl_root,
    )
    assert done.returncode == 0, done.stderr
    families = list(text_string_to_metric_families(out.read_text()))
    series = sum(len(f.samples) for f in families)
    assert series <= 12_000
    vips = {
        s.labels["state"]: s.value for f in families if f.name == "lvs_arp_vips" for s in f.samples
    }
    assert vips == {"judged": VIPS, "present": VIPS, "misplaced": 0}
    assert not [f for f in families if f.name == "lvs_arp_vip_present"]  # past the limit
