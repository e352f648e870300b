"""A real server must hold each VIP on lo (or a NOARP interface) and never reveal it by ARP."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from ipaddress import IPv4Address

from .arp_kernel import ReplyRule, announce_rule, announces_source, answers_for, reply_rule
from .finding import Finding, Severity
from .knob_reading import KnobReading, new_interface_reading, reading
from .model import ARP_ANNOUNCE, ARP_IGNORE, HostState, Interface
from .remedy import knob_fix, move_vip_to_lo
from .silence import silent_interface_finding
from .vips import is_on_link, is_scope_host

IGNORE_TARGET = 1
ANNOUNCE_TARGET = 2


def assess_realserver(
    state: HostState, vips: Sequence[IPv4Address], checked: Sequence[Interface]
) -> Iterator[Finding]:
    for vip in vips:
        yield from vip_placement(state, vip)
    for interface in checked:
        yield _reply_finding(state, interface, vips)
        yield _announce_finding(state, interface, vips)
        silent = silent_interface_finding(state, interface, IGNORE_TARGET)
        if silent is not None:
            yield silent
    yield from _new_interface_findings(state, vips)


def vip_placement(state: HostState, vip: IPv4Address) -> Iterator[Finding]:
    placed = state.addresses_of(vip)
    if not placed:
        yield Finding(
            Severity.CRITICAL,
            f"VIP {vip} is not configured on this real server",
            subject="vip",
            vip=str(vip),
            detail="The node drops the frames the director forwards to it.",
            fix=move_vip_to_lo(vip, None),
        )
    does_arp = {i.name for i in state.interfaces if i.does_arp}
    for address in placed:
        if address.interface in does_arp:
            yield Finding(
                Severity.CRITICAL,
                f"{address.interface} holds VIP {vip}: the node answers ARP for it",
                subject="vip",
                vip=str(vip),
                detail="Every arp_ignore value that still answers ARP for the node's own "
                "address also answers for addresses on the receiving interface.",
                fix=move_vip_to_lo(vip, address),
            )
        elif address.prefixlen != 32:
            yield Finding(
                Severity.CRITICAL,
                f"VIP {address} on {address.interface} routes {address.network} there",
                subject="vip",
                vip=str(vip),
                detail=f"The connected route for {address.network} points at {address.interface}; "
                "the node can no longer answer clients in that subnet. A VIP needs /32.",
                fix=move_vip_to_lo(vip, address),
            )
        else:
            yield Finding(
                Severity.OK,
                f"VIP {address} on {address.interface}",
                subject="vip",
                vip=str(vip),
            )


def _leak_severity(interface: Interface) -> Severity:
    # A down interface sends and answers nothing yet, but it will once brought up.
    return Severity.CRITICAL if interface.is_up else Severity.WARNING


def _reply_leaks(state: HostState, rule: ReplyRule, vips: Sequence[IPv4Address]) -> list[str]:
    return [
        str(vip)
        for vip in vips
        if answers_for(rule, on_receiving_interface=False, scope_host=is_scope_host(state, vip))
    ]


def _reply_finding(state: HostState, interface: Interface, vips: Sequence[IPv4Address]) -> Finding:
    knob = reading(state, interface, ARP_IGNORE)
    rule = reply_rule(knob.effective)
    leaked = _reply_leaks(state, rule, vips)
    if not leaked:
        return knob.finding(
            Severity.OK, f"{interface.name} hides the VIPs from ARP replies", rule.value
        )
    return knob.finding(
        _leak_severity(interface),
        f"{interface.name} answers ARP for VIP {_first_of(leaked)}",
        f"With arp_ignore {knob.effective} the interface {rule.value}.",
        vip=leaked[0],
        fix=knob_fix(state, interface, ARP_IGNORE, IGNORE_TARGET, _hides_all(state, vips)),
    )


def _announce_finding(
    state: HostState, interface: Interface, vips: Sequence[IPv4Address]
) -> Finding:
    knob = reading(state, interface, ARP_ANNOUNCE)
    rule = announce_rule(knob.effective)
    leaked = [
        str(vip)
        for vip in vips
        if announces_source(rule, source_on_link=is_on_link(state, interface.name, vip))
    ]
    if not leaked:
        return knob.finding(
            Severity.OK, f"{interface.name} keeps the VIPs out of ARP requests", rule.value
        )
    return knob.finding(
        _leak_severity(interface),
        f"{interface.name} puts VIP {_first_of(leaked)} in its ARP requests",
        f"With arp_announce {knob.effective} the node {rule.value}; "
        "neighbours then map the VIP to this node.",
        vip=leaked[0],
        fix=knob_fix(
            state, interface, ARP_ANNOUNCE, ANNOUNCE_TARGET, lambda v: v == ANNOUNCE_TARGET
        ),
    )


def _new_interface_findings(state: HostState, vips: Sequence[IPv4Address]) -> Iterator[Finding]:
    """A VLAN or bond added later starts from conf/default: does max(all, default) still hide?"""
    ignore = new_interface_reading(state, ARP_IGNORE)
    rule = reply_rule(ignore.effective)
    if rule is ReplyRule.NEVER:
        yield _fragile(
            ignore, "answer no ARP at all", IGNORE_TARGET, _hides_all(state, vips), state
        )
    elif _reply_leaks(state, rule, vips):
        yield _fragile(
            ignore, "answer ARP for the VIP", IGNORE_TARGET, _hides_all(state, vips), state
        )
    announce = new_interface_reading(state, ARP_ANNOUNCE)
    # A new interface's subnet is unknown: judge it like the existing ones, where the usual
    # LVS-DR layout puts the VIP inside the LAN's subnet.
    on_link = any(is_on_link(state, i.name, vip) for i in state.interfaces for vip in vips)
    if announces_source(announce_rule(announce.effective), source_on_link=on_link):
        yield _fragile(
            announce, "put the VIP in ARP requests", ANNOUNCE_TARGET, lambda v: v == 2, state
        )


def _fragile(
    knob: KnobReading, wrong: str, target: int, sound: Callable[[int], bool], state: HostState
) -> Finding:
    fix = knob_fix(state, None, knob.param, target, sound)
    return knob.finding(
        Severity.WARNING,
        f"a new interface would {wrong}",
        "conf/default is copied into every interface created later (a VLAN, bond or veth), "
        "and the kernel takes max(all, interface).",
        fix=fix,
    )


def _hides_all(state: HostState, vips: Sequence[IPv4Address]) -> Callable[[int], bool]:
    def sound(value: int) -> bool:
        rule = reply_rule(value)
        return rule is not ReplyRule.NEVER and not _reply_leaks(state, rule, vips)

    return sound


def _first_of(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{items[0]} (+{len(items) - 1} more)"
