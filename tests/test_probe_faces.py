"""--probe-arp in the faces without a wire: options refused at start, the wiring of
NodeCheck.assess (the probe itself replaced), status lines, perfdata, the exporter's
families and the preflight's JSON from probe findings. What the wire says is tested on a
kernel in tests/kernel/test_probe_faces.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from ipaddress import IPv4Address
from pathlib import Path

import jsonschema
import pytest
from fake_host import FakeHost

from checks.assess import Assessment, NodeCheck, ProbeOptions
from checks.cli import options as options_module
from checks.cli.nagios import NAME, STATUS_LINE_MAX, ok_line, perfdata, problem_line
from checks.cli.nagios_args import build_parser
from checks.cli.options import node_check, probe_window_seconds
from checks.cli.preflight_json import document, preflight
from checks.errors import ConfigError
from checks.finding import Cause, Finding, Severity
from checks.judge import probe
from checks.judge.probe import judge_probe, probe_finding
from checks.model import IFF_LOOPBACK, IFF_UP, Address, ArpKnobs, HostState, Interface, Role
from checks.read import arp_probe
from checks.read.arp_probe import ProbeResult, Responder
from exporter import cli as exporter_cli
from exporter.families import probe_families

REPO = Path(__file__).resolve().parents[1]
BIN = os.path.dirname(sys.executable)
PLUGIN = os.path.join(BIN, "check_lvs_arp")
VIP = IPv4Address("192.0.2.100")
# The longest an IPv4 address and a VIP can be: the status line must still fit.
LONG_VIP = IPv4Address("203.113.255.254")
RS1 = Responder("02:00:00:00:00:11", False, (IPv4Address("192.0.2.11"),), True)
LONG_RS = Responder("02:00:00:00:00:99", False, (IPv4Address("198.151.100.254"),), True)
PEER = Responder("02:00:00:00:00:02", False, (IPv4Address("192.0.2.2"),))
STRANGER = Responder("02:00:00:00:00:03", False)
OWN_NIC = Responder("02:00:00:00:00:01", True, (IPv4Address("192.0.2.9"),))


def run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def state(*vips_on_lan: IPv4Address) -> HostState:
    knobs = ArpKnobs(0, 0)
    interfaces = (Interface("lo", IFF_UP | IFF_LOOPBACK, knobs), Interface("lan0", IFF_UP, knobs))
    addresses = [Address("lan0", IPv4Address("192.0.2.10"), 24, 0)]
    addresses += [Address("lan0", vip, 32, 0) for vip in vips_on_lan]
    return HostState(knobs, knobs, interfaces, tuple(addresses))


def result(*responders: Responder, vip: IPv4Address = VIP) -> ProbeResult:
    return ProbeResult(vip, "lan0", responders, 0.3, 2, len(responders))


def verdict_finding(
    role: Role, holds: bool, standby_ok: bool, *heard: Responder, vip: IPv4Address = VIP
) -> Finding:
    return probe_finding(judge_probe(role, vip, holds, standby_ok, [result(*heard, vip=vip)]))


def assessment(role: Role, *findings: Finding, vips: Sequence[IPv4Address] = (VIP,)) -> Assessment:
    host = state(*vips)
    return Assessment(role, tuple(vips), host, host.interfaces[1:], tuple(findings))


# --- options, refused at start -------------------------------------------------------------


@pytest.mark.parametrize("text", ["0", "-0.1", "10.01", "nan", "inf", "x", ""])
def test_a_probe_window_outside_0_to_10_seconds_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="--probe-window"):
        probe_window_seconds(text)


@pytest.mark.parametrize("text", ["0.05", "0.3", "10"])
def test_a_probe_window_inside_is_taken(text: str) -> None:
    assert probe_window_seconds(text) == float(text)


def test_the_defaults_are_the_librarys() -> None:
    assert options_module.DEFAULT_PROBE_WINDOW_S == arp_probe.DEFAULT_WINDOW_S
    assert options_module.MAX_PROBE_WINDOW_S == arp_probe.MAX_WINDOW_S
    assert ProbeOptions().window_s == arp_probe.DEFAULT_WINDOW_S


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--probe-window", "0"], "--probe-window"),
        (["--probe-window", "11"], "--probe-window"),
        (["--probe-window", "2", "-t", "2"], "does not fit in -t 2"),
        (["--probe-interface", "lan0"], "--probe-interface is an option of --probe-arp"),
        (["--proc-root", "/tmp"], "--probe-arp needs the live host"),
        (["--ip-json", "/tmp/x.json"], "--probe-arp needs the live host"),
    ],
)
def test_the_plugin_refuses_bad_probe_options_at_start(argv: list[str], message: str) -> None:
    probing = [] if "--probe-interface" in argv else ["--probe-arp"]
    done = run([PLUGIN, "--role", "director", "--vip", str(VIP), *probing, *argv])
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stdout.startswith("LVS_ARP UNKNOWN - "), done.stdout
    assert message in done.stdout.splitlines()[0]
    assert "Traceback" not in done.stdout + done.stderr


def test_probe_options_reach_the_node_check() -> None:
    args = ["-r", "realserver", "--probe-arp", "--probe-interface", "eth1"]
    check = node_check(build_parser().parse_args([*args, "--probe-window", "0.5"]))
    assert check.probe == ProbeOptions(0.5, "eth1")
    assert node_check(build_parser().parse_args(["-r", "realserver"])).probe is None


def test_the_exporter_refuses_a_window_its_scrape_timeout_cuts_short(tmp_path: Path) -> None:
    base = ["--role", "director", "--probe-arp", "--textfile", str(tmp_path / "x.prom")]
    assert exporter_cli.run([*base, "--probe-window", "1", "--scrape.timeout", "1s"]) == 1
    assert not (tmp_path / "x.prom").exists()
    with pytest.raises(ConfigError, match=r"--scrape\.timeout"):
        exporter_cli.node_check(
            exporter_cli.build_parser().parse_args(
                [*base, "--probe-window", "0.5", "--scrape.timeout", "500ms"]
            )
        )


def test_the_library_refuses_a_probe_of_a_host_read_from_files(tmp_path: Path) -> None:
    tree = FakeHost(1, 2, 1, 2).loopback("10.0.0.100/32").write(tmp_path)
    check = NodeCheck(Role.REALSERVER, proc_root=str(tree.proc_root), probe=ProbeOptions())
    with pytest.raises(ConfigError, match="--proc-root"):
        check.assess()


# --- NodeCheck.assess: the probe after the read, its findings first ------------------------


def test_assess_probes_every_vip_and_puts_the_wire_first(monkeypatch: pytest.MonkeyPatch) -> None:
    host = state(VIP)
    asked: list[tuple[list[tuple[str, IPv4Address]], float]] = []

    def fake_probe(targets: list[tuple[str, IPv4Address]], window: float) -> tuple[ProbeResult]:
        asked.append((targets, window))
        return (result(RS1),)

    monkeypatch.setattr("checks.read.host.read_host", lambda *args: host)
    monkeypatch.setattr(arp_probe, "probe_and_identify", fake_probe)
    check = NodeCheck(Role.DIRECTOR, vips=(VIP,), probe=ProbeOptions(0.2))
    judged = check.assess()
    assert asked == [([("lan0", VIP)], 0.2)]
    first = judged.findings[0]
    assert (first.cause, first.severity) == (Cause.PROBE_FOREIGN_RESPONDER, Severity.CRITICAL)
    assert (first.vips, first.interfaces, first.responders) == ((VIP,), ("lan0",), (RS1,))
    assert [f.cause for f in judged.findings].count(Cause.PROBE_FOREIGN_RESPONDER) == 1
    # Without the probe nothing is sent and no probe finding appears.
    unprobed = check._replace(probe=None).assess()
    assert len(asked) == 1
    assert not any(f.cause in probe.PROBE_CAUSES for f in unprobed.findings)


# --- status lines ---------------------------------------------------------------------------

PROBLEMS = [
    (Role.DIRECTOR, True, False, (RS1,)),
    (Role.DIRECTOR, True, False, (PEER,)),
    (Role.DIRECTOR, False, False, (PEER,)),
    (Role.DIRECTOR, False, False, (RS1, PEER, STRANGER)),
    (Role.DIRECTOR, False, True, (PEER, OWN_NIC)),
    (Role.DIRECTOR, False, True, (PEER, STRANGER)),
    (Role.REALSERVER, False, False, (PEER, STRANGER)),
]


@pytest.mark.parametrize(("role", "holds", "standby_ok", "heard"), PROBLEMS)
@pytest.mark.parametrize("others", [0, 1, 12])
def test_the_status_line_names_a_responders_mac_and_address_within_90_chars(
    role: Role, holds: bool, standby_ok: bool, heard: tuple[Responder, ...], others: int
) -> None:
    found = verdict_finding(role, holds, standby_ok, *heard)
    extra = [Finding(Severity.CRITICAL, Cause.VIP_NOT_HELD, vips=(VIP,))] * others
    line = f"{NAME} CRITICAL - {problem_line(assessment(role, found, *extra), 'CRITICAL')}"
    assert len(line) <= STATUS_LINE_MAX, line
    first = probe.named_responders(found)[0]
    assert first.mac in line, line
    if first.ips and others < 12:
        assert str(first.ips[0]) in line, line


def test_the_leaking_real_server_reads_as_the_issue_asks() -> None:
    found = verdict_finding(Role.DIRECTOR, True, False, RS1)
    assert problem_line(assessment(Role.DIRECTOR, found), "CRITICAL") == (
        "VIP 192.0.2.100 answered by 02:00:00:00:00:11 (real server 192.0.2.11)"
    )


def test_the_longest_addresses_still_fit_and_keep_the_mac() -> None:
    found = verdict_finding(Role.DIRECTOR, True, False, LONG_RS, vip=LONG_VIP)
    extra = Finding(Severity.CRITICAL, Cause.VIP_NOT_HELD, vips=(LONG_VIP,))
    text = problem_line(assessment(Role.DIRECTOR, found, extra, vips=(LONG_VIP,)), "CRITICAL")
    line = f"{NAME} CRITICAL - {text}"
    assert len(line) <= STATUS_LINE_MAX, line
    assert LONG_RS.mac in line and str(LONG_VIP) in line


@pytest.mark.parametrize(
    ("role", "holds", "standby_ok", "heard", "expected"),
    [
        (
            Role.DIRECTOR,
            True,
            False,
            (),
            "VIP 192.0.2.100 answered by ARP; no other machine answers",
        ),
        (
            Role.DIRECTOR,
            False,
            True,
            (PEER,),
            "VIP 192.0.2.100 standby: active director 02:00:00:00:00:02 (192.0.2.2)",
        ),
    ],
)
def test_ok_lines_say_what_the_wire_says(
    role: Role, holds: bool, standby_ok: bool, heard: tuple[Responder, ...], expected: str
) -> None:
    found = verdict_finding(role, holds, standby_ok, *heard)
    standby = Finding(Severity.INFO, Cause.VIP_NOT_HELD, vips=(VIP,))
    findings = (found,) if holds else (found, standby)
    assert ok_line(assessment(role, *findings)) == expected


def test_ok_line_drops_the_address_before_the_director() -> None:
    found = verdict_finding(Role.REALSERVER, False, False, PEER._replace(ips=(LONG_VIP,)))
    line = f"{NAME} OK - {ok_line(assessment(Role.REALSERVER, found))}"
    assert line.endswith(f"; director {PEER.mac}"), line
    assert len(line) <= STATUS_LINE_MAX


# --- perfdata ---------------------------------------------------------------------------------


def test_perfdata_sums_foreign_responders_and_counts_unsound_vips() -> None:
    other = IPv4Address("192.0.2.101")
    findings = (
        verdict_finding(Role.DIRECTOR, True, False, RS1, OWN_NIC),
        verdict_finding(Role.DIRECTOR, True, False, PEER, STRANGER, vip=other),
        verdict_finding(Role.DIRECTOR, True, False, OWN_NIC, vip=IPv4Address("192.0.2.102")),
    )
    data = perfdata(assessment(Role.DIRECTOR, *findings))
    assert "probe_responders=3;;;0" in data.split()
    assert "probe_vips_unsound=2;;;0" in data.split()


def test_perfdata_has_no_probe_labels_without_the_probe() -> None:
    data = perfdata(assessment(Role.DIRECTOR, Finding(Severity.OK, Cause.VIP_PLACED)))
    assert "probe_" not in data


# --- the exporter's families -------------------------------------------------------------------


def test_exporter_families_count_foreign_macs_and_label_every_responder() -> None:
    other = IPv4Address("192.0.2.101")
    findings = (
        verdict_finding(Role.DIRECTOR, True, False, RS1, OWN_NIC, STRANGER),
        verdict_finding(Role.DIRECTOR, False, True, PEER, vip=other),
        Finding(Severity.OK, Cause.VIP_PLACED, vips=(VIP,)),
    )
    responders, info = probe_families(assessment(Role.DIRECTOR, *findings))
    assert responders.name == "lvs_arp_probe_responders"
    assert [(s.labels, s.value) for s in responders.samples] == [
        ({"vip": "192.0.2.100"}, 2),
        ({"vip": "192.0.2.101"}, 1),
    ]
    assert info.name == "lvs_arp_probe_responder"
    assert [s.labels for s in info.samples] == [
        {"vip": "192.0.2.100", "mac": RS1.mac, "address": "192.0.2.11", "kind": "realserver"},
        {"vip": "192.0.2.100", "mac": STRANGER.mac, "address": "", "kind": "unknown"},
        {"vip": "192.0.2.100", "mac": OWN_NIC.mac, "address": "192.0.2.9", "kind": "local"},
        {"vip": "192.0.2.101", "mac": PEER.mac, "address": "192.0.2.2", "kind": "director"},
    ]


def test_exporter_address_label_joins_every_ip() -> None:
    two = Responder("02:00:00:00:00:05", False, (IPv4Address("10.0.0.5"), IPv4Address("10.0.1.5")))
    found = verdict_finding(Role.REALSERVER, False, False, two)
    _, info = probe_families(assessment(Role.REALSERVER, found))
    (sample,) = info.samples
    assert (sample.labels["address"], sample.labels["kind"]) == ("10.0.0.5,10.0.1.5", "director")


# --- the preflight's JSON -----------------------------------------------------------------------


def test_preflight_json_of_probe_findings_validates_against_the_schema() -> None:
    schema = json.loads((REPO / "checks/cli/preflight.schema.json").read_text(encoding="utf-8"))
    findings = [
        verdict_finding(Role.DIRECTOR, True, False, *heard)
        for heard in ((RS1, OWN_NIC), (), (PEER,))
    ]
    findings.append(Finding(Severity.OK, Cause.VIP_PLACED, vips=(VIP,)))
    doc = document(preflight(assessment(Role.DIRECTOR, *findings)))
    jsonschema.validate(doc, schema)
    by_cause = {c["cause"]: c for c in doc["checks"]}
    assert by_cause["probe_foreign_responder"]["responders"] == [
        {"mac": RS1.mac, "ips": ["192.0.2.11"], "is_real_server": True, "is_local": False},
        {"mac": OWN_NIC.mac, "ips": ["192.0.2.9"], "is_real_server": False, "is_local": True},
    ]
    assert by_cause["probe_ok"]["responders"] == []
    assert by_cause["vip_placed"]["responders"] == []
    assert re.search(r"02:00:00:00:00:11 \(real server 192\.0\.2\.11\)", str(by_cause))


def test_the_faces_know_the_same_probe_causes_as_the_judge() -> None:
    from checks.cli.text import PROBE_CAUSES

    assert PROBE_CAUSES == probe.PROBE_CAUSES


def test_the_plugin_loads_no_packet_code_without_the_probe() -> None:
    code = "import sys, checks.cli.nagios; print(sorted(m for m in sys.modules if 'probe' in m))"
    done = run([sys.executable, "-c", code])
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_the_schema_lists_every_probe_cause() -> None:
    schema = json.loads((REPO / "checks/cli/preflight.schema.json").read_text(encoding="utf-8"))
    causes = set(schema["$defs"]["check"]["properties"]["cause"]["enum"])
    assert {cause.value for cause in probe.PROBE_CAUSES} <= causes
