"""Choose how to read a host: netlink for the live namespace, files for a given root."""

from __future__ import annotations

from ..model import HostState
from .files import read_file_host
from .ipvs import read_virtual_addresses
from .live import read_live_addresses, read_live_host


def read_host(
    proc_root: str | None = None, sys_root: str | None = None, ip_json: str | None = None
) -> HostState:
    """Live by default; --proc-root/--sys-root read files, --ip-json saved addresses."""
    services = read_virtual_addresses(proc_root or "/proc")
    if proc_root is None and sys_root is None and ip_json is None:
        return read_live_host().replace(virtual_services=services)
    if ip_json:
        from .ip_json import read_ip_json  # json only for offline checks: keeps start-up lean

        addresses = read_ip_json(ip_json)
    else:
        addresses = read_live_addresses()
    state = read_file_host(proc_root or "/proc", sys_root or "/sys", addresses)
    return state.replace(virtual_services=services)
