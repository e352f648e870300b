"""Routes read by rtnetlink, and the two layouts they reveal, seen on a real kernel.

- arp_ignore 2 with a neighbour from another subnet on the wire (an `onlink` gateway, an
  on-link route): the node stops answering ARP for its own address to that neighbour.
- an unnumbered veth to a pod: effective arp_ignore 1 cuts the pod off the host, while the
  same value on the LAN interface alone keeps the link working.
Each test reads the routes inside the node namespace and compares them with what the wire
(real ARP frames, ping) shows.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from netns_commands import NetnsError, delete_namespaces, netns_exists, run

from .netns import (
    NODE_IFACE,
    NODE_IP,
    PEER_IFACE,
    PEER_IP,
    Sysctl,
    Topology,
)

pytestmark = pytest.mark.kernel

OFFLINK_GATEWAY = "203.0.113.1"
OFFLINK_SUBNET = "198.51.100.0/24"
POD_IP = "10.244.1.5"
POD_LINK = "pod0"
HERE = os.path.dirname(os.path.abspath(__file__))

READ_ROUTES = """
import json
from checks.read.live import read_live_host
from checks.read.routes import offlink_neighbours, read_routes, unnumbered_interfaces
routes = read_routes()
state = read_live_host()
print(json.dumps({
    "routes": [str(route) for route in routes],
    "offlink": {
        name: [str(found.neighbours) for found in evidence]
        for name, evidence in offlink_neighbours(routes, state.addresses).items()
    },
    "unnumbered": [
        [link.interface, [str(r.destination) for r in link.routes]]
        for link in unnumbered_interfaces(state.interfaces, state.addresses, routes)
    ],
}))
"""

# Runs in the peer namespace: one who-has for the node's own address from *sender*.
ASK_OWN_ADDRESS = """
import json, sys
sys.path.insert(0, {here!r})
from arp_observer import Probe, Wire, refuse_foreign_namespace
refuse_foreign_namespace()
probe = Probe(Wire({iface!r}), bytes.fromhex({mac!r}), {node!r}, {sender!r}, {node!r}, 0.5)
print(json.dumps(probe.answers_who_has({node!r})))
"""


def read_in_node(topology: Topology) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(topology.exec_node([sys.executable, "-c", READ_ROUTES]))
    return report


def node_answers_own_address(topology: Topology, sender: str) -> bool:
    topology.flush_node_neighbours()
    code = ASK_OWN_ADDRESS.format(
        here=HERE,
        iface=PEER_IFACE,
        mac=topology.node_mac().replace(":", ""),
        node=NODE_IP,
        sender=sender,
    )
    answered: bool = json.loads(
        run(["ip", "netns", "exec", topology.peer, sys.executable, "-c", code])
    )
    return answered


def add_offlink_routes(topology: Topology) -> None:
    topology.ip_node("route", "add", "default", "via", OFFLINK_GATEWAY, "dev", NODE_IFACE, "onlink")
    topology.ip_node("route", "add", OFFLINK_SUBNET, "dev", NODE_IFACE)


def test_reader_sees_onlink_gateway_and_offsubnet_route(topology: Topology) -> None:
    add_offlink_routes(topology)
    report = read_in_node(topology)
    assert f"0.0.0.0/0 via {OFFLINK_GATEWAY} dev {NODE_IFACE} onlink" in report["routes"]
    assert f"{OFFLINK_SUBNET} dev {NODE_IFACE} scope link" in report["routes"]
    # The connected route of lan0's own /24 is no evidence: arp_ignore 2 answers it.
    assert report["offlink"] == {NODE_IFACE: [f"{OFFLINK_GATEWAY}/32", OFFLINK_SUBNET]}


def test_no_offlink_evidence_without_such_routes(topology: Topology) -> None:
    topology.ip_node("route", "add", "default", "via", PEER_IP, "dev", NODE_IFACE)
    report = read_in_node(topology)
    assert f"0.0.0.0/0 via {PEER_IP} dev {NODE_IFACE}" in report["routes"]
    assert report["offlink"] == {}


@pytest.mark.parametrize(("arp_ignore", "answers_offlink"), [("1", True), ("2", False)])
def test_arp_ignore_2_leaves_the_offlink_neighbour_unanswered(
    topology: Topology, arp_ignore: str, answers_offlink: bool
) -> None:
    add_offlink_routes(topology)
    topology.write_sysctl(Sysctl("all", "arp_ignore", arp_ignore))
    assert node_answers_own_address(topology, PEER_IP), "the in-subnet peer must be answered"
    assert node_answers_own_address(topology, OFFLINK_GATEWAY) is answers_offlink
    # The evidence the reader gives is exactly the neighbour the kernel leaves unanswered.
    assert f"{OFFLINK_GATEWAY}/32" in read_in_node(topology)["offlink"][NODE_IFACE]


@contextmanager
def pod_namespace(topology: Topology) -> Iterator[str]:
    """A pod namespace behind an unnumbered veth `pod0` of the node, as routed CNIs wire it."""
    name = f"lvsarp-pod-{os.getpid()}-{topology.node.rsplit('-', 1)[1]}"
    try:
        run(["ip", "netns", "add", name])
        for conf in ("all", "default"):
            for knob in ("arp_ignore", "arp_announce", "rp_filter"):
                path = f"/proc/sys/net/ipv4/conf/{conf}/{knob}"
                run(["ip", "netns", "exec", name, "tee", path], stdin="0\n")
        topology.ip_node(
            "link", "add", POD_LINK, "type", "veth", "peer", "name", "eth0", "netns", name
        )
        topology.ip_node("link", "set", POD_LINK, "up")
        topology.ip_node("route", "add", f"{POD_IP}/32", "dev", POD_LINK)
        for command in (
            ["link", "set", "lo", "up"],
            ["link", "set", "eth0", "up"],
            ["addr", "add", f"{POD_IP}/32", "dev", "eth0"],
            ["route", "add", f"{NODE_IP}/32", "dev", "eth0"],
        ):
            run(["ip", "-n", name, *command])
        yield name
    finally:
        delete_namespaces([name])


@pytest.fixture
def pod(topology: Topology) -> Iterator[str]:
    with pod_namespace(topology) as name:
        yield name


def pod_reaches_node(pod: str) -> bool:
    try:
        run(["ip", "netns", "exec", pod, "ping", "-c1", "-W1", NODE_IP])
    except NetnsError:
        return False
    return True


def test_reader_sees_the_unnumbered_pod_link(topology: Topology, pod: str) -> None:
    report = read_in_node(topology)
    assert report["unnumbered"] == [[POD_LINK, [f"{POD_IP}/32"]]]
    assert POD_LINK not in report["offlink"]


def test_all_arp_ignore_1_cuts_the_unnumbered_link(topology: Topology, pod: str) -> None:
    assert pod_reaches_node(pod), "with every arp_ignore at 0 the pod must reach the node"
    topology.write_sysctl(Sysctl("all", "arp_ignore", "1"))
    run(["ip", "-n", pod, "neigh", "flush", "all"])
    assert not pod_reaches_node(pod)


def test_lan_interface_arp_ignore_1_keeps_the_unnumbered_link(topology: Topology, pod: str) -> None:
    topology.write_sysctl(Sysctl(NODE_IFACE, "arp_ignore", "1"))
    topology.write_sysctl(Sysctl(NODE_IFACE, "arp_announce", "2"))
    run(["ip", "-n", pod, "neigh", "flush", "all"])
    assert pod_reaches_node(pod)
    # The LAN still gets what the fix is for: its own address answered.
    assert node_answers_own_address(topology, PEER_IP)


def test_pod_namespace_is_removed_when_a_test_fails(topology: Topology) -> None:
    with pytest.raises(RuntimeError), pod_namespace(topology) as name:
        assert netns_exists(name)
        raise RuntimeError("test failed half way")
    assert not netns_exists(name)
