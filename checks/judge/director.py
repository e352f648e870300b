"""A director must keep answering ARP for the VIP on the LAN interface that holds it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from ipaddress import IPv4Address

from ..finding import Finding, Fix, Severity
from ..kernel import ReplyRule, answers_for, reply_rule
from ..model import ARP_ANNOUNCE, ARP_IGNORE, SCOPE_HOST, Address, HostState, Interface
from .knob_reading import new_interface_reading, reading
from .remedy import knob_fix
from .silence import silent_interface_finding

USUAL_VALUE = 0


def assess_director(
    state: HostState,
    vips: Sequence[IPv4Address],
    checked: Sequence[Interface],
    standby_ok: bool,
) -> Iterator[Finding]:
    for vip in vips:
        yield from _vip_findings(state, vip, checked, standby_ok)
    for interface in checked:
        yield from _interface_remarks(state, interface)
    new = new_interface_reading(state, ARP_IGNORE)
    if reply_rule(new.effective) is ReplyRule.NEVER:
        yield new.finding(
            Severity.WARNING,
            "new interfaces would answer no ARP",
            "conf/default is copied into every interface created later.",
            fix=knob_fix(state, None, ARP_IGNORE, USUAL_VALUE, _answers),
        )


def _answers(value: int) -> bool:
    return reply_rule(value) is not ReplyRule.NEVER


def _vip_findings(
    state: HostState, vip: IPv4Address, checked: Sequence[Interface], standby_ok: bool
) -> Iterator[Finding]:
    by_name = {i.name: i for i in state.interfaces}
    placed = state.addresses_of(vip)
    on_lan = [a for a in placed if a.interface in by_name and by_name[a.interface].does_arp]
    if not placed:
        yield _standby_finding(vip, standby_ok)
    elif on_lan:
        for address in on_lan:
            yield _holder_finding(state, by_name[address.interface], address)
    else:
        yield _hidden_vip_finding(state, vip, placed[0], checked)


def _standby_finding(vip: IPv4Address, standby_ok: bool) -> Finding:
    return Finding(
        Severity.INFO if standby_ok else Severity.WARNING,
        f"VIP {vip} is not held here (standby director?)",
        subject="vip",
        vip=str(vip),
        detail="A backup director (keepalived BACKUP) holds no VIP; pass --standby-ok "
        "where that is expected.",
        fix=Fix(commands=(f"ip addr add {vip}/32 dev <lan-interface>",)),
    )


def _holder_finding(state: HostState, interface: Interface, address: Address) -> Finding:
    knob = reading(state, interface, ARP_IGNORE)
    rule = reply_rule(knob.effective)
    vip = str(address.ip)
    scope_host = address.scope == SCOPE_HOST
    if not answers_for(rule, on_receiving_interface=True, scope_host=scope_host):
        return knob.finding(
            Severity.CRITICAL,
            f"{interface.name} answers no ARP for VIP {vip}",
            f"With arp_ignore {knob.effective} the interface {rule.value}.",
            vip=vip,
            fix=knob_fix(state, interface, ARP_IGNORE, USUAL_VALUE, _answers),
        )
    if not interface.is_up:
        return knob.finding(
            Severity.CRITICAL, f"{interface.name} holds VIP {vip} but is down", "", vip=vip
        )
    if knob.effective != USUAL_VALUE:
        return knob.finding(
            Severity.INFO,
            f"{interface.name} answers ARP for VIP {vip}, with an unusual value",
            f"With arp_ignore {knob.effective} the interface {rule.value}; that works "
            "(keepalived use_vmac sets 1).",
            vip=vip,
        )
    return knob.finding(
        Severity.OK, f"{interface.name} answers ARP for VIP {vip}", rule.value, vip=vip
    )


def _hidden_vip_finding(
    state: HostState, vip: IPv4Address, placed: Address, checked: Sequence[Interface]
) -> Finding:
    """VIP only on lo or a NOARP interface: only an arp_ignore answering for any address helps."""
    scope_host = placed.scope == SCOPE_HOST
    answering = [
        i
        for i in checked
        if i.is_up
        and answers_for(
            reply_rule(reading(state, i, ARP_IGNORE).effective),
            on_receiving_interface=False,
            scope_host=scope_host,
        )
    ]
    if answering:
        knob = reading(state, answering[0], ARP_IGNORE)
        # The plugin drops the "(arp_ignore eff ...)" evidence from a status line too long
        # for pagers; -v keeps it.
        return knob.finding(
            Severity.WARNING,
            f"VIP {vip} only on {placed.interface}; {knob.conf_name} answers by accident",
            "It is answered only because this arp_ignore answers for any local address; "
            "put the VIP on the LAN interface.",
            vip=str(vip),
        )
    return Finding(
        Severity.CRITICAL,
        f"VIP {vip} is only on {placed.interface} and no interface answers ARP for it",
        subject="vip",
        vip=str(vip),
        detail="A director must hold the VIP on its LAN interface and answer ARP for it.",
        fix=Fix(commands=(f"ip addr add {vip}/32 dev <lan-interface>",)),
    )


def _interface_remarks(state: HostState, interface: Interface) -> Iterator[Finding]:
    silent = silent_interface_finding(state, interface, USUAL_VALUE, _answers)
    if silent is not None:
        yield silent
    for param in (ARP_IGNORE, ARP_ANNOUNCE):
        knob = reading(state, interface, param)
        severity = Severity.OK if knob.effective == USUAL_VALUE else Severity.INFO
        yield knob.finding(severity, interface.name, "")
