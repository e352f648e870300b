"""Ask the segment who answers ARP for a VIP: a duplicate-address probe on a raw packet socket.

The probe sends what `arping -D` sends (RFC 5227 probe): a broadcast ARP request for the VIP
with sender IP 0.0.0.0 and this interface's MAC. Every host that holds the VIP answers it
(net/ipv4/arp.c, arp_process: a request from 0.0.0.0 for a local address is answered unless
arp_ignore hides it), and since the asker claims no address, nobody learns or changes
anything from it. Replies come back to our MAC; the host's own answer is never seen on the
interface it sent from, so the responders are the *other* holders (and this host's other
NICs on the same segment, marked is_local).

Needs CAP_NET_RAW (AF_PACKET). The socket is bound to the one interface and to ETH_P_ARP;
it sends only the requests and never answers anything. Nothing on the host changes.
"""

from __future__ import annotations

import _socket
import errno
import fcntl
import select
import struct
import time
from collections.abc import Iterable, Mapping, Sequence
from ipaddress import IPv4Address

from ..errors import ConfigError, ProbePermissionError, ReadError
from ..model import IFF_LOOPBACK, IFF_NOARP, IFF_UP, HostState
from ..record import Record
from .ipvs_dests import read_destinations, real_server_addresses
from .neighbours import format_mac, read_local_macs, read_neighbours

# Well under a second: a reply on a LAN takes microseconds to milliseconds, and NRPE polls
# (and Prometheus scrapes) wait for the whole window.
DEFAULT_WINDOW_S = 0.3
MAX_WINDOW_S = 10.0
# Two requests, the second half way through the window: one lost frame changes nothing.
DEFAULT_REQUESTS = 2
# A busy segment carries a lot of ARP; reading stops here rather than spin through the window.
MAX_FRAMES = 4096

ETH_P_ARP = 0x0806
ARPHRD_ETHER = 1
PACKET_OUTGOING = 4
SIOCGIFFLAGS = 0x8913
_IFNAMSIZ = 16
_IFREQ_FLAGS = struct.Struct("16sH14x")
_BROADCAST = b"\xff" * 6
# Ethernet type, then the ARP header of an IPv4-over-Ethernet reply: htype 1, ptype IPv4,
# hlen 6, plen 4, op 2. One bytes comparison filters every frame that is not a reply.
_REPLY_HEADER = bytes.fromhex("08060001080006040002")
_REQUEST_HEADER = bytes.fromhex("08060001080006040001")
_ARP_FRAME_LENGTH = 42  # 14 Ethernet + 28 ARP; the driver pads to the 60-byte minimum
_RECV_LENGTH = 64
_UNPRIVILEGED_HINT = (
    "grant CAP_NET_RAW: run the check through sudo (packaging/probe/sudoers.d/lvs-arp-check), "
    "or give the service AmbientCapabilities=CAP_NET_RAW (systemd), "
    "or `setcap cap_net_raw+ep` on a binary that runs it (not on a Python script)"
)


class Responder(Record):
    """One machine (one MAC) that answered ARP for the VIP during the window."""

    mac: str  # aa:bb:cc:dd:ee:ff
    is_local: bool  # the MAC belongs to one of this host's own interfaces
    ips: tuple[IPv4Address, ...] = ()  # what the neighbour table holds for that MAC
    is_real_server: bool = False  # one of ips is a real server in /proc/net/ip_vs


class ProbeResult(Record):
    """What one probe of one VIP on one interface saw."""

    vip: IPv4Address
    interface: str
    responders: tuple[Responder, ...]  # distinct MACs, in the order they first answered
    window_s: float
    requests_sent: int
    frames_read: int  # ARP frames read on the interface's socket during the window
    truncated: bool = False  # MAX_FRAMES reached: a responder may have gone unread


def probe_vip(
    interface: str,
    vip: IPv4Address,
    window_s: float = DEFAULT_WINDOW_S,
    *,
    requests: int = DEFAULT_REQUESTS,
    local_macs: frozenset[str] | None = None,
) -> ProbeResult:
    """Probe one VIP on one interface for *window_s* seconds; see probe_segment()."""
    return probe_segment(((interface, vip),), window_s, requests=requests, local_macs=local_macs)[0]


def probe_segment(
    targets: Sequence[tuple[str, IPv4Address]],
    window_s: float = DEFAULT_WINDOW_S,
    *,
    requests: int = DEFAULT_REQUESTS,
    local_macs: frozenset[str] | None = None,
) -> tuple[ProbeResult, ...]:
    """Probe every (interface, VIP) pair within one window; one ProbeResult per pair, in order.

    One socket per interface, all read together: the run takes *window_s* (seconds, monotonic)
    however many VIPs and interfaces. *requests* requests per pair, evenly spread over the
    first half of the window. Responders carry mac and is_local (*local_macs*, read from
    rtnetlink when None); identify_responders() adds ips and is_real_server.

    Raises ProbePermissionError without CAP_NET_RAW, ConfigError for a missing, NOARP or
    non-Ethernet interface or a bad window, ReadError for a down interface or a failed send.
    """
    if not 0 < window_s <= MAX_WINDOW_S:
        raise ConfigError(f"probe window {window_s} s: give more than 0 and at most {MAX_WINDOW_S}")
    if not targets:
        return ()
    wanted: dict[str, list[IPv4Address]] = {}
    for interface, vip in targets:
        vips = wanted.setdefault(interface, [])
        if vip not in vips:  # asked twice, probed once
            vips.append(vip)
    for interface in wanted:
        _check_interface(interface)
    sockets = _open_all(wanted)
    try:
        seen = _Window(sockets, wanted, requests).run(window_s)
    finally:
        for wire in sockets.values():
            wire.sock.close()
    macs = read_local_macs() if local_macs is None else local_macs
    return tuple(
        ProbeResult(
            vip=vip,
            interface=interface,
            responders=tuple(Responder(mac, mac in macs) for mac in seen.macs[interface, vip]),
            window_s=window_s,
            requests_sent=seen.sent[interface],
            frames_read=seen.frames[interface],
            truncated=seen.truncated,
        )
        for interface, vip in targets
    )


def probe_interfaces(
    state: HostState, vip: IPv4Address, explicit: str | None = None
) -> tuple[str, ...]:
    """The interfaces to probe *vip* on: *explicit* (`--probe-interface`) or every up,
    ARP-capable interface with an IPv4 address whose subnet holds the VIP (ARP-SEMANTICS §2).

    Raises ConfigError when no interface qualifies.
    """
    if explicit is not None:
        return (explicit,)
    usable = {i.name for i in state.interfaces if i.is_up and i.does_arp}
    found = [
        address.interface
        for address in state.addresses
        if address.interface in usable and address.shares_subnet(vip)
    ]
    if not found:
        raise ConfigError(
            f"no up ARP-capable interface has an IPv4 subnet holding VIP {vip}: "
            "name the segment's interface with --probe-interface"
        )
    return tuple(dict.fromkeys(found))


def identify_responders(
    results: Iterable[ProbeResult],
    neighbours: Mapping[str, tuple[IPv4Address, ...]],
    real_servers: frozenset[IPv4Address],
) -> tuple[ProbeResult, ...]:
    """Name each responder: its IPv4 addresses from the neighbour table (MAC -> addresses,
    neighbours.read_neighbours()) and whether one is a real server (RIPs from ipvs_dests)."""
    named = []
    for result in results:
        responders = []
        for responder in result.responders:
            ips = neighbours.get(responder.mac, ())
            is_real_server = any(ip in real_servers for ip in ips)
            responders.append(responder._replace(ips=ips, is_real_server=is_real_server))
        named.append(result._replace(responders=tuple(responders)))
    return tuple(named)


def probe_and_identify(
    targets: Sequence[tuple[str, IPv4Address]],
    window_s: float = DEFAULT_WINDOW_S,
    *,
    requests: int = DEFAULT_REQUESTS,
    proc_root: str = "/proc",
) -> tuple[ProbeResult, ...]:
    """probe_segment(), then identify_responders() from this namespace's neighbour table and
    `<proc_root>/net/ip_vs` (no IPVS: nobody is a real server). Raises as both do."""
    results = probe_segment(targets, window_s, requests=requests)
    destinations = read_destinations(proc_root) or ()
    return identify_responders(results, read_neighbours(), real_server_addresses(destinations))


class _Wire(Record):
    sock: _socket.socket
    mac: bytes


def _check_interface(name: str) -> None:
    encoded = name.encode("utf-8", "surrogateescape")
    if not encoded or len(encoded) >= _IFNAMSIZ or b"/" in encoded:
        raise ConfigError(f"probe interface {name!r} is not an interface name")
    # SIOCGIFFLAGS needs no privilege: the interface's faults are named before CAP_NET_RAW's.
    probe = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    try:
        answer = fcntl.ioctl(probe.fileno(), SIOCGIFFLAGS, _IFREQ_FLAGS.pack(encoded, 0))
    except OSError as err:
        if err.errno == errno.ENODEV:
            raise ConfigError(
                f"probe interface {name} does not exist in this network namespace"
            ) from err
        raise ReadError(f"cannot read the flags of probe interface {name}: {err.strerror}") from err
    finally:
        probe.close()
    flags = _IFREQ_FLAGS.unpack(answer)[1]
    if flags & (IFF_LOOPBACK | IFF_NOARP):
        raise ConfigError(
            f"probe interface {name} does no ARP (loopback or NOARP): "
            "probe the LAN interface whose subnet holds the VIP"
        )
    if not flags & IFF_UP:
        raise ReadError(f"probe interface {name} is down: no ARP can be sent or heard on it")


def _open_all(wanted: Mapping[str, list[IPv4Address]]) -> dict[str, _Wire]:
    sockets: dict[str, _Wire] = {}
    try:
        for interface in wanted:
            sockets[interface] = _open(interface)
    except BaseException:
        for wire in sockets.values():
            wire.sock.close()
        raise
    return sockets


def _open(interface: str) -> _Wire:
    try:
        # Protocol 0 receives nothing until bind() names the interface and ETH_P_ARP, so no
        # frame from another interface slips in between.
        sock = _socket.socket(_socket.AF_PACKET, _socket.SOCK_RAW, 0)
    except PermissionError as err:
        raise ProbePermissionError(
            f"the ARP probe on {interface} needs CAP_NET_RAW to open a raw packet socket "
            f"({err.strerror}): {_UNPRIVILEGED_HINT}"
        ) from err
    except OSError as err:
        raise ReadError(f"cannot open a packet socket for {interface}: {err.strerror}") from err
    try:
        sock.bind((interface, ETH_P_ARP))
        _name, _protocol, _type, hatype, mac = sock.getsockname()
    except OSError as err:
        sock.close()
        raise ReadError(f"cannot bind a packet socket to {interface}: {err.strerror}") from err
    if hatype != ARPHRD_ETHER or len(mac) != 6:
        sock.close()
        raise ConfigError(f"probe interface {interface} is not Ethernet (hardware type {hatype})")
    sock.setblocking(False)
    return _Wire(sock, mac)


def _request(mac: bytes, vip: IPv4Address) -> bytes:
    """Broadcast who-has VIP from 0.0.0.0, as `arping -D` (RFC 5227 ARP probe)."""
    return _BROADCAST + mac + _REQUEST_HEADER + mac + b"\0" * 4 + b"\0" * 6 + vip.packed


class _Seen:
    def __init__(self, wanted: Mapping[str, list[IPv4Address]]) -> None:
        self.macs: dict[tuple[str, IPv4Address], dict[str, None]] = {
            (interface, vip): {} for interface, vips in wanted.items() for vip in vips
        }
        self.sent = dict.fromkeys(wanted, 0)
        self.frames = dict.fromkeys(wanted, 0)
        self.truncated = False


class _Window:
    """Send the requests on schedule and read replies until the monotonic deadline."""

    def __init__(
        self, sockets: Mapping[str, _Wire], wanted: Mapping[str, list[IPv4Address]], requests: int
    ) -> None:
        self.sockets = sockets
        self.wanted = wanted
        self.requests = max(1, requests)
        self.seen = _Seen(wanted)
        self.by_fd = {wire.sock.fileno(): interface for interface, wire in sockets.items()}
        self.vips = {
            interface: {vip.packed: vip for vip in vips} for interface, vips in wanted.items()
        }

    def run(self, window_s: float) -> _Seen:
        start = time.monotonic()
        deadline = start + window_s
        # Spread over the first half: the last request's replies get half the window.
        schedule = [start + window_s / 2 * i / self.requests for i in range(self.requests)]
        poller = select.poll()
        for fd in self.by_fd:
            poller.register(fd, select.POLLIN)
        rounds = 0
        while (now := time.monotonic()) < deadline and not self.seen.truncated:
            if rounds < len(schedule) and now >= schedule[rounds]:
                self._send_round()
                rounds += 1
                continue
            wake = schedule[rounds] if rounds < len(schedule) else deadline
            for fd, _event in poller.poll(max(0.0, (wake - now) * 1000)):
                self._read(self.by_fd[fd])
        return self.seen

    def _send_round(self) -> None:
        for interface, wire in self.sockets.items():
            for vip in self.wanted[interface]:
                try:
                    wire.sock.send(_request(wire.mac, vip))
                except OSError as err:
                    raise ReadError(
                        f"cannot send the ARP probe for {vip} on {interface}: {err.strerror}"
                    ) from err
            self.seen.sent[interface] += 1

    def _read(self, interface: str) -> None:
        sock = self.sockets[interface].sock
        vips = self.vips[interface]
        seen = self.seen
        while True:
            if sum(seen.frames.values()) >= MAX_FRAMES:
                seen.truncated = True
                return
            try:
                frame, address = sock.recvfrom(_RECV_LENGTH)
            except BlockingIOError:
                return
            except OSError as err:
                raise ReadError(f"cannot read ARP replies on {interface}: {err.strerror}") from err
            seen.frames[interface] += 1
            # A socket bound to ETH_P_ARP hears no outgoing frames (dev_queue_xmit_nit taps only
            # ETH_P_ALL sockets), so this host's own replies never count; the check costs nothing.
            if address[2] == PACKET_OUTGOING or len(frame) < _ARP_FRAME_LENGTH:
                continue
            if frame[12:22] != _REPLY_HEADER:
                continue
            vip = vips.get(frame[28:32])
            if vip is not None:
                seen.macs[interface, vip].setdefault(format_mac(frame[22:28]), None)
