"""Does the node behave as the role it was declared with? IPVS virtual services tell."""

from __future__ import annotations

from ..finding import Cause, Finding, Severity
from ..model import HostState, Role


def role_sanity(state: HostState, role: Role) -> Finding | None:
    """WARNING when /proc/net/ip_vs contradicts the role; the services found go in `vips`.

    Firewall-mark services count as services (they have no address to list). A kube-proxy
    IPVS node's services all sit on kube-ipvs0: that is no LVS director.
    """
    services = state.virtual_services or ()
    balancing = bool(services) or state.fwmark_services > 0
    if role is Role.REALSERVER and balancing:
        from .layouts import kube_holds_services

        if state.fwmark_services == 0 and kube_holds_services(state):
            return None
    if (role is Role.REALSERVER and balancing) or (role is not Role.REALSERVER and not balancing):
        return Finding(Severity.WARNING, Cause.ROLE_DOUBT, vips=tuple(services))
    return None
