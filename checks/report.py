"""Findings as text lines: the plugin's long output and the preflight's report share them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .finding import Finding
from .remedy import SYSCTL_FILE


def finding_lines(findings: Sequence[Finding]) -> list[str]:
    lines = []
    for finding in findings:
        lines.append(f"{finding.severity.name}: {finding.summary}")
        if finding.detail:
            lines.append(f"    {finding.detail}")
        for command in finding.fix.commands:
            lines.append(f"    fix: {command}")
    return lines


def fix_file_lines(findings: Iterable[Finding]) -> list[str]:
    """All sysctl fixes merged into one sysctl.d file, so a reboot keeps them."""
    merged = merged_sysctl_lines(findings)
    if not merged:
        return []
    return [f"fix: write {SYSCTL_FILE} with:", *(f"    {line}" for line in merged)]


def merged_sysctl_lines(findings: Iterable[Finding]) -> list[str]:
    return list(dict.fromkeys(line for f in findings for line in f.fix.sysctl_lines))
