"""NAT redirects of a VIP, installed with each tool and read back inside the namespace.

The node holds no VIP; a nat PREROUTING rule takes the VIP's traffic instead (Red Hat's
alternative to VIP-on-lo). The wire test shows why that layout is sound with every ARP
sysctl at 0: the node accepts what a DR director forwards and never answers ARP for the VIP.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from .arp_observer import Observation
from .netns import DEFAULT_VIP, NODE_IP, Topology

pytestmark = pytest.mark.kernel

VIP = DEFAULT_VIP
OTHER_VIP = "192.0.2.101"
NOT_LOCAL = "192.0.2.50"

READ_REDIRECTS = """
import json
from ipaddress import IPv4Address
from checks.read.live import read_live_host
from checks.read.nat_redirect import read_nat_redirects, vip_redirects
read = read_nat_redirects()
local = {{address.ip for address in read_live_host().addresses}}
print(json.dumps({{
    "rules": [str(rule) for rule in read.rules],
    "vip": [str(rule) for rule in vip_redirects(read.rules, IPv4Address({vip!r}), local)],
    "other": [str(rule) for rule in vip_redirects(read.rules, IPv4Address({other!r}), local)],
    "unreadable": [str(problem) for problem in read.unreadable],
}}))
"""


def read_redirects(topology: Topology, *, as_user: bool = False) -> dict[str, Any]:
    argv = [sys.executable, "-c", READ_REDIRECTS.format(vip=VIP, other=OTHER_VIP)]
    if as_user:
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
    report: dict[str, Any] = json.loads(topology.exec_node(argv))
    return report


def nft_prerouting(rule: str) -> list[list[str]]:
    return [
        ["nft", "add", "table", "inet", "lvsarp"],
        [
            "nft",
            "add",
            "chain",
            "inet",
            "lvsarp",
            "pre",
            "{ type nat hook prerouting priority -100; }",
        ],
        ["nft", "add", "rule", "inet", "lvsarp", "pre", *rule.split()],
    ]


REDIRECT_80 = f"-t nat -A PREROUTING -d {VIP}/32 -p tcp --dport 80 -j REDIRECT"
CASES = {
    "iptables-nft": (
        [["iptables", *REDIRECT_80.split()]],
        f"iptables-nft nat PREROUTING: -d {VIP}/32 -p tcp -m tcp --dport 80 -j REDIRECT",
    ),
    "iptables-legacy": (
        [["iptables-legacy", *REDIRECT_80.split()]],
        f"iptables-legacy nat PREROUTING: -d {VIP}/32 -p tcp -m tcp --dport 80 -j REDIRECT",
    ),
    "nft-redirect": (
        nft_prerouting(f"ip daddr {VIP} tcp dport {{ 80, 443 }} redirect"),
        f"nft inet lvsarp pre: ip daddr {VIP} tcp dport {{ 80, 443 }} redirect",
    ),
    "nft-dnat-loopback": (
        nft_prerouting(f"ip daddr {VIP} tcp dport 80 dnat ip to 127.0.0.1:8080"),
        f"nft inet lvsarp pre: ip daddr {VIP} tcp dport 80 dnat to 127.0.0.1:8080",
    ),
    "iptables-dnat-own-address": (
        [
            [
                "iptables",
                *f"-t nat -A PREROUTING -d {VIP} -j DNAT --to-destination {NODE_IP}".split(),
            ]
        ],
        f"iptables-nft nat PREROUTING: -d {VIP}/32 -j DNAT --to-destination {NODE_IP}",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_redirect_is_read_back(topology: Topology, case: str) -> None:
    commands, expected = CASES[case]
    for command in commands:
        topology.exec_node(command)
    report = read_redirects(topology)
    assert report["unreadable"] == []
    assert report["vip"] == [expected]
    assert report["other"] == []


def test_dnat_elsewhere_and_output_rules_are_no_redirect(topology: Topology) -> None:
    for rule in (
        f"-t nat -A PREROUTING -d {VIP} -j DNAT --to-destination {NOT_LOCAL}",
        f"-t nat -A OUTPUT -d {VIP} -j REDIRECT",
    ):
        topology.exec_node(["iptables", *rule.split()])
    report = read_redirects(topology)
    assert report["rules"] == [
        f"iptables-nft nat PREROUTING: -d {VIP}/32 -j DNAT --to-destination {NOT_LOCAL}"
    ]
    assert report["vip"] == []


def test_redirect_layout_is_sound_on_the_wire(topology: Topology) -> None:
    topology.exec_node(["iptables", *f"-t nat -A PREROUTING -d {VIP}/32 -j REDIRECT".split()])
    observed = topology.observe(VIP)
    # Forwarded traffic accepted, no ARP answer for the VIP, no VIP in the node's requests.
    assert observed == Observation(
        accepts_forwarded=True, announce_sender=NODE_IP, answers_vip=False, answers_own=True
    )
    assert read_redirects(topology)["vip"] == [
        f"iptables-nft nat PREROUTING: -d {VIP}/32 -j REDIRECT"
    ]


def test_without_the_rule_the_vip_is_dropped(topology: Topology) -> None:
    """The control of the wire test: no VIP and no rule, and forwarded traffic goes nowhere."""
    observed = topology.observe(VIP)
    assert not observed.accepts_forwarded and not observed.answers_vip
    assert read_redirects(topology)["vip"] == []


def test_unprivileged_reader_says_why_it_cannot_read(topology: Topology) -> None:
    topology.exec_node(["iptables", *REDIRECT_80.split()])
    report = read_redirects(topology, as_user=True)
    assert report["vip"] == []
    sources = {problem.split(":", 1)[0] for problem in report["unreadable"]}
    assert {"nft", "iptables-nft"} <= sources, report["unreadable"]
    assert all("CAP_NET_ADMIN" in problem for problem in report["unreadable"])


def test_reading_creates_no_table(topology: Topology) -> None:
    """Listing legacy ip_tables or iptables-nft's nat could create tables: reading must not."""
    report = read_redirects(topology)
    assert report["unreadable"] == []
    assert topology.exec_node(["cat", "/proc/self/net/ip_tables_names"]) == ""
    assert topology.exec_node(["nft", "list", "ruleset"]) == ""
