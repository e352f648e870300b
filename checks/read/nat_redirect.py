"""NAT rules that take a VIP's traffic without the VIP being an address of the node.

Red Hat's documented alternative to VIP-on-lo for LVS-DR real servers (ARP-SEMANTICS §12):
`iptables -t nat -A PREROUTING -d VIP -p tcp --dport P -j REDIRECT`. The node accepts the
DR-forwarded packets for VIP:P and never answers ARP for the VIP (it is not local). A DNAT
to one of the node's own addresses does the same.

Sources, each read in the reader's network namespace (rules are live only):
- `nft -j list ruleset`: native nftables nat chains (families ip and inet);
- `iptables-nft-save -t nat` for nftables' `ip nat` table, which iptables-nft (Debian's
  default `iptables`) owns and whose REDIRECT/DNAT nft's JSON shows without arguments;
- `iptables-legacy-save -t nat`, only when /proc/self/net/ip_tables_names lists `nat`:
  listing would create the table otherwise.
Reading needs CAP_NET_ADMIN; a source that cannot be read becomes an Unreadable entry.
"""

from __future__ import annotations

import shlex
from collections.abc import Collection, Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network

from ..record import TYPE_CHECKING, Record
from .rule_tools import (
    LegacyTable,
    Unreadable,
    base_chains,
    describe_nft,
    describe_nft_value,
    gather,
    gather_legacy,
    nft_networks,
    parse_nft_document,
    run_tool,
)

if TYPE_CHECKING:
    from .rule_tools import NftObject

REDIRECT = "REDIRECT"
DNAT = "DNAT"
_LEGACY = LegacyTable(
    "/proc/self/net/ip_tables_names",
    "nat",
    "iptables-legacy",
    "iptables-legacy-save",
    ("-t", "nat"),
)
_LOOPBACK = IPv4Network("127.0.0.0/8")
# Chains whose rules see only locally made or outgoing packets: never DR-forwarded ones.
_NOT_INBOUND = {"INPUT", "OUTPUT", "POSTROUTING"}
_NFT_FAMILIES = ("ip", "inet")


class NatRule(Record):
    """One REDIRECT or DNAT rule a packet arriving for a VIP may meet.

    destinations: the `-d`/`ip daddr` match, empty for any address; protocol ("tcp", ...)
    and ports (as the rule spells them: "80", "80,443", "1000:2000") or None; action
    REDIRECT or DNAT; to_address: DNAT's new address (None for REDIRECT, or a DNAT that
    changes only the port); conditional: other matches (interface, negation, marks) limit
    it to some packets; chain: "<source> <table> <chain>"; text: the rule as read.
    """

    chain: str
    destinations: tuple[IPv4Network, ...]
    protocol: str | None
    ports: str | None
    action: str
    to_address: IPv4Address | None
    conditional: bool
    text: str

    def __str__(self) -> str:
        return f"{self.chain}: {self.text}"


class NatRedirects(Record):
    """The REDIRECT/DNAT rules read, and the sources that could not be read."""

    rules: tuple[NatRule, ...]
    unreadable: tuple[Unreadable, ...]


def vip_redirects(
    rules: Iterable[NatRule], vip: IPv4Address, local_addresses: Collection[IPv4Address]
) -> tuple[NatRule, ...]:
    """Rules that deliver traffic for *vip* to this node: a REDIRECT, or a DNAT to one of
    *local_addresses* (the node's own IPv4 addresses) or to loopback. A rule without a
    destination match counts: it takes the VIP's packets with everyone else's."""
    return tuple(
        rule
        for rule in rules
        if (not rule.destinations or any(vip in network for network in rule.destinations))
        and (
            rule.action == REDIRECT
            or (
                rule.to_address is not None
                and (rule.to_address in local_addresses or rule.to_address in _LOOPBACK)
            )
        )
    )


def read_nat_redirects() -> NatRedirects:
    """Every REDIRECT/DNAT rule of the reader's namespace; never raises for a source."""
    rules: list[NatRule] = []
    problems: list[Unreadable] = []
    owned: set[tuple[str, str]] = set()

    def iptables_nft() -> list[NatRule]:
        return parse_iptables_save(run_tool("iptables-nft-save", ["-t", "nat"]), "iptables-nft")

    if gather("iptables-nft", iptables_nft, rules, problems):
        owned.add(("ip", "nat"))

    def nft() -> list[NatRule]:
        ruleset = parse_nft_document(run_tool("nft", ["-j", "list", "ruleset"]))
        return nft_nat_rules(ruleset, skip_tables=owned)

    gather("nft", nft, rules, problems)
    gather_legacy(_LEGACY, parse_iptables_save, rules, problems)
    return NatRedirects(tuple(rules), tuple(problems))


# --- iptables-save -t nat -------------------------------------------------------------------

_NEUTRAL_OPTIONS = {"-m", "--comment", "-p", "--protocol"}
_PORT_OPTIONS = {"--dport", "--dports", "--destination-port", "--destination-ports"}


def parse_iptables_save(text: str, source: str) -> list[NatRule]:
    """REDIRECT and DNAT rules of the nat table in `iptables-save -t nat` output."""
    rules = []
    table = None
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith("-A ") and table == "nat":
            rule = _iptables_rule(shlex.split(line), source)
            if rule is not None:
                rules.append(rule)
    return rules


def _iptables_rule(tokens: list[str], source: str) -> NatRule | None:
    chain = tokens[1]
    if chain in _NOT_INBOUND:
        return None
    options: dict[str, str] = {}
    conditional = False
    position = 2
    while position < len(tokens):
        token = tokens[position]
        if token == "!":
            conditional = True
            position += 1
            continue
        value = tokens[position + 1] if position + 1 < len(tokens) else ""
        options[token] = value
        known = token in _NEUTRAL_OPTIONS or token in _PORT_OPTIONS
        if not (known or token in ("-d", "--destination", "-j") or token.startswith("--to")):
            conditional = True
        position += 2
    action = options.get("-j")
    if action not in (REDIRECT, DNAT):
        return None
    destination = options.get("-d", options.get("--destination"))
    ports = next((options[name] for name in _PORT_OPTIONS if name in options), None)
    return NatRule(
        chain=f"{source} nat {chain}",
        destinations=() if destination is None else (IPv4Network(destination, strict=False),),
        protocol=options.get("-p", options.get("--protocol")),
        ports=ports,
        action=action,
        to_address=_dnat_address(options.get("--to-destination")),
        conditional=conditional,
        text=" ".join(shlex.quote(token) for token in tokens[2:]),
    )


def _dnat_address(to: str | None) -> IPv4Address | None:
    """`192.0.2.10`, `192.0.2.10:8443`, `192.0.2.10-192.0.2.20:80`: the first address."""
    if not to:
        return None
    address = to.split(":", 1)[0].split("-", 1)[0]
    return IPv4Address(address) if address else None


# --- nft -j list ruleset --------------------------------------------------------------------


def nft_nat_rules(
    ruleset: Sequence[NftObject], skip_tables: Iterable[tuple[str, str]] = ()
) -> list[NatRule]:
    """REDIRECT/DNAT rules in nat chains hooked at prerouting and in the tables' own chains
    (jump targets); families ip and inet."""
    skipped = set(skip_tables)
    hooked: dict[tuple[str, str, str], str] = {}
    for family in _NFT_FAMILIES:
        for (table, name), chain in base_chains(ruleset, family).items():
            hooked[(family, table, name)] = str(chain["hook"])
    rules = []
    for item in ruleset:
        rule = item.get("rule")
        if not rule or rule.get("family") not in _NFT_FAMILIES:
            continue
        family, table, chain = rule["family"], rule["table"], rule["chain"]
        if (family, table) in skipped or hooked.get((family, table, chain), "prerouting") != (
            "prerouting"
        ):
            continue
        found = _nft_nat_rule(rule.get("expr", []), f"nft {family} {table} {chain}")
        if found is not None:
            rules.append(found)
    return rules


def _nft_nat_rule(expressions: list[NftObject], chain: str) -> NatRule | None:
    destinations: tuple[IPv4Network, ...] = ()
    protocol = ports = None
    action = None
    to_address = None
    conditional = False
    for expression in expressions:
        kind, body = next(iter(expression.items()))
        if kind == "match":
            left = body.get("left")
            payload = left.get("payload") if isinstance(left, dict) else None
            field = (payload or {}).get("field")
            if body.get("op") not in ("==", "in"):
                conditional = True
            elif field == "daddr" and (payload or {}).get("protocol") == "ip":
                destinations = nft_networks(body.get("right"))
            elif field == "dport":
                protocol = str((payload or {}).get("protocol"))
                ports = describe_nft_value(body.get("right"))
            elif isinstance(left, dict) and left.get("meta", {}).get("key") == "l4proto":
                protocol = str(body.get("right"))
            else:
                conditional = True
        elif kind == "redirect":
            action = REDIRECT
        elif kind == "dnat":
            action = DNAT
            address = body.get("addr") if isinstance(body, dict) else None
            to_address = IPv4Address(address) if isinstance(address, str) else None
        elif kind not in ("counter", "log", "comment"):
            conditional = True
    if action is None:
        return None
    text = " ".join(filter(None, (describe_nft(expression) for expression in expressions)))
    return NatRule(chain, destinations, protocol, ports, action, to_address, conditional, text)
