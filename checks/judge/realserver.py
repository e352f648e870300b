"""A real server must hold each VIP on lo (or a NOARP interface) and never reveal it by ARP."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from ipaddress import IPv4Address

from ..finding import NO_FIX, Finding, Fix, Severity
from ..kernel import ReplyRule, announce_rule, announces_source, answers_for, reply_rule
from ..model import ARP_ANNOUNCE, ARP_IGNORE, SCOPE_HOST, HostState, Interface
from ..record import Record
from .knob_reading import KnobReading, new_interface_reading
from .remedy import knob_fix, move_vip_to_lo, sysctl_key
from .silence import silent_interface_finding
from .vips import is_scope_host

IGNORE_TARGET = 1
ANNOUNCE_TARGET = 2


def assess_realserver(
    state: HostState, vips: Sequence[IPv4Address], checked: Sequence[Interface]
) -> Iterator[Finding]:
    for vip in vips:
        yield from vip_placement(state, vip)
    judge = _KnobJudge(state, vips)
    for interface in checked:
        yield judge.reply_finding(interface)
        yield judge.announce_finding(interface)
        silent = silent_interface_finding(state, interface, IGNORE_TARGET, judge.hides)
        if silent is not None:
            yield silent
    yield from _new_interface_findings(state, vips, judge)


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


class _Verdict(Record):
    """What one knob value means on interfaces alike in every respect but their name."""

    severity: Severity
    text: str  # follows the interface's name in the summary
    detail: str
    vip: str | None = None
    sound: Callable[[int], bool] | None = None  # set when the finding needs a fix


class _KnobJudge:
    """Judges each interface's knobs; what depends only on values is worked out once per value.

    Hosts with thousands of interfaces repeat a handful of values, and this runs on every
    NRPE poll and every scrape.
    """

    def __init__(self, state: HostState, vips: Sequence[IPv4Address]) -> None:
        self.state = state
        self.vips = vips
        self._scope_host = [(str(v), is_scope_host(state, v)) for v in vips]
        self._reply_leaks: dict[int, list[str]] = {}
        self._fixes: dict[tuple[str, int], Fix] = {}
        self._reply_verdicts: dict[tuple[int, bool, tuple[str, ...]], _Verdict] = {}
        self._announce_verdicts: dict[tuple[int, bool, tuple[bool, ...]], _Verdict] = {}
        self._holders = {a.interface for v in vips for a in state.addresses_of(v)}
        self._off_link = (False,) * len(vips)

    def reply_leaks(self, effective: int) -> list[str]:
        """The VIPs an interface with this effective arp_ignore answers ARP for."""
        leaked = self._reply_leaks.get(effective)
        if leaked is None:
            rule = reply_rule(effective)
            leaked = [
                vip
                for vip, scope_host in self._scope_host
                if answers_for(rule, on_receiving_interface=False, scope_host=scope_host)
            ]
            self._reply_leaks[effective] = leaked
        return leaked

    def _held_here(self, interface: Interface, effective: int) -> list[str]:
        """A VIP misplaced on this interface is answered by every value that answers at all."""
        rule = reply_rule(effective)
        return [
            str(a.ip)
            for a in self.state.addresses_on(interface.name)
            if a.ip in self.vips
            and answers_for(rule, on_receiving_interface=True, scope_host=a.scope == SCOPE_HOST)
        ]

    def hides(self, arp_ignore: int) -> bool:
        return reply_rule(arp_ignore) is not ReplyRule.NEVER and not self.reply_leaks(arp_ignore)

    def reply_finding(self, interface: Interface) -> Finding:
        own = interface.knobs.arp_ignore
        value = max(self.state.all.arp_ignore, own)
        held = self._held_here(interface, value) if interface.name in self._holders else []
        key = (own, interface.is_up, tuple(held))
        verdict = self._reply_verdicts.get(key)
        if verdict is None:
            verdict = self._reply_verdict(interface, value, held)
            self._reply_verdicts[key] = verdict
        return self._finding(interface, ARP_IGNORE, own, value, verdict, IGNORE_TARGET)

    def _reply_verdict(self, interface: Interface, value: int, held: list[str]) -> _Verdict:
        leaked = self.reply_leaks(value) + held
        rule = reply_rule(value)
        if not leaked:
            return _Verdict(Severity.OK, "hides the VIPs from ARP replies", rule.value)
        return _Verdict(
            _leak_severity(interface),
            f"answers ARP for VIP {_first_of(leaked)}",
            f"With arp_ignore {value} the interface {rule.value}.",
            vip=leaked[0],
            sound=self.hides,
        )

    def announce_finding(self, interface: Interface) -> Finding:
        own = interface.knobs.arp_announce
        value = max(self.state.all.arp_announce, own)
        addresses = self.state.addresses_on(interface.name)
        # Most interfaces of a big host (VLAN members, bond slaves) have no address at all.
        on_link = (
            tuple(any(a.shares_subnet(vip) for a in addresses) for vip in self.vips)
            if addresses
            else self._off_link
        )
        key = (own, interface.is_up, on_link)
        verdict = self._announce_verdicts.get(key)
        if verdict is None:
            verdict = self._announce_verdict(interface, value, on_link)
            self._announce_verdicts[key] = verdict
        return self._finding(interface, ARP_ANNOUNCE, own, value, verdict, ANNOUNCE_TARGET)

    def _announce_verdict(
        self, interface: Interface, value: int, on_link: tuple[bool, ...]
    ) -> _Verdict:
        rule = announce_rule(value)
        leaked = [
            str(vip)
            for vip, linked in zip(self.vips, on_link, strict=True)
            if announces_source(rule, source_on_link=linked)
        ]
        if not leaked:
            return _Verdict(Severity.OK, "keeps the VIPs out of ARP requests", rule.value)
        return _Verdict(
            _leak_severity(interface),
            f"announces VIP {_first_of(leaked)}",
            f"With arp_announce {value} the node {rule.value}: its ARP requests "
            "carry the VIP as sender, and neighbours then map the VIP to this node.",
            vip=leaked[0],
            sound=_announce_hides,
        )

    def _finding(
        self,
        interface: Interface,
        param: str,
        own: int,
        value: int,
        verdict: _Verdict,
        target: int,
    ) -> Finding:
        name = interface.name
        all_value = self.state.all.get(param)
        fix = (
            NO_FIX if verdict.sound is None else self._fix(interface, param, target, verdict.sound)
        )
        # The same words KnobReading.describe() gives, built inline: this runs per interface.
        return Finding(
            verdict.severity,
            f"{name} {verdict.text} ({param} eff {value}: all={all_value} {name}={own})",
            name,
            param,
            (("all", all_value), (name, own)),
            value,
            verdict.vip,
            verdict.detail,
            fix,
        )

    def _fix(
        self, interface: Interface, param: str, target: int, sound: Callable[[int], bool]
    ) -> Fix:
        # The fix names the interface only when its own value outbids conf/all; otherwise
        # every interface with the same value shares one.
        key = (param, interface.knobs.get(param))
        fix = self._fixes.get(key)
        if fix is None:
            fix = knob_fix(self.state, interface, param, target, sound)
            own_key = sysctl_key(interface.name, param)
            if not any(line.startswith(own_key) for line in fix.sysctl_lines):
                self._fixes[key] = fix
        return fix


def _announce_hides(arp_announce: int) -> bool:
    return arp_announce == ANNOUNCE_TARGET


def _new_interface_findings(
    state: HostState, vips: Sequence[IPv4Address], judge: _KnobJudge
) -> Iterator[Finding]:
    """A VLAN or bond added later starts from conf/default: does max(all, default) still hide?"""
    ignore = new_interface_reading(state, ARP_IGNORE)
    if reply_rule(ignore.effective) is ReplyRule.NEVER:
        yield _fragile(ignore, "answer no ARP", IGNORE_TARGET, judge.hides, state)
    elif judge.reply_leaks(ignore.effective):
        yield _fragile(ignore, "answer for VIPs", IGNORE_TARGET, judge.hides, state)
    announce = new_interface_reading(state, ARP_ANNOUNCE)
    # A new interface's subnet is unknown: judge it like the existing ones, where the usual
    # LVS-DR layout puts the VIP inside the LAN's subnet.
    does_arp = {i.name for i in state.interfaces if i.does_arp}
    on_link = any(
        a.shares_subnet(vip) for a in state.addresses if a.interface in does_arp for vip in vips
    )
    if announces_source(announce_rule(announce.effective), source_on_link=on_link):
        yield _fragile(announce, "announce VIPs", ANNOUNCE_TARGET, _announce_hides, state)


def _fragile(
    knob: KnobReading, wrong: str, target: int, sound: Callable[[int], bool], state: HostState
) -> Finding:
    fix = knob_fix(state, None, knob.param, target, sound)
    return knob.finding(
        Severity.WARNING,
        f"new interfaces would {wrong}",
        "conf/default is copied into every interface created later (a VLAN, bond or veth), "
        "and the kernel takes max(all, interface).",
        fix=fix,
    )


def _first_of(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{items[0]} (+{len(items) - 1} more)"
