"""Sound now, unsound after reboot: the boot view judged with the role's own policy.

Every host is a FakeHost (built in Python and read back from a fake tree, by `state_of`);
every boot configuration a fake sysctl root written under tmp_path.
"""

from __future__ import annotations

import tempfile
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from fake_host import ETHER_DOWN, FakeHost, StateOf
from hypothesis import example, given, settings
from hypothesis import strategies as st

from checks.assess import Assessment, assess
from checks.boot.reboot import read_boot
from checks.cli.text import merged_sysctl_lines
from checks.finding import Finding, Severity
from checks.judge.remedy import sysctl_file, sysctl_file_content
from checks.model import ARP_ANNOUNCE, ARP_IGNORE, Role

VIP = "10.0.0.100"
ON_LINK = "10.0.0.10/24"
OFF_LINK = "192.168.1.10/24"


def sysctl_root(tmp_path: Path, files: dict[str, str | bytes] | None = None) -> Path:
    """A fresh root holding *files* (host path -> content); an empty /etc/sysctl.d otherwise."""
    root = Path(tempfile.mkdtemp(prefix="sysctl-root-", dir=tmp_path))
    (root / "etc/sysctl.d").mkdir(parents=True)
    for path, content in (files or {}).items():
        file = root / path.lstrip("/")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def judge(
    state_of: StateOf,
    host: FakeHost,
    root: Path,
    role: Role = Role.REALSERVER,
    vips: tuple[str, ...] = (),
) -> Assessment:
    state = state_of(host)
    boot = read_boot(state, str(root))
    return assess(state, role, tuple(IPv4Address(v) for v in vips), boot=boot)


def after_reboot(assessment: Assessment) -> list[Finding]:
    return [f for f in assessment.findings if f.after_reboot]


def one(assessment: Assessment, subject: str, parameter: str | None) -> Finding:
    (found,) = [
        f for f in after_reboot(assessment) if (f.subject, f.parameter) == (subject, parameter)
    ]
    return found


def sound_realserver() -> FakeHost:
    """Sound now: conf/all and conf/default hide the VIP on lo."""
    return FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK)


# --- what only the boot view gets wrong ---


def test_a_fully_persisted_host_has_nothing_to_add(state_of: StateOf, tmp_path: Path) -> None:
    host = sound_realserver()
    assessment = judge(state_of, host, host.write_boot_config(sysctl_root(tmp_path)))
    assert assessment.boot_checked
    assert after_reboot(assessment) == []
    assert assessment.worst is Severity.OK


def test_values_set_by_echo_only_warn_and_name_the_missing_persistence(
    state_of: StateOf, tmp_path: Path
) -> None:
    assessment = judge(state_of, sound_realserver(), sysctl_root(tmp_path))
    assert assessment.worst is Severity.WARNING
    reply = one(assessment, "eth0", ARP_IGNORE)
    assert reply.severity is Severity.WARNING
    assert reply.summary == f"on reboot eth0 answers ARP for VIP {VIP} (all.arp_ignore=1 lost)"
    assert reply.detail.startswith(
        "all.arp_ignore is 1 now but nothing in sysctl.d sets it (boots as 0). "
        "After a reboot: arp_ignore eff 0: all=0 eth0=0. With arp_ignore 0"
    )
    assert (reply.raw, reply.effective, reply.vip) == ((("all", 0), ("eth0", 0)), 0, VIP)
    assert reply.fix.sysctl_lines == ("net.ipv4.conf.all.arp_ignore = 1",)
    announce = one(assessment, "eth0", ARP_ANNOUNCE)
    assert announce.summary == f"on reboot eth0 announces VIP {VIP} (all.arp_announce=2 lost)"
    assert announce.fix.sysctl_lines == ("net.ipv4.conf.all.arp_announce = 2",)
    new_interfaces = one(assessment, "default", ARP_IGNORE)
    assert new_interfaces.summary == (
        "on reboot new interfaces would answer for VIPs "
        "(all.arp_ignore=1, default.arp_ignore=1 lost)"
    )


def test_the_merged_fix_file_persists_what_is_sound_now(state_of: StateOf, tmp_path: Path) -> None:
    assessment = judge(state_of, sound_realserver(), sysctl_root(tmp_path))
    assert merged_sysctl_lines(assessment.findings) == [
        "net.ipv4.conf.all.arp_ignore = 1",
        "net.ipv4.conf.all.arp_announce = 2",
        "net.ipv4.conf.default.arp_ignore = 1",
        "net.ipv4.conf.default.arp_announce = 2",
    ]


def test_a_file_that_sets_another_value_is_named_with_its_line(
    state_of: StateOf, tmp_path: Path
) -> None:
    root = sysctl_root(
        tmp_path,
        {
            "/usr/lib/sysctl.d/50-vendor.conf": "# vendor\nnet.ipv4.conf.all.arp_ignore = 1\n",
            "/etc/sysctl.d/60-site.conf": "\nnet.ipv4.conf.all.arp_ignore = 0\n",
        },
    )
    host = sound_realserver()
    host.write_boot_config(root, "10-persisted.conf")  # everything, then 60-site undoes one
    reply = one(judge(state_of, host, root), "eth0", ARP_IGNORE)
    assert reply.detail.startswith(
        "all.arp_ignore is 1 now but /etc/sysctl.d/60-site.conf:2 sets it to 0. "
    )
    assert "would still win" not in reply.detail  # 60-site sorts before the fix file


def test_a_glob_is_shown_as_written_and_an_exact_key_beats_it(
    state_of: StateOf, tmp_path: Path
) -> None:
    root = sysctl_root(
        tmp_path, {"/etc/sysctl.d/99-tuning.conf": "net.ipv4.conf.*.arp_announce=1\n"}
    )
    host = FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK)
    announce = one(judge(state_of, host, root), "eth0", ARP_ANNOUNCE)
    assert announce.detail.startswith(
        "all.arp_announce is 2 now but /etc/sysctl.d/99-tuning.conf:1 "
        "(net.ipv4.conf.*.arp_announce) sets it to 1. eth0.arp_announce is 0 now but "
        "/etc/sysctl.d/99-tuning.conf:1 (net.ipv4.conf.*.arp_announce) sets it to 1. "
    )
    # Exact keys in the fix file beat the glob whatever the order, so no edit is asked for.
    assert "change" not in announce.detail
    assert announce.fix.sysctl_lines == (
        "net.ipv4.conf.all.arp_announce = 2",
        "net.ipv4.conf.eth0.arp_announce = 0",
    )


def test_an_exact_key_in_a_later_file_must_be_changed_there(
    state_of: StateOf, tmp_path: Path
) -> None:
    root = sysctl_root(tmp_path, {"/etc/sysctl.conf": "net.ipv4.conf.all.arp_ignore = 0\n"})
    (root / "etc/sysctl.d/99-sysctl.conf").symlink_to("../sysctl.conf")  # Debian's link
    reply = one(judge(state_of, sound_realserver(), root), "eth0", ARP_IGNORE)
    assert "all.arp_ignore is 1 now but /etc/sysctl.conf:1 sets it to 0" in reply.detail
    assert reply.detail.endswith(
        "/etc/sysctl.conf is applied after 90-lvs-realserver.conf and would still win: "
        "change it there."
    )


def test_a_running_problem_stays_critical_whatever_the_files_say(
    state_of: StateOf, tmp_path: Path
) -> None:
    host = FakeHost(0, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK)
    for files in ({}, {"/etc/sysctl.d/90-lvs.conf": "net.ipv4.conf.all.arp_ignore = 1\n"}):
        assessment = judge(state_of, host, sysctl_root(tmp_path, files))
        reply = [
            f for f in assessment.findings if f.subject == "eth0" and f.parameter == ARP_IGNORE
        ]
        assert [f.severity for f in reply] == [Severity.CRITICAL]
        assert not reply[0].after_reboot


def test_a_down_interface_that_would_leak_after_reboot_is_a_warning_too(
    state_of: StateOf, tmp_path: Path
) -> None:
    host = FakeHost(0, 2, 0, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK, ignore=1)
    host.interface("eth1", OFF_LINK, ignore=1, flags=ETHER_DOWN)
    root = sysctl_root(tmp_path, {"/etc/sysctl.d/90-x.conf": "net.ipv4.conf.all.arp_announce=2\n"})
    assessment = judge(state_of, host, root)
    eth1 = one(assessment, "eth1", ARP_IGNORE)
    assert eth1.severity is Severity.WARNING
    assert eth1.fix.sysctl_lines == ("net.ipv4.conf.eth1.arp_ignore = 1",)


def test_a_dotted_vlan_name_is_written_with_a_slash(state_of: StateOf, tmp_path: Path) -> None:
    host = FakeHost(0, 2, 0, 2).loopback(f"{VIP}/32").interface("eth0.100", ON_LINK, ignore=1)
    root = sysctl_root(
        tmp_path,
        {
            "/etc/sysctl.d/10-lvs.conf": "net.ipv4.conf.all.arp_announce = 2\n"
            "net.ipv4.conf.default.arp_announce = 2\n"
            "net.ipv4.conf.eth0.100.arp_ignore = 1\n",  # names eth0 -> '100', not the VLAN
        },
    )
    vlan = one(judge(state_of, host, root), "eth0.100", ARP_IGNORE)
    assert (
        vlan.summary == f"on reboot eth0.100 answers ARP for VIP {VIP} (eth0.100.arp_ignore=1 lost)"
    )
    assert vlan.fix.sysctl_lines == ("net.ipv4.conf.eth0/100.arp_ignore = 1",)


def test_interfaces_created_after_systemd_sysctl_copy_the_boot_default(
    state_of: StateOf, tmp_path: Path
) -> None:
    """conf/default boots to 3: an interface that appears later starts from it and leaks."""
    root = sysctl_root(
        tmp_path,
        {
            "/etc/sysctl.d/50-lvs.conf": "net.ipv4.conf.all.arp_ignore = 1\n"
            "net.ipv4.conf.all.arp_announce = 2\n"
            "net.ipv4.conf.default.arp_ignore = 3\n"
            "net.ipv4.conf.default.arp_announce = 2\n"
        },
    )
    host = FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK)
    reply = one(judge(state_of, host, root), "eth0", ARP_IGNORE)
    assert reply.summary == f"on reboot eth0 answers ARP for VIP {VIP} (eth0.arp_ignore=0 lost)"
    assert (
        "eth0.arp_ignore is 0 now but nothing in sysctl.d sets it: it boots as 0, or as "
        "default's 3 (/etc/sysctl.d/50-lvs.conf:3) if eth0 appears after systemd-sysctl runs. "
        "If it appears after systemd-sysctl runs: arp_ignore eff 3: all=1 eth0=3."
    ) in reply.detail
    assert reply.fix.sysctl_lines == ("net.ipv4.conf.eth0.arp_ignore = 0",)


def test_a_director_silenced_by_its_boot_files_is_a_warning(
    state_of: StateOf, tmp_path: Path
) -> None:
    host = FakeHost(virtual_services=(VIP,)).loopback().interface("eth0", ON_LINK, f"{VIP}/32")
    root = sysctl_root(tmp_path, {"/etc/sysctl.d/80-hard.conf": "net.ipv4.conf.all.arp_ignore=8\n"})
    assessment = judge(state_of, host, root, Role.DIRECTOR)
    holder = one(assessment, "eth0", ARP_IGNORE)
    assert holder.summary == f"on reboot eth0 answers no ARP for VIP {VIP} (all.arp_ignore=0 lost)"
    assert holder.fix.sysctl_lines == ("net.ipv4.conf.all.arp_ignore = 0",)
    assert sysctl_file(Role.DIRECTOR) == "/etc/sysctl.d/90-lvs-director.conf"
    assert merged_sysctl_lines(assessment.findings)[0] == "net.ipv4.conf.all.arp_ignore = 0"


def test_without_a_boot_view_nothing_is_read_or_added(state_of: StateOf) -> None:
    state = state_of(sound_realserver())
    assert read_boot(state, None) is None
    assessment = assess(state, Role.REALSERVER)
    assert not assessment.boot_checked
    assert after_reboot(assessment) == []


def test_a_missing_sysctl_root_is_a_config_error(tmp_path: Path) -> None:
    from checks.errors import ConfigError

    with pytest.raises(ConfigError, match="is not a directory"):
        read_boot(sound_realserver().state(), str(tmp_path / "absent"))


# --- the boot files' own problems ---

ISSUES = {
    "malformed-arp-line": (
        {"/etc/sysctl.d/90-lvs.conf": "net.ipv4.conf.all.arp_ignore 1\n"},
        Severity.WARNING,
        "/etc/sysctl.d/90-lvs.conf:1",
    ),
    "malformed-other-line": (
        {"/etc/sysctl.d/10-misc.conf": "# x\nvm.swappiness\n"},
        Severity.INFO,
        "/etc/sysctl.d/10-misc.conf:2",
    ),
    "rejected-arp-value": (
        {"/etc/sysctl.d/90-lvs.conf": "net.ipv4.conf.all.arp_announce = two\n"},
        Severity.WARNING,
        "/etc/sysctl.d/90-lvs.conf:1",
    ),
    "not-utf8": (
        {"/etc/sysctl.d/90-lvs.conf": b"net.ipv4.conf.all.arp_ignore = 1 \xff\n"},
        Severity.WARNING,
        "/etc/sysctl.d/90-lvs.conf:1",
    ),
    "lost-in-sysctl-conf": (
        {"/etc/sysctl.conf": "net.ipv4.conf.all.arp_ignore = 1\n"},
        Severity.WARNING,
        "/etc/sysctl.conf:1",
    ),
}


@pytest.mark.parametrize(("files", "severity", "where"), ISSUES.values(), ids=ISSUES)
def test_boot_file_problems_name_file_and_line(
    tmp_path: Path, files: dict[str, str | bytes], severity: Severity, where: str
) -> None:
    host = sound_realserver()
    root = host.write_boot_config(sysctl_root(tmp_path, files), "00-persisted.conf")
    issues = [f for f in judge(FakeHost.state, host, root).findings if f.subject == "sysctl.d"]
    assert [(f.severity, f.summary) for f in issues] == [
        (severity, f"boot config problem at {where}")
    ]
    assert issues[0].after_reboot and issues[0].detail


def test_an_unreadable_file_is_a_warning_not_a_traceback(tmp_path: Path) -> None:
    root = sysctl_root(tmp_path)
    (root / "etc/sysctl.d/90-lvs.conf").mkdir()  # read() fails: a directory
    host = sound_realserver()
    host.write_boot_config(root, "00-persisted.conf")
    (issue,) = [f for f in judge(FakeHost.state, host, root).findings if f.subject == "sysctl.d"]
    assert (issue.severity, issue.summary) == (
        Severity.WARNING,
        "boot config problem at /etc/sysctl.d/90-lvs.conf",
    )
    assert "cannot read /etc/sysctl.d/90-lvs.conf: Is a directory" in issue.detail


# --- running fixes survive the reboot ---


def test_a_running_fix_pins_the_value_a_later_boot_file_would_undo(
    state_of: StateOf, tmp_path: Path
) -> None:
    """eth0 leaks now (all=0); the fix raises all, but boot would bring eth0 back at 3."""
    root = sysctl_root(
        tmp_path,
        {
            "/etc/sysctl.d/50-site.conf": "net.ipv4.conf.all.arp_announce = 2\n"
            "net.ipv4.conf.default.arp_announce = 2\nnet.ipv4.conf.default.arp_ignore = 1\n"
            "net.ipv4.conf.eth0.arp_ignore = 3\n"
        },
    )
    host = FakeHost(0, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK)
    assessment = judge(state_of, host, root)
    (reply,) = [f for f in assessment.findings if (f.subject, f.parameter) == ("eth0", ARP_IGNORE)]
    assert reply.severity is Severity.CRITICAL
    assert reply.fix.sysctl_lines == (
        "net.ipv4.conf.all.arp_ignore = 1",
        "net.ipv4.conf.eth0.arp_ignore = 0",
    )


def test_a_running_fix_says_which_later_file_would_undo_it(
    state_of: StateOf, tmp_path: Path
) -> None:
    root = sysctl_root(tmp_path, {"/etc/sysctl.d/99-zz.conf": "net.ipv4.conf.all.arp_ignore=0\n"})
    host = FakeHost(0, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK)
    (reply,) = [
        f
        for f in judge(state_of, host, root).findings
        if (f.subject, f.parameter) == ("eth0", ARP_IGNORE)
    ]
    assert reply.detail.endswith(
        "/etc/sysctl.d/99-zz.conf is applied after 90-lvs-realserver.conf and would still "
        "win: change it there."
    )


KNOB_VALUES = st.sampled_from([-1, 0, 1, 2, 3, 4, 8])
BOOT_VALUES = st.one_of(st.none(), KNOB_VALUES)
CONFS = ("all", "default", "eth0", "eth1")


def site_file(booted: list[int | None]) -> str:
    entries = ((c, p) for c in CONFS for p in (ARP_IGNORE, ARP_ANNOUNCE))
    return "".join(
        f"net.ipv4.conf.{conf}.{param} = {value}\n"
        for (conf, param), value in zip(entries, booted, strict=True)
        if value is not None
    )


def fix_and_reboot(host: FakeHost, role: Role, site: str) -> Assessment:
    """Write the fix file beside the site's own file, apply it now, judge now and at boot."""
    with tempfile.TemporaryDirectory() as workdir:
        root = sysctl_root(Path(workdir), {"/etc/sysctl.d/50-site.conf": site})
        before = assess(host.state(), role, boot=read_boot(host.state(), str(root)))
        lines = merged_sysctl_lines(before.findings)
        (root / sysctl_file(role).lstrip("/")).write_text(sysctl_file_content(role, lines))
        apply_sysctl_lines(host, lines)
        return assess(host.state(), role, boot=read_boot(host.state(), str(root)))


@settings(derandomize=True, max_examples=300, deadline=None)
@given(
    st.lists(KNOB_VALUES, min_size=8, max_size=8),
    st.lists(BOOT_VALUES, min_size=8, max_size=8),
    st.booleans(),
)
@example(running=[0, 2, 1, 2, 0, 0, 0, 0], booted=[None] * 6 + [3, None], eth1_addressed=True)
# Keeping all=1 over a boot value of 8 unmasks eth1's own 3, which only the boot file sets.
@example(
    running=[1, -1, -1, -1, -1, -1, -1, -1], booted=[8, *[None] * 5, 3, None], eth1_addressed=False
)
def test_the_merged_file_leaves_a_real_server_sound_now_and_after_reboot(
    running: list[int], booted: list[int | None], eth1_addressed: bool
) -> None:
    host = FakeHost(*running[:4]).loopback(f"{VIP}/32")
    host.interface("eth0", ON_LINK, ignore=running[4], announce=running[5])
    eth1 = (OFF_LINK,) if eth1_addressed else ()
    host.interface("eth1", *eth1, ignore=running[6], announce=running[7])
    after = fix_and_reboot(host, Role.REALSERVER, site_file(booted))
    assert after.worst <= Severity.INFO, [f.summary for f in after.findings if f.severity > 1]


@settings(derandomize=True, max_examples=200, deadline=None)
@given(
    st.lists(KNOB_VALUES, min_size=8, max_size=8),
    st.lists(BOOT_VALUES, min_size=8, max_size=8),
)
def test_the_merged_file_leaves_a_director_sound_now_and_after_reboot(
    running: list[int], booted: list[int | None]
) -> None:
    host = FakeHost(*running[:4], virtual_services=(VIP,)).loopback()
    host.interface("eth0", ON_LINK, f"{VIP}/32", ignore=running[4], announce=running[5])
    host.interface("eth1", OFF_LINK, ignore=running[6], announce=running[7])
    after = fix_and_reboot(host, Role.DIRECTOR, site_file(booted))
    assert after.worst <= Severity.INFO, [f.summary for f in after.findings if f.severity > 1]


def apply_sysctl_lines(host: FakeHost, lines: list[str]) -> None:
    """What `sysctl -p` of the fix file does to the running host."""
    for line in lines:
        key, value = (part.strip() for part in line.split("="))
        conf_name, param = key.split(".")[3].replace("/", "."), key.split(".")[4]
        if conf_name in ("all", "default"):
            setattr(host, f"{conf_name}_{param.removeprefix('arp_')}", int(value))
        else:
            (interface,) = [i for i in host.interfaces if i.name == conf_name]
            setattr(interface, param, int(value))
