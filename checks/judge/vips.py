"""Which addresses are the VIPs, and where a VIP sits on this host."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import AddressValueError, IPv4Address, IPv4Network

from ..errors import ConfigError
from ..model import SCOPE_HOST, Address, HostState

_LOOPBACK_NET = IPv4Network("127.0.0.0/8")


def parse_vips(texts: Iterable[str]) -> tuple[IPv4Address, ...]:
    vips = []
    for text in texts:
        try:
            vips.append(IPv4Address(text.strip()))
        except (AddressValueError, ValueError) as err:
            raise ConfigError(f"--vip {text!r} is not an IPv4 address: {err}") from err
    return tuple(dict.fromkeys(vips))


def discover_realserver_vips(state: HostState) -> tuple[IPv4Address, ...]:
    """A real server's VIPs live on lo or a NOARP interface; 127/8 is loopback, not a VIP."""
    no_arp = {i.name for i in state.interfaces if not i.does_arp}
    found = (a.ip for a in state.addresses if a.interface in no_arp and a.ip not in _LOOPBACK_NET)
    return tuple(dict.fromkeys(found))


def is_scope_host(state: HostState, vip: IPv4Address) -> bool:
    """arp_ignore=3 hides a VIP only when every copy of it was added with `scope host`."""
    placed = state.addresses_of(vip)
    return bool(placed) and all(a.scope == SCOPE_HOST for a in placed)


class SubnetIndex:
    """Which tags (a caller's indexes) have an address whose subnet holds an IP.

    Looked up per IP, never per pair: building is linear in addresses, and a lookup costs
    one dict probe per distinct prefix length present (at most 33), so N VIPs against M
    interfaces cost O(N + M), not O(N * M).
    """

    def __init__(self) -> None:
        self._by_prefix: dict[int, dict[int, list[int]]] = {}

    def add(self, address: Address, tag: int) -> None:
        networks = self._by_prefix.setdefault(address.prefixlen, {})
        networks.setdefault(int(address.ip) & _mask(address.prefixlen), []).append(tag)

    def buckets(self, ip: IPv4Address) -> list[list[int]]:
        """The tag lists of every indexed subnet holding *ip*; the same list object each time,
        so a caller can handle a subnet once however many IPs it holds."""
        value = int(ip)
        found = []
        for prefixlen, networks in self._by_prefix.items():
            bucket = networks.get(value & _mask(prefixlen))
            if bucket is not None:
                found.append(bucket)
        return found


def _mask(prefixlen: int) -> int:
    return (0xFFFFFFFF << (32 - prefixlen)) & 0xFFFFFFFF


def vips_key(vips: Sequence[IPv4Address]) -> tuple[int, ...]:
    """The VIPs as a memo key: IPv4Address hashes through hex(), an int does not. The
    running state and its boot views are judged with the same sequence: made once for it."""
    global _last_key
    seen, key = _last_key  # one read of an immutable pair: safe beside other threads
    if seen is not vips:
        key = tuple(int(vip) for vip in vips)
        _last_key = (vips, key)
    return key


# The last sequence vips_key() saw (held, so its identity cannot be reused) and its key.
_last_key: tuple[object, tuple[int, ...]] = (None, ())
