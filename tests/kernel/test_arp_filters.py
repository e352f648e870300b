"""ARP filters instead of sysctls: real frames against what read_arp_filters() concludes.

The node keeps every ARP sysctl at 0 and holds the VIP /32 on lo, so without rules it both
answers ARP for the VIP and announces it. Each row installs rules with the tool an operator
would use (arptables-nft, Debian's default `arptables`; arptables-legacy; native nft), watches
the node from the peer (arp_observer: a who-has for the VIP, and the node's own request sent
while it replies from the VIP to a DR-forwarded packet), then reads the rules inside the node
namespace and demands the reader's verdict match the wire.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

import pytest

from .arp_observer import Observation
from .netns import DEFAULT_VIP, NODE_IP, Address, NodeConfig, Topology

pytestmark = pytest.mark.kernel

VIP = DEFAULT_VIP
NFT_ARP_TABLE = "lvsarp"

READ_COVER = """
import json
from ipaddress import IPv4Address
from checks.read.arp_filters import arp_filter_cover, read_arp_filters
filters = read_arp_filters()
cover = arp_filter_cover(filters.rules, IPv4Address({vip!r}))
print(json.dumps({{
    "hides_replies": cover.hides_replies,
    "hides_announce": cover.hides_announce,
    "rules": list(cover.rules),
    "unreadable": [str(problem) for problem in filters.unreadable],
}}))
"""


@dataclass(frozen=True)
class Row:
    id: str
    commands: tuple[tuple[str, ...], ...]
    wire: Observation
    hides_replies: bool
    hides_announce: bool


def arptables(tool: str, *rules: str) -> tuple[tuple[str, ...], ...]:
    return tuple((tool, *rule.split()) for rule in rules)


def nft_arp(*rules: str) -> tuple[tuple[str, ...], ...]:
    table = ("nft", "add", "table", "arp", NFT_ARP_TABLE)
    chains = tuple(
        (
            "nft",
            "add",
            "chain",
            "arp",
            NFT_ARP_TABLE,
            name,
            f"{{ type filter hook {name} priority 0; }}",
        )
        for name in ("input", "output")
    )
    return (
        table,
        *chains,
        *(("nft", "add", "rule", "arp", NFT_ARP_TABLE, *r.split()) for r in rules),
    )


INPUT_DROP = f"-A INPUT -d {VIP} -j DROP"
OUTPUT_MANGLE = f"-A OUTPUT -s {VIP} -j mangle --mangle-ip-s {NODE_IP}"
HIDDEN = Observation(
    accepts_forwarded=True, announce_sender=NODE_IP, answers_vip=False, answers_own=True
)

ROWS = (
    Row("no-rules", (), Observation(True, VIP, True, True), False, False),
    Row("arptables-nft", arptables("arptables", INPUT_DROP, OUTPUT_MANGLE), HIDDEN, True, True),
    Row(
        "arptables-legacy",
        arptables("arptables-legacy", INPUT_DROP, OUTPUT_MANGLE),
        HIDDEN,
        True,
        True,
    ),
    Row(
        "nft-drop-and-rewrite",
        nft_arp(
            f"input arp daddr ip {VIP} drop",
            f"output arp saddr ip {VIP} arp saddr ip set {NODE_IP}",
        ),
        HIDDEN,
        True,
        True,
    ),
    # Dropping the node's VIP-sourced requests hides the VIP too: the reply then never leaves.
    Row(
        "nft-drop-both",
        nft_arp(f"input arp daddr ip {VIP} drop", f"output arp saddr ip {VIP} drop"),
        Observation(False, None, False, True),
        True,
        True,
    ),
    # Dropping requests for the VIP also drops the replies to the node's VIP-sourced
    # requests (their target is the VIP): forwarded traffic stalls, and the VIP still leaks.
    Row(
        "input-only",
        arptables("arptables", INPUT_DROP),
        Observation(False, VIP, False, True),
        True,
        False,
    ),
    # OUTPUT `-s VIP` sees the node's replies too: the rewrite alone hides both halves.
    Row("output-mangle-only", arptables("arptables", OUTPUT_MANGLE), HIDDEN, True, True),
    Row(
        "output-mangle-requests-only",
        arptables("arptables", f"{OUTPUT_MANGLE} --opcode Request"),
        Observation(True, NODE_IP, True, True),
        False,
        True,
    ),
    Row(
        "accept-before-drop",
        arptables("arptables", "-A INPUT -j ACCEPT", INPUT_DROP),
        Observation(True, VIP, True, True),
        False,
        False,
    ),
)


def read_cover(topology: Topology, *, as_user: bool = False) -> dict[str, Any]:
    argv = [sys.executable, "-c", READ_COVER.format(vip=VIP)]
    if as_user:
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
    report: dict[str, Any] = json.loads(topology.exec_node(argv))
    return report


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_reader_agrees_with_the_wire(topology: Topology, row: Row) -> None:
    topology.apply(NodeConfig(addresses=(Address(f"{VIP}/32", "lo"),)))
    for command in row.commands:
        topology.exec_node(command)
    observed = topology.observe(VIP)
    assert observed == row.wire, f"the kernel did not do what row {row.id} declares"

    report = read_cover(topology)
    assert report["unreadable"] == []
    # Derived from the wire, not from the row: the reader must say what the frames showed.
    assert report["hides_replies"] is (not observed.answers_vip)
    assert report["hides_announce"] is (observed.announce_sender != VIP)
    assert (report["hides_replies"], report["hides_announce"]) == (
        row.hides_replies,
        row.hides_announce,
    )


def test_rules_name_what_hides(topology: Topology) -> None:
    for command in arptables("arptables", INPUT_DROP, OUTPUT_MANGLE):
        topology.exec_node(command)
    assert read_cover(topology)["rules"] == [
        f"arptables-nft filter INPUT: -j DROP -d {VIP}",
        f"arptables-nft filter OUTPUT: -j mangle -s {VIP} --mangle-ip-s {NODE_IP}",
    ]


def test_unprivileged_reader_says_why_it_cannot_read(topology: Topology) -> None:
    for command in arptables("arptables", INPUT_DROP, OUTPUT_MANGLE):
        topology.exec_node(command)
    report = read_cover(topology, as_user=True)
    assert (report["hides_replies"], report["hides_announce"]) == (False, False)
    assert report["unreadable"], "an unprivileged read must not look like 'no rules'"
    assert any(
        problem.startswith("nft:") and "CAP_NET_ADMIN" in problem
        for problem in report["unreadable"]
    ), report["unreadable"]


def test_reading_creates_no_table(topology: Topology) -> None:
    """Listing legacy arp_tables would create its filter table: the reader must not list it."""
    report = read_cover(topology)
    assert report["unreadable"] == []
    assert topology.exec_node(["cat", "/proc/self/net/arp_tables_names"]) == ""
    assert topology.exec_node(["nft", "list", "ruleset"]) == ""
