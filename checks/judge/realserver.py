"""A real server must hold each VIP on lo (or a NOARP interface) and never reveal it by ARP.

Cost is linear in interfaces + VIPs: what a knob value leaks is worked out once per value,
and which VIPs lie on an interface's subnets is looked up per VIP in an index of the
subnets, never by pairing every interface with every VIP.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from ipaddress import IPv4Address

from ..finding import Cause, Finding, Severity
from ..kernel import (
    ReplyRule,
    announce_rule,
    announces_source,
    answers_for,
    reply_rule,
)
from ..model import ARP_ANNOUNCE, ARP_IGNORE, Address, HostState, Interface
from .remedy import move_vips_to_lo
from .shared import (
    KnobGroup,
    group_by_decider,
    knob_finding,
    leak_severity,
    new_interface_finding,
    new_interface_group,
    silent_findings,
)
from .vips import SubnetIndex, is_scope_host, vips_key

IGNORE_TARGET = 1
ANNOUNCE_TARGET = 2


def assess_realserver(
    state: HostState, vips: Sequence[IPv4Address], checked: Sequence[Interface]
) -> Iterator[Finding]:
    yield from vip_placement(state, vips)
    judge = _ReplyJudge(state, vips)
    yield from _reply_findings(state, vips, checked, judge)
    yield from _announce_findings(state, vips, checked)
    yield from silent_findings(state, checked, IGNORE_TARGET, judge.hides)
    # conf/default is an entry of its own: even where conf/all decides today, the exporter
    # and the fix must say that interfaces created later leak too.
    yield from _new_interface_findings(state, vips, checked, judge)


def vip_placement(state: HostState, vips: Sequence[IPv4Address]) -> Iterator[Finding]:
    """One finding per kind of placement and interface, with the VIPs it concerns.

    Addresses and flags are the same in every view of the host: worked out once per check.
    """
    key = ("realserver placement", vips_key(vips))
    return iter(state.memo(key, lambda: tuple(_vip_placement(state, vips))))


def _vip_placement(state: HostState, vips: Sequence[IPv4Address]) -> Iterator[Finding]:
    absent: list[IPv4Address] = []
    on_arp: dict[str, list[Address]] = {}
    wide: dict[str, list[Address]] = {}
    placed: dict[str, list[Address]] = {}
    does_arp = {i.name for i in state.interfaces if i.does_arp}
    for vip in vips:
        addresses = state.addresses_of(vip)
        if not addresses:
            absent.append(vip)
        for address in addresses:
            if address.interface in does_arp:
                on_arp.setdefault(address.interface, []).append(address)
            elif address.prefixlen != 32:
                wide.setdefault(address.interface, []).append(address)
            else:
                placed.setdefault(address.interface, []).append(address)
    if absent:
        yield Finding(
            Severity.CRITICAL, Cause.VIP_ABSENT, vips=tuple(absent), fix=move_vips_to_lo(absent)
        )
    for cause, by_interface in ((Cause.VIP_ON_ARP_INTERFACE, on_arp), (Cause.VIP_WIDE_MASK, wide)):
        for interface, misplaced in by_interface.items():
            ips = tuple(a.ip for a in misplaced)
            yield Finding(
                Severity.CRITICAL,
                cause,
                interfaces=(interface,),
                vips=ips,
                addresses=tuple(misplaced),
                fix=move_vips_to_lo(ips, misplaced),
            )
    for interface, sound in placed.items():
        yield Finding(
            Severity.OK,
            Cause.VIP_PLACED,
            interfaces=(interface,),
            vips=tuple(a.ip for a in sound),
            addresses=tuple(sound),
        )


class _ReplyJudge:
    """Which VIPs an effective arp_ignore answers ARP for, worked out once per value."""

    def __init__(self, state: HostState, vips: Sequence[IPv4Address]) -> None:
        self.state = state
        self.vips = tuple(vips)
        self._leaks: dict[int, tuple[IPv4Address, ...]] = {}

    def leaks(self, effective: int) -> tuple[IPv4Address, ...]:
        """The VIPs (held elsewhere than the receiving interface) answered at *effective*."""
        found = self._leaks.get(effective)
        if found is None:
            rule = reply_rule(effective)
            if rule is ReplyRule.NOT_SCOPE_HOST:
                # arp_ignore 3 hides only VIPs whose every copy has scope host; asked only
                # when some interface has 3, since it looks at every VIP's addresses.
                found = tuple(v for v in self.vips if not is_scope_host(self.state, v))
            elif answers_for(rule, on_receiving_interface=False, scope_host=False):
                found = self.vips
            else:
                found = ()
            self._leaks[effective] = found
        return found

    def hides(self, arp_ignore: int) -> bool:
        return reply_rule(arp_ignore) is not ReplyRule.NEVER and not self.leaks(arp_ignore)


def _reply_findings(
    state: HostState,
    vips: Sequence[IPv4Address],
    checked: Sequence[Interface],
    judge: _ReplyJudge,
) -> Iterator[Finding]:
    # An interface holding a VIP answers for it whatever its arp_ignore: its placement
    # finding says so, and it is never listed as hiding the VIPs.
    holders = state.memo(
        ("vip holders", vips_key(vips)),
        lambda: {a.interface for vip in vips for a in state.addresses_of(vip)},
    )
    for group in group_by_decider(state, ARP_IGNORE, checked):
        leaked = judge.leaks(group.effective)
        if leaked:
            yield knob_finding(
                state,
                Cause.REPLY_LEAK,
                group,
                leak_severity(group),
                leaked,
                fix_to=(IGNORE_TARGET, judge.hides),
            )
        else:
            hiding = tuple(i for i in group.interfaces if i.name not in holders)
            if hiding:
                sound = group._replace(interfaces=hiding)
                yield knob_finding(state, Cause.REPLY_HIDDEN, sound, Severity.OK)


def _announce_findings(
    state: HostState, vips: Sequence[IPv4Address], checked: Sequence[Interface]
) -> Iterator[Finding]:
    groups = group_by_decider(state, ARP_ANNOUNCE, checked)
    on_link = _on_link_vips(state, vips, groups)
    for group, (members, linked) in zip(groups, on_link, strict=True):
        sound = group
        if _announces_off_link(group.effective) and vips:
            affected, leaked = group, tuple(vips)
            sound = group._replace(interfaces=())
        elif members:  # only groups that announce an on-link source have members
            # arp_announce 1 keeps the VIP as sender only where it is on-link.
            affected, leaked = group._replace(interfaces=members), linked
            hit = {i.name for i in members}
            sound = group._replace(
                interfaces=tuple(i for i in group.interfaces if i.name not in hit)
            )
        if sound is not group:
            yield knob_finding(
                state,
                Cause.ANNOUNCE_LEAK,
                affected,
                leak_severity(affected),
                leaked,
                fix_to=(ANNOUNCE_TARGET, _announce_hides),
            )
        if sound.interfaces:
            yield knob_finding(state, Cause.ANNOUNCE_HIDDEN, sound, Severity.OK)


def _on_link_vips(
    state: HostState, vips: Sequence[IPv4Address], groups: Sequence[KnobGroup]
) -> list[tuple[tuple[Interface, ...], tuple[IPv4Address, ...]]]:
    """Per group with arp_announce 1: its interfaces that have a VIP on-link, and those VIPs."""
    by_subnet = [_announces_on_link_only(g.effective) for g in groups]
    if not any(by_subnet):
        return [((), ()) for _ in groups]  # the usual host: arp_announce 2 (or 0) everywhere
    index = SubnetIndex()
    members: list[tuple[int, Interface]] = []
    for n, group in enumerate(groups):
        if by_subnet[n]:
            for interface in group.interfaces:
                for address in state.addresses_on(interface.name):
                    index.add(address, len(members))
                members.append((n, interface))
    hit_interfaces: list[set[str]] = [set() for _ in groups]
    hit_vips: list[dict[IPv4Address, None]] = [{} for _ in groups]
    # Each subnet's members are marked once, however many VIPs it holds: linear even when
    # a thousand interfaces share one subnet with thousands of VIPs.
    groups_in: dict[int, set[int]] = {}
    for vip in vips:
        for bucket in index.buckets(vip):
            present = groups_in.get(id(bucket))
            if present is None:
                present = groups_in[id(bucket)] = set()
                for tag in bucket:
                    n, interface = members[tag]
                    hit_interfaces[n].add(interface.name)
                    present.add(n)
            for n in present:
                hit_vips[n][vip] = None
    return [
        (tuple(i for i in group.interfaces if i.name in hit_interfaces[n]), tuple(hit_vips[n]))
        for n, group in enumerate(groups)
    ]


def _announce_hides(arp_announce: int) -> bool:
    return not announces_source(announce_rule(arp_announce), source_on_link=True)


def _announces_off_link(arp_announce: int) -> bool:
    """The VIP goes out as sender whatever the subnets (arp_announce 0, 3 and up)."""
    return announces_source(announce_rule(arp_announce), source_on_link=False)


def _announces_on_link_only(arp_announce: int) -> bool:
    """The VIP goes out as sender only where it is on-link (arp_announce 1)."""
    return not _announces_off_link(arp_announce) and not _announce_hides(arp_announce)


def _new_interface_findings(
    state: HostState,
    vips: Sequence[IPv4Address],
    checked: Sequence[Interface],
    judge: _ReplyJudge,
) -> Iterator[Finding]:
    """A VLAN or bond added later starts from conf/default: does max(all, default) still hide?"""
    ignore = new_interface_group(state, ARP_IGNORE)
    if not judge.hides(ignore.effective):
        yield new_interface_finding(state, ignore, IGNORE_TARGET, judge.hides)
    announce = new_interface_group(state, ARP_ANNOUNCE)
    # A new interface's subnet is unknown: judge it like the existing ones, where the usual
    # LVS-DR layout puts the VIP inside the LAN's subnet.
    if _announces_off_link(announce.effective) or (
        _announces_on_link_only(announce.effective) and _any_on_link(state, vips, checked)
    ):
        yield new_interface_finding(state, announce, ANNOUNCE_TARGET, _announce_hides)


def _any_on_link(
    state: HostState, vips: Sequence[IPv4Address], checked: Sequence[Interface]
) -> bool:
    index = SubnetIndex()
    for interface in checked:
        for address in state.addresses_on(interface.name):
            index.add(address, 0)
    return any(index.buckets(vip) for vip in vips)
