"""--probe-arp in every face, on a real kernel: the plugin, the exporter and the preflight run
as subprocesses inside a machine of the bridged segment (tests/kernel/segment.py), the way
NRPE, systemd and an operator run them there.

This CI kernel has no IPVS. A director's /proc/net/ip_vs (its virtual service and real
servers) is the file segment.py writes, bound over the face's own /proc/<pid>/net in a
private mount namespace: the face reads it at /proc/net/ip_vs as on a real director, while
what answers ARP, the neighbour table and the interfaces are the kernel's.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import jsonschema
import pytest
from prometheus_client.parser import text_string_to_metric_families

from .segment import LAN, VIP, Segment, lan_segment

pytestmark = pytest.mark.kernel

LEAK = (0, 0)
FIXED = (1, 2)
OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATUS_LINE_MAX = 90
REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "checks/cli/preflight.schema.json").read_text(encoding="utf-8"))

# Runs "$@" with the directory "$0" as its /proc/net: a private mount namespace, and exec
# keeps the pid the bind mount names.
WITH_IP_VS = 'mount --make-rprivate / && mount --bind "$0" /proc/$$/net && exec "$@"'
# Root without a single capability: what a plugin run as nobody by NRPE has.
UNPRIVILEGED = (
    "setpriv",
    "--reuid=nobody",
    "--regid=nogroup",
    "--clear-groups",
    "--inh-caps=-all",
    "--bounding-set=-all",
    "--no-new-privs",
)


@pytest.fixture
def segment(netns_support: None, tmp_path: Path) -> Iterator[Segment]:
    """Router, director holding the VIP on lan0 and resolving both real servers and the
    second director, real servers with the VIP on lo and fixed."""
    with lan_segment(tmp_path) as wired:
        wired.add_vip("director", LAN)
        for rs in ("rs1", "rs2"):
            wired.add_vip(rs, "lo")
            wired.set_knobs(rs, *FIXED)
        wired.learn("director", "rs1", "rs2", "director2")
        yield wired


def face(
    segment: Segment, label: str, module: str, *args: str, ip_vs: bool = True
) -> tuple[int, str]:
    """Run `python -m module args` in *label*'s namespace (with the director's ip_vs file);
    its exit code and stdout."""
    argv: Sequence[str] = [sys.executable, "-m", module, *args]
    if ip_vs:
        assert segment.proc_root is not None
        argv = ["unshare", "-m", "sh", "-c", WITH_IP_VS, f"{segment.proc_root}/net", *argv]
    done = segment.run_as(label, argv)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done.returncode, done.stdout


def plugin(segment: Segment, label: str, role: str, *extra: str) -> tuple[int, str, str]:
    """check_lvs_arp --probe-arp in *label*: exit code, status line, perfdata."""
    args = ["--role", role, "--vip", VIP, "--probe-arp", "--no-boot-check", *extra]
    code, out = face(segment, label, "checks.cli.nagios", *args, ip_vs=role == "director")
    first = out.splitlines()[0]
    status, _, perfdata = first.partition(" | ")
    assert len(status) <= STATUS_LINE_MAX, status
    return code, status, perfdata


def perf(perfdata: str, label: str) -> int:
    match = re.search(rf"(?:^| ){label}=(\d+)", perfdata)
    assert match, perfdata
    return int(match.group(1))


Series = dict[str, list[dict[str, str]]]


def exporter_series(segment: Segment, tmp_path: Path, label: str) -> Series:
    """lvs-arp-exporter --probe-arp --textfile in *label*: the probe families' samples."""
    path = tmp_path / f"{label}.prom"
    args = ["--role", "director", "--vip", VIP, "--probe-arp", "--no-boot-check"]
    code, _ = face(segment, label, "exporter.cli", *args, "--textfile", str(path))
    assert code == 0
    text = path.read_text(encoding="utf-8")
    path.unlink()
    found: Series = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "lvs_arp_scrape_success":
                assert sample.value == 1, text
            if sample.name.startswith("lvs_arp_probe_"):
                found.setdefault(sample.name, []).append(
                    {**sample.labels, "value": str(int(sample.value))}
                )
    return found


# --- the plugin on the director ------------------------------------------------------------


def test_plugin_names_the_leaking_real_server_by_mac_and_address(segment: Segment) -> None:
    code, status, perfdata = plugin(segment, "director", "director")
    assert code == OK, status
    assert "no other machine answers" in status
    assert (perf(perfdata, "probe_responders"), perf(perfdata, "probe_vips_unsound")) == (0, 0)

    segment.set_knobs("rs1", *LEAK)
    code, status, perfdata = plugin(segment, "director", "director")
    rs1 = segment["rs1"]
    assert code == CRITICAL, status
    assert status.startswith("LVS_ARP CRITICAL - "), status
    assert rs1.mac in status and rs1.ip in status, status
    assert segment["rs2"].mac not in status
    assert (perf(perfdata, "probe_responders"), perf(perfdata, "probe_vips_unsound")) == (1, 1)

    segment.set_knobs("rs1", *FIXED)
    code, status, _ = plugin(segment, "director", "director")
    assert code == OK, status


def test_plugin_verbose_output_says_real_server_and_why(segment: Segment) -> None:
    segment.set_knobs("rs2", *LEAK)
    code, out = face(
        segment,
        "director",
        "checks.cli.nagios",
        *("--role", "director", "--vip", VIP, "--probe-arp", "--no-boot-check", "-v"),
    )
    rs2 = segment["rs2"]
    assert code == CRITICAL, out
    assert f"{rs2.mac} (real server {rs2.ip})" in out
    assert f"answered by (1): {rs2.mac} (real server {rs2.ip})" in out


def test_plugin_director_without_the_vip_names_the_real_server_still_answering(
    segment: Segment,
) -> None:
    segment.del_vip("director", LAN)
    segment.set_knobs("rs1", *LEAK)
    rs1 = segment["rs1"]
    for extra in ((), ("--standby-ok",)):
        code, status, _ = plugin(segment, "director", "director", *extra)
        assert code == CRITICAL, (extra, status)
        assert rs1.mac in status and rs1.ip in status, status


def test_plugin_standby_names_the_active_director(segment: Segment) -> None:
    segment.del_vip("director", LAN)
    segment.add_vip("director2", LAN)
    code, status, perfdata = plugin(segment, "director", "director", "--standby-ok")
    director2 = segment["director2"]
    assert code == OK, status
    assert f"active director {director2.mac} ({director2.ip})" in status
    assert perf(perfdata, "probe_responders") == 1


def test_plugin_split_brain_is_critical(segment: Segment) -> None:
    segment.add_vip("director2", LAN)
    code, status, _ = plugin(segment, "director", "director")
    director2 = segment["director2"]
    assert code == CRITICAL, status
    assert director2.mac in status and director2.ip in status, status


# --- the plugin on a real server -------------------------------------------------------------


def test_realserver_probe_expects_exactly_one_director(segment: Segment) -> None:
    director, director2 = segment["director"], segment["director2"]
    code, status, perfdata = plugin(segment, "rs1", "realserver")
    assert code == OK, status
    assert director.mac in status, status
    assert perf(perfdata, "probe_responders") == 1

    segment.add_vip("director2", LAN)
    code, status, perfdata = plugin(segment, "rs1", "realserver")
    assert code == CRITICAL, status
    assert director.mac in status or director2.mac in status, status
    assert "2 machines" in status
    assert perf(perfdata, "probe_responders") == 2

    segment.del_vip("director", LAN)
    segment.del_vip("director2", LAN)
    code, status, perfdata = plugin(segment, "rs1", "realserver")
    assert code == CRITICAL, status
    assert "nobody answers ARP" in status, status
    assert perf(perfdata, "probe_responders") == 0


# --- privileges and refusals -----------------------------------------------------------------


def test_plugin_without_cap_net_raw_is_unknown_saying_what_to_grant(segment: Segment) -> None:
    argv = [*UNPRIVILEGED, sys.executable, "-m", "checks.cli.nagios"]
    argv += ["--role", "realserver", "--vip", VIP, "--probe-arp", "--no-boot-check", "-v"]
    done = segment.run_as("rs1", argv)
    assert done.returncode == UNKNOWN, done.stdout + done.stderr
    status = done.stdout.splitlines()[0]
    assert status.startswith(f"LVS_ARP UNKNOWN - the ARP probe on {LAN} needs CAP_NET_RAW"), status
    assert len(status) <= 90  # cut to fit: -v gives the whole message, what to grant too
    assert "Traceback" not in done.stdout + done.stderr
    for grant in ("sudo", "AmbientCapabilities=CAP_NET_RAW", "setcap"):
        assert grant in done.stdout


# --- the exporter ------------------------------------------------------------------------------


def test_exporter_series_name_the_leaking_real_server(segment: Segment, tmp_path: Path) -> None:
    sound = exporter_series(segment, tmp_path, "director")
    assert sound == {"lvs_arp_probe_responders": [{"vip": VIP, "value": "0"}]}

    segment.set_knobs("rs1", *LEAK)
    rs1 = segment["rs1"]
    leaking = exporter_series(segment, tmp_path, "director")
    assert leaking["lvs_arp_probe_responders"] == [{"vip": VIP, "value": "1"}]
    assert leaking["lvs_arp_probe_responder_info"] == [
        {"vip": VIP, "mac": rs1.mac, "address": rs1.ip, "kind": "realserver", "value": "1"}
    ]

    segment.set_knobs("rs1", *FIXED)
    segment.del_vip("director", LAN)
    segment.add_vip("director2", LAN)
    director2 = segment["director2"]
    moved = exporter_series(segment, tmp_path, "director")
    assert moved["lvs_arp_probe_responders"] == [{"vip": VIP, "value": "1"}]
    (info,) = moved["lvs_arp_probe_responder_info"]
    assert (info["mac"], info["address"]) == (director2.mac, director2.ip)

    segment.add_vip("director", LAN)  # split brain: both hold it
    both = exporter_series(segment, tmp_path, "director")
    assert both["lvs_arp_probe_responders"] == [{"vip": VIP, "value": "1"}]
    assert [i["mac"] for i in both["lvs_arp_probe_responder_info"]] == [director2.mac]


# --- the preflight -------------------------------------------------------------------------------


def test_preflight_json_lists_the_responders_and_validates(segment: Segment) -> None:
    segment.set_knobs("rs2", *LEAK)
    args = ["--role", "director", "--vip", VIP, "--probe-arp", "--no-boot-check", "--json"]
    code, out = face(segment, "director", "checks.cli.preflight", *args)
    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    assert code == 2 and document["exit_code"] == 2
    (probe,) = [c for c in document["checks"] if c["cause"].startswith("probe_")]
    rs2 = segment["rs2"]
    assert probe["cause"] == "probe_foreign_responder"
    assert probe["status"] == "FAIL"
    assert probe["interfaces"] == [LAN]
    assert probe["responders"] == [
        {"mac": rs2.mac, "ips": [rs2.ip], "is_real_server": True, "is_local": False}
    ]
    assert all(c["responders"] == [] for c in document["checks"] if c is not probe)
