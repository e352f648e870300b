"""What both roles judge alike: which entry decides a knob, and interfaces that go silent.

Interfaces are grouped by the conf entry that decides their effective value, so a host with
thousands of interfaces behind one conf/all is judged, and reported, as one cause.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from ipaddress import IPv4Address

from ..finding import NO_FIX, Cause, Finding, Severity
from ..kernel import ReplyRule, reply_rule
from ..model import ARP_ANNOUNCE, ARP_IGNORE, HostState, Interface
from ..record import Record
from .remedy import Sound, knob_fix


class KnobGroup(Record):
    """Interfaces whose effective value one conf entry decides.

    `conf` is "all" when conf/all is at least each interface's own value; otherwise the
    group holds interfaces whose own value outbids conf/all, all with the same `value`
    (`conf` is then the interface's name when there is one, None when there are several).
    """

    parameter: str
    conf: str | None
    value: int
    all_value: int
    interfaces: tuple[Interface, ...]

    @property
    def effective(self) -> int:
        return max(self.all_value, self.value)

    @property
    def any_up(self) -> bool:
        return any(i.is_up for i in self.interfaces)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.interfaces)


def group_by_decider(
    state: HostState, parameter: str, interfaces: Iterable[Interface]
) -> list[KnobGroup]:
    """*interfaces* grouped by the entry that decides max(all, own): conf/all first."""
    all_value = state.all.get(parameter)
    by_all: list[Interface] = []
    by_own: dict[int, list[Interface]] = {}
    for interface in interfaces:
        own = interface.knobs.get(parameter)
        if own <= all_value:
            by_all.append(interface)
        else:
            by_own.setdefault(own, []).append(interface)
    groups = []
    if by_all:
        groups.append(KnobGroup(parameter, "all", all_value, all_value, tuple(by_all)))
    for own, members in by_own.items():
        conf = members[0].name if len(members) == 1 else None
        groups.append(KnobGroup(parameter, conf, own, all_value, tuple(members)))
    return groups


def knob_finding(
    state: HostState,
    cause: Cause,
    group: KnobGroup,
    severity: Severity,
    vips: Sequence[IPv4Address] = (),
    fix_to: tuple[int, Sound] | None = None,
) -> Finding:
    """The finding for one group; *fix_to* (target, sound) adds the settings that fix it."""
    fix = NO_FIX
    if fix_to is not None:
        target, sound = fix_to
        owners = group.interfaces if group.conf != "all" else ()
        fix = knob_fix(state, group.parameter, target, sound, owners)
    return Finding(
        severity,
        cause,
        parameter=group.parameter,
        conf=group.conf,
        value=group.value,
        all_value=group.all_value,
        interfaces=group.names,
        vips=tuple(vips),
        fix=fix,
    )


def leak_severity(group: KnobGroup) -> Severity:
    # A down interface sends and answers nothing yet, but it will once brought up.
    return Severity.CRITICAL if group.any_up else Severity.WARNING


SILENT_VALUE = 8  # arp_ignore(): the one value that answers nothing; below it all answer some


def silent_findings(
    state: HostState, checked: Sequence[Interface], target: int, sound: Sound
) -> Iterator[Finding]:
    """arp_ignore 8 on an interface with addresses of its own: neighbours lose the node.

    *sound* is the role's whole idea of a good arp_ignore, so the fix cannot trade silence
    for a leak (all=8 over eth0=4 needs eth0 lowered too).
    """
    all_value = state.all.arp_ignore
    if all_value < SILENT_VALUE and not any(i.knobs.arp_ignore >= SILENT_VALUE for i in checked):
        return  # the usual host: no value reaches 8, so no interface can be silent
    silent = [
        i
        for i in checked
        if reply_rule(max(all_value, i.knobs.arp_ignore)) is ReplyRule.NEVER
        and state.addresses_on(i.name)
    ]
    for group in group_by_decider(state, ARP_IGNORE, silent):
        yield knob_finding(state, Cause.SILENT, group, leak_severity(group), fix_to=(target, sound))


def new_interface_group(state: HostState, parameter: str) -> KnobGroup:
    """A VLAN or bond created later copies conf/default (ARP-SEMANTICS §1)."""
    own, all_value = state.default.get(parameter), state.all.get(parameter)
    return KnobGroup(parameter, "default", own, all_value, ())


def new_interface_finding(state: HostState, group: KnobGroup, target: int, sound: Sound) -> Finding:
    return Finding(
        Severity.WARNING,
        Cause.NEW_INTERFACE_RISK,
        parameter=group.parameter,
        conf="default",
        value=group.value,
        all_value=group.all_value,
        fix=knob_fix(state, group.parameter, target, sound, (), default=True),
    )


def no_effect_findings(state: HostState) -> Iterator[Finding]:
    """lo's or a NOARP interface's own values are never read: the kernel takes the values of
    the interface an ARP request arrives on, and these carry no ARP (ARP-SEMANTICS §2). The
    most copied mistake is `lo.arp_ignore = 1` alone: say so, and which entry decides."""
    quiet = [i for i in state.interfaces if not i.does_arp]  # lo and NOARP: a handful
    for parameter in (ARP_IGNORE, ARP_ANNOUNCE):
        by_value: dict[int, list[Interface]] = {}
        for interface in quiet:
            own = interface.knobs.get(parameter)
            if own != 0:
                by_value.setdefault(own, []).append(interface)
        all_value = state.all.get(parameter)
        for own, members in by_value.items():
            conf = members[0].name if len(members) == 1 else None
            group = KnobGroup(parameter, conf, own, all_value, tuple(members))
            yield knob_finding(state, Cause.NO_EFFECT, group, Severity.INFO)
