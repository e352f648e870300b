"""The preflight's verdict: each cause as PASS, WARN or FAIL, one exit code, and its document.

The document follows preflight.schema.json, shipped beside this module; bump
SCHEMA_VERSION with any change a consumer could notice. One check per root cause, with
every interface and VIP it affects: its size grows with interfaces + VIPs, never their
product.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from importlib import resources
from typing import Any

from .. import __version__
from ..assess import Assessment
from ..finding import Finding, Severity, SysctlSetting
from ..judge.remedy import (
    merged_commands,
    merged_settings,
    sysctl_file,
    sysctl_file_content,
    sysctl_line,
)
from ..names import printable
from ..record import TYPE_CHECKING, Record
from .text import detail, summary

if TYPE_CHECKING:
    from ..boot.view import BootSetting

SCHEMA_VERSION = 2
SCHEMA_FILE = "preflight.schema.json"


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


class Check(Record):
    status: Status
    finding: Finding


class Preflight(Record):
    assessment: Assessment
    checks: tuple[Check, ...]  # worst first
    settings: tuple[SysctlSetting, ...]  # the merged sysctl.d file's settings
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

    @property
    def sysctl_file(self) -> tuple[str, str] | None:
        """(path, content) of the one file that fixes every check; None when none is needed."""
        if not self.settings:
            return None
        role = self.assessment.role
        return sysctl_file(role), sysctl_file_content(role, self.settings)


def preflight(assessment: Assessment) -> Preflight:
    ranked = assessment.ranked()
    return Preflight(
        assessment=assessment,
        checks=tuple(Check(_STATUS[f.severity], f) for f in ranked),
        settings=tuple(merged_settings(ranked)),
        commands=tuple(merged_commands(ranked)),
    )


def schema_text() -> str:
    return resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def document(result: Preflight) -> dict[str, Any]:
    """The --json document for a judged node."""
    assessment = result.assessment
    file = result.sysctl_file
    return {
        **_envelope(assessment.role.value, [str(v) for v in assessment.vips]),
        "safe_to_add": result.safe_to_add,
        "exit_code": result.exit_code,
        "boot_checked": assessment.boot_checked,
        "error": None,
        "counts": {status.value: result.count(status) for status in Status},
        "checks": [_check(c.status, c.finding, assessment) for c in result.checks],
        "sysctl_file": None if file is None else {"path": file[0], "content": file[1]},
        "commands": list(result.commands),
    }


def error_document(role: str | None, vips: Sequence[str], message: str) -> dict[str, Any]:
    """The --json document when the node could not be judged at all."""
    return {
        **_envelope(role, list(vips)),
        "safe_to_add": False,
        "exit_code": EXIT_UNJUDGED,
        "boot_checked": False,
        "error": message,
        "counts": {status.value: 0 for status in Status},
        "checks": [],
        "sysctl_file": None,
        "commands": [],
    }


def _envelope(role: str | None, vips: list[str]) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool_version": __version__,
        "role": role,
        "vips": vips,
    }


def _check(status: Status, finding: Finding, assessment: Assessment) -> dict[str, Any]:
    role = assessment.role
    return {
        "status": status.value,
        "severity": finding.severity.name.lower(),
        "cause": finding.cause.value,
        "summary": summary(finding, role, limit=3),
        "detail": detail(finding, role),
        "after_reboot": finding.after_reboot,
        "setting": _setting(finding),
        "interfaces": [printable(name) for name in finding.interfaces],
        "interface_count": len(finding.interfaces),
        "vips": [str(vip) for vip in finding.vips],
        "vip_count": len(finding.vips),
        "addresses": [
            {"address": str(a), "interface": printable(a.interface), "scope": a.scope}
            for a in finding.addresses
        ],
        "boot": _boot(finding),
        "consequences": [cause.value for cause in finding.consequences],
        "responders": [
            {
                "mac": r.mac,
                "ips": [str(ip) for ip in r.ips],
                "is_real_server": r.is_real_server,
                "is_local": r.is_local,
            }
            for r in finding.responders
        ],
        "fix": {
            "settings": [_setting_document(s) for s in finding.fix.settings],
            "sysctl_lines": [sysctl_line(s) for s in finding.fix.settings],
            "commands": list(finding.fix.commands),
        },
    }


def _setting(finding: Finding) -> dict[str, Any] | None:
    if finding.parameter is None:
        return None
    return {
        "parameter": finding.parameter,
        "conf": None if finding.conf is None else printable(finding.conf),
        "value": finding.value,
        "all_value": finding.all_value,
        "effective": finding.effective,
    }


def _setting_document(setting: SysctlSetting) -> dict[str, Any]:
    return {
        "conf": printable(setting.conf_name),
        "parameter": setting.parameter,
        "value": setting.value,
    }


def _boot(finding: Finding) -> dict[str, Any] | None:
    boot = finding.boot
    if boot is None:
        return None
    return {
        "at_boot": boot.at_boot,
        "source": _line(boot.source),
        "copied_default": boot.copied_default,
        "override": _line(boot.override),
        "path": boot.path,
        "line": boot.line,
        "kind": boot.kind,
        "message": boot.message,
    }


def _line(setting: BootSetting | None) -> dict[str, Any] | None:
    if setting is None:
        return None
    return {"path": setting.path, "line": setting.line, "key": setting.key, "value": setting.value}
