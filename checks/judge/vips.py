"""Which addresses are the VIPs, and where a VIP sits on this host."""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import AddressValueError, IPv4Address, IPv4Network

from ..errors import ConfigError
from ..model import SCOPE_HOST, HostState

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
