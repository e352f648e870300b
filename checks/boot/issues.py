"""Problems in the boot files themselves, as findings that name the file and line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..finding import Finding, Severity
from ..record import TYPE_CHECKING

if TYPE_CHECKING:
    from .view import BootIssue

SUBJECT = "sysctl.d"
_ARP_KEY_PARTS = ("arp_ignore", "arp_announce")
# sysctl_files.parse_line's words for a line without '=': it assigns nothing at all.
_NO_ASSIGNMENT = "is not an assignment"


def issue_findings(issues: Iterable[BootIssue]) -> Iterator[Finding]:
    for issue in issues:
        where = issue.path if issue.line is None else f"{issue.path}:{issue.line}"
        yield Finding(
            _severity(issue),
            f"boot config problem at {where}",
            subject=SUBJECT,
            detail=issue.message,
            after_reboot=True,
        )


def _severity(issue: BootIssue) -> Severity:
    """WARNING when the problem can change what boot writes to an ARP knob.

    A whole file or directory that cannot be read may hold ARP keys; a bad value, pattern or
    a line lost from /etc/sysctl.conf is one (the resolver only reports those for ARP keys).
    Only a line that assigns nothing and names no ARP knob is a mere remark.
    """
    mentions_arp = any(part in issue.message for part in _ARP_KEY_PARTS)
    if issue.line is not None and _NO_ASSIGNMENT in issue.message and not mentions_arp:
        return Severity.INFO
    return Severity.WARNING
