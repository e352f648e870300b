"""Recognise a kube-proxy IPVS node by the dummy interface it keeps its service IPs on.

kube-proxy in IPVS mode binds every ClusterIP, ExternalIP and LoadBalancer IP as a /32 on
`kube-ipvs0` (pkg/proxy/ipvs: DefaultDummyDevice), a dummy device: NOARP, usually DOWN.
Addresses on a down interface are still local, so without kube-proxy's `strictARP: true`
every node answers ARP for every LoadBalancer IP (ARP-SEMANTICS §12).
"""

from __future__ import annotations

from ..model import HostState

KUBE_IPVS_DEVICE = "kube-ipvs0"


def kube_ipvs_interface(state: HostState) -> str | None:
    """The name of kube-proxy's IPVS dummy on this host, or None when there is none.

    Recognised by kube-proxy's fixed name and the dummy's NOARP flag, with only /32
    addresses (it may hold none: a cluster's first service IP arrives later). An ARP
    interface or one with a wider address under that name is someone else's: None.
    """
    for interface in state.interfaces:
        if interface.name != KUBE_IPVS_DEVICE or interface.does_arp:
            continue
        if all(address.prefixlen == 32 for address in state.addresses_on(interface.name)):
            return interface.name
    return None
