"""A director answers ARP for the VIP it holds on its LAN interface (ARP-SEMANTICS §6)."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest
from fake_host import ETHER_DOWN, ETHER_UP, FakeAddress, FakeHost, StateOf

from checks.assess import Assessment, assess
from checks.cli.text import merged_sysctl_lines
from checks.finding import Finding, Severity
from checks.model import Role

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
    (found,) = [f for f in verdict.findings if f.vip == VIP]
    return found


# (conf/all, conf/eth0) arp_ignore with the VIP on eth0 -> the VIP's finding = worst state
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
    assert vip_finding(verdict).severity is state
    assert verdict.worst is state


def test_usual_director_is_ok(state_of: StateOf) -> None:
    finding = vip_finding(judge(state_of, director()))
    assert finding.summary == f"eth0 answers ARP for VIP {VIP} (arp_ignore eff 0: all=0 eth0=0)"


def test_arp_ignore_8_fix_restores_answering(state_of: StateOf) -> None:
    verdict = judge(state_of, director(ignore=(0, 8)))
    assert vip_finding(verdict).summary.startswith(f"eth0 answers no ARP for VIP {VIP}")
    assert merged_sysctl_lines(verdict.findings) == ["net.ipv4.conf.eth0.arp_ignore = 0"]


def test_arp_ignore_3_hides_a_scope_host_vip_on_eth0(state_of: StateOf) -> None:
    verdict = judge(state_of, director(ignore=(3, 0), vip_scope="host"))
    assert vip_finding(verdict).severity is CRITICAL


def test_vip_on_a_down_interface_is_critical(state_of: StateOf) -> None:
    verdict = judge(state_of, director(eth0_flags=ETHER_DOWN))
    assert vip_finding(verdict).summary.startswith(f"eth0 holds VIP {VIP} but is down")
    assert verdict.worst is CRITICAL


@pytest.mark.parametrize(
    ("ignore", "eth0_flags", "state"),
    [((1, 1), ETHER_UP, CRITICAL), ((0, 0), ETHER_UP, WARNING), ((0, 0), ETHER_DOWN, CRITICAL)],
    ids=["nobody-answers", "eth0-answers-by-accident", "only-answerer-down"],
)
def test_vip_only_on_lo(
    state_of: StateOf, ignore: tuple[int, int], eth0_flags: int, state: Severity
) -> None:
    verdict = judge(state_of, director(ignore=ignore, vip_on="lo", eth0_flags=eth0_flags))
    assert vip_finding(verdict).severity is state
    assert verdict.worst is state


@pytest.mark.parametrize(
    ("standby_ok", "state"), [(False, WARNING), (True, INFO)], ids=["unexpected", "standby-ok"]
)
def test_vip_absent(state_of: StateOf, standby_ok: bool, state: Severity) -> None:
    verdict = judge(state_of, director(vip_on=None), standby_ok=standby_ok)
    finding = vip_finding(verdict)
    assert finding.summary == f"VIP {VIP} is not held here (standby director?)"
    assert finding.severity is state
    assert verdict.worst is state


def test_new_interface_answering_nothing_warns(state_of: StateOf) -> None:
    verdict = judge(state_of, director(ignore=(0, 0), default_ignore=8))
    (remark,) = [f for f in verdict.findings if f.subject == "default"]
    assert remark.severity is WARNING
    assert remark.fix.sysctl_lines == ("net.ipv4.conf.default.arp_ignore = 0",)


def test_without_ipvs_the_role_is_doubted(state_of: StateOf) -> None:
    host = director(services=None)
    assert judge(state_of, host).worst is UNKNOWN  # no VIP to discover
    verdict = assess(state_of(host), Role.DIRECTOR, [IPv4Address(VIP)])
    assert [f.severity for f in verdict.findings if f.subject == "host"] == [WARNING]
    assert verdict.worst is WARNING
