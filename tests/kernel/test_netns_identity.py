"""The wrong-namespace check on a real kernel: /proc bind-mounted into another namespace.

Each probe runs in a private mount namespace (`unshare -m`), so its bind mount of /proc
vanishes with it, pass or fail; the directory it mounts on is pytest's tmp_path.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from netns_commands import run

from .netns import Topology

pytestmark = pytest.mark.kernel

PROBE = """
import json, subprocess, sys
from checks.read.netns import namespace_mismatch, reader_namespace
root = sys.argv[1]
if root != "/proc":
    subprocess.run(["mount", "--bind", "/proc", root], check=True)
identity = reader_namespace()
print(json.dumps({
    "mismatch": namespace_mismatch(root),
    "label": identity.label,
    "name": identity.name,
    "is_init": identity.is_init,
}))
"""
PRIVATE_MOUNTS = ["unshare", "--mount", "--propagation", "private"]
# A pid namespace of its own, with its own /proc: pid 1 is the probe, in the probe's netns.
OWN_PID_NAMESPACE = [*PRIVATE_MOUNTS, "--pid", "--fork", "--mount-proc"]


def probe(prefix: list[str], proc_root: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(run([*prefix, sys.executable, "-c", PROBE, proc_root]))
    return report


def bind_target(tmp_path: Path) -> str:
    target = tmp_path / "host-proc"
    target.mkdir()
    return str(target)


def test_host_proc_seen_from_another_namespace_is_a_mismatch(
    topology: Topology, tmp_path: Path
) -> None:
    """Inside `ip netns exec`, the bind-mounted /proc's pid 1 sits in the init namespace."""
    in_node = ["ip", "netns", "exec", topology.node, *PRIVATE_MOUNTS]
    report = probe(in_node, bind_target(tmp_path))
    assert report["mismatch"] is not None
    assert "would judge another host" in report["mismatch"]
    own_inode = os.stat(f"/run/netns/{topology.node}").st_ino
    assert f"net:[{own_inode}]" in report["mismatch"]
    assert report["label"] == f"net:[{own_inode}] ({topology.node})"
    assert report["is_init"] is False


def test_proc_of_the_same_namespace_is_no_mismatch(topology: Topology, tmp_path: Path) -> None:
    """The same bind mount, made where pid 1 shares the reader's network namespace."""
    in_node = ["ip", "netns", "exec", topology.node, *OWN_PID_NAMESPACE]
    report = probe(in_node, bind_target(tmp_path))
    assert report["mismatch"] is None
    assert report["is_init"] is True  # pid 1 of this pid namespace is the probe itself
    assert report["name"] == topology.node


def test_own_proc_is_no_mismatch_whatever_pid_1_is(topology: Topology) -> None:
    """`ip netns exec NS check --proc-root /proc` reads NS consistently: nothing to report."""
    report = probe(["ip", "netns", "exec", topology.node], "/proc")
    assert report["mismatch"] is None
    assert report["is_init"] is False


def test_bind_mounts_are_gone_afterwards(topology: Topology, tmp_path: Path) -> None:
    target = bind_target(tmp_path)
    probe(["ip", "netns", "exec", topology.node, *PRIVATE_MOUNTS], target)
    assert not os.path.ismount(target)
    assert os.listdir(target) == []
