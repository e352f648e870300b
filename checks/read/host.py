"""Choose how to read a host: netlink for the live namespace, files for a given root."""

from __future__ import annotations

from ..errors import ReadError
from ..model import HostState
from ..record import TYPE_CHECKING
from .files import is_running_kernel, read_file_host
from .ipvs import read_virtual_services
from .live import read_live_addresses, read_live_host

if TYPE_CHECKING:
    from .routes import Route


def read_host(
    proc_root: str | None = None, sys_root: str | None = None, ip_json: str | None = None
) -> HostState:
    """Live by default; --proc-root/--sys-root read files, --ip-json saved addresses.

    Routes (rtnetlink) are read when the knobs are this namespace's live ones and no saved
    address file stands in for netlink; otherwise HostState.routes stays None ("not read").
    ARP and NAT rules cost external programs: read_rules() adds them when they can matter.

    ReadError when the inputs disagree: --ip-json puts an address on an interface the
    tree does not have (only a live read may see an interface vanish between two reads);
    or --proc-root is a procfs of another network namespace than the reader's (its
    sys/net files would answer for the reader's namespace: another host, ARP-SEMANTICS §9).
    """
    if proc_root is not None:
        from .netns import namespace_mismatch  # only a given --proc-root can be another's

        mismatch = namespace_mismatch(proc_root)
        if mismatch is not None:
            raise ReadError(mismatch)
    read = read_virtual_services(proc_root or "/proc")
    services = None if read is None else read.addresses
    fwmarks = 0 if read is None else len(read.fwmarks)
    if proc_root is None and sys_root is None and ip_json is None:
        state = read_live_host()
        return state.replace(virtual_services=services, fwmark_services=fwmarks, routes=_routes())
    live = is_running_kernel(proc_root or "/proc", sys_root or "/sys")
    if ip_json:
        from .ip_json import read_ip_json  # json only for offline checks: keeps start-up lean

        addresses = read_ip_json(ip_json)
    else:
        addresses = read_live_addresses()
    state = read_file_host(proc_root or "/proc", sys_root or "/sys", addresses, live)
    if ip_json or not live:
        _require_address_interfaces(state, ip_json or "the live host's addresses", proc_root)
    routes = _routes() if live and not ip_json else None
    return state.replace(virtual_services=services, fwmark_services=fwmarks, routes=routes)


def _routes() -> tuple[Route, ...]:
    from .routes import read_routes

    return read_routes()


def read_rules(state: HostState) -> HostState:
    """*state* with the namespace's ARP filter and NAT redirect rules (read/arp_filters.py,
    read/nat_redirect.py). Live only: call it for a state whose routes were read. Runs nft,
    iptables-nft-save and, where their tables exist, arptables-nft and the legacy tools
    (about 15 ms together); never raises for a missing
    program or a permission error: those become Unreadable entries the judges remark on.
    """
    from .arp_filters import read_arp_filters
    from .nat_redirect import read_nat_redirects

    return state.replace(arp_filters=read_arp_filters(), nat=read_nat_redirects())


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
