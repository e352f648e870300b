"""A director that is also a real server (two-node keepalived): each VIP judged where it sits.

Both nodes keep the VIP /32 on lo; keepalived adds it on the LAN interface of the MASTER
only. A VIP held on an ARP interface now is the director's to answer for; a VIP only on lo
(the BACKUP's state) must stay out of ARP as on any real server (ARP-SEMANTICS §12).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from ipaddress import IPv4Address

from ..finding import Finding
from ..model import HostState, Interface
from .director import Placement, director_vip_findings
from .realserver import assess_realserver


def assess_both(
    state: HostState,
    vips: Sequence[IPv4Address],
    checked: Sequence[Interface],
    standby_ok: bool,
) -> Iterator[Finding]:
    placement = Placement(state, vips)
    held = {a.ip for addresses in placement.held.values() for a in addresses}
    # The real-server rules judge the VIPs not held now, their placement included.
    yield from assess_realserver(state, [v for v in vips if v not in held], checked)
    placement.wide = []  # lo's VIPs: judged above with the real server's placement
    yield from director_vip_findings(state, placement, checked, standby_ok)
