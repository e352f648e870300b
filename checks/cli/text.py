"""Findings as text lines: the plugin's long output and the preflight's report share them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..finding import Finding
from ..judge.remedy import sysctl_file, sysctl_file_content, sysctl_key
from ..model import Role


def finding_lines(findings: Sequence[Finding]) -> list[str]:
    lines = []
    for finding in findings:
        lines.append(f"{finding.severity.name}: {finding.summary}")
        if finding.detail:
            lines.append(f"    {finding.detail}")
        for command in finding.fix.commands:
            lines.append(f"    fix: {command}")
    return lines


def fix_file_lines(findings: Iterable[Finding], role: Role) -> list[str]:
    """All sysctl fixes merged into one sysctl.d file, so a reboot keeps them."""
    merged = merged_sysctl_lines(findings)
    if not merged:
        return []
    content = sysctl_file_content(role, merged)
    return [
        f"fix: write {sysctl_file(role)} with:",
        *(f"    {line}" for line in content.splitlines()),
    ]


def merged_sysctl_lines(findings: Iterable[Finding]) -> list[str]:
    """One line per key, conf/all and conf/default first.

    Two findings can want different values for one key (a leak's fix lowers conf/all while
    an after-reboot finding would keep today's value): the worse finding's value wins.
    """
    chosen: dict[str, str] = {}
    for finding in sorted(findings, key=lambda f: -f.severity):
        for line in finding.fix.sysctl_lines:
            chosen.setdefault(line.partition("=")[0].strip(), line)
    return sorted(chosen.values(), key=_global_first)


_GLOBAL_PREFIXES = (sysctl_key("all", ""), sysctl_key("default", ""))


def _global_first(line: str) -> int:
    return next((rank for rank, p in enumerate(_GLOBAL_PREFIXES) if line.startswith(p)), 2)
