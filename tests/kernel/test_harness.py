"""The harness itself: wired as declared, always cleaned up, never probing outside its netns."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .netns import (
    BASELINE_CONFS,
    NODE_IFACE,
    NODE_IP,
    OBSERVER,
    PEER_IFACE,
    PEER_IP,
    RESET_KNOBS,
    NoarpInterface,
    NodeConfig,
    Topology,
    lvs_topology,
    netns_exists,
    run,
)

pytestmark = pytest.mark.kernel


def ipv4_addresses(netns: str, iface: str) -> list[str]:
    links = json.loads(run(["ip", "-n", netns, "-j", "-4", "addr", "show", "dev", iface]))
    return [f"{addr['local']}/{addr['prefixlen']}" for link in links for addr in link["addr_info"]]


def test_topology_is_wired_as_declared(topology: Topology) -> None:
    assert ipv4_addresses(topology.node, NODE_IFACE) == [f"{NODE_IP}/24"]
    assert ipv4_addresses(topology.peer, PEER_IFACE) == [f"{PEER_IP}/24"]
    knobs = {
        (conf, knob): topology.read_sysctl(conf, knob)
        for conf in BASELINE_CONFS
        for knob in RESET_KNOBS
    }
    assert set(knobs.values()) == {"0"}, knobs


@pytest.mark.parametrize("kind", ["ifb", "veth"])
def test_noarp_interface_really_does_no_arp(topology: Topology, kind: str) -> None:
    """The NOARP rows prove nothing unless the kernel flags the VIP's interface IFF_NOARP."""
    topology.apply(NodeConfig(interfaces=(NoarpInterface("vip0", kind),)))
    link = json.loads(topology.ip_node("-j", "link", "show", "dev", "vip0"))[0]
    assert "NOARP" in link["flags"] and "UP" in link["flags"], link["flags"]


def test_namespaces_are_removed_after_normal_exit(netns_support: None) -> None:
    with lvs_topology() as topology:
        assert netns_exists(topology.node) and netns_exists(topology.peer)
    assert not netns_exists(topology.node) and not netns_exists(topology.peer)


@pytest.mark.parametrize("interruption", [RuntimeError, KeyboardInterrupt])
def test_namespaces_are_removed_when_interrupted(
    netns_support: None, interruption: type[BaseException]
) -> None:
    with pytest.raises(interruption), lvs_topology() as topology:
        raise interruption("stopped half way through a probe")
    assert not netns_exists(topology.node) and not netns_exists(topology.peer)


def test_observer_refuses_to_probe_outside_a_peer_namespace() -> None:
    # This test process runs in the host's namespace: the observer must stop before any socket.
    done = subprocess.run(
        [sys.executable, OBSERVER, "--iface", "lo", "--node-mac", "02:00:00:00:00:01"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert done.returncode != 0
    assert "run me only inside" in done.stderr
    assert done.stdout == ""
