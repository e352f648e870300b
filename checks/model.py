"""What the library reads from a host: interfaces, their ARP knobs, and IPv4 addresses."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cached_property
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import NamedTuple

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


class ArpKnobs(NamedTuple):
    """Raw arp_ignore and arp_announce of one conf entry (all, default or an interface)."""

    arp_ignore: int
    arp_announce: int

    def get(self, param: str) -> int:
        return self.arp_ignore if param == ARP_IGNORE else self.arp_announce


class Interface(NamedTuple):
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


class Address(NamedTuple):
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
