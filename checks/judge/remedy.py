"""The one home of the fix: which settings make a knob sound, and how sysctl.d spells them.

Nothing here applies anything: fixes are data for the faces to print.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Sequence
from ipaddress import IPv4Address

from ..finding import Finding, Fix, SysctlSetting
from ..kernel import ReplyRule, reply_rule
from ..model import ARP_IGNORE, Address, HostState, Interface, Role

# One file per role, so a node's fix never mixes with another tool's sysctl.d file.
SYSCTL_FILES = {
    Role.REALSERVER: "/etc/sysctl.d/90-lvs-realserver.conf",
    Role.DIRECTOR: "/etc/sysctl.d/90-lvs-director.conf",
    Role.BOTH: "/etc/sysctl.d/90-lvs-director-realserver.conf",
}
_PURPOSE = {
    Role.REALSERVER: "LVS-DR real server: keep the VIPs out of ARP, now and after reboots.",
    Role.DIRECTOR: "LVS-DR director: keep answering ARP for the VIPs, now and after reboots.",
    Role.BOTH: "LVS-DR director and real server: answer for a VIP only while holding it.",
}
_GLOBAL_FIRST = {"all": 0, "default": 1}

Sound = Callable[[int], bool]


def sysctl_key(conf_name: str, parameter: str) -> str:
    """The sysctl.d key, spelled as systemd-sysctl parses it (boot/sysctl_d.py): a dotted
    name (VLAN eth0.100) is written eth0/100 (ARP-SEMANTICS §8), a name with '=' or glob
    characters as a glob that matches it alone."""
    # Imported here: the boot resolver's module is not needed on a poll that prints no fix.
    from ..boot.sysctl_d import sysctl_d_key

    return sysctl_d_key(conf_name, parameter)


def sysctl_line(setting: SysctlSetting) -> str:
    return f"{sysctl_key(setting.conf_name, setting.parameter)} = {setting.value}"


def sysctl_file(role: Role) -> str:
    return SYSCTL_FILES[role]


def sysctl_file_content(role: Role, settings: Sequence[SysctlSetting]) -> str:
    """The whole file to write: a header saying what it is for and how to load it, then lines."""
    header = (
        f"# {_PURPOSE[role]}",
        "# Written for this host's interfaces by lvs-arp-check; review it, then load it now",
        f"# with: sysctl -p {sysctl_file(role)}",
    )
    return "\n".join((*header, *(sysctl_line(s) for s in settings))) + "\n"


def merged_settings(findings: Iterable[Finding]) -> list[SysctlSetting]:
    """Every finding's settings, one per entry, conf/all and conf/default first.

    Two findings can want different values for one entry (a leak's fix lowers conf/all
    while a reboot finding would keep today's value): the worse finding's value wins.
    """
    chosen: dict[tuple[str, str], SysctlSetting] = {}
    for finding in sorted(findings, key=lambda f: -f.severity):
        for setting in finding.fix.settings:
            chosen.setdefault((setting.conf_name, setting.parameter), setting)
    return sorted(chosen.values(), key=lambda s: _GLOBAL_FIRST.get(s.conf_name, 2))


def merged_commands(findings: Iterable[Finding]) -> list[str]:
    """Every finding's commands once, worst finding first."""
    ranked = sorted(findings, key=lambda f: -f.severity)
    return list(dict.fromkeys(c for f in ranked for c in f.fix.commands))


def knob_fix(
    state: HostState,
    parameter: str,
    target: int,
    sound: Sound,
    owners: Iterable[Interface],
    default: bool = False,
) -> Fix:
    """Settings that make max(all, interface) sound on *owners* (and conf/default with *default*).

    conf/all is set to *target* when its own value is unsound; lowering it unmasks every
    interface value it outbid (all=8 over eth0=4), so those are fixed too. Then each owner
    whose own value is still unsound gets a line of its own.

    On a host with unnumbered ARP links (pod veths, routed CNIs) an arp_ignore on conf/all
    that answers only for the receiving interface's addresses cuts them off (ARP-SEMANTICS
    §12): conf/all is left alone and each numbered ARP interface gets its own line instead;
    conf/default is left alone too, since new pod links copy it.
    """
    all_value = state.all.get(parameter)
    settings = []
    candidates: dict[str, int] = {i.name: i.knobs.get(parameter) for i in owners}
    spare = spares_unnumbered(state, parameter, target)
    if default and not spare:
        candidates["default"] = state.default.get(parameter)
    if not sound(all_value) and spare:
        unnumbered = {link.interface for link in state.unnumbered_links()}
        for other in state.interfaces:
            if other.does_arp and other.name not in unnumbered and state.addresses_on(other.name):
                candidates.setdefault(other.name, other.knobs.get(parameter))
    elif not sound(all_value):
        settings.append(SysctlSetting("all", parameter, target))
        for other in state.interfaces:
            own = other.knobs.get(parameter)
            if other.does_arp and own <= all_value:
                candidates.setdefault(other.name, own)
        all_value = target
    for conf_name, own in candidates.items():
        if not sound(max(all_value, own)):
            settings.append(SysctlSetting(conf_name, parameter, target))
    return Fix(settings=tuple(settings))


def spares_unnumbered(state: HostState, parameter: str, target: int) -> bool:
    """Would *target* on conf/all stop this host answering ARP on its unnumbered links?"""
    return (
        parameter == ARP_IGNORE
        and reply_rule(target) not in (ReplyRule.ANY_LOCAL, ReplyRule.NOT_SCOPE_HOST)
        and bool(state.unnumbered_links())
    )


def shell_word(name: str) -> str:
    """*name* as one shell word that stands for exactly that interface, for a command the
    faces print to be pasted into a shell.

    The kernel takes any bytes but '/', ':', white space and NUL in a name (dev_valid_name()
    in net/core/dev.c), so `a;reboot` or `$(id)` are interface names: a name of safe
    characters is left as it is, a printable one is single-quoted (shlex.quote), and one
    holding control characters, bytes that are not UTF-8 (surrogate escapes) or '|' (which
    a Nagios plugin cannot print: it separates perfdata) is spelled in bash's $'...' with
    \\xNN escapes.
    """
    if _SHELL_SAFE.fullmatch(name):
        return name
    if name.isprintable() and "|" not in name:
        return shlex.quote(name)
    raw = name.encode("utf-8", "surrogateescape")
    return "$'" + "".join(_ansi_c(byte) for byte in raw) + "'"


_SHELL_SAFE = re.compile(r"[A-Za-z0-9_.@%+,-]+")


def _ansi_c(byte: int) -> str:
    char = chr(byte)
    if 0x20 <= byte < 0x7F and char not in "'\\|":
        return char
    return f"\\x{byte:02x}"


def move_vips_to_lo(vips: Iterable[IPv4Address], misplaced: Iterable[Address] = ()) -> Fix:
    """Commands that put each VIP /32 on lo, removing the misplaced copies first."""
    commands = [f"ip addr del {a} dev {shell_word(a.interface)}" for a in misplaced]
    commands += [f"ip addr add {vip}/32 dev lo" for vip in dict.fromkeys(vips)]
    return Fix(commands=tuple(commands))


def add_vips_to_lan(vips: Iterable[IPv4Address], misplaced: Iterable[Address] = ()) -> Fix:
    """A director's VIPs belong /32 on the LAN interface that faces the clients."""
    commands = [f"ip addr del {a} dev {shell_word(a.interface)}" for a in misplaced]
    commands += [f"ip addr add {vip}/32 dev <lan-interface>" for vip in dict.fromkeys(vips)]
    return Fix(commands=tuple(commands))


def narrow_vips(wide: Iterable[Address]) -> Fix:
    """Each VIP /32 where it is, instead of a prefix that makes its whole subnet local."""
    commands = []
    for address in wide:
        device = shell_word(address.interface)
        commands.append(f"ip addr del {address} dev {device}")
        commands.append(f"ip addr add {address.ip}/32 dev {device}")
    return Fix(commands=tuple(commands))
