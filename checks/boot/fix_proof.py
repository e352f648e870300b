"""A fix must survive the reboot too: the merged file is tried against the boot view.

The policy's fix for a running problem names only the entries it changes, and a line that
keeps today's value can unmask another: persisting all.arp_ignore=1 over a boot value of 8
brings back an interface's own 3 that only the boot files set. So the merged fix file is
applied, in memory, to the running host and on top of the boot view, the boot is judged
again, and the lines still missing go to the findings whose fix touched those entries.
A file applied after the fix file can still override it; the finding says which.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from ..finding import BootEvidence, Cause, Finding, Fix, SysctlSetting
from ..judge.remedy import merged_settings, sysctl_file, sysctl_key
from ..model import PARAMS, ArpKnobs, HostState, Role
from ..record import TYPE_CHECKING
from .reboot import override, reboot_findings
from .state import boot_value, same_knobs

if TYPE_CHECKING:
    from ..assess import Policy
    from .state import BootSource
    from .view import BootSetting

# Each round can only unmask what the previous round's settings lowered; two are plenty.
_MAX_ROUNDS = 3

Entry = tuple[str, str]  # (conf name, parameter)


def persist_fixes(
    findings: Sequence[Finding], running: HostState, boot: BootSource, policy: Policy
) -> list[Finding]:
    """*findings* again, their fixes extended until the merged file also holds after reboot."""
    running_findings = [f for f in findings if not f.after_reboot]
    fixed = list(_with_overrides(findings, boot, policy.role))
    for _ in range(_MAX_ROUNDS):
        values = {(s.conf_name, s.parameter): s.value for s in merged_settings(fixed)}
        if not values:
            break
        applied = _applied(running, values)
        # Settings that only keep today's values change nothing now: today's verdicts stand.
        now = running_findings if same_knobs(applied, running) else policy.judge(applied)
        booted = _FixedBootView(boot, values, sysctl_file(policy.role))
        missing = [
            f
            for f in reboot_findings(applied, now, booted, policy)
            if f.cause is Cause.LOST_AT_REBOOT
        ]
        if not missing:
            break
        fixed = _attach(fixed, missing)
    return fixed


def _with_overrides(findings: Iterable[Finding], boot: BootSource, role: Role) -> Iterator[Finding]:
    """A running fix setting that a later boot file sets otherwise: say which line wins."""
    for finding in findings:
        if finding.after_reboot or not finding.fix.settings:
            yield finding
            continue
        found = None
        for setting in finding.fix.settings:
            at_boot = boot_value(boot, setting.conf_name, setting.parameter, copies_default=False)
            if at_boot.value != setting.value:
                found = override(setting.conf_name, at_boot, role)
                if found is not None:
                    break
        yield finding if found is None else finding._replace(boot=BootEvidence(override=found))


def _attach(findings: list[Finding], missing: list[Finding]) -> list[Finding]:
    """Give each missing setting to the findings whose fix changed an entry it depends on."""
    extra: dict[int, list[SysctlSetting]] = {}
    for needed in missing:
        parameter = needed.parameter or ""
        depends_on = {("all", parameter), *((n, parameter) for n in needed.interfaces)}
        if needed.conf is not None:
            depends_on.add((needed.conf, parameter))
        owners = [
            n
            for n, finding in enumerate(findings)
            if any((s.conf_name, s.parameter) in depends_on for s in finding.fix.settings)
        ]
        # Only a changed entry can unmask another, so an owner always exists; the first
        # fix is a safe home otherwise.
        if not owners:
            owners = [next(n for n, f in enumerate(findings) if f.fix.settings)]
        for owner in owners:
            extra.setdefault(owner, []).extend(needed.fix.settings)
    return [
        _with_settings(finding, extra[n]) if n in extra else finding
        for n, finding in enumerate(findings)
    ]


def _with_settings(finding: Finding, settings: list[SysctlSetting]) -> Finding:
    merged = tuple(dict.fromkeys((*finding.fix.settings, *settings)))
    return finding._replace(fix=Fix(merged, finding.fix.commands))


def _applied(running: HostState, values: dict[Entry, int]) -> HostState:
    """The running host after `sysctl -p` of the fix file."""

    def knobs(conf_name: str, current: ArpKnobs) -> ArpKnobs:
        return ArpKnobs(*(values.get((conf_name, p), current.get(p)) for p in PARAMS))

    return running.replace(
        all=knobs("all", running.all),
        default=knobs("default", running.default),
        interfaces=tuple(i._replace(knobs=knobs(i.name, i.knobs)) for i in running.interfaces),
    )


class _FixedBootView:
    """The boot view with the fix file added: its exact keys beat every glob.

    A later file with the same exact key would still win; findings say so, and this view
    assumes the administrator followed that advice.
    """

    def __init__(self, boot: BootSource, values: dict[Entry, int], path: str) -> None:
        self.boot = boot
        self.values = values
        self.path = path
        self.issues = boot.issues

    def setting(self, conf_name: str, param: str) -> BootSetting | None:
        value = self.values.get((conf_name, param))
        if value is None:
            return self.boot.setting(conf_name, param)
        from .view import BootSetting

        return BootSetting(value, self.path, 0, sysctl_key(conf_name, param))

    def setting_for_new_interface(self, param: str, name: str | None = None) -> BootSetting | None:
        if name is not None and (name, param) in self.values:
            return self.setting(name, param)
        found = self.boot.setting_for_new_interface(param, name)
        if found is None or found == self.boot.setting("default", param):
            return self.setting("default", param)  # conf/default decides: maybe the fix file
        return found  # a glob or the interface's own key, which udev applies after the copy
