"""Virtual services from /proc/net/ip_vs: a node that has them behaves as a director."""

from __future__ import annotations

import os
import re
from ipaddress import IPv4Address

from ..errors import ReadError
from ..record import Record
from .files import read_bounded

# ip_vs_info_seq_show() prints ~25 bytes per service and ~55 per real server: 100,000
# services with 10 real servers each are 62 MiB. 256 MiB leaves room for 40 each, and
# bounds what a runaway or fake file can cost before -t strikes.
IP_VS_CAP = 256 << 20
# A service line starts in column 0 (real servers are indented "  -> ..."): protocol and
# address, or FWM and the firewall mark in hex.
_SERVICE = re.compile(r"^(TCP|UDP|SCTP|FWM)[ \t]+(\S+)", re.MULTILINE)


class VirtualServices(Record):
    """What IPVS balances here: IPv4 addresses of address services, and firewall marks.

    A fwmark service (`ipvsadm -A -f MARK`) has no address of its own: its VIPs are
    whatever the firewall marks, so they are not listed here. IPv6 services are skipped
    (neighbour discovery has no ARP knobs, ARP-SEMANTICS §10).
    """

    addresses: tuple[IPv4Address, ...]
    fwmarks: tuple[int, ...]

    def __bool__(self) -> bool:
        return bool(self.addresses or self.fwmarks)


def read_virtual_services(proc_root: str = "/proc") -> VirtualServices | None:
    """Every virtual service in <proc_root>/net/ip_vs; None when IPVS is not loaded.

    ReadError names the file when it cannot be read, exceeds IP_VS_CAP or holds a
    service line that cannot be parsed.
    """
    path = os.path.join(proc_root, "net", "ip_vs")
    try:
        with open(path, "rb") as handle:
            data = read_bounded(handle, path, IP_VS_CAP)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ReadError(f"cannot read {path}: {err.strerror}") from err
    return parse_virtual_services(data.decode("ascii", "replace"), path)


def parse_virtual_services(text: str, path: str) -> VirtualServices:
    """Service lines of /proc/net/ip_vs text; real-server lines and headers are skipped."""
    addresses: list[IPv4Address] = []
    fwmarks: list[int] = []
    for match in _SERVICE.finditer(text):
        protocol, field = match.groups()
        if protocol == "FWM":
            fwmarks.append(_hex(field, 0xFFFFFFFF, path))
            continue
        address = field.rsplit(":", 1)[0]
        if address.startswith("["):
            continue  # IPv6: neighbour discovery has no ARP knobs to check (ARP-SEMANTICS §10)
        addresses.append(IPv4Address(_hex(address, 0xFFFFFFFF, path, field)))
    return VirtualServices(tuple(dict.fromkeys(addresses)), tuple(dict.fromkeys(fwmarks)))


def _hex(text: str, largest: int, path: str, shown: str | None = None) -> int:
    # The kernel prints %08X: up to 8 hex digits, nothing else.
    if not 0 < len(text) <= 8 or text.strip("0123456789abcdefABCDEF"):
        raise ReadError(f"{path}: cannot parse virtual service {shown or text!r}")
    value = int(text, 16)
    if value > largest:
        raise ReadError(f"{path}: cannot parse virtual service {shown or text!r}")
    return value
