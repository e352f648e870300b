"""The kernel's switch statements, value by value (ARP-SEMANTICS §1, §3, §4)."""

from __future__ import annotations

import pytest

from checks.kernel import (
    AnnounceRule,
    ReplyRule,
    announce_rule,
    announces_source,
    answers_for,
    effective,
    reply_rule,
)
from checks.kernel_int import INT_MAX, INT_MIN

REPLY_RULES = [
    (0, ReplyRule.ANY_LOCAL),
    (1, ReplyRule.ON_INTERFACE),
    (2, ReplyRule.ON_INTERFACE_SAME_SUBNET),
    (3, ReplyRule.NOT_SCOPE_HOST),
    *((reserved, ReplyRule.ANY_LOCAL) for reserved in (4, 5, 6, 7)),
    (8, ReplyRule.NEVER),
    (9, ReplyRule.ANY_LOCAL),
    (INT_MAX, ReplyRule.ANY_LOCAL),
    (-1, ReplyRule.ANY_LOCAL),
    (INT_MIN, ReplyRule.ANY_LOCAL),
]

ANNOUNCE_RULES = [
    (0, AnnounceRule.PACKET_SOURCE),
    (1, AnnounceRule.ON_LINK_SOURCE),
    (2, AnnounceRule.INTERFACE_ADDRESS),
    (3, AnnounceRule.PACKET_SOURCE),
    (5, AnnounceRule.PACKET_SOURCE),
    (INT_MAX, AnnounceRule.PACKET_SOURCE),
    (-1, AnnounceRule.PACKET_SOURCE),
]


@pytest.mark.parametrize(("value", "rule"), REPLY_RULES, ids=[str(v) for v, _ in REPLY_RULES])
def test_arp_ignore_value_selects_reply_rule(value: int, rule: ReplyRule) -> None:
    assert reply_rule(value) is rule


@pytest.mark.parametrize(("value", "rule"), ANNOUNCE_RULES, ids=[str(v) for v, _ in ANNOUNCE_RULES])
def test_arp_announce_value_selects_announce_rule(value: int, rule: AnnounceRule) -> None:
    assert announce_rule(value) is rule


@pytest.mark.parametrize(
    ("all_value", "own", "expected"),
    [(0, 1, 1), (2, 0, 2), (2, 3, 3), (-1, 0, 0), (-5, -1, -1), (INT_MAX, 8, INT_MAX)],
    ids=["iface-raises", "all-raises", "iface-outbids-all", "negative-all", "both-negative", "max"],
)
def test_effective_is_max_of_all_and_interface(all_value: int, own: int, expected: int) -> None:
    assert effective(all_value, own) == expected


# (rule, VIP on the receiving interface, VIP scope host) -> answered
ANSWERS = [
    (ReplyRule.ANY_LOCAL, False, False, True),
    (ReplyRule.ANY_LOCAL, False, True, True),
    (ReplyRule.ON_INTERFACE, False, False, False),
    (ReplyRule.ON_INTERFACE, True, False, True),
    (ReplyRule.ON_INTERFACE_SAME_SUBNET, False, False, False),
    (ReplyRule.ON_INTERFACE_SAME_SUBNET, True, False, True),
    (ReplyRule.NOT_SCOPE_HOST, False, False, True),
    (ReplyRule.NOT_SCOPE_HOST, False, True, False),
    (ReplyRule.NOT_SCOPE_HOST, True, True, False),
    (ReplyRule.NEVER, True, False, False),
]


@pytest.mark.parametrize(
    ("rule", "on_interface", "scope_host", "answered"),
    ANSWERS,
    ids=[
        f"{r.name}-{'on-iface' if o else 'elsewhere'}-{'host' if s else 'global'}"
        for r, o, s, _ in ANSWERS
    ],
)
def test_which_local_addresses_are_answered(
    rule: ReplyRule, on_interface: bool, scope_host: bool, answered: bool
) -> None:
    assert answers_for(rule, on_receiving_interface=on_interface, scope_host=scope_host) is answered


@pytest.mark.parametrize(
    ("rule", "on_link", "announced"),
    [
        (AnnounceRule.PACKET_SOURCE, False, True),
        (AnnounceRule.ON_LINK_SOURCE, True, True),
        (AnnounceRule.ON_LINK_SOURCE, False, False),
        (AnnounceRule.INTERFACE_ADDRESS, True, False),
    ],
    ids=["any-source", "on-link-kept", "off-link-replaced", "own-address"],
)
def test_which_source_goes_into_arp_requests(
    rule: AnnounceRule, on_link: bool, announced: bool
) -> None:
    assert announces_source(rule, source_on_link=on_link) is announced
