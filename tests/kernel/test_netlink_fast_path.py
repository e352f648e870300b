"""The netlink fast paths against the full attribute walk, on a real kernel.

The plugin reads each link's devconf and each address by where the kernel puts them
(checks/read/live.py); every message of a namespace with several kinds of interface must
give what walking every attribute gives.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest
from netns_commands import delete_namespaces, run


@pytest.fixture
def varied_namespace(netns_support: None) -> Iterator[str]:
    """veth, bridge, macvlan, ifb, an arp-off veth, a long name, addresses of every scope."""
    name = f"lvsoracle{os.getpid()}"
    run(["ip", "netns", "add", name])
    try:
        batch = [
            "link add v0 type veth peer name v1",
            "link add br0 type bridge",
            "link add mv0 link v0 type macvlan",
            "link add ifb7 type ifb",
            "link add abcdefghijklmno type veth peer name noarp0",
            "link set noarp0 arp off",
            "addr add 192.0.2.10/24 dev v0",
            "addr add 192.0.2.100/32 dev lo scope host",
            "addr add 10.1.1.1 peer 10.1.1.2 dev v1",
            "addr add 198.51.100.7/25 dev br0 label br0:vip",
            "link set v0 up",
        ]
        run(["ip", "-n", name, "-batch", "-"], stdin="\n".join(batch) + "\n")
        for conf, ignore in (("v0", 3), ("br0", 8), ("mv0", -1)):
            run(
                [
                    "ip",
                    "netns",
                    "exec",
                    name,
                    "sysctl",
                    "-qw",
                    f"net.ipv4.conf.{conf}.arp_ignore={ignore}",
                ]
            )
        yield name
    finally:
        delete_namespaces([name])


_COMPARE = """
from checks.read.live import LinkParser, address_fast, address_messages, address_walk, link_messages
parser = LinkParser()
messages = list(link_messages())
walked = [parser.walk(m) for m in messages]  # the first walk teaches fast() the header
fast = [parser.fast(m) for m in messages]
assert parser.inet_header is not None
assert all(f == w for f, w in zip(fast, walked) if f is not None), (fast, walked)
assert sum(f is not None for f in fast) == sum(w is not None for w in walked), (fast, walked)
addresses = [(address_fast(p), address_walk(p)) for p in address_messages()]
assert all(f == w for f, w in addresses if f is not None), addresses
print(len(walked), sum(f is not None for f, _ in addresses), len(addresses))
"""


def test_netlink_fast_paths_agree_with_the_full_walk(varied_namespace: str) -> None:
    python = os.path.join(os.path.dirname(sys.executable), "python")
    out = run(["ip", "netns", "exec", varied_namespace, python, "-c", _COMPARE])
    links, fast_addresses, addresses = (int(n) for n in out.split())
    assert links == 8  # lo and the seven made above
    assert addresses == fast_addresses == 4  # lo is down: no 127.0.0.1
