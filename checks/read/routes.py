"""IPv4 routes of the reader's network namespace, and what they say about ARP neighbours.

Two layouts depend on routes (ARP-SEMANTICS §3, §12):
- arp_ignore 2 answers only askers inside the subnet of the asked address on the receiving
  interface, so a neighbour reached through an `onlink` gateway or an on-link route to another
  subnet gets no ARP answer for the node's own address: offlink_neighbours() finds them.
- an ARP interface with no IPv4 address of its own (a point-to-point veth to a pod) answers
  ARP for the host only while its effective arp_ignore is 0: unnumbered_interfaces().

Routes are live only: there is no file a --proc-root tree could hold them in. Callers that
read a host from files do not call read_routes() and must say that routes were not read.
"""

from __future__ import annotations

import _socket
import struct
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network

from ..errors import ReadError
from ..model import Address, Interface
from ..record import Record
from . import netlink

RTM_NEWROUTE = 24
RTM_GETROUTE = 26
# include/uapi/linux/rtnetlink.h
RTA_DST = 1
RTA_OIF = 4
RTA_GATEWAY = 5
RTA_MULTIPATH = 9
RTA_TABLE = 15
RTN_UNICAST = 1
RTN_LOCAL = 2
RTNH_F_ONLINK = 4
RT_SCOPE_UNIVERSE = 0
RT_SCOPE_LINK = 253
RT_SCOPE_HOST = 254
RT_TABLE_MAIN = 254
RT_TABLE_LOCAL = 255

_RTMSG = struct.Struct(
    "=BBBBBBBBI"
)  # family, dst_len, src_len, tos, table, proto, scope, type, flags
_RTNEXTHOP = struct.Struct("=HBBi")  # len, flags, hops, ifindex
_U32 = struct.Struct("=I")


class Route(Record):
    """One IPv4 route (one next hop of a multipath route), as `ip route show table all` lists it.

    interface is the output interface's name at read time (`if<index>` if it vanished);
    gateway is None for a direct route; onlink is RTNH_F_ONLINK (`... onlink`: the gateway
    is taken to be on the link whatever the interface's subnets say); scope and type are the
    kernel's numbers (RT_SCOPE_LINK 253, RTN_UNICAST 1, RTN_LOCAL 2); table 254 is main.
    """

    destination: IPv4Network
    interface: str
    ifindex: int
    gateway: IPv4Address | None
    onlink: bool
    scope: int
    type: int
    table: int

    @property
    def is_unicast(self) -> bool:
        return self.type == RTN_UNICAST

    def __str__(self) -> str:
        via = f" via {self.gateway}" if self.gateway is not None else ""
        onlink = " onlink" if self.onlink else ""
        scope = " scope link" if self.scope == RT_SCOPE_LINK else ""
        local = "local " if self.type == RTN_LOCAL else ""
        return f"{local}{self.destination}{via} dev {self.interface}{scope}{onlink}"


def read_routes() -> tuple[Route, ...]:
    """Every IPv4 unicast route of every table of the reader's namespace, in one dump.

    Only unicast routes with an output interface can lead to an ARP neighbour: local routes
    (one per address of the node: thousands on a kube-proxy node), blackhole, unreachable,
    broadcast and friends are passed over from the message header, before any attribute is
    parsed. Raises ReadError when netlink fails.
    """
    names = _InterfaceNames()
    request = _RTMSG.pack(_socket.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0)
    found: list[Route] = []
    for kind, payload in netlink.dump(RTM_GETROUTE, request):
        if kind == RTM_NEWROUTE:
            found.extend(_parse_route(payload, names))
    return tuple(found)


class _InterfaceNames(dict[int, str]):
    """Index -> name, asked per index a route names (if_indextoname): listing every
    interface (if_nameindex) costs 10 ms on a host with a thousand of them."""

    def __missing__(self, index: int) -> str:
        try:
            name = _socket.if_indextoname(index)
        except OSError:
            name = f"if{index}"  # gone since the dump: the route names it all the same
        self[index] = name
        return name


def _parse_route(payload: memoryview, names: dict[int, str]) -> list[Route]:
    family, dst_len, _src, _tos, table, _proto, scope, kind, flags = _RTMSG.unpack_from(payload)
    if family != _socket.AF_INET or kind != RTN_UNICAST:
        return []
    destination = IPv4Address(0)
    oif = 0
    gateway = None
    hops: list[tuple[int, IPv4Address | None, int]] = []
    for attribute, value in netlink.attributes(payload, _RTMSG.size):
        if attribute == RTA_DST:
            destination = IPv4Address(bytes(value))
        elif attribute == RTA_OIF:
            oif = _U32.unpack_from(value)[0]
        elif attribute == RTA_GATEWAY:
            gateway = IPv4Address(bytes(value))
        elif attribute == RTA_TABLE:
            table = _U32.unpack_from(value)[0]  # rtm_table holds only the low 8 bits
        elif attribute == RTA_MULTIPATH:
            hops = list(_next_hops(value))
    if not hops:
        hops = [(oif, gateway, flags)]
    network = IPv4Network((int(destination), dst_len), strict=False)
    return [
        Route(
            network,
            names[index],
            index,
            via,
            bool(hop_flags & RTNH_F_ONLINK),
            scope,
            kind,
            table,
        )
        for index, via, hop_flags in hops
        if index
    ]


def _next_hops(value: memoryview) -> Iterable[tuple[int, IPv4Address | None, int]]:
    offset = 0
    while offset + _RTNEXTHOP.size <= len(value):
        length, flags, _hops, ifindex = _RTNEXTHOP.unpack_from(value, offset)
        if length < _RTNEXTHOP.size:
            raise ReadError(f"netlink RTA_MULTIPATH holds a malformed next hop (length {length})")
        gateway = None
        nested = value[offset + _RTNEXTHOP.size : offset + length]
        for attribute, data in netlink.attributes(nested):
            if attribute == RTA_GATEWAY:
                gateway = IPv4Address(bytes(data))
        yield ifindex, gateway, flags
        offset += (length + 3) & ~3


class OfflinkNeighbour(Record):
    """A neighbour an interface's routes put on its wire, outside all of its subnets.

    neighbours is the gateway (as a /32) or the destination of a direct on-link route;
    arp_ignore 2 on *interface* leaves these askers without an ARP answer for the node's
    own address (ARP-SEMANTICS §3: inet_confirm_addr needs the asker in the target's subnet).
    """

    interface: str
    neighbours: IPv4Network
    route: Route

    def __str__(self) -> str:
        return f"{self.neighbours} on {self.interface} (route {self.route})"


def offlink_neighbours(
    routes: Iterable[Route], addresses: Iterable[Address]
) -> dict[str, tuple[OfflinkNeighbour, ...]]:
    """Per interface, the on-link neighbours no subnet of that interface's addresses holds.

    *addresses* are the host's IPv4 addresses (HostState.addresses). Only unicast routes
    count: a gateway (whether marked onlink or reachable through a scope-link route) or a
    direct route of scope link. Interfaces with no address at all are unnumbered and are
    left to unnumbered_interfaces(). A route wider than every subnet (10.0.0.0/8 on a /24)
    counts: part of it lies outside.
    """
    subnets: dict[str, list[IPv4Network]] = {}
    for address in addresses:
        subnets.setdefault(address.interface, []).append(address.network)
    found: dict[str, list[OfflinkNeighbour]] = {}
    for route in routes:
        own = subnets.get(route.interface)
        if not route.is_unicast or not own:
            continue
        if route.gateway is not None:
            neighbours = IPv4Network(route.gateway)
        elif route.scope == RT_SCOPE_LINK:
            neighbours = route.destination
        else:
            continue
        if not any(neighbours.subnet_of(subnet) for subnet in own):
            found.setdefault(route.interface, []).append(
                OfflinkNeighbour(route.interface, neighbours, route)
            )
    return {name: tuple(evidence) for name, evidence in found.items()}


class UnnumberedLink(Record):
    """An ARP interface with no IPv4 address of its own that routes lead through."""

    interface: str
    routes: tuple[Route, ...]

    def __str__(self) -> str:
        shown = ", ".join(str(route.destination) for route in self.routes[:3])
        more = f" and {len(self.routes) - 3} more" if len(self.routes) > 3 else ""
        return f"{self.interface} (no IPv4 address; routes {shown}{more})"


def unnumbered_interfaces(
    interfaces: Iterable[Interface], addresses: Iterable[Address], routes: Iterable[Route]
) -> tuple[UnnumberedLink, ...]:
    """ARP-capable interfaces without an IPv4 address but with unicast routes through them.

    The peer on such a link resolves the host's addresses by ARP on it, and the host answers
    only while the link's effective arp_ignore is 0 (ARP-SEMANTICS §12, kubernetes#71555).
    """
    numbered = {address.interface for address in addresses}
    candidates = {i.name for i in interfaces if i.does_arp and i.name not in numbered}
    through: dict[str, list[Route]] = {}
    for route in routes:
        if route.is_unicast and route.interface in candidates:
            through.setdefault(route.interface, []).append(route)
    return tuple(UnnumberedLink(name, tuple(found)) for name, found in sorted(through.items()))
