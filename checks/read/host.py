"""Choose how to read a host: netlink for the live namespace, files for a given root."""

from __future__ import annotations

from ..errors import ReadError
from ..model import HostState
from .files import is_running_kernel, read_file_host
from .ipvs import read_virtual_services
from .live import read_live_addresses, read_live_host


def read_host(
    proc_root: str | None = None, sys_root: str | None = None, ip_json: str | None = None
) -> HostState:
    """Live by default; --proc-root/--sys-root read files, --ip-json saved addresses.

    ReadError when the inputs disagree: --ip-json puts an address on an interface the
    tree does not have (only a live read may see an interface vanish between two reads).
    """
    # Firewall-mark services (services.fwmarks) have no address; HostState has no field
    # for them yet, so only the addresses go on.
    read = read_virtual_services(proc_root or "/proc")
    services = None if read is None else read.addresses
    if proc_root is None and sys_root is None and ip_json is None:
        return read_live_host().replace(virtual_services=services)
    live = is_running_kernel(proc_root or "/proc", sys_root or "/sys")
    if ip_json:
        from .ip_json import read_ip_json  # json only for offline checks: keeps start-up lean

        addresses = read_ip_json(ip_json)
    else:
        addresses = read_live_addresses()
    state = read_file_host(proc_root or "/proc", sys_root or "/sys", addresses, live)
    if ip_json or not live:
        _require_address_interfaces(state, ip_json or "the live host's addresses", proc_root)
    return state.replace(virtual_services=services)


def _require_address_interfaces(state: HostState, source: str, proc_root: str | None) -> None:
    """Every interface that holds an address has IPv4 conf entries in the tree."""
    known = {interface.name for interface in state.interfaces}
    for address in state.addresses:
        if address.interface not in known:
            raise ReadError(
                f"{source} puts {address} on interface '{_shown(address.interface)}', which "
                f"{proc_root or '/proc'}/sys/net/ipv4/conf does not have: the address file "
                "and the tree describe different hosts (or a partial copy); read them together"
            )


def _shown(name: str) -> str:
    # A name that is not UTF-8 arrives with surrogate escapes: print its bytes as \xNN.
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
