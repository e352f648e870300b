"""Watch, from the LAN, how an LVS-DR node answers ARP: a raw AF_PACKET probe for the peer side.

Run inside the peer namespace only:

    ip netns exec PEER python arp_observer.py --iface peer0 --node-mac MAC --vip VIP

It prints one JSON object:
  accepts_forwarded  an echo request sent to the VIP at the node's MAC (as an LVS-DR director
                     forwards it) got an echo reply from the VIP
  announce_sender    sender IP of the ARP request the node sent to reach us while replying
                     (the VIP = it announces the VIP; its own address = hidden); null if none
  answers_vip        the node replied to ARP who-has VIP
  answers_own        the node replied to ARP who-has its own address
The forwarded probe runs first: a who-has from us could teach the node our MAC, and then it
would have no reason to ARP. Every wait is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
PACKET_OUTGOING = 4
ARPOP_REQUEST = 1
ARPOP_REPLY = 2
IPPROTO_ICMP = 1
ICMP_ECHO_REPLY = 0
ICMP_ECHO_REQUEST = 8
BROADCAST_MAC = b"\xff" * 6
NETNS_DIR = "/run/netns"
PEER_NETNS_PREFIX = "lvsarp-peer-"
ETH_HEADER = struct.Struct("!6s6sH")
ARP_IPV4 = struct.Struct("!HHBBH6s4s6s4s")
IPV4_HEADER = struct.Struct("!BBHHHBBH4s4s")
ICMP_ECHO = struct.Struct("!BBHHH")

Frame = bytes
Matcher = Callable[[Frame], bool]


@dataclass(frozen=True)
class Observation:
    accepts_forwarded: bool
    announce_sender: str | None
    answers_vip: bool
    answers_own: bool


# --- frame building -------------------------------------------------------------------------


def checksum(data: bytes) -> int:
    """RFC 1071 internet checksum."""
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ethernet(dst: bytes, src: bytes, ethertype: int, payload: bytes) -> Frame:
    return ETH_HEADER.pack(dst, src, ethertype) + payload


def arp_who_has(src_mac: bytes, src_ip: str, target_ip: str) -> Frame:
    body = ARP_IPV4.pack(
        1,
        ETH_P_IP,
        6,
        4,
        ARPOP_REQUEST,
        src_mac,
        socket.inet_aton(src_ip),
        b"\0" * 6,
        socket.inet_aton(target_ip),
    )
    return ethernet(BROADCAST_MAC, src_mac, ETH_P_ARP, body)


def icmp_echo_request(ident: int, seq: int) -> bytes:
    payload = b"lvs-arp-check probe"
    header = ICMP_ECHO.pack(ICMP_ECHO_REQUEST, 0, 0, ident, seq)
    return ICMP_ECHO.pack(ICMP_ECHO_REQUEST, 0, checksum(header + payload), ident, seq) + payload


def ipv4(src_ip: str, dst_ip: str, protocol: int, payload: bytes) -> bytes:
    fields = [
        0x45,
        0,
        IPV4_HEADER.size + len(payload),
        0x4C56,
        0,
        64,
        protocol,
        0,
        socket.inet_aton(src_ip),
        socket.inet_aton(dst_ip),
    ]
    fields[7] = checksum(IPV4_HEADER.pack(*fields))
    return IPV4_HEADER.pack(*fields) + payload


# --- frame parsing --------------------------------------------------------------------------


@dataclass(frozen=True)
class Arp:
    op: int
    sender_mac: bytes
    sender_ip: str
    target_ip: str


def parse_arp(frame: Frame) -> Arp | None:
    _, _, ethertype = ETH_HEADER.unpack_from(frame)
    if ethertype != ETH_P_ARP or len(frame) < ETH_HEADER.size + ARP_IPV4.size:
        return None
    _, ptype, _, _, op, sha, spa, _, tpa = ARP_IPV4.unpack_from(frame, ETH_HEADER.size)
    if ptype != ETH_P_IP:
        return None
    return Arp(op, sha, socket.inet_ntoa(spa), socket.inet_ntoa(tpa))


def is_echo_reply(frame: Frame, src_ip: str, dst_ip: str, ident: int) -> bool:
    _, _, ethertype = ETH_HEADER.unpack_from(frame)
    if ethertype != ETH_P_IP:
        return False
    packet = frame[ETH_HEADER.size :]
    ihl = (packet[0] & 0x0F) * 4
    _, _, _, _, _, _, proto, _, src, dst = IPV4_HEADER.unpack_from(packet)
    if proto != IPPROTO_ICMP or len(packet) < ihl + ICMP_ECHO.size:
        return False
    icmp_type, _, _, reply_ident, _ = ICMP_ECHO.unpack_from(packet, ihl)
    return (
        icmp_type == ICMP_ECHO_REPLY
        and reply_ident == ident
        and socket.inet_ntoa(src) == src_ip
        and socket.inet_ntoa(dst) == dst_ip
    )


# --- the wire -------------------------------------------------------------------------------


class Wire:
    """A raw socket on one interface that sees every frame arriving on it."""

    def __init__(self, iface: str) -> None:
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind((iface, 0))
        self.mac: bytes = self.sock.getsockname()[4]

    def drain(self) -> None:
        while select.select([self.sock], [], [], 0)[0]:
            self.sock.recv(65535)

    def send(self, frame: Frame) -> None:
        self.sock.send(frame)

    def incoming(self, timeout_s: float) -> list[Frame]:
        """Frames that arrive within *timeout_s* (our own sends are left out)."""
        frames: list[Frame] = []
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            if not select.select([self.sock], [], [], left)[0]:
                break
            frame, address = self.sock.recvfrom(65535)
            if address[2] != PACKET_OUTGOING and len(frame) >= ETH_HEADER.size:
                frames.append(frame)
        return frames

    def wait_for(self, matcher: Matcher, timeout_s: float, seen: list[Frame]) -> bool:
        """Collect frames into *seen* until one matches or the time is up."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            batch = self.incoming(min(left, 0.02))
            seen.extend(batch)
            if any(matcher(frame) for frame in batch):
                return True
        return False


# --- probes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    wire: Wire
    node_mac: bytes
    node_ip: str
    peer_ip: str
    vip: str
    timeout_s: float

    def answers_who_has(self, target_ip: str) -> bool:
        self.wire.drain()
        self.wire.send(arp_who_has(self.wire.mac, self.peer_ip, target_ip))
        return self.wire.wait_for(self._is_reply_for(target_ip), self.timeout_s, [])

    def _is_reply_for(self, target_ip: str) -> Matcher:
        def matches(frame: Frame) -> bool:
            arp = parse_arp(frame)
            return (
                arp is not None
                and arp.op == ARPOP_REPLY
                and arp.sender_ip == target_ip
                and arp.target_ip == self.peer_ip
            )

        return matches

    def forwarded_echo(self) -> tuple[bool, str | None]:
        """Send what a DR director sends: IP to the VIP, Ethernet to the node's MAC."""
        ident = os.getpid() & 0xFFFF
        packet = ipv4(self.peer_ip, self.vip, IPPROTO_ICMP, icmp_echo_request(ident, 1))
        self.wire.drain()
        self.wire.send(ethernet(self.node_mac, self.wire.mac, ETH_P_IP, packet))
        seen: list[Frame] = []
        replied = self.wire.wait_for(
            lambda frame: is_echo_reply(frame, self.vip, self.peer_ip, ident), self.timeout_s, seen
        )
        return replied, self._sender_of_node_request(seen)

    def _sender_of_node_request(self, frames: list[Frame]) -> str | None:
        for frame in frames:
            arp = parse_arp(frame)
            if (
                arp is not None
                and arp.op == ARPOP_REQUEST
                and arp.sender_mac == self.node_mac
                and arp.target_ip == self.peer_ip
            ):
                return arp.sender_ip
        return None

    def observe(self) -> Observation:
        accepts_forwarded, announce_sender = self.forwarded_echo()
        return Observation(
            accepts_forwarded=accepts_forwarded,
            announce_sender=announce_sender,
            answers_vip=self.answers_who_has(self.vip),
            answers_own=self.answers_who_has(self.node_ip),
        )


def refuse_foreign_namespace() -> None:
    """Never put probe frames on a real network: run only in a peer namespace of netns.py."""
    here = os.stat("/proc/self/ns/net")
    for name in os.listdir(NETNS_DIR):
        there = os.stat(os.path.join(NETNS_DIR, name))
        if name.startswith(PEER_NETNS_PREFIX) and (there.st_dev, there.st_ino) == (
            here.st_dev,
            here.st_ino,
        ):
            return
    sys.exit(f"arp_observer: run me only inside a {NETNS_DIR}/{PEER_NETNS_PREFIX}* namespace")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Probe an LVS-DR node's ARP from the LAN.")
    parser.add_argument("--iface", required=True)
    parser.add_argument("--node-mac", required=True, help="the node's lan0 MAC, aa:bb:...")
    parser.add_argument("--node-ip", default="192.0.2.10")
    parser.add_argument("--peer-ip", default="192.0.2.1")
    parser.add_argument("--vip", default="192.0.2.100")
    parser.add_argument("--timeout", type=float, default=0.4, help="seconds per probe")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    refuse_foreign_namespace()
    probe = Probe(
        wire=Wire(args.iface),
        node_mac=bytes.fromhex(args.node_mac.replace(":", "")),
        node_ip=args.node_ip,
        peer_ip=args.peer_ip,
        vip=args.vip,
        timeout_s=args.timeout,
    )
    print(json.dumps(asdict(probe.observe())))


if __name__ == "__main__":
    main()
