"""Read a live host through rtnetlink: every interface's ARP knobs and flags in one dump.

RTM_GETLINK carries each interface's IPv4 devconf (IFLA_INET_CONF), the same values
/proc/sys/net/ipv4/conf/<iface>/ shows, so 2,000 interfaces cost one dump instead of
6,000 file reads. conf/all and conf/default are not interfaces: they come from /proc.
"""

from __future__ import annotations

import _socket
import struct
from collections.abc import Iterator
from ipaddress import IPv4Address

from ..errors import ReadError
from ..model import KNOWN_FLAGS, Address, ArpKnobs, HostState, Interface
from . import netlink
from .files import read_knobs

RTM_NEWLINK = 16
RTM_GETLINK = 18
RTM_NEWADDR = 20
RTM_GETADDR = 22
IFLA_IFNAME = 3
IFLA_EXT_MASK = 29
IFLA_AF_SPEC = 26
IFLA_INET_CONF = 1
IFA_LOCAL = 2
RTEXT_FILTER_SKIP_STATS = 1 << 3

# IPV4_DEVCONF_* are 1-based; IFLA_INET_CONF is the 0-based array of them.
_DEVCONF_ARP_ANNOUNCE = 18
_DEVCONF_ARP_IGNORE = 19
_INT32 = struct.Struct("=i")
# ARP_ANNOUNCE and ARP_IGNORE sit side by side in the devconf array.
_ANNOUNCE_THEN_IGNORE = struct.Struct("=ii")
_ANNOUNCE_OFFSET = (_DEVCONF_ARP_ANNOUNCE - 1) * _INT32.size
_ATTR_HEADER = struct.Struct("=HH")
_TYPE_MASK = 0x3FFF  # without NLA_F_NESTED / NLA_F_NET_BYTEORDER
_IFINFOMSG = struct.Struct("=BxHiII")  # family, type, index, flags, change
_IFADDRMSG = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index


def read_live_host(proc_root: str = "/proc") -> HostState:
    """Read the reader's network namespace: conf/all and conf/default, links, addresses."""
    interfaces = _read_links()
    names = {index: interface.name for index, interface in interfaces.items()}
    return HostState(
        all=read_knobs(proc_root, "all"),
        default=read_knobs(proc_root, "default"),
        interfaces=tuple(interfaces.values()),
        addresses=tuple(_read_addresses(names)),
    )


def _read_links() -> dict[int, Interface]:
    parser = LinkParser()
    links: dict[int, Interface] = {}
    for message in link_messages():
        link = parser.parse(message)
        if link is not None:
            links[link[0]] = link[1]
    return links


def link_messages() -> Iterator[bytes]:
    """Every RTM_NEWLINK payload of the reader's namespace, without statistics."""
    request = _IFINFOMSG.pack(_socket.AF_UNSPEC, 0, 0, 0, 0)
    request += struct.pack("=HHI", 8, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS)
    for kind, payload in netlink.dump(RTM_GETLINK, request):
        if kind == RTM_NEWLINK:
            yield bytes(payload)


def address_messages() -> Iterator[memoryview]:
    """Every IPv4 RTM_NEWADDR payload of the reader's namespace."""
    request = _IFADDRMSG.pack(_socket.AF_INET, 0, 0, 0, 0)
    for kind, payload in netlink.dump(RTM_GETADDR, request):
        if kind == RTM_NEWADDR:
            yield payload


class LinkParser:
    """Finds IFLA_IFNAME and the AF_INET devconf in RTM_NEWLINK messages.

    A link carries ~45 attributes and only two matter. Walking them all in Python costs
    more than the dump itself at 2,000 interfaces, so after one full walk the parser
    remembers the 8 header bytes that open the AF_INET devconf and finds them with
    bytes.find, checking that they sit at the start of IFLA_AF_SPEC; anything else falls
    back to the full walk.
    """

    def __init__(self) -> None:
        self.inet_header: bytes | None = None

    def parse(self, message: bytes) -> tuple[int, Interface] | None:
        _family, _type, index, flags, _change = _IFINFOMSG.unpack_from(message)
        found = self.fast(message) or self.walk(message)
        # No AF_INET devconf means no in_device: no /proc conf dir and no IPv4 ARP at all.
        if found is None:
            return None
        name, knobs = found
        return index, Interface(name, flags & KNOWN_FLAGS, knobs)

    def fast(self, message: bytes) -> tuple[str, ArpKnobs] | None:
        """Name and knobs by the learned header; None sends the message to walk()."""
        # Runs once per interface: plain bytes slicing, no memoryview or helper calls.
        header = self.inet_header
        if header is None:
            return None
        name_length, first = _ATTR_HEADER.unpack_from(message, _IFINFOMSG.size)
        at = message.rfind(header)
        # rtnl_fill_ifinfo() writes IFLA_IFNAME first; the devconf must open IFLA_AF_SPEC.
        if first != IFLA_IFNAME or at < _IFINFOMSG.size + 4:
            return None
        if _ATTR_HEADER.unpack_from(message, at - 4)[1] & _TYPE_MASK != IFLA_AF_SPEC:
            return None
        name = message[_IFINFOMSG.size + 4 : _IFINFOMSG.size + name_length]
        # The learned header fixes IFLA_INET_CONF's length, which walk() checked holds both.
        announce, ignore = _ANNOUNCE_THEN_IGNORE.unpack_from(message, at + 8 + _ANNOUNCE_OFFSET)
        return name.rstrip(b"\0").decode("utf-8", "surrogateescape"), ArpKnobs(ignore, announce)

    def walk(self, message: bytes) -> tuple[str, ArpKnobs] | None:
        """Name and knobs by walking every attribute; learns the header fast() looks for."""
        view = memoryview(message)
        name = None
        knobs = None
        for kind, value in netlink.attributes(view, _IFINFOMSG.size):
            if kind == IFLA_IFNAME:
                name = _decode_name(value)
            elif kind == IFLA_AF_SPEC:
                knobs = self._inet_knobs(value)
        return None if name is None or knobs is None else (name, knobs)

    def _inet_knobs(self, af_spec: memoryview) -> ArpKnobs | None:
        for position, (family, nested) in enumerate(netlink.attributes(af_spec)):
            if family != _socket.AF_INET:
                continue
            for kind, conf in netlink.attributes(nested):
                if kind == IFLA_INET_CONF:
                    if position == 0:
                        # The AF_INET nest header and the IFLA_INET_CONF header that follows.
                        self.inet_header = bytes(af_spec[:4]) + bytes(nested[:4])
                    return _knobs(conf)
        return None


def _decode_name(value: memoryview) -> str:
    return bytes(value).rstrip(b"\0").decode("utf-8", "surrogateescape")


def _knobs(conf: memoryview) -> ArpKnobs:
    return ArpKnobs(
        arp_ignore=_devconf(conf, _DEVCONF_ARP_IGNORE),
        arp_announce=_devconf(conf, _DEVCONF_ARP_ANNOUNCE),
    )


def _devconf(conf: memoryview, attribute: int) -> int:
    offset = (attribute - 1) * _INT32.size
    if offset + _INT32.size > len(conf):
        raise ReadError(f"netlink IFLA_INET_CONF has no entry {attribute}: kernel too old?")
    return int(_INT32.unpack_from(conf, offset)[0])


def _read_addresses(names: dict[int, str]) -> list[Address]:
    found = []
    for payload in address_messages():
        family, prefixlen, _flags, scope, index = _IFADDRMSG.unpack_from(payload)
        if family != _socket.AF_INET or index not in names:
            continue
        local = address_fast(payload) or address_walk(payload)
        if local is not None:
            found.append(Address(names[index], IPv4Address(local), prefixlen, scope))
    return found


# inet_fill_ifaddr() writes IFA_ADDRESS, then IFA_LOCAL, 4 bytes each, right after the
# ifaddrmsg: a kube-proxy node has thousands of addresses, and the walk costs 6 us each.
_LOCAL_AT = _IFADDRMSG.size + 8
_LOCAL_HEADER = _ATTR_HEADER.pack(8, IFA_LOCAL)
_ADDRESS_HEADER = _ATTR_HEADER.pack(8, 1)  # IFA_ADDRESS


def address_fast(payload: memoryview) -> bytes | None:
    """IFA_LOCAL where the kernel puts it; None sends the message to address_walk()."""
    if (
        payload[_IFADDRMSG.size : _IFADDRMSG.size + 4] == _ADDRESS_HEADER
        and payload[_LOCAL_AT : _LOCAL_AT + 4] == _LOCAL_HEADER
    ):
        return bytes(payload[_LOCAL_AT + 4 : _LOCAL_AT + 8])
    return None


def address_walk(payload: memoryview) -> bytes | None:
    """IFA_LOCAL by walking every attribute: the node's own address (IFA_ADDRESS is the
    peer on point-to-point links); None when the message has none."""
    for attribute, value in netlink.attributes(payload, _IFADDRMSG.size):
        if attribute == IFA_LOCAL and len(value) == 4:
            return bytes(value)
    return None


def read_live_addresses() -> tuple[Address, ...]:
    """IPv4 addresses of the reader's namespace, for a host whose knobs come from files."""
    try:
        names = dict(_socket.if_nameindex())
    except OSError as err:
        raise ReadError(f"cannot list network interfaces: {err}") from err
    return tuple(_read_addresses(names))
