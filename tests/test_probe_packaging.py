"""What ships for the probe's privileges: the sudoers rule, its NRPE commands, the systemd drop-in.

Checked by the real tools (`visudo -cf`, `systemd-analyze verify` and `security` on a root
holding the exporter unit and the drop-in); a missing tool fails, naming its Debian package.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROBE = REPO / "packaging/probe"
SUDOERS = PROBE / "sudoers.d/lvs-arp-check"
NRPE = PROBE / "nrpe_lvs_arp_probe.cfg"
DROP_IN = PROBE / "lvs-arp-exporter-probe.conf"
EXPORTER_UNIT = REPO / "packaging/systemd/lvs-arp-exporter.service"
HOST_UNIT_DIRS = (Path("/lib/systemd/system"), Path("/usr/lib/systemd/system"))
PLUGIN = "/usr/lib/nagios/plugins/check_lvs_arp"


def tool(name: str, package: str) -> str:
    path = shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if path is None:
        pytest.fail(f"{name} missing: apt-get install {package} (CI installs it)", pytrace=False)
    return path


def run(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False, env=env)


def sudo_commands() -> list[str]:
    """The Cmnd_Alias's command lines, continuation lines joined."""
    text = SUDOERS.read_text(encoding="utf-8").replace("\\\n", " ")
    (alias,) = re.findall(r"^Cmnd_Alias LVS_ARP_PROBE = (.*)$", text, re.M)
    return [" ".join(command.split()) for command in alias.split(",")]


def test_visudo_accepts_the_sudoers_snippet() -> None:
    checked = run([tool("visudo", "sudo"), "-cf", str(SUDOERS)])
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_sudo_rule_allows_only_the_probe_command_lines_for_nagios() -> None:
    text = SUDOERS.read_text(encoding="utf-8")
    assert re.search(r"^nagios ALL = \(root\) NOPASSWD: LVS_ARP_PROBE$", text, re.M)
    commands = sudo_commands()
    assert commands and all(c.startswith(f"{PLUGIN} --role ") for c in commands)
    assert all("--probe-arp" in c.split() for c in commands)
    # No wildcard: sudo would match any arguments in its place.
    assert not any(ch in c for c in commands for ch in "*?[")


def test_every_nrpe_probe_command_is_one_the_sudo_rule_allows() -> None:
    lines = re.findall(r"^command\[(\w+)\]=(.*)$", NRPE.read_text(encoding="utf-8"), re.M)
    assert len(lines) == 3
    allowed = set(sudo_commands())
    for name, command in lines:
        assert command.startswith("/usr/bin/sudo -n "), name
        assert command.removeprefix("/usr/bin/sudo -n ") in allowed, name
    assert {c for _, c in lines} == {f"/usr/bin/sudo -n {c}" for c in allowed}


@pytest.fixture
def unit_root(tmp_path: Path) -> Path:
    """A root with the exporter unit, the drop-in where an admin puts it, the host's units
    (verify follows dependencies) and a stand-in for the exporter's executable."""
    root = tmp_path / "root"
    units = root / "lib/systemd/system"
    units.mkdir(parents=True)
    for host_dir in HOST_UNIT_DIRS:
        for unit in host_dir.glob("*"):
            if unit.is_file() and not (units / unit.name).exists():
                shutil.copy2(unit, units / unit.name, follow_symlinks=False)
    shutil.copy(EXPORTER_UNIT, units / EXPORTER_UNIT.name)
    drop_ins = root / "etc/systemd/system/lvs-arp-exporter.service.d"
    drop_ins.mkdir(parents=True)
    shutil.copy(DROP_IN, drop_ins / "probe.conf")
    executable = root / "usr/bin/lvs-arp-exporter"
    executable.parent.mkdir(parents=True)
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    # verify runs `man` for the unit's man: Documentation= link: the page the package ships.
    man1 = root / "usr/share/man/man1"
    man1.mkdir(parents=True)
    shutil.copy(REPO / "packaging/man/lvs-arp-exporter.1", man1)
    return root


def test_systemd_analyze_verifies_the_unit_with_the_drop_in(unit_root: Path) -> None:
    analyze = tool("systemd-analyze", "systemd")
    env = {**os.environ, "MANPATH": str(unit_root / "usr/share/man")}
    verified = run([analyze, "verify", f"--root={unit_root}", "lvs-arp-exporter.service"], env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout + verified.stderr == ""  # unknown keys are only warnings


def test_the_drop_in_grants_net_raw_and_packet_sockets_and_nothing_more(unit_root: Path) -> None:
    """systemd's own reading of the merged unit: ambient capabilities now, packet sockets
    allowed, and still no CAP_NET_ADMIN or CAP_SYS_ADMIN in the bounding set."""
    analyze = tool("systemd-analyze", "systemd")
    argv = [analyze, "security", "--offline=true", f"--root={unit_root}", "--no-pager"]
    judged = run([*argv, "lvs-arp-exporter.service"])
    report = judged.stdout
    assert "Service may allocate packet sockets" in report, report
    assert "Service process receives ambient capabilities" in report, report
    assert "Service has no network configuration privileges" in report, report
    assert "Service has no administrator privileges" in report, report
    text = DROP_IN.read_text(encoding="utf-8")
    for line in (
        "CapabilityBoundingSet=CAP_NET_RAW",
        "AmbientCapabilities=CAP_NET_RAW",
        "PrivateUsers=no",
        "RestrictAddressFamilies=AF_PACKET",
    ):
        assert re.search(rf"^{re.escape(line)}$", text, re.M), line


def test_both_packages_ship_the_probe_files_as_examples() -> None:
    """Debian's dh_installexamples reads the .examples list; the RPM copies each directory
    its %install loop names into the doc directory's examples/ (%{pkgdocdir} in %files)."""
    examples = (REPO / "packaging/debian/lvs-arp-check.examples").read_text(encoding="utf-8")
    assert "packaging/probe" in examples.split()
    spec = (REPO / "packaging/rpm/lvs-arp-check.spec.in").read_text(encoding="utf-8")
    (loop,) = re.findall(r"^for dir in (.*); do$", spec, re.M)
    assert "probe" in loop.split()
    assert re.search(
        r"^\s+cp -pr packaging/\$dir %\{buildroot\}%\{pkgdocdir\}/examples/\$dir$", spec, re.M
    )
    assert re.search(r"^%\{pkgdocdir\}$", spec, re.M)
