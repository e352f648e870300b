"""A real server hides the VIP: every row of ARP-SEMANTICS §3-§5 through assess().

Each host is judged twice (the `state_of` fixture): built in Python, and written as a fake
/proc, /sys and `ip -json` tree then read back. A finding is one root cause: the knob rows
look up the one finding of a check (leak or hidden) that names eth0, and assert the entry
that decides it (conf, raw value, conf/all's value) besides its state.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address

import pytest
from fake_host import ETHER_DOWN, ETHER_UP, LOOPBACK_UP, NOARP_UP, FakeAddress, FakeHost, StateOf
from hypothesis import example, given, settings
from hypothesis import strategies as st

from checks.assess import Assessment, assess
from checks.cli.text import summary
from checks.finding import Cause, Finding, Severity, SysctlSetting
from checks.judge.remedy import merged_settings, sysctl_line
from checks.model import ARP_ANNOUNCE, ARP_IGNORE, Role

VIP = "10.0.0.100"
ON_LINK = "10.0.0.10/24"  # eth0's own address, in the VIP's subnet (the usual DR layout)
OFF_LINK = "192.168.1.10/24"

OK, INFO, WARNING, CRITICAL, UNKNOWN = (
    Severity.OK,
    Severity.INFO,
    Severity.WARNING,
    Severity.CRITICAL,
    Severity.UNKNOWN,
)
# The two findings each knob check gives an interface: at fault, or sound.
REPLY = (Cause.REPLY_LEAK, Cause.REPLY_HIDDEN)
ANNOUNCE = (Cause.ANNOUNCE_LEAK, Cause.ANNOUNCE_HIDDEN)


def realserver(
    ignore: tuple[int, int] = (1, 0),
    announce: tuple[int, int] = (2, 0),
    default: tuple[int, int] = (1, 2),
    eth0: tuple[str, ...] = (ON_LINK,),
    lo: tuple[str | FakeAddress, ...] = (f"{VIP}/32",),
    eth0_flags: int = ETHER_UP,
) -> FakeHost:
    """lo holds the VIP; ignore/announce are (conf/all, conf/eth0); default is conf/default."""
    host = FakeHost(ignore[0], announce[0], default[0], default[1])
    host.loopback(*lo)
    return host.interface("eth0", *eth0, ignore=ignore[1], announce=announce[1], flags=eth0_flags)


def judge(
    state_of: StateOf, host: FakeHost, *vips: str, exclude: re.Pattern[str] | None = None
) -> Assessment:
    return assess(state_of(host), Role.REALSERVER, [IPv4Address(v) for v in vips], exclude)


def finding_of(verdict: Assessment, causes: tuple[Cause, ...], interface: str) -> Finding:
    """The one finding of these causes that names *interface*."""
    found = [f for f in verdict.findings if f.cause in causes and interface in f.interfaces]
    assert len(found) == 1, found
    return found[0]


def only(verdict: Assessment, cause: Cause, parameter: str | None = None) -> Finding:
    found = [f for f in verdict.findings if f.cause is cause and f.parameter == parameter]
    assert len(found) == 1, found
    return found[0]


def severities(verdict: Assessment, interface: str) -> set[Severity]:
    """The states of every finding that names *interface*."""
    return {f.severity for f in verdict.findings if interface in f.interfaces}


def causes(verdict: Assessment) -> list[Cause]:
    return [f.cause for f in verdict.findings]


def fix_lines(verdict: Assessment) -> list[str]:
    return [sysctl_line(s) for s in merged_settings(verdict.findings)]


def text(finding: Finding) -> str:
    return summary(finding, Role.REALSERVER)


def decider(values: tuple[int, int]) -> tuple[str, int]:
    """The entry that decides eth0's effective value: its own only when it outbids conf/all."""
    return ("eth0", values[1]) if values[1] > values[0] else ("all", values[0])


# ARP-SEMANTICS §3: (conf/all, conf/eth0) arp_ignore -> eth0's reply finding, worst state
IGNORE_ROWS = {
    "0-answers-any": ((0, 0), CRITICAL, CRITICAL),
    "1-receiving-iface-only": ((1, 0), OK, OK),
    "2-receiving-iface-and-subnet": ((2, 0), OK, OK),
    "3-vip-scope-global": ((3, 0), CRITICAL, CRITICAL),
    "4-reserved": ((4, 0), CRITICAL, CRITICAL),
    "5-reserved": ((5, 0), CRITICAL, CRITICAL),
    "6-reserved": ((6, 0), CRITICAL, CRITICAL),
    "7-reserved": ((7, 0), CRITICAL, CRITICAL),
    "9-default-case": ((9, 0), CRITICAL, CRITICAL),
    "int-max": ((2147483647, 0), CRITICAL, CRITICAL),
    "negative": ((-1, -1), CRITICAL, CRITICAL),
    "negative-all-eth0-0": ((-3, 0), CRITICAL, CRITICAL),
    "eth0-raises-all-0": ((0, 1), OK, OK),
    "eth0-2-raises-all-0": ((0, 2), OK, OK),
    "eth0-4-outbids-all-1": ((1, 4), CRITICAL, CRITICAL),
    "eth0-3-outbids-all-2": ((2, 3), CRITICAL, CRITICAL),
}


@pytest.mark.parametrize(("ignore", "eth0_state", "worst"), IGNORE_ROWS.values(), ids=IGNORE_ROWS)
def test_arp_ignore_row(
    state_of: StateOf, ignore: tuple[int, int], eth0_state: Severity, worst: Severity
) -> None:
    verdict = judge(state_of, realserver(ignore=ignore))
    reply = finding_of(verdict, REPLY, "eth0")
    assert reply.severity is eth0_state
    assert reply.cause is (Cause.REPLY_LEAK if eth0_state is CRITICAL else Cause.REPLY_HIDDEN)
    assert reply.parameter == ARP_IGNORE
    assert reply.effective == max(ignore)
    assert (reply.conf, reply.value) == decider(ignore)
    assert reply.all_value == ignore[0]
    assert reply.vips == ((IPv4Address(VIP),) if eth0_state is CRITICAL else ())
    assert verdict.worst is worst


def test_arp_ignore_leak_names_vip_and_values(state_of: StateOf) -> None:
    reply = finding_of(judge(state_of, realserver(ignore=(0, 0))), REPLY, "eth0")
    assert reply.vips == (IPv4Address(VIP),)
    assert reply.interfaces == ("eth0",)
    assert text(reply) == f"eth0 answers ARP for VIP {VIP} (all.arp_ignore=0)"


def test_an_outbidding_own_value_is_named_with_conf_all_beside_it(state_of: StateOf) -> None:
    reply = finding_of(judge(state_of, realserver(ignore=(1, 4))), REPLY, "eth0")
    assert text(reply) == f"eth0 answers ARP for VIP {VIP} (eth0.arp_ignore=4 > all=1)"


@pytest.mark.parametrize(
    ("scope", "state"), [("host", OK), ("global", CRITICAL)], ids=["scope-host", "scope-global"]
)
def test_arp_ignore_3_hides_only_a_scope_host_vip(
    state_of: StateOf, scope: str, state: Severity
) -> None:
    host = realserver(ignore=(3, 3), default=(3, 2), lo=(FakeAddress(f"{VIP}/32", scope),))
    verdict = judge(state_of, host)
    assert finding_of(verdict, REPLY, "eth0").severity is state
    assert verdict.worst is state


def test_arp_ignore_8_with_an_own_address_silences_the_node(state_of: StateOf) -> None:
    verdict = judge(state_of, realserver(ignore=(1, 8)))
    assert verdict.worst is CRITICAL
    silent = [f for f in verdict.findings if f.cause is Cause.SILENT]
    assert [f.severity for f in silent] == [CRITICAL]
    assert silent[0].interfaces == ("eth0",)
    assert (silent[0].conf, silent[0].value, silent[0].all_value) == ("eth0", 8, 1)
    assert text(silent[0]).startswith("eth0 answers no ARP, not even for own addresses")
    assert silent[0].fix.settings == (SysctlSetting("eth0", ARP_IGNORE, 1),)


def test_arp_ignore_8_without_an_own_address_is_sound(state_of: StateOf) -> None:
    verdict = judge(state_of, realserver(ignore=(1, 8), eth0=()))
    assert finding_of(verdict, REPLY, "eth0").severity is OK
    assert Cause.SILENT not in causes(verdict)
    assert verdict.worst is OK


def test_arp_ignore_8_on_a_down_interface_warns(state_of: StateOf) -> None:
    verdict = judge(state_of, realserver(ignore=(1, 8), eth0_flags=ETHER_DOWN))
    assert only(verdict, Cause.SILENT, ARP_IGNORE).severity is WARNING
    assert verdict.worst is WARNING


# ARP-SEMANTICS §4: (conf/all, conf/eth0) arp_announce, eth0's address -> eth0's finding
ANNOUNCE_ROWS = {
    "0-any-source": ((0, 0), ON_LINK, CRITICAL),
    "1-vip-on-link": ((1, 0), ON_LINK, CRITICAL),
    "1-vip-off-link": ((1, 1), OFF_LINK, OK),
    "2-own-address": ((2, 0), ON_LINK, OK),
    "3-default-case": ((3, 0), ON_LINK, CRITICAL),
    "5-default-case": ((5, 0), ON_LINK, CRITICAL),
    "int-max": ((2147483647, 0), ON_LINK, CRITICAL),
    "negative": ((-1, -1), ON_LINK, CRITICAL),
    "eth0-2-raises-all-0": ((0, 2), ON_LINK, OK),
    "eth0-3-outbids-all-2": ((2, 3), ON_LINK, CRITICAL),
}


@pytest.mark.parametrize(
    ("announce", "eth0_address", "state"), ANNOUNCE_ROWS.values(), ids=ANNOUNCE_ROWS
)
def test_arp_announce_row(
    state_of: StateOf, announce: tuple[int, int], eth0_address: str, state: Severity
) -> None:
    verdict = judge(state_of, realserver(announce=announce, eth0=(eth0_address,)))
    finding = finding_of(verdict, ANNOUNCE, "eth0")
    assert finding.severity is state
    leak = state is CRITICAL
    assert finding.cause is (Cause.ANNOUNCE_LEAK if leak else Cause.ANNOUNCE_HIDDEN)
    assert finding.parameter == ARP_ANNOUNCE
    assert finding.effective == max(announce)
    assert (finding.conf, finding.value) == decider(announce)
    assert finding.all_value == announce[0]
    assert finding.vips == ((IPv4Address(VIP),) if leak else ())
    assert verdict.worst is state


def test_arp_announce_leak_names_vip(state_of: StateOf) -> None:
    finding = finding_of(judge(state_of, realserver(announce=(2, 3))), ANNOUNCE, "eth0")
    assert finding.vips == (IPv4Address(VIP),)
    assert text(finding) == f"eth0 announces VIP {VIP} (eth0.arp_announce=3 > all=2)"


def test_sound_interfaces_but_default_leaking_warns_for_new_interfaces(
    state_of: StateOf,
) -> None:
    verdict = judge(state_of, realserver(ignore=(0, 1), announce=(0, 2), default=(0, 0)))
    assert severities(verdict, "eth0") == {OK}
    new_ignore = only(verdict, Cause.NEW_INTERFACE_RISK, ARP_IGNORE)
    new_announce = only(verdict, Cause.NEW_INTERFACE_RISK, ARP_ANNOUNCE)
    for finding in (new_ignore, new_announce):
        assert finding.severity is WARNING
        assert (finding.conf, finding.value, finding.all_value) == ("default", 0, 0)
        assert finding.interfaces == ()
    # conf/all's 0 is unsound on its own: raising it covers new interfaces (max(all, default)).
    assert new_ignore.fix.settings == (SysctlSetting("all", ARP_IGNORE, 1),)
    assert new_announce.fix.settings == (SysctlSetting("all", ARP_ANNOUNCE, 2),)
    assert verdict.worst is WARNING


@pytest.mark.parametrize(
    ("all_values", "default", "worst"),
    [
        ((0, 0), (1, 2), OK),
        ((1, 2), (0, 0), OK),
        ((1, 2), (3, 2), WARNING),
        ((1, 2), (8, 2), WARNING),
        ((1, 1), (1, 1), WARNING),
    ],
    ids=["default-alone-hides", "all-lifts-default", "default-3", "default-8", "announce-1"],
)
def test_new_interface_gets_max_of_all_and_default(
    state_of: StateOf, all_values: tuple[int, int], default: tuple[int, int], worst: Severity
) -> None:
    host = realserver(ignore=(all_values[0], 1), announce=(all_values[1], 2), default=default)
    verdict = judge(state_of, host)
    assert severities(verdict, "eth0") == {OK}
    new = [f for f in verdict.findings if f.cause is Cause.NEW_INTERFACE_RISK]
    assert {f.severity for f in new} == ({worst} if worst is not OK else set())
    assert verdict.worst is worst


def test_new_interface_announce_1_follows_existing_interfaces_off_link(state_of: StateOf) -> None:
    """All ARP interfaces off the VIP's subnet: arp_announce=1 hides it, new ones included.

    lo holds the VIP/32, which is "on-link" for lo itself; lo does no ARP, so it must not count.
    """
    verdict = judge(state_of, realserver(announce=(1, 1), default=(1, 1), eth0=(OFF_LINK,)))
    assert finding_of(verdict, ANNOUNCE, "eth0").severity is OK
    assert Cause.NEW_INTERFACE_RISK not in causes(verdict)
    assert verdict.worst is OK


def test_lo_own_values_have_no_effect(state_of: StateOf) -> None:
    host = FakeHost(0, 0, 1, 2).interface(
        "lo", "127.0.0.1/8", f"{VIP}/32", ignore=8, announce=2, flags=LOOPBACK_UP
    )
    verdict = judge(state_of, host.interface("eth0", ON_LINK))
    assert finding_of(verdict, REPLY, "eth0").severity is CRITICAL
    assert finding_of(verdict, ANNOUNCE, "eth0").severity is CRITICAL
    assert "lo" not in {i.name for i in verdict.checked}
    # lo appears where it holds the VIP, and in INFO remarks that its own values do nothing.
    on_lo = [(f.severity, f.cause, f.parameter) for f in verdict.findings if "lo" in f.interfaces]
    assert on_lo == [
        (OK, Cause.VIP_PLACED, None),
        (INFO, Cause.NO_EFFECT, ARP_IGNORE),
        (INFO, Cause.NO_EFFECT, ARP_ANNOUNCE),
    ]


def test_vip_on_noarp_interface_is_sound(state_of: StateOf) -> None:
    host = FakeHost(1, 2, 1, 2).loopback().interface("dummy0", f"{VIP}/32", flags=NOARP_UP)
    verdict = judge(state_of, host.interface("eth0", ON_LINK))
    assert verdict.vips == (IPv4Address(VIP),)
    assert [i.name for i in verdict.checked] == ["eth0"]
    placed = only(verdict, Cause.VIP_PLACED)
    assert (placed.interfaces, placed.vips) == (("dummy0",), (IPv4Address(VIP),))
    assert verdict.worst is OK


def test_vip_on_arp_interface_is_critical(state_of: StateOf) -> None:
    host = realserver(lo=(), eth0=(ON_LINK, f"{VIP}/32"))
    verdict = judge(state_of, host, VIP)
    placement = only(verdict, Cause.VIP_ON_ARP_INTERFACE)
    assert placement.severity is CRITICAL
    assert (placement.interfaces, placement.vips) == (("eth0",), (IPv4Address(VIP),))
    assert [str(a) for a in placement.addresses] == [f"{VIP}/32"]
    assert text(placement) == f"eth0 holds VIP {VIP}: the node answers ARP for it"
    assert placement.fix.commands == (
        f"ip addr del {VIP}/32 dev eth0",
        f"ip addr add {VIP}/32 dev lo",
    )
    assert verdict.worst is CRITICAL


def test_an_interface_holding_the_vip_is_not_reported_as_hiding_it(state_of: StateOf) -> None:
    """arp_ignore=1 answers for addresses on the receiving interface (ARP-SEMANTICS §3).

    The old model's eth0 reply finding was CRITICAL here; the new one puts eth0 in the OK
    REPLY_HIDDEN group, and `-v` then prints "1 ARP interface hides the VIPs from ARP
    replies" for the interface that answers for the VIP.
    """
    verdict = judge(state_of, realserver(lo=(), eth0=(ON_LINK, f"{VIP}/32")), VIP)
    hidden = [f for f in verdict.findings if f.cause is Cause.REPLY_HIDDEN]
    assert not [f for f in hidden if "eth0" in f.interfaces]


def test_vip_with_wide_mask_on_lo_is_critical(state_of: StateOf) -> None:
    verdict = judge(state_of, realserver(lo=(f"{VIP}/24",)))
    placement = only(verdict, Cause.VIP_WIDE_MASK)
    assert placement.severity is CRITICAL
    assert placement.interfaces == ("lo",)
    assert "10.0.0.0/24" in text(placement)
    assert placement.fix.commands == (
        f"ip addr del {VIP}/24 dev lo",
        f"ip addr add {VIP}/32 dev lo",
    )
    assert verdict.worst is CRITICAL


def test_vip_absent_is_critical(state_of: StateOf) -> None:
    verdict = judge(state_of, realserver(lo=()), VIP)
    placement = only(verdict, Cause.VIP_ABSENT)
    assert placement.severity is CRITICAL
    assert placement.vips == (IPv4Address(VIP),)
    assert text(placement) == f"VIP {VIP} not configured on this real server"
    assert placement.fix.commands == (f"ip addr add {VIP}/32 dev lo",)


def test_absent_vips_are_one_finding(state_of: StateOf) -> None:
    verdict = judge(state_of, realserver(lo=()), VIP, "10.0.0.101", "10.0.0.102")
    placement = only(verdict, Cause.VIP_ABSENT)
    assert [str(v) for v in placement.vips] == [VIP, "10.0.0.101", "10.0.0.102"]
    assert len(placement.fix.commands) == 3


def test_no_vip_given_and_none_discoverable_is_unknown(state_of: StateOf) -> None:
    # The VIP on eth0 is not a candidate: only lo and NOARP interfaces hold real-server VIPs.
    verdict = judge(state_of, realserver(lo=(), eth0=(ON_LINK, f"{VIP}/32")))
    assert verdict.vips == ()
    assert [(f.severity, f.cause) for f in verdict.findings] == [(UNKNOWN, Cause.NO_VIP)]
    assert verdict.worst is UNKNOWN


def test_discovery_ignores_loopback_network(state_of: StateOf) -> None:
    host = realserver(lo=("127.0.1.1/32", "127.0.0.53/8", f"{VIP}/32"))
    assert judge(state_of, host).vips == (IPv4Address(VIP),)
    assert judge(state_of, realserver(lo=("127.0.1.1/32",))).worst is UNKNOWN


def test_given_vip_replaces_discovery(state_of: StateOf) -> None:
    host = realserver(lo=(f"{VIP}/32", "10.0.0.101/32"))
    assert judge(state_of, host, "10.0.0.101").vips == (IPv4Address("10.0.0.101"),)


def test_every_vip_is_checked(state_of: StateOf) -> None:
    host = realserver(ignore=(0, 0), lo=(f"{VIP}/32", "10.0.0.101/32"))
    reply = finding_of(judge(state_of, host), REPLY, "eth0")
    assert reply.vips == (IPv4Address(VIP), IPv4Address("10.0.0.101"))
    assert text(reply).startswith(f"eth0 answers ARP for VIPs {VIP} (+1 more)")


def test_down_interface_leaking_warns_not_critical(state_of: StateOf) -> None:
    verdict = judge(state_of, realserver(ignore=(0, 0), announce=(0, 0), eth0_flags=ETHER_DOWN))
    assert severities(verdict, "eth0") == {WARNING}
    assert finding_of(verdict, REPLY, "eth0").cause is Cause.REPLY_LEAK
    assert finding_of(verdict, ANNOUNCE, "eth0").cause is Cause.ANNOUNCE_LEAK
    assert verdict.worst is WARNING


def test_excluded_interface_is_not_judged(state_of: StateOf) -> None:
    host = realserver().interface("eth1", OFF_LINK, ignore=4, announce=3)
    assert judge(state_of, host).worst is CRITICAL
    verdict = judge(state_of, host, exclude=re.compile("^eth1$"))
    assert [i.name for i in verdict.checked] == ["eth0"]
    assert severities(verdict, "eth1") == set()
    assert verdict.worst is OK


FIX_ROWS = {
    "announce-iface-outbids-all": (
        realserver(announce=(2, 3)),
        ["net.ipv4.conf.eth0.arp_announce = 2"],
    ),
    "ignore-all-0": (realserver(ignore=(0, 0)), ["net.ipv4.conf.all.arp_ignore = 1"]),
    # conf/default's 3 would leak on new interfaces once all is lowered to 1.
    "ignore-all-and-default-3": (
        realserver(ignore=(3, 0), default=(3, 2)),
        ["net.ipv4.conf.all.arp_ignore = 1", "net.ipv4.conf.default.arp_ignore = 1"],
    ),
    "fresh-install": (
        realserver(ignore=(0, 0), announce=(0, 0), default=(0, 0)),
        ["net.ipv4.conf.all.arp_ignore = 1", "net.ipv4.conf.all.arp_announce = 2"],
    ),
    # Lowering all=8 unmasks eth0's own 4, which answers for the VIP: eth0 needs a line too.
    "all-8-masks-eth0-4": (
        realserver(ignore=(8, 4)),
        ["net.ipv4.conf.all.arp_ignore = 1", "net.ipv4.conf.eth0.arp_ignore = 1"],
    ),
    # The same when eth1 has no address (a bond slave): no silence finding, yet it leaks.
    "all-8-masks-addressless-eth1-4": (
        realserver(ignore=(8, 0)).interface("eth1", ignore=4),
        ["net.ipv4.conf.all.arp_ignore = 1", "net.ipv4.conf.eth1.arp_ignore = 1"],
    ),
    "vlan-dotted-name": (
        FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0.100", ON_LINK, ignore=4),
        ["net.ipv4.conf.eth0/100.arp_ignore = 1"],
    ),
}


@pytest.mark.parametrize(("host", "lines"), FIX_ROWS.values(), ids=FIX_ROWS)
def test_fix_lines(state_of: StateOf, host: FakeHost, lines: list[str]) -> None:
    assert sorted(fix_lines(judge(state_of, host))) == sorted(lines)


def apply_sysctl_lines(host: FakeHost, lines: list[str]) -> None:
    for line in lines:
        key, value = (part.strip() for part in line.split("="))
        _, _, _, conf_name, param = key.split(".")
        conf_name = conf_name.replace("/", ".")
        if conf_name in ("all", "default"):
            setattr(host, f"{conf_name}_{param.removeprefix('arp_')}", int(value))
        else:
            (interface,) = [i for i in host.interfaces if i.name == conf_name]
            setattr(interface, param, int(value))


KNOB_VALUES = st.sampled_from([-1, 0, 1, 2, 3, 4, 8, 9])


def fix_and_rejudge(values: list[int], eth1_addressed: bool) -> None:
    """conf/all, conf/default, eth0 (VIP on-link), eth1: after the fix nothing is left to fix."""
    all_ignore, all_announce, default_ignore, default_announce = values[:4]
    host = FakeHost(all_ignore, all_announce, default_ignore, default_announce)
    host.loopback(f"{VIP}/32")
    host.interface("eth0", ON_LINK, ignore=values[4], announce=values[5])
    eth1 = (OFF_LINK,) if eth1_addressed else ()
    host.interface("eth1", *eth1, ignore=values[6], announce=values[7])
    apply_sysctl_lines(host, fix_lines(assess(host.state(), Role.REALSERVER)))
    fixed = assess(host.state(), Role.REALSERVER)
    assert fixed.worst is OK, [text(f) for f in fixed.findings if f.severity > OK]


@settings(derandomize=True, max_examples=300)
@given(st.lists(KNOB_VALUES, min_size=8, max_size=8), st.booleans())
@example(values=[8, 0, 1, 2, 1, 2, 3, 2], eth1_addressed=True)  # all=8 hides eth1=3
@example(values=[8, 2, 1, 2, 1, 2, 4, 2], eth1_addressed=False)
@example(values=[3, -1, 3, -1, -1, -1, -1, -1], eth1_addressed=False)  # default <= all, both 3
def test_fix_lines_make_the_host_sound(values: list[int], eth1_addressed: bool) -> None:
    fix_and_rejudge(values, eth1_addressed)
