"""/proc/net/ip_vs and --ip-json are read within a size cap: endless input is a ReadError.

Without a cap, /dev/zero or a FIFO fed for ever took 9 s and 1.6 GiB past `-t 1`.
Also: a FWM (firewall-mark) virtual service is a virtual service (issue 10, item 9).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from fake_host import FakeHost, FakeTree

from checks.errors import ReadError
from checks.read import ip_json, ipvs
from checks.read.ip_json import read_ip_json
from checks.read.ipvs import (
    VirtualServices,
    parse_virtual_services,
    read_virtual_services,
)

PLUGIN = os.path.join(os.path.dirname(sys.executable), "check_lvs_arp")
VIP = "10.0.0.100"
SMALL_CAP = 1 << 20


@pytest.fixture
def tree(tmp_path: Path) -> FakeTree:
    host = FakeHost(1, 2, 1, 2, virtual_services=(VIP,)).loopback(f"{VIP}/32")
    return host.interface("eth0", "192.0.2.10/24").write(tmp_path)


def ip_vs(tree: FakeTree) -> Path:
    return tree.proc_root / "net/ip_vs"


@pytest.fixture
def small_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ipvs, "IP_VS_CAP", SMALL_CAP)
    monkeypatch.setattr(ip_json, "IP_JSON_CAP", SMALL_CAP)


@pytest.fixture
def endless_fifo(tmp_path: Path) -> Iterator[Path]:
    """A FIFO a writer thread feeds until the reader closes it (EPIPE)."""
    fifo = tmp_path / "endless"
    os.mkfifo(fifo)
    stop = threading.Event()

    def feed() -> None:
        try:
            with open(fifo, "wb") as writer:
                while not stop.is_set():
                    writer.write(b"TCP  0A000064:0050 rr\n" * 4096)
        except (BrokenPipeError, OSError):
            pass

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    yield fifo
    stop.set()
    with contextlib.suppress(OSError):  # unblock a writer still waiting for a reader
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
    thread.join(timeout=10)


def _replace(path: Path, target: Path | str) -> None:
    path.unlink()
    path.symlink_to(target)


# --- /proc/net/ip_vs ---------------------------------------------------------------------


def test_ip_vs_from_dev_zero_is_refused_naming_the_file(tree: FakeTree) -> None:
    """The real cap: /dev/zero stops at IP_VS_CAP, not at the end of memory."""
    _replace(ip_vs(tree), "/dev/zero")
    with pytest.raises(ReadError, match=f"^{re.escape(str(ip_vs(tree)))} is larger than 256 MiB"):
        read_virtual_services(str(tree.proc_root))


def test_ip_vs_from_an_endless_fifo_is_refused(
    tree: FakeTree, endless_fifo: Path, small_caps: None
) -> None:
    _replace(ip_vs(tree), endless_fifo)
    with pytest.raises(ReadError, match=f"^{re.escape(str(ip_vs(tree)))} is larger than 1 MiB"):
        read_virtual_services(str(tree.proc_root))


def test_ip_vs_bigger_than_the_cap_is_refused(tree: FakeTree, small_caps: None) -> None:
    with open(ip_vs(tree), "ab") as handle:
        handle.write(b"  -> 0A00000B:0050      Route   1      0          0\n" * 30000)
    with pytest.raises(ReadError, match=re.escape(str(ip_vs(tree)))):
        read_virtual_services(str(tree.proc_root))


def test_ip_vs_just_under_the_cap_is_read(tree: FakeTree, small_caps: None) -> None:
    line = b"  -> 0A00000B:0050      Route   1      0          0\n"
    size = ip_vs(tree).stat().st_size
    with open(ip_vs(tree), "ab") as handle:
        handle.write(line * ((SMALL_CAP - size) // len(line)))
    assert addresses(tree) == (IPv4Address(VIP),)


def test_the_plugin_answers_for_dev_zero_within_its_timeout(tree: FakeTree) -> None:
    _replace(ip_vs(tree), "/dev/zero")
    argv = [PLUGIN, "-r", "director", *tree.plugin_args(), "--no-boot-check", "-t", "10"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 3, done.stdout
    first = done.stdout.splitlines()[0]
    expected = f"LVS_ARP UNKNOWN - {ip_vs(tree)} is larger than 256 MiB, more than any " \
        "host this check knows of writes: is it the right file?"  # fmt: skip
    # At most 90 characters: the message cut with '…' when the path is long.
    assert len(first) <= 90 and expected.startswith(first.removesuffix("…")), first


# --- firewall-mark services -----------------------------------------------------------------

FWM_ONLY = """IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
FWM  00000001 wlc
  -> 0A00000B:0000      Route   1      0          0
FWM  0000ABCD rr persistent 360
  -> 0A00000C:0000      Route   1      0          0
"""
MIXED = FWM_ONLY + "TCP  C0000264:0050 rr\nUDP  [2001:0db8:0000:0000:0000:0000:0000:0001]:0035 rr\n"


def test_fwmark_services_are_virtual_services() -> None:
    services = parse_virtual_services(FWM_ONLY, "/proc/net/ip_vs")
    assert services == VirtualServices(addresses=(), fwmarks=(1, 0xABCD))
    assert services  # a director balancing by firewall mark balances something


def test_fwmark_and_address_services_together() -> None:
    services = parse_virtual_services(MIXED, "/proc/net/ip_vs")
    assert services == VirtualServices((IPv4Address("192.0.2.100"),), (1, 0xABCD))


def test_read_virtual_services_from_a_tree(tree: FakeTree) -> None:
    ip_vs(tree).write_text(MIXED)
    assert read_virtual_services(str(tree.proc_root)) == VirtualServices(
        (IPv4Address("192.0.2.100"),), (1, 0xABCD)
    )
    assert addresses(tree) == (IPv4Address("192.0.2.100"),)


def test_no_ipvs_is_none(tree: FakeTree) -> None:
    ip_vs(tree).unlink()
    assert read_virtual_services(str(tree.proc_root)) is None


def test_empty_ipvs_is_no_service(tree: FakeTree) -> None:
    ip_vs(tree).write_text(FWM_ONLY.split("FWM")[0])
    services = read_virtual_services(str(tree.proc_root))
    assert services == VirtualServices((), ()) and not services


@pytest.mark.parametrize("mark", ["", "XYZ", "123456789", "-1", "0x10", "1_0"])
def test_a_bad_fwmark_is_a_read_error(mark: str) -> None:
    with pytest.raises(ReadError, match=r"^/proc/net/ip_vs: cannot parse virtual service"):
        parse_virtual_services(
            f"FWM  {mark} rr\n" if mark else "FWM  \u00ff rr\n", "/proc/net/ip_vs"
        )


# --- --ip-json ------------------------------------------------------------------------------


def test_ip_json_from_dev_zero_is_refused_at_once() -> None:
    with pytest.raises(ReadError, match=r"^/dev/zero is not a regular file"):
        read_ip_json("/dev/zero")


def test_ip_json_fifo_is_refused_even_with_a_writer(endless_fifo: Path) -> None:
    with pytest.raises(ReadError, match=f"^{re.escape(str(endless_fifo))} is not a regular file"):
        read_ip_json(str(endless_fifo))


def test_ip_json_bigger_than_the_cap_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "ip.json"
    with open(path, "wb") as handle:
        handle.truncate((64 << 20) + 1)  # sparse: costs no disk
    with pytest.raises(ReadError, match=f"^{re.escape(str(path))} is larger than 64 MiB"):
        read_ip_json(str(path))


def test_ip_json_of_a_100k_vip_node_fits_the_cap(tmp_path: Path) -> None:
    entry = (
        '{"family":"inet","local":"10.%d.%d.%d","prefixlen":32,"scope":"global","label":"lo",'
        '"valid_life_time":4294967295,"preferred_life_time":4294967295}'
    )
    entries = ",".join(entry % (n >> 16, (n >> 8) & 255, n & 255) for n in range(100_000))
    path = tmp_path / "ip.json"
    path.write_text(f'[{{"ifindex":1,"ifname":"lo","addr_info":[{entries}]}}]')
    assert path.stat().st_size < (64 << 20) // 3
    assert len(read_ip_json(str(path))) == 100_000


def addresses(tree: FakeTree) -> tuple[IPv4Address, ...]:
    services = read_virtual_services(str(tree.proc_root))
    assert services is not None, "IPVS loaded: the file exists"
    return services.addresses
