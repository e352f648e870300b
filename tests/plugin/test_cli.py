"""check_lvs_arp as a subprocess on fake trees: exit code, status line, perfdata, long output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_host import FakeHost, FakeTree

import checks

PLUGIN = os.path.join(os.path.dirname(sys.executable), "check_lvs_arp")
VIP = "10.0.0.100"
ON_LINK = "10.0.0.10/24"
OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3

# Nagios plugin guidelines: 'label'=value[UOM];[warn];[crit];[min];[max], space-separated.
_LABEL = r"(?:'(?:[^']|'')+'|[^'= ]+)"
_NUMBER = r"-?\d+(?:\.\d+)?"
_RANGE = rf"@?(?:(?:{_NUMBER}|~)?:)?(?:{_NUMBER})?"
_UOM = r"(?:s|ms|us|%|B|KB|MB|GB|TB|c)?"
_METRIC = (
    rf"{_LABEL}={_NUMBER}{_UOM}(?:;{_RANGE}(?:;{_RANGE}(?:;(?:{_NUMBER})?(?:;(?:{_NUMBER})?)?)?)?)?"
)
PERFDATA = re.compile(rf"{_METRIC}(?: {_METRIC})*")


@dataclass(frozen=True)
class PluginRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def status_line(self) -> str:
        return self.stdout.splitlines()[0].split(" | ")[0]

    @property
    def perfdata(self) -> str:
        """Perfdata of the first line, or of the trailing `| ...` line after long output."""
        return self.stdout.rstrip("\n").rsplit("| ", 1)[1]


def run_plugin(*args: str, env: dict[str, str] | None = None) -> PluginRun:
    done = subprocess.run(
        [PLUGIN, *args], capture_output=True, text=True, timeout=60, env=env, check=False
    )
    return PluginRun(done.returncode, done.stdout, done.stderr)


def check(tmp_path: Path, host: FakeHost, *args: str) -> PluginRun:
    """The running view of *host*, with a boot configuration that persists all of it."""
    return run_plugin(*host.write(tmp_path).plugin_args(), *persisted(tmp_path, host), *args)


def persisted(tmp_path: Path, host: FakeHost) -> list[str]:
    return [f"--sysctl-root={host.write_boot_config(tmp_path / 'boot')}"]


def realserver(ignore: int = 1, announce: int = 2, default: tuple[int, int] = (1, 2)) -> FakeHost:
    host = FakeHost(ignore, announce, *default).loopback(f"{VIP}/32")
    return host.interface("eth0", ON_LINK)


def director(ignore: int = 0, vip: bool = True) -> FakeHost:
    host = FakeHost(ignore, 0, ignore, 0, virtual_services=(VIP,)).loopback()
    return host.interface("eth0", "10.0.0.2/24", *([f"{VIP}/32"] if vip else []))


STATES = {
    "realserver-ok": (
        realserver(),
        ["-r", "realserver"],
        OK,
        f"LVS_ARP OK - 1 ARP interface hides VIP {VIP}",
    ),
    "realserver-critical": (
        realserver(ignore=0),
        ["--role=realserver"],
        CRITICAL,
        f"LVS_ARP CRITICAL - eth0 answers ARP for VIP {VIP} (all.arp_ignore=0)",
    ),
    # Two causes: conf/default's arp_ignore and arp_announce; the first, then the count.
    "realserver-warning-new-interface": (
        FakeHost(0, 0, 0, 0).loopback(f"{VIP}/32").interface("eth0", ON_LINK, ignore=1, announce=2),
        ["-r", "realserver"],
        WARNING,
        "LVS_ARP WARNING - new interfaces would answer ARP for VIPs (+1 more)",
    ),
    "realserver-unknown-no-vip": (
        FakeHost(1, 2, 1, 2).loopback().interface("eth0", ON_LINK),
        ["-r", "realserver"],
        UNKNOWN,
        "LVS_ARP UNKNOWN - no VIP given and none found on lo or a NOARP interface; pass --vip",
    ),
    "realserver-vip-absent": (
        FakeHost(1, 2, 1, 2).loopback().interface("eth0", ON_LINK),
        ["-r", "realserver", f"--vip={VIP}"],
        CRITICAL,
        f"LVS_ARP CRITICAL - VIP {VIP} not configured on this real server",
    ),
    "director-ok": (director(), ["-r", "director"], OK, f"LVS_ARP OK - VIP {VIP} answered by ARP"),
    "director-info-is-ok": (
        director(ignore=1),
        ["-r", "director"],
        OK,
        f"LVS_ARP OK - VIP {VIP} answered by ARP",
    ),
    "director-critical": (
        director(ignore=8),
        ["-r", "director"],
        CRITICAL,
        # all=8: the VIP unanswered, eth0 silent, and interfaces created later silent too.
        f"LVS_ARP CRITICAL - eth0 answers no ARP for VIP {VIP} (all.arp_ignore=8) (+2 more)",
    ),
    "director-standby-warning": (
        director(vip=False),
        ["-r", "director"],
        WARNING,
        f"LVS_ARP WARNING - VIP {VIP} not held here (standby director?)",
    ),
    "director-standby-ok": (
        director(vip=False),
        ["-r", "director", "--standby-ok"],
        OK,
        f"LVS_ARP OK - VIP {VIP} not held here: standby (--standby-ok)",
    ),
}


@pytest.mark.parametrize(("host", "args", "code", "line"), STATES.values(), ids=STATES)
def test_exit_code_and_status_line(
    tmp_path: Path, host: FakeHost, args: list[str], code: int, line: str
) -> None:
    result = check(tmp_path, host, *args)
    assert (result.returncode, result.status_line) == (code, line)
    assert result.stderr == ""


LONG_LINES = {
    "announce-leak": (realserver(announce=0), "-r", "realserver"),
    "announce-1-on-link": (realserver(announce=1, default=(1, 1)), "-r", "realserver"),
    "new-interface-announce": (
        FakeHost(1, 0, 1, 0).loopback(f"{VIP}/32").interface("eth0", ON_LINK, announce=2),
        "-r",
        "realserver",
    ),
    "director-answers-by-accident": (
        FakeHost(0, 0, virtual_services=(VIP,)).loopback(f"{VIP}/32").interface("eth0", ON_LINK),
        "-r",
        "director",
    ),
    "vlan-leak": (
        FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32").interface("bond0.1000", ON_LINK, ignore=4),
        "-r",
        "realserver",
    ),
}


@pytest.mark.parametrize(("host", "role_flag", "role"), LONG_LINES.values(), ids=LONG_LINES)
def test_status_line_stays_short(tmp_path: Path, host: FakeHost, role_flag: str, role: str) -> None:
    """Pagers and dashboards cut the status line; ~90 characters must say it all."""
    result = check(tmp_path, host, role_flag, role)
    assert result.returncode in (WARNING, CRITICAL)
    assert len(result.status_line) <= 90, result.status_line


COUNTS = (
    "arp_interfaces",
    "leaking",
    "silent",
    "unsound_after_reboot",
    "vips",
    "vips_misplaced",
    "critical",
    "warning",
    "unknown",
)


def perf_values(perfdata: str) -> dict[str, str]:
    """label -> the rest after '=', for labels without '=' in them."""
    return dict(metric.split("=", 1) for metric in perfdata.split())


@pytest.mark.parametrize(
    ("host", "counts"),
    [
        (realserver(), {"arp_interfaces": 1, "leaking": 0, "vips": 1, "critical": 0}),
        (realserver(ignore=0), {"leaking": 1, "critical": 1, "warning": 0}),
        (realserver(ignore=0, announce=0), {"leaking": 1, "critical": 2, "vips_misplaced": 0}),
    ],
    ids=["sound", "leaking", "two-causes-one-interface"],
)
def test_perfdata_is_a_fixed_set_of_counts(
    tmp_path: Path, host: FakeHost, counts: dict[str, int]
) -> None:
    perfdata = check(tmp_path, host, "-r", "realserver").perfdata
    assert PERFDATA.fullmatch(perfdata), perfdata
    values = perf_values(perfdata)
    assert tuple(values) == COUNTS  # the same labels, in the same order, on every host
    assert all(value.endswith(";;;0") for value in values.values())
    for label, count in counts.items():
        assert values[label] == f"{count};;;0", perfdata


def test_perfdata_counts_placement_silence_and_reboot(tmp_path: Path) -> None:
    host = realserver(ignore=1).interface("eth1", "192.168.1.10/24", ignore=8)
    host.interface("eth2", "192.168.2.10/24", ignore=8)
    args = [*host.write(tmp_path).plugin_args(), "-r", "realserver", f"--vip={VIP}"]
    values = perf_values(run_plugin(*args, "--vip=10.0.0.101").perfdata)
    assert values["silent"] == "2;;;0"
    assert values["vips"] == "2;;;0"
    assert values["vips_misplaced"] == "1;;;0"  # 10.0.0.101 is absent
    # Nothing in sysctl.d: each interface whose soundness rests on conf/all is unsound then.
    empty = tmp_path / "empty"
    (empty / "etc/sysctl.d").mkdir(parents=True)
    rebooted = perf_values(run_plugin(*args, f"--sysctl-root={empty}").perfdata)
    assert rebooted["unsound_after_reboot"] == "3;;;0"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (realserver(), ["eth0_arp_ignore=1", "eth0_arp_announce=2"]),
        (realserver(ignore=0), ["eth0_arp_ignore=0"]),
        (realserver(ignore=2147483647), ["eth0_arp_ignore=2147483647"]),
        (realserver(ignore=-1), ["eth0_arp_ignore=0"]),
    ],
    ids=["sound", "leaking", "int-max-not-scientific", "effective-not-raw"],
)
def test_perfdata_interfaces_adds_effective_values(
    tmp_path: Path, host: FakeHost, expected: list[str]
) -> None:
    perfdata = check(tmp_path, host, "-r", "realserver", "--perfdata-interfaces=.").perfdata
    assert PERFDATA.fullmatch(perfdata), perfdata
    assert set(expected) <= set(perfdata.split()), perfdata
    assert tuple(perf_values(perfdata))[: len(COUNTS)] == COUNTS


def test_perfdata_interfaces_only_for_matching_names(tmp_path: Path) -> None:
    host = realserver().interface("eth1", "192.168.1.10/24")
    host.interface("veth9f3a", "192.168.2.10/24")
    plain = check(tmp_path / "plain", host, "-r", "realserver").perfdata
    assert "arp_ignore" not in plain and "arp_announce" not in plain
    chosen = check(tmp_path / "eth", host, "-r", "realserver", "--perfdata-interfaces=^eth")
    labels = [m.split("=")[0] for m in chosen.perfdata.split()][len(COUNTS) :]
    assert labels == [
        "eth0_arp_ignore",
        "eth0_arp_announce",
        "eth1_arp_ignore",
        "eth1_arp_announce",
    ]


def test_perfdata_interfaces_must_be_a_regex(tmp_path: Path) -> None:
    tree = realserver().write(tmp_path)
    result = run_plugin(*tree.plugin_args(), "-r", "realserver", "--perfdata-interfaces=eth(")
    assert result.returncode == UNKNOWN
    assert result.stderr == "" and "Traceback" not in result.stdout


def test_interface_names_the_kernel_allows_keep_perfdata_valid(tmp_path: Path) -> None:
    """Linux refuses only '/', ':' and white space in names: `veth=a` and `x'y` exist."""
    host = realserver().interface("veth=a", "192.168.9.1/24").interface("x'y", "192.168.8.1/24")
    result = check(tmp_path, host, "-r", "realserver", "--perfdata-interfaces=.")
    assert (result.returncode, result.stderr) == (OK, "")
    assert PERFDATA.fullmatch(result.perfdata), result.perfdata
    ignore = [m for m in result.perfdata.split() if "arp_ignore" in m]
    assert ignore == ["eth0_arp_ignore=1", "'veth=a_arp_ignore'=1", "'x''y_arp_ignore'=1"]


def test_names_that_print_alike_get_distinct_labels(tmp_path: Path) -> None:
    """The byte 0xff and the four characters `\\xff` are two names: two labels."""
    raw = os.fsdecode(b"v\xff")  # a name that is not UTF-8: a surrogate escape
    host = realserver().interface(raw, "192.168.9.1/24").interface("v\\xff", "192.168.8.1/24")
    result = check(tmp_path, host, "-r", "realserver", "--perfdata-interfaces=^v")
    assert (result.returncode, result.stderr) == (OK, "")
    assert PERFDATA.fullmatch(result.perfdata), result.perfdata
    labels = [m.split("=")[0] for m in result.perfdata.split() if "arp_ignore" in m]
    # printable(): the byte shows as \xff, a backslash the name holds is doubled.
    assert sorted(labels) == sorted(["v\\xff_arp_ignore", "v\\\\xff_arp_ignore"])


def test_verbose_long_output_has_findings_and_fix_file(tmp_path: Path) -> None:
    result = check(tmp_path, realserver(ignore=0, announce=0), "-r", "realserver", "-v")
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"LVS_ARP CRITICAL - eth0 answers ARP for VIP {VIP} (all.arp_ignore=0) (+1 more)"
    )
    assert f"CRITICAL: eth0 announces VIP {VIP} (all.arp_announce=0)" in lines
    assert "    fix: net.ipv4.conf.all.arp_ignore = 1" in lines
    assert "fix: write /etc/sysctl.d/90-lvs-realserver.conf with:" in lines
    assert "    net.ipv4.conf.all.arp_ignore = 1" in lines
    assert "    net.ipv4.conf.all.arp_announce = 2" in lines
    assert f"OK: VIP {VIP} on lo" in lines
    assert PERFDATA.fullmatch(result.perfdata)


def test_many_interfaces_behind_conf_all_are_one_cause(tmp_path: Path) -> None:
    """40 leaking interfaces: one status cause, one -v entry listing a few and a count."""
    host = realserver(ignore=0)
    for n in range(1, 40):
        host.interface(f"eth{n}", f"192.168.{n}.10/24")
    result = check(tmp_path, host, "-r", "realserver", "-v")
    assert result.status_line == (
        f"LVS_ARP CRITICAL - eth0 (+39 more) answer ARP for VIP {VIP} (all.arp_ignore=0)"
    )
    lines = result.stdout.splitlines()
    assert [line for line in lines if line.startswith("CRITICAL:")] == [
        f"CRITICAL: eth0, eth1 (+38 more) answer ARP for VIP {VIP} (all.arp_ignore=0)"
    ]
    assert "    interfaces (40): eth0, eth1, eth10, eth11, eth12 (+35 more)" in lines
    assert perf_values(result.perfdata)["leaking"] == "40;;;0"
    assert perf_values(result.perfdata)["critical"] == "1;;;0"


def test_status_line_is_the_worst_cause_then_a_count_within_90(tmp_path: Path) -> None:
    """Long names, many VIPs and several causes: the line still fits and says how many more."""
    host = FakeHost(0, 0, 0, 0).loopback(*(f"10.0.{n}.100/32" for n in range(50)))
    host.interface("a-very-long-bond-name.4094", ON_LINK, flags=0x1003)
    host.interface("another-long-vlan.1000", "192.168.1.10/24", ignore=8)
    result = check(tmp_path, host, "-r", "realserver")
    line = result.status_line
    assert result.returncode == CRITICAL
    assert len(line) <= 90, line
    assert line.startswith("LVS_ARP CRITICAL - ")
    assert re.search(r" \(\+\d+ more\)$", line), line


def test_long_output_stays_within_the_nagios_budget(tmp_path: Path) -> None:
    host = FakeHost(0, 0, 0, 0).loopback(f"{VIP}/32")
    for n in range(300):
        host.interface(f"veth{n:04d}", f"172.16.{n // 200}.{n % 200 + 1}/16", ignore=n % 9)
    result = check(tmp_path, host, "-r", "realserver", "-v")
    assert len(result.stdout.encode()) <= 8 * 1024, len(result.stdout.encode())
    assert result.stdout.splitlines()[0].startswith("LVS_ARP CRITICAL - ")
    assert PERFDATA.fullmatch(result.perfdata)


def test_without_verbose_only_the_status_line(tmp_path: Path) -> None:
    result = check(tmp_path, realserver(ignore=0), "-r", "realserver")
    assert len(result.stdout.splitlines()) == 1


def test_exclude_interface(tmp_path: Path) -> None:
    host = realserver().interface("eth1", "192.168.1.10/24", ignore=4)
    args = [*host.write(tmp_path).plugin_args(), *persisted(tmp_path, host), "-r", "realserver"]
    assert run_plugin(*args).returncode == CRITICAL
    excluded = run_plugin(*args, "--exclude-interface=^eth1$")
    assert (excluded.returncode, excluded.status_line) == (
        OK,
        f"LVS_ARP OK - 1 ARP interface hides VIP {VIP}",
    )


BAD_ARGUMENTS = {
    "no-role": [],
    "unknown-role": ["-r", "balancer"],
    "unknown-option": ["-r", "realserver", "--bogus"],
    "timeout-not-int": ["-r", "realserver", "-t", "soon"],
}


@pytest.mark.parametrize("args", BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS)
def test_bad_arguments_are_unknown_on_stdout(args: list[str]) -> None:
    result = run_plugin(*args)
    assert result.returncode == UNKNOWN
    assert result.status_line.startswith("LVS_ARP UNKNOWN - check_lvs_arp: ")
    assert "usage: check_lvs_arp" in result.stdout
    assert result.stderr == ""


def test_version_comes_from_the_package() -> None:
    result = run_plugin("-V")
    assert (result.returncode, result.stdout) == (0, f"check_lvs_arp {checks.__version__}\n")


@pytest.fixture
def tree(tmp_path: Path) -> FakeTree:
    return realserver().write(tmp_path)


def unknown_line(result: PluginRun) -> str:
    assert result.returncode == UNKNOWN
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr == ""
    return result.status_line


def test_vip_not_an_address(tree: FakeTree) -> None:
    line = unknown_line(run_plugin(*tree.plugin_args(), "-r", "realserver", "--vip", "notanip"))
    assert line.startswith("LVS_ARP UNKNOWN - --vip 'notanip' is not an IPv4 address")


def test_exclude_not_a_regex(tree: FakeTree) -> None:
    result = run_plugin(*tree.plugin_args(), "-r", "realserver", "--exclude-interface", "eth(")
    assert unknown_line(result).startswith(
        "LVS_ARP UNKNOWN - --exclude-interface 'eth(' is not a valid regex"
    )


def test_missing_proc_root(tree: FakeTree, tmp_path: Path) -> None:
    absent = tmp_path / "absent"
    args = [f"--proc-root={absent}", f"--sys-root={tree.sys_root}", f"--ip-json={tree.ip_json}"]
    result = run_plugin(*args, "-r", "realserver", "-v")
    line = unknown_line(result)
    message = (
        f"cannot list {absent}/sys/net/ipv4/conf: No such file or directory; is --proc-root right?"
    )
    # The status line stays within 90 characters; -v gives the whole message after it.
    assert f"LVS_ARP UNKNOWN - {message}".startswith(line.removesuffix("…"))
    assert result.stdout.splitlines()[1] == message


def test_unparsable_value_names_the_file(tree: FakeTree) -> None:
    tree.conf_file("eth0", "arp_ignore").write_text("1.5\n")
    result = run_plugin(*tree.plugin_args(), "-r", "realserver", "-v")
    assert unknown_line(result).startswith("LVS_ARP UNKNOWN - ")
    assert result.stdout.splitlines()[1].startswith(f"{tree.conf_file('eth0', 'arp_ignore')} holds")


def test_wrong_sys_root_is_unknown_not_ok(tmp_path: Path) -> None:
    """Without flags the reader must not drop every interface and call a leaking host OK."""
    tree = realserver(ignore=0).write(tmp_path)
    args = [f"--proc-root={tree.proc_root}", f"--sys-root={tmp_path}/absent"]
    result = run_plugin(*args, f"--ip-json={tree.ip_json}", "-r", "realserver", f"--vip={VIP}")
    assert unknown_line(result).startswith("LVS_ARP UNKNOWN - ")


@pytest.fixture
def internal_error(tmp_path: Path) -> dict[str, str]:
    """An environment in which reading the host fails with a bug, not a LvsArpError."""
    (tmp_path / "sitecustomize.py").write_text(
        "import checks.read.host\n"
        "def read_host(*args, **kwargs):\n"
        "    raise RuntimeError('injected fault')\n"
        "checks.read.host.read_host = read_host\n"
    )
    return {**os.environ, "PYTHONPATH": str(tmp_path)}


def test_internal_error_is_unknown_without_traceback(internal_error: dict[str, str]) -> None:
    result = run_plugin("-r", "realserver", env=internal_error)
    line = unknown_line(result)
    assert line == "LVS_ARP UNKNOWN - internal error: RuntimeError: injected fault"


def test_internal_error_shows_traceback_at_vvv(internal_error: dict[str, str]) -> None:
    result = run_plugin("-r", "realserver", "-vvv", env=internal_error)
    assert result.returncode == UNKNOWN
    assert result.status_line.startswith("LVS_ARP UNKNOWN")
    assert "Traceback (most recent call last)" in result.stdout
    assert "RuntimeError: injected fault" in result.stdout
