"""The layout judges (issue 10, items 5-11) on fake states: routes, rules and services given.

The readers that produce these parts are proven on a kernel (tests/kernel/test_routes.py,
test_arp_filters.py, test_nat_redirect.py); the verdicts on real frames are in
tests/kernel/test_layouts.py. Here each judgement, its words and its fix, as data.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest
from fake_host import ETHER_UP, NOARP_UP, FakeAddress, FakeHost

from checks.assess import assess
from checks.boot.view import read_boot_view
from checks.cli.text import detail, summary
from checks.finding import Cause, Finding, Severity, SysctlSetting
from checks.judge.layouts import KUBE_STRICT_ARP_COMMAND
from checks.judge.remedy import merged_settings
from checks.model import HostState, Role
from checks.read.arp_filters import (
    ACCEPT,
    DROP,
    HIDE_SENDER,
    INPUT,
    OUTPUT,
    ArpFilters,
    ArpRule,
)
from checks.read.nat_redirect import REDIRECT, NatRedirects, NatRule
from checks.read.routes import RT_SCOPE_LINK, RT_TABLE_MAIN, RTN_UNICAST, Route
from checks.read.rule_tools import Unreadable

VIP = "192.0.2.100"
LAN = "192.0.2.11/24"
POD_LINK = "pod0"
GATEWAY = "203.0.113.1"


def route(destination: str, dev: str, via: str | None = None, onlink: bool = False) -> Route:
    gateway = None if via is None else IPv4Address(via)
    return Route(
        IPv4Network(destination), dev, 2, gateway, onlink, RT_SCOPE_LINK, RTN_UNICAST, RT_TABLE_MAIN
    )


CONNECTED = route("192.0.2.0/24", "lan0")


def realserver(ignore: int = 1, announce: int = 2) -> FakeHost:
    return FakeHost(ignore, announce).loopback(f"{VIP}/32").interface("lan0", LAN)


def judged(state: HostState, role: Role = Role.REALSERVER, vips: tuple[str, ...] = (VIP,)) -> list:
    return list(assess(state, role, [IPv4Address(v) for v in vips]).findings)


def of(findings: list[Finding], cause: Cause) -> list[Finding]:
    return [f for f in findings if f.cause is cause]


def worst(findings: list[Finding]) -> Severity:
    return max(f.severity for f in findings)


# --- 5: arp_ignore 2 with off-subnet neighbours ---------------------------------------------


def test_arp_ignore_2_with_an_onlink_gateway_is_critical_naming_it() -> None:
    gateway = route("0.0.0.0/0", "lan0", via=GATEWAY, onlink=True)
    state = realserver(ignore=2).state().replace(routes=(CONNECTED, gateway))
    findings = judged(state)
    (found,) = of(findings, Cause.OFFLINK_UNANSWERED)
    assert found.severity is Severity.CRITICAL
    assert found.interfaces == ("lan0",)
    assert found.evidence == (
        f"{GATEWAY}/32 on lan0 (route 0.0.0.0/0 via {GATEWAY} dev lan0 scope link onlink)",
    )
    assert found.fix.settings == (SysctlSetting("all", "arp_ignore", 1),)
    assert GATEWAY in summary(found, Role.REALSERVER, limit=2)
    assert not of(findings, Cause.SUBNET_ONLY)


def test_arp_ignore_2_on_one_interface_is_fixed_there() -> None:
    host = FakeHost(0, 2).loopback(f"{VIP}/32").interface("lan0", LAN, ignore=2)
    state = host.state().replace(routes=(CONNECTED, route("198.51.100.0/24", "lan0")))
    (found,) = of(judged(state), Cause.OFFLINK_UNANSWERED)
    assert (found.conf, found.value) == ("lan0", 2)
    assert found.fix.settings == (SysctlSetting("lan0", "arp_ignore", 1),)


@pytest.mark.parametrize("routes", [None, (CONNECTED,)], ids=["not-read", "no-evidence"])
def test_arp_ignore_2_without_evidence_is_ok_and_says_what_2_implies(
    routes: tuple[Route, ...] | None,
) -> None:
    findings = judged(realserver(ignore=2).state().replace(routes=routes))
    assert worst(findings) is Severity.OK
    (remark,) = of(findings, Cause.SUBNET_ONLY)
    assert remark.interfaces == ("lan0",)
    assert "another subnet" in detail(remark, Role.REALSERVER)
    assert ("routes not read" in detail(remark, Role.REALSERVER)) is (routes is None)


def test_arp_ignore_1_is_no_concern_whatever_the_routes() -> None:
    gateway = route("0.0.0.0/0", "lan0", via=GATEWAY, onlink=True)
    findings = judged(realserver(ignore=1).state().replace(routes=(CONNECTED, gateway)))
    assert worst(findings) is Severity.OK
    assert not of(findings, Cause.OFFLINK_UNANSWERED) and not of(findings, Cause.SUBNET_ONLY)


# --- 6: unnumbered links --------------------------------------------------------------------


def pod_host(ignore: int, announce: int = 2) -> HostState:
    host = realserver(ignore, announce).interface(POD_LINK)
    return host.state().replace(routes=(CONNECTED, route("10.244.1.5/32", POD_LINK)))


def test_unnumbered_link_under_all_arp_ignore_1_is_critical_and_fixed_per_interface() -> None:
    findings = judged(pod_host(1))
    (found,) = of(findings, Cause.UNNUMBERED_UNREACHABLE)
    assert found.severity is Severity.CRITICAL
    assert found.interfaces == (POD_LINK,)
    assert found.evidence == (f"{POD_LINK} (no IPv4 address; routes 10.244.1.5/32)",)
    # conf/all back to 0, the LAN interface keeps its 1: the pod link answers again.
    assert set(merged_settings(findings)) == {
        SysctlSetting("all", "arp_ignore", 0),
        SysctlSetting("lan0", "arp_ignore", 1),
    }
    # The pod link itself is no leak: it needs 0, and no director sends there.
    assert not of(findings, Cause.REPLY_LEAK)


def test_leak_fix_on_a_host_with_unnumbered_links_leaves_conf_all_alone() -> None:
    findings = judged(pod_host(0, 0))
    (leak,) = of(findings, Cause.REPLY_LEAK)
    assert leak.interfaces == ("lan0",)
    assert leak.fix.settings == (SysctlSetting("lan0", "arp_ignore", 1),)
    assert not of(findings, Cause.UNNUMBERED_UNREACHABLE)
    settings = merged_settings(findings)
    assert SysctlSetting("all", "arp_ignore", 1) not in settings
    # New interfaces there are pod links: conf/default must not be raised for them.
    assert not [f for f in of(findings, Cause.NEW_INTERFACE_RISK) if f.parameter == "arp_ignore"]


def test_per_interface_fix_is_sound_with_the_unnumbered_link() -> None:
    fixed = FakeHost(0, 2).loopback(f"{VIP}/32").interface("lan0", LAN, ignore=1)
    state = fixed.interface(POD_LINK).state()
    state = state.replace(routes=(CONNECTED, route("10.244.1.5/32", POD_LINK)))
    findings = judged(state)
    assert worst(findings) is Severity.OK, [f for f in findings if f.is_problem]


def test_without_routes_there_is_no_unnumbered_judgement() -> None:
    state = realserver(1).interface(POD_LINK).state()
    assert not of(judged(state), Cause.UNNUMBERED_UNREACHABLE)


# --- 7: ARP filter rules --------------------------------------------------------------------


def rule(chain: str, hook: str, verdict: str, *, target: str = "", sender: str = "") -> ArpRule:
    targets = (IPv4Network(target),) if target else ()
    senders = (IPv4Network(sender),) if sender else ()
    text = f"-j {verdict} -d {target}" if target else f"-j {verdict} -s {sender}"
    return ArpRule(chain, hook, targets, senders, None, verdict, False, text)


INPUT_DROP = rule("arptables-nft filter INPUT", INPUT, DROP, target=VIP)
OUTPUT_MANGLE = rule("arptables-nft filter OUTPUT", OUTPUT, HIDE_SENDER, sender=VIP)
POLICIES = (
    ArpRule("arptables-nft filter INPUT", INPUT, (), (), None, ACCEPT, False, "policy ACCEPT"),
    ArpRule("arptables-nft filter OUTPUT", OUTPUT, (), (), None, ACCEPT, False, "policy ACCEPT"),
)


def filtered(*rules: ArpRule, unreadable: tuple[Unreadable, ...] = ()) -> HostState:
    return realserver(0, 0).state().replace(arp_filters=ArpFilters((*rules, *POLICIES), unreadable))


def test_rules_hiding_both_halves_with_sysctls_at_0_are_ok_naming_the_rules() -> None:
    findings = judged(filtered(INPUT_DROP, OUTPUT_MANGLE))
    assert worst(findings) is Severity.INFO
    (named,) = of(findings, Cause.ARP_FILTERED)
    assert named.vips == (IPv4Address(VIP),)
    assert named.evidence == (str(INPUT_DROP), str(OUTPUT_MANGLE))
    assert str(INPUT_DROP) in summary(named, Role.REALSERVER, limit=2)
    assert not [f for f in findings if f.is_problem]


def test_input_only_rules_leave_the_announce_leak_critical() -> None:
    findings = judged(filtered(INPUT_DROP))
    problems = [f for f in findings if f.is_problem]
    # The announce half leaks now, and from interfaces created later (conf/default 0) too;
    # the reply half is hidden by the rules on every interface, new ones included.
    assert [(f.cause, f.parameter) for f in problems] == [
        (Cause.ANNOUNCE_LEAK, "arp_announce"),
        (Cause.NEW_INTERFACE_RISK, "arp_announce"),
    ]
    assert problems[0].severity is Severity.CRITICAL
    assert of(findings, Cause.REPLY_HIDDEN)


def test_unreadable_rules_are_said_plainly_and_the_sysctls_judge() -> None:
    why = Unreadable("nft", "nft exited 1: Operation not permitted; needs CAP_NET_ADMIN")
    findings = judged(filtered(unreadable=(why,)))
    (remark,) = of(findings, Cause.RULES_UNREAD)
    assert remark.severity is Severity.INFO
    assert remark.evidence == (str(why),)
    assert "CAP_NET_ADMIN" in detail(remark, Role.REALSERVER)
    assert {f.cause for f in findings if f.is_problem} >= {Cause.REPLY_LEAK, Cause.ANNOUNCE_LEAK}


def test_rules_not_read_change_nothing() -> None:
    without = judged(realserver(0, 0).state())
    assert not of(without, Cause.RULES_UNREAD) and not of(without, Cause.ARP_FILTERED)


# --- 8: nat REDIRECT instead of a VIP -------------------------------------------------------

REDIRECT_RULE = NatRule(
    "iptables-nft nat PREROUTING",
    (IPv4Network(f"{VIP}/32"),),
    "tcp",
    "80",
    REDIRECT,
    None,
    False,
    f"-d {VIP}/32 -p tcp -m tcp --dport 80 -j REDIRECT",
)


def no_vip_host() -> FakeHost:
    return FakeHost(0, 0).loopback().interface("lan0", LAN)


def test_redirected_vip_is_ok_naming_the_rule() -> None:
    state = no_vip_host().state().replace(nat=NatRedirects((REDIRECT_RULE,), ()))
    findings = judged(state)
    assert worst(findings) is Severity.OK, [f for f in findings if f.is_problem]
    (found,) = of(findings, Cause.VIP_REDIRECTED)
    assert found.evidence == (str(REDIRECT_RULE),)
    assert "REDIRECT" in summary(found, Role.REALSERVER, limit=2)
    assert not of(findings, Cause.VIP_ABSENT)


def test_without_the_rule_the_vip_is_absent() -> None:
    findings = judged(no_vip_host().state().replace(nat=NatRedirects((), ())))
    assert of(findings, Cause.VIP_ABSENT)
    assert not of(findings, Cause.VIP_REDIRECTED)


# --- 9: firewall-mark services --------------------------------------------------------------


def director() -> FakeHost:
    return FakeHost().loopback().interface("lan0", LAN, f"{VIP}/32")


def test_fwmark_director_is_not_balancing_nothing() -> None:
    state = director().state().replace(virtual_services=(), fwmark_services=1)
    assert not of(judged(state, Role.DIRECTOR), Cause.ROLE_DOUBT)
    no_services = director().state().replace(virtual_services=())
    assert of(judged(no_services, Role.DIRECTOR), Cause.ROLE_DOUBT)


def test_fwmark_services_on_a_real_server_are_doubted() -> None:
    state = realserver().state().replace(virtual_services=(), fwmark_services=2)
    assert of(judged(state), Cause.ROLE_DOUBT)


# --- 10: kube-proxy IPVS --------------------------------------------------------------------

SERVICES = ("10.96.0.1", "10.96.0.10", "198.51.100.7")


def kube_node(ignore: int, announce: int) -> HostState:
    host = FakeHost(ignore, announce, virtual_services=SERVICES).loopback()
    host.interface("lan0", LAN, flags=ETHER_UP)
    host.interface("kube-ipvs0", *(f"{s}/32" for s in SERVICES), flags=NOARP_UP & ~1)
    return host.state()


def test_kube_node_without_strict_arp_is_critical_and_names_strict_arp() -> None:
    findings = judged(kube_node(0, 0), vips=())
    # The service IPs are the VIPs judged: the leaks name them, and their fix strictARP.
    leaks = [f for f in findings if f.cause in (Cause.REPLY_LEAK, Cause.ANNOUNCE_LEAK)]
    assert {f.cause for f in findings if f.is_problem} == {
        Cause.REPLY_LEAK,
        Cause.ANNOUNCE_LEAK,
        Cause.NEW_INTERFACE_RISK,  # conf/default 0: interfaces created later leak too
    }
    for leak in leaks:
        assert leak.severity is Severity.CRITICAL
        assert leak.vips == tuple(IPv4Address(s) for s in SERVICES)
        assert leak.fix.commands == (KUBE_STRICT_ARP_COMMAND,)
        assert leak.fix.settings[0].conf_name == "all"
        assert "strictARP" in detail(leak, Role.REALSERVER)
    assert not of(findings, Cause.KUBE_STRICT_ARP)
    # kube-proxy's services on kube-ipvs0 make no LVS director of the node.
    assert not of(findings, Cause.ROLE_DOUBT)


def test_kube_node_checked_for_another_vip_gets_its_own_finding() -> None:
    findings = judged(kube_node(0, 0), vips=(VIP,))
    (found,) = of(findings, Cause.KUBE_STRICT_ARP)
    assert found.severity is Severity.CRITICAL
    assert found.interfaces == ("lan0",)
    assert found.vips == tuple(IPv4Address(s) for s in SERVICES)
    assert found.fix.commands == (KUBE_STRICT_ARP_COMMAND,)
    assert found.fix.settings == (
        SysctlSetting("all", "arp_ignore", 1),
        SysctlSetting("all", "arp_announce", 2),
    )
    assert "strictARP" in summary(found, Role.REALSERVER, limit=2)


def test_kube_node_with_strict_arp_is_sound_and_not_lost_at_reboot(tmp_path: Path) -> None:
    state = kube_node(1, 2)
    boot = read_boot_view((i.name for i in state.interfaces), str(tmp_path))
    findings = assess(state, Role.REALSERVER, boot=boot).findings
    assert not [f for f in findings if f.is_problem], [f for f in findings if f.is_problem]
    # The same values on a node without kube-proxy are lost at reboot.
    plain = realserver(1, 2).state()
    boot = read_boot_view((i.name for i in plain.interfaces), str(tmp_path))
    lost = assess(plain, Role.REALSERVER, boot=boot).findings
    assert [f.conf for f in lost if f.cause is Cause.LOST_AT_REBOOT] == ["all", "all"]


def test_services_off_kube_ipvs0_still_raise_role_doubt() -> None:
    host = FakeHost(1, 2, virtual_services=(VIP,)).loopback().interface("lan0", LAN)
    host.interface("kube-ipvs0", "10.96.0.1/32", flags=NOARP_UP)
    assert of(judged(host.state()), Cause.ROLE_DOUBT)


def test_kube_ipvs0_with_a_scope_host_address_is_judged_too() -> None:
    host = FakeHost(0, 0, virtual_services=("10.96.0.1",)).loopback()
    host.interface("lan0", LAN)
    host.interface("kube-ipvs0", FakeAddress("10.96.0.1/32", "host"), flags=NOARP_UP)
    (leak,) = of(judged(host.state(), vips=()), Cause.REPLY_LEAK)
    assert KUBE_STRICT_ARP_COMMAND in leak.fix.commands


def test_excluded_unnumbered_links_are_not_judged() -> None:
    state = pod_host(1)
    findings = assess(state, Role.REALSERVER, [IPv4Address(VIP)], re.compile("^pod")).findings
    assert not of(list(findings), Cause.UNNUMBERED_UNREACHABLE)
