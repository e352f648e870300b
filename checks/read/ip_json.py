"""Addresses from a saved `ip -json address` (iproute2) output, for checking a host offline.

The file is input from elsewhere, so every way it can be wrong is a ReadError that names
it and the entry: not a regular file (a FIFO would hang the check), too large, not JSON,
nested too deep, numbers too large, fields of the wrong type or out of range.
"""

from __future__ import annotations

import json
import os
import stat
from ipaddress import AddressValueError, IPv4Address

from ..errors import ReadError
from ..model import Address
from .files import read_bounded

# iproute2 prints ~150 bytes per IPv4 address: 100,000 VIPs on lo are 15 MiB. 64 MiB fits
# 400,000, and keeps json.loads (about ten times the text in objects) within memory.
IP_JSON_CAP = 64 << 20
# iproute2 prints scope names; netlink carries numbers (/etc/iproute2/rt_scopes).
_SCOPES = {"global": 0, "universe": 0, "site": 200, "link": 253, "host": 254, "nowhere": 255}


class _Malformed(Exception):
    """One entry's problem; read_ip_json adds the file and the entry's position."""


def read_ip_json(path: str) -> tuple[Address, ...]:
    """IPv4 addresses in *path*, as Address records in file order.

    ReadError names *path*: unreadable, not a regular file, over IP_JSON_CAP bytes, not
    JSON, or an entry that `ip -json address` would not print.
    """
    links = _load(path)
    if not isinstance(links, list):
        raise ReadError(f"{path} is not `ip -json address` output (expected a list of links)")
    found: list[Address] = []
    for number, link in enumerate(links, start=1):
        try:
            found.extend(_link_addresses(link))
        except _Malformed as err:
            raise ReadError(
                f"{path}: link {number} is not `ip -json address` output: {err}"
            ) from None
    return tuple(found)


def _load(path: str) -> object:
    # O_NONBLOCK: opening a FIFO must not wait for a writer; only regular files are read.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        raise ReadError(f"cannot read addresses from {path}: {err.strerror}") from err
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ReadError(
                f"{path} is not a regular file: save `ip -json address` output to a file"
            )
        if info.st_size > IP_JSON_CAP:
            raise ReadError(f"{path} is larger than {IP_JSON_CAP >> 20} MiB: is it the right file?")
        try:
            data = read_bounded(handle, path, IP_JSON_CAP)
        except OSError as err:
            raise ReadError(f"cannot read addresses from {path}: {err.strerror}") from err
    try:
        # iproute2 prints interface names as raw bytes (only '"' and '\\' escaped): a name
        # that is not UTF-8 comes as surrogate escapes, as the netlink reader hands it on.
        return json.loads(data.decode("utf-8", "surrogateescape"))
    except RecursionError:
        raise ReadError(f"{path} is nested too deeply to be `ip -json address` output") from None
    except ValueError as err:  # also ints past 4,300 digits
        raise ReadError(f"cannot read addresses from {path}: {err}") from None


def _link_addresses(link: object) -> list[Address]:
    if not isinstance(link, dict):
        raise _Malformed(f"expected an object, found {_kind(link)}")
    name = link.get("ifname")
    if not isinstance(name, str) or not name:
        raise _Malformed(f"ifname is {_kind(name)}, not an interface name")
    entries = link.get("addr_info", [])
    if not isinstance(entries, list):
        raise _Malformed(f"{name}: addr_info is {_kind(entries)}, not a list")
    found = []
    for info in entries:
        if not isinstance(info, dict):
            raise _Malformed(f"{name}: an addr_info entry is {_kind(info)}, not an object")
        if info.get("family") == "inet":
            found.append(
                Address(
                    interface=name,
                    ip=_ipv4(info.get("local"), name),
                    prefixlen=_prefixlen(info.get("prefixlen"), name),
                    scope=_scope(info.get("scope", "global"), name),
                )
            )
    return found


def _ipv4(value: object, name: str) -> IPv4Address:
    if not isinstance(value, str):
        raise _Malformed(f"{name}: local is {_kind(value)}, not an IPv4 address")
    try:
        return IPv4Address(value)
    except (AddressValueError, ValueError):
        raise _Malformed(f"{name}: local {value[:45]!r} is not an IPv4 address") from None


def _prefixlen(value: object, name: str) -> int:
    # iproute2 prints a number; a decimal string is taken too, as earlier versions did.
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 2:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 32:
        raise _Malformed(f"{name}: prefixlen {_shown(value)} is not 0 to 32")
    return value


def _scope(value: object, name: str) -> int:
    if isinstance(value, str) and value in _SCOPES:
        return _SCOPES[value]
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 255:
        return value  # iproute2 prints a number for a scope without a name
    raise _Malformed(f"{name}: scope {_shown(value)} is not a scope name or 0 to 255")


def _kind(value: object) -> str:
    return "missing" if value is None else f"a {type(value).__name__}"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 45 else text[:42] + "..."
