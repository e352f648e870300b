"""Real servers from /proc/net/ip_vs: who the director forwards to, so the ARP probe can name them.

`/proc/net/ip_vs` (net/netfilter/ipvs/ip_vs_ctl.c, ip_vs_info_seq_show) prints each virtual
service, then its destinations on `  -> ` lines, addresses as host-order hex:

    TCP  C0000264:0050 rr
      -> C000020B:0050      Route   1      0          0
    FWM  00000001 wlc
      -> C000020C:0000      Route   1      0          0

IPv6 entries print `[addr]:PORT`; they are left out (ARP is IPv4 only).
"""

from __future__ import annotations

import os
from ipaddress import IPv4Address

from ..errors import ReadError
from ..record import Record

_SERVICE_PROTOCOLS = ("TCP", "UDP", "SCTP")
_FIREWALL_MARK = "FWM"


class Destination(Record):
    """One real server of one virtual service; vip is None for a firewall-mark service."""

    protocol: str  # TCP, UDP, SCTP or FWM
    vip: IPv4Address | None
    port: int  # the service's port, or its firewall mark for FWM
    rip: IPv4Address
    rip_port: int
    forward: str  # Route (direct routing), Masq, Tunnel, Local


def read_destinations(proc_root: str = "/proc") -> tuple[Destination, ...] | None:
    """Every IPv4 real server in /proc/net/ip_vs; None when IPVS is not loaded in this namespace.

    Raises ReadError when the file exists but cannot be read or parsed.
    """
    path = os.path.join(proc_root, "net", "ip_vs")
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ReadError(f"cannot read {path}: {err.strerror}") from err
    return parse_destinations(text, path)


def parse_destinations(text: str, path: str) -> tuple[Destination, ...]:
    """Parse the text of /proc/net/ip_vs; *path* names it in errors."""
    found: list[Destination] = []
    service: tuple[str, IPv4Address | None, int] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if fields[0] in _SERVICE_PROTOCOLS or fields[0] == _FIREWALL_MARK:
            service = _service(fields, path, number)
        elif fields[0] == "->" and len(fields) >= 3 and service is not None:
            if fields[1].startswith("["):
                continue  # an IPv6 real server
            rip, rip_port = _hex_endpoint(fields[1], path, number)
            found.append(Destination(*service, rip, rip_port, fields[2]))
    return tuple(found)


def real_server_addresses(destinations: tuple[Destination, ...]) -> frozenset[IPv4Address]:
    """The RIPs of every virtual service: a real server of any VIP is a real server."""
    return frozenset(destination.rip for destination in destinations)


def _service(
    fields: list[str], path: str, number: int
) -> tuple[str, IPv4Address | None, int] | None:
    if len(fields) < 2 or fields[1].startswith("["):
        return None  # an IPv6 virtual service: its destinations are skipped with it
    if fields[0] == _FIREWALL_MARK:
        return _FIREWALL_MARK, None, _hex(fields[1], path, number)
    vip, port = _hex_endpoint(fields[1], path, number)
    return fields[0], vip, port


def _hex_endpoint(text: str, path: str, number: int) -> tuple[IPv4Address, int]:
    address, _, port = text.rpartition(":")
    if not address:
        raise ReadError(f"{path}:{number}: cannot parse address {text!r} (want HEXIP:HEXPORT)")
    try:
        ip = IPv4Address(_hex(address, path, number))
    except ValueError as err:  # more than 8 hex digits
        raise ReadError(f"{path}:{number}: {address!r} is not an IPv4 address") from err
    return ip, _hex(port, path, number)


def _hex(text: str, path: str, number: int) -> int:
    try:
        return int(text, 16)
    except ValueError as err:
        raise ReadError(f"{path}:{number}: cannot parse {text!r} as hex") from err
