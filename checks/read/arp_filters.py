"""ARP filter rules (arptables, nftables' `arp` family) and whether they hide a VIP.

Some LVS-DR real servers leave every ARP sysctl at 0 and filter instead (ARP-SEMANTICS §11,
§12): `arptables -A INPUT -d VIP -j DROP` keeps requests for the VIP unanswered, and
`arptables -A OUTPUT -s VIP -j mangle --mangle-ip-s RIP` (or a drop) keeps the VIP out of
the sender field of the node's own requests. nftables does the same with
`arp daddr ip VIP drop` in an input hook and `arp saddr ip VIP drop` (or `arp saddr ip set
RIP`) in an output hook.

Three sources, each read in the reader's network namespace (rules are live only):
- `nft -j list ruleset arp`: native nftables rules, and arptables-nft's (Debian's default
  `arptables`), which live in nftables' `arp filter` table;
- `arptables-nft -L -n` for that `arp filter` table when it holds `xt` targets (mangle),
  whose arguments nft's JSON does not show;
- `arptables-legacy -L -n` for the kernel's arp_tables, only when
  /proc/self/net/arp_tables_names lists a table: listing would create an empty one.
Frames a packet socket sends (arping) pass no ARP filter at all (ARP-SEMANTICS §11).

Reading needs CAP_NET_ADMIN. A source that cannot be read becomes an Unreadable entry with
the reason; the reader never raises for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network

from ..record import TYPE_CHECKING, Record
from .rule_tools import (
    LegacyTable,
    Unreadable,
    base_chains,
    describe_nft,
    gather,
    gather_legacy,
    nft_networks,
    parse_nft_document,
    run_tool,
    tables_with_xt,
)

if TYPE_CHECKING:
    from .rule_tools import NftObject


_LEGACY = LegacyTable(
    "/proc/self/net/arp_tables_names", None, "arptables-legacy", "arptables-legacy", ("-L", "-n")
)

INPUT = "input"
OUTPUT = "output"
# What a rule does to a matching ARP packet.
DROP = "drop"
ACCEPT = "accept"
HIDE_SENDER = "rewrite sender"  # mangle of the sender IP: the VIP no longer goes out
CONTINUE = "continue"  # counts, logs, marks: evaluation goes on to the next rule
UNKNOWN = "unknown"  # a jump, a return, an xt target whose arguments are not known


REQUEST = "request"
REPLY = "reply"


class ArpRule(Record):
    """One ARP filter rule of a chain hooked at input or output, in chain order.

    targets/senders are the ARP target/sender IPv4 match (`-d`/`-s`, `arp daddr ip`/`arp
    saddr ip`); empty means any address. operation is REQUEST, REPLY or None (both).
    conditional: the rule also matches on something this reader does not weigh (interface,
    MAC, negation, a limit), so it may apply to only some packets. A chain's policy is the
    chain's last rule, unconditional. chain names the chain ("arptables-nft filter INPUT",
    "nft arp lvs in"): each chain is evaluated on its own, as the kernel does.
    """

    chain: str
    hook: str
    targets: tuple[IPv4Network, ...]
    senders: tuple[IPv4Network, ...]
    operation: str | None
    verdict: str
    conditional: bool
    text: str

    def may_match(self, packet: VipPacket, vip: IPv4Address) -> bool:
        """Could this rule see *packet* (which carries *vip* in its target or sender field)?"""
        field = self.targets if packet.field == TARGET else self.senders
        return (
            self.hook == packet.hook
            and self.operation in (None, packet.operation)
            and (not field or any(vip in network for network in field))
        )

    def matches_every(self, packet: VipPacket, vip: IPv4Address) -> bool:
        """Does it match every such packet, whoever asks and wherever it goes?"""
        other = self.senders if packet.field == TARGET else self.targets
        return self.may_match(packet, vip) and not other and not self.conditional

    def hides(self) -> bool:
        return self.verdict == DROP or (self.hook == OUTPUT and self.verdict == HIDE_SENDER)

    def __str__(self) -> str:
        return f"{self.chain}: {self.text}"


TARGET = "target"
SENDER = "sender"


class VipPacket(Record):
    """An ARP packet that carries the VIP, as the chains of one hook see it."""

    hook: str
    field: str
    operation: str


# A request for the VIP reaching the node; the node's reply, whose sender is the VIP (seen
# live: an OUTPUT rule on `-s VIP` drops or rewrites the reply too); the node's own request
# sent from the VIP (the announce leak, ARP-SEMANTICS §4).
REQUEST_FOR_VIP = VipPacket(INPUT, TARGET, REQUEST)
REPLY_FROM_VIP = VipPacket(OUTPUT, SENDER, REPLY)
REQUEST_FROM_VIP = VipPacket(OUTPUT, SENDER, REQUEST)


class ArpFilters(Record):
    """The ARP rules read, and the sources that could not be read (judge by sysctls then)."""

    rules: tuple[ArpRule, ...]
    unreadable: tuple[Unreadable, ...]


class ArpFilterCover(Record):
    """What the rules do for one VIP: no ARP reply for it leaves the node (hides_replies:
    requests for it dropped on input, or the reply dropped or rewritten on output); the VIP
    kept out of the sender field of the node's own requests (hides_announce); the rules that
    decide, as "<chain>: <rule>"."""

    hides_replies: bool
    hides_announce: bool
    rules: tuple[str, ...]


def arp_filter_cover(rules: Iterable[ArpRule], vip: IPv4Address) -> ArpFilterCover:
    """Evaluate every chain for the three packets that carry *vip*, as the kernel walks them.

    In a chain the first rule that decides wins: a hiding rule (drop; on output also a
    sender rewrite) that matches every such packet hides it; an accept, jump or unknown
    target that may match first lets (some of) them through. One hiding chain is enough:
    every base chain of the hook (and arp_tables) sees the packet in turn, and a drop or
    rewrite anywhere is final for the VIP.
    """
    chains: dict[str, list[ArpRule]] = {}
    for rule in rules:
        chains.setdefault(rule.chain, []).append(rule)
    deciding: dict[VipPacket, list[ArpRule]] = {}
    for packet in (REQUEST_FOR_VIP, REPLY_FROM_VIP, REQUEST_FROM_VIP):
        for chain in chains.values():
            found = _decides(chain, packet, vip)
            if found is not None:
                deciding.setdefault(packet, []).append(found)
    named = (rule for found in deciding.values() for rule in found)
    return ArpFilterCover(
        hides_replies=REQUEST_FOR_VIP in deciding or REPLY_FROM_VIP in deciding,
        hides_announce=REQUEST_FROM_VIP in deciding,
        rules=tuple(dict.fromkeys(str(rule) for rule in named)),
    )


def _decides(chain: Sequence[ArpRule], packet: VipPacket, vip: IPv4Address) -> ArpRule | None:
    for rule in chain:
        if rule.verdict == CONTINUE or not rule.may_match(packet, vip):
            continue
        if rule.hides():
            if rule.matches_every(packet, vip):
                return rule
            continue  # hides only some of these packets: the rest go on down the chain
        return None  # accept, return, jump or unknown: some of them may get through
    return None


def read_arp_filters() -> ArpFilters:
    """Every ARP filter rule of the reader's network namespace; never raises for a source."""
    rules: list[ArpRule] = []
    problems: list[Unreadable] = []
    gather("nft", lambda: _nft_rules(problems), rules, problems)
    gather_legacy(_LEGACY, parse_arptables_list, rules, problems)
    return ArpFilters(tuple(rules), tuple(problems))


def _nft_rules(problems: list[Unreadable]) -> list[ArpRule]:
    """nft's arp tables; arptables-nft's own listing for a table whose mangle nft's JSON
    shows only as a bare `xt target mangle`."""
    ruleset = parse_nft_document(run_tool("nft", ["-j", "list", "ruleset", "arp"]))
    rules: list[ArpRule] = []
    replaced = set()
    xt = ("arp", "filter") in tables_with_xt(ruleset)
    if xt and gather("arptables-nft", _arptables_nft, rules, problems):
        replaced.add(("arp", "filter"))
    return rules + nft_arp_rules(ruleset, skip_tables=replaced)


def _arptables_nft() -> list[ArpRule]:
    return parse_arptables_list(run_tool("arptables-nft", ["-L", "-n"]), "arptables-nft")


# --- arptables -L -n ------------------------------------------------------------------------

_ARPTABLES_HOOKS = {"INPUT": INPUT, "OUTPUT": OUTPUT}
_ARPTABLES_VERDICTS = {"DROP": DROP, "ACCEPT": ACCEPT}
# Matches every Ethernet IPv4 ARP packet anyway (arptables-nft adds them to each rule).
_NEUTRAL = {
    ("--h-length", "6"),
    ("--h-type", "1"),
    ("--h-type", "Ethernet"),
    ("--proto-type", "0x800"),
    ("-i", "*"),
    ("-o", "*"),
}
_ADDRESS_OPTIONS = {"-s", "-d"}
_OPCODES = {"1": REQUEST, "request": REQUEST, "2": REPLY, "reply": REPLY}
_MANGLE_OPTIONS = {"--mangle-ip-s", "--mangle-ip-d", "--mangle-mac-s", "--mangle-mac-d"}


def parse_arptables_list(text: str, source: str) -> list[ArpRule]:
    """Rules of INPUT and OUTPUT from `arptables -L -n` (legacy and nft print the same)."""
    rules: list[ArpRule] = []
    chain = None
    for line in text.splitlines():
        if line.startswith("Chain "):
            name, _, rest = line[6:].partition(" ")
            chain = name if name in _ARPTABLES_HOOKS else None
            if chain is not None and rest.startswith("(policy "):
                policy = rest[8:].split()[0].rstrip(")")
                rules.append(_policy(f"{source} filter {chain}", _ARPTABLES_HOOKS[chain], policy))
            continue
        if chain is None or not line.strip() or line.startswith("#"):
            continue
        rule = _arptables_rule(line.split(), f"{source} filter {chain}", _ARPTABLES_HOOKS[chain])
        # The policy stays last: rules go in front of it.
        rules.insert(len(rules) - 1, rule)
    return rules


def _policy(chain: str, hook: str, policy: str) -> ArpRule:
    verdict = _ARPTABLES_VERDICTS.get(policy.upper(), UNKNOWN)
    return ArpRule(chain, hook, (), (), None, verdict, False, f"policy {policy}")


def _arptables_rule(tokens: list[str], chain: str, hook: str) -> ArpRule:
    if tokens and tokens[0].isdigit():  # --line-numbers
        tokens = tokens[1:]
    options: dict[str, str] = {}
    conditional = False
    position = 0
    while position < len(tokens):
        token = tokens[position]
        value = tokens[position + 1] if position + 1 < len(tokens) else ""
        if token == "!" or value == "!" or not token.startswith("-"):
            conditional = True
            position += 1
            continue
        options[token] = value
        if token == "--opcode":
            conditional = conditional or value.lower() not in _OPCODES
        elif not (token in _ADDRESS_OPTIONS or token in _MANGLE_OPTIONS or token == "-j"):
            conditional = conditional or (token, value) not in _NEUTRAL
        position += 2
    return ArpRule(
        chain,
        hook,
        _networks(options.get("-d")),
        _networks(options.get("-s")),
        _OPCODES.get(options.get("--opcode", "").lower()),
        _arptables_verdict(options),
        conditional,
        " ".join(tokens),
    )


def _arptables_verdict(options: dict[str, str]) -> str:
    target = options.get("-j", "")
    if target == "mangle":
        if options.get("--mangle-target", "ACCEPT").upper() == "DROP":
            return DROP
        return HIDE_SENDER if "--mangle-ip-s" in options else ACCEPT
    if target in ("", "CLASSIFY", "MARK"):
        return CONTINUE
    return _ARPTABLES_VERDICTS.get(target, UNKNOWN)


def _networks(value: str | None) -> tuple[IPv4Network, ...]:
    if value is None or value in ("0.0.0.0/0", "0/0"):
        return ()
    return (IPv4Network(value, strict=False),)


# --- nft -j list ruleset --------------------------------------------------------------------

# Fixed matches arptables-nft adds to every rule: true of every Ethernet IPv4 ARP packet.
_NFT_NEUTRAL = {("htype", 1), ("hlen", 6), ("plen", 4), ("ptype", 2048)}
_NFT_IGNORED = {"counter", "log", "comment"}
_NFT_VERDICTS = {"drop": DROP, "accept": ACCEPT, "continue": CONTINUE}
_NFT_ADDRESS_FIELDS = {"daddr ip": "targets", "saddr ip": "senders"}


def nft_arp_rules(
    ruleset: Sequence[NftObject], skip_tables: Iterable[tuple[str, str]] = ()
) -> list[ArpRule]:
    """ArpRules of the `arp` family's input and output base chains; policy rules last."""
    skipped = set(skip_tables)
    chains = {
        key: chain
        for key, chain in base_chains(ruleset, "arp").items()
        if chain["hook"] in (INPUT, OUTPUT) and ("arp", key[0]) not in skipped
    }
    found: dict[tuple[str, str], list[ArpRule]] = {key: [] for key in chains}
    for item in ruleset:
        rule = item.get("rule")
        if not rule or rule.get("family") != "arp":
            continue
        key = (rule["table"], rule["chain"])
        if key in chains:
            name = f"nft arp {key[0]} {key[1]}"
            found[key].append(_nft_arp_rule(rule.get("expr", []), name, chains[key]["hook"]))
    rules: list[ArpRule] = []
    for key, chain in chains.items():
        rules.extend(found[key])
        name = f"nft arp {key[0]} {key[1]}"
        rules.append(_policy(name, chain["hook"], str(chain.get("policy", "accept"))))
    return rules


def _nft_arp_rule(expressions: list[NftObject], chain: str, hook: str) -> ArpRule:
    fields: dict[str, tuple[IPv4Network, ...]] = {"targets": (), "senders": ()}
    conditional = False
    operation = None
    verdict = CONTINUE
    for expression in expressions:
        kind, body = next(iter(expression.items()))
        if kind == "match":
            field = _nft_payload_field(body.get("left"))
            if field in _NFT_ADDRESS_FIELDS and body.get("op") in ("==", "in"):
                fields[_NFT_ADDRESS_FIELDS[field]] = nft_networks(body.get("right"))
            elif field == "operation" and body.get("op") == "==":
                operation = _OPCODES.get(str(body.get("right")))
                conditional = conditional or operation is None
            elif (field, body.get("right")) not in _NFT_NEUTRAL or body.get("op") != "==":
                conditional = True
        elif kind == "mangle" and _nft_payload_field(body.get("key")) == "saddr ip":
            verdict = HIDE_SENDER
        elif kind in _NFT_VERDICTS:
            verdict = _NFT_VERDICTS[kind] if verdict != HIDE_SENDER or kind == "drop" else verdict
        elif kind in ("jump", "goto", "return", "xt") and not (
            kind == "xt" and body.get("type") == "match"
        ):
            verdict = UNKNOWN
        elif kind not in _NFT_IGNORED:
            conditional = True  # an xt match, a limit, a meta match: only some packets
    text = " ".join(filter(None, (describe_nft(expression) for expression in expressions)))
    return ArpRule(
        chain,
        hook,
        fields["targets"],
        fields["senders"],
        operation,
        verdict,
        conditional,
        text.strip(),
    )


def _nft_payload_field(left: object) -> str | None:
    if isinstance(left, dict) and isinstance(left.get("payload"), dict):
        return str(left["payload"].get("field"))
    return None
