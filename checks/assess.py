"""One check run: read the host, judge it for its role now, judge the reboot, prove the fix.

NodeCheck(options).assess() -> Assessment
    read/host.py       the running host (HostState)
    boot/view.py       what sysctl.d sets at boot (BootView), unless the boot check is off
    judge/<role>.py    the role's policy: findings, one per root cause
    boot/reboot.py     the same policy on the boot view: what a reboot would lose
    boot/fix_proof.py  the merged fix file, tried against now and the boot view
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from ipaddress import IPv4Address

from .errors import ConfigError
from .finding import PLACEMENT_CAUSES, Cause, Finding, Severity
from .judge.shared import no_effect_findings
from .model import HostState, Interface, Role
from .record import TYPE_CHECKING, Record

if TYPE_CHECKING:
    from .boot.view import BootView


class Assessment:
    """The verdict on one host. A plain class: see HostState on why not a dataclass."""

    __slots__ = ("boot_checked", "checked", "findings", "role", "state", "vips")

    def __init__(
        self,
        role: Role,
        vips: tuple[IPv4Address, ...],
        state: HostState,
        checked: tuple[Interface, ...],  # the ARP-capable interfaces that were judged
        findings: tuple[Finding, ...],
        # The boot view was judged too: findings with after_reboot come from it.
        boot_checked: bool = False,
    ) -> None:
        self.role = role
        self.vips = vips
        self.state = state
        self.checked = checked
        self.findings = findings
        self.boot_checked = boot_checked

    def __repr__(self) -> str:
        return (
            f"Assessment(role={self.role!r}, vips={len(self.vips)}, worst={self.worst!r}, "
            f"findings={len(self.findings)})"
        )

    @property
    def worst(self) -> Severity:
        return max((f.severity for f in self.findings), default=Severity.UNKNOWN)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def ranked(self) -> list[Finding]:
        """Worst first; ties keep the order the policy gave them."""
        return sorted(self.findings, key=lambda f: -f.severity)

    def problems(self) -> list[Finding]:
        """The findings that raise the state (WARNING and worse), worst first."""
        return [f for f in self.ranked() if f.is_problem]

    def misplaced_vips(self) -> set[IPv4Address]:
        """VIPs whose placement is unsound for the role."""
        return {
            vip
            for f in self.findings
            if f.cause in PLACEMENT_CAUSES and f.is_problem
            for vip in f.vips
        }

    def interfaces_with(self, *causes: Cause, after_reboot: bool = False) -> set[str]:
        """Interfaces named by unsound findings of these causes (now, or only after reboot)."""
        return {
            name
            for f in self.findings
            if f.cause in causes and f.is_problem and f.after_reboot is after_reboot
            for name in f.interfaces
        }


def judge(
    state: HostState,
    role: Role,
    vips: Sequence[IPv4Address],
    exclude: re.Pattern[str] | None = None,
    standby_ok: bool = False,
) -> list[Finding]:
    """The role's policy on one state of the host: a plain call, for now and for the reboot."""
    from .judge import layouts
    from .judge.role_sanity import role_sanity

    findings = []
    role_doubt = role_sanity(state, role)
    if role_doubt is not None:
        findings.append(role_doubt)
    if not vips:
        findings.append(Finding(Severity.UNKNOWN, Cause.NO_VIP))
        return findings
    checked = checked_interfaces(state, exclude)
    if role is Role.DIRECTOR:
        from .judge.director import assess_director

        findings += assess_director(state, vips, checked, standby_ok)
    else:
        # Real-server rules: unnumbered links need arp_ignore 0 and face no director;
        # a VIP a nat rule takes, with no address here, has nothing to leak.
        lan = layouts.without_unnumbered(state, checked)
        judged, redirected = layouts.redirected_vips(state, vips)
        findings += redirected
        if role is Role.REALSERVER:
            from .judge.realserver import assess_realserver

            findings += assess_realserver(state, judged, lan)
        else:
            from .judge.both import assess_both

            findings += assess_both(state, judged, lan, standby_ok)
        findings = layouts.apply_arp_filters(state, judged, findings)
        findings = layouts.spare_new_pod_links(state, findings)
        findings = layouts.nothing_to_leak(judged, findings)
    findings += layouts.offlink_findings(state, checked)
    findings += layouts.unnumbered_findings(state, checked)
    findings = layouts.kube_strict_arp(state, checked, findings)
    findings += no_effect_findings(state)
    return findings


def assess(
    state: HostState,
    role: Role,
    vips: Sequence[IPv4Address] = (),
    exclude: re.Pattern[str] | None = None,
    standby_ok: bool = False,
    boot: BootView | None = None,
) -> Assessment:
    """Judge the running *state*; with *boot*, also what the next reboot would leave.

    The boot view is judged with the same policy, VIPs and exclusions as the running one.
    """
    chosen = tuple(vips) or _discover(state, role)
    findings = judge(state, role, chosen, exclude, standby_ok)
    if boot is not None:
        from .boot.fix_proof import persist_fixes
        from .boot.reboot import reboot_findings

        policy = Policy(role, chosen, exclude, standby_ok)
        findings += reboot_findings(state, findings, boot, policy)
        findings = _kube_restores(state, persist_fixes(findings, state, boot, policy))
    return Assessment(
        role=role,
        vips=chosen,
        state=state,
        checked=checked_interfaces(state, exclude),
        findings=tuple(findings),
        boot_checked=boot is not None,
    )


def _kube_restores(state: HostState, findings: list[Finding]) -> list[Finding]:
    """kube-proxy with strictARP writes all.arp_ignore=1 and all.arp_announce=2 at every start
    (at run time, never in sysctl.d): on such a node those two are not lost at reboot."""
    from .judge.layouts import kube_restores

    if not kube_restores(state):
        return findings
    return [f for f in findings if not (f.cause is Cause.LOST_AT_REBOOT and f.conf == "all")]


class Policy(Record):
    """The role's policy with its VIPs and exclusions: judges any state of this host."""

    role: Role
    vips: tuple[IPv4Address, ...]
    exclude: re.Pattern[str] | None
    standby_ok: bool

    def judge(self, state: HostState) -> list[Finding]:
        return judge(state, self.role, self.vips, self.exclude, self.standby_ok)


def checked_interfaces(state: HostState, exclude: re.Pattern[str] | None) -> tuple[Interface, ...]:
    """The ARP-capable interfaces, less those --exclude-interface names."""
    return tuple(
        i for i in state.interfaces if i.does_arp and not (exclude and exclude.search(i.name))
    )


def _discover(state: HostState, role: Role) -> tuple[IPv4Address, ...]:
    """A real server's VIPs sit on lo or a NOARP interface, a director's are its IPVS
    services; a node that is both has both."""
    from .judge.vips import discover_realserver_vips

    services = state.virtual_services or ()
    if role is Role.DIRECTOR:
        return services
    hidden = discover_realserver_vips(state)
    return hidden if role is Role.REALSERVER else tuple(dict.fromkeys((*services, *hidden)))


class ProbeOptions(Record):
    """The ARP probe of a check run (--probe-arp): listen *window_s* seconds (read.arp_probe
    bounds it: more than 0, at most MAX_WINDOW_S) on *interface*, or on every interface whose
    subnet holds the VIP when None."""

    window_s: float = 0.3  # read.arp_probe.DEFAULT_WINDOW_S, not imported on the start path
    interface: str | None = None


def _rules_can_matter(state: HostState, role: Role, vips: Sequence[IPv4Address]) -> bool:
    """ARP filter and NAT rules change a verdict only on a real server where some ARP
    interface would leak by its sysctls, or a given VIP is no address here. Reading them
    runs nft (twice) and iptables-nft-save: 15 ms a check (median, in process) and 5 ms of
    imports, against 0.2 ms for the routes; a sound real server or a director skips it."""
    if role is Role.DIRECTOR:
        return False
    if any(not state.addresses_of(vip) for vip in vips):
        return True
    from .kernel import AnnounceRule, ReplyRule, announce_rule, reply_rule

    all_knobs = state.all
    # Per distinct pair of own values, not per interface: hosts have thousands alike.
    for knobs in {i.knobs for i in state.interfaces if i.does_arp}:
        ignore = reply_rule(max(all_knobs.arp_ignore, knobs.arp_ignore))
        announce = announce_rule(max(all_knobs.arp_announce, knobs.arp_announce))
        if ignore in (ReplyRule.ANY_LOCAL, ReplyRule.NOT_SCOPE_HOST):
            return True
        if announce is not AnnounceRule.INTERFACE_ADDRESS:
            return True
    return False


class NodeCheck(Record):
    """What to read (live, or files under the roots) and which role to judge it for.

    Every front end asks the same question: the plugin once per poll, the preflight once,
    the exporter once per scrape.
    """

    role: Role
    vips: tuple[IPv4Address, ...] = ()
    exclude: re.Pattern[str] | None = None
    standby_ok: bool = False
    proc_root: str | None = None
    sys_root: str | None = None
    ip_json: str | None = None
    # Where the boot configuration (sysctl.d) is read; None: the boot check is off.
    sysctl_root: str | None = None
    # Ask the segment who answers ARP for each VIP (live host only); None: no probe.
    probe: ProbeOptions | None = None

    def assess(self) -> Assessment:
        """Read the host afresh and judge it, with its boot view when that is on, then (with
        `probe`) what the wire says: one probe finding per VIP, ahead of the others so that
        at equal severity the status line names who answers.

        Raises ConfigError for a probe on a host read from files, and what read.arp_probe
        raises (ProbePermissionError without CAP_NET_RAW).
        """
        from .read.host import read_host

        self.refuse_offline_probe()
        state = read_host(self.proc_root, self.sys_root, self.ip_json)
        if state.routes is not None and _rules_can_matter(state, self.role, self.vips):
            from .read.host import read_rules

            state = read_rules(state)
        boot = None
        if self.sysctl_root is not None:
            from .boot.view import read_boot_view

            boot = read_boot_view((i.name for i in state.interfaces), self.sysctl_root)
        assessment = assess(state, self.role, self.vips, self.exclude, self.standby_ok, boot)
        if self.probe is not None and assessment.vips:
            assessment.findings = self._probe(state, assessment.vips) + assessment.findings
        return assessment

    def refuse_offline_probe(self) -> None:
        """ConfigError when the probe is asked for a host read from files: it can only ask
        the segment this process sits on."""
        if self.probe is None:
            return
        offline = [
            flag
            for flag, value in (
                ("--proc-root", self.proc_root),
                ("--sys-root", self.sys_root),
                ("--ip-json", self.ip_json),
            )
            if value is not None
        ]
        if offline:
            raise ConfigError(
                f"--probe-arp needs the live host: it asks the segment this host is on, "
                f"which {', '.join(offline)} cannot describe; drop one or the other"
            )

    def _probe(self, state: HostState, vips: Sequence[IPv4Address]) -> tuple[Finding, ...]:
        from .judge.probe import judge_probes, probe_finding
        from .read.arp_probe import probe_and_identify, probe_interfaces

        assert self.probe is not None
        explicit = self.probe.interface
        targets = [(i, vip) for vip in vips for i in probe_interfaces(state, vip, explicit)]
        results = probe_and_identify(targets, self.probe.window_s)
        verdicts = judge_probes(self.role, state, self.standby_ok, results)
        return tuple(probe_finding(verdict) for verdict in verdicts)
