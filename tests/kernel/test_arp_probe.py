"""The ARP probe on a real kernel: a bridged segment of a router, directors and real servers.

Who answers is the kernel's doing (arp_process, arp_ignore); these tests change the knobs and
the VIP's place on the machines, and assert the exact MACs the probe hears and the verdicts.
"""

from __future__ import annotations

import json
import struct
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from netns_commands import run

from checks.read.arp_probe import MAX_FRAMES

from .segment import LAN, VIP, Segment, lan_segment

pytestmark = pytest.mark.kernel

LEAK = (0, 0)
FIXED = (1, 2)


@pytest.fixture
def segment(netns_support: None, tmp_path: Path) -> Iterator[Segment]:
    """Router, director holding the VIP on lan0, two real servers with it on lo and fixed.

    The director has resolved both real servers, as forwarding to them makes it do.
    """
    with lan_segment(tmp_path) as wired:
        wired.add_vip("director", LAN)
        for rs in ("rs1", "rs2"):
            wired.add_vip(rs, "lo")
            wired.set_knobs(rs, *FIXED)
        wired.learn("director", "rs1", "rs2")
        yield wired


def responders(report: dict[str, list[dict[str, object]]]) -> list[tuple[object, ...]]:
    (result,) = report["results"]
    assert isinstance(result["responders"], list)
    return [(r["mac"], r["ips"], r["is_real_server"], r["is_local"]) for r in result["responders"]]


def verdict(report: dict[str, list[dict[str, object]]]) -> dict[str, object]:
    (found,) = report["verdicts"]
    return found


def test_segment_is_one_broadcast_domain(segment: Segment) -> None:
    """Distinct MACs, and the router's probe hears the one holder of the VIP through the bridge."""
    report = segment.probe("router", "realserver", interface=LAN)
    assert report["results"][0]["interface"] == LAN
    macs = {machine.mac for machine in segment.machines.values()}
    assert len(macs) == len(segment.machines)
    assert responders(report) == [(segment["director"].mac, [], False, False)]


def test_neighbour_and_link_reads_agree_with_ip(segment: Segment) -> None:
    """The rtnetlink readers against iproute2's own reading of the same namespace."""
    snippet = (
        "import json; from checks.read.neighbours import read_neighbours, read_local_macs; "
        "print(json.dumps([{m: [str(i) for i in ips] for m, ips in read_neighbours().items()}, "
        "sorted(read_local_macs())]))"
    )
    neighbours, local = json.loads(segment.exec("director", [sys.executable, "-c", snippet]))
    table = json.loads(segment.ip("director", "-j", "-4", "neigh", "show"))
    expected: dict[str, list[str]] = {}
    for entry in table:
        if "lladdr" in entry and not {"FAILED", "INCOMPLETE", "NOARP"} & set(entry["state"]):
            expected.setdefault(entry["lladdr"], []).append(entry["dst"])
    assert neighbours == {mac: sorted(ips) for mac, ips in expected.items()}
    assert set(neighbours) == {segment["rs1"].mac, segment["rs2"].mac}
    links = json.loads(segment.ip("director", "-j", "link", "show"))
    assert local == sorted(
        link["address"] for link in links if link["address"] != "00:00:00:00:00:00"
    )


def test_a_leaking_real_server_is_named_with_its_address_then_fixed(segment: Segment) -> None:
    segment.set_knobs("rs1", *LEAK)
    report = segment.probe("director", "director")
    rs1 = segment["rs1"]
    assert responders(report) == [(rs1.mac, [rs1.ip], True, False)]
    found = verdict(report)
    assert (found["kind"], found["severity"], found["responders"]) == (
        "realserver_responder",
        "CRITICAL",
        [rs1.mac],
    )
    assert f"{rs1.mac} (real server {rs1.ip})" in str(found["summary"])

    segment.set_knobs("rs1", *FIXED)
    report = segment.probe("director", "director")
    assert responders(report) == []
    assert (verdict(report)["kind"], verdict(report)["severity"]) == ("ok", "OK")


def test_arp_ignore_alone_hides_the_vip_from_the_probe(segment: Segment) -> None:
    """The probe asks from 0.0.0.0, so only arp_ignore decides: arp_announce 0 stays silent."""
    segment.set_knobs("rs2", 1, 0)
    assert responders(segment.probe("director", "director")) == []


def test_director_losing_the_vip_while_a_real_server_answers(segment: Segment) -> None:
    segment.set_knobs("rs2", *LEAK)
    segment.del_vip("director", LAN)
    rs2 = segment["rs2"]
    for standby_ok in (False, True):
        report = segment.probe("director", "director", standby_ok=standby_ok)
        assert responders(report) == [(rs2.mac, [rs2.ip], True, False)]
        found = verdict(report)
        assert (found["kind"], found["severity"]) == ("realserver_responder", "CRITICAL")
        assert rs2.mac in str(found["summary"]) and rs2.ip in str(found["summary"])

    segment.set_knobs("rs2", *FIXED)
    for standby_ok in (False, True):
        found = verdict(segment.probe("director", "director", standby_ok=standby_ok))
        assert (found["kind"], found["severity"], found["responder_count"]) == (
            "unreachable",
            "CRITICAL",
            0,
        )


def test_standby_names_the_active_director(segment: Segment) -> None:
    segment.del_vip("director", LAN)
    segment.add_vip("director2", LAN)
    segment.learn("director", "director2")
    active = segment["director2"]

    found = verdict(segment.probe("director", "director", standby_ok=True))
    assert (found["kind"], found["severity"], found["responders"]) == (
        "standby_active_named",
        "OK",
        [active.mac],
    )
    assert f"{active.mac} ({active.ip})" in str(found["summary"])

    found = verdict(segment.probe("director", "director", standby_ok=False))
    assert (found["kind"], found["severity"], found["responders"]) == (
        "vip_not_held",
        "CRITICAL",
        [active.mac],
    )


def test_two_directors_holding_the_vip_is_split_brain_from_either(segment: Segment) -> None:
    segment.add_vip("director2", LAN)
    for here, there in (("director", "director2"), ("director2", "director")):
        report = segment.probe(here, "director")
        assert responders(report) == [(segment[there].mac, [], False, False)]
        found = verdict(report)
        assert (found["kind"], found["severity"], found["responders"]) == (
            "split_brain",
            "CRITICAL",
            [segment[there].mac],
        )


def test_real_server_probe_with_no_one_and_two_directors(segment: Segment) -> None:
    director, director2 = segment["director"], segment["director2"]
    found = verdict(segment.probe("rs1", "realserver"))
    assert (found["kind"], found["severity"], found["responders"]) == ("ok", "OK", [director.mac])

    segment.add_vip("director2", LAN)
    report = segment.probe("rs1", "realserver")
    assert sorted(str(mac) for mac, *_ in responders(report)) == sorted(
        [director.mac, director2.mac]
    )
    found = verdict(report)
    assert (found["kind"], found["severity"]) == ("several_responders", "CRITICAL")

    segment.del_vip("director", LAN)
    segment.del_vip("director2", LAN)
    found = verdict(segment.probe("rs1", "realserver"))
    assert (found["kind"], found["severity"], found["responders"]) == (
        "unreachable",
        "CRITICAL",
        [],
    )


def test_the_directors_own_replies_to_others_are_not_responders(segment: Segment) -> None:
    """While the router keeps resolving the VIP, the director's kernel sends ARP replies for
    it out of lan0 (the router sees them); they must not count as anyone's answer."""
    director = segment["director"]
    with (
        segment.capture("router", director.mac, seconds=1.5) as frames,
        segment.chatter("router", seconds=1.0),
    ):
        report = segment.probe("director", "director")
    assert responders(report) == []
    replies = [f for f in frames if f[12:22] == bytes.fromhex("08060001080006040002")]
    assert replies and all(f[28:32] == bytes(map(int, VIP.split("."))) for f in replies)
    assert verdict(report)["kind"] == "ok"


def test_a_flood_of_arp_stops_the_read_at_its_bound_and_cannot_say_ok(segment: Segment) -> None:
    """MAX_FRAMES bounds the work: a segment flooded with ARP gives UNKNOWN, not a false OK."""
    with segment.chatter("router", seconds=2.0, target="192.0.2.250", interval_s=0):
        report = segment.probe("director", "director", window_s=1.0)
    (result,) = report["results"]
    assert (result["truncated"], result["frames_read"]) == (True, MAX_FRAMES)
    found = verdict(report)
    assert (found["kind"], found["severity"]) == ("probe_incomplete", "UNKNOWN")


def test_a_second_nic_of_the_prober_is_marked_local(segment: Segment) -> None:
    """A director with two NICs on the segment hears its other NIC: that is itself, not a rival."""
    bridge = segment.bridge
    director = segment["director"].netns
    segment.ip(
        "director", "link", "add", "lan1", "type", "veth", "peer", "name", "portx", "netns", bridge
    )
    # lan1 copies conf/default, reset to 0: it answers for any local address, the VIP included.
    segment.ip("director", "link", "set", "lan1", "up")
    run(["ip", "-n", bridge, "link", "set", "portx", "master", "br0", "up"])
    lan1 = json.loads(run(["ip", "-n", director, "-j", "link", "show", "dev", "lan1"]))[0][
        "address"
    ]
    report = segment.probe("director", "director", interface=LAN)
    assert responders(report) == [(lan1, [], False, True)]
    assert verdict(report)["kind"] == "ok"


def test_the_probe_sends_two_dad_requests_and_nothing_else(segment: Segment) -> None:
    """On the wire: only ARP requests from 0.0.0.0 for the VIP, the director's MAC as sender;
    no answer, no announcement, and the real servers learn nothing about the director."""
    director = segment["director"]
    before = segment.ip("rs1", "-j", "neigh", "show")
    with segment.capture("router", director.mac, seconds=1.0) as frames:
        report = segment.probe("director", "director")
    assert report["results"][0]["requests_sent"] == 2
    mac = bytes.fromhex(director.mac.replace(":", ""))
    vip = bytes(map(int, VIP.split(".")))
    request = b"\xff" * 6 + mac + struct.pack("!HHHBBH", 0x0806, 1, 0x0800, 6, 4, 1)
    expected = request + mac + b"\0" * 4 + b"\0" * 6 + vip
    assert [frame[: len(expected)] for frame in frames] == [expected, expected]
    assert segment.ip("rs1", "-j", "neigh", "show") == before


def test_without_cap_net_raw_the_error_says_what_to_grant(segment: Segment) -> None:
    snippet = textwrap.dedent(
        f"""
        from ipaddress import IPv4Address
        from checks.errors import ProbePermissionError
        from checks.read.arp_probe import probe_vip
        try:
            probe_vip({LAN!r}, IPv4Address({VIP!r}))
        except ProbePermissionError as err:
            print(err)
        """
    )
    unprivileged = [
        "setpriv",
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-net_raw",
        "--no-new-privs",
    ]
    done = segment.run_as("director", [*unprivileged, sys.executable, "-c", snippet])
    assert done.returncode == 0, done.stderr
    message = done.stdout.strip()
    assert message.startswith(f"the ARP probe on {LAN} needs CAP_NET_RAW"), message
    for grant in ("sudo", "AmbientCapabilities=CAP_NET_RAW", "setcap cap_net_raw+ep"):
        assert grant in message


def test_cap_net_raw_alone_is_enough_as_the_systemd_drop_in_grants_it(segment: Segment) -> None:
    """packaging/probe/lvs-arp-exporter-probe.conf: an unprivileged user with only an ambient
    CAP_NET_RAW (bounding set CAP_NET_RAW, no new privileges) probes, reads and judges."""
    segment.set_knobs("rs1", *LEAK)
    ambient_net_raw = [
        "setpriv",
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "--inh-caps=-all,+net_raw",
        "--ambient-caps=-all,+net_raw",
        "--bounding-set=-all,+net_raw",
        "--no-new-privs",
    ]
    report = segment.probe("director", "director", wrapper=ambient_net_raw)
    rs1 = segment["rs1"]
    assert responders(report) == [(rs1.mac, [rs1.ip], False, False)]  # no ip_vs read here
    assert verdict(report)["kind"] == "split_brain"


def test_cap_net_raw_in_a_private_user_namespace_is_not_enough(segment: Segment) -> None:
    """Why the drop-in sets PrivateUsers=no: the segment's network namespace belongs to the
    initial user namespace, so root of a new user namespace may not open a packet socket."""
    snippet = textwrap.dedent(
        f"""
        from ipaddress import IPv4Address
        from checks.errors import ProbePermissionError
        from checks.read.arp_probe import probe_vip
        try:
            probe_vip({LAN!r}, IPv4Address({VIP!r}))
        except ProbePermissionError as err:
            print(type(err).__name__)
        """
    )
    done = segment.run_as(
        "director", ["unshare", "--user", "--map-root-user", sys.executable, "-c", snippet]
    )
    assert done.stdout.strip() == "ProbePermissionError", (done.stdout, done.stderr)


@pytest.mark.parametrize(
    ("change", "error", "text"),
    [
        (("link", "set", LAN, "down"), "ReadError", f"probe interface {LAN} is down"),
        (("link", "set", LAN, "arp", "off"), "ConfigError", f"probe interface {LAN} does no ARP"),
    ],
)
def test_a_down_or_noarp_interface_is_refused(
    segment: Segment, change: tuple[str, ...], error: str, text: str
) -> None:
    segment.ip("director", *change)
    snippet = textwrap.dedent(
        f"""
        from ipaddress import IPv4Address
        from checks.errors import LvsArpError
        from checks.read.arp_probe import probe_vip
        try:
            probe_vip({LAN!r}, IPv4Address({VIP!r}))
        except LvsArpError as err:
            print(type(err).__name__, err)
        """
    )
    done = segment.run_as("director", [sys.executable, "-c", snippet])
    assert done.stdout.startswith(f"{error} {text}"), (done.stdout, done.stderr)
