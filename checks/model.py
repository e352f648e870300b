"""What the library reads from a host: interfaces, their ARP knobs, and IPv4 addresses."""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from .record import TYPE_CHECKING, Record

if TYPE_CHECKING:
    from typing import TypeVar

    from .read.arp_filters import ArpFilters
    from .read.nat_redirect import NatRedirects
    from .read.routes import Route, UnnumberedLink

ARP_IGNORE = "arp_ignore"
ARP_ANNOUNCE = "arp_announce"
PARAMS = (ARP_IGNORE, ARP_ANNOUNCE)

# Bits of /sys/class/net/<iface>/flags (include/uapi/linux/if.h).
IFF_UP = 0x1
IFF_LOOPBACK = 0x8
IFF_NOARP = 0x80
# Netlink adds operational bits (IFF_RUNNING, IFF_LOWER_UP) that /sys does not show.
KNOWN_FLAGS = IFF_UP | IFF_LOOPBACK | IFF_NOARP

# rtm_scope of an address (include/uapi/linux/rtnetlink.h).
SCOPE_HOST = 254


class Role(enum.Enum):
    REALSERVER = "realserver"
    DIRECTOR = "director"
    # A director that is also a real server (two-node keepalived): each VIP is judged by
    # where it sits now, on a LAN interface (MASTER: answer for it) or only on lo (BACKUP).
    BOTH = "both"


class ArpKnobs(Record):
    """Raw arp_ignore and arp_announce of one conf entry (all, default or an interface)."""

    arp_ignore: int
    arp_announce: int

    def get(self, param: str) -> int:
        return self.arp_ignore if param == ARP_IGNORE else self.arp_announce


class Interface(Record):
    """Readers keep only KNOWN_FLAGS, so netlink and /sys reads of a host compare equal."""

    name: str
    flags: int
    knobs: ArpKnobs

    @property
    def does_arp(self) -> bool:
        """Only these interfaces receive ARP requests or send them (ARP-SEMANTICS §2)."""
        return not self.flags & (IFF_LOOPBACK | IFF_NOARP)

    @property
    def is_up(self) -> bool:
        return bool(self.flags & IFF_UP)


class Address(Record):
    """One IPv4 address as netlink reports it: on an interface, with prefix and scope."""

    interface: str
    ip: IPv4Address
    prefixlen: int
    scope: int

    @property
    def network(self) -> IPv4Network:
        return IPv4Interface(f"{self.ip}/{self.prefixlen}").network

    def shares_subnet(self, ip: IPv4Address) -> bool:
        """ip inside this address's subnet, in integer maths: asked per interface per VIP."""
        mask = (0xFFFFFFFF << (32 - self.prefixlen)) & 0xFFFFFFFF
        return (int(ip) ^ int(self.ip)) & mask == 0

    def __str__(self) -> str:
        return f"{self.ip}/{self.prefixlen}"


class _Keep:
    """replace()'s 'leave it as it is', where None is a value of its own."""


KEEP = _Keep()
if TYPE_CHECKING:
    K = TypeVar("K")
    M = TypeVar("M")


def _index(
    addresses: tuple[Address, ...], key: Callable[[Address], K]
) -> dict[K, tuple[Address, ...]]:
    index: dict[K, list[Address]] = {}
    for address in addresses:
        index.setdefault(key(address), []).append(address)
    return {k: tuple(found) for k, found in index.items()}


class HostState:
    """One consistent read of a host's (or network namespace's) ARP configuration.

    A plain class, not a dataclass: importing dataclasses (and inspect, ast, dis with it)
    costs the plugin 5 ms on every NRPE poll. Treat it as immutable; replace() copies.
    """

    __slots__ = (
        "_by_interface",
        "_by_ip",
        "_memo",
        "_unnumbered",
        "addresses",
        "all",
        "arp_filters",
        "default",
        "fwmark_services",
        "interfaces",
        "nat",
        "routes",
        "virtual_services",
    )

    def __init__(
        self,
        all: ArpKnobs,
        default: ArpKnobs,
        interfaces: tuple[Interface, ...],
        addresses: tuple[Address, ...],
        # IPVS virtual service addresses; None when IPVS is not loaded in this namespace.
        virtual_services: tuple[IPv4Address, ...] | None = None,
        # Live only (netlink, firewall tools): None means "not read" (an offline read, or
        # a role for which they cannot matter), never "none there".
        routes: tuple[Route, ...] | None = None,
        arp_filters: ArpFilters | None = None,
        nat: NatRedirects | None = None,
        # IPVS firewall-mark services (`FWM <mark>` in /proc/net/ip_vs): no address of their own.
        fwmark_services: int = 0,
    ) -> None:
        self.all = all
        self.default = default
        self.interfaces = interfaces
        self.addresses = addresses
        self.virtual_services = virtual_services
        self.routes = routes
        self.arp_filters = arp_filters
        self.nat = nat
        self.fwmark_services = fwmark_services
        self._unnumbered: tuple[UnnumberedLink, ...] | None = None
        # Keyed by int: IPv4Address hashes through hex() in Python, and hosts hold thousands.
        self._by_ip: dict[int, tuple[Address, ...]] | None = None
        self._by_interface: dict[str, tuple[Address, ...]] | None = None
        # Verdict parts that depend only on what every view of this host shares (addresses,
        # interface flags, rules): the boot views reuse the running state's (memo()).
        self._memo: dict[object, object] = {}

    def _fields(self) -> tuple[object, ...]:
        return (
            self.all,
            self.default,
            self.interfaces,
            self.addresses,
            self.virtual_services,
            self.routes,
            self.arp_filters,
            self.nat,
            self.fwmark_services,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HostState) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (
            f"HostState(all={self.all!r}, default={self.default!r}, "
            f"interfaces={self.interfaces!r}, addresses={self.addresses!r}, "
            f"virtual_services={self.virtual_services!r}, routes={self.routes!r}, "
            f"arp_filters={self.arp_filters!r}, nat={self.nat!r}, "
            f"fwmark_services={self.fwmark_services!r})"
        )

    def replace(
        self,
        *,
        all: ArpKnobs | None = None,
        default: ArpKnobs | None = None,
        interfaces: tuple[Interface, ...] | None = None,
        virtual_services: tuple[IPv4Address, ...] | _Keep | None = KEEP,
        routes: tuple[Route, ...] | _Keep | None = KEEP,
        arp_filters: ArpFilters | _Keep | None = KEEP,
        nat: NatRedirects | _Keep | None = KEEP,
        fwmark_services: int | None = None,
    ) -> HostState:
        """A copy with the given parts changed; addresses never change between views, so the
        copy shares their indexes."""
        copy = HostState(
            all=self.all if all is None else all,
            default=self.default if default is None else default,
            interfaces=self.interfaces if interfaces is None else interfaces,
            addresses=self.addresses,
            virtual_services=(
                self.virtual_services if isinstance(virtual_services, _Keep) else virtual_services
            ),
            routes=self.routes if isinstance(routes, _Keep) else routes,
            arp_filters=self.arp_filters if isinstance(arp_filters, _Keep) else arp_filters,
            nat=self.nat if isinstance(nat, _Keep) else nat,
            fwmark_services=self.fwmark_services if fwmark_services is None else fwmark_services,
        )
        copy._by_ip = self._by_ip
        copy._by_interface = self._by_interface
        if interfaces is None or _same_flags(interfaces, self.interfaces):
            copy._memo = self._memo
        if interfaces is None and isinstance(routes, _Keep):
            copy._unnumbered = self._unnumbered
        return copy

    def unnumbered_links(self) -> tuple[UnnumberedLink, ...]:
        """ARP interfaces without an IPv4 address that routes lead through (read/routes.py);
        () when routes were not read. Worked out once per state: the fix asks per knob."""
        if self.routes is None:
            return ()
        if self._unnumbered is None:
            from .read.routes import unnumbered_interfaces

            self._unnumbered = unnumbered_interfaces(self.interfaces, self.addresses, self.routes)
        return self._unnumbered

    def memo(self, key: Hashable, compute: Callable[[], M]) -> M:
        """compute(), once for this host and its views with the same interfaces and flags.

        *key* must name everything compute() reads besides addresses, flags and rules (the
        VIPs, say); the knobs, which the views change, must not be read.
        """
        try:
            return self._memo[key]  # type: ignore[return-value]
        except KeyError:
            value = self._memo[key] = compute()
            return value

    def addresses_on(self, interface: str) -> tuple[Address, ...]:
        if self._by_interface is None:
            # Built once: policies ask per interface, and hosts have thousands of them.
            self._by_interface = _index(self.addresses, lambda a: a.interface)
        return self._by_interface.get(interface, ())

    def addresses_of(self, ip: IPv4Address) -> tuple[Address, ...]:
        if self._by_ip is None:
            self._by_ip = _index(self.addresses, lambda a: int(a.ip))
        return self._by_ip.get(int(ip), ())


def _same_flags(one: tuple[Interface, ...], other: tuple[Interface, ...]) -> bool:
    return len(one) == len(other) and all(
        a.name == b.name and a.flags == b.flags for a, b in zip(one, other, strict=True)
    )
