"""Who a MAC address is: the neighbour table (MAC -> IPv4 addresses) and this host's own MACs.

Both come from one rtnetlink dump each (RTM_GETNEIGH, RTM_GETLINK), as `ip neigh` and
`ip link` read them, in the reader's network namespace. The ARP probe uses them to name the
machines that answer for a VIP: a director has neighbour entries for its real servers
because it forwards traffic to them.
"""

from __future__ import annotations

import _socket
import struct
from ipaddress import IPv4Address

from . import netlink

RTM_NEWLINK = 16
RTM_GETLINK = 18
RTM_NEWNEIGH = 28
RTM_GETNEIGH = 30
IFLA_ADDRESS = 1
IFLA_EXT_MASK = 29
RTEXT_FILTER_SKIP_STATS = 1 << 3
NDA_DST = 1
NDA_LLADDR = 2
# ndm_state bits (include/uapi/linux/neighbour.h) whose link-layer address means nothing:
# still resolving, resolution failed, or a NOARP route (broadcast, multicast).
NUD_INCOMPLETE = 0x01
NUD_FAILED = 0x20
NUD_NOARP = 0x40
_NO_MAC = NUD_INCOMPLETE | NUD_FAILED | NUD_NOARP

_NDMSG = struct.Struct("=BBHiHBB")  # family, pad1, pad2, ifindex, state, flags, type
_IFINFOMSG = struct.Struct("=BxHiII")  # family, type, index, flags, change
_ETHER_LENGTH = 6


def format_mac(raw: bytes) -> str:
    """aa:bb:cc:dd:ee:ff, lower case, as `ip link` prints it."""
    return ":".join(f"{byte:02x}" for byte in raw)


def read_neighbours() -> dict[str, tuple[IPv4Address, ...]]:
    """MAC -> IPv4 addresses the neighbour table holds for it, over all interfaces.

    Stale entries count (the MAC was seen); incomplete, failed and NOARP entries do not.
    Raises ReadError when netlink refuses the dump.
    """
    found: dict[str, list[IPv4Address]] = {}
    request = _NDMSG.pack(_socket.AF_INET, 0, 0, 0, 0, 0, 0)
    for kind, payload in netlink.dump(RTM_GETNEIGH, request):
        if kind != RTM_NEWNEIGH or len(payload) < _NDMSG.size:
            continue
        family, _pad1, _pad2, _index, state, _flags, _type = _NDMSG.unpack_from(payload)
        if family != _socket.AF_INET or state & _NO_MAC:
            continue
        ip = mac = None
        for attribute, value in netlink.attributes(payload, _NDMSG.size):
            if attribute == NDA_DST and len(value) == 4:
                ip = IPv4Address(bytes(value))
            elif attribute == NDA_LLADDR and len(value) == _ETHER_LENGTH:
                mac = format_mac(bytes(value))
        if ip is not None and mac is not None:
            addresses = found.setdefault(mac, [])
            if ip not in addresses:
                addresses.append(ip)
    return {mac: tuple(sorted(ips)) for mac, ips in found.items()}


def read_local_macs() -> frozenset[str]:
    """The Ethernet addresses of every interface of this network namespace (lo's zeros left out).

    Raises ReadError when netlink refuses the dump.
    """
    request = _IFINFOMSG.pack(_socket.AF_UNSPEC, 0, 0, 0, 0)
    request += struct.pack("=HHI", 8, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS)
    macs = set()
    for kind, payload in netlink.dump(RTM_GETLINK, request):
        if kind != RTM_NEWLINK:
            continue
        for attribute, value in netlink.attributes(payload, _IFINFOMSG.size):
            if attribute == IFLA_ADDRESS and len(value) == _ETHER_LENGTH and any(value):
                macs.add(format_mac(bytes(value)))
    return frozenset(macs)
