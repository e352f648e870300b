"""Sound now, unsound after reboot: the boot view judged with the role's own policy.

A knob set with `echo` or `sysctl -w` is gone after the next reboot. Each conf entry whose
loss makes the policy find a problem that today's values do not have becomes one WARNING:
the entry, today's value, the value boot gives it and the line (or the lack of one) that
decides it, everything it would then affect, and the setting that keeps today's value.
Problems in the boot files themselves become findings too, with a severity by their kind.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address

from ..finding import BootEvidence, Cause, Finding, Fix, Severity, SysctlSetting
from ..judge.remedy import sysctl_file
from ..model import HostState, Role
from ..record import TYPE_CHECKING
from .state import BootValue, RunningValues, boot_scenarios, boot_value, same_knobs
from .sysctl_d import NOT_ASSIGNMENT, TOO_LARGE, UNREADABLE_DIR, UNREADABLE_FILE

if TYPE_CHECKING:
    from ..assess import Policy
    from .state import BootSource
    from .sysctl_d import BootIssue
    from .view import BootSetting

_GLOB_CHARS = "*?["
NEW_INTERFACE = "default"  # the conf entry interfaces created later copy

Entry = tuple[str, str]  # (conf name, parameter)


def reboot_findings(
    running: HostState,
    running_findings: Sequence[Finding],
    boot: BootSource,
    policy: Policy,
) -> list[Finding]:
    """LOST_AT_REBOOT findings for what only the boot view gets wrong, then the files' issues."""
    issues = [_issue_finding(issue) for issue in boot.issues]
    if any(issue.kind in _UNJUDGEABLE for issue in boot.issues):
        return issues
    unsound_now = _unsound_entries(running_findings)
    losses: dict[tuple[object, ...], _Loss] = {}
    values = RunningValues(running)
    for scenario in boot_scenarios(running, boot):
        if same_knobs(scenario.state, running):
            continue  # every verdict would be today's
        at_boot = RunningValues(scenario.state)
        for finding in policy.judge(scenario.state):
            parameter = finding.parameter
            if parameter is None or not finding.is_problem:
                continue
            affected = [e for e in _entries(finding) if e not in unsound_now]
            if not affected:
                continue  # a running problem stays as the running view says
            for entry in _candidates(finding, affected):
                now, then = values.get(*entry), at_boot.get(*entry)
                if now is None or now == then:
                    continue
                value = boot_value(boot, entry[0], parameter, scenario.copies_default)
                key = _loss_key(entry, now, value)
                loss = losses.get(key)
                if loss is None:
                    own = key[0] == "own"
                    loss = losses[key] = _Loss(
                        parameter, now, value, running.all.get(parameter), own
                    )
                loss.add(entry[0], finding, affected)
    return [loss.finding(policy.role) for loss in losses.values()] + issues


def _unsound_entries(findings: Iterable[Finding]) -> set[Entry]:
    """(interface or "default", parameter) for every knob problem of the running view."""
    unsound: set[Entry] = set()
    for finding in findings:
        if finding.parameter is not None and finding.is_problem and not finding.after_reboot:
            unsound.update(_entries(finding))
    return unsound


def _entries(finding: Finding) -> list[Entry]:
    parameter = finding.parameter or ""
    if finding.cause is Cause.NEW_INTERFACE_RISK:
        return [(NEW_INTERFACE, parameter)]
    return [(name, parameter) for name in finding.interfaces]


def _candidates(finding: Finding, affected: Sequence[Entry]) -> list[Entry]:
    """The entries whose boot value can explain the finding: conf/all, its own entry, and
    each newly affected interface's own (or conf/default for interfaces created later)."""
    parameter = finding.parameter or ""
    entries = [("all", parameter)]
    if finding.conf is not None and finding.conf != "all":
        entries.append((finding.conf, parameter))
    entries += affected
    return list(dict.fromkeys(entries))


def _loss_key(entry: Entry, now: int, value: BootValue) -> tuple[object, ...]:
    """conf/all and conf/default are one cause each; interfaces' own entries that lose the
    same value to the same line (or to none) are one cause together."""
    conf_name, parameter = entry
    if conf_name in ("all", NEW_INTERFACE):
        return (conf_name, parameter)
    return ("own", parameter, now, value)


class _Loss:
    """One lost cause, gathered over every boot scenario and every finding it explains."""

    def __init__(
        self, parameter: str, now: int, value: BootValue, all_value: int, own: bool
    ) -> None:
        self.parameter = parameter
        # Interfaces' own entries: the cause affects just those interfaces; conf/all and
        # conf/default affect every interface the boot view finds newly unsound.
        self.own = own
        self.conf_names: dict[str, None] = {}
        self.now = now
        self.value = value
        self.all_value = all_value
        self.interfaces: dict[str, None] = {}
        self.vips: dict[IPv4Address, None] = {}
        self.consequences: dict[Cause, None] = {}
        self._last: Finding | None = None

    def add(self, conf_name: str, finding: Finding, affected: Sequence[Entry]) -> None:
        self.conf_names[conf_name] = None
        # One finding comes once per entry it affects: its interfaces and VIPs are taken
        # once, or 2,000 interfaces x 5,000 VIPs would be hashed 10 million times.
        if finding is self._last:
            return
        self._last = finding
        if not self.own:
            self.interfaces.update(dict.fromkeys(n for n, _ in affected if n != NEW_INTERFACE))
        self.vips.update(dict.fromkeys(finding.vips))
        self.consequences[finding.cause] = None

    def finding(self, role: Role) -> Finding:
        names = tuple(self.conf_names)
        conf = names[0] if len(names) == 1 else None
        own = [n for n in names if n not in ("all", NEW_INTERFACE)]
        setting = self.value.setting
        return Finding(
            Severity.WARNING,
            Cause.LOST_AT_REBOOT,
            parameter=self.parameter,
            conf=conf,
            value=self.now,
            all_value=self.all_value,
            interfaces=tuple(dict.fromkeys([*own, *self.interfaces])),
            vips=tuple(self.vips),
            fix=Fix(tuple(SysctlSetting(n, self.parameter, self.now) for n in names)),
            after_reboot=True,
            boot=BootEvidence(
                at_boot=self.value.value,
                source=setting,
                copied_default=self.value.via_default,
                override=override(names[0], self.value, role),
            ),
            consequences=tuple(self.consequences),
        )


def override(conf_name: str, value: BootValue, role: Role) -> BootSetting | None:
    """The boot line that would still beat the role's fix file for this entry, if any.

    A glob for conf/default: udev applies it to every new interface whatever conf/default
    says. An exact key in a file applied after the fix file (file names sort later).
    """
    setting = value.setting
    if setting is None or value.via_default:
        return None
    if is_glob(setting.key):
        return setting if conf_name == NEW_INTERFACE else None
    fix_file = os.path.basename(sysctl_file(role))
    if os.fsencode(os.path.basename(setting.path)) > os.fsencode(fix_file):
        return setting
    return None


def is_glob(key: str) -> bool:
    return any(char in key for char in _GLOB_CHARS)


# A boot view with a file or directory it could not read cannot say what boot sets: those
# are UNKNOWN, and no reboot verdict is drawn from the rest ("nothing sets it" would lie).
_UNJUDGEABLE = frozenset({UNREADABLE_FILE, UNREADABLE_DIR, TOO_LARGE})
_ISSUE_SEVERITY = {NOT_ASSIGNMENT: Severity.INFO}  # a line naming no ARP knob: a remark


def _issue_finding(issue: BootIssue) -> Finding:
    severity = Severity.UNKNOWN if issue.kind in _UNJUDGEABLE else Severity.WARNING
    return Finding(
        _ISSUE_SEVERITY.get(issue.kind, severity),
        Cause.BOOT_FILE,
        after_reboot=True,
        boot=BootEvidence(path=issue.path, line=issue.line, kind=issue.kind, message=issue.message),
    )
