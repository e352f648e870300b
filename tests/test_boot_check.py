"""Sound now, unsound after reboot: the boot view judged with the role's own policy.

Every host is a FakeHost (built in Python and read back from a fake tree, by `state_of`);
every boot configuration a fake sysctl root written under tmp_path. A lost entry is one
LOST_AT_REBOOT finding (conf/all, conf/default, or interfaces' own entries losing the same
value together) naming what it would then affect.
"""

from __future__ import annotations

import tempfile
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from fake_host import ETHER_DOWN, FakeHost, StateOf
from hypothesis import example, given, settings
from hypothesis import strategies as st

from checks.assess import Assessment, NodeCheck, assess
from checks.boot.view import BootView, read_boot_view
from checks.cli.text import detail, summary
from checks.finding import Cause, Finding, Severity, SysctlSetting
from checks.judge.remedy import merged_settings, sysctl_file, sysctl_file_content, sysctl_line
from checks.model import ARP_ANNOUNCE, ARP_IGNORE, HostState, Role

VIP = "10.0.0.100"
ON_LINK = "10.0.0.10/24"
OFF_LINK = "192.168.1.10/24"
VIPS = (IPv4Address(VIP),)


def sysctl_root(tmp_path: Path, files: dict[str, str | bytes] | None = None) -> Path:
    """A fresh root holding *files* (host path -> content); an empty /etc/sysctl.d otherwise."""
    root = Path(tempfile.mkdtemp(prefix="sysctl-root-", dir=tmp_path))
    (root / "etc/sysctl.d").mkdir(parents=True)
    for path, content in (files or {}).items():
        file = root / path.lstrip("/")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def boot_view(state: HostState, root: Path | str) -> BootView:
    return read_boot_view((i.name for i in state.interfaces), str(root))


def judge(
    state_of: StateOf,
    host: FakeHost,
    root: Path,
    role: Role = Role.REALSERVER,
    vips: tuple[str, ...] = (),
) -> Assessment:
    state = state_of(host)
    return assess(state, role, tuple(IPv4Address(v) for v in vips), boot=boot_view(state, root))


def after_reboot(assessment: Assessment) -> list[Finding]:
    return [f for f in assessment.findings if f.after_reboot]


def lost(assessment: Assessment, conf: str | None, parameter: str) -> Finding:
    """The one LOST_AT_REBOOT finding for this entry (None: interfaces' own entries)."""
    (found,) = [
        f
        for f in after_reboot(assessment)
        if f.cause is Cause.LOST_AT_REBOOT and (f.conf, f.parameter) == (conf, parameter)
    ]
    return found


def running(assessment: Assessment, cause: Cause) -> Finding:
    (found,) = [f for f in assessment.findings if f.cause is cause and not f.after_reboot]
    return found


def boot_files(assessment: Assessment) -> list[Finding]:
    return [f for f in assessment.findings if f.cause is Cause.BOOT_FILE]


def lines(findings: list[Finding] | tuple[Finding, ...]) -> list[str]:
    return [sysctl_line(s) for s in merged_settings(findings)]


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
    reply = lost(assessment, "all", ARP_IGNORE)
    assert reply.severity is Severity.WARNING
    assert (reply.value, reply.all_value, reply.interfaces, reply.vips) == (1, 1, ("eth0",), VIPS)
    # After the reboot today's interfaces leak, and so would any created later.
    assert reply.consequences == (Cause.REPLY_LEAK, Cause.NEW_INTERFACE_RISK)
    assert reply.boot is not None
    assert (reply.boot.at_boot, reply.boot.source, reply.boot.override) == (0, None, None)
    assert summary(reply, Role.REALSERVER) == (
        f"on reboot eth0 answers ARP for VIP {VIP} (all.arp_ignore=1 lost)"
    )
    assert detail(reply, Role.REALSERVER) == (
        "all.arp_ignore is 1 now but nothing in sysctl.d sets it (boots as 0)."
    )
    assert reply.fix.settings == (SysctlSetting("all", ARP_IGNORE, 1),)
    announce = lost(assessment, "all", ARP_ANNOUNCE)
    assert summary(announce, Role.REALSERVER) == (
        f"on reboot eth0 announces VIP {VIP} (all.arp_announce=2 lost)"
    )
    assert announce.consequences == (Cause.ANNOUNCE_LEAK, Cause.NEW_INTERFACE_RISK)
    assert announce.fix.settings == (SysctlSetting("all", ARP_ANNOUNCE, 2),)
    # conf/default, set by echo too, is an entry of its own: one cause per entry and knob.
    assert {(f.conf, f.parameter) for f in after_reboot(assessment)} == {
        ("all", ARP_IGNORE),
        ("all", ARP_ANNOUNCE),
        ("default", ARP_IGNORE),
        ("default", ARP_ANNOUNCE),
    }
    new_interfaces = lost(assessment, "default", ARP_IGNORE)
    assert new_interfaces.consequences == (Cause.NEW_INTERFACE_RISK,)
    assert new_interfaces.fix.settings == (SysctlSetting("default", ARP_IGNORE, 1),)


def test_the_merged_fix_file_persists_what_is_sound_now(state_of: StateOf, tmp_path: Path) -> None:
    assessment = judge(state_of, sound_realserver(), sysctl_root(tmp_path))
    assert lines(assessment.findings) == [
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
    assessment = judge(state_of, host, root)
    reply = lost(assessment, "all", ARP_IGNORE)
    assert reply.boot is not None and reply.boot.source is not None
    assert (reply.boot.source.path, reply.boot.source.line) == ("/etc/sysctl.d/60-site.conf", 2)
    assert reply.boot.override is None  # 60-site sorts before the fix file
    assert detail(reply, Role.REALSERVER) == (
        "all.arp_ignore is 1 now but /etc/sysctl.d/60-site.conf:2 sets it to 0."
    )
    assert [f.conf for f in after_reboot(assessment)] == ["all"]


def test_a_glob_is_shown_as_written_and_an_exact_key_beats_it(
    state_of: StateOf, tmp_path: Path
) -> None:
    root = sysctl_root(
        tmp_path, {"/etc/sysctl.d/99-tuning.conf": "net.ipv4.conf.*.arp_announce=1\n"}
    )
    host = FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK)
    assessment = judge(state_of, host, root)
    on_all = lost(assessment, "all", ARP_ANNOUNCE)
    on_eth0 = lost(assessment, "eth0", ARP_ANNOUNCE)
    assert detail(on_all, Role.REALSERVER) == (
        "all.arp_announce is 2 now but /etc/sysctl.d/99-tuning.conf:1 "
        "(net.ipv4.conf.*.arp_announce) sets it to 1."
    )
    assert detail(on_eth0, Role.REALSERVER) == (
        "eth0.arp_announce is 0 now but /etc/sysctl.d/99-tuning.conf:1 "
        "(net.ipv4.conf.*.arp_announce) sets it to 1."
    )
    # Exact keys in the fix file beat the glob whatever the order, so no edit is asked for.
    for finding in (on_all, on_eth0):
        assert finding.boot is not None and finding.boot.override is None
        assert "change" not in detail(finding, Role.REALSERVER)
    assert [line for line in lines(assessment.findings) if ARP_ANNOUNCE in line] == [
        "net.ipv4.conf.all.arp_announce = 2",
        "net.ipv4.conf.default.arp_announce = 2",
        "net.ipv4.conf.eth0.arp_announce = 0",
    ]


def test_an_exact_key_in_a_later_file_must_be_changed_there(
    state_of: StateOf, tmp_path: Path
) -> None:
    root = sysctl_root(tmp_path, {"/etc/sysctl.conf": "net.ipv4.conf.all.arp_ignore = 0\n"})
    (root / "etc/sysctl.d/99-sysctl.conf").symlink_to("../sysctl.conf")  # Debian's link
    reply = lost(judge(state_of, sound_realserver(), root), "all", ARP_IGNORE)
    assert reply.boot is not None and reply.boot.override is not None
    assert (reply.boot.override.path, reply.boot.override.line) == ("/etc/sysctl.conf", 1)
    why = detail(reply, Role.REALSERVER)
    assert "all.arp_ignore is 1 now but /etc/sysctl.conf:1 sets it to 0" in why
    assert why.endswith("/etc/sysctl.conf:1 would still beat the fix file: change it there.")


def test_a_running_problem_stays_critical_whatever_the_files_say(
    state_of: StateOf, tmp_path: Path
) -> None:
    host = FakeHost(0, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK)
    for files in ({}, {"/etc/sysctl.d/90-lvs.conf": "net.ipv4.conf.all.arp_ignore = 1\n"}):
        assessment = judge(state_of, host, sysctl_root(tmp_path, files))
        reply = [
            f
            for f in assessment.findings
            if f.parameter == ARP_IGNORE and f.is_problem and f.conf == "all"
        ]
        assert [(f.severity, f.cause, f.after_reboot) for f in reply] == [
            (Severity.CRITICAL, Cause.REPLY_LEAK, False)
        ]


def test_a_down_interface_that_would_leak_after_reboot_is_a_warning_too(
    state_of: StateOf, tmp_path: Path
) -> None:
    host = FakeHost(0, 2, 0, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK, ignore=1)
    host.interface("eth1", OFF_LINK, ignore=1, flags=ETHER_DOWN)
    root = sysctl_root(tmp_path, {"/etc/sysctl.d/90-x.conf": "net.ipv4.conf.all.arp_announce=2\n"})
    assessment = judge(state_of, host, root)
    # eth0 and eth1 lose the same own value to no line: one cause, both interfaces.
    own = lost(assessment, None, ARP_IGNORE)
    assert own.severity is Severity.WARNING
    assert (own.value, own.all_value, own.interfaces) == (1, 0, ("eth0", "eth1"))
    assert own.fix.settings == (
        SysctlSetting("eth0", ARP_IGNORE, 1),
        SysctlSetting("eth1", ARP_IGNORE, 1),
    )
    assert "net.ipv4.conf.eth1.arp_ignore = 1" in lines(assessment.findings)


def test_interfaces_losing_different_values_are_separate_causes(
    state_of: StateOf, tmp_path: Path
) -> None:
    """all=0; eth0=1, eth2=1, eth1=2 are set by echo only: at boot all three leak (one REPLY_LEAK
    on conf/all). The loss of own=1 must name eth0 and eth2, the loss of eth1=2 only eth1; the
    new reboot.py adds every interface of the boot finding to each loss it explains, giving
    (None, 1, eth0 eth2 eth1) and (eth1, 2, eth1 eth0 eth2)."""
    host = FakeHost(0, 2, 1, 2).loopback(f"{VIP}/32")
    host.interface("eth0", ON_LINK, ignore=1).interface("eth1", OFF_LINK, ignore=2)
    host.interface("eth2", OFF_LINK, ignore=1)
    root = sysctl_root(
        tmp_path,
        {
            "/etc/sysctl.d/90-x.conf": "net.ipv4.conf.all.arp_announce=2\n"
            "net.ipv4.conf.default.arp_ignore=1\nnet.ipv4.conf.default.arp_announce=2\n"
        },
    )
    found = [f for f in after_reboot(judge(state_of, host, root)) if f.parameter == ARP_IGNORE]
    assert sorted((f.value, f.conf, f.interfaces) for f in found) == [
        (1, None, ("eth0", "eth2")),
        (2, "eth1", ("eth1",)),
    ]


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
    vlan = lost(judge(state_of, host, root), "eth0.100", ARP_IGNORE)
    assert summary(vlan, Role.REALSERVER) == (
        f"on reboot eth0.100 answers ARP for VIP {VIP} (eth0.100.arp_ignore=1 lost)"
    )
    assert [sysctl_line(s) for s in vlan.fix.settings] == ["net.ipv4.conf.eth0/100.arp_ignore = 1"]


COPIED_DEFAULT: dict[str, str | bytes] = {
    "/etc/sysctl.d/50-lvs.conf": "net.ipv4.conf.all.arp_ignore = 1\n"
    "net.ipv4.conf.all.arp_announce = 2\n"
    "net.ipv4.conf.default.arp_ignore = 3\n"
    "net.ipv4.conf.default.arp_announce = 2\n"
}


def test_interfaces_created_after_systemd_sysctl_copy_the_boot_default(
    state_of: StateOf, tmp_path: Path
) -> None:
    """conf/default boots to 3: an interface that appears later starts from it and leaks."""
    host = FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK)
    assessment = judge(state_of, host, sysctl_root(tmp_path, COPIED_DEFAULT))
    reply = lost(assessment, "eth0", ARP_IGNORE)
    assert summary(reply, Role.REALSERVER) == (
        f"on reboot eth0 answers ARP for VIP {VIP} (eth0.arp_ignore=0 lost)"
    )
    assert reply.boot is not None and reply.boot.copied_default
    assert reply.boot.at_boot == 3
    assert reply.boot.source is not None
    assert (reply.boot.source.path, reply.boot.source.line) == ("/etc/sysctl.d/50-lvs.conf", 3)
    assert detail(reply, Role.REALSERVER) == (
        "eth0.arp_ignore is 0 now but nothing in sysctl.d sets it: an interface created "
        "after systemd-sysctl runs copies conf/default's 3 (/etc/sysctl.d/50-lvs.conf:3)."
    )
    assert reply.fix.settings == (SysctlSetting("eth0", ARP_IGNORE, 0),)
    default = lost(assessment, "default", ARP_IGNORE)
    assert default.consequences == (Cause.NEW_INTERFACE_RISK,)
    assert default.fix.settings == (SysctlSetting("default", ARP_IGNORE, 1),)


def test_the_copied_default_names_the_line_that_sets_it(tmp_path: Path) -> None:
    """The old detail said "or as default's 3 (/etc/sysctl.d/50-lvs.conf:3)"; the finding
    still holds that line (boot.source), but detail() no longer shows it."""
    host = FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK)
    assessment = judge(FakeHost.state, host, sysctl_root(tmp_path, COPIED_DEFAULT))
    assert "/etc/sysctl.d/50-lvs.conf:3" in detail(
        lost(assessment, "eth0", ARP_IGNORE), Role.REALSERVER
    )


def test_a_director_silenced_by_its_boot_files_is_a_warning(
    state_of: StateOf, tmp_path: Path
) -> None:
    host = FakeHost(virtual_services=(VIP,)).loopback().interface("eth0", ON_LINK, f"{VIP}/32")
    root = sysctl_root(tmp_path, {"/etc/sysctl.d/80-hard.conf": "net.ipv4.conf.all.arp_ignore=8\n"})
    assessment = judge(state_of, host, root, Role.DIRECTOR)
    holder = lost(assessment, "all", ARP_IGNORE)
    assert holder.severity is Severity.WARNING
    assert Cause.VIP_UNANSWERED in holder.consequences
    assert summary(holder, Role.DIRECTOR) == (
        f"on reboot eth0 answers no ARP for VIP {VIP} (all.arp_ignore=0 lost)"
    )
    assert holder.fix.settings == (SysctlSetting("all", ARP_IGNORE, 0),)
    assert sysctl_file(Role.DIRECTOR) == "/etc/sysctl.d/90-lvs-director.conf"
    assert lines(assessment.findings)[0] == "net.ipv4.conf.all.arp_ignore = 0"


def test_without_a_boot_view_nothing_is_read_or_added(state_of: StateOf, tmp_path: Path) -> None:
    state = state_of(sound_realserver())
    assessment = assess(state, Role.REALSERVER)
    assert not assessment.boot_checked
    assert after_reboot(assessment) == []
    tree = sound_realserver().write(tmp_path)
    check = NodeCheck(Role.REALSERVER, (), None, False, *map(str, tree_roots(tree)))
    unchecked = check.assess()
    assert not unchecked.boot_checked and after_reboot(unchecked) == []
    # The same tree with an empty sysctl root: the boot check is on and finds the losses.
    checked = check._replace(sysctl_root=str(sysctl_root(tmp_path))).assess()
    assert checked.boot_checked
    assert {f.conf for f in after_reboot(checked)} == {"all", "default"}


def tree_roots(tree: object) -> tuple[object, object, object]:
    return (tree.proc_root, tree.sys_root, tree.ip_json)  # type: ignore[attr-defined]


def test_a_missing_sysctl_root_is_a_config_error(tmp_path: Path) -> None:
    from checks.errors import ConfigError

    with pytest.raises(ConfigError, match="is not a directory"):
        boot_view(sound_realserver().state(), tmp_path / "absent")


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
    issues = boot_files(judge(FakeHost.state, host, root))
    assert [(f.severity, summary(f, Role.REALSERVER)) for f in issues] == [
        (severity, f"boot config problem at {where}")
    ]
    (issue,) = issues
    assert issue.boot is not None
    assert f"{issue.boot.path}:{issue.boot.line}" == where
    assert issue.after_reboot and detail(issue, Role.REALSERVER)


def test_a_line_that_is_not_utf8_is_applied_not_a_problem(tmp_path: Path) -> None:
    """systemd-sysctl takes a line's bytes as they are (deed30c): no problem to report, and
    the persisted value stands."""
    host = sound_realserver()
    files: dict[str, str | bytes] = {
        "/etc/sysctl.d/90-lvs.conf": b"# caf\xe9\nnet.ipv4.conf.all.arp_ignore = 1\n"
    }
    root = host.write_boot_config(sysctl_root(tmp_path, files), "00-persisted.conf")
    assessment = judge(FakeHost.state, host, root)
    assert boot_files(assessment) == []
    assert after_reboot(assessment) == []


def test_an_unreadable_file_is_a_warning_not_a_traceback(tmp_path: Path) -> None:
    root = sysctl_root(tmp_path)
    (root / "etc/sysctl.d/90-lvs.conf").mkdir()  # read() fails: a directory
    host = sound_realserver()
    host.write_boot_config(root, "00-persisted.conf")
    (issue,) = boot_files(judge(FakeHost.state, host, root))
    assert (issue.severity, summary(issue, Role.REALSERVER)) == (
        Severity.WARNING,
        "boot config problem at /etc/sysctl.d/90-lvs.conf",
    )
    assert "cannot read /etc/sysctl.d/90-lvs.conf: Is a directory" in detail(issue, Role.REALSERVER)


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
    reply = running(judge(state_of, host, root), Cause.REPLY_LEAK)
    assert reply.severity is Severity.CRITICAL
    assert reply.fix.settings == (
        SysctlSetting("all", ARP_IGNORE, 1),
        SysctlSetting("eth0", ARP_IGNORE, 0),
    )


def test_a_running_fix_says_which_later_file_would_undo_it(
    state_of: StateOf, tmp_path: Path
) -> None:
    root = sysctl_root(tmp_path, {"/etc/sysctl.d/99-zz.conf": "net.ipv4.conf.all.arp_ignore=0\n"})
    host = FakeHost(0, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK)
    reply = running(judge(state_of, host, root), Cause.REPLY_LEAK)
    assert reply.boot is not None and reply.boot.override is not None
    assert (reply.boot.override.path, reply.boot.override.line) == ("/etc/sysctl.d/99-zz.conf", 1)


def test_the_override_of_a_running_fix_is_shown_in_its_detail(tmp_path: Path) -> None:
    """The old detail ended "...99-zz.conf is applied after 90-lvs-realserver.conf and would
    still win: change it there."; detail() returns early for REPLY_LEAK before the override."""
    root = sysctl_root(tmp_path, {"/etc/sysctl.d/99-zz.conf": "net.ipv4.conf.all.arp_ignore=0\n"})
    host = FakeHost(0, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK)
    reply = running(judge(FakeHost.state, host, root), Cause.REPLY_LEAK)
    why = detail(reply, Role.REALSERVER)
    assert "/etc/sysctl.d/99-zz.conf:1" in why and "change it" in why


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
        before = assess(host.state(), role, boot=boot_view(host.state(), root))
        settings = merged_settings(before.findings)
        (root / sysctl_file(role).lstrip("/")).write_text(sysctl_file_content(role, settings))
        apply_settings(host, settings)
        return assess(host.state(), role, boot=boot_view(host.state(), root))


def unsound(assessment: Assessment, role: Role) -> list[str]:
    return [summary(f, role) for f in assessment.findings if f.severity > Severity.INFO]


def realserver_fix_and_reboot(
    running: list[int], booted: list[int | None], eth1_addressed: bool
) -> None:
    host = FakeHost(*running[:4]).loopback(f"{VIP}/32")
    host.interface("eth0", ON_LINK, ignore=running[4], announce=running[5])
    eth1 = (OFF_LINK,) if eth1_addressed else ()
    host.interface("eth1", *eth1, ignore=running[6], announce=running[7])
    after = fix_and_reboot(host, Role.REALSERVER, site_file(booted))
    assert after.worst <= Severity.INFO, unsound(after, Role.REALSERVER)


def director_fix_and_reboot(running: list[int], booted: list[int | None]) -> None:
    host = FakeHost(*running[:4], virtual_services=(VIP,)).loopback()
    host.interface("eth0", ON_LINK, f"{VIP}/32", ignore=running[4], announce=running[5])
    host.interface("eth1", OFF_LINK, ignore=running[6], announce=running[7])
    after = fix_and_reboot(host, Role.DIRECTOR, site_file(booted))
    assert after.worst <= Severity.INFO, unsound(after, Role.DIRECTOR)


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
    realserver_fix_and_reboot(running, booted, eth1_addressed)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(
    st.lists(KNOB_VALUES, min_size=8, max_size=8),
    st.lists(BOOT_VALUES, min_size=8, max_size=8),
)
def test_the_merged_file_leaves_a_director_sound_now_and_after_reboot(
    running: list[int], booted: list[int | None]
) -> None:
    director_fix_and_reboot(running, booted)


def apply_settings(host: FakeHost, settings: list[SysctlSetting]) -> None:
    """What `sysctl -p` of the fix file does to the running host."""
    for setting in settings:
        conf_name, param = setting.conf_name, setting.parameter
        if conf_name in ("all", "default"):
            setattr(host, f"{conf_name}_{param.removeprefix('arp_')}", setting.value)
        else:
            (interface,) = [i for i in host.interfaces if i.name == conf_name]
            setattr(interface, param, setting.value)
