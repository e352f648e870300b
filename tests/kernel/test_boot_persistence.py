"""Sound now, lost on reboot: a real namespace configured by echo, then by a sysctl.d file.

The node is made sound the way many guides do it, by writing /proc/sys directly. The wire
shows it hides the VIP; check_lvs_arp must still warn, naming the value a reboot loses.
With the same values in a sysctl.d file under --sysctl-root it must say OK. Then the node
is "rebooted" (its knobs back to the kernel's 0) and systemd-sysctl applies the plugin's
own fix file, as boot would: the wire shows the VIP hidden again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .netns import BASELINE_CONFS, DEFAULT_VIP, NODE_IFACE, Address, NodeConfig, Sysctl, Topology

pytestmark = pytest.mark.kernel

ECHOED = (
    Sysctl("all", "arp_ignore", "1"),
    Sysctl("all", "arp_announce", "2"),
    Sysctl("default", "arp_ignore", "1"),
    Sysctl("default", "arp_announce", "2"),
)
FIX_FILE = "/etc/sysctl.d/90-lvs-realserver.conf"
SYSTEMD_SYSCTL = "/lib/systemd/systemd-sysctl"
OK, WARNING = 0, 1


def check_lvs_arp() -> str:
    path = os.path.join(os.path.dirname(sys.executable), "check_lvs_arp")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: install the project into this venv", pytrace=False)
    return path


def plugin(topology: Topology, sysctl_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [check_lvs_arp(), "--role", "realserver", "--vip", DEFAULT_VIP]
    return topology.run_in_node([*argv, f"--sysctl-root={sysctl_root}", *args])


def explain(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\nstdout:\n{done.stdout}stderr:\n{done.stderr}"


@pytest.fixture
def echoed_realserver(topology: Topology) -> Topology:
    """A real server made sound by writing /proc/sys only, and seen to be sound on the wire."""
    topology.apply(NodeConfig(sysctls=ECHOED, addresses=(Address(f"{DEFAULT_VIP}/32", "lo"),)))
    seen = topology.observe(DEFAULT_VIP)
    assert not seen.answers_vip and seen.announce_sender != DEFAULT_VIP, seen
    return topology


def empty_image(tmp_path: Path) -> Path:
    root = tmp_path / "image"
    (root / "etc/sysctl.d").mkdir(parents=True)
    return root


def test_values_set_by_echo_only_warn_naming_the_missing_persistence(
    echoed_realserver: Topology, tmp_path: Path
) -> None:
    done = plugin(echoed_realserver, empty_image(tmp_path), "-v")
    assert done.returncode == WARNING, explain(done)
    lines = done.stdout.splitlines()
    # conf/all's and conf/default's lost values are four causes: the worst, then the count.
    assert lines[0].startswith(
        f"LVS_ARP WARNING - on reboot {NODE_IFACE} answers ARP for VIP {DEFAULT_VIP}"
    ), explain(done)
    assert lines[0].endswith(" (+3 more)"), explain(done)
    assert (
        f"WARNING: on reboot {NODE_IFACE} answers ARP for VIP {DEFAULT_VIP} (all.arp_ignore=1 lost)"
    ) in lines, explain(done)
    assert any(
        "all.arp_ignore is 1 now but nothing in sysctl.d sets it" in line for line in lines
    ), explain(done)
    assert f"fix: write {FIX_FILE} with:" in lines, explain(done)


def test_the_same_values_in_a_sysctl_d_file_are_ok(
    echoed_realserver: Topology, tmp_path: Path
) -> None:
    root = empty_image(tmp_path)
    persisted = "".join(f"net.ipv4.conf.{s.conf}.{s.knob} = {s.value}\n" for s in ECHOED)
    (root / "etc/sysctl.d/90-lvs.conf").write_text(persisted)
    done = plugin(echoed_realserver, root)
    assert done.returncode == OK, explain(done)
    assert done.stdout.startswith("LVS_ARP OK - "), explain(done)


def test_the_printed_fix_file_brings_the_node_back_sound_after_a_reboot(
    echoed_realserver: Topology, tmp_path: Path
) -> None:
    root = empty_image(tmp_path)
    shown = plugin(echoed_realserver, root, "-v").stdout.splitlines()
    start = shown.index(f"fix: write {FIX_FILE} with:") + 1
    content = [line.removeprefix("    ") for line in shown[start:] if line.startswith("    ")]
    fix_file = root / FIX_FILE.lstrip("/")
    fix_file.write_text("\n".join(content) + "\n")

    # A reboot: every knob back to the kernel's 0; the node now answers for the VIP.
    for conf in BASELINE_CONFS:
        for knob in ("arp_ignore", "arp_announce"):
            echoed_realserver.write_sysctl(Sysctl(conf, knob, "0"))
    assert echoed_realserver.observe(DEFAULT_VIP).answers_vip
    # What boot does with the file: systemd-sysctl, in the node's namespace.
    echoed_realserver.exec_node([SYSTEMD_SYSCTL, str(fix_file)])

    assert not echoed_realserver.observe(DEFAULT_VIP).answers_vip
    done = plugin(echoed_realserver, root)
    assert done.returncode == OK, explain(done)
