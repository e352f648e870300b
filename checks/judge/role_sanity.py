"""Does the node behave as the role it was declared with? IPVS virtual services tell."""

from __future__ import annotations

from ..finding import Cause, Finding, Severity
from ..model import HostState, Role


def role_sanity(state: HostState, role: Role) -> Finding | None:
    """WARNING when /proc/net/ip_vs contradicts the role; the services found go in `vips`."""
    services = state.virtual_services or ()
    if (role is Role.REALSERVER and services) or (role is not Role.REALSERVER and not services):
        return Finding(Severity.WARNING, Cause.ROLE_DOUBT, vips=tuple(services))
    return None
