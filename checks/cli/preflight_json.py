"""The preflight's two faces: a report for the human at the console, a document for machines.

The document follows preflight.schema.json, shipped beside this module; bump
SCHEMA_VERSION with any change a consumer could notice.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

from .. import __version__
from ..finding import Finding
from ..model import Role
from .preflight_model import EXIT_UNJUDGED, Preflight, Status

SCHEMA_VERSION = 1
SCHEMA_FILE = "preflight.schema.json"
_ROLE_NAMES = {Role.REALSERVER: "real server", Role.DIRECTOR: "director"}
_VERDICTS = {
    0: "safe to add",
    1: "NOT safe to add yet: warnings",
    2: "NOT safe to add",
    3: "could not judge",
}
_INDENT = "      "  # under the text after "PASS  "


def schema_text() -> str:
    return resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def report_lines(result: Preflight) -> list[str]:
    """One line per check, WARN and FAIL with why and fix; then the whole fix, to apply by hand."""
    lines = [_headline(result), ""]
    for check in result.checks:
        lines.append(f"{check.status.value:<4}  {check.finding.summary}")
        if check.status is not Status.PASS:
            lines += _explanation(check.finding)
    return lines + _fix_lines(result)


def _headline(result: Preflight) -> str:
    assessment = result.assessment
    vips = ", ".join(str(v) for v in assessment.vips) or "none"
    counts = ", ".join(
        f"{result.count(s)} {s.value}" for s in (Status.FAIL, Status.WARN, Status.PASS)
    )
    boot = "" if assessment.boot_checked else "; boot check off"
    return (
        f"lvs-arp-preflight: {_ROLE_NAMES[assessment.role]}, VIP {vips}: "
        f"{_VERDICTS[result.exit_code]} ({counts}{boot})"
    )


def _explanation(finding: Finding) -> list[str]:
    lines = [f"{_INDENT}{finding.detail}"] if finding.detail else []
    lines += [f"{_INDENT}fix: {line}" for line in finding.fix.sysctl_lines]
    return lines + [f"{_INDENT}fix: {command}" for command in finding.fix.commands]


def _fix_lines(result: Preflight) -> list[str]:
    if result.sysctl_file is None and not result.commands:
        return []
    lines = ["", "Fix (printed only: nothing was changed on this host):"]
    if result.sysctl_file is not None:
        path = result.sysctl_file.path
        lines.append(f"  write {path}:")
        lines += [f"    {line}" for line in result.sysctl_file.content.splitlines()]
        lines.append(f"  then load it now: sysctl -p {path}")
    if result.commands:
        lines.append("  run:")
        lines += [f"    {command}" for command in result.commands]
    return lines


def document(result: Preflight) -> dict[str, Any]:
    """The --json document for a judged node."""
    assessment = result.assessment
    sysctl_file = result.sysctl_file
    return {
        **_envelope(assessment.role.value, [str(v) for v in assessment.vips]),
        "safe_to_add": result.safe_to_add,
        "exit_code": result.exit_code,
        "boot_checked": assessment.boot_checked,
        "error": None,
        "counts": {status.value: result.count(status) for status in Status},
        "checks": [_check(c.status, c.finding) for c in result.checks],
        "sysctl_file": None
        if sysctl_file is None
        else {"path": sysctl_file.path, "content": sysctl_file.content},
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


def _check(status: Status, finding: Finding) -> dict[str, Any]:
    return {
        "status": status.value,
        "severity": finding.severity.name.lower(),
        "subject": finding.subject,
        "parameter": finding.parameter,
        "vip": finding.vip,
        "summary": finding.summary,
        "detail": finding.detail,
        "after_reboot": finding.after_reboot,
        "effective": finding.effective,
        "raw": dict(finding.raw),
        "fix": {
            "sysctl_lines": list(finding.fix.sysctl_lines),
            "commands": list(finding.fix.commands),
        },
    }
