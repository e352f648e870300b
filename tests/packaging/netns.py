"""An LVS-DR real server in a network namespace, for the daemons that must run the plugin.

lan0 (192.0.2.10/24, veth to a peer namespace) is its only ARP-capable interface and the VIP
192.0.2.100/32 sits on lo, so the verdict turns on conf/all alone: "broken" leaves
arp_ignore/arp_announce at 0 (the VIP leaks), "fixed" sets 1/2. Nothing here touches the
host's interfaces; every command names a namespace this module created.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from netns_commands import NetnsError as NetnsError  # what a failed set-up raises
from netns_commands import delete_namespaces, run, wire_lan

NODE_IFACE = "lan0"
PEER_IFACE = "peer0"
NODE_CIDR = "192.0.2.10/24"
PEER_CIDR = "192.0.2.1/24"
VIP = "192.0.2.100"

_serials = itertools.count()


@dataclass(frozen=True)
class RealServerNode:
    """The node namespace; its peer exists only to give lan0 a carrier."""

    name: str
    peer: str

    def argv(self, *command: str) -> list[str]:
        """*command* run inside the node, with its own /proc/sys/net and /sys (ip netns exec)."""
        return ["ip", "netns", "exec", self.name, *command]

    def write_conf(self, conf: str, knob: str, value: int) -> None:
        # tee inside the namespace: /proc/sys/net resolves in the writer's namespace.
        run(self.argv("tee", f"/proc/sys/net/ipv4/conf/{conf}/{knob}"), stdin=f"{value}\n")

    def set_all(self, arp_ignore: int, arp_announce: int) -> None:
        self.write_conf("all", "arp_ignore", arp_ignore)
        self.write_conf("all", "arp_announce", arp_announce)

    def break_arp(self) -> None:
        """The kernel default: lan0 answers ARP for the VIP and announces it."""
        self.set_all(0, 0)

    def fix_arp(self) -> None:
        """What every LVS-DR guide asks of a real server."""
        self.set_all(1, 2)


def _wire(node: RealServerNode) -> None:
    for name in (node.name, node.peer):
        run(["ip", "netns", "add", name])
    wire_lan(node.name, (NODE_IFACE, NODE_CIDR), node.peer, (PEER_IFACE, PEER_CIDR))
    # A new namespace copies init_net's conf/all and conf/default: start every conf at 0 so
    # only set_all() decides the verdict.
    for conf in ("all", "default", "lo", NODE_IFACE):
        for knob in ("arp_ignore", "arp_announce"):
            node.write_conf(conf, knob, 0)
    run(["ip", "-n", node.name, "addr", "add", f"{VIP}/32", "dev", "lo"])


@contextmanager
def realserver_node() -> Iterator[RealServerNode]:
    """Yield a broken real server; always delete both namespaces afterwards."""
    serial = f"{os.getpid()}-{next(_serials)}"
    node = RealServerNode(name=f"lvsarp-pkg-node-{serial}", peer=f"lvsarp-pkg-peer-{serial}")
    try:
        _wire(node)
        node.break_arp()
        yield node
    finally:
        # Also on KeyboardInterrupt and on a set-up that failed half way.
        delete_namespaces((node.name, node.peer))
