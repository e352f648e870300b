"""The library's entry point: judge a host's ARP behaviour for its declared LVS-DR role."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from ipaddress import IPv4Address

from .boot.fix_proof import persist_fixes
from .boot.reboot import boot_findings
from .finding import Finding, Severity
from .judge.director import assess_director
from .judge.realserver import assess_realserver
from .judge.role_sanity import role_sanity
from .judge.vips import discover_realserver_vips
from .model import HostState, Interface, Role
from .record import TYPE_CHECKING

if TYPE_CHECKING:
    from .boot.view import BootView


class Assessment:
    """The verdict on one host. A plain class: see HostState on why not a dataclass."""

    __slots__ = ("boot_checked", "checked", "findings", "role", "state", "vips")

    def __init__(
        self,
        role: Role,
        vips: tuple[IPv4Address, ...],
        state: HostState,
        checked: tuple[Interface, ...],  # the ARP-capable interfaces that were judged
        findings: tuple[Finding, ...],
        # The boot view was judged too: findings with after_reboot come from it.
        boot_checked: bool = False,
    ) -> None:
        self.role = role
        self.vips = vips
        self.state = state
        self.checked = checked
        self.findings = findings
        self.boot_checked = boot_checked

    def __repr__(self) -> str:
        return (
            f"Assessment(role={self.role!r}, vips={self.vips!r}, worst={self.worst!r}, "
            f"findings={len(self.findings)})"
        )

    @property
    def worst(self) -> Severity:
        return max((f.severity for f in self.findings), default=Severity.UNKNOWN)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def ranked(self) -> list[Finding]:
        """Worst first; ties keep the order the policy gave them."""
        return sorted(self.findings, key=lambda f: -f.severity)


def assess(
    state: HostState,
    role: Role,
    vips: Sequence[IPv4Address] = (),
    exclude: re.Pattern[str] | None = None,
    standby_ok: bool = False,
    boot: BootView | None = None,
) -> Assessment:
    """Judge the running *state*; with *boot*, also what the next reboot would leave.

    The boot view is judged with the same policy, VIPs and exclusions as the running one.
    """
    checked = _checked(state, exclude)
    chosen = tuple(vips) or _discover(state, role)
    findings = tuple(_findings(state, role, chosen, checked, standby_ok))
    if boot is not None:

        def judge(at_boot: HostState) -> Iterator[Finding]:
            return _findings(at_boot, role, chosen, _checked(at_boot, exclude), standby_ok)

        findings += tuple(boot_findings(state, findings, boot, judge, role))
        findings = persist_fixes(findings, state, boot, judge, role)
    return Assessment(
        role=role,
        vips=chosen,
        state=state,
        checked=checked,
        findings=findings,
        boot_checked=boot is not None,
    )


def _checked(state: HostState, exclude: re.Pattern[str] | None) -> tuple[Interface, ...]:
    return tuple(
        i for i in state.interfaces if i.does_arp and not (exclude and exclude.search(i.name))
    )


def _discover(state: HostState, role: Role) -> tuple[IPv4Address, ...]:
    if role is Role.REALSERVER:
        return discover_realserver_vips(state)
    return state.virtual_services or ()


def _findings(
    state: HostState,
    role: Role,
    vips: tuple[IPv4Address, ...],
    checked: tuple[Interface, ...],
    standby_ok: bool,
) -> Iterator[Finding]:
    role_doubt = role_sanity(state, role)
    if role_doubt is not None:
        yield role_doubt
    if not vips:
        yield _no_vip(role)
        return
    if role is Role.REALSERVER:
        yield from assess_realserver(state, vips, checked)
    else:
        yield from assess_director(state, vips, checked, standby_ok)


def _no_vip(role: Role) -> Finding:
    where = "on lo or a NOARP interface" if role is Role.REALSERVER else "in /proc/net/ip_vs"
    return Finding(
        Severity.UNKNOWN,
        f"no VIP given and none found {where}; pass --vip",
        subject="vip",
        detail="Without a VIP there is nothing whose ARP behaviour could be judged.",
    )
