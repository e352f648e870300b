"""The collector on fake trees: every family's values, read failures, hangs, and the exposition."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from fake_host import ETHER_DOWN, NOARP_UP, FakeAddress, FakeHost
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry

from checks import __version__
from checks.assess import NodeCheck
from checks.errors import ReadError
from checks.model import Role
from checks.read import host as host_reader
from exporter.collector import ArpCollector, build_registry
from exporter.exposition import CONTENT_TYPE, renderer, text_format
from exporter.read_guard import ReadGuard

VIP = "192.0.2.100"
LAN = "192.0.2.10/24"


def sound_realserver() -> FakeHost:
    return FakeHost(all_ignore=1, all_announce=2).loopback(f"{VIP}/32").interface("eth0", LAN)


def leaking_realserver() -> FakeHost:
    return FakeHost().loopback(f"{VIP}/32").interface("eth0", LAN)


class Scraper:
    """Writes a FakeHost as a tree and scrapes it through a real registry."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.registry = CollectorRegistry()
        self.collector: ArpCollector | None = None

    def load(
        self,
        host: FakeHost,
        role: Role = Role.REALSERVER,
        vip_series_limit: int | None = None,
        **options: Any,
    ) -> Scraper:
        tree = host.write(self.tmp_path / f"tree{len(list(self.tmp_path.iterdir()))}")
        check = NodeCheck(
            role,
            proc_root=str(tree.proc_root),
            sys_root=str(tree.sys_root),
            ip_json=str(tree.ip_json),
            **options,
        )
        limit = () if vip_series_limit is None else (vip_series_limit,)
        self.collector = ArpCollector(check, ReadGuard(timeout_s=5), *limit)
        self.registry = build_registry(self.collector)
        return self

    def value(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)

    def misconfigured(self, interface: str, parameter: str) -> float | None:
        return self.value("lvs_arp_misconfigured", interface=interface, parameter=parameter)

    def label_values(self, name: str, label: str) -> set[str]:
        return {
            sample.labels[label]
            for family in self.registry.collect()
            for sample in family.samples
            if sample.name == name
        }


@pytest.fixture
def scraper(tmp_path: Path) -> Scraper:
    return Scraper(tmp_path)


def test_a_leaking_real_server_is_misconfigured_on_its_lan_interface(scraper: Scraper) -> None:
    scraper.load(leaking_realserver())
    assert scraper.misconfigured("eth0", "arp_ignore") == 1
    assert scraper.misconfigured("eth0", "arp_announce") == 1
    assert scraper.value("lvs_arp_compliant") == 0
    assert scraper.value("lvs_arp_findings", severity="critical") == 2
    assert scraper.value("lvs_arp_scrape_success") == 1


def test_a_sound_real_server_is_compliant(scraper: Scraper) -> None:
    scraper.load(sound_realserver())
    for interface in ("eth0", "default"):
        for parameter in ("arp_ignore", "arp_announce"):
            assert scraper.misconfigured(interface, parameter) == 0
    assert scraper.value("lvs_arp_compliant") == 1
    for severity in ("warning", "critical", "unknown"):
        assert scraper.value("lvs_arp_findings", severity=severity) == 0


def test_raw_values_cover_all_default_and_every_interface(scraper: Scraper) -> None:
    host = FakeHost(all_ignore=1, all_announce=2, default_ignore=3, default_announce="0x5")
    host.loopback(f"{VIP}/32", ignore=8).interface("eth0", LAN, ignore=0, announce=-1)
    scraper.load(host)
    raw = "lvs_arp_sysctl_raw_value"
    assert scraper.value(raw, interface="all", parameter="arp_ignore") == 1
    assert scraper.value(raw, interface="default", parameter="arp_ignore") == 3
    assert scraper.value(raw, interface="default", parameter="arp_announce") == 5
    assert scraper.value(raw, interface="lo", parameter="arp_ignore") == 8
    assert scraper.value(raw, interface="eth0", parameter="arp_announce") == -1


def test_effective_is_the_max_and_only_for_arp_interfaces(scraper: Scraper) -> None:
    host = FakeHost(all_ignore=1, all_announce=2).loopback(f"{VIP}/32")
    host.interface("eth0", LAN, announce=3).interface("dummy0", flags=NOARP_UP)
    scraper.load(host)
    effective = "lvs_arp_sysctl_effective_value"
    assert scraper.value(effective, interface="eth0", parameter="arp_ignore") == 1
    assert scraper.value(effective, interface="eth0", parameter="arp_announce") == 3
    assert scraper.label_values(effective, "interface") == {"eth0"}
    # A higher per-interface value outbids a correct conf/all (ARP-SEMANTICS §1).
    assert scraper.misconfigured("eth0", "arp_announce") == 1
    assert scraper.misconfigured("eth0", "arp_ignore") == 0
    assert scraper.label_values("lvs_arp_misconfigured", "interface") == {"eth0", "default"}


def test_conf_default_that_would_leak_is_the_new_interface_case(scraper: Scraper) -> None:
    host = FakeHost(all_ignore=0, all_announce=0).loopback(f"{VIP}/32")
    host.interface("eth0", LAN, ignore=1, announce=2)
    scraper.load(host)
    assert scraper.misconfigured("eth0", "arp_ignore") == 0
    assert scraper.misconfigured("default", "arp_ignore") == 1
    assert scraper.misconfigured("default", "arp_announce") == 1
    assert scraper.value("lvs_arp_findings", severity="warning") == 2
    assert scraper.value("lvs_arp_findings", severity="critical") == 0


def test_conf_default_leaking_behind_a_leaking_conf_all_is_misconfigured_too(
    scraper: Scraper,
) -> None:
    """all=0, default=0: interfaces created later leak as eth0 does, and the old exporter
    said misconfigured{interface="default"} 1. The new judge drops the NEW_INTERFACE_RISK
    finding as "said by conf/all's", and families._unsound_knobs then reports 0."""
    scraper.load(leaking_realserver())
    assert scraper.misconfigured("default", "arp_ignore") == 1
    assert scraper.misconfigured("default", "arp_announce") == 1


def test_a_down_interface_that_would_leak_is_misconfigured(scraper: Scraper) -> None:
    host = FakeHost(all_ignore=1, all_announce=0).loopback(f"{VIP}/32")
    host.interface("eth0", LAN, announce=2)
    host.interface("eth1", "198.51.100.10/24", flags=ETHER_DOWN)  # leaks once brought up
    scraper.load(host)
    assert scraper.misconfigured("eth1", "arp_announce") == 1
    assert scraper.misconfigured("eth0", "arp_announce") == 0


def test_excluded_interfaces_are_not_judged_but_their_raw_values_stay(scraper: Scraper) -> None:
    host = sound_realserver().interface("veth7", "198.51.100.10/24", announce=5)
    scraper.load(host, exclude=re.compile(r"^veth"))
    assert scraper.label_values("lvs_arp_misconfigured", "interface") == {"eth0", "default"}
    assert scraper.label_values("lvs_arp_sysctl_effective_value", "interface") == {"eth0"}
    raw = "lvs_arp_sysctl_raw_value"
    assert scraper.value(raw, interface="veth7", parameter="arp_announce") == 5
    assert scraper.value("lvs_arp_compliant") == 1


def test_vip_on_lo_is_present_and_well_placed(scraper: Scraper) -> None:
    host = FakeHost(all_ignore=1, all_announce=2).interface("eth0", LAN)
    host.loopback(FakeAddress(f"{VIP}/32", "host"))
    scraper.load(host)
    assert scraper.value("lvs_arp_vip_present", vip=VIP) == 1
    assert scraper.value("lvs_arp_vip_misplaced", vip=VIP) == 0
    placement = {"vip": VIP, "interface": "lo", "prefix_length": "32", "scope": "host"}
    assert scraper.value("lvs_arp_vip_placement_info", **placement) == 1


@pytest.mark.parametrize(
    ("host", "present"),
    [
        (FakeHost(all_ignore=1, all_announce=2).loopback().interface("eth0", LAN), 0),
        (FakeHost(all_ignore=1, all_announce=2).loopback().interface("eth0", LAN, f"{VIP}/32"), 1),
        (FakeHost(all_ignore=1, all_announce=2).loopback(f"{VIP}/24").interface("eth0", LAN), 1),
    ],
    ids=["missing", "on-the-lan-interface", "wider-than-32"],
)
def test_a_real_servers_misplaced_vip(scraper: Scraper, host: FakeHost, present: int) -> None:
    scraper.load(host, vips=(IPv4Address(VIP),))
    assert scraper.value("lvs_arp_vip_present", vip=VIP) == present
    assert scraper.value("lvs_arp_vip_misplaced", vip=VIP) == 1
    assert scraper.value("lvs_arp_compliant") == 0


def test_a_director_answering_for_its_vip_is_compliant(scraper: Scraper) -> None:
    host = FakeHost(virtual_services=(VIP,)).loopback().interface("eth0", LAN, f"{VIP}/32")
    scraper.load(host, Role.DIRECTOR)
    assert scraper.value("lvs_arp_role_info", role="director") == 1
    assert scraper.value("lvs_arp_vip_misplaced", vip=VIP) == 0
    assert scraper.value("lvs_arp_misconfigured", interface="eth0", parameter="arp_ignore") == 0
    assert scraper.value("lvs_arp_compliant") == 1


def test_a_director_silent_on_its_vip_interface_is_misconfigured(scraper: Scraper) -> None:
    host = FakeHost(virtual_services=(VIP,)).loopback()
    host.interface("eth0", LAN, f"{VIP}/32", ignore=8)
    scraper.load(host, Role.DIRECTOR)
    assert scraper.misconfigured("eth0", "arp_ignore") == 1
    assert (scraper.value("lvs_arp_findings", severity="critical") or 0) >= 1


def test_no_vip_at_all_is_unknown_not_compliant(scraper: Scraper) -> None:
    scraper.load(FakeHost(all_ignore=1, all_announce=2).loopback().interface("eth0", LAN))
    assert scraper.value("lvs_arp_findings", severity="unknown") == 1
    assert scraper.value("lvs_arp_compliant") == 0
    assert scraper.value("lvs_arp_scrape_success") == 1


def test_build_and_role_info(scraper: Scraper) -> None:
    scraper.load(sound_realserver())
    assert scraper.value("lvs_arp_role_info", role="realserver") == 1
    [build] = [s for f in scraper.registry.collect() for s in f.samples if "build" in s.name]
    assert build.name == "lvs_arp_exporter_build_info"
    assert build.labels["version"] == __version__


def test_every_scrape_reads_the_host_afresh(scraper: Scraper, tmp_path: Path) -> None:
    scraper.load(leaking_realserver())
    assert scraper.misconfigured("eth0", "arp_ignore") == 1
    conf = next(tmp_path.glob("tree*/proc/sys/net/ipv4/conf/all/arp_ignore"))
    conf.write_text("1\n")
    assert scraper.misconfigured("eth0", "arp_ignore") == 0


def test_a_failed_read_is_a_gauge_and_a_counted_reason(scraper: Scraper, tmp_path: Path) -> None:
    scraper.load(sound_realserver())
    for path in tmp_path.glob("tree*/proc/sys/net/ipv4/conf/all/arp_ignore"):
        path.write_text("abc\n")
    assert scraper.value("lvs_arp_scrape_success") == 0
    assert scraper.value("lvs_arp_scrape_errors_total", reason="read") == 2  # two scrapes now
    assert scraper.value("lvs_arp_scrape_errors_total", reason="timeout") == 0
    assert scraper.value("lvs_arp_compliant") is None  # absent, not a made-up 0 or 1
    assert scraper.value("lvs_arp_role_info", role="realserver") == 1


def test_an_unexpected_error_is_counted_as_internal(
    scraper: Scraper, monkeypatch: pytest.MonkeyPatch
) -> None:
    scraper.load(sound_realserver())

    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(host_reader, "read_host", broken)
    body = text_format(scraper.registry.collect())
    assert b"lvs_arp_scrape_success 0\n" in body
    assert b'lvs_arp_scrape_errors_total{reason="internal"} 1\n' in body


@pytest.fixture
def hung_read(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Make every host read hang until the test sets the event (always set at the end)."""
    release = threading.Event()

    def hang(*args: object) -> None:
        release.wait(30)
        raise ReadError("released")

    monkeypatch.setattr(host_reader, "read_host", hang)
    yield release
    release.set()


def test_a_hung_read_times_out_without_stalling_later_scrapes(
    hung_read: threading.Event,
) -> None:
    guard = ReadGuard(timeout_s=0.2, max_in_flight=2)
    registry = build_registry(ArpCollector(NodeCheck(Role.REALSERVER), guard))
    started = time.monotonic()
    assert registry.get_sample_value("lvs_arp_scrape_success") == 0
    assert registry.get_sample_value("lvs_arp_scrape_success") == 0  # the first is still hung
    assert time.monotonic() - started < 2
    reasons = {"reason": "timeout"}
    # get_sample_value collects once more: two timeouts, then every slot is held.
    assert registry.get_sample_value("lvs_arp_scrape_errors_total", reasons) == 2
    started = time.monotonic()
    assert registry.get_sample_value("lvs_arp_scrape_errors_total", {"reason": "busy"}) == 2
    assert time.monotonic() - started < 2  # each busy scrape waited its deadline, no more


def test_a_hung_read_frees_its_slot_when_it_returns(hung_read: threading.Event) -> None:
    guard = ReadGuard(timeout_s=0.1, max_in_flight=1)
    registry = build_registry(ArpCollector(NodeCheck(Role.REALSERVER), guard))
    assert registry.get_sample_value("lvs_arp_scrape_errors_total", {"reason": "timeout"}) == 1
    hung_read.set()
    deadline = time.monotonic() + 5
    while registry.get_sample_value("lvs_arp_scrape_errors_total", {"reason": "read"}) != 1:
        assert time.monotonic() < deadline, "the released read never freed its slot"
        time.sleep(0.05)


def test_concurrent_scrapes_each_get_a_whole_answer(scraper: Scraper) -> None:
    scraper.load(leaking_realserver())
    render = renderer(scraper.registry)
    bodies: list[bytes] = []

    def scrape() -> None:
        bodies.append(render(None)[0])

    threads = [threading.Thread(target=scrape) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(bodies) == 8
    assert all(b"lvs_arp_scrape_success 1\n" in body for body in bodies)


def _help_and_type_lines(body: str) -> Counter[str]:
    return Counter(line for line in body.splitlines() if line.startswith(("# HELP", "# TYPE")))


def test_each_name_has_one_help_and_one_type(scraper: Scraper) -> None:
    host = leaking_realserver().interface("eth1", "198.51.100.10/24", f"{VIP}/32")
    scraper.load(host)
    body, content_type = renderer(scraper.registry)("application/openmetrics-text")
    assert content_type == CONTENT_TYPE
    lines = _help_and_type_lines(body.decode())
    assert lines and max(lines.values()) == 1
    names = [line.split()[2] for line in lines if line.startswith("# TYPE")]
    assert len(names) == len(set(names))


def test_the_exposition_says_what_prometheus_client_would(scraper: Scraper) -> None:
    host = leaking_realserver().interface('we"ird\\0', "198.51.100.10/24")
    scraper.load(host)
    families = list(scraper.registry.collect())
    ours = text_format(families).decode()
    theirs = generate_latest(_Fixed(families)).decode()
    assert _samples(ours) == _samples(theirs)
    assert _help_and_type_lines(ours) == _help_and_type_lines(theirs)


class _Fixed:
    """A collector that answers the same families again, so both encoders see one read."""

    def __init__(self, families: list[object]) -> None:
        self.families = families

    def collect(self) -> list[object]:
        return self.families


def _samples(body: str) -> set[tuple[str, tuple[tuple[str, str], ...], float]]:
    return {
        (s.name, tuple(sorted(s.labels.items())), s.value)
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def cause_samples(scraper: Scraper) -> dict[tuple[str, ...], float]:
    return {
        tuple(sample.labels[k] for k in LABELS): sample.value
        for family in scraper.registry.collect()
        for sample in family.samples
        if sample.name == "lvs_arp_cause"
    }


LABELS = ("cause", "severity", "parameter", "conf", "after_reboot")


def test_each_root_cause_is_one_series_counting_what_it_affects(scraper: Scraper) -> None:
    host = leaking_realserver()
    for n in range(1, 40):
        host.interface(f"eth{n}", f"198.51.{n}.10/24")
    host.interface("eth40", "203.0.113.1/24", ignore=8)
    scraper.load(host, vips=(IPv4Address(VIP), IPv4Address("192.0.2.101")))
    assert cause_samples(scraper) == {
        ("reply_leak", "critical", "arp_ignore", "all", "false"): 40,
        ("announce_leak", "critical", "arp_announce", "all", "false"): 41,
        ("silent", "critical", "arp_ignore", "own", "false"): 1,
        ("vip_absent", "critical", "", "", "false"): 1,
        # conf/default at 0: interfaces created later leak too (one cause each, no interface).
        ("new_interface_risk", "warning", "arp_ignore", "default", "false"): 1,
        ("new_interface_risk", "warning", "arp_announce", "default", "false"): 1,
    }


def test_a_sound_node_has_no_cause_series(scraper: Scraper) -> None:
    scraper.load(sound_realserver())
    assert cause_samples(scraper) == {}
    assert scraper.label_values("lvs_arp_cause", "cause") == set()


def test_lost_entries_are_causes_after_reboot(scraper: Scraper, tmp_path: Path) -> None:
    empty = tmp_path / "boot"
    (empty / "etc/sysctl.d").mkdir(parents=True)
    host = sound_realserver().interface("eth1", "198.51.100.10/24")
    scraper.load(host, sysctl_root=str(empty))
    assert cause_samples(scraper) == {
        ("lost_at_reboot", "warning", "arp_ignore", "all", "true"): 2,
        ("lost_at_reboot", "warning", "arp_announce", "all", "true"): 2,
    }
    # Only eth0's own arp_ignore=1 keeps it sound, and no file sets it: conf="own".
    kept = tmp_path / "kept"
    (kept / "etc/sysctl.d").mkdir(parents=True)
    (kept / "etc/sysctl.d/50-site.conf").write_text(
        "net.ipv4.conf.all.arp_announce = 2\nnet.ipv4.conf.default.arp_ignore = 1\n"
    )
    host = FakeHost(all_announce=2, default_ignore=1).loopback(f"{VIP}/32")
    scraper.load(host.interface("eth0", LAN, ignore=1), sysctl_root=str(kept))
    assert cause_samples(scraper) == {
        ("lost_at_reboot", "warning", "arp_ignore", "own", "true"): 1,
    }


def test_vip_counts_by_state(scraper: Scraper) -> None:
    host = FakeHost(all_ignore=1, all_announce=2).loopback(f"{VIP}/32", "192.0.2.101/24")
    host.interface("eth0", LAN)
    vips = tuple(IPv4Address(v) for v in (VIP, "192.0.2.101", "192.0.2.102"))
    scraper.load(host, vips=vips)
    assert scraper.value("lvs_arp_vips", state="judged") == 3
    assert scraper.value("lvs_arp_vips", state="present") == 2
    assert scraper.value("lvs_arp_vips", state="misplaced") == 2  # /24 on lo, and absent
    assert scraper.value("lvs_arp_vip_misplaced", vip="192.0.2.101") == 1


@pytest.mark.parametrize(("limit", "per_vip"), [(3, True), (2, False)], ids=["at", "over"])
def test_per_vip_series_stop_at_the_limit(scraper: Scraper, limit: int, per_vip: bool) -> None:
    vips = [f"192.0.2.{n}" for n in (100, 101, 102)]
    host = FakeHost(all_ignore=1, all_announce=2).loopback(*(f"{v}/32" for v in vips))
    scraper.load(host.interface("eth0", LAN), vip_series_limit=limit)
    assert scraper.value("lvs_arp_vips", state="judged") == 3
    assert scraper.value("lvs_arp_vips", state="present") == 3
    for name in ("lvs_arp_vip_present", "lvs_arp_vip_misplaced"):
        assert scraper.label_values(name, "vip") == (set(vips) if per_vip else set())
    assert bool(scraper.label_values("lvs_arp_vip_placement_info", "vip")) is per_vip


def test_the_default_vip_series_limit_is_256(scraper: Scraper) -> None:
    vips = [f"10.9.{n // 250}.{n % 250 + 1}" for n in range(257)]
    host = FakeHost(all_ignore=1, all_announce=2).loopback(*(f"{v}/32" for v in vips))
    scraper.load(host.interface("eth0", LAN))
    assert scraper.value("lvs_arp_vips", state="judged") == 257
    assert scraper.label_values("lvs_arp_vip_present", "vip") == set()
    scraper.load(host, vips=tuple(IPv4Address(v) for v in vips[:256]))
    assert len(scraper.label_values("lvs_arp_vip_present", "vip")) == 256


def process_names(registry: CollectorRegistry) -> set[str]:
    return {f.name for f in registry.collect() if f.name.startswith("process_")}


def test_process_metrics_when_served_not_in_a_textfile(tmp_path: Path) -> None:
    tree = sound_realserver().write(tmp_path / "tree")
    check = NodeCheck(
        Role.REALSERVER,
        proc_root=str(tree.proc_root),
        sys_root=str(tree.sys_root),
        ip_json=str(tree.ip_json),
    )
    collector = ArpCollector(check, ReadGuard(timeout_s=5))
    served = build_registry(collector)
    assert {"process_cpu_seconds", "process_resident_memory_bytes"} <= process_names(served)
    assert (served.get_sample_value("process_resident_memory_bytes") or 0) > 0
    assert process_names(build_registry(collector, process=False)) == set()
    assert build_registry(collector, process=False).get_sample_value("lvs_arp_compliant") == 1


def test_a_textfile_run_writes_no_process_metrics(tmp_path: Path) -> None:
    from exporter.cli import write_textfile

    tree = sound_realserver().write(tmp_path / "tree")
    check = NodeCheck(
        Role.REALSERVER,
        proc_root=str(tree.proc_root),
        sys_root=str(tree.sys_root),
        ip_json=str(tree.ip_json),
    )
    out = tmp_path / "lvs_arp.prom"
    assert write_textfile(str(out), ArpCollector(check, ReadGuard(timeout_s=5))) == 0
    text = out.read_text()
    assert re.search(r"^lvs_arp_compliant 1", text, re.M), text
    assert not re.search(r"^process_", text, re.M), text
