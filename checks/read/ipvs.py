"""Virtual services from /proc/net/ip_vs: a node that has them behaves as a director."""

from __future__ import annotations

import os
from ipaddress import IPv4Address

from ..errors import ReadError

_PROTOCOLS = ("TCP", "UDP", "SCTP")


def read_virtual_addresses(proc_root: str = "/proc") -> tuple[IPv4Address, ...] | None:
    """IPv4 addresses of the virtual services; None when IPVS is not loaded in this namespace."""
    path = os.path.join(proc_root, "net", "ip_vs")
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ReadError(f"cannot read {path}: {err.strerror}") from err
    return parse_ip_vs(text, path)


def parse_ip_vs(text: str, path: str) -> tuple[IPv4Address, ...]:
    """Lines like `TCP  C0000264:0050 rr`: the address is hex, host order as printed."""
    found = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2 or fields[0] not in _PROTOCOLS:
            continue
        address = fields[1].rsplit(":", 1)[0]
        if address.startswith("["):
            continue  # IPv6: neighbour discovery has no ARP knobs to check (ARP-SEMANTICS §10)
        try:
            found.append(IPv4Address(int(address, 16)))
        except ValueError as err:
            raise ReadError(f"{path}: cannot parse virtual service {fields[1]!r}") from err
    return tuple(dict.fromkeys(found))
