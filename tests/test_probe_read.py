"""The probe's read side without a wire: real servers from ip_vs, interface choice, naming,
and the errors a caller gets before any frame is sent."""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path

import pytest

from checks.errors import ConfigError, ReadError
from checks.model import IFF_LOOPBACK, IFF_NOARP, IFF_UP, Address, ArpKnobs, HostState, Interface
from checks.read.arp_probe import (
    ProbeResult,
    Responder,
    identify_responders,
    probe_interfaces,
    probe_segment,
    probe_vip,
)
from checks.read.ipvs_dests import (
    Destination,
    parse_destinations,
    read_destinations,
    real_server_addresses,
)

VIP = IPv4Address("192.0.2.100")

# As ip_vs_info_seq_show() prints it: a DR service with two real servers, a NAT service, a
# firewall-mark service, and an IPv6 service whose real servers must not leak into IPv4.
IP_VS = """\
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  C0000264:0050 rr
  -> C000020B:0050      Route   1      0          0
  -> C000020C:0050      Route   1      3          1
UDP  C0000265:0035 wlc
  -> 0A000001:1F90      Masq    2      0          0
FWM  00000007 wlc
  -> C000020D:0000      Route   1      0          0
TCP  [2001:0db8:0000:0000:0000:0000:0000:0064]:0050 rr
  -> [2001:0db8:0000:0000:0000:0000:0000:000b]:0050      Route   1      0          0
TCP  C0000266:01BB sh
"""


def test_parse_destinations_reads_every_ipv4_real_server() -> None:
    assert parse_destinations(IP_VS, "ip_vs") == (
        Destination("TCP", VIP, 80, IPv4Address("192.0.2.11"), 80, "Route"),
        Destination("TCP", VIP, 80, IPv4Address("192.0.2.12"), 80, "Route"),
        Destination("UDP", IPv4Address("192.0.2.101"), 53, IPv4Address("10.0.0.1"), 8080, "Masq"),
        Destination("FWM", None, 7, IPv4Address("192.0.2.13"), 0, "Route"),
    )


def test_real_server_addresses_is_the_set_of_rips() -> None:
    found = real_server_addresses(parse_destinations(IP_VS, "ip_vs"))
    assert found == {
        IPv4Address(ip) for ip in ("192.0.2.11", "192.0.2.12", "10.0.0.1", "192.0.2.13")
    }


@pytest.mark.parametrize(
    "line",
    [
        "  -> C000020B0050      Route   1  0  0",
        "  -> ZZ00020B:0050  Route 1 0 0",
        "  -> 1C000020B:0050  Route 1 0 0",
        "TCP  C00002:XYZ rr",
    ],
)
def test_a_malformed_line_is_a_read_error_naming_file_and_line(line: str) -> None:
    text = "TCP  C0000264:0050 rr\n" + line + "\n"
    with pytest.raises(ReadError, match=r"^ip_vs:2: "):
        parse_destinations(text, "ip_vs")


def test_read_destinations_from_a_proc_root(tmp_path: Path) -> None:
    assert read_destinations(str(tmp_path)) is None  # IPVS not loaded
    (tmp_path / "net").mkdir()
    (tmp_path / "net/ip_vs").write_text(IP_VS)
    found = read_destinations(str(tmp_path))
    assert found is not None and len(found) == 4


def test_read_destinations_unreadable_is_a_read_error(tmp_path: Path) -> None:
    (tmp_path / "net/ip_vs").mkdir(parents=True)  # a directory: open() fails, not missing
    with pytest.raises(ReadError, match=r"cannot read .*net/ip_vs"):
        read_destinations(str(tmp_path))


def host(flags: dict[str, int], *addresses: Address) -> HostState:
    knobs = ArpKnobs(0, 0)
    interfaces = tuple(Interface(name, value, knobs) for name, value in flags.items())
    return HostState(knobs, knobs, interfaces, addresses)


SEGMENT = host(
    {"lo": IFF_UP | IFF_LOOPBACK, "eth0": IFF_UP, "eth1": IFF_UP, "eth2": 0, "kube0": IFF_NOARP},
    Address("lo", VIP, 32, 0),
    Address("eth0", IPv4Address("192.0.2.10"), 24, 0),
    Address("eth0", VIP, 32, 0),
    Address("eth1", IPv4Address("198.51.100.10"), 24, 0),
    Address("eth2", IPv4Address("192.0.2.20"), 24, 0),
    Address("kube0", IPv4Address("192.0.2.30"), 24, 0),
)


def test_probe_interfaces_are_the_up_arp_interfaces_whose_subnet_holds_the_vip() -> None:
    assert probe_interfaces(SEGMENT, VIP) == ("eth0",)


def test_probe_interface_given_explicitly_wins() -> None:
    assert probe_interfaces(SEGMENT, VIP, "eth1") == ("eth1",)


def test_no_interface_for_the_vip_is_a_config_error_naming_the_option() -> None:
    with pytest.raises(ConfigError, match=r"VIP 203\.0\.113\.1.*--probe-interface"):
        probe_interfaces(SEGMENT, IPv4Address("203.0.113.1"))


def test_identify_responders_names_macs_through_the_neighbour_table() -> None:
    results = [
        ProbeResult(
            VIP,
            "eth0",
            (Responder("02:00:00:00:00:11", False), Responder("02:00:00:00:00:02", False)),
            0.3,
            2,
            2,
        )
    ]
    neighbours = {
        "02:00:00:00:00:11": (IPv4Address("192.0.2.11"),),
        "02:00:00:00:00:02": (IPv4Address("192.0.2.2"),),
    }
    (named,) = identify_responders(results, neighbours, frozenset({IPv4Address("192.0.2.11")}))
    assert named.responders == (
        Responder("02:00:00:00:00:11", False, (IPv4Address("192.0.2.11"),), True),
        Responder("02:00:00:00:00:02", False, (IPv4Address("192.0.2.2"),), False),
    )


@pytest.mark.parametrize("window", [0.0, -1.0, 10.5])
def test_a_window_out_of_range_is_a_config_error(window: float) -> None:
    with pytest.raises(ConfigError, match="probe window"):
        probe_segment((("lo", VIP),), window)


@pytest.mark.parametrize("name", ["", "x" * 16, "a/b"])
def test_a_bad_interface_name_is_a_config_error(name: str) -> None:
    with pytest.raises(ConfigError, match="is not an interface name"):
        probe_vip(name, VIP)


def test_a_missing_interface_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="probe interface nosuch9 does not exist"):
        probe_vip("nosuch9", VIP)


def test_loopback_is_refused_before_any_frame() -> None:
    with pytest.raises(ConfigError, match="probe interface lo does no ARP"):
        probe_vip("lo", VIP)


def test_nothing_to_probe_is_nothing_seen() -> None:
    assert probe_segment(()) == ()
