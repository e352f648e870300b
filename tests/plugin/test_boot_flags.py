"""check_lvs_arp's boot check as a subprocess: --sysctl-root, --no-boot-check, the WARNING line."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_host import FakeHost

from .test_cli import CRITICAL, OK, ON_LINK, UNKNOWN, VIP, WARNING, PluginRun, run_plugin

FIX_FILE = "/etc/sysctl.d/90-lvs-realserver.conf"


def sound_now() -> FakeHost:
    return FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK)


def empty_root(tmp_path: Path) -> Path:
    root = tmp_path / "image"
    (root / "etc/sysctl.d").mkdir(parents=True)
    return root


def check(tmp_path: Path, host: FakeHost, *args: str) -> PluginRun:
    return run_plugin(*host.write(tmp_path / "tree").plugin_args(), "-r", "realserver", *args)


def test_values_set_by_echo_only_are_a_warning_naming_the_lost_value(tmp_path: Path) -> None:
    root = empty_root(tmp_path)
    result = check(tmp_path, sound_now(), f"--sysctl-root={root}")
    assert (result.returncode, result.stderr) == (WARNING, "")
    # Four lost entries (conf/all and conf/default, each knob): the evidence does not fit
    # beside the count, so the status line drops it and -v names each lost value.
    assert result.status_line == (
        f"LVS_ARP WARNING - on reboot eth0 answers ARP for VIP {VIP} (+3 more)"
    )
    verbose = check(tmp_path / "again", sound_now(), f"--sysctl-root={root}", "-v")
    assert verbose.stdout.splitlines()[1:5:3] == [
        f"WARNING: on reboot eth0 answers ARP for VIP {VIP} (all.arp_ignore=1 lost)",
        f"WARNING: on reboot eth0 announces VIP {VIP} (all.arp_announce=2 lost)",
    ]


def test_one_lost_entry_is_named_on_the_status_line(tmp_path: Path) -> None:
    host = sound_now()
    root = empty_root(tmp_path)
    (root / "etc/sysctl.d/90-lvs.conf").write_text(
        "net.ipv4.conf.all.arp_announce = 2\n"
        "net.ipv4.conf.default.arp_ignore = 1\n"
        "net.ipv4.conf.default.arp_announce = 2\n"
    )
    result = check(tmp_path, host, f"--sysctl-root={root}")
    assert (result.returncode, result.status_line) == (
        WARNING,
        f"LVS_ARP WARNING - on reboot eth0 answers ARP for VIP {VIP} (all.arp_ignore=1 lost)",
    )


def test_the_same_values_in_sysctl_d_are_ok(tmp_path: Path) -> None:
    host = sound_now()
    root = host.write_boot_config(empty_root(tmp_path), "90-lvs.conf")
    result = check(tmp_path, host, f"--sysctl-root={root}")
    assert (result.returncode, result.status_line) == (
        OK,
        f"LVS_ARP OK - 1 ARP interface hides VIP {VIP}",
    )


def test_verbose_says_which_line_is_missing_and_prints_the_whole_fix_file(
    tmp_path: Path,
) -> None:
    result = check(tmp_path, sound_now(), f"--sysctl-root={empty_root(tmp_path)}", "-v")
    lines = result.stdout.splitlines()
    assert "    all.arp_ignore is 1 now but nothing in sysctl.d sets it (boots as 0)." in lines
    assert "    fix: net.ipv4.conf.all.arp_ignore = 1" in lines
    start = lines.index(f"fix: write {FIX_FILE} with:")
    assert lines[start + 1].startswith("    # LVS-DR real server: ")
    assert lines[start + 3] == f"    # with: sysctl -p {FIX_FILE}"
    assert lines[start + 4 :] == [
        "    net.ipv4.conf.all.arp_ignore = 1",
        "    net.ipv4.conf.all.arp_announce = 2",
        "    net.ipv4.conf.default.arp_ignore = 1",
        "    net.ipv4.conf.default.arp_announce = 2",
        "| " + result.perfdata,
    ]


def test_a_running_problem_stays_critical_whatever_the_files_say(tmp_path: Path) -> None:
    host = FakeHost(0, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK)
    root = FakeHost(1, 2, 1, 2).write_boot_config(empty_root(tmp_path))
    result = check(tmp_path, host, f"--sysctl-root={root}")
    assert result.returncode == CRITICAL
    assert result.status_line.startswith(f"LVS_ARP CRITICAL - eth0 answers ARP for VIP {VIP}")


def test_no_boot_check_reads_no_boot_files(tmp_path: Path) -> None:
    absent = tmp_path / "absent"
    result = check(tmp_path, sound_now(), f"--sysctl-root={absent}", "--no-boot-check")
    assert (result.returncode, result.stderr) == (OK, "")


def test_a_sysctl_root_that_is_not_a_directory_is_unknown(tmp_path: Path) -> None:
    absent = tmp_path / "absent"
    result = check(tmp_path, sound_now(), f"--sysctl-root={absent}", "-v")
    assert (result.returncode, result.stderr) == (UNKNOWN, "")
    message = f"sysctl root '{absent}' is not a directory; give the image's top directory"
    # The status line stays within 90 characters; -v gives the whole message after it.
    assert f"LVS_ARP UNKNOWN - {message}".startswith(result.status_line.removesuffix("…"))
    assert result.stdout.splitlines()[1] == message


def test_a_malformed_arp_line_is_a_warning_with_file_and_line(tmp_path: Path) -> None:
    host = sound_now()
    root = host.write_boot_config(empty_root(tmp_path), "10-lvs.conf")
    (root / "etc/sysctl.d/90-broken.conf").write_text("\nnet.ipv4.conf.lo.arp_ignore: 1\n")
    result = check(tmp_path, host, f"--sysctl-root={root}", "-v")
    assert (result.returncode, "Traceback" in result.stdout + result.stderr) == (WARNING, False)
    assert result.status_line == (
        "LVS_ARP WARNING - boot config problem at /etc/sysctl.d/90-broken.conf:2"
    )
    assert (
        "    'net.ipv4.conf.lo.arp_ignore: 1' is not an assignment (no '='); systemd-sysctl "
        "logs a warning and skips the line"
    ) in result.stdout.splitlines()


LONG_NAMES = {
    "vlan-and-long-vip": (
        FakeHost(0, 2, 1, 2).loopback("192.168.100.100/32"),
        "bond0.1000",
        "192.168.100.10/24",
    ),
    "two-entries-lost": (FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32"), "enp129s0f1.4000", ON_LINK),
}


@pytest.mark.parametrize(("host", "name", "address"), LONG_NAMES.values(), ids=LONG_NAMES)
def test_the_after_reboot_status_line_stays_short(
    tmp_path: Path, host: FakeHost, name: str, address: str
) -> None:
    host.interface(name, address, ignore=1)
    result = check(tmp_path, host, f"--sysctl-root={empty_root(tmp_path)}")
    assert result.returncode == WARNING
    assert result.status_line.startswith("LVS_ARP WARNING - on reboot ")
    assert len(result.status_line) <= 90, result.status_line
