"""Hostile input, round 2: each test is a fault seen from outside, kept fixed.

Offline trees, saved `ip -json address` output and option values a new user or a copied
host can hand the faces; each test names the promise it holds the face to.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fake_host import FakeHost

PLUGIN = os.path.join(os.path.dirname(sys.executable), "check_lvs_arp")
VIP = "10.0.0.100"
UNKNOWN = 3


def run_plugin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PLUGIN, *args], capture_output=True, text=True, timeout=60, check=False)


def status_line(stdout: str) -> str:
    return stdout.splitlines()[0].split(" | ")[0]


# -- the status line of an error is one line of at most 90 characters ---------------------


def test_a_long_read_error_keeps_the_status_line_within_90_characters(tmp_path: Path) -> None:
    tree = FakeHost().loopback(f"{VIP}/32").interface("eth0", "10.0.0.10/24").write(tmp_path)
    tree.conf_file("eth0", "arp_ignore").write_text("")  # empty: not an integer
    done = run_plugin("-r", "realserver", *tree.plugin_args(), "--no-boot-check", "-v")
    assert done.returncode == UNKNOWN
    line = status_line(done.stdout)
    assert line.startswith("LVS_ARP UNKNOWN - ")
    assert len(line) <= 90, line
    # The whole message, with the path that was cut, follows with -v.
    assert str(tree.conf_file("eth0", "arp_ignore")) in done.stdout.splitlines()[1]


def test_a_name_with_a_line_break_in_a_read_error_does_not_split_the_status_line(
    tmp_path: Path,
) -> None:
    tree = FakeHost().loopback(f"{VIP}/32").interface("eth0", "10.0.0.10/24").write(tmp_path)
    odd = tree.proc_root / "sys/net/ipv4/conf/nl\nx"
    odd.mkdir()
    (odd / "arp_ignore").write_text("0\n")
    (odd / "arp_announce").write_text("0\n")  # no flags file under --sys-root: a ReadError
    done = run_plugin("-r", "realserver", *tree.plugin_args(), "--no-boot-check", "-v")
    assert done.returncode == UNKNOWN
    first, whole = done.stdout.splitlines()[:2]
    assert first.startswith("LVS_ARP UNKNOWN - ")
    assert len(first) <= 90, first
    assert whole.startswith(str(tree.sys_root)), whole  # the message is one line
    assert "/nl\\x0ax/flags does not exist" in whole


def test_a_long_argument_error_keeps_the_status_line_within_90_characters() -> None:
    done = run_plugin("-r", "realserver", "--vip", "010.0.0.1")
    assert done.returncode == UNKNOWN
    lines = done.stdout.splitlines()
    assert lines[0].startswith("LVS_ARP UNKNOWN - --vip '010.0.0.1'")
    assert len(lines[0]) <= 90, lines[0]
    assert lines[1].startswith("usage: check_lvs_arp")
    assert "Leading zeros" in lines[-1]  # the whole message, after the usage


# -- a saved `ip -json address` of a host with a name that is not UTF-8 ---------------------


def test_ip_json_with_a_name_that_is_not_utf8_is_read_as_the_netlink_reader_reads_it(
    tmp_path: Path,
) -> None:
    """iproute2 writes interface names as their raw bytes (iproute2's jsonw escapes only '"',
    '\\\\' and control characters), so `ip -json address` on a host with such a name is not
    UTF-8; the offline check must still read it, names as surrogate escapes."""
    from checks.read.ip_json import read_ip_json

    saved = tmp_path / "ip.json"
    saved.write_bytes(
        b'[{"ifindex":1,"ifname":"lo","addr_info":[{"family":"inet","local":"10.0.0.100",'
        b'"prefixlen":32,"scope":"host"}]},{"ifindex":2,"ifname":"\xff\xfeab","addr_info":'
        b'[{"family":"inet","local":"192.0.2.9","prefixlen":24,"scope":"global"}]}]'
    )
    addresses = read_ip_json(str(saved))
    assert [a.interface for a in addresses] == ["lo", "\udcff\udcfeab"]
    assert os.fsencode(addresses[1].interface) == b"\xff\xfeab"


# -- a fix command pasted into a shell names exactly the interface, and runs nothing else ----

ODD_NAMES = ["a;touch pwned", "$(touch pwned)", "x=y'2\"", "`touch pwned`", "\udcff\udcfeab", "p|q"]


def _argv_in_bash(command: str, cwd: Path) -> list[bytes]:
    """The argv bash gives `ip` for *command*, with `ip` a function that prints it."""
    script = 'ip() { printf "%s\\0" "$@"; }\n' + command + "\n"
    done = subprocess.run(["bash", "-c", script], capture_output=True, cwd=cwd, check=True)
    return done.stdout.split(b"\0")[:-1]


def test_placement_commands_quote_interface_names_for_the_shell(tmp_path: Path) -> None:
    from ipaddress import IPv4Address, IPv4Interface

    from checks.judge.remedy import move_vips_to_lo, narrow_vips
    from checks.model import Address

    for name in ODD_NAMES:
        held = Address(name, IPv4Interface(f"{VIP}/24").ip, 24, 0)
        commands = move_vips_to_lo([IPv4Address(VIP)], [held]).commands
        commands += narrow_vips([held]).commands
        for command in commands:
            if "dev lo" in command:
                continue
            argv = _argv_in_bash(command, tmp_path)
            assert argv[argv.index(b"dev") + 1] == os.fsencode(name), (command, argv)
        assert not (tmp_path / "pwned").exists()


def test_the_plugin_prints_a_quoted_fix_for_a_vip_on_an_odd_interface(tmp_path: Path) -> None:
    name = "a;touch pwned"
    host = FakeHost(1, 2, 1, 2).loopback().interface(name, f"{VIP}/32", "10.0.0.10/24")
    done = run_plugin("-r", "realserver", *host.write(tmp_path).plugin_args(), "--vip", VIP, "-v")
    assert f"ip addr del {VIP}/32 dev 'a;touch pwned'" in done.stdout, done.stdout


# -- every document lvs-arp-preflight --json prints follows its own --schema ----------------

PREFLIGHT = os.path.join(os.path.dirname(sys.executable), "lvs-arp-preflight")


def _preflight_document(*args: str) -> dict[str, object]:
    import json

    import jsonschema

    schema = json.loads(
        subprocess.run([PREFLIGHT, "--schema"], capture_output=True, check=True).stdout
    )
    done = subprocess.run([PREFLIGHT, "--json", *args], capture_output=True, check=False)
    found: dict[str, object] = json.loads(done.stdout)
    jsonschema.validate(found, schema, cls=jsonschema.Draft202012Validator)
    return found


def _causes(found: dict[str, object]) -> set[str]:
    checks = found["checks"]
    assert isinstance(checks, list)
    return {c["cause"] for c in checks}


def test_preflight_json_for_role_both_follows_the_schema(tmp_path: Path) -> None:
    host = FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", "10.0.0.10/24")
    found = _preflight_document("-r", "both", "--vip", VIP, *host.write(tmp_path).plugin_args())
    assert found["role"] == "both"


def test_preflight_json_with_a_no_effect_note_follows_the_schema(tmp_path: Path) -> None:
    host = FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32", ignore=1).interface("eth0", "10.0.0.10/24")
    found = _preflight_document("-r", "realserver", *host.write(tmp_path).plugin_args())
    assert "no_effect" in _causes(found)


def test_preflight_json_of_a_vip_answered_by_interfaces_with_different_values(
    tmp_path: Path,
) -> None:
    """Director, VIP only on lo, answered by two interfaces whose own arp_ignore differ
    (0, and the reserved 4 that behaves as 0): the setting has no single value."""
    host = (
        FakeHost()
        .loopback(f"{VIP}/32")
        .interface("eth0", "10.0.0.10/24")
        .interface("eth1", "10.0.1.10/24", ignore=4)
    )
    args = ("-r", "director", "--vip", VIP, "--no-boot-check", *host.write(tmp_path).plugin_args())
    found = _preflight_document(*args)
    assert "vip_answered_by_accident" in _causes(found)


def test_the_schema_knows_every_cause_and_every_fix_file() -> None:
    import json

    from checks.finding import Cause
    from checks.judge.remedy import SYSCTL_FILES

    done = subprocess.run([PREFLIGHT, "--schema"], capture_output=True, check=True)
    schema = json.loads(done.stdout)
    check = schema["$defs"]["check"]["properties"]
    assert set(check["cause"]["enum"]) == {c.value for c in Cause}
    assert set(check["consequences"]["items"]["enum"]) == {c.value for c in Cause}
    path = schema["properties"]["sysctl_file"]["oneOf"][1]["properties"]["path"]
    assert set(path["enum"]) == set(SYSCTL_FILES.values())


# -- a huge sysctl.d file costs a bounded read, and is UNKNOWN, never an out-of-memory kill --


def test_a_sysctl_d_file_past_the_cap_is_unknown_naming_it(tmp_path: Path) -> None:
    from checks.boot import sysctl_d
    from checks.boot.view import read_boot_view

    huge = tmp_path / "etc/sysctl.d/50-huge.conf"
    huge.parent.mkdir(parents=True)
    line = b"net.ipv4.conf.eth0.arp_ignore = 1\n"
    with open(huge, "wb") as handle:  # short lines: each would become a record
        handle.write(line * (sysctl_d.CONF_FILE_CAP // len(line) + 1))
    issues = read_boot_view(["eth0"], str(tmp_path)).issues
    assert [(i.path, i.kind) for i in issues] == [("/etc/sysctl.d/50-huge.conf", "too_large")]
    assert "larger than 16 MiB" in issues[0].message

    host = FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", "10.0.0.10/24")
    tree = host.write(tmp_path / "host")
    done = run_plugin("-r", "realserver", *tree.plugin_args(), f"--sysctl-root={tmp_path}")
    assert done.returncode == UNKNOWN, done.stdout
    assert status_line(done.stdout).startswith(
        "LVS_ARP UNKNOWN - /etc/sysctl.d/50-huge.conf is too large to judge"
    )


# -- two interfaces never share a label set in the exporter's output -------------------------


def test_a_name_spelling_another_names_escape_gets_its_own_series(tmp_path: Path) -> None:
    """The kernel allows both the byte 0xff and a backslash in a name: the interface b'\\xffQ'
    and the one named with the four characters `\\xffQ` must stay two series."""
    from checks.assess import NodeCheck
    from checks.model import Role
    from exporter.collector import ArpCollector, build_registry
    from exporter.exposition import text_format

    byte_name, text_name = os.fsdecode(b"\xffQ"), "\\xffQ"
    host = FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32")
    host.interface(byte_name, "10.0.0.10/24").interface(text_name, "10.0.1.10/24")
    tree = host.write(tmp_path)
    check = NodeCheck(
        Role.REALSERVER,
        proc_root=str(tree.proc_root),
        sys_root=str(tree.sys_root),
        ip_json=str(tree.ip_json),
    )
    body = text_format(build_registry(ArpCollector(check), process=False).collect())
    series = [line for line in body.decode().splitlines() if line and not line.startswith("#")]
    keys = [line.rsplit(" ", 1)[0] for line in series]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    assert 'lvs_arp_sysctl_raw_value{interface="\\\\xffQ",parameter="arp_ignore"}' in keys
    assert 'lvs_arp_sysctl_raw_value{interface="\\\\\\\\xffQ",parameter="arp_ignore"}' in keys


# -- '|' in an interface name: never dropped from the plugin's output ------------------------


def test_a_pipe_in_a_name_is_shown_not_dropped_and_adds_no_warning_lines(tmp_path: Path) -> None:
    """nagiosplugin drops '|' from the status line, long output and perfdata labels (so
    interface `p|q` printed as `pq`, the label of an interface `pq`) and adds a warning line
    each time. The plugin shows it as \\x7c, as it shows other bytes it cannot print."""
    host = FakeHost(0, 0, 1, 2).loopback(f"{VIP}/32").interface("p|q", "10.0.0.10/24")
    host.interface("pq", "10.0.1.10/24", ignore=1, announce=2)
    args = ("-r", "realserver", *host.write(tmp_path).plugin_args(), "--no-boot-check")
    done = run_plugin(*args, "--perfdata-interfaces", "p")
    assert "warning:" not in done.stdout + done.stderr, done.stdout
    assert "p\\x7cq_arp_ignore=0 " in done.stdout and "pq_arp_ignore=1 " in done.stdout
    verbose = run_plugin(*args, "-v").stdout
    assert "warning:" not in verbose, verbose
    assert "p\\x7cq" in verbose
    assert verbose.count("|") == 1  # the perfdata separator alone


# -- the reboot view costs interfaces + VIPs, never their product ----------------------------


def _vip_hashes_of_a_check(tmp_path: Path, interfaces: int, vips: int) -> int:
    """IPv4Address hashes one judged run takes: a real server sound now only by its
    interfaces' own values, which an empty sysctl.d would lose: one cause names every
    interface and every VIP."""
    import ipaddress

    from checks.assess import NodeCheck
    from checks.model import Role

    host = FakeHost(0, 0, 1, 2).loopback(
        *(f"10.1.{n // 250}.{n % 250 + 1}/32" for n in range(vips))
    )
    for n in range(interfaces):  # each interface's own entry hides the VIPs, until a reboot
        host.interface(f"eth{n}", f"172.16.{n // 250}.{n % 250 + 1}/24", ignore=1, announce=2)
    tree = host.write(tmp_path / f"{interfaces}-{vips}")
    boot = tmp_path / f"boot-{interfaces}-{vips}"
    (boot / "etc/sysctl.d").mkdir(parents=True)
    check = NodeCheck(
        Role.REALSERVER,
        proc_root=str(tree.proc_root),
        sys_root=str(tree.sys_root),
        ip_json=str(tree.ip_json),
        sysctl_root=str(boot),
    )
    calls = 0
    original = ipaddress.IPv4Address.__hash__

    def counted(self: ipaddress.IPv4Address) -> int:
        nonlocal calls
        calls += 1
        return original(self)

    ipaddress.IPv4Address.__hash__ = counted  # type: ignore[method-assign]
    try:
        assessment = check.assess()
    finally:
        ipaddress.IPv4Address.__hash__ = original  # type: ignore[method-assign]
    lost = [f for f in assessment.findings if f.cause.value == "lost_at_reboot"]
    assert lost and max(len(f.vips) for f in lost) == vips
    return calls


def test_the_reboot_view_hashes_vips_in_proportion_to_interfaces_plus_vips(
    tmp_path: Path,
) -> None:
    small = _vip_hashes_of_a_check(tmp_path, 40, 60)
    large = _vip_hashes_of_a_check(tmp_path, 160, 240)  # 4x each: the product is 16x
    assert large < 6 * small, (small, large)


# -- a probe window the run accepts leaves it time to read and judge the host ----------------


def test_a_window_that_leaves_no_time_to_judge_is_refused_at_start(tmp_path: Path) -> None:
    """--probe-window 9.99 with -t 10 was taken, then every run timed out (UNKNOWN), and an
    exporter with 4.99 s in a 5 s scrape timeout never scraped successfully."""
    from exporter import cli as exporter_cli

    done = run_plugin("-r", "director", "--vip", VIP, "--probe-arp", "--probe-window", "9.99")
    assert done.returncode == UNKNOWN
    assert "does not fit in -t 10" in done.stdout.splitlines()[0]
    base = ["--role", "director", "--probe-arp", "--textfile", str(tmp_path / "x.prom")]
    assert exporter_cli.run([*base, "--probe-window", "4.99", "--scrape.timeout", "5s"]) == 1
    assert not (tmp_path / "x.prom").exists()


# -- --textfile never replaces what is not a regular file ------------------------------------


def test_the_textfile_is_never_renamed_over_a_device_fifo_or_link(tmp_path: Path) -> None:
    """`--textfile /dev/full` replaced the host's /dev/full with a regular file (rename
    replaces any name). A FIFO and a symbolic link stand in for the device here."""
    from exporter import cli as exporter_cli

    fifo, link, target = tmp_path / "fifo.prom", tmp_path / "link.prom", tmp_path / "t"
    os.mkfifo(fifo)
    target.write_text("kept\n")
    link.symlink_to(target)
    tree = FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32").write(tmp_path / "host")
    for path in (fifo, link):
        args = ["--role", "realserver", *tree.plugin_args(), "--textfile", str(path)]
        assert exporter_cli.run(args) == 1
    assert fifo.is_fifo() and link.is_symlink() and target.read_text() == "kept\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo.prom", "host", "link.prom", "t"]


def test_a_listen_port_out_of_range_is_named_as_such() -> None:
    """'127.0.0.1:99999' was refused as if it had no port at all."""
    import pytest

    from exporter.http_server import ListenAddress, ServeError

    with pytest.raises(ServeError, match="needs a port from 0 to 65535"):
        ListenAddress.parse("127.0.0.1:99999")
