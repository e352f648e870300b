"""arp_ignore=8 hides every address, the node's own included: it drops out of the network."""

from __future__ import annotations

from collections.abc import Callable

from ..finding import Finding, Severity
from ..kernel import ReplyRule, reply_rule
from ..model import ARP_IGNORE, HostState, Interface
from .knob_reading import reading
from .remedy import knob_fix


def silent_interface_finding(
    state: HostState, interface: Interface, target: int, sound: Callable[[int], bool]
) -> Finding | None:
    """CRITICAL when an interface with addresses of its own answers no ARP at all.

    *sound* is the role's whole idea of a good arp_ignore, so the fix cannot trade silence
    for a leak (all=8 over eth0=4 needs eth0 lowered too).
    """
    value = max(state.all.arp_ignore, interface.knobs.arp_ignore)
    if reply_rule(value) is not ReplyRule.NEVER:
        return None  # the common case, asked per interface: decided before building anything
    own = state.addresses_on(interface.name)
    if not own:
        return None
    knob = reading(state, interface, ARP_IGNORE)
    return knob.finding(
        Severity.CRITICAL if interface.is_up else Severity.WARNING,
        f"{interface.name} answers no ARP, not even for its own {own[0].ip}",
        "Neighbours can no longer resolve the node's own address on this interface.",
        fix=knob_fix(state, interface, ARP_IGNORE, target, sound),
    )
