"""Which network namespace a read describes, and whether --proc-root claims another one.

/proc/sys/net and rtnetlink answer for the reading process's network namespace, whatever
/proc they are read through (ARP-SEMANTICS §9). A check in a pod without hostNetwork, or one
given the host's /proc under --proc-root while it sits in another namespace, reads the wrong
host. `/proc/<pid>/ns/net` names a namespace: its nsfs inode, which `ls -l` prints as
`net:[4026531840]` and `ip netns` bind-mounts under /run/netns.
"""

from __future__ import annotations

import errno
import os

from ..errors import ReadError
from ..record import Record

OWN_NAMESPACE = "/proc/self/ns/net"
RUN_NETNS = "/run/netns"
# The proc root's own pid 1 is absent from copied or fake trees: nothing to compare then.
_NOT_PROCFS = (errno.ENOENT, errno.ENOTDIR)


class NetnsIdentity(Record):
    """One network namespace: nsfs device and inode, `ip netns` name, whether it is pid 1's.

    name is the first /run/netns entry bind-mounted to it (None when it has none); is_init
    is True when it is the namespace of /proc/1 (the host's init namespace, unless the
    reader has a pid namespace of its own), None when /proc/1/ns/net cannot be read.
    """

    device: int
    inode: int
    name: str | None
    is_init: bool | None

    @property
    def label(self) -> str:
        """`net:[4026532281]`, with ` (name)` when `ip netns` knows it: for the exporter."""
        named = f" ({self.name})" if self.name else ""
        return f"net:[{self.inode}]{named}"


def reader_namespace(run_netns: str = RUN_NETNS) -> NetnsIdentity:
    """The namespace this process reads through /proc/sys/net and netlink.

    Raises ReadError when /proc/self/ns/net cannot be read (no procfs mounted at /proc).
    """
    own = _identity(OWN_NAMESPACE)
    try:
        init: bool | None = _same_namespace("/proc/1", "/proc/self")
    except ReadError:
        init = None
    return NetnsIdentity(own[0], own[1], _netns_name(own, run_netns), init)


def namespace_mismatch(proc_root: str) -> str | None:
    """Why values under *proc_root* would describe another namespace than the tree claims.

    The tree claims the namespace of its own pid 1 (`<proc_root>/1`); its sys/net files
    answer for this process's namespace. None when they agree, when *proc_root* is this
    process's own /proc (read through it, every value is this namespace's, whatever pid 1
    is), or when it is not a procfs (a copied tree: its values are plain files). Raises
    ReadError when the tree's pid 1 cannot be looked at.
    """
    if os.path.realpath(proc_root) == os.path.realpath("/proc"):
        return None
    claimed = os.path.join(proc_root, "1")
    try:
        if _same_namespace(claimed, "/proc/self"):
            return None
    except _Absent:
        return None
    own = _identity(OWN_NAMESPACE)
    return (
        f"{proc_root} belongs to the network namespace of its pid 1, but "
        f"{proc_root}/sys/net and netlink answer for this process's namespace "
        f"net:[{own[1]}]: the check would judge another host. Run it in that namespace "
        f"(Kubernetes hostNetwork: true, docker --network host, or "
        f"nsenter --net={claimed}/ns/net)"
    )


def _same_namespace(pid_dir: str, other_dir: str) -> bool:
    """Do two /proc/<pid> directories' processes share a network namespace?

    ns/net is the namespace itself, but reading another process's link passes the ptrace
    access check, which root without CAP_SYS_PTRACE over pid 1 fails (containers, seen in
    CI). <pid>/net/dev then tells: procfs gives each namespace's entries their own inode
    numbers, and /proc/<pid>/net shows that process's namespace without that check.
    """
    try:
        return _identity(os.path.join(pid_dir, "ns", "net")) == _identity(
            os.path.join(other_dir, "ns", "net")
        )
    except _Hidden:
        entry = os.path.join("net", "dev")
        return (
            _identity(os.path.join(pid_dir, entry))[1]
            == _identity(os.path.join(other_dir, entry))[1]
        )


class _Absent(ReadError):
    """The namespace link does not exist: not a procfs tree."""


class _Hidden(ReadError):
    """The namespace link exists but may not be read (ptrace access check)."""


def _identity(path: str) -> tuple[int, int]:
    try:
        status = os.stat(path)
    except OSError as err:
        if err.errno in _NOT_PROCFS:
            raise _Absent(f"{path} does not exist") from err
        error = _Hidden if err.errno in (errno.EACCES, errno.EPERM) else ReadError
        raise error(f"cannot tell which network namespace {path} is: {err.strerror}") from err
    return status.st_dev, status.st_ino


def _netns_name(namespace: tuple[int, int], run_netns: str) -> str | None:
    try:
        names = sorted(os.listdir(run_netns))
    except OSError:
        return None  # no `ip netns` names on this host
    for name in names:
        try:
            status = os.stat(os.path.join(run_netns, name))
        except OSError:
            continue
        if (status.st_dev, status.st_ino) == namespace:
            return name
    return None
