"""The sysctl.d lines and ip commands that would fix a finding. Nothing here applies them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from ipaddress import IPv4Address

from ..finding import Fix
from ..kernel import effective
from ..model import Address, HostState, Interface, Role

# One file per role, so a node's fix never mixes with another tool's sysctl.d file.
SYSCTL_FILES = {
    Role.REALSERVER: "/etc/sysctl.d/90-lvs-realserver.conf",
    Role.DIRECTOR: "/etc/sysctl.d/90-lvs-director.conf",
}
_PURPOSE = {
    Role.REALSERVER: "LVS-DR real server: keep the VIPs out of ARP, now and after reboots.",
    Role.DIRECTOR: "LVS-DR director: keep answering ARP for the VIPs, now and after reboots.",
}


def sysctl_key(conf_name: str, param: str) -> str:
    """sysctl.d spelling: a dotted name (VLAN eth0.100) is written eth0/100 (ARP-SEMANTICS §8)."""
    return f"net.ipv4.conf.{conf_name.replace('.', '/')}.{param}"


def sysctl_line(conf_name: str, param: str, value: int) -> str:
    return f"{sysctl_key(conf_name, param)} = {value}"


def sysctl_file(role: Role) -> str:
    return SYSCTL_FILES[role]


def sysctl_file_content(role: Role, lines: Sequence[str]) -> str:
    """The whole file to write: a header saying what it is for and how to load it, then lines."""
    header = (
        f"# {_PURPOSE[role]}",
        "# Written for this host's interfaces by lvs-arp-check; review it, then load it now",
        f"# with: sysctl -p {sysctl_file(role)}",
    )
    return "\n".join((*header, *lines)) + "\n"


def knob_fix(
    state: HostState,
    interface: Interface | None,
    param: str,
    target: int,
    sound: Callable[[int], bool],
) -> Fix:
    """Lines that make max(all, interface) sound: fix conf/all, then an interface that outbids it.

    With no *interface*, the fix is for interfaces yet to come: conf/all and conf/default.
    """
    all_value = state.all.get(param)
    lines = []
    if interface is None:
        candidates = {"default": state.default.get(param)}
    else:
        candidates = {interface.name: interface.knobs.get(param)}
    if not sound(all_value):
        all_value = target
        lines.append(sysctl_line("all", param, target))
        # Lowering conf/all unmasks every interface value it outbid (all=8 over eth0=4).
        for other in state.interfaces:
            if other.does_arp:
                candidates.setdefault(other.name, other.knobs.get(param))
    for conf_name, value in candidates.items():
        if not sound(effective(all_value, value)):
            lines.append(sysctl_line(conf_name, param, target))
    return Fix(sysctl_lines=tuple(lines))


def move_vip_to_lo(vip: IPv4Address, misplaced: Address | None) -> Fix:
    commands = []
    if misplaced is not None:
        commands.append(f"ip addr del {misplaced} dev {misplaced.interface}")
    commands.append(f"ip addr add {vip}/32 dev lo")
    return Fix(commands=tuple(commands))
