"""The host as its next boot leaves it: today's interfaces and addresses, sysctl.d's knobs.

Only the ARP knobs change across a reboot here; interfaces, flags and addresses are taken as
they are now (the network configuration that recreates them is not ours to judge).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model import ARP_ANNOUNCE, ARP_IGNORE, PARAMS, ArpKnobs, HostState, Interface
from ..record import TYPE_CHECKING, Record

if TYPE_CHECKING:
    from typing import Protocol

    from .view import BootIssue, BootSetting

# Every conf entry starts at 0 when the kernel creates it, until something writes it.
KERNEL_DEFAULT = 0
_GLOBAL = ("all", "default")


if TYPE_CHECKING:
    # Only the type checker needs the protocol: typing stays out of the plugin's start-up.
    class BootSource(Protocol):
        """What the boot check asks of a boot view (boot_view.BootView, or one with a fix added)."""

        @property
        def issues(self) -> Sequence[BootIssue]: ...

        def setting(self, conf_name: str, param: str) -> BootSetting | None: ...

        def setting_for_new_interface(
            self, param: str, name: str | None = None
        ) -> BootSetting | None: ...


class BootValue(Record):
    """What one conf entry holds after boot, and which line put it there."""

    value: int
    setting: BootSetting | None  # None: nothing in sysctl.d sets it
    via_default: bool = False  # copied from conf/default: the interface appeared later


class BootScenario(Record):
    """One way the next boot can leave the knobs."""

    state: HostState
    # Interfaces without a key of their own copied conf/default's boot value: they were
    # created after systemd-sysctl ran. Otherwise they kept the kernel's 0.
    copies_default: bool


def boot_scenarios(running: HostState, boot: BootSource) -> list[BootScenario]:
    """The boot states worth judging.

    An interface that exists before systemd-sysctl runs keeps the kernel's 0 unless a key
    names it; one created later (a VLAN or bond brought up by the network configuration)
    copies conf/default first. Which happens depends on boot order, so when conf/default
    boots to something other than 0 both are judged.
    """
    scenarios = [BootScenario(_boot_state(running, boot, None), copies_default=False)]
    default = _knobs(boot, "default")
    copied = [p for p in PARAMS if default.get(p) != KERNEL_DEFAULT]
    # Only an interface without a key of its own can end up with conf/default's value.
    if any(boot.setting(i.name, p) is None for i in running.interfaces for p in copied):
        scenarios.append(BootScenario(_boot_state(running, boot, default), copies_default=True))
    return scenarios


def boot_value(boot: BootSource, conf_name: str, param: str, copies_default: bool) -> BootValue:
    """The value behind one entry of a scenario's state, with the line that set it."""
    if conf_name == "default":
        # What an interface created after boot ends with: udev re-applies `*` globs to it.
        return _from(boot.setting_for_new_interface(param))
    own = boot.setting(conf_name, param)
    if own is not None or conf_name in _GLOBAL or not copies_default:
        return _from(own)
    default = boot.setting("default", param)
    return BootValue(default.value, default, via_default=True) if default else _from(None)


class RunningValues:
    """Today's raw value of any conf entry, by name: all, default or an interface."""

    def __init__(self, running: HostState) -> None:
        self.running = running
        self._interfaces: dict[str, ArpKnobs] | None = None  # built on first use

    def get(self, conf_name: str, param: str) -> int | None:
        if conf_name == "all":
            return self.running.all.get(param)
        if conf_name == "default":
            return self.running.default.get(param)
        if self._interfaces is None:
            self._interfaces = {i.name: i.knobs for i in self.running.interfaces}
        knobs = self._interfaces.get(conf_name)
        return None if knobs is None else knobs.get(param)


def same_knobs(one: HostState, other: HostState) -> bool:
    """Both states give every conf entry the same values, so every verdict is the same."""
    return (
        one.all == other.all
        and one.default == other.default
        and all(a.knobs == b.knobs for a, b in zip(one.interfaces, other.interfaces, strict=True))
    )


def _boot_state(running: HostState, boot: BootSource, late_default: ArpKnobs | None) -> HostState:
    new_interfaces = ArpKnobs(*(_value(boot.setting_for_new_interface(param)) for param in PARAMS))
    fallback = late_default or _UNSET
    interfaces = tuple(
        Interface(interface.name, interface.flags, _interface_knobs(boot, interface.name, fallback))
        for interface in running.interfaces
    )
    return running.replace(all=_knobs(boot, "all"), default=new_interfaces, interfaces=interfaces)


def _interface_knobs(boot: BootSource, name: str, fallback: ArpKnobs) -> ArpKnobs:
    """The interface's own boot keys, else *fallback*: asked per interface, so no loops."""
    ignore = boot.setting(name, ARP_IGNORE)
    announce = boot.setting(name, ARP_ANNOUNCE)
    if ignore is None and announce is None:
        return fallback  # the usual case: sysctl.d names conf/all, not each interface
    return ArpKnobs(
        fallback.arp_ignore if ignore is None else ignore.value,
        fallback.arp_announce if announce is None else announce.value,
    )


# What an entry holds when nothing in sysctl.d names it and it copied nothing.
_UNSET = ArpKnobs(KERNEL_DEFAULT, KERNEL_DEFAULT)


def _knobs(boot: BootSource, conf_name: str) -> ArpKnobs:
    return ArpKnobs(*(_value(boot.setting(conf_name, param)) for param in PARAMS))


def _value(setting: BootSetting | None) -> int:
    return KERNEL_DEFAULT if setting is None else setting.value


def _from(setting: BootSetting | None) -> BootValue:
    return BootValue(_value(setting), setting)
