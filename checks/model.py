"""What the library reads from a host: interfaces, their ARP knobs, and IPv4 addresses."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cached_property
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

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


@dataclass(frozen=True)
class ArpKnobs:
    """Raw arp_ignore and arp_announce of one conf entry (all, default or an interface)."""

    arp_ignore: int
    arp_announce: int

    def get(self, param: str) -> int:
        return self.arp_ignore if param == ARP_IGNORE else self.arp_announce


@dataclass(frozen=True)
class Interface:
    name: str
    flags: int
    knobs: ArpKnobs

    def __post_init__(self) -> None:
        # Keep only the bits ARP depends on, so netlink and /sys reads compare equal.
        object.__setattr__(self, "flags", self.flags & KNOWN_FLAGS)

    @property
    def does_arp(self) -> bool:
        """Only these interfaces receive ARP requests or send them (ARP-SEMANTICS §2)."""
        return not self.flags & (IFF_LOOPBACK | IFF_NOARP)

    @property
    def is_up(self) -> bool:
        return bool(self.flags & IFF_UP)


@dataclass(frozen=True)
class Address:
    """One IPv4 address as netlink reports it: on an interface, with prefix and scope."""

    interface: str
    ip: IPv4Address
    prefixlen: int
    scope: int

    @property
    def network(self) -> IPv4Network:
        return IPv4Interface(f"{self.ip}/{self.prefixlen}").network

    def __str__(self) -> str:
        return f"{self.ip}/{self.prefixlen}"


@dataclass(frozen=True)
class HostState:
    """One consistent read of a host's (or network namespace's) ARP configuration."""

    all: ArpKnobs
    default: ArpKnobs
    interfaces: tuple[Interface, ...]
    addresses: tuple[Address, ...]
    # IPVS virtual service addresses; None when IPVS is not loaded in this namespace.
    virtual_services: tuple[IPv4Address, ...] | None = None

    def addresses_on(self, interface: str) -> tuple[Address, ...]:
        return self._by_interface.get(interface, ())

    def addresses_of(self, ip: IPv4Address) -> tuple[Address, ...]:
        return self._by_ip.get(ip, ())

    @cached_property
    def _by_ip(self) -> dict[IPv4Address, tuple[Address, ...]]:
        index: dict[IPv4Address, list[Address]] = {}
        for address in self.addresses:
            index.setdefault(address.ip, []).append(address)
        return {ip: tuple(found) for ip, found in index.items()}

    @cached_property
    def _by_interface(self) -> dict[str, tuple[Address, ...]]:
        # Built once: policies ask per interface, and hosts have thousands of them.
        index: dict[str, list[Address]] = {}
        for address in self.addresses:
            index.setdefault(address.interface, []).append(address)
        return {name: tuple(found) for name, found in index.items()}
