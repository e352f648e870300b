"""A real server's network namespace, sound for LVS-DR, with as many veth interfaces as asked.

Shared by the reliability tests and the benchmarks (`python tests/benchmarks/...`), so it
imports nothing from pytest. Every namespace is named after this process and is deleted on
the way out, pass or fail; nothing here touches the host's own namespace.
"""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import netns_commands
from netns_commands import NetnsError

VIP = "10.0.0.100"
LAN_INTERFACE = "lan0"
LAN_ADDRESS = "192.0.2.10/24"
# Sound for a real server (ARP-SEMANTICS §3-4); conf/default too, so interfaces made
# later (the churn, the bulk) copy sound values and every read is judged OK.
SOUND_KNOBS = {"arp_ignore": "1", "arp_announce": "2"}
COMMAND_TIMEOUT_S = 120.0
# Interfaces per `ip -batch` run: one process for thousands of links instead of one each.
_BATCH_LINES = 1000

_serials = itertools.count()


# The old name of the shared error, for callers that still catch it.
NamespaceError = NetnsError


def run(argv: Sequence[str], stdin: str | None = None) -> str:
    """The shared runner with this module's longer timeout (thousands of links per batch)."""
    return netns_commands.run(argv, stdin, timeout_s=COMMAND_TIMEOUT_S)


def netns_available() -> str | None:
    """None when this process can make network namespaces; else why it cannot."""
    if os.geteuid() != 0:
        return "needs root: the test makes network namespaces and veth pairs"
    probe = f"lvsarp-probe-{os.getpid()}-{next(_serials)}"
    try:
        run(["ip", "netns", "add", probe])
        run(["ip", "netns", "del", probe])
    except NetnsError as err:
        return f"`ip netns add` failed: {err}"
    return None


@dataclass(frozen=True)
class Node:
    """The namespace; commands run inside it see its links, its /proc/sys/net and its /sys."""

    name: str

    def ip(self, *args: str) -> str:
        return run(["ip", "-n", self.name, *args])

    def batch(self, commands: Sequence[str]) -> None:
        """Many `ip` commands in one process per chunk (-force: go on after a failed line)."""
        for start in range(0, len(commands), _BATCH_LINES):
            chunk = commands[start : start + _BATCH_LINES]
            run(["ip", "-n", self.name, "-force", "-batch", "-"], stdin="\n".join(chunk) + "\n")

    def argv(self, argv: Sequence[str]) -> list[str]:
        """*argv* as run inside the namespace (`ip netns exec` also remounts /sys for it)."""
        return ["ip", "netns", "exec", self.name, *argv]

    def write_sysctl(self, conf: str, knob: str, value: str) -> None:
        run(self.argv(["tee", f"/proc/sys/net/ipv4/conf/{conf}/{knob}"]), stdin=f"{value}\n")

    def add_veth_pairs(self, count: int, prefix: str = "v") -> list[str]:
        """*count* veth pairs (2 x count interfaces), left down; returns their names."""
        names = [f"{prefix}{n}" for n in range(count)]
        self.batch([f"link add {name}a type veth peer name {name}b" for name in names])
        return [f"{name}{end}" for name in names for end in "ab"]

    def interface_count(self) -> int:
        return len(self.ip("-o", "link", "show").splitlines())


@contextmanager
def sound_realserver(label: str, veth_pairs: int = 0) -> Iterator[Node]:
    """A real server holding the VIP on lo, hidden by all/default=1/2, plus veth pairs."""
    node = Node(f"lvsarp-{label}-{os.getpid()}-{next(_serials)}")
    run(["ip", "netns", "add", node.name])
    try:
        for conf in ("all", "default"):
            for knob, value in SOUND_KNOBS.items():
                node.write_sysctl(conf, knob, value)
            # IPv6 is out of scope (ARP-SEMANTICS §10) and only adds work per new link.
            run(node.argv(["tee", f"/proc/sys/net/ipv6/conf/{conf}/disable_ipv6"]), stdin="1\n")
        node.batch(
            [
                "link set lo up",
                f"address add {VIP}/32 dev lo",
                f"link add {LAN_INTERFACE} type veth peer name {LAN_INTERFACE}p",
                f"address add {LAN_ADDRESS} dev {LAN_INTERFACE}",
                f"link set {LAN_INTERFACE} up",
                f"link set {LAN_INTERFACE}p up",
            ]
        )
        node.add_veth_pairs(veth_pairs)
        yield node
    finally:
        # finally also runs on KeyboardInterrupt and on a set-up that failed half way;
        # deleting the namespace deletes every interface in it.
        subprocess.run(["ip", "netns", "del", node.name], capture_output=True, check=False)
