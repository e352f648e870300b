"""A director must keep answering ARP for the VIP on the LAN interface that holds it.

Linear in interfaces + VIPs: VIP addresses are grouped by the interface that holds them,
and each holder's knob is judged once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from ipaddress import IPv4Address

from ..finding import Cause, Finding, Fix, Severity
from ..kernel import ReplyRule, answers_for, reply_rule
from ..model import ARP_ANNOUNCE, ARP_IGNORE, SCOPE_HOST, Address, HostState, Interface
from .remedy import add_vips_to_lan
from .shared import (
    group_by_decider,
    knob_finding,
    new_interface_finding,
    new_interface_group,
    silent_findings,
)

USUAL_VALUE = 0


def assess_director(
    state: HostState,
    vips: Sequence[IPv4Address],
    checked: Sequence[Interface],
    standby_ok: bool,
) -> Iterator[Finding]:
    by_name = {i.name: i for i in state.interfaces}
    held: dict[str, list[Address]] = {}
    hidden: list[Address] = []
    not_held: list[IPv4Address] = []
    for vip in vips:
        placed = state.addresses_of(vip)
        on_lan = [a for a in placed if a.interface in by_name and by_name[a.interface].does_arp]
        if not placed:
            not_held.append(vip)
        for address in on_lan:
            held.setdefault(address.interface, []).append(address)
        if placed and not on_lan:
            hidden.append(placed[0])
    findings: list[Finding] = []
    if not_held:
        findings.append(_not_held(tuple(not_held), standby_ok))
    for name, addresses in held.items():
        findings += _holder_findings(state, by_name[name], addresses)
    findings += _hidden_findings(state, hidden, checked)
    findings += silent_findings(state, checked, USUAL_VALUE, _answers)
    findings += _unusual_values(state, checked)
    yield from findings
    new = new_interface_group(state, ARP_IGNORE)
    if reply_rule(new.effective) is ReplyRule.NEVER:
        # Where conf/all decides for new interfaces too, a finding on conf/all says it already.
        all_at_fault = any(f.conf == "all" and f.is_problem for f in findings)
        if new.value > new.all_value or not all_at_fault:
            yield new_interface_finding(state, new, USUAL_VALUE, _answers)


def _answers(value: int) -> bool:
    return reply_rule(value) is not ReplyRule.NEVER


def _not_held(vips: tuple[IPv4Address, ...], standby_ok: bool) -> Finding:
    return Finding(
        Severity.INFO if standby_ok else Severity.WARNING,
        Cause.VIP_NOT_HELD,
        vips=vips,
        fix=add_vips_to_lan(vips),
    )


def _holder_findings(
    state: HostState, interface: Interface, addresses: Sequence[Address]
) -> Iterator[Finding]:
    """The holder must answer for each VIP it holds: arp_ignore 3 hides scope-host ones."""
    (group,) = group_by_decider(state, ARP_IGNORE, (interface,))
    rule = reply_rule(group.effective)
    unanswered = [
        a
        for a in addresses
        if not answers_for(rule, on_receiving_interface=True, scope_host=a.scope == SCOPE_HOST)
    ]
    skipped = set(unanswered)
    answered = [a for a in addresses if a not in skipped]
    if unanswered:
        yield knob_finding(
            state,
            Cause.VIP_UNANSWERED,
            group,
            Severity.CRITICAL,
            [a.ip for a in unanswered],
            fix_to=(USUAL_VALUE, _answers),
        )._replace(addresses=tuple(unanswered))
    if not answered:
        return
    ips = tuple(a.ip for a in answered)
    if not interface.is_up:
        yield Finding(
            Severity.CRITICAL,
            Cause.VIP_HOLDER_DOWN,
            interfaces=(interface.name,),
            vips=ips,
            addresses=tuple(answered),
            fix=Fix(commands=(f"ip link set {interface.name} up",)),
        )
        return
    yield Finding(
        Severity.OK,
        Cause.VIP_ANSWERED,
        parameter=ARP_IGNORE,
        conf=group.conf,
        value=group.value,
        all_value=group.all_value,
        interfaces=(interface.name,),
        vips=ips,
        addresses=tuple(answered),
    )


def _hidden_findings(
    state: HostState, hidden: Sequence[Address], checked: Sequence[Interface]
) -> Iterator[Finding]:
    """VIPs only on lo or a NOARP interface: only an arp_ignore answering for any address helps."""
    if not hidden:
        return
    any_local: list[str] = []
    not_scope_host: list[str] = []
    for interface in checked:
        if not interface.is_up:
            continue
        rule = reply_rule(max(state.all.arp_ignore, interface.knobs.arp_ignore))
        if rule is ReplyRule.ANY_LOCAL:
            any_local.append(interface.name)
        if answers_for(rule, on_receiving_interface=False, scope_host=False):
            not_scope_host.append(interface.name)
    accidental = [a for a in hidden if any_local or (a.scope != SCOPE_HOST and not_scope_host)]
    chosen = set(accidental)
    unanswered = [a for a in hidden if a not in chosen]
    if accidental:
        answering = any_local or not_scope_host
        yield Finding(
            Severity.WARNING,
            Cause.VIP_ANSWERED_BY_ACCIDENT,
            parameter=ARP_IGNORE,
            all_value=state.all.arp_ignore,
            interfaces=tuple(answering),
            vips=tuple(a.ip for a in accidental),
            addresses=tuple(accidental),
            fix=add_vips_to_lan(a.ip for a in accidental),
        )
    if unanswered:
        yield Finding(
            Severity.CRITICAL,
            Cause.VIP_HIDDEN_UNANSWERED,
            vips=tuple(a.ip for a in unanswered),
            addresses=tuple(unanswered),
            fix=add_vips_to_lan(a.ip for a in unanswered),
        )


def _unusual_values(state: HostState, checked: Sequence[Interface]) -> Iterator[Finding]:
    """Values other than 0 work on a director (keepalived use_vmac sets 1): remarks only."""
    for parameter in (ARP_IGNORE, ARP_ANNOUNCE):
        for group in group_by_decider(state, parameter, checked):
            if group.effective != USUAL_VALUE:
                yield knob_finding(state, Cause.UNUSUAL_VALUE, group, Severity.INFO)
