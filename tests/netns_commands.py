"""The commands every test network-namespace harness runs: `ip`, sysctl writes, clean-up.

Shared by tests/kernel/netns.py, tests/packaging/netns.py and tests/reliability/node_netns.py
(and through the last by the benchmarks), so it imports nothing from pytest. Every command
names a namespace its caller created; nothing here touches the host's own interfaces.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence

COMMAND_TIMEOUT_S = 10.0


class NetnsError(RuntimeError):
    """An `ip` or sysctl command in a test namespace failed; the message carries its stderr."""


def run(argv: Sequence[str], stdin: str | None = None, timeout_s: float = COMMAND_TIMEOUT_S) -> str:
    """Run *argv*, return its stdout, raise NetnsError with stderr when it fails."""
    try:
        done = subprocess.run(
            list(argv),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise NetnsError(f"{' '.join(argv)}: {err}") from err
    if done.returncode != 0:
        raise NetnsError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def netns_exists(name: str) -> bool:
    return os.path.exists(os.path.join("/run/netns", name))


def wire_lan(node: str, node_end: tuple[str, str], peer: str, peer_end: tuple[str, str]) -> None:
    """A veth pair between *node* and *peer*, each end an (iface, cidr), addressed and up.

    lo comes up in both namespaces too.
    """
    veth = f"link add {node_end[0]} type veth peer name {peer_end[0]} netns {peer}"
    run(["ip", "-n", node, *veth.split()])
    for netns, (iface, cidr) in ((node, node_end), (peer, peer_end)):
        run(["ip", "-n", netns, "addr", "add", cidr, "dev", iface])
        run(["ip", "-n", netns, "link", "set", "lo", "up"])
        run(["ip", "-n", netns, "link", "set", iface, "up"])


def delete_namespaces(names: Sequence[str]) -> None:
    """Delete every namespace that exists; deleting a netns deletes its end of the veth."""
    failures = []
    for name in names:
        if netns_exists(name):
            try:
                run(["ip", "netns", "del", name])
            except NetnsError as err:
                failures.append(str(err))
    if failures:
        raise NetnsError("; ".join(failures))
