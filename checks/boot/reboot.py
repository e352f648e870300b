"""Sound now, unsound after reboot: judge the boot view with the role's own policy.

A knob set with `echo` or `sysctl -w` is gone after the next reboot. Each interface and
parameter the role's policy finds unsound in a boot state, but not in the running one,
becomes a WARNING that names the value that would be lost, the line (or the lack of one)
that decides the boot value, and the sysctl.d lines that keep today's value.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache

from ..finding import Finding, Fix, Severity
from ..judge.remedy import sysctl_file, sysctl_line
from ..model import HostState, Role
from ..record import TYPE_CHECKING, Record
from .issues import issue_findings
from .state import (
    BootScenario,
    BootValue,
    RunningValues,
    boot_scenarios,
    boot_value,
    same_knobs,
)

if TYPE_CHECKING:
    from .state import BootSource
    from .view import BootSetting, BootView

# The role's policy, applied to any state of this host with the same VIPs and exclusions.
Judge = Callable[[HostState], Iterable[Finding]]

_UNSOUND = (Severity.WARNING, Severity.CRITICAL)
_GLOB_CHARS = "*?["


def read_boot(state: HostState, sysctl_root: str | None) -> BootView | None:
    """The boot view for *state*'s interfaces, read under *sysctl_root*; None: check is off."""
    if sysctl_root is None:
        return None
    # Imported here: with --no-boot-check the plugin neither reads nor loads the resolver.
    from .view import read_boot_view

    return read_boot_view((i.name for i in state.interfaces), sysctl_root)


def boot_findings(
    running: HostState,
    running_findings: Sequence[Finding],
    boot: BootSource,
    judge: Judge,
    role: Role,
) -> Iterator[Finding]:
    """WARNINGs for what only the boot view gets wrong, then the boot files' own problems."""
    unsound_now = {(f.subject, f.parameter) for f in running_findings if f.severity in _UNSOUND}
    # One WARNING per interface and parameter, gathered over every boot scenario, so its
    # fix covers each way the boot can go.
    verdicts: dict[tuple[str, str | None], list[_BootVerdict]] = {}
    for scenario in boot_scenarios(running, boot):
        if same_knobs(scenario.state, running):
            continue  # every verdict would be today's
        lost_values = _LostValues(running, boot, scenario)
        seen: set[tuple[str, str | None]] = set()
        for finding in judge(scenario.state):
            key = (finding.subject, finding.parameter)
            if finding.parameter is None or finding.severity not in _UNSOUND:
                continue
            if key in unsound_now or key in seen:
                continue  # a running problem stays as the running view says
            lost = lost_values.of(finding)
            if lost:
                seen.add(key)
                verdicts.setdefault(key, []).append(
                    _BootVerdict(finding, lost, scenario.copies_default)
                )
    for found in verdicts.values():
        yield _after_reboot(found, role)
    yield from issue_findings(boot.issues)


class _BootVerdict(Record):
    finding: Finding  # the policy's verdict on one boot state
    lost: list[_Lost]
    copies_default: bool


class _Lost(Record):
    """A conf entry whose value today differs from the one boot gives it."""

    conf_name: str
    param: str
    now: int
    boot: BootValue

    @property
    def name(self) -> str:
        return f"{self.conf_name}.{self.param}"


class _LostValues:
    def __init__(self, running: HostState, boot: BootSource, scenario: BootScenario) -> None:
        self.running = RunningValues(running)
        self.boot = boot
        self.scenario = scenario

    def of(self, finding: Finding) -> list[_Lost]:
        """The entries in the finding's evidence (conf/all and its own) that boot changes."""
        param = finding.parameter or ""
        lost = []
        for conf_name, at_boot in finding.raw:
            now = self.running.get(conf_name, param)
            if now is not None and now != at_boot:
                value = boot_value(self.boot, conf_name, param, self.scenario.copies_default)
                lost.append(_Lost(conf_name, param, now, value))
        return lost


def _after_reboot(verdicts: list[_BootVerdict], role: Role) -> Finding:
    first = verdicts[0].finding
    by_name: dict[str, list[_Lost]] = {}
    for entry in dict.fromkeys(e for v in verdicts for e in v.lost):
        by_name.setdefault(entry.name, []).append(entry)
    lost = [entry for entries in by_name.values() for entry in entries]
    sentences = [_why(tuple(entries)) for entries in by_name.values()]
    evidence: dict[str, bool] = {}
    for verdict in verdicts:
        evidence.setdefault(_evidence(verdict.finding), verdict.copies_default)
    sentences += [_evidence_sentence(text, late) for text, late in evidence.items()]
    if first.detail:
        sentences.append(first.detail.rstrip("."))
    sentences += [n for e in lost if (n := override_note(e.conf_name, e.boot, role))]
    lines = {e.name: sysctl_line(e.conf_name, e.param, e.now) for e in lost}
    lost_text = ", ".join(f"{name}={entries[0].now}" for name, entries in by_name.items())
    core = _core(first, next(iter(evidence)))
    return Finding(
        Severity.WARNING,
        # Short enough for the status line with common names; the detail says the rest.
        f"on reboot {core} ({lost_text} lost)",
        first.subject,
        first.parameter,
        first.raw,
        first.effective,
        first.vip,
        ". ".join(sentences) + ".",
        Fix(sysctl_lines=tuple(lines.values())),
        after_reboot=True,
    )


def _evidence_sentence(evidence: str, copies_default: bool) -> str:
    when = "If it appears after systemd-sysctl runs" if copies_default else "After a reboot"
    return f"{when}: {evidence}"


@lru_cache(maxsize=256)  # conf/all's sentence is the same for every interface
def _why(entries: tuple[_Lost, ...]) -> str:
    """Why boot gives this entry another value: the line that sets it, or that none does."""
    first = entries[0]
    head = f"{first.name} is {first.now} now but"
    if first.boot.setting is not None and not first.boot.via_default:
        return f"{head} {_where(first.boot.setting)} sets it to {first.boot.value}"
    copied = next((e.boot.setting for e in entries if e.boot.via_default), None)
    if copied is None:
        return f"{head} nothing in sysctl.d sets it (boots as 0)"
    return (
        f"{head} nothing in sysctl.d sets it: it boots as 0, or as default's {copied.value} "
        f"({_where(copied)}) if {first.conf_name} appears after systemd-sysctl runs"
    )


@lru_cache(maxsize=256)
def override_note(conf_name: str, value: BootValue, role: Role) -> str | None:
    """When a line in sysctl.d would still beat the fix file, say where to change it."""
    setting = value.setting
    if setting is None or value.via_default:
        return None
    if _is_glob(setting.key):
        if conf_name != "default":
            return None  # an exact key in the fix file beats any glob
        return (
            f"udev applies {setting.key} to every new interface whatever conf/default says: "
            f"change {_where(setting)}"
        )
    fix_file = os.path.basename(sysctl_file(role))
    if os.fsencode(os.path.basename(setting.path)) > os.fsencode(fix_file):
        return f"{setting.path} is applied after {fix_file} and would still win: change it there"
    return None


def _where(setting: BootSetting) -> str:
    place = f"{setting.path}:{setting.line}"
    return f"{place} ({setting.key})" if _is_glob(setting.key) else place


def _is_glob(key: str) -> bool:
    return any(char in key for char in _GLOB_CHARS)


def _evidence(finding: Finding) -> str:
    """The policy's '(arp_ignore eff 0: all=0 eth0=0)', rebuilt from the finding's values."""
    values = " ".join(f"{conf_name}={value}" for conf_name, value in finding.raw)
    return f"{finding.parameter} eff {finding.effective}: {values}"


def _core(finding: Finding, evidence: str) -> str:
    """The policy's summary without its evidence suffix, which the summary replaces."""
    suffix = f" ({evidence})"
    summary = finding.summary
    return summary[: -len(suffix)] if summary.endswith(suffix) else summary
