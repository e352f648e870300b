"""Read ARP knobs and interface flags from /proc and /sys trees (real or fake ones).

A tree that is the running kernel's own /proc and /sys changes under the reader: an
interface deleted mid-read is skipped, as netlink would not have listed it a moment later.
Any other tree (a copy, an image, a test fixture) is fixed input, so whatever it lacks is
a ReadError naming the path: a missing knob file must never hide an interface that answers
ARP for a VIP.
"""

from __future__ import annotations

import errno
import os

from ..errors import ReadError
from ..kernel_int import parse_kernel_int
from ..model import ARP_ANNOUNCE, ARP_IGNORE, KNOWN_FLAGS, Address, ArpKnobs, HostState, Interface
from ..record import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import BinaryIO

_GLOBAL_CONF = ("all", "default")
# An interface removed while we read it: its directory, or the device behind it, is gone.
_VANISHED = (errno.ENOENT, errno.ENODEV, errno.ENXIO)
# /sys/class/net/<iface>/* of a device being unregistered: net-sysfs's dev_isalive() fails.
_UNREGISTERING = errno.EINVAL
# Where the running kernel shows this process's network namespace.
_KERNEL_PROC = "/proc"
_KERNEL_SYS = "/sys"


class _Vanished(Exception):
    def __init__(self, path: str, unregistering: bool = False) -> None:
        super().__init__(path)
        self.path = path
        self.unregistering = unregistering


def conf_dir(proc_root: str) -> str:
    return os.path.join(proc_root, "sys", "net", "ipv4", "conf")


def net_class_dir(sys_root: str) -> str:
    return os.path.join(sys_root, "class", "net")


def is_running_kernel(proc_root: str, sys_root: str) -> bool:
    """True when both roots show this namespace's live kernel (e.g. /proc and /sys).

    Compared by device and inode, so a bind mount or another spelling of the same path
    counts, and a copy of the files never does. Only then may interfaces vanish mid-read.
    """
    pairs = (
        (conf_dir(proc_root), conf_dir(_KERNEL_PROC)),
        (net_class_dir(sys_root), net_class_dir(_KERNEL_SYS)),
    )
    try:
        return all(os.path.samestat(os.stat(a), os.stat(b)) for a, b in pairs)
    except OSError:
        return False


_CHUNK = 1 << 20


def read_bounded(handle: BinaryIO, path: str, cap: int) -> bytearray:
    """All of *handle*, in chunks, or a ReadError naming *path* past *cap* bytes.

    /proc files report size 0 and a FIFO or device has none, so the cap is counted as the
    bytes arrive: /dev/zero costs one cap's worth of reading, not all memory. One growing
    buffer, decoded or parsed in place: no second copy of a large file.
    """
    data = bytearray()
    while True:
        chunk = handle.read(min(_CHUNK, cap + 1 - len(data)))
        if not chunk:
            return data
        data += chunk
        if len(data) > cap:
            raise ReadError(
                f"{path} is larger than {cap >> 20} MiB, more than any host this check "
                "knows of writes: is it the right file?"
            )


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
        raise ReadError(f"{missing(gone.path)}: is this an IPv4 host and the right root?") from None


def read_file_host(
    proc_root: str, sys_root: str, addresses: tuple[Address, ...], live: bool = False
) -> HostState:
    """Read conf/* under *proc_root* and flags under *sys_root*.

    With *live* (the roots are the running kernel's: is_running_kernel()), an interface
    that vanishes mid-read is skipped. Otherwise every listed interface must have both
    knob files and its flags file, readable: ReadError names the first path that is not.
    """
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
            interfaces.append(_read_interface(proc_root, sys_root, name, live))
        except _Vanished as gone:
            if live:
                continue
            raise ReadError(_offline_gap(gone, sys_root)) from None
    return HostState(
        all=read_knobs(proc_root, "all"),
        default=read_knobs(proc_root, "default"),
        interfaces=tuple(interfaces),
        addresses=addresses,
    )


def missing(path: str) -> str:
    """Why *path* cannot be opened: it does not exist, or a link on the way dangles."""
    probe = path
    while probe and probe != os.path.dirname(probe):
        if os.path.islink(probe) and not os.path.exists(probe):
            return f"{path} does not exist: {probe} is a dangling symbolic link"
        probe = os.path.dirname(probe)
    return f"{path} does not exist"


def _offline_gap(gone: _Vanished, sys_root: str) -> str:
    path = gone.path
    root = "--sys-root" if path.startswith(net_class_dir(sys_root)) else "--proc-root"
    what = f"cannot read {path}: {os.strerror(_UNREGISTERING)}" if gone.unregistering else None
    return (
        f"{what or missing(path)}; a {root} tree must hold every interface's arp_ignore, "
        "arp_announce and flags: copy it whole (cp -rL), or check the live host"
    )


def _read_interface(proc_root: str, sys_root: str, name: str, live: bool) -> Interface:
    base = os.path.join(conf_dir(proc_root), name)
    knobs = ArpKnobs(
        arp_ignore=read_value(os.path.join(base, ARP_IGNORE)),
        arp_announce=read_value(os.path.join(base, ARP_ANNOUNCE)),
    )
    flags_path = os.path.join(net_class_dir(sys_root), name, "flags")
    try:
        flags = read_value(flags_path)
    except _Vanished as gone:
        # An unregistering device may still have its conf dir for a moment: it is gone.
        if not live or gone.unregistering or not os.path.isdir(base):
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
