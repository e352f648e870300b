"""Does the node behave as the role it was declared with? IPVS virtual services tell."""

from __future__ import annotations

from ..finding import Finding, Severity
from ..model import HostState, Role


def role_sanity(state: HostState, role: Role) -> Finding | None:
    services = state.virtual_services or ()
    if role is Role.REALSERVER and services:
        listed = ", ".join(str(a) for a in services[:3])
        return Finding(
            Severity.WARNING,
            f"checked as a real server, but IPVS serves {listed}: a director?",
            subject="host",
            detail="/proc/net/ip_vs lists virtual services; a real server has none. "
            "Check with --role director if this node balances traffic.",
        )
    if role is Role.DIRECTOR and not services:
        return Finding(
            Severity.WARNING,
            "checked as a director, but IPVS has no virtual services here",
            subject="host",
            detail="/proc/net/ip_vs is absent or empty, so this node balances nothing; "
            "a keepalived BACKUP still loads its virtual services.",
        )
    return None
