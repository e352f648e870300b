"""Read ARP knobs and interface flags from /proc and /sys trees (real or fake ones)."""

from __future__ import annotations

import errno
import os

from ..errors import ReadError
from ..kernel_int import parse_kernel_int
from ..model import ARP_ANNOUNCE, ARP_IGNORE, KNOWN_FLAGS, Address, ArpKnobs, HostState, Interface

_GLOBAL_CONF = ("all", "default")
# An interface removed while we read it: its directory, or the device behind it, is gone.
_VANISHED = (errno.ENOENT, errno.ENODEV, errno.ENXIO)
# /sys/class/net/<iface>/* of a device being unregistered: net-sysfs's dev_isalive() fails.
_UNREGISTERING = errno.EINVAL


class _Vanished(Exception):
    def __init__(self, path: str, unregistering: bool = False) -> None:
        super().__init__(path)
        self.unregistering = unregistering


def conf_dir(proc_root: str) -> str:
    return os.path.join(proc_root, "sys", "net", "ipv4", "conf")


def read_value(path: str) -> int:
    """Read one integer file as the kernel would parse it; ReadError names the path."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(64)
    except OSError as err:
        if err.errno in _VANISHED or err.errno == _UNREGISTERING:
            raise _Vanished(path, err.errno == _UNREGISTERING) from err
        raise ReadError(f"cannot read {path}: {err.strerror}") from err
    try:
        return parse_kernel_int(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ReadError(f"{path} holds {raw[:20]!r}, which is not an integer") from err


def read_knobs(proc_root: str, conf_name: str) -> ArpKnobs:
    """arp_ignore and arp_announce of conf/<conf_name>; all and default must exist."""
    base = os.path.join(conf_dir(proc_root), conf_name)
    try:
        return ArpKnobs(
            arp_ignore=read_value(os.path.join(base, ARP_IGNORE)),
            arp_announce=read_value(os.path.join(base, ARP_ANNOUNCE)),
        )
    except _Vanished as gone:
        raise ReadError(
            f"{gone} does not exist: is this an IPv4 host and the right root?"
        ) from None


def read_file_host(proc_root: str, sys_root: str, addresses: tuple[Address, ...]) -> HostState:
    """Read conf/* under *proc_root* and flags under *sys_root*; skip interfaces that vanish."""
    try:
        names = sorted(os.listdir(conf_dir(proc_root)))
    except OSError as err:
        raise ReadError(
            f"cannot list {conf_dir(proc_root)}: {err.strerror}; is --proc-root right?"
        ) from err
    interfaces = []
    for name in names:
        if name in _GLOBAL_CONF:
            continue
        try:
            interfaces.append(_read_interface(proc_root, sys_root, name))
        except _Vanished:
            continue
    return HostState(
        all=read_knobs(proc_root, "all"),
        default=read_knobs(proc_root, "default"),
        interfaces=tuple(interfaces),
        addresses=addresses,
    )


def _read_interface(proc_root: str, sys_root: str, name: str) -> Interface:
    base = os.path.join(conf_dir(proc_root), name)
    knobs = ArpKnobs(
        arp_ignore=read_value(os.path.join(base, ARP_IGNORE)),
        arp_announce=read_value(os.path.join(base, ARP_ANNOUNCE)),
    )
    flags_path = os.path.join(sys_root, "class", "net", name, "flags")
    try:
        flags = read_value(flags_path)
    except _Vanished as gone:
        # An unregistering device may still have its conf dir for a moment: it is gone.
        if gone.unregistering or not os.path.isdir(base):
            raise
        # Still listed: either the sys tree is wrong, or a new interface took the name
        # between the two reads (churn reuses names). A second read tells them apart.
        try:
            flags = read_value(flags_path)
        except _Vanished:
            if os.path.isdir(base):
                raise ReadError(f"{gone} does not exist: is --sys-root right?") from None
            raise
    return Interface(name, flags & KNOWN_FLAGS, knobs)
