"""The layouts operators run beside the plain sysctl ones (issue 10, ARP-SEMANTICS §3, §11, §12).

Each function is linear in interfaces, addresses, routes and VIPs (times the few rules a
host has): routes are matched to interfaces by name, rules are evaluated once per VIP.

- arp_ignore 2 with neighbours outside the interface's subnets (onlink gateways, on-link
  routes): the node no longer answers ARP for its own address to them.
- unnumbered ARP links (pod veths) with an arp_ignore that answers only for the receiving
  interface's addresses: the host is unreachable over them.
- ARP filter rules instead of sysctls: what they hide is not a leak.
- a VIP that is no address of the node but a nat REDIRECT/DNAT target: nothing to leak.
- kube-proxy's IPVS dummy without strictARP: every node answers for every service IP.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from ipaddress import IPv4Address

from ..finding import NO_FIX, Cause, Finding, Fix, Severity, SysctlSetting
from ..kernel import AnnounceRule, ReplyRule, announce_rule, reply_rule
from ..model import ARP_ANNOUNCE, ARP_IGNORE, HostState, Interface
from .shared import group_by_decider, knob_finding, leak_severity

# The arp_ignore that keeps the VIP hidden and still answers any neighbour on the wire.
ON_INTERFACE = 1
KUBE_STRICT_ARP_COMMAND = (
    "kubectl -n kube-system edit configmap kube-proxy  # set ipvs.strictARP: true"
)
# What kube-proxy writes to conf/all at start with strictARP (pkg/proxy/ipvs).
KUBE_STRICT_IGNORE = 1
KUBE_STRICT_ANNOUNCE = 2


def answers_own_address(value: int) -> bool:
    """Does an interface at this effective arp_ignore answer a peer on an unnumbered link,
    which asks for an address held on another interface?"""
    return reply_rule(value) in (ReplyRule.ANY_LOCAL, ReplyRule.NOT_SCOPE_HOST)


def _answers_every_neighbour(value: int) -> bool:
    """Not 2 (same subnet only) and not 8 (nothing): the finding's fix raises 2 to 1."""
    return reply_rule(value) not in (ReplyRule.ON_INTERFACE_SAME_SUBNET, ReplyRule.NEVER)


# --- arp_ignore 2 ---------------------------------------------------------------------------

SUBNET_ONLY = 2  # arp_ignore(): answer only senders in the target address's subnet


def offlink_findings(state: HostState, checked: Sequence[Interface]) -> Iterator[Finding]:
    """CRITICAL per decider of interfaces at effective arp_ignore 2 that routes put
    off-subnet neighbours on; an INFO remark for the others (routes not read or none)."""
    all_value = state.all.arp_ignore
    if all_value != SUBNET_ONLY and not any(i.knobs.arp_ignore == SUBNET_ONLY for i in checked):
        return  # max(all, own) is 2 only where one of them is 2
    subnet_only = [
        i
        for i in checked
        if reply_rule(max(all_value, i.knobs.arp_ignore)) is ReplyRule.ON_INTERFACE_SAME_SUBNET
    ]
    if not subnet_only:
        return
    found = {}
    if state.routes is not None:
        from ..read.routes import offlink_neighbours

        found = offlink_neighbours(state.routes, state.addresses)
    hit = [i for i in subnet_only if i.name in found]
    for group in group_by_decider(state, ARP_IGNORE, hit):
        evidence = tuple(str(n) for name in group.names for n in found[name])
        yield knob_finding(
            state,
            Cause.OFFLINK_UNANSWERED,
            group,
            leak_severity(group),
            fix_to=(ON_INTERFACE, _answers_every_neighbour),
        )._replace(evidence=evidence)
    rest = [i for i in subnet_only if i.name not in found]
    for group in group_by_decider(state, ARP_IGNORE, rest):
        remark = knob_finding(state, Cause.SUBNET_ONLY, group, Severity.OK)
        yield remark._replace(evidence=() if state.routes is not None else ("routes not read",))


# --- unnumbered links -----------------------------------------------------------------------


def unnumbered_findings(state: HostState, checked: Sequence[Interface]) -> Iterator[Finding]:
    """CRITICAL per decider of unnumbered links (among *checked*: --exclude-interface
    holds) whose arp_ignore answers no peer there."""
    links = {link.interface: link for link in state.unnumbered_links()}
    if not links:
        return
    all_value = state.all.arp_ignore
    cut_off = [
        i
        for i in checked
        if i.name in links and not answers_own_address(max(all_value, i.knobs.arp_ignore))
    ]
    for group in group_by_decider(state, ARP_IGNORE, cut_off):
        yield knob_finding(
            state, Cause.UNNUMBERED_UNREACHABLE, group, leak_severity(group)
        )._replace(
            fix=_unnumbered_fix(state, group.interfaces, set(links)),
            evidence=tuple(str(links[name]) for name in group.names),
        )


def _unnumbered_fix(state: HostState, cut_off: Iterable[Interface], unnumbered: set[str]) -> Fix:
    """conf/all to 0 with each numbered ARP interface keeping today's effective value on a
    line of its own; each cut-off link's own value to 0."""
    all_value = state.all.arp_ignore
    settings = []
    if not answers_own_address(all_value):
        settings.append(SysctlSetting("all", ARP_IGNORE, 0))
        for interface in state.interfaces:
            own = interface.knobs.arp_ignore
            numbered = bool(state.addresses_on(interface.name))
            lan = interface.does_arp and numbered and interface.name not in unnumbered
            if lan and own < all_value:
                settings.append(SysctlSetting(interface.name, ARP_IGNORE, all_value))
    for interface in cut_off:
        if not answers_own_address(interface.knobs.arp_ignore):
            settings.append(SysctlSetting(interface.name, ARP_IGNORE, 0))
    return Fix(settings=tuple(settings))


def without_unnumbered(state: HostState, checked: Sequence[Interface]) -> tuple[Interface, ...]:
    """*checked* less the unnumbered links: they need arp_ignore 0, and the only neighbour
    on them is the peer the routes lead to, not the LAN the director sends from."""
    links = {link.interface for link in state.unnumbered_links()}
    return tuple(i for i in checked if i.name not in links) if links else tuple(checked)


def spare_new_pod_links(state: HostState, findings: list[Finding]) -> list[Finding]:
    """On a host with unnumbered links, interfaces created later are mostly more of them
    (CNI pod veths): conf/default's arp_ignore must stay 0 for them, not be raised."""
    if not state.unnumbered_links():
        return findings
    return [
        f
        for f in findings
        if not (f.cause is Cause.NEW_INTERFACE_RISK and f.parameter == ARP_IGNORE)
    ]


# --- ARP filter and NAT rules ---------------------------------------------------------------


def apply_arp_filters(
    state: HostState, vips: Sequence[IPv4Address], findings: list[Finding]
) -> list[Finding]:
    """Leaks the ARP rules already stop become hidden; an INFO names the rules; unreadable
    rule sources are said plainly where a leak stands (the sysctls decide then)."""
    filters = state.arp_filters
    leaks = [f for f in findings if f.cause in (Cause.REPLY_LEAK, Cause.ANNOUNCE_LEAK)]
    if filters is None or not leaks:
        return findings
    out = list(findings)
    if filters.rules:
        from ..read.arp_filters import arp_filter_cover

        covers = {vip: arp_filter_cover(filters.rules, vip) for vip in vips}
        replies = {vip for vip, cover in covers.items() if cover.hides_replies}
        announce = {vip for vip, cover in covers.items() if cover.hides_announce}
        out = list(_filtered(out, replies, announce, len(vips)))
        covered = [vip for vip in vips if vip in replies or vip in announce]
        if covered:
            rules = dict.fromkeys(rule for vip in covered for rule in covers[vip].rules)
            out.append(
                Finding(
                    Severity.INFO, Cause.ARP_FILTERED, vips=tuple(covered), evidence=tuple(rules)
                )
            )
    if filters.unreadable and any(f.is_problem for f in leaks):
        out.append(_unread(str(u) for u in filters.unreadable))
    return out


def _filtered(
    findings: Iterable[Finding], replies: set[IPv4Address], announce: set[IPv4Address], vips: int
) -> Iterator[Finding]:
    hidden = {Cause.REPLY_LEAK: replies, Cause.ANNOUNCE_LEAK: announce}
    sound = {Cause.REPLY_LEAK: Cause.REPLY_HIDDEN, Cause.ANNOUNCE_LEAK: Cause.ANNOUNCE_HIDDEN}
    by_parameter = {ARP_IGNORE: replies, ARP_ANNOUNCE: announce}
    for finding in findings:
        if finding.cause in hidden:
            left = tuple(v for v in finding.vips if v not in hidden[finding.cause])
            if not left:
                yield finding._replace(
                    severity=Severity.OK, cause=sound[finding.cause], vips=(), fix=NO_FIX
                )
                continue
            finding = finding._replace(vips=left)
        elif (
            finding.cause is Cause.NEW_INTERFACE_RISK
            and finding.parameter in by_parameter
            and vips
            and len(by_parameter[finding.parameter]) == vips
        ):
            continue  # the rules hold on any interface, new ones too
        yield finding


def _unread(sources: Iterable[str]) -> Finding:
    return Finding(Severity.INFO, Cause.RULES_UNREAD, evidence=tuple(sources))


def redirected_vips(
    state: HostState, vips: Sequence[IPv4Address]
) -> tuple[Sequence[IPv4Address], list[Finding]]:
    """The VIPs to judge as real-server VIPs, and OK findings for VIPs that are no address
    of the node but a nat REDIRECT (or DNAT to a local address) takes their traffic."""
    nat = state.nat
    if nat is None:
        return vips, []  # rules not read: the usual case, so no look-up per VIP
    absent = [vip for vip in vips if not state.addresses_of(vip)]
    if not absent:
        return vips, []
    findings = []
    taken: set[IPv4Address] = set()
    if nat.rules:
        from ..read.nat_redirect import vip_redirects

        local = {address.ip for address in state.addresses}
        by_rules: dict[tuple[str, ...], list[IPv4Address]] = {}
        for vip in absent:
            rules = vip_redirects(nat.rules, vip, local)
            if rules:
                by_rules.setdefault(tuple(str(r) for r in rules), []).append(vip)
        for rules_text, redirected in by_rules.items():
            taken.update(redirected)
            findings.append(
                Finding(
                    Severity.OK, Cause.VIP_REDIRECTED, vips=tuple(redirected), evidence=rules_text
                )
            )
    if nat.unreadable and len(taken) < len(absent):
        findings.append(_unread(str(u) for u in nat.unreadable))
    return [vip for vip in vips if vip not in taken], findings


def nothing_to_leak(vips: Sequence[IPv4Address], findings: list[Finding]) -> list[Finding]:
    """With every VIP taken by nat rules, no interface made later can leak one either."""
    if vips:
        return findings
    return [f for f in findings if f.cause is not Cause.NEW_INTERFACE_RISK]


# --- kube-proxy IPVS ------------------------------------------------------------------------


def kube_strict_arp(
    state: HostState, checked: Sequence[Interface], findings: list[Finding]
) -> list[Finding]:
    """A kube-proxy IPVS node whose ARP interfaces answer for, or announce, the service IPs
    on kube-ipvs0 is fixed by kube-proxy's strictARP (and the sysctls it writes).

    One root cause, one finding: where the knob findings already name those service IPs
    (they are the VIPs judged), their fixes gain the strictARP command; otherwise a
    KUBE_STRICT_ARP CRITICAL says it for them.
    """
    from ..read.kube_proxy import kube_ipvs_interface

    name = kube_ipvs_interface(state)
    if name is None:
        return findings
    services = tuple(a.ip for a in state.addresses_on(name))
    all_knobs = state.all
    leaking = [
        i.name
        for i in checked
        # kube-proxy adds service IPs scope global: arp_ignore 3 answers for them too.
        if answers_own_address(max(all_knobs.arp_ignore, i.knobs.arp_ignore))
        or announce_rule(max(all_knobs.arp_announce, i.knobs.arp_announce))
        is not AnnounceRule.INTERFACE_ADDRESS
    ]
    if not leaking or not services:
        return findings
    held = set(services)
    named = [
        n
        for n, f in enumerate(findings)
        if f.cause in (Cause.REPLY_LEAK, Cause.ANNOUNCE_LEAK) and any(v in held for v in f.vips)
    ]
    if named:
        out = list(findings)
        for n in named:
            fix = out[n].fix
            commands = (*fix.commands, KUBE_STRICT_ARP_COMMAND)
            out[n] = out[n]._replace(fix=fix._replace(commands=commands))
        return out
    settings = []
    if all_knobs.arp_ignore < KUBE_STRICT_IGNORE:
        settings.append(SysctlSetting("all", ARP_IGNORE, KUBE_STRICT_IGNORE))
    if all_knobs.arp_announce < KUBE_STRICT_ANNOUNCE:
        settings.append(SysctlSetting("all", ARP_ANNOUNCE, KUBE_STRICT_ANNOUNCE))
    kube = Finding(
        Severity.CRITICAL,
        Cause.KUBE_STRICT_ARP,
        interfaces=tuple(leaking),
        vips=services,
        all_value=all_knobs.arp_ignore,
        fix=Fix(settings=tuple(settings), commands=(KUBE_STRICT_ARP_COMMAND,)),
        evidence=(name,),
    )
    return [*findings, kube]


def kube_restores(state: HostState) -> bool:
    """kube-proxy with strictARP writes conf/all's two values at every start: a node that
    has kube-ipvs0 and those values now gets them back after a reboot from kube-proxy."""
    from ..read.kube_proxy import kube_ipvs_interface

    return (
        kube_ipvs_interface(state) is not None
        and state.all.arp_ignore == KUBE_STRICT_IGNORE
        and state.all.arp_announce == KUBE_STRICT_ANNOUNCE
    )


def kube_holds_services(state: HostState) -> bool:
    """Every IPVS service address sits on kube-proxy's dummy: kube-proxy's, not an LVS
    director's (ROLE_DOUBT does not apply)."""
    from ..read.kube_proxy import kube_ipvs_interface

    name = kube_ipvs_interface(state)
    if name is None:
        return False
    held = {a.ip for a in state.addresses_on(name)}
    return all(vip in held for vip in state.virtual_services or ())
