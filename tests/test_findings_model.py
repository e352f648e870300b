"""The finding model: one finding per root cause, whatever the number of interfaces and VIPs.

A finding names the sysctl entry (or VIP placement, or boot file) at fault and carries what
it affects as data; the faces word it. These tests pin the grouping and the data itself.
"""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest
from fake_host import FakeHost, StateOf

from checks.assess import Assessment, assess
from checks.cli.nagios import label
from checks.cli.text import names, summary
from checks.finding import NO_FIX, Cause, Finding, Fix, Severity, SysctlSetting
from checks.judge.remedy import merged_settings, sysctl_file_content, sysctl_line
from checks.model import ARP_ANNOUNCE, ARP_IGNORE, Role
from checks.names import printable

VIP = "10.0.0.100"
ON_LINK = "10.0.0.10/24"


def judge(state_of: StateOf, host: FakeHost, role: Role = Role.REALSERVER) -> Assessment:
    return assess(state_of(host), role)


def of_cause(assessment: Assessment, cause: Cause) -> list[Finding]:
    return [f for f in assessment.findings if f.cause is cause]


def many(
    count: int, ignore: int = 0, announce: int = 0, all_values: tuple[int, int] = (0, 2)
) -> FakeHost:
    """A real server with *count* interfaces eth0.. each at the given own values."""
    host = FakeHost(*all_values, 1, 2).loopback(f"{VIP}/32")
    for n in range(count):
        host.interface(f"eth{n}", f"192.168.{n}.10/24", ignore=ignore, announce=announce)
    return host


def test_forty_interfaces_behind_all_0_are_one_reply_leak(state_of: StateOf) -> None:
    verdict = judge(state_of, many(40))
    (leak,) = of_cause(verdict, Cause.REPLY_LEAK)
    assert leak.severity is Severity.CRITICAL
    assert (leak.parameter, leak.conf, leak.value, leak.all_value) == (ARP_IGNORE, "all", 0, 0)
    assert leak.interfaces == tuple(sorted(f"eth{n}" for n in range(40)))
    assert leak.vips == (IPv4Address(VIP),)
    assert leak.fix == Fix(settings=(SysctlSetting("all", ARP_IGNORE, 1),))
    # Everything else about those 40 interfaces is sound, and said once.
    assert [f.cause for f in verdict.findings if f.is_problem] == [Cause.REPLY_LEAK]
    (hidden,) = of_cause(verdict, Cause.ANNOUNCE_HIDDEN)
    assert len(hidden.interfaces) == 40
    assert len(verdict.findings) == 3  # VIP_PLACED, REPLY_LEAK, ANNOUNCE_HIDDEN


def test_the_number_of_findings_does_not_grow_with_interfaces(state_of: StateOf) -> None:
    sizes = {len(judge(state_of, many(n)).findings) for n in (1, 10, 200)}
    assert sizes == {3}


def test_interfaces_outbidding_conf_all_with_the_same_value_are_one_group(
    state_of: StateOf,
) -> None:
    host = FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32")
    for name, own in (("eth0", 4), ("eth1", 4), ("eth2", 5), ("eth3", 0), ("eth4", 4)):
        host.interface(name, ON_LINK if name == "eth0" else "192.168.7.1/24", ignore=own)
    verdict = judge(state_of, host)
    leaks = {(f.conf, f.value): f.interfaces for f in of_cause(verdict, Cause.REPLY_LEAK)}
    # conf None: each interface's own entry, all holding the same value.
    assert leaks == {(None, 4): ("eth0", "eth1", "eth4"), ("eth2", 5): ("eth2",)}
    for finding in of_cause(verdict, Cause.REPLY_LEAK):
        assert finding.all_value == 1 and finding.effective == finding.value
    (hidden,) = of_cause(verdict, Cause.REPLY_HIDDEN)
    assert (hidden.conf, hidden.interfaces) == ("all", ("eth3",))
    group = next(f for f in of_cause(verdict, Cause.REPLY_LEAK) if f.conf is None)
    # The fix names each interface's own entry: conf/all is sound already.
    assert group.fix.settings == tuple(
        SysctlSetting(name, ARP_IGNORE, 1) for name in ("eth0", "eth1", "eth4")
    )
    assert summary(group, Role.REALSERVER) == (
        f"eth0 (+2 more) answer ARP for VIP {VIP} (own arp_ignore=4 > all=1)"
    )


def test_an_outbidding_group_of_down_interfaces_warns(state_of: StateOf) -> None:
    host = FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK)
    host.interface("eth1", "192.168.1.1/24", ignore=4, flags=0x1002)
    host.interface("eth2", "192.168.2.1/24", ignore=4, flags=0x1002)
    (leak,) = of_cause(judge(state_of, host), Cause.REPLY_LEAK)
    assert (leak.severity, leak.interfaces) == (Severity.WARNING, ("eth1", "eth2"))


def test_vips_misplaced_on_one_interface_are_one_finding(state_of: StateOf) -> None:
    host = FakeHost(1, 2, 1, 2).loopback()
    host.interface("eth0", ON_LINK, *(f"10.0.0.{n}/32" for n in range(100, 110)))
    vips = [IPv4Address(f"10.0.0.{n}") for n in range(100, 110)]
    verdict = assess(state_of(host), Role.REALSERVER, vips)
    (misplaced,) = of_cause(verdict, Cause.VIP_ON_ARP_INTERFACE)
    assert misplaced.vips == tuple(vips)
    assert misplaced.interfaces == ("eth0",)
    assert len(misplaced.fix.commands) == 20  # a del and an add per VIP


def test_effective_is_the_max_of_conf_all_and_the_value() -> None:
    def knob(value: int | None, all_value: int | None) -> Finding:
        return Finding(Severity.OK, Cause.REPLY_HIDDEN, ARP_IGNORE, "all", value, all_value)

    assert knob(0, 1).effective == 1
    assert knob(4, 1).effective == 4
    assert knob(2, None).effective == 2
    assert knob(None, 1).effective is None


def test_problems_and_interfaces_with(state_of: StateOf) -> None:
    host = many(3, ignore=0, announce=3, all_values=(0, 2))
    verdict = judge(state_of, host)
    assert [f.cause for f in verdict.problems()] == [Cause.REPLY_LEAK, Cause.ANNOUNCE_LEAK]
    assert verdict.interfaces_with(Cause.REPLY_LEAK) == {"eth0", "eth1", "eth2"}
    assert verdict.interfaces_with(Cause.SILENT) == set()
    assert verdict.interfaces_with(Cause.REPLY_LEAK, after_reboot=True) == set()
    # Sound groups are findings too, but never problems.
    assert all(f.severity >= Severity.WARNING for f in verdict.problems())


def test_a_fix_is_true_only_with_something_to_do() -> None:
    assert not NO_FIX
    assert Fix(settings=(SysctlSetting("all", ARP_IGNORE, 1),))
    assert Fix(commands=("ip addr add 10.0.0.100/32 dev lo",))


def test_merged_settings_put_all_and_default_first_and_the_worse_finding_wins() -> None:
    lost = Finding(
        Severity.WARNING,
        Cause.LOST_AT_REBOOT,
        fix=Fix((SysctlSetting("eth0", ARP_IGNORE, 4), SysctlSetting("all", ARP_IGNORE, 0))),
    )
    leak = Finding(
        Severity.CRITICAL,
        Cause.REPLY_LEAK,
        fix=Fix((SysctlSetting("default", ARP_ANNOUNCE, 2), SysctlSetting("all", ARP_IGNORE, 1))),
    )
    merged = merged_settings([lost, leak])
    assert [sysctl_line(s) for s in merged] == [
        "net.ipv4.conf.all.arp_ignore = 1",
        "net.ipv4.conf.default.arp_announce = 2",
        "net.ipv4.conf.eth0.arp_ignore = 4",
    ]
    assert sysctl_file_content(Role.REALSERVER, merged).endswith(
        "net.ipv4.conf.eth0.arp_ignore = 4\n"
    )
    assert sysctl_line(SysctlSetting("eth0.100", ARP_IGNORE, 1)) == (
        "net.ipv4.conf.eth0/100.arp_ignore = 1"
    )


def test_names_are_cut_to_a_few_and_a_count() -> None:
    interfaces = [f"eth{n}" for n in range(1002)]
    assert names(interfaces[:1]) == "eth0"
    assert names(interfaces[:2], limit=2) == "eth0, eth1"
    assert names(interfaces) == "eth0 (+1,001 more)"
    assert names([IPv4Address(VIP)]) == VIP


PRINTABLE = {
    "plain": ("eth0", "eth0"),
    "raw-byte": ("v\udcff", "v\\xff"),
    "backslash-x": ("v\\xff", "v\\\\xff"),
    "newline": ("a\nb", "a\\x0ab"),
    "tab": ("a\tb", "a\\x09b"),
    "non-ascii-printable": ("café", "café"),
}


@pytest.mark.parametrize(("name", "shown"), PRINTABLE.values(), ids=PRINTABLE)
def test_printable(name: str, shown: str) -> None:
    assert printable(name) == shown


def test_printable_is_injective_on_tricky_names() -> None:
    tricky = ["v\udcff", "v\\xff", "v\\\\xff", "a\nb", "a\\x0ab", "a=b", "a'b", 'a"b']
    assert len({printable(n) for n in tricky}) == len(tricky)
    assert all("\n" not in printable(n) for n in tricky)


def test_perfdata_labels_are_distinct_and_quoted_where_needed() -> None:
    tricky = ["v\udcff", "v\\xff", "a=b", "a'b", 'a"b', "eth0"]
    labels = [label(n, ARP_IGNORE) for n in tricky]
    assert len(set(labels)) == len(labels)
    assert label("eth0", ARP_IGNORE) == "eth0_arp_ignore"
    assert label("a=b", ARP_IGNORE) == "'a=b_arp_ignore'"
    assert label("a'b", ARP_IGNORE) == "'a''b_arp_ignore'"
    assert label("v\udcff", ARP_IGNORE) == "v\\xff_arp_ignore"
    assert label("v\\xff", ARP_IGNORE) == "v\\\\xff_arp_ignore"
