"""A fake host described once, then either built as a HostState or written as a fake tree.

The tree is what the offline readers take: `<root>/proc/sys/net/ipv4/conf/<name>/arp_*`,
`<root>/sys/class/net/<iface>/flags` and an `ip -json address` file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path
from typing import Any

from checks.boot.sysctl_d import sysctl_d_key
from checks.kernel_int import parse_kernel_int
from checks.model import KNOWN_FLAGS, Address, ArpKnobs, HostState, Interface
from checks.read.host import read_host

# /sys/class/net/<iface>/flags as the kernel prints them.
ETHER_UP = 0x1003  # UP | BROADCAST | MULTICAST
ETHER_DOWN = 0x1002
LOOPBACK_UP = 0x9  # UP | LOOPBACK
NOARP_UP = 0x83  # a dummy interface: UP | BROADCAST | NOARP

SCOPE_NUMBERS = {"global": 0, "link": 253, "host": 254}

# An int, or the exact text a /proc file holds (for parser tests).
Knob = int | str


@dataclass(frozen=True)
class FakeAddress:
    cidr: str  # "10.0.0.100/32"
    scope: str = "global"

    @property
    def interface(self) -> IPv4Interface:
        return IPv4Interface(self.cidr)


@dataclass
class FakeInterface:
    name: str
    flags: int
    arp_ignore: Knob
    arp_announce: Knob
    addresses: tuple[FakeAddress, ...]


@dataclass(frozen=True)
class FakeTree:
    proc_root: Path
    sys_root: Path
    ip_json: Path

    def read(self) -> HostState:
        """What the plugin reads offline (--proc-root, --sys-root, --ip-json)."""
        return read_host(str(self.proc_root), str(self.sys_root), str(self.ip_json))

    def conf_file(self, conf_name: str, param: str) -> Path:
        return self.proc_root / "sys/net/ipv4/conf" / conf_name / param

    def flags_file(self, interface: str) -> Path:
        return self.sys_root / "class/net" / interface / "flags"

    def plugin_args(self) -> list[str]:
        return [
            f"--proc-root={self.proc_root}",
            f"--sys-root={self.sys_root}",
            f"--ip-json={self.ip_json}",
        ]


@dataclass
class FakeHost:
    """conf/all, conf/default and interfaces; lo with 127.0.0.1/8 unless told otherwise."""

    all_ignore: Knob = 0
    all_announce: Knob = 0
    default_ignore: Knob = 0
    default_announce: Knob = 0
    interfaces: list[FakeInterface] = field(default_factory=list)
    # IPVS virtual service addresses (/proc/net/ip_vs); None: IPVS not loaded.
    virtual_services: tuple[str, ...] | None = None

    def interface(
        self,
        name: str,
        *addresses: str | FakeAddress,
        ignore: Knob = 0,
        announce: Knob = 0,
        flags: int = ETHER_UP,
    ) -> FakeHost:
        """Add an interface; each address is a CIDR (scope global) or a FakeAddress."""
        held = tuple(a if isinstance(a, FakeAddress) else FakeAddress(a) for a in addresses)
        self.interfaces.append(FakeInterface(name, flags, ignore, announce, held))
        return self

    def loopback(self, *addresses: str | FakeAddress, ignore: Knob = 0) -> FakeHost:
        return self.interface(
            "lo", FakeAddress("127.0.0.1/8", "host"), *addresses, ignore=ignore, flags=LOOPBACK_UP
        )

    def state(self) -> HostState:
        """The HostState the readers should return for this host."""
        return HostState(
            all=_knobs(self.all_ignore, self.all_announce),
            default=_knobs(self.default_ignore, self.default_announce),
            interfaces=tuple(
                # Readers keep only the flag bits ARP depends on.
                Interface(i.name, i.flags & KNOWN_FLAGS, _knobs(i.arp_ignore, i.arp_announce))
                for i in sorted(self.interfaces, key=lambda i: i.name)  # as listdir is sorted
            ),
            addresses=tuple(self._addresses()),
            virtual_services=_services(self.virtual_services),
        )

    def write(self, root: Path) -> FakeTree:
        tree = FakeTree(root / "proc", root / "sys", root / "ip-address.json")
        _write_conf(tree, "all", self.all_ignore, self.all_announce)
        _write_conf(tree, "default", self.default_ignore, self.default_announce)
        for iface in self.interfaces:
            _write_conf(tree, iface.name, iface.arp_ignore, iface.arp_announce)
            tree.flags_file(iface.name).parent.mkdir(parents=True)
            tree.flags_file(iface.name).write_text(f"{iface.flags:#x}\n")
        tree.ip_json.write_text(json.dumps(self.ip_json_links(), indent=1))
        if self.virtual_services is not None:
            (tree.proc_root / "net").mkdir()
            (tree.proc_root / "net/ip_vs").write_text(ip_vs_text(self.virtual_services))
        return tree

    def write_boot_config(self, sysctl_root: Path, name: str = "90-fake-host.conf") -> Path:
        """Persist every knob as it is now in <sysctl_root>/etc/sysctl.d/<name>.

        The next boot then gives the running values back, so the boot check has nothing to
        add. Returns sysctl_root, for --sysctl-root. A name with '=' cannot be written as a
        sysctl.d key at all; such interfaces are left to conf/all.
        """
        entries = [("all", self.all_ignore, self.all_announce)]
        entries.append(("default", self.default_ignore, self.default_announce))
        entries += [(i.name, i.arp_ignore, i.arp_announce) for i in self.interfaces]
        lines = [
            f"net.ipv4.conf.{conf_name.replace('.', '/')}.{param} = {str(knob).strip()}"
            for conf_name, ignore, announce in entries
            if "=" not in conf_name
            for param, knob in (("arp_ignore", ignore), ("arp_announce", announce))
        ]
        directory = sysctl_root / "etc/sysctl.d"
        directory.mkdir(parents=True, exist_ok=True)
        # A name that is not UTF-8 (a surrogate escape) is written as the bytes it stands for.
        (directory / name).write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"))
        return sysctl_root

    def persist_boot_config(self, sysctl_root: Path, name: str = "90-fake-host.conf") -> Path:
        """Like write_boot_config, for every name the kernel takes (sysctl_d_key spells it).

        Names that are not UTF-8 are written as their bytes, as the kernel lists them.
        """
        entries = [("all", self.all_ignore, self.all_announce)]
        entries.append(("default", self.default_ignore, self.default_announce))
        entries += [(i.name, i.arp_ignore, i.arp_announce) for i in self.interfaces]
        lines = [
            f"{sysctl_d_key(conf_name, param)} = {str(knob).strip()}"
            for conf_name, ignore, announce in entries
            for param, knob in (("arp_ignore", ignore), ("arp_announce", announce))
        ]
        directory = sysctl_root / "etc/sysctl.d"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(os.fsencode("\n".join(lines) + "\n"))
        return sysctl_root

    def ip_json_links(self) -> list[dict[str, Any]]:
        """`ip -json address` output, with the IPv6 link-local entries the real one has."""
        return [
            {
                "ifindex": index,
                "ifname": iface.name,
                "flags": [],
                "addr_info": [_inet_entry(iface.name, a) for a in iface.addresses]
                + [{"family": "inet6", "local": "fe80::1", "prefixlen": 64, "scope": "link"}],
            }
            for index, iface in enumerate(self.interfaces, start=1)
        ]

    def _addresses(self) -> Iterable[Address]:
        for iface in self.interfaces:
            for held in iface.addresses:
                ip = held.interface
                yield Address(
                    iface.name, IPv4Address(ip.ip), ip.network.prefixlen, SCOPE_NUMBERS[held.scope]
                )


# How a test gets the HostState of a FakeHost (the `state_of` fixture in conftest.py).
StateOf = Callable[["FakeHost"], HostState]


def _services(services: tuple[str, ...] | None) -> tuple[IPv4Address, ...] | None:
    return None if services is None else tuple(IPv4Address(s) for s in services)


def ip_vs_text(services: Iterable[str], fwmarks: int = 0, rip: str = "10.0.0.11") -> str:
    """/proc/net/ip_vs: hex addresses, one TCP service on port 80 each and *fwmarks* FWM
    services, each with one real server *rip*."""
    lines = [
        "IP Virtual Server version 1.2.1 (size=4096)",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn",
    ]
    real_server = f"{int(IPv4Address(rip)):08X}"
    for service in services:
        lines.append(f"TCP  {int(IPv4Address(service)):08X}:0050 rr")
        lines.append(f"  -> {real_server}:0050      Route   1      0          0")
    for mark in range(1, fwmarks + 1):
        lines.append(f"FWM  {mark:08X} rr")
        lines.append(f"  -> {real_server}:0000      Route   1      0          0")
    return "\n".join(lines) + "\n"


def _knobs(ignore: Knob, announce: Knob) -> ArpKnobs:
    return ArpKnobs(_value(ignore), _value(announce))


def _value(knob: Knob) -> int:
    return parse_kernel_int(knob) if isinstance(knob, str) else knob


def _write_conf(tree: FakeTree, conf_name: str, ignore: Knob, announce: Knob) -> None:
    for param, knob in (("arp_ignore", ignore), ("arp_announce", announce)):
        path = tree.conf_file(conf_name, param)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(knob if isinstance(knob, str) else f"{knob}\n")


def _inet_entry(name: str, held: FakeAddress) -> dict[str, Any]:
    return {
        "family": "inet",
        "local": str(held.interface.ip),
        "prefixlen": held.interface.network.prefixlen,
        "scope": held.scope,
        "label": name,
    }


# Run a command as an unprivileged user, as NRPE runs the plugin (as nagios): root reads
# every file, so only this shows what a 0600 file does to the check.
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


@contextmanager
def shared_directory() -> Iterator[Path]:
    """A temporary directory that AS_NOBODY can enter (pytest's tmp_path is root's, 0700)."""
    with tempfile.TemporaryDirectory(prefix="lvsarp-shared-") as name:
        os.chmod(name, 0o755)
        yield Path(name)
