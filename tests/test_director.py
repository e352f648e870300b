"""A director answers ARP for the VIP it holds on its LAN interface (ARP-SEMANTICS §6).

Each VIP is named by one finding (where it is held and whether it is answered); unusual
but working values are separate INFO remarks on the entry that sets them.
"""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest
from fake_host import ETHER_DOWN, ETHER_UP, FakeAddress, FakeHost, StateOf

from checks.assess import Assessment, assess
from checks.cli.text import summary
from checks.finding import Cause, Finding, Severity, SysctlSetting
from checks.judge.remedy import merged_settings, sysctl_line
from checks.model import ARP_IGNORE, Role

VIP = "10.0.0.100"
LAN = "10.0.0.2/24"

OK, INFO, WARNING, CRITICAL, UNKNOWN = (
    Severity.OK,
    Severity.INFO,
    Severity.WARNING,
    Severity.CRITICAL,
    Severity.UNKNOWN,
)


def director(
    ignore: tuple[int, int] = (0, 0),
    vip_on: str | None = "eth0",
    vip_scope: str = "global",
    default_ignore: int = 0,
    eth0_flags: int = ETHER_UP,
    services: tuple[str, ...] | None = (VIP,),
) -> FakeHost:
    """IPVS serves the VIP; ignore is (conf/all, conf/eth0); vip_on: eth0, lo or nowhere."""
    host = FakeHost(ignore[0], 0, default_ignore, 0, virtual_services=services)
    vip = FakeAddress(f"{VIP}/32", vip_scope)
    host.loopback(*([vip] if vip_on == "lo" else []))
    eth0 = [LAN, vip] if vip_on == "eth0" else [LAN]
    return host.interface("eth0", *eth0, ignore=ignore[1], flags=eth0_flags)


def judge(state_of: StateOf, host: FakeHost, standby_ok: bool = False) -> Assessment:
    return assess(state_of(host), Role.DIRECTOR, standby_ok=standby_ok)


def vip_finding(verdict: Assessment) -> Finding:
    """The one finding that says what becomes of the VIP."""
    (found,) = [f for f in verdict.findings if IPv4Address(VIP) in f.vips]
    return found


def of_cause(verdict: Assessment, cause: Cause) -> list[Finding]:
    return [f for f in verdict.findings if f.cause is cause]


def text(finding: Finding) -> str:
    return summary(finding, Role.DIRECTOR)


# (conf/all, conf/eth0) arp_ignore with the VIP on eth0 -> worst state (unchanged); the VIP's
# own finding is OK where eth0 answers (INFO rows add an UNUSUAL_VALUE remark) and CRITICAL
# where it does not.
HOLDER_ROWS = {
    "0-usual": ((0, 0), OK),
    "1-use_vmac": ((1, 0), INFO),
    "2-same-subnet": ((0, 2), INFO),
    "3-vip-scope-global": ((3, 0), INFO),
    "9-answers-any": ((0, 9), INFO),
    "8-never": ((8, 0), CRITICAL),
    "8-on-eth0-only": ((0, 8), CRITICAL),
}


@pytest.mark.parametrize(("ignore", "state"), HOLDER_ROWS.values(), ids=HOLDER_ROWS)
def test_vip_on_lan_interface(state_of: StateOf, ignore: tuple[int, int], state: Severity) -> None:
    verdict = judge(state_of, director(ignore=ignore))
    assert verdict.vips == (IPv4Address(VIP),)
    finding = vip_finding(verdict)
    answered = state is not CRITICAL
    assert finding.cause is (Cause.VIP_ANSWERED if answered else Cause.VIP_UNANSWERED)
    assert finding.severity is (OK if answered else CRITICAL)
    assert finding.interfaces == ("eth0",)
    assert finding.effective == max(ignore)
    assert finding.conf == ("eth0" if ignore[1] > ignore[0] else "all")
    assert [str(a) for a in finding.addresses] == [f"{VIP}/32"]
    unusual = of_cause(verdict, Cause.UNUSUAL_VALUE)
    assert [(f.severity, f.interfaces, f.effective) for f in unusual] == (
        [] if max(ignore) == 0 else [(INFO, ("eth0",), max(ignore))]
    )
    assert verdict.worst is state


def test_usual_director_is_ok(state_of: StateOf) -> None:
    finding = vip_finding(judge(state_of, director()))
    assert text(finding) == f"eth0 answers ARP for VIP {VIP} (all.arp_ignore=0)"


def test_arp_ignore_8_fix_restores_answering(state_of: StateOf) -> None:
    verdict = judge(state_of, director(ignore=(0, 8)))
    finding = vip_finding(verdict)
    assert text(finding).startswith(f"eth0 answers no ARP for VIP {VIP}")
    assert finding.fix.settings == (SysctlSetting("eth0", ARP_IGNORE, 0),)
    assert [sysctl_line(s) for s in merged_settings(verdict.findings)] == [
        "net.ipv4.conf.eth0.arp_ignore = 0"
    ]


def test_arp_ignore_3_hides_a_scope_host_vip_on_eth0(state_of: StateOf) -> None:
    verdict = judge(state_of, director(ignore=(3, 0), vip_scope="host"))
    finding = vip_finding(verdict)
    assert (finding.cause, finding.severity) == (Cause.VIP_UNANSWERED, CRITICAL)
    assert verdict.worst is CRITICAL


def test_vip_on_a_down_interface_is_critical(state_of: StateOf) -> None:
    verdict = judge(state_of, director(eth0_flags=ETHER_DOWN))
    finding = vip_finding(verdict)
    assert finding.cause is Cause.VIP_HOLDER_DOWN
    assert text(finding).startswith(f"eth0 holds VIP {VIP} but is down")
    assert finding.fix.commands == ("ip link set eth0 up",)
    assert verdict.worst is CRITICAL


@pytest.mark.parametrize(
    ("ignore", "eth0_flags", "state", "cause"),
    [
        ((1, 1), ETHER_UP, CRITICAL, Cause.VIP_HIDDEN_UNANSWERED),
        ((0, 0), ETHER_UP, WARNING, Cause.VIP_ANSWERED_BY_ACCIDENT),
        ((0, 0), ETHER_DOWN, CRITICAL, Cause.VIP_HIDDEN_UNANSWERED),
    ],
    ids=["nobody-answers", "eth0-answers-by-accident", "only-answerer-down"],
)
def test_vip_only_on_lo(
    state_of: StateOf, ignore: tuple[int, int], eth0_flags: int, state: Severity, cause: Cause
) -> None:
    verdict = judge(state_of, director(ignore=ignore, vip_on="lo", eth0_flags=eth0_flags))
    finding = vip_finding(verdict)
    assert (finding.cause, finding.severity) == (cause, state)
    assert [a.interface for a in finding.addresses] == ["lo"]
    assert finding.fix.commands == (f"ip addr add {VIP}/32 dev <lan-interface>",)
    assert verdict.worst is state


def test_the_accidental_answerer_is_named(state_of: StateOf) -> None:
    verdict = judge(state_of, director(ignore=(0, 0), vip_on="lo"))
    finding = vip_finding(verdict)
    assert finding.interfaces == ("eth0",)
    assert text(finding) == f"VIP {VIP} only on lo; eth0 answers by accident"


@pytest.mark.parametrize(
    ("standby_ok", "state", "words"),
    [(False, WARNING, " (standby director?)"), (True, INFO, ": standby")],
    ids=["unexpected", "standby-ok"],
)
def test_vip_absent(state_of: StateOf, standby_ok: bool, state: Severity, words: str) -> None:
    verdict = judge(state_of, director(vip_on=None), standby_ok=standby_ok)
    finding = vip_finding(verdict)
    assert finding.cause is Cause.VIP_NOT_HELD
    assert text(finding) == f"VIP {VIP} not held here{words}"
    assert finding.severity is state
    assert verdict.worst is state


def test_new_interface_answering_nothing_warns(state_of: StateOf) -> None:
    verdict = judge(state_of, director(ignore=(0, 0), default_ignore=8))
    (remark,) = of_cause(verdict, Cause.NEW_INTERFACE_RISK)
    assert remark.severity is WARNING
    assert (remark.conf, remark.value, remark.all_value) == ("default", 8, 0)
    assert remark.fix.settings == (SysctlSetting("default", ARP_IGNORE, 0),)
    assert sysctl_line(remark.fix.settings[0]) == "net.ipv4.conf.default.arp_ignore = 0"


def test_without_ipvs_the_role_is_doubted(state_of: StateOf) -> None:
    host = director(services=None)
    assert judge(state_of, host).worst is UNKNOWN  # no VIP to discover
    verdict = assess(state_of(host), Role.DIRECTOR, [IPv4Address(VIP)])
    assert [f.severity for f in of_cause(verdict, Cause.ROLE_DOUBT)] == [WARNING]
    assert verdict.worst is WARNING


def test_vips_held_on_one_interface_are_one_finding(state_of: StateOf) -> None:
    host = FakeHost(0, 0, 0, 0, virtual_services=(VIP, "10.0.0.101")).loopback()
    host.interface("eth0", LAN, f"{VIP}/32", "10.0.0.101/32")
    verdict = judge(state_of, host)
    (answered,) = of_cause(verdict, Cause.VIP_ANSWERED)
    assert answered.vips == (IPv4Address(VIP), IPv4Address("10.0.0.101"))
    assert verdict.worst is OK
