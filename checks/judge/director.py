"""A director must answer ARP for the VIP on the LAN interface that holds it, and only there.

Linear in interfaces + VIPs: VIP addresses are grouped by the interface that holds them,
each holder's knob is judged once, and which other interfaces share a VIP's LAN is looked
up per subnet, never per interface and VIP pair.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from ipaddress import IPv4Address

from ..finding import Cause, Finding, Fix, Severity, SysctlSetting
from ..kernel import ReplyRule, answers_for, reply_rule
from ..model import ARP_ANNOUNCE, ARP_IGNORE, SCOPE_HOST, Address, HostState, Interface
from .remedy import add_vips_to_lan, knob_fix, narrow_vips
from .shared import (
    group_by_decider,
    knob_finding,
    new_interface_finding,
    new_interface_group,
    silent_findings,
)
from .vips import SubnetIndex

USUAL_VALUE = 0
# arp_ignore 1 answers only for addresses on the receiving interface: the holder still
# answers for its VIP, a second NIC on the same LAN no longer does (ARP-SEMANTICS §12).
ONLY_HOLDER = 1


class Placement:
    """Where each VIP sits on this node: held on ARP interfaces (up or down), hidden on lo
    or a NOARP interface only, or absent. One pass over the VIPs."""

    def __init__(self, state: HostState, vips: Sequence[IPv4Address]) -> None:
        by_name = {i.name: i for i in state.interfaces}
        self.held: dict[str, list[Address]] = {}  # ARP interface -> VIP addresses on it
        self.hidden: list[Address] = []  # first address of VIPs only on lo / NOARP
        self.wide: list[Address] = []  # VIP addresses wider than /32 on lo / NOARP
        self.absent: list[IPv4Address] = []
        for vip in vips:
            placed = state.addresses_of(vip)
            if not placed:
                self.absent.append(vip)
                continue
            on_lan = [a for a in placed if a.interface in by_name and by_name[a.interface].does_arp]
            for address in on_lan:
                self.held.setdefault(address.interface, []).append(address)
            if not on_lan:
                self.hidden.append(placed[0])
            # On lo the prefix becomes a local route for the whole subnet; on a NOARP
            # dummy, a route into it: either way the node takes the subnet's traffic.
            self.wide += [a for a in placed if a not in on_lan and a.prefixlen != 32]


def assess_director(
    state: HostState,
    vips: Sequence[IPv4Address],
    checked: Sequence[Interface],
    standby_ok: bool,
) -> Iterator[Finding]:
    placement = Placement(state, vips)
    if placement.absent:
        yield _not_held(tuple(placement.absent), standby_ok)
    yield from director_vip_findings(state, placement, checked, standby_ok)
    yield from _hidden_findings(state, placement.hidden, checked)
    yield from silent_findings(state, checked, USUAL_VALUE, _answers)
    yield from _unusual_values(state, checked)
    new = new_interface_group(state, ARP_IGNORE)
    if reply_rule(new.effective) is ReplyRule.NEVER:
        yield new_interface_finding(state, new, USUAL_VALUE, _answers)


def director_vip_findings(
    state: HostState, placement: Placement, checked: Sequence[Interface], standby_ok: bool
) -> Iterator[Finding]:
    """What a director owes the VIPs it holds: each holder answers, no other NIC does, and
    no VIP makes a whole subnet local. Shared with the role of a node that is both."""
    by_name = {i.name: i for i in state.interfaces}
    if placement.wide:
        yield Finding(
            Severity.CRITICAL,
            Cause.VIP_WIDE_MASK,
            interfaces=tuple(dict.fromkeys(a.interface for a in placement.wide)),
            vips=tuple(dict.fromkeys(a.ip for a in placement.wide)),
            addresses=tuple(placement.wide),
            fix=narrow_vips(placement.wide),
        )
    for name, addresses in placement.held.items():
        yield from _holder_findings(state, by_name[name], addresses, standby_ok)
    yield from _flux_findings(state, placement.held, checked)


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
    state: HostState, interface: Interface, addresses: Sequence[Address], standby_ok: bool
) -> Iterator[Finding]:
    """The holder must answer for each VIP it holds: arp_ignore 3 hides scope-host ones."""
    (group,) = group_by_decider(state, ARP_IGNORE, (interface,))
    rule = reply_rule(group.effective)
    unanswered = [
        a
        for a in addresses
        if not answers_for(rule, on_receiving_interface=True, scope_host=a.scope == SCOPE_HOST)
    ]
    if unanswered:
        yield knob_finding(
            state,
            Cause.VIP_UNANSWERED,
            group,
            Severity.CRITICAL,
            [a.ip for a in unanswered],
            fix_to=(USUAL_VALUE, _answers),
        )._replace(addresses=tuple(unanswered))
    skipped = set(unanswered)
    answered = [a for a in addresses if a not in skipped]
    if not answered:
        return
    ips = tuple(a.ip for a in answered)
    if not interface.is_up:
        # A keepalived BACKUP (or FRR's VRRP) may keep the VIP on an LB NIC held down.
        yield Finding(
            Severity.INFO if standby_ok else Severity.CRITICAL,
            Cause.VIP_HOLDER_DOWN,
            interfaces=(interface.name,),
            vips=ips,
            addresses=tuple(answered),
            fix=Fix() if standby_ok else Fix(commands=(f"ip link set {interface.name} up",)),
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


def _flux_findings(
    state: HostState, held: dict[str, list[Address]], checked: Sequence[Interface]
) -> Iterator[Finding]:
    """Another up NIC on a held VIP's LAN that answers for any local address answers for the
    VIP too (ARP flux): clients learn its MAC half the time. Addresses on a down LB NIC are
    still local, so a BACKUP's node NIC does the same."""
    if not held:
        return
    all_value = state.all.arp_ignore
    answering = [
        i
        for i in checked
        if i.is_up
        and reply_rule(max(all_value, i.knobs.arp_ignore))
        in (ReplyRule.ANY_LOCAL, ReplyRule.NOT_SCOPE_HOST)
    ]
    index = SubnetIndex()
    for tag, interface in enumerate(answering):
        for address in state.addresses_on(interface.name):
            index.add(address, tag)
    # Per subnet, once: the VIPs it holds, their holders, and whether any is scope global.
    lans: dict[int, _Lan] = {}
    for holder, addresses in held.items():
        for address in addresses:
            for bucket in index.buckets(address.ip):
                lan = lans.get(id(bucket))
                if lan is None:
                    lan = lans[id(bucket)] = _Lan(bucket)
                lan.add(holder, address)
    for lan in lans.values():
        stealing = [
            answering[t]
            for t in dict.fromkeys(lan.tags)
            if answering[t].name not in lan.holders
            and (
                lan.any_global
                or reply_rule(max(all_value, answering[t].knobs.arp_ignore)) is ReplyRule.ANY_LOCAL
            )
        ]
        if stealing:
            yield Finding(
                Severity.CRITICAL,
                Cause.VIP_FLUX,
                parameter=ARP_IGNORE,
                all_value=all_value,
                interfaces=tuple(i.name for i in stealing),
                vips=tuple(lan.vips),
                fix=_flux_fix(state, stealing),
            )


class _Lan:
    """One subnet of answering interfaces and the held VIPs inside it."""

    def __init__(self, tags: list[int]) -> None:
        self.tags = tags
        self.vips: dict[IPv4Address, None] = {}
        self.holders: set[str] = set()
        self.any_global = False  # arp_ignore 3 answers for scope-global VIPs only

    def add(self, holder: str, address: Address) -> None:
        self.vips[address.ip] = None
        self.holders.add(holder)
        self.any_global = self.any_global or address.scope != SCOPE_HOST


def _flux_fix(state: HostState, stealing: Sequence[Interface]) -> Fix:
    """arp_ignore 1 on each stealing NIC; conf/all too where it alone outbids 1."""
    if state.all.arp_ignore <= ONLY_HOLDER:
        return Fix(tuple(SysctlSetting(i.name, ARP_IGNORE, ONLY_HOLDER) for i in stealing))
    return knob_fix(state, ARP_IGNORE, ONLY_HOLDER, _only_holder, stealing)


def _only_holder(value: int) -> bool:
    return reply_rule(value) in (ReplyRule.ON_INTERFACE, ReplyRule.ON_INTERFACE_SAME_SUBNET)


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
