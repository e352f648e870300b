"""The exporter's metric families, built fresh from one assessment on every scrape.

Each name is one family with one add_metric per label set (a family per sample would repeat
`# HELP`/`# TYPE`, which the exposition format forbids). Verdicts come from the library's
findings; nothing here re-derives what the kernel does with a value.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)

from checks import __version__
from checks.assess import Assessment
from checks.finding import Finding, Severity
from checks.kernel import effective
from checks.model import PARAMS, HostState, Role

from .read_guard import Failure

NEW_INTERFACE = "default"  # the findings' subject for interfaces created later
# A finding this bad on an interface means the kernel leaks the VIP or goes silent there.
_UNSOUND = (Severity.WARNING, Severity.CRITICAL)
_SCOPE_NAMES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}


def assessment_families(assessment: Assessment) -> list[Metric]:
    return [
        raw_values(assessment.state),
        effective_values(assessment),
        misconfigured(assessment),
        *boot_families(assessment),
        vip_present(assessment),
        vip_placements(assessment),
        vip_misplaced(assessment),
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
        for param in PARAMS:
            family.add_metric((name, param), knobs.get(param))
    return family


def effective_values(assessment: Assessment) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "lvs_arp_sysctl_effective_value",
        "max(conf/all, conf/<interface>): the value the kernel uses on this ARP interface.",
        labels=("interface", "parameter"),
    )
    global_knobs = assessment.state.all
    for interface in assessment.checked:
        for param in PARAMS:
            value = effective(global_knobs.get(param), interface.knobs.get(param))
            family.add_metric((interface.name, param), value)
    return family


def misconfigured(assessment: Assessment) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "lvs_arp_misconfigured",
        "1 when the kernel will leak the VIP or go silent on this interface (now, or once "
        "it is up); interface=default: on interfaces created later.",
        labels=("interface", "parameter"),
    )
    unsound = _unsound_knobs(f for f in assessment.findings if not f.after_reboot)
    _add_per_interface(family, assessment, unsound)
    return family


def boot_families(assessment: Assessment) -> list[Metric]:
    """What the next reboot would leave; absent when the boot check is off (not judged)."""
    if not assessment.boot_checked:
        return []
    after_reboot = [f for f in assessment.findings if f.after_reboot]
    family = GaugeMetricFamily(
        "lvs_arp_unsound_after_reboot",
        "1 when this interface and parameter are sound now but the boot configuration "
        "(sysctl.d) would leave them leaking or silent after a reboot; interface=default: "
        "on interfaces created later.",
        labels=("interface", "parameter"),
    )
    _add_per_interface(family, assessment, _unsound_knobs(after_reboot))
    issues = GaugeMetricFamily(
        "lvs_arp_boot_config_issues",
        "Problems in the boot configuration files (unreadable, malformed or refused lines, "
        "/etc/sysctl.conf not read at boot), as check_lvs_arp -v lists them.",
        value=sum(1 for f in after_reboot if f.parameter is None),
    )
    return [family, issues]


def _unsound_knobs(findings: Iterable[Finding]) -> set[tuple[str, str | None]]:
    return {(f.subject, f.parameter) for f in findings if _is_unsound(f) and f.parameter}


def _add_per_interface(
    family: GaugeMetricFamily, assessment: Assessment, unsound: set[tuple[str, str | None]]
) -> None:
    names = [i.name for i in assessment.checked] + [NEW_INTERFACE]
    # An interface judged though not in `checked` (a director's VIP holder) still counts.
    names += sorted({subject for subject, _ in unsound} - set(names))
    for name in names:
        for param in PARAMS:
            family.add_metric((name, param), 1 if (name, param) in unsound else 0)


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
            family.add_metric((str(vip), address.interface, str(address.prefixlen), scope), {})
    return family


def vip_misplaced(assessment: Assessment) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "lvs_arp_vip_misplaced",
        "1 when the VIP's placement is unsound for the role: missing, on an ARP interface "
        "of a real server, wider than /32, or held where no interface answers for it.",
        labels=("vip",),
    )
    misplaced = {f.vip for f in assessment.findings if f.subject == "vip" and _is_unsound(f)}
    for vip in assessment.vips:
        family.add_metric((str(vip),), 1 if str(vip) in misplaced else 0)
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
        "Findings of the last read, by severity (as check_lvs_arp reports them).",
        labels=("severity",),
    )
    for severity in Severity:
        family.add_metric((severity.name.lower(),), assessment.count(severity))
    return family


def _is_unsound(finding: Finding) -> bool:
    return finding.severity in _UNSOUND


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


def scrape_families(
    failure: Failure | None, duration_s: float, errors: Mapping[Failure, int]
) -> Iterable[Metric]:
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
