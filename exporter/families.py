"""The exporter's metric families, built fresh from one assessment on every scrape.

Each name is one family with one add_metric per label set (a family per sample would repeat
`# HELP`/`# TYPE`, which the exposition format forbids). Verdicts come from the library's
findings; nothing here re-derives what the kernel does with a value.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)

from checks import __version__
from checks.assess import Assessment
from checks.finding import PLACEMENT_CAUSES, Cause, Finding, Severity
from checks.judge.probe import PROBE_CAUSES
from checks.kernel import effective
from checks.model import PARAMS, HostState, Role
from checks.names import printable
from checks.read.arp_probe import Responder

from .read_guard import Failure

NEW_INTERFACE = "default"  # the conf entry interfaces created later copy
_SCOPE_NAMES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}


# Past this many VIPs only counts are exported per node: --collector.vip-series-limit.
DEFAULT_VIP_SERIES_LIMIT = 256


def assessment_families(
    assessment: Assessment, vip_series_limit: int = DEFAULT_VIP_SERIES_LIMIT
) -> list[Metric]:
    """Series linear in interfaces + VIPs: 2 x (interfaces + 2) raw values, 2 x ARP
    interfaces effective values, 2 x (ARP interfaces + 1) misconfigured (and as many
    unsound-after-reboot), one per cause, and per VIP (up to the limit) 3 or more."""
    return [
        raw_values(assessment.state),
        effective_values(assessment),
        misconfigured(assessment),
        *boot_families(assessment),
        causes(assessment),
        *vip_families(assessment, vip_series_limit),
        compliant(assessment),
        findings_by_severity(assessment),
    ]


def raw_values(state: HostState) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "lvs_arp_sysctl_raw_value",
        "net.ipv4.conf.<interface>.<parameter> as read, for all, default and every interface.",
        labels=("interface", "parameter"),
    )
    entries = [("all", state.all), (NEW_INTERFACE, state.default)]
    entries += [(i.name, i.knobs) for i in state.interfaces]
    for name, knobs in entries:
        shown = printable(name)  # one label value per name: see _add_per_interface
        for param in PARAMS:
            family.add_metric((shown, param), knobs.get(param))
    return family


def effective_values(assessment: Assessment) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "lvs_arp_sysctl_effective_value",
        "max(conf/all, conf/<interface>): the value the kernel uses on this ARP interface.",
        labels=("interface", "parameter"),
    )
    global_knobs = assessment.state.all
    for interface in assessment.checked:
        shown = printable(interface.name)
        for param in PARAMS:
            value = effective(global_knobs.get(param), interface.knobs.get(param))
            family.add_metric((shown, param), value)
    return family


def misconfigured(assessment: Assessment) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "lvs_arp_misconfigured",
        "1 when the kernel will leak the VIP or go silent on this interface (now, or once "
        "it is up); interface=default: on interfaces created later.",
        labels=("interface", "parameter"),
    )
    _add_per_interface(family, assessment, _unsound_knobs(assessment, after_reboot=False))
    return family


def boot_families(assessment: Assessment) -> list[Metric]:
    """What the next reboot would leave; absent when the boot check is off (not judged)."""
    if not assessment.boot_checked:
        return []
    family = GaugeMetricFamily(
        "lvs_arp_unsound_after_reboot",
        "1 when this interface and parameter are sound now but the boot configuration "
        "(sysctl.d) would leave them leaking or silent after a reboot; interface=default: "
        "on interfaces created later.",
        labels=("interface", "parameter"),
    )
    _add_per_interface(family, assessment, _unsound_knobs(assessment, after_reboot=True))
    issues = GaugeMetricFamily(
        "lvs_arp_boot_config_issues",
        "Problems in the boot configuration files (unreadable, malformed or refused lines, "
        "/etc/sysctl.conf not read at boot), as check_lvs_arp -v lists them.",
        value=sum(1 for f in assessment.findings if f.cause is Cause.BOOT_FILE),
    )
    return [family, issues]


def _unsound_knobs(assessment: Assessment, after_reboot: bool) -> set[tuple[str, str]]:
    """(interface or "default", parameter) for every knob problem, now or only after reboot."""
    unsound: set[tuple[str, str]] = set()
    for finding in assessment.findings:
        if finding.parameter is None or not finding.is_problem:
            continue
        if finding.after_reboot is not after_reboot:
            continue
        if finding.cause in PLACEMENT_CAUSES:
            continue  # a placement problem names the VIP's interface, not a knob
        if finding.cause is Cause.NEW_INTERFACE_RISK or (
            finding.after_reboot and Cause.NEW_INTERFACE_RISK in finding.consequences
        ):
            unsound.add((NEW_INTERFACE, finding.parameter))
        unsound.update((name, finding.parameter) for name in finding.interfaces)
    return unsound


def _add_per_interface(
    family: GaugeMetricFamily, assessment: Assessment, unsound: set[tuple[str, str]]
) -> None:
    names = [i.name for i in assessment.checked] + [NEW_INTERFACE]
    # An interface judged though not in `checked` (a director's VIP holder) still counts.
    names += sorted({name for name, _ in unsound} - set(names))
    for name in names:
        # As every face shows names (names.printable): bytes that are not UTF-8 as \xNN and
        # a backslash doubled, so the byte 0xff and the four characters `\xff` never share
        # a label value (two series with one label set).
        shown = printable(name)
        for param in PARAMS:
            family.add_metric((shown, param), 1 if (name, param) in unsound else 0)


def causes(assessment: Assessment) -> GaugeMetricFamily:
    """One series per root cause: what an alert per problem keys on."""
    family = GaugeMetricFamily(
        "lvs_arp_cause",
        "Interfaces (or VIPs, for a placement) affected by each root cause check_lvs_arp "
        "reports; conf is the sysctl entry at fault (own: each interface's own entry).",
        labels=("cause", "severity", "parameter", "conf", "after_reboot"),
    )
    totals: dict[tuple[str, str, str, str, str], int] = {}
    for finding in assessment.findings:
        if not finding.is_problem:
            continue
        key = (
            finding.cause.value,
            finding.severity.name.lower(),
            finding.parameter or "",
            _conf_label(finding),
            "true" if finding.after_reboot else "false",
        )
        affected = len(finding.interfaces) or len(finding.vips) or 1
        totals[key] = totals.get(key, 0) + affected
    for key, value in totals.items():
        family.add_metric(key, value)
    return family


def _conf_label(finding: Finding) -> str:
    if finding.parameter is None:
        return ""
    if finding.conf is None:
        return "own"
    return finding.conf if finding.conf in ("all", NEW_INTERFACE) else "own"


def vip_families(assessment: Assessment, vip_series_limit: int) -> list[Metric]:
    """Per-VIP series up to *vip_series_limit* VIPs; counts always (a kube-proxy node holds
    thousands of service IPs, and every series costs Prometheus memory)."""
    misplaced = assessment.misplaced_vips()
    # From the findings, not a look-up per VIP: a kube-proxy node judges thousands.
    absent = {
        vip
        for f in assessment.findings
        if f.cause in (Cause.VIP_ABSENT, Cause.VIP_NOT_HELD)
        for vip in f.vips
    }
    counts = GaugeMetricFamily(
        "lvs_arp_vips",
        "VIPs judged, by state: configured on this node (present), placed unsoundly for the "
        "role (misplaced), and all of them (judged).",
        labels=("state",),
    )
    counts.add_metric(("judged",), len(assessment.vips))
    counts.add_metric(("present",), len(assessment.vips) - len(absent))
    counts.add_metric(("misplaced",), len(misplaced))
    if len(assessment.vips) > vip_series_limit:
        return [counts]
    return [
        counts,
        vip_present(assessment),
        vip_placements(assessment),
        vip_misplaced(assessment, misplaced),
    ]


def vip_present(assessment: Assessment) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "lvs_arp_vip_present",
        "1 when the VIP is configured on some interface of this node.",
        labels=("vip",),
    )
    for vip in assessment.vips:
        family.add_metric((str(vip),), 1 if assessment.state.addresses_of(vip) else 0)
    return family


def vip_placements(assessment: Assessment) -> InfoMetricFamily:
    family = InfoMetricFamily(
        "lvs_arp_vip_placement",
        "Where each VIP is configured: interface, prefix length and address scope.",
        labels=("vip", "interface", "prefix_length", "scope"),
    )
    for vip in assessment.vips:
        for address in assessment.state.addresses_of(vip):
            scope = _SCOPE_NAMES.get(address.scope, str(address.scope))
            shown = printable(address.interface)
            family.add_metric((str(vip), shown, str(address.prefixlen), scope), {})
    return family


def vip_misplaced(assessment: Assessment, misplaced: set[IPv4Address]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "lvs_arp_vip_misplaced",
        "1 when the VIP's placement is unsound for the role: missing, on an ARP interface "
        "of a real server, wider than /32, or held where no interface answers for it.",
        labels=("vip",),
    )
    for vip in assessment.vips:
        family.add_metric((str(vip),), 1 if vip in misplaced else 0)
    return family


def compliant(assessment: Assessment) -> GaugeMetricFamily:
    sound = not any(f.severity >= Severity.WARNING for f in assessment.findings)
    return GaugeMetricFamily(
        "lvs_arp_compliant",
        "1 when no finding is warning, critical or unknown: ARP is sound for the node's role.",
        value=1 if sound else 0,
    )


def findings_by_severity(assessment: Assessment) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "lvs_arp_findings",
        "Root causes of the last read, by severity (as check_lvs_arp reports them).",
        labels=("severity",),
    )
    for severity in Severity:
        family.add_metric((severity.name.lower(),), assessment.count(severity))
    return family


# The verdicts that take a foreign responder for the director: the one answer a real server
# expects, and a standby's active director. Elsewhere (a second holder, several answers) a
# machine /proc/net/ip_vs does not list may be a director or a real server out of the pool.
_DIRECTOR_CAUSES = frozenset({Cause.PROBE_OK, Cause.PROBE_STANDBY_ACTIVE})


def probe_families(assessment: Assessment) -> list[Metric]:
    """What the ARP probe heard (--probe-arp only): per probed VIP, the foreign machines that
    answer, and one info series per machine heard. Bounded by VIPs x responders, and a
    responder is a machine on the segment that answered ARP for a VIP within the window."""
    responders = GaugeMetricFamily(
        "lvs_arp_probe_responders",
        "Distinct MACs other than this host's own NICs that answered ARP for the VIP during "
        "the probe window (a director expects 0, a standby or a real server 1).",
        labels=("vip",),
    )
    info = InfoMetricFamily(
        "lvs_arp_probe_responder",
        "A machine that answered ARP for the VIP: its MAC, its addresses from the neighbour "
        "table (comma-separated, empty when unknown) and what it is (director, realserver "
        "from /proc/net/ip_vs, local: this host's other NIC, unknown).",
        labels=("vip", "mac", "address", "kind"),
    )
    for finding in assessment.findings:
        if finding.cause not in PROBE_CAUSES or not finding.vips:
            continue
        vip = str(finding.vips[0])
        responders.add_metric((vip,), sum(1 for r in finding.responders if not r.is_local))
        for responder in finding.responders:
            address = ",".join(str(ip) for ip in responder.ips)
            kind = responder_kind(finding.cause, responder)
            info.add_metric((vip, responder.mac, address, kind), {})
    return [responders, info]


def responder_kind(cause: Cause, responder: Responder) -> str:
    """director, realserver, local or unknown: the `kind` label of a responder."""
    if responder.is_local:
        return "local"
    if responder.is_real_server:
        return "realserver"
    return "director" if cause in _DIRECTOR_CAUSES else "unknown"


def role_info(role: Role) -> InfoMetricFamily:
    return InfoMetricFamily(
        "lvs_arp_role", "The LVS-DR role this node is checked for.", value={"role": role.value}
    )


def build_info() -> InfoMetricFamily:
    return InfoMetricFamily(
        "lvs_arp_exporter_build",
        "Version of lvs-arp-exporter and of the Python running it.",
        value={"version": __version__, "python_version": platform.python_version()},
    )


def netns_info() -> InfoMetricFamily | None:
    """Which network namespace the exporter reads (ARP-SEMANTICS §9): `net:[inode]`, with
    its `ip netns` name; None when /proc/self/ns/net cannot be read."""
    from checks.errors import ReadError
    from checks.read.netns import reader_namespace

    try:
        label = reader_namespace().label
    except ReadError:
        return None
    return InfoMetricFamily(
        "lvs_arp_netns",
        "The network namespace whose sysctls and addresses are read.",
        value={"netns": label},
    )


def scrape_families(
    failure: Failure | None, duration_s: float, errors: Mapping[Failure, int]
) -> Iterable[Metric]:
    netns = netns_info()
    if netns is not None:
        yield netns
    yield GaugeMetricFamily(
        "lvs_arp_scrape_success",
        "1 when the host was read and judged; 0 when the read failed or timed out.",
        value=0 if failure else 1,
    )
    yield GaugeMetricFamily(
        "lvs_arp_scrape_duration_seconds",
        "Time spent reading and judging the host for this scrape.",
        value=duration_s,
    )
    counter = CounterMetricFamily(
        "lvs_arp_scrape_errors",
        "Scrapes that could not read and judge the host, by reason "
        "(timeout, busy: earlier reads still hung, read, internal).",
        labels=("reason",),
    )
    for reason in Failure:
        counter.add_metric((reason.value,), errors.get(reason, 0))
    yield counter
