"""A verdict on one aspect of the host: what the kernel will do, how bad it is, how to fix it."""

from __future__ import annotations

import enum

from .record import Record


class Severity(enum.IntEnum):
    """Ordered so that max() gives the worst; INFO is a remark that does not raise the state."""

    OK = 0
    INFO = 1
    WARNING = 2
    CRITICAL = 3
    UNKNOWN = 4


class Fix(Record):
    """What would make the finding go away; the library never applies it."""

    sysctl_lines: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.sysctl_lines or self.commands)


NO_FIX = Fix()


class Finding(Record):
    # A NamedTuple, not a dataclass: hosts with thousands of interfaces make thousands of
    # these per NRPE poll, and a frozen dataclass costs ten times as much to build.

    severity: Severity
    summary: str  # one short line: what the kernel will do, for a status line
    subject: str  # an interface name, "vip", "default", "host" or "sysctl.d"
    parameter: str | None = None  # arp_ignore, arp_announce or None for placement
    raw: tuple[tuple[str, int], ...] = ()  # e.g. (("all", 0), ("eth0", 0))
    effective: int | None = None
    vip: str | None = None
    detail: str = ""  # the longer sentence: why, per ARP-SEMANTICS
    fix: Fix = NO_FIX
    # Sound now, unsound once the host reboots into its sysctl.d files (boot_check.py).
    after_reboot: bool = False
