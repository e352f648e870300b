"""Addresses from a saved `ip -json address` (iproute2) output, for checking a host offline."""

from __future__ import annotations

import json
from ipaddress import AddressValueError, IPv4Address
from typing import Any

from ..errors import ReadError
from ..model import Address

# iproute2 prints scope names; netlink carries numbers (/etc/iproute2/rt_scopes).
_SCOPES = {"global": 0, "universe": 0, "site": 200, "link": 253, "host": 254, "nowhere": 255}


def read_ip_json(path: str) -> tuple[Address, ...]:
    try:
        with open(path, encoding="utf-8") as handle:
            links = json.load(handle)
    except (OSError, ValueError) as err:
        raise ReadError(f"cannot read addresses from {path}: {err}") from err
    if not isinstance(links, list):
        raise ReadError(f"{path} is not `ip -json address` output (expected a list)")
    try:
        return tuple(address for link in links for address in _link_addresses(link))
    except (AttributeError, KeyError, TypeError, ValueError, AddressValueError) as err:
        raise ReadError(f"{path}: unexpected `ip -json address` entry: {err}") from err


def _link_addresses(link: dict[str, Any]) -> list[Address]:
    found = []
    for info in link.get("addr_info", []):
        if info.get("family") != "inet":
            continue
        scope = info.get("scope", "global")
        found.append(
            Address(
                interface=str(link["ifname"]),
                ip=IPv4Address(info["local"]),
                prefixlen=_prefixlen(info["prefixlen"]),
                scope=_SCOPES[scope] if isinstance(scope, str) else int(scope),
            )
        )
    return found


def _prefixlen(value: object) -> int:
    prefixlen = int(str(value))
    if not 0 <= prefixlen <= 32:
        raise ValueError(f"prefixlen {prefixlen} is not 0-32")
    return prefixlen
