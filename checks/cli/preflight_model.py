"""Is this node safe to add to the pool? Every finding as PASS, WARN or FAIL, and one exit code.

The verdict for a node about to join: an automation tool reads the exit code, a human the
report. Nothing here reads the host or prints; preflight_report.py words the result.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from ..assess import Assessment
from ..finding import Finding, Severity
from ..judge.remedy import sysctl_file, sysctl_file_content
from .text import merged_sysctl_lines


class Status(enum.Enum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"


# Exit codes, worst last: automation adds the node only on EXIT_SAFE.
EXIT_SAFE = 0  # every check passed
EXIT_WARN = 1  # warnings only: sound now, but not after a reboot or a new interface
EXIT_FAIL = 2  # at least one check failed: the node would leak a VIP or go silent
EXIT_UNJUDGED = 3  # could not judge: bad input, a read error, or no VIP to judge

_STATUS = {
    Severity.OK: Status.PASS,
    Severity.INFO: Status.PASS,  # a remark (an unusual but working value)
    Severity.WARNING: Status.WARN,
    Severity.CRITICAL: Status.FAIL,
    Severity.UNKNOWN: Status.FAIL,  # never safe to add what could not be judged
}


@dataclass(frozen=True)
class Check:
    status: Status
    finding: Finding


@dataclass(frozen=True)
class SysctlFile:
    path: str
    content: str


@dataclass(frozen=True)
class Preflight:
    assessment: Assessment
    checks: tuple[Check, ...]  # worst first
    sysctl_file: SysctlFile | None  # the merged sysctl.d file; None when no line is needed
    commands: tuple[str, ...]  # ip commands for VIP placement, each once

    @property
    def exit_code(self) -> int:
        if any(c.finding.severity is Severity.UNKNOWN for c in self.checks):
            return EXIT_UNJUDGED
        if self.count(Status.FAIL):
            return EXIT_FAIL
        return EXIT_WARN if self.count(Status.WARN) else EXIT_SAFE

    @property
    def safe_to_add(self) -> bool:
        return self.exit_code == EXIT_SAFE

    def count(self, status: Status) -> int:
        return sum(1 for check in self.checks if check.status is status)


def preflight(assessment: Assessment) -> Preflight:
    ranked = assessment.ranked()
    return Preflight(
        assessment=assessment,
        checks=tuple(Check(_STATUS[f.severity], f) for f in ranked),
        sysctl_file=_merged_file(assessment, ranked),
        commands=tuple(dict.fromkeys(c for f in ranked for c in f.fix.commands)),
    )


def _merged_file(assessment: Assessment, findings: Sequence[Finding]) -> SysctlFile | None:
    lines = merged_sysctl_lines(findings)
    if not lines:
        return None
    role = assessment.role
    return SysctlFile(sysctl_file(role), sysctl_file_content(role, lines))
