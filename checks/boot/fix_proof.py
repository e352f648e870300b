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

from ..cli.text import merged_sysctl_lines
from ..finding import Finding, Fix
from ..judge.remedy import sysctl_file
from ..model import PARAMS, ArpKnobs, HostState, Role
from ..record import TYPE_CHECKING
from .reboot import Judge, boot_findings, override_note
from .state import boot_value, same_knobs

if TYPE_CHECKING:
    from .state import BootSource
    from .view import BootSetting

# Each round can only unmask what the previous round's lines lowered; two are plenty.
_MAX_ROUNDS = 3
_KEY_PREFIX = "net.ipv4.conf."

Entry = tuple[str, str]  # (conf name, param)


def persist_fixes(
    findings: Sequence[Finding], running: HostState, boot: BootSource, judge: Judge, role: Role
) -> tuple[Finding, ...]:
    """*findings* again, their fixes extended until the merged file also holds after reboot."""
    running_findings = tuple(f for f in findings if not f.after_reboot)
    fixed = tuple(_with_override_notes(findings, boot, role))
    for _ in range(_MAX_ROUNDS):
        values = _entries(merged_sysctl_lines(fixed))
        if not values:
            break
        applied = _applied(running, values)
        # Lines that only keep today's values change nothing now: today's verdicts stand.
        now = running_findings if same_knobs(applied, running) else tuple(judge(applied))
        booted = _FixedBootView(boot, values, sysctl_file(role))
        missing = [
            f for f in boot_findings(applied, now, booted, judge, role) if f.parameter is not None
        ]
        if not missing:
            break
        fixed = _attach(fixed, missing)
    return fixed


def _with_override_notes(
    findings: Iterable[Finding], boot: BootSource, role: Role
) -> Iterator[Finding]:
    """A running fix line that a later boot file sets otherwise: say where to change it."""
    for finding in findings:
        if finding.after_reboot or not finding.fix.sysctl_lines:
            yield finding  # most findings, on a big host: an OK per interface and parameter
            continue
        notes = list(_override_notes(finding, boot, role))
        if not notes:
            yield finding
            continue
        sentences = [finding.detail.rstrip(".")] if finding.detail else []
        yield finding._replace(detail=". ".join([*sentences, *notes]) + ".")


def _override_notes(finding: Finding, boot: BootSource, role: Role) -> Iterator[str]:
    for (conf_name, param), value in _entries(finding.fix.sysctl_lines).items():
        at_boot = boot_value(boot, conf_name, param, copies_default=False)
        note = override_note(conf_name, at_boot, role)
        if note is not None and at_boot.value != value:
            yield note


def _attach(findings: tuple[Finding, ...], missing: list[Finding]) -> tuple[Finding, ...]:
    """Give each missing line to the findings whose fix changed an entry it depends on."""
    extra: dict[int, list[str]] = {}
    for needed in missing:
        depends_on = {(conf_name, needed.parameter) for conf_name, _ in needed.raw}
        owners = [
            n
            for n, finding in enumerate(findings)
            if depends_on & set(_entries(finding.fix.sysctl_lines))
        ]
        # Only a changed entry can unmask another, so an owner always exists; the first
        # fix is a safe home otherwise.
        if not owners:
            owners = [next(n for n, f in enumerate(findings) if f.fix.sysctl_lines)]
        for owner in owners:
            extra.setdefault(owner, []).extend(needed.fix.sysctl_lines)
    return tuple(
        _with_lines(finding, extra[n]) if n in extra else finding
        for n, finding in enumerate(findings)
    )


def _with_lines(finding: Finding, lines: list[str]) -> Finding:
    merged = tuple(dict.fromkeys((*finding.fix.sysctl_lines, *lines)))
    return finding._replace(fix=Fix(merged, finding.fix.commands))


def _entries(lines: Iterable[str]) -> dict[Entry, int]:
    """sysctl lines this library wrote, back to (conf name, param) -> value."""
    entries = {}
    for line in lines:
        key, _, value = line.partition("=")
        conf_name, _, param = key.strip().removeprefix(_KEY_PREFIX).rpartition(".")
        entries[(conf_name.replace("/", "."), param)] = int(value)
    return entries


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
        from .view import BootSetting  # loaded already: self.boot came from it

        return BootSetting(value, self.path, 0, f"{_KEY_PREFIX}{conf_name}.{param}")

    def setting_for_new_interface(self, param: str, name: str | None = None) -> BootSetting | None:
        if name is not None and (name, param) in self.values:
            return self.setting(name, param)
        found = self.boot.setting_for_new_interface(param, name)
        if found is None or found == self.boot.setting("default", param):
            return self.setting("default", param)  # conf/default decides: maybe the fix file
        return found  # a glob or the interface's own key, which udev applies after the copy
