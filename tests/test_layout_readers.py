"""The pure halves of the layout readers: routes, ARP filters, NAT, namespaces, kube-proxy.

The readers themselves are proven on a kernel in tests/kernel/; here the functions that say
what the evidence means, and the parsers fed the exact text the tools printed there.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from checks.model import IFF_NOARP, IFF_UP, Address, ArpKnobs, HostState, Interface
from checks.read import rule_tools
from checks.read.arp_filters import (
    ArpRule,
    arp_filter_cover,
    nft_arp_rules,
    parse_arptables_list,
    read_arp_filters,
)
from checks.read.kube_proxy import kube_ipvs_interface
from checks.read.nat_redirect import nft_nat_rules, parse_iptables_save, vip_redirects
from checks.read.netns import NetnsIdentity, namespace_mismatch
from checks.read.routes import (
    RT_SCOPE_LINK,
    RT_SCOPE_UNIVERSE,
    RT_TABLE_LOCAL,
    RT_TABLE_MAIN,
    RTN_LOCAL,
    RTN_UNICAST,
    Route,
    offlink_neighbours,
    unnumbered_interfaces,
)
from checks.read.rule_tools import ToolError, parse_nft_document, run_tool

VIP = IPv4Address("192.0.2.100")
NODE_IP = IPv4Address("192.0.2.10")
KNOBS = ArpKnobs(0, 0)

# --- routes ---------------------------------------------------------------------------------


def route(
    destination: str,
    dev: str = "eth0",
    via: str | None = None,
    onlink: bool = False,
    scope: int = RT_SCOPE_LINK,
    kind: int = RTN_UNICAST,
) -> Route:
    gateway = None if via is None else IPv4Address(via)
    table = RT_TABLE_LOCAL if kind == RTN_LOCAL else RT_TABLE_MAIN
    return Route(IPv4Network(destination), dev, 2, gateway, onlink, scope, kind, table)


def address(cidr: str, dev: str = "eth0") -> Address:
    ip, prefix = cidr.split("/")
    return Address(dev, IPv4Address(ip), int(prefix), 0)


LAN = (address("192.0.2.10/24"),)


def neighbours(routes: list[Route], addresses: tuple[Address, ...] = LAN) -> dict[str, list[str]]:
    found = offlink_neighbours(routes, addresses)
    return {name: [str(item.neighbours) for item in evidence] for name, evidence in found.items()}


def test_onlink_gateway_outside_the_subnet_is_evidence() -> None:
    default = route("0.0.0.0/0", via="203.0.113.1", onlink=True, scope=RT_SCOPE_UNIVERSE)
    assert neighbours([default]) == {"eth0": ["203.0.113.1/32"]}


def test_gateway_inside_the_subnet_is_not() -> None:
    assert neighbours([route("0.0.0.0/0", via="192.0.2.1", scope=RT_SCOPE_UNIVERSE)]) == {}


def test_direct_routes_count_only_outside_the_subnets() -> None:
    routes = [route("192.0.2.0/24"), route("198.51.100.0/24"), route("192.0.0.0/16")]
    # The /16 holds the /24 but is wider: its other addresses are off-subnet neighbours.
    assert neighbours(routes) == {"eth0": ["198.51.100.0/24", "192.0.0.0/16"]}


def test_any_subnet_of_the_interface_covers() -> None:
    addresses = (*LAN, address("198.51.100.1/24"))
    assert neighbours([route("198.51.100.0/24")], addresses) == {}


def test_local_routes_and_unnumbered_interfaces_are_no_offlink_evidence() -> None:
    routes = [
        route("192.0.2.100/32", dev="lo", scope=254, kind=RTN_LOCAL),
        route("10.244.1.5/32", dev="pod0"),
    ]
    assert neighbours(routes) == {}


def test_gateway_is_judged_by_the_interface_it_leaves_on() -> None:
    addresses = (*LAN, address("203.0.113.2/24", dev="eth1"))
    default = route("0.0.0.0/0", via="203.0.113.1", onlink=True, scope=RT_SCOPE_UNIVERSE)
    assert neighbours([default], addresses) == {"eth0": ["203.0.113.1/32"]}


def test_route_text_reads_like_ip_route() -> None:
    default = route("0.0.0.0/0", via="203.0.113.1", onlink=True, scope=RT_SCOPE_UNIVERSE)
    assert str(default) == "0.0.0.0/0 via 203.0.113.1 dev eth0 onlink"
    assert str(route("198.51.100.0/24")) == "198.51.100.0/24 dev eth0 scope link"
    local = route("192.0.2.100/32", dev="lo", scope=254, kind=RTN_LOCAL)
    assert str(local) == "local 192.0.2.100/32 dev lo"


def test_unnumbered_interfaces() -> None:
    interfaces = [
        Interface("eth0", IFF_UP, KNOBS),
        Interface("pod0", IFF_UP, KNOBS),
        Interface("pod1", IFF_UP, KNOBS),  # no address, but no route either
        Interface("tun0", IFF_UP | IFF_NOARP, KNOBS),  # no ARP: nothing to answer
    ]
    routes = [
        route("10.244.1.5/32", dev="pod0"),
        route("10.0.0.0/8", dev="tun0"),
        route("10.244.1.6/32", dev="pod0"),
    ]
    found = unnumbered_interfaces(interfaces, LAN, routes)
    assert [(link.interface, len(link.routes)) for link in found] == [("pod0", 2)]
    assert str(found[0]) == "pod0 (no IPv4 address; routes 10.244.1.5/32, 10.244.1.6/32)"


# --- ARP filters ----------------------------------------------------------------------------

# `arptables -L -n` as arptables-nft and arptables-legacy printed it in tests/kernel.
ARPTABLES_LIST = f"""Chain INPUT (policy ACCEPT)
-j DROP -d {VIP}

Chain OUTPUT (policy ACCEPT)
-j mangle -s {VIP} --mangle-ip-s {NODE_IP}

Chain FORWARD (policy ACCEPT)
"""


def cover(rules: list[ArpRule], vip: IPv4Address = VIP) -> tuple[bool, bool]:
    result = arp_filter_cover(rules, vip)
    return result.hides_replies, result.hides_announce


def listing(input_rules: str = "", output_rules: str = "", input_policy: str = "ACCEPT") -> str:
    return (
        f"Chain INPUT (policy {input_policy})\n{input_rules}\n\n"
        f"Chain OUTPUT (policy ACCEPT)\n{output_rules}\n"
    )


def test_arptables_listing_is_parsed_in_chain_order() -> None:
    rules = parse_arptables_list(ARPTABLES_LIST, "arptables-nft")
    assert [str(rule) for rule in rules] == [
        f"arptables-nft filter INPUT: -j DROP -d {VIP}",
        "arptables-nft filter INPUT: policy ACCEPT",
        f"arptables-nft filter OUTPUT: -j mangle -s {VIP} --mangle-ip-s {NODE_IP}",
        "arptables-nft filter OUTPUT: policy ACCEPT",
    ]
    result = arp_filter_cover(rules, VIP)
    assert (result.hides_replies, result.hides_announce) == (True, True)
    assert result.rules == (str(rules[0]), str(rules[2]))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (listing(f"-j DROP -d {VIP}"), (True, False)),
        (listing(f"1 -j DROP -d {VIP}"), (True, False)),  # --line-numbers
        (listing("-j DROP -d 192.0.2.0/24"), (True, False)),
        (listing("-j DROP -d 192.0.2.101"), (False, False)),
        (listing(f"-j ACCEPT\n-j DROP -d {VIP}"), (False, False)),
        (listing(f"-j ACCEPT -d 192.0.2.101\n-j DROP -d {VIP}"), (True, False)),
        (listing(f"-j DROP -i eth1 -d {VIP}"), (False, False)),  # eth0 still answers
        (listing(f"-j DROP -s 10.0.0.0/8 -d {VIP}"), (False, False)),
        (listing(f"-j DROP -d {VIP} --opcode 2"), (False, False)),  # replies only
        (listing(f"-j DROP -d {VIP} --opcode 1"), (True, False)),
        (listing(f"-j mycheck -d {VIP}\n-j DROP -d {VIP}"), (False, False)),
        (listing(input_policy="DROP"), (True, False)),
        (listing(output_rules=f"-j DROP -s {VIP}"), (True, True)),
        (
            listing(output_rules=f"-j mangle -s {VIP} --mangle-ip-s {NODE_IP} --opcode 1"),
            (False, True),
        ),
        (
            listing(output_rules=f"-j mangle -s {VIP} --mangle-mac-s 02:00:00:00:00:01"),
            (False, False),
        ),
        (
            listing(output_rules=f"-j mangle -s {VIP} --mangle-ip-s {NODE_IP} -d 192.0.2.1"),
            (False, False),
        ),
        (listing(output_rules=f"-j DROP ! -s {VIP}"), (False, False)),
    ],
)
def test_arptables_cover(text: str, expected: tuple[bool, bool]) -> None:
    assert cover(parse_arptables_list(text, "arptables-legacy")) == expected


# `nft -j list ruleset arp` after arptables-nft added INPUT -d VIP DROP (tests/kernel).
NFT_ARPTABLES = {
    "rule": {
        "family": "arp",
        "table": "filter",
        "chain": "INPUT",
        "expr": [
            {
                "match": {
                    "op": "==",
                    "left": {"payload": {"protocol": "arp", "field": "htype"}},
                    "right": 1,
                }
            },
            {
                "match": {
                    "op": "==",
                    "left": {"payload": {"protocol": "arp", "field": "hlen"}},
                    "right": 6,
                }
            },
            {
                "match": {
                    "op": "==",
                    "left": {"payload": {"protocol": "arp", "field": "plen"}},
                    "right": 4,
                }
            },
            {
                "match": {
                    "op": "==",
                    "left": {"payload": {"protocol": "arp", "field": "daddr ip"}},
                    "right": str(VIP),
                }
            },
            {"counter": {"packets": 0, "bytes": 0}},
            {"drop": None},
        ],
    }
}


def nft_document(*rules: dict[str, object], policy: str = "accept") -> str:
    chains = [
        {"chain": {"family": "arp", "table": table, "name": name, "hook": hook, "policy": policy}}
        for table, name, hook in (("filter", "INPUT", "input"), ("lvs", "out", "output"))
    ]
    return json.dumps({"nftables": [{"metainfo": {}}, *chains, *rules]})


def nft_rule(table: str, chain: str, *expr: dict[str, object]) -> dict[str, object]:
    return {"rule": {"family": "arp", "table": table, "chain": chain, "expr": list(expr)}}


def arp_match(field: str, right: object, op: str = "==") -> dict[str, object]:
    return {
        "match": {
            "op": op,
            "left": {"payload": {"protocol": "arp", "field": field}},
            "right": right,
        }
    }


def test_nft_arptables_rule_reads_like_nft() -> None:
    rules = nft_arp_rules(parse_nft_document(nft_document(NFT_ARPTABLES)))
    assert (
        str(rules[0])
        == f"nft arp filter INPUT: arp htype 1 arp hlen 6 arp plen 4 arp daddr ip {VIP} drop"
    )
    assert cover(rules) == (True, False)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (nft_rule("lvs", "out", arp_match("saddr ip", str(VIP)), {"drop": None}), (True, True)),
        (
            nft_rule(
                "lvs",
                "out",
                arp_match("saddr ip", {"set": ["192.0.2.99", str(VIP)]}),
                {
                    "mangle": {
                        "key": {"payload": {"protocol": "arp", "field": "saddr ip"}},
                        "value": str(NODE_IP),
                    }
                },
            ),
            (True, True),
        ),
        (
            nft_rule(
                "lvs",
                "out",
                arp_match("saddr ip", {"prefix": {"addr": "192.0.2.0", "len": 24}}),
                {"drop": None},
            ),
            (True, True),
        ),
        (
            nft_rule(
                "lvs",
                "out",
                arp_match("saddr ip", str(VIP)),
                arp_match("operation", "request"),
                {"drop": None},
            ),
            (False, True),
        ),
        (
            nft_rule("lvs", "out", arp_match("saddr ip", str(VIP), op="!="), {"drop": None}),
            (False, False),
        ),
        (
            nft_rule(
                "lvs",
                "out",
                {"match": {"op": "==", "left": {"meta": {"key": "oifname"}}, "right": "eth0"}},
                {"drop": None},
            ),
            (False, False),
        ),
        (
            nft_rule(
                "lvs",
                "out",
                arp_match("saddr ip", str(VIP)),
                {"xt": {"type": "target", "name": "mangle"}},
            ),
            (False, False),
        ),
        (
            nft_rule("lvs", "out", arp_match("saddr ip", str(VIP)), {"jump": {"target": "x"}}),
            (False, False),
        ),
    ],
)
def test_nft_output_cover(rule: dict[str, object], expected: tuple[bool, bool]) -> None:
    assert cover(nft_arp_rules(parse_nft_document(nft_document(rule)))) == expected


def test_nft_policy_drop_hides_everything() -> None:
    assert cover(nft_arp_rules(parse_nft_document(nft_document(policy="drop")))) == (True, True)


def test_nft_tables_read_elsewhere_are_skipped() -> None:
    ruleset = parse_nft_document(nft_document(NFT_ARPTABLES))
    assert nft_arp_rules(ruleset, skip_tables=[("arp", "filter")])[0].chain == "nft arp lvs out"
    assert rule_tools.tables_with_xt(ruleset) == set()


@pytest.mark.parametrize("text", ["[]", '{"nftables": 3}', "not json"])
def test_nft_output_that_is_not_a_ruleset_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_nft_document(text)


def test_missing_tools_are_unreadable_not_raised(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(rule_tools, "TOOL_PATH", str(tmp_path))
    read = read_arp_filters()
    assert read.rules == ()
    assert [problem.source for problem in read.unreadable][:1] == ["nft"]
    assert "nft is not installed" in read.unreadable[0].reason


# --- the tool runner ------------------------------------------------------------------------


def test_run_tool_runs_without_shell_in_the_c_locale() -> None:
    output = run_tool("env", [])
    assert sorted(output.splitlines()) == ["LC_ALL=C", f"PATH={rule_tools.TOOL_PATH}"]


def test_run_tool_names_a_failing_command() -> None:
    with pytest.raises(ToolError, match=r"/ls /nonexistent-lvs-arp exited 2: .*cannot access"):
        run_tool("ls", ["/nonexistent-lvs-arp"])


def test_run_tool_caps_output() -> None:
    with pytest.raises(ToolError, match="printed more than 1000 bytes"):
        run_tool("yes", [], max_bytes=1000)


def test_run_tool_stops_a_hung_program() -> None:
    with pytest.raises(ToolError, match=r"did not finish within 0\.2 s"):
        run_tool("sleep", ["30"], timeout_s=0.2)


def test_run_tool_missing_program() -> None:
    with pytest.raises(ToolError, match="lvs-arp-no-such-tool is not installed"):
        run_tool("lvs-arp-no-such-tool", [])


# --- NAT redirects --------------------------------------------------------------------------

# `iptables-nft-save -t nat` as printed in tests/kernel.
IPTABLES_SAVE = f"""# Generated by iptables-nft-save v1.8.9 (nf_tables)
*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -d {VIP}/32 -p tcp -m tcp --dport 80 -j REDIRECT
-A PREROUTING -d 192.0.2.101/32 -p tcp -m tcp --dport 443 -m comment --comment "lvs dr" \
-j DNAT --to-destination {NODE_IP}:8443
-A PREROUTING -d 192.0.2.102/32 -j DNAT --to-destination 192.0.2.50
-A PREROUTING -i eth1 -p udp -m udp --dport 53 -j REDIRECT --to-ports 5353
-A PREROUTING -d 192.0.2.103/32 -j ACCEPT
-A OUTPUT -d {VIP}/32 -j REDIRECT
COMMIT
"""


def test_iptables_save_rules() -> None:
    rules = parse_iptables_save(IPTABLES_SAVE, "iptables-nft")
    assert [(r.action, r.protocol, r.ports, r.to_address, r.conditional) for r in rules] == [
        ("REDIRECT", "tcp", "80", None, False),
        ("DNAT", "tcp", "443", NODE_IP, False),
        ("DNAT", None, None, IPv4Address("192.0.2.50"), False),
        ("REDIRECT", "udp", "53", None, True),
    ]
    assert str(rules[1]) == (
        "iptables-nft nat PREROUTING: -d 192.0.2.101/32 -p tcp -m tcp --dport 443 "
        f"-m comment --comment 'lvs dr' -j DNAT --to-destination {NODE_IP}:8443"
    )


@pytest.mark.parametrize(
    ("vip", "expected"),
    [
        (VIP, [0, 3]),  # its own REDIRECT, and the catch-all DNS redirect
        (IPv4Address("192.0.2.101"), [1, 3]),  # DNAT to the node's own address
        (IPv4Address("192.0.2.102"), [3]),  # DNAT elsewhere: not a redirect to this node
        (IPv4Address("192.0.2.103"), [3]),
    ],
)
def test_vip_redirects(vip: IPv4Address, expected: list[int]) -> None:
    rules = parse_iptables_save(IPTABLES_SAVE, "iptables-nft")
    assert vip_redirects(rules, vip, {NODE_IP}) == tuple(rules[i] for i in expected)


def test_nft_nat_rules_of_prerouting_only() -> None:
    def nat_rule(chain: str, *expr: dict[str, object]) -> dict[str, object]:
        return {"rule": {"family": "inet", "table": "lvs", "chain": chain, "expr": list(expr)}}

    daddr = {
        "match": {
            "op": "==",
            "left": {"payload": {"protocol": "ip", "field": "daddr"}},
            "right": str(VIP),
        }
    }
    dport = {
        "match": {
            "op": "==",
            "left": {"payload": {"protocol": "tcp", "field": "dport"}},
            "right": {"set": [80, 443]},
        }
    }
    document = json.dumps(
        {
            "nftables": [
                {"chain": {"family": "inet", "table": "lvs", "name": "pre", "hook": "prerouting"}},
                {"chain": {"family": "inet", "table": "lvs", "name": "out", "hook": "output"}},
                {"chain": {"family": "inet", "table": "lvs", "name": "vips"}},
                nat_rule("pre", daddr, dport, {"redirect": None}),
                nat_rule("vips", daddr, {"dnat": {"addr": "127.0.0.1", "port": 8080}}),
                nat_rule("out", daddr, {"redirect": None}),
                nat_rule("pre", daddr, {"accept": None}),
            ]
        }
    )
    rules = nft_nat_rules(parse_nft_document(document))
    assert [str(rule) for rule in rules] == [
        f"nft inet lvs pre: ip daddr {VIP} tcp dport {{ 80, 443 }} redirect",
        f"nft inet lvs vips: ip daddr {VIP} dnat to 127.0.0.1:8080",
    ]
    assert (rules[0].protocol, rules[0].ports) == ("tcp", "{ 80, 443 }")
    assert vip_redirects(rules, VIP, set()) == tuple(rules)  # loopback counts as local


# --- namespaces -----------------------------------------------------------------------------


def test_a_copied_tree_claims_no_namespace(tmp_path: Path) -> None:
    (tmp_path / "sys" / "net").mkdir(parents=True)
    assert namespace_mismatch(str(tmp_path)) is None


def test_own_proc_is_never_a_mismatch() -> None:
    assert namespace_mismatch("/proc") is None
    assert namespace_mismatch("/proc/") is None


def test_label() -> None:
    assert NetnsIdentity(4, 4026532281, "lvs", False).label == "net:[4026532281] (lvs)"
    assert NetnsIdentity(4, 4026531840, None, True).label == "net:[4026531840]"


# --- kube-proxy -----------------------------------------------------------------------------


def host(flags: int, prefixlen: int = 32, name: str = "kube-ipvs0") -> HostState:
    interfaces = (Interface("eth0", IFF_UP, KNOBS), Interface(name, flags, KNOBS))
    addresses = (
        Address("eth0", NODE_IP, 24, 0),
        Address(name, IPv4Address("10.96.0.1"), prefixlen, 0),
        Address(name, VIP, prefixlen, 0),
    )
    return HostState(KNOBS, KNOBS, interfaces, addresses)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (host(IFF_NOARP), "kube-ipvs0"),  # DOWN, as kube-proxy leaves it
        (host(IFF_NOARP | IFF_UP), "kube-ipvs0"),
        (host(IFF_UP), None),  # an ARP interface is not kube-proxy's dummy
        (host(IFF_NOARP, prefixlen=24), None),
        (host(IFF_NOARP, name="ipvs0"), None),
    ],
)
def test_kube_ipvs_interface(state: HostState, expected: str | None) -> None:
    assert kube_ipvs_interface(state) == expected


def test_kube_ipvs_without_services_yet() -> None:
    state = HostState(KNOBS, KNOBS, (Interface("kube-ipvs0", IFF_NOARP, KNOBS),), ())
    assert kube_ipvs_interface(state) == "kube-ipvs0"
