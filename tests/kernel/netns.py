"""Two network namespaces joined by a veth pair: an LVS-DR node and the LAN peer facing it.

The peer plays client and director at once: it sends ARP who-has and DR-forwarded frames at
the node's `lan0` and watches what comes back (see arp_observer.py). Nothing here touches the
host's own interfaces; every command names a namespace this module created.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from netns_commands import COMMAND_TIMEOUT_S, delete_namespaces, run, wire_lan

# Re-exported: the tests and the exporter e2e test import these from here.
from netns_commands import NetnsError as NetnsError
from netns_commands import netns_exists as netns_exists

from .arp_observer import Observation

NODE_IFACE = "lan0"
PEER_IFACE = "peer0"
NODE_IP = "192.0.2.10"
PEER_IP = "192.0.2.1"
LAN_PREFIX = 24
DEFAULT_VIP = "192.0.2.100"

# The knobs under test start from the kernel default, whatever the host's init_net holds:
# a new namespace inherits init_net's conf/all and conf/default (devconf_inherit_init_net=0).
# rp_filter is among them: it decides whether an ARP request from a source the node believes
# local (a VIP/24 on lo makes the whole LAN local) is dropped as martian.
RESET_KNOBS = ("arp_ignore", "arp_announce", "arp_filter", "rp_filter")
BASELINE_CONFS = ("all", "default", "lo", NODE_IFACE)

PROBE_TIMEOUT_S = 0.3
OBSERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "arp_observer.py")

_names = itertools.count()


def unique_netns_names() -> tuple[str, str]:
    """Names that cannot collide with another test run (pid) or another topology (counter)."""
    serial = next(_names)
    pid = os.getpid()
    return f"lvsarp-node-{pid}-{serial}", f"lvsarp-peer-{pid}-{serial}"


@dataclass(frozen=True)
class Address:
    """An IPv4 address to put on the node, as `ip addr add CIDR dev DEV [scope SCOPE]`."""

    cidr: str
    dev: str
    scope: str | None = None

    def ip_args(self) -> list[str]:
        scope = ["scope", self.scope] if self.scope else []
        return ["addr", "add", self.cidr, "dev", self.dev, *scope]


@dataclass(frozen=True)
class NoarpInterface:
    """An extra interface on the node that does no ARP.

    kind "ifb" is NOARP by its driver, as dummy is (this CI kernel has no dummy driver);
    kind "veth" is an ordinary ARP interface switched off with `ip link set X arp off`.
    """

    name: str
    kind: str

    def create_commands(self) -> list[list[str]]:
        if self.kind == "ifb":
            return [["link", "add", self.name, "type", "ifb"], ["link", "set", self.name, "up"]]
        if self.kind == "veth":
            twin = f"{self.name}t"
            return [
                ["link", "add", self.name, "type", "veth", "peer", "name", twin],
                ["link", "set", self.name, "arp", "off"],
                ["link", "set", twin, "up"],
                ["link", "set", self.name, "up"],
            ]
        raise ValueError(f"unknown NOARP interface kind {self.kind!r}")


@dataclass(frozen=True)
class Sysctl:
    """One `net.ipv4.conf.<conf>.<knob>` value, written exactly as given (e.g. "-1")."""

    conf: str
    knob: str
    value: str

    @property
    def path(self) -> str:
        return f"/proc/sys/net/ipv4/conf/{self.conf}/{self.knob}"


@dataclass(frozen=True)
class NodeConfig:
    """What an administrator did to the node: interfaces, then sysctls, then addresses."""

    interfaces: tuple[NoarpInterface, ...] = ()
    sysctls: tuple[Sysctl, ...] = ()
    addresses: tuple[Address, ...] = ()


@dataclass(frozen=True)
class Topology:
    node: str
    peer: str

    def ip_node(self, *args: str) -> str:
        return run(["ip", "-n", self.node, *args])

    def exec_node(self, argv: Sequence[str], stdin: str | None = None) -> str:
        return run(["ip", "netns", "exec", self.node, *argv], stdin)

    def write_sysctl(self, setting: Sysctl) -> None:
        # tee through `ip netns exec`: /proc/sys/net resolves in the writer's namespace.
        self.exec_node(["tee", setting.path], stdin=f"{setting.value}\n")

    def read_sysctl(self, conf: str, knob: str) -> str:
        return self.exec_node(["cat", f"/proc/sys/net/ipv4/conf/{conf}/{knob}"]).strip()

    def apply(self, config: NodeConfig) -> None:
        for interface in config.interfaces:
            for command in interface.create_commands():
                self.ip_node(*command)
        for setting in config.sysctls:
            self.write_sysctl(setting)
        for address in config.addresses:
            self.ip_node(*address.ip_args())

    def flush_node_neighbours(self) -> None:
        """Forget every learned MAC so the node must ARP before it can answer anyone."""
        self.ip_node("neigh", "flush", "all")

    def node_mac(self) -> str:
        links = json.loads(self.ip_node("-j", "link", "show", "dev", NODE_IFACE))
        return str(links[0]["address"])

    def observe(self, vip: str, timeout_s: float = PROBE_TIMEOUT_S) -> Observation:
        """Probe the node from the peer's side of the wire, starting from an empty ARP cache."""
        self.flush_node_neighbours()
        options = {
            "--iface": PEER_IFACE,
            "--node-mac": self.node_mac(),
            "--node-ip": NODE_IP,
            "--peer-ip": PEER_IP,
            "--vip": vip,
            "--timeout": str(timeout_s),
        }
        argv = [sys.executable, OBSERVER, *itertools.chain.from_iterable(options.items())]
        report = run(["ip", "netns", "exec", self.peer, *argv])
        return Observation(**json.loads(report))

    def run_in_node(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        """Run *argv* in the node namespace and hand back whatever happened, exit code included."""
        return subprocess.run(
            ["ip", "netns", "exec", self.node, *argv],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S * 3,
            check=False,
        )


def _create_namespace(name: str) -> None:
    run(["ip", "netns", "add", name])
    # IPv6 only adds chatter on the wire (DAD, MLD); ARP-SEMANTICS §10 leaves it out of scope.
    for conf in ("all", "default"):
        run(
            ["ip", "netns", "exec", name, "tee", f"/proc/sys/net/ipv6/conf/{conf}/disable_ipv6"],
            stdin="1\n",
        )


def _reset_knobs(topology: Topology) -> None:
    for conf in BASELINE_CONFS:
        for knob in RESET_KNOBS:
            topology.write_sysctl(Sysctl(conf, knob, "0"))


@contextmanager
def lvs_topology() -> Iterator[Topology]:
    """Yield a freshly wired node/peer pair; always delete both namespaces afterwards."""
    node, peer = unique_netns_names()
    topology = Topology(node=node, peer=peer)
    try:
        _create_namespace(node)
        _create_namespace(peer)
        wire_lan(
            node,
            (NODE_IFACE, f"{NODE_IP}/{LAN_PREFIX}"),
            peer,
            (PEER_IFACE, f"{PEER_IP}/{LAN_PREFIX}"),
        )
        _reset_knobs(topology)
        yield topology
    finally:
        # finally also runs on KeyboardInterrupt and on errors half way through the set-up.
        delete_namespaces((node, peer))
