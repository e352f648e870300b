"""What the kernel does with an effective arp_ignore / arp_announce (ARP-SEMANTICS §1, §3, §4)."""

from __future__ import annotations

import enum


def effective(all_value: int, interface_value: int) -> int:
    """IN_DEV_MAXCONF: the kernel uses the larger of conf/all and conf/<iface>."""
    return max(all_value, interface_value)


class ReplyRule(enum.Enum):
    """arp_ignore(): for which local addresses an interface answers ARP requests."""

    ANY_LOCAL = "answers for any local address"
    ON_INTERFACE = "answers only for addresses on the receiving interface"
    ON_INTERFACE_SAME_SUBNET = (
        "answers only for addresses on the receiving interface, to senders in its subnet"
    )
    NOT_SCOPE_HOST = "answers for any local address except scope-host ones"
    NEVER = "answers no ARP request at all"


class AnnounceRule(enum.Enum):
    """arp_solicit(): which sender address the node puts in its own ARP requests."""

    PACKET_SOURCE = "uses the packet's source address"
    ON_LINK_SOURCE = "uses the packet's source address when it is on-link"
    INTERFACE_ADDRESS = "uses the interface's own address"


_REPLY_RULES = {
    1: ReplyRule.ON_INTERFACE,
    2: ReplyRule.ON_INTERFACE_SAME_SUBNET,
    3: ReplyRule.NOT_SCOPE_HOST,
    8: ReplyRule.NEVER,
}

_ANNOUNCE_RULES = {
    1: AnnounceRule.ON_LINK_SOURCE,
    2: AnnounceRule.INTERFACE_ADDRESS,
}


def reply_rule(effective_arp_ignore: int) -> ReplyRule:
    # 0, the reserved 4-7, >= 9 and negative values all fall to `return 0` in arp_ignore().
    return _REPLY_RULES.get(effective_arp_ignore, ReplyRule.ANY_LOCAL)


def announce_rule(effective_arp_announce: int) -> AnnounceRule:
    # `default:` sits on `case 0:` in arp_solicit(), so 3, 5, -1 behave as 0.
    return _ANNOUNCE_RULES.get(effective_arp_announce, AnnounceRule.PACKET_SOURCE)


def answers_for(rule: ReplyRule, *, on_receiving_interface: bool, scope_host: bool) -> bool:
    """Whether an interface with *rule* answers an ARP request for a local address."""
    if rule is ReplyRule.ANY_LOCAL:
        return True
    if rule is ReplyRule.NOT_SCOPE_HOST:
        return not scope_host
    if rule is ReplyRule.NEVER:
        return False
    return on_receiving_interface


def announces_source(rule: AnnounceRule, *, source_on_link: bool) -> bool:
    """Whether the node puts a local source address in an ARP request on this interface."""
    if rule is AnnounceRule.PACKET_SOURCE:
        return True
    if rule is AnnounceRule.ON_LINK_SOURCE:
        return source_on_link
    return False
