"""Findings in words: the plugin's status and long output and the preflight's report share them.

Every list is cut to a few names and a count, so what a finding says stays short whatever
the host's size; the preflight's JSON carries everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address

from ..boot.sysctl_d import TOO_LARGE, UNREADABLE_DIR, UNREADABLE_FILE
from ..finding import Cause, Finding, Severity
from ..judge.layouts import KUBE_STRICT_ARP_COMMAND
from ..judge.remedy import (
    merged_commands,
    merged_settings,
    sysctl_file,
    sysctl_file_content,
    sysctl_line,
)
from ..kernel import ReplyRule, announce_rule, reply_rule
from ..model import ARP_IGNORE, Role
from ..names import printable
from ..record import TYPE_CHECKING

if TYPE_CHECKING:
    from ..read.arp_probe import Responder

# Long output: Nagios Core keeps 8 KB of a plugin's output, NRPE v2 1 KB of the first lines.
LONG_OUTPUT_BUDGET = 7 * 1024
LIST_LIMIT = 5  # names shown before "(+N more)" in long output
SEE_ALL = "lvs-arp-preflight --json lists every interface, VIP and setting"


def names(items: Sequence[object], limit: int = 1, noun: str = "") -> str:
    """'eth0', 'eth0, eth1', or 'eth0 (+1,001 more)': never longer than *limit* names.

    With limit 0, a count and the plural *noun*: '1,002 interfaces'.
    """
    if limit == 0 and len(items) > 1:
        return f"{len(items):,} {noun}"
    shown = ", ".join(_show(item) for item in items[: max(limit, 1)])
    rest = len(items) - max(limit, 1)
    return f"{shown} (+{rest:,} more)" if rest > 0 else shown


def _show(item: object) -> str:
    return printable(item) if isinstance(item, str) else str(item)


def setting_text(finding: Finding) -> str:
    """The knob at fault: 'all.arp_ignore=0', 'eth3.arp_ignore=4 > all=1', ..."""
    parameter, value = finding.parameter, finding.value
    if finding.conf == "all":
        return f"all.{parameter}={value}"
    if finding.conf == "default":
        return f"default.{parameter}={value}, all={finding.all_value}"
    conf = "own " if finding.conf is None else f"{printable(finding.conf)}."
    return f"{conf}{parameter}={value} > all={finding.all_value}"


def summary(finding: Finding, role: Role, limit: int = 1, evidence: bool = True) -> str:
    """One line saying what the kernel will do, for a status line or a report."""
    if finding.cause in PROBE_CAUSES:
        return probe_summary(finding, role, limit, evidence)
    text = _SUMMARIES[finding.cause](finding, role, limit)
    if evidence and finding.parameter is not None and finding.value is not None:
        if finding.cause is Cause.LOST_AT_REBOOT:
            conf = "own" if finding.conf is None else printable(finding.conf)
            return f"{text} ({conf}.{finding.parameter}={finding.value} lost)"
        return f"{text} ({setting_text(finding)})"
    return text


def _verb(items: Sequence[object], one: str, several: str) -> str:
    return one if len(items) == 1 else several


def _vips(finding: Finding, limit: int) -> str:
    if limit == 0 and len(finding.vips) > 1:
        return names(finding.vips, 0, "VIPs")
    return f"{_verb(finding.vips, 'VIP', 'VIPs')} {names(finding.vips, limit)}"


def _ifaces(finding: Finding, limit: int) -> str:
    return names(finding.interfaces, limit, "interfaces")


def _consequence(finding: Finding, cause: Cause, limit: int) -> str:
    """What the interfaces do, worded for a knob cause."""
    ifaces = finding.interfaces
    who = _ifaces(finding, limit)
    if cause is Cause.REPLY_LEAK:
        return f"{who} {_verb(ifaces, 'answers', 'answer')} ARP for {_vips(finding, limit)}"
    if cause is Cause.ANNOUNCE_LEAK:
        return f"{who} {_verb(ifaces, 'announces', 'announce')} {_vips(finding, limit)}"
    if cause is Cause.SILENT:
        return f"{who} {_verb(ifaces, 'answers', 'answer')} no ARP, not even for own addresses"
    if cause is Cause.VIP_UNANSWERED:
        return f"{who} {_verb(ifaces, 'answers', 'answer')} no ARP for {_vips(finding, limit)}"
    if cause is Cause.NEW_INTERFACE_RISK:
        return f"new interfaces would {_new_interface_wrong(finding)}"
    return f"{who} {cause.value.replace('_', ' ')}"


def _new_interface_wrong(finding: Finding) -> str:
    effective = finding.effective or 0
    if finding.parameter == ARP_IGNORE:
        if reply_rule(effective) is ReplyRule.NEVER:
            return "answer no ARP"
        return "answer ARP for VIPs"
    return "announce VIPs"


def _lost(finding: Finding, role: Role, limit: int) -> str:
    consequence = finding.consequences[0] if finding.consequences else Cause.REPLY_LEAK
    if not finding.interfaces and consequence is not Cause.NEW_INTERFACE_RISK:
        return f"on reboot {finding.parameter} is no longer kept"
    return f"on reboot {_consequence(finding, consequence, limit)}"


def _role_doubt(finding: Finding, role: Role, limit: int) -> str:
    if role is Role.REALSERVER:
        return f"checked as a real server, but IPVS serves {names(finding.vips, 3)}: a director?"
    return f"checked as a {ROLE_NAMES[role]}, but IPVS has no virtual services here"


ROLE_NAMES = {
    Role.REALSERVER: "real server",
    Role.DIRECTOR: "director",
    Role.BOTH: "director and real server",
}
_VIP_HOMES = {
    Role.REALSERVER: "on lo or a NOARP interface",
    Role.DIRECTOR: "in /proc/net/ip_vs",
    Role.BOTH: "in /proc/net/ip_vs, on lo or a NOARP interface",
}


def _no_vip(finding: Finding, role: Role, limit: int) -> str:
    return f"no VIP given and none found {_VIP_HOMES[role]}; pass --vip"


def _wide(finding: Finding, role: Role, limit: int) -> str:
    address = finding.addresses[0]
    more = len(finding.addresses) - 1
    extra = f" (+{more:,} more)" if more > 0 else ""
    return f"VIP {address}{extra} on {printable(address.interface)} routes {address.network} there"


def _boot_file(finding: Finding, role: Role, limit: int) -> str:
    boot = finding.boot
    if boot is None:
        return "boot config problem"
    path = printable(boot.path or "")
    if boot.kind == UNREADABLE_FILE:
        return f"cannot read {path}: make it readable (chmod 0644 or an ACL)"
    if boot.kind == UNREADABLE_DIR:
        return f"cannot list {path}: make it readable (chmod 0755 or an ACL)"
    if boot.kind == TOO_LARGE:
        return f"{path} is too large to judge what it sets at boot"
    return f"boot config problem at {path}" + (f":{boot.line}" if boot.line else "")


def _evidence(finding: Finding, limit: int) -> str:
    return names(list(finding.evidence), limit)


def _offlink(f: Finding, r: Role, n: int) -> str:
    its = _verb(f.interfaces, "its", "their")
    return (
        f"{_ifaces(f, n)} {_verb(f.interfaces, 'answers', 'answer')} no ARP for own addresses "
        f"to neighbours outside {its} subnets: {names([e.split()[0] for e in f.evidence], n)}"
    )


def _subnet_only(f: Finding, r: Role, n: int) -> str:
    its = _verb(f.interfaces, "its", "their")
    return (
        f"{_ifaces(f, n)} {_verb(f.interfaces, 'answers', 'answer')} ARP only to askers in "
        f"{its} own subnets (arp_ignore 2): a neighbour from another subnet gets no answer"
    )


def _unnumbered(f: Finding, r: Role, n: int) -> str:
    return (
        f"{_ifaces(f, n)} {_verb(f.interfaces, 'has', 'have')} no IPv4 address and "
        f"{_verb(f.interfaces, 'answers', 'answer')} no ARP: the host is unreachable over "
        f"{_verb(f.interfaces, 'it', 'them')}"
    )


def _kube(f: Finding, r: Role, n: int) -> str:
    return (
        f"kube-proxy IPVS without strictARP: {_ifaces(f, n)} "
        f"{_verb(f.interfaces, 'answers', 'answer')} ARP for {_vips(f, n)} on "
        f"{names(list(f.evidence), 1)}"
    )


_SUMMARIES = {
    Cause.REPLY_LEAK: lambda f, r, n: _consequence(f, Cause.REPLY_LEAK, n),
    Cause.ANNOUNCE_LEAK: lambda f, r, n: _consequence(f, Cause.ANNOUNCE_LEAK, n),
    Cause.SILENT: lambda f, r, n: _consequence(f, Cause.SILENT, n),
    Cause.VIP_UNANSWERED: lambda f, r, n: _consequence(f, Cause.VIP_UNANSWERED, n),
    Cause.NEW_INTERFACE_RISK: lambda f, r, n: _consequence(f, Cause.NEW_INTERFACE_RISK, n),
    Cause.UNUSUAL_VALUE: lambda f, r, n: (
        f"{_ifaces(f, n)} {_verb(f.interfaces, 'uses', 'use')} {f.parameter} {f.effective}: "
        "works, though 0 is usual"
    ),
    Cause.REPLY_HIDDEN: lambda f, r, n: (
        f"{len(f.interfaces):,} ARP {_verb(f.interfaces, 'interface hides', 'interfaces hide')}"
        " the VIPs from ARP replies"
    ),
    Cause.ANNOUNCE_HIDDEN: lambda f, r, n: (
        f"{len(f.interfaces):,} ARP {_verb(f.interfaces, 'interface keeps', 'interfaces keep')}"
        " the VIPs out of ARP requests"
    ),
    Cause.VIP_ANSWERED: lambda f, r, n: f"{_ifaces(f, n)} answers ARP for {_vips(f, n)}",
    Cause.VIP_PLACED: lambda f, r, n: f"{_vips(f, n)} on {_ifaces(f, n)}",
    Cause.VIP_ABSENT: lambda f, r, n: f"{_vips(f, n)} not configured on this real server",
    Cause.VIP_ON_ARP_INTERFACE: lambda f, r, n: (
        f"{_ifaces(f, n)} holds {_vips(f, n)}: the node answers ARP for it"
    ),
    Cause.VIP_WIDE_MASK: _wide,
    Cause.VIP_HOLDER_DOWN: lambda f, r, n: (
        f"{_ifaces(f, n)} holds {_vips(f, n)} but is down"
        + (": standby" if f.severity is Severity.INFO else "")
    ),
    Cause.VIP_FLUX: lambda f, r, n: (
        f"{_ifaces(f, n)} also {_verb(f.interfaces, 'answers', 'answer')} ARP for "
        f"{_vips(f, n)} held on another NIC"
    ),
    Cause.NO_EFFECT: lambda f, r, n: (
        f"{_ifaces(f, n)} {f.parameter}={f.value} does nothing: no ARP there"
    ),
    Cause.VIP_NOT_HELD: lambda f, r, n: (
        f"{_vips(f, n)} not held here"
        + (": standby" if f.severity is Severity.INFO else " (standby director?)")
    ),
    Cause.VIP_HIDDEN_UNANSWERED: lambda f, r, n: (
        f"{_vips(f, n)} only on {_placed_on(f)} and no interface answers ARP for it"
    ),
    Cause.VIP_ANSWERED_BY_ACCIDENT: lambda f, r, n: (
        f"{_vips(f, n)} only on {_placed_on(f)}; {_ifaces(f, n)} answers by accident"
    ),
    Cause.LOST_AT_REBOOT: _lost,
    Cause.BOOT_FILE: _boot_file,
    Cause.ROLE_DOUBT: _role_doubt,
    Cause.NO_VIP: _no_vip,
    # Layouts operators run (issue 10).
    Cause.OFFLINK_UNANSWERED: _offlink,
    Cause.SUBNET_ONLY: _subnet_only,
    Cause.UNNUMBERED_UNREACHABLE: _unnumbered,
    Cause.ARP_FILTERED: lambda f, r, n: f"ARP rules hide {_vips(f, n)}: {_evidence(f, n)}",
    Cause.RULES_UNREAD: lambda f, r, n: (
        f"ARP/NAT rules not read ({names([e.split(':')[0] for e in f.evidence], 3)}): "
        "judged by the sysctls alone"
    ),
    Cause.VIP_REDIRECTED: lambda f, r, n: (
        f"{_vips(f, n)} not an address here; nat takes its traffic: {_evidence(f, n)}"
    ),
    Cause.KUBE_STRICT_ARP: _kube,
}


def _placed_on(finding: Finding) -> str:
    return names(list(dict.fromkeys(a.interface for a in finding.addresses)), 1)


def detail(finding: Finding, role: Role) -> str:
    """Why, per ARP-SEMANTICS: the longer sentence under a summary, then what was read."""
    text = _why(finding)
    override = finding.boot.override if finding.boot is not None else None
    if override is not None and finding.cause is not Cause.LOST_AT_REBOOT:
        text += f" {override.path}:{override.line} would still win after a reboot: change it."
    if finding.evidence and finding.cause not in _EVIDENCE_IN_SUMMARY:
        shown = "; ".join(printable(e) for e in finding.evidence[:LIST_LIMIT])
        more = len(finding.evidence) - LIST_LIMIT
        text += f" Read: {shown}" + (f" (+{more:,} more)." if more > 0 else ".")
    if KUBE_STRICT_ARP_COMMAND in finding.fix.commands and finding.cause is not (
        Cause.KUBE_STRICT_ARP
    ):
        text += f" {_KUBE_LEAK}"
    return text.strip()


# A leak whose VIPs are kube-proxy's service IPs: the same cause, kube-proxy's own fix.
_KUBE_LEAK = (
    "These are kube-proxy's service IPs on kube-ipvs0: its strictARP: true sets arp_ignore 1 "
    "and arp_announce 2 on conf/all at every start."
)


def _why(finding: Finding) -> str:
    cause = finding.cause
    effective = finding.effective
    if cause in (Cause.REPLY_LEAK, Cause.SILENT, Cause.VIP_UNANSWERED) and effective is not None:
        return f"With arp_ignore {effective} the interface {reply_rule(effective).value}."
    if cause is Cause.ANNOUNCE_LEAK and effective is not None:
        return (
            f"With arp_announce {effective} the node {announce_rule(effective).value}: its ARP "
            "requests carry the VIP as sender, and neighbours then map the VIP to this node."
        )
    if cause is Cause.LOST_AT_REBOOT:
        return _lost_detail(finding)
    if cause is Cause.BOOT_FILE and finding.boot is not None:
        return finding.boot.message or ""
    if cause in PROBE_CAUSES:
        return _probe_detail(cause)
    if cause is Cause.NO_EFFECT:
        return (
            f"The kernel reads the values of the interface an ARP request arrives on; lo and "
            f"NOARP interfaces carry no ARP. all.{finding.parameter} (now {finding.all_value}) "
            "and each ARP interface's own value decide."
        )
    if finding.severity is Severity.INFO and cause in (Cause.VIP_NOT_HELD, Cause.VIP_HOLDER_DOWN):
        return "Expected on a standby director (--standby-ok): the active one answers for it."
    return _DETAILS.get(cause, "")


_DETAILS = {
    Cause.NEW_INTERFACE_RISK: "conf/default is copied into every interface created later (a "
    "VLAN, bond or veth), and the kernel takes max(all, interface).",
    Cause.VIP_ABSENT: "The node drops the frames the director forwards to it.",
    Cause.VIP_ON_ARP_INTERFACE: "Every arp_ignore value that still answers ARP for the node's "
    "own address also answers for addresses on the receiving interface.",
    Cause.VIP_WIDE_MASK: "A prefix on lo makes its whole subnet local (on a NOARP interface, "
    "routes it there): the node answers ARP for other hosts in it and takes their traffic. "
    "A VIP needs /32.",
    Cause.VIP_NOT_HELD: "A backup director (keepalived BACKUP) holds no VIP; pass --standby-ok "
    "where that is expected.",
    Cause.VIP_HIDDEN_UNANSWERED: "A director must hold the VIP on its LAN interface and answer "
    "ARP for it.",
    Cause.VIP_ANSWERED_BY_ACCIDENT: "It is answered only because this arp_ignore answers for "
    "any local address; put the VIP on the LAN interface.",
    Cause.VIP_HOLDER_DOWN: "A down interface answers no ARP: nothing reaches the VIP.",
    Cause.VIP_FLUX: "Addresses on any interface are local: with an arp_ignore that answers for "
    "any local address, this NIC on the VIP's LAN answers for it too, and clients learn either "
    "MAC (ARP flux). arp_ignore 1 on it leaves the answer to the NIC that holds the VIP.",
    Cause.SILENT: "Neighbours can no longer resolve the node's own address on this interface.",
    Cause.UNUSUAL_VALUE: "keepalived with use_vmac sets arp_ignore 1; it still answers for the "
    "VIP on the interface that holds it.",
    Cause.ROLE_DOUBT: "/proc/net/ip_vs lists virtual services on a real server, or none on a "
    "director; check the role (a keepalived BACKUP still loads its virtual services).",
    Cause.NO_VIP: "Without a VIP there is nothing whose ARP behaviour could be judged.",
    # Layouts operators run (issue 10).
    Cause.OFFLINK_UNANSWERED: "arp_ignore 2 answers only askers inside the subnet of the "
    "asked address on the receiving interface; an onlink gateway or an on-link route to "
    "another subnet puts neighbours on the wire that never get an answer for this node's "
    "own address, so their traffic to it is black-holed. arp_ignore 1 answers them and "
    "still hides the VIP.",
    Cause.SUBNET_ONLY: "arp_ignore 2 answers only askers inside the subnet of the asked "
    "address: a neighbour from another subnet on this wire (an onlink gateway, an on-link "
    "route, a secondary range) gets no answer for this node's own address. No route here "
    "puts such a neighbour on it; arp_ignore 1 hides the VIP without that risk.",
    Cause.UNNUMBERED_UNREACHABLE: "The peer on a link without an IPv4 address (a pod veth, a "
    "routed CNI) asks ARP for an address held on another interface; arp_ignore 1 or 2 "
    "answers only for the receiving interface's own addresses, so the host never answers "
    "there. Keep conf/all at 0 and set arp_ignore on the LAN interfaces one by one.",
    Cause.ARP_FILTERED: "arptables or nftables `arp` rules drop requests for the VIP or keep "
    "it out of the sender field of the node's ARP, as the sysctls would: what they hide is "
    "no leak. Frames from packet sockets (arping) pass no ARP filter.",
    Cause.RULES_UNREAD: "Reading arptables, nftables and iptables rules needs CAP_NET_ADMIN "
    "and the tools installed; without them a leak the rules might stop is judged by the "
    "sysctls.",
    Cause.VIP_REDIRECTED: "A VIP that is no address of the node is never answered or "
    "announced by ARP; the nat rule delivers the director's frames to a local socket.",
    Cause.KUBE_STRICT_ARP: "kube-proxy in IPVS mode binds every service IP to kube-ipvs0; "
    "addresses on any interface are local, so every node answers ARP for every LoadBalancer "
    "IP. strictARP: true makes kube-proxy set arp_ignore 1 and arp_announce 2 on conf/all at "
    "start (at run time: sysctl.d keeps them across the gap until it runs).",
}


# Their summary names the rules in full already; the others' shorten what was read.
_EVIDENCE_IN_SUMMARY = frozenset({Cause.ARP_FILTERED, Cause.VIP_REDIRECTED})


def _lost_detail(finding: Finding) -> str:
    boot = finding.boot
    conf = "each affected interface's own" if finding.conf is None else printable(finding.conf)
    head = f"{conf}.{finding.parameter} is {finding.value} now but"
    if boot is None:
        return head + " boot sets it otherwise."
    if boot.source is not None and not boot.copied_default:
        where = f"{boot.source.path}:{boot.source.line}"
        if boot.source.key and any(c in boot.source.key for c in "*?["):
            where += f" ({boot.source.key})"
        text = f"{head} {where} sets it to {boot.at_boot}."
    elif boot.copied_default:
        where = "" if boot.source is None else f" ({boot.source.path}:{boot.source.line})"
        text = (
            f"{head} nothing in sysctl.d sets it: an interface created after systemd-sysctl "
            f"runs copies conf/default's {boot.at_boot}{where}."
        )
    else:
        text = f"{head} nothing in sysctl.d sets it (boots as {boot.at_boot or 0})."
    if boot.override is not None:
        text += (
            f" {boot.override.path}:{boot.override.line} would still beat the fix file: "
            "change it there."
        )
    return text


def finding_lines(findings: Sequence[Finding], role: Role) -> list[str]:
    """Each cause once: summary, why, what it affects (a few names and a count), its fix."""
    lines = []
    for finding in findings:
        lines.append(f"{finding.severity.name}: {summary(finding, role, limit=2)}")
        if finding.severity is Severity.OK:
            continue
        why = detail(finding, role)
        if why:
            lines.append(f"    {why}")
        if len(finding.interfaces) > 2:
            lines.append(
                f"    interfaces ({len(finding.interfaces):,}): "
                f"{names(finding.interfaces, LIST_LIMIT)}"
            )
        if len(finding.vips) > 2:
            lines.append(f"    VIPs ({len(finding.vips):,}): {names(finding.vips, LIST_LIMIT)}")
        if finding.responders:
            heard = [describe_responder(r) for r in finding.responders]
            lines.append(f"    answered by ({len(heard):,}): {names(heard, LIST_LIMIT)}")
        settings = [sysctl_line(s) for s in finding.fix.settings]
        commands = list(finding.fix.commands)
        for fix in settings[:LIST_LIMIT] + commands[: max(0, LIST_LIMIT - len(settings))]:
            lines.append(f"    fix: {fix}")
        hidden = len(settings) + len(commands) - LIST_LIMIT
        if hidden > 0:
            lines.append(f"    fix: (+{hidden:,} more: the whole file is below)")
    return lines


def fix_file_lines(findings: Iterable[Finding], role: Role, limit: int = 40) -> list[str]:
    """All settings merged into the role's sysctl.d file, and the commands, to apply by hand."""
    findings = list(findings)
    settings = merged_settings(findings)
    commands = merged_commands(findings)
    lines = []
    if settings:
        content = sysctl_file_content(role, settings).splitlines()
        lines.append(f"fix: write {sysctl_file(role)} with:")
        lines += [f"    {line}" for line in content[:limit]]
        if len(content) > limit:
            lines.append(f"    ... (+{len(content) - limit:,} more lines: {SEE_ALL})")
    if commands:
        lines.append("fix: run")
        lines += [f"    {command}" for command in commands[:limit]]
        if len(commands) > limit:
            lines.append(f"    ... (+{len(commands) - limit:,} more commands: {SEE_ALL})")
    return lines


def within_budget(lines: list[str], budget: int = LONG_OUTPUT_BUDGET) -> list[str]:
    """*lines* cut to *budget* bytes (UTF-8), saying how many were left out and where to look."""
    kept: list[str] = []
    used = 0
    for n, line in enumerate(lines):
        size = len(line.encode("utf-8", "backslashreplace")) + 1
        if used + size > budget - 120:
            kept.append(f"... {len(lines) - n:,} more lines left out to fit Nagios: {SEE_ALL}")
            return kept
        kept.append(line)
        used += size
    return kept


def vips_text(vips: Sequence[IPv4Address]) -> str:
    return f"{_verb(vips, 'VIP', 'VIPs')} {names(vips, 1)}" if vips else "no VIP"


# --- the ARP probe (--probe-arp): what the wire says ----------------------------------------
# judge.probe and read.arp_probe are imported only where a probe finding is worded: a run
# without --probe-arp (every NRPE poll) does not pay for the packet code.

PROBE_CAUSES = frozenset(cause for cause in Cause if cause.value.startswith("probe_"))


def describe_responder(responder: Responder, short: bool = False) -> str:
    """`02:00:00:00:00:11 (real server 192.0.2.11)`: the MAC, then who it is where known.

    short: the first address only, and no "real server": for a status line that must fit.
    """
    ips = [str(ip) for ip in responder.ips]
    if short:  # "02:00:00:00:00:11 (192.0.2.11)", or the MAC alone
        return f"{responder.mac} ({ips[0]})" if ips else responder.mac
    who = ", ".join(ips) or "address unknown"
    if responder.is_real_server:
        who = f"real server {who}"
    if responder.is_local:
        who = f"this host, {who}"
    return f"{responder.mac} ({who})"


def _who(responders: Sequence[Responder], limit: int, short: bool) -> str:
    """The first *limit* responders (at least one) described, then (+N more)."""
    return names([describe_responder(r, short) for r in responders], max(limit, 1))


def probe_summary(finding: Finding, role: Role, limit: int = 1, evidence: bool = True) -> str:
    """One line for a probe finding: the VIP and who answers, by MAC and address.

    limit >= 1 gives the full form (the interface, "real server", *limit* responders); 0 a
    shorter one; evidence=False the shortest that still names a responder's MAC and address,
    for a 90-character status line: "192.0.2.100 answered by 02:00:00:00:00:11 (192.0.2.11)".
    """
    from ..judge.probe import named_responders
    from ..read.arp_probe import MAX_FRAMES

    cause = finding.cause
    vip = finding.vips[0] if finding.vips else "?"
    named = named_responders(finding)
    count = len(named)
    on = "/".join(printable(i) for i in finding.interfaces) or "no interface"
    if limit >= 1:
        who = _who(named, limit, short=False)
        if cause is Cause.PROBE_OK:
            if named:
                return f"VIP {vip} answered by one machine: {who}"
            return f"VIP {vip}: nobody else answers ARP for it on {on}"
        full = {
            Cause.PROBE_FOREIGN_RESPONDER: f"VIP {vip} answered by {who}",
            Cause.PROBE_SPLIT_BRAIN: f"VIP {vip} held by more than one machine: {who}",
            Cause.PROBE_NOT_HELD: f"this director does not hold VIP {vip}; {who} answers",
            Cause.PROBE_UNREACHABLE: (
                f"nobody answers ARP for VIP {vip} on {on}: the VIP is unreachable"
            ),
            Cause.PROBE_STANDBY_ACTIVE: f"standby: VIP {vip} held by the active director {who}",
            Cause.PROBE_LOCAL_RESPONDER: f"this host answers ARP for VIP {vip} on {on} from {who}",
            Cause.PROBE_SEVERAL: f"VIP {vip} answered by {count} machines on {on}: {who}",
            Cause.PROBE_INCOMPLETE: (
                f"ARP probe for VIP {vip} on {on} stopped after {MAX_FRAMES} frames: "
                "too much ARP on the segment to be sure who answers"
            ),
        }
        return full[cause]
    # Short forms: the first responder's MAC and address always, whatever else goes.
    first = describe_responder(named[0], short=True) if named else "nobody"
    who = f"{first} +{count - 1}" if count > 1 else first
    head = f"VIP {vip}" if evidence else str(vip)
    short = {
        Cause.PROBE_OK: f"{head} answered by {who}" if named else f"{head}: nobody else answers",
        Cause.PROBE_FOREIGN_RESPONDER: f"{head} answered by {who}",
        Cause.PROBE_SPLIT_BRAIN: f"{head} also held by {who}",
        Cause.PROBE_NOT_HELD: f"{head} held by {who}, not here",
        Cause.PROBE_UNREACHABLE: f"nobody answers ARP for {head}",
        Cause.PROBE_STANDBY_ACTIVE: f"standby: {head} held by {who}",
        Cause.PROBE_LOCAL_RESPONDER: f"{head}: own NIC {who} answers",
        Cause.PROBE_SEVERAL: f"{head}: {count} machines answer, {first}",
        Cause.PROBE_INCOMPLETE: f"ARP probe for {head} cut short: too much ARP",
    }
    return short[cause]


def probe_ok_note(findings: Iterable[Finding], address: bool = True) -> str | None:
    """What the probe adds to an OK status line: the director that answers (a real server's
    or a standby's probe), or that nobody else does; None without a probe finding.
    address=False: the MAC alone, when its address does not fit."""
    found = [f for f in findings if f.cause in (Cause.PROBE_OK, Cause.PROBE_STANDBY_ACTIVE)]
    if not found:
        return None
    from ..judge.probe import named_responders

    named = named_responders(found[0])
    if not named:
        return "no other machine answers"
    who = describe_responder(named[0], short=True) if address else named[0].mac
    if found[0].cause is Cause.PROBE_STANDBY_ACTIVE:
        return f"active director {who}"
    return f"director {who}"  # a real server's one expected answer


def _probe_detail(cause: Cause) -> str:
    from ..read.arp_probe import MAX_FRAMES

    if cause is Cause.PROBE_INCOMPLETE:
        return (
            f"The probe reads at most {MAX_FRAMES} ARP frames per run; a responder may be "
            "among those left unread. A shorter --probe-window reads fewer."
        )
    return _PROBE_DETAILS.get(cause, "")


_PROBE_DETAILS = {
    Cause.PROBE_OK: "",
    Cause.PROBE_FOREIGN_RESPONDER: "A real server answers ARP for the VIP (arp_ignore/"
    "arp_announce unset, or the VIP on an ARP interface): the router may learn its MAC and "
    "send the VIP's traffic past the director. Fix that real server (check_lvs_arp --role "
    "realserver -v there).",
    Cause.PROBE_SPLIT_BRAIN: "More than one machine holds the VIP: the router learns whichever "
    "answered last (two keepalived MASTERs, or a stray VIP). Remove the VIP from all but one.",
    Cause.PROBE_NOT_HELD: "This director does not hold the VIP, and the machine that answers "
    "gets its traffic. On a keepalived BACKUP pass --standby-ok.",
    Cause.PROBE_UNREACHABLE: "No machine answered a duplicate-address ARP request for the VIP "
    "within --probe-window: clients on this segment cannot reach it.",
    Cause.PROBE_STANDBY_ACTIVE: "Expected on a standby director (--standby-ok): the active one "
    "answers for the VIP.",
    Cause.PROBE_LOCAL_RESPONDER: "Another NIC of this host on the same segment answers for the "
    "VIP: set arp_ignore on it so that only the VIP's holder answers (ARP flux).",
    Cause.PROBE_SEVERAL: "A real server expects exactly one machine, the director, to answer "
    "for the VIP: another is a leaking real server or a second director.",
}
