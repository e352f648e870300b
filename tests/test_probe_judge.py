"""The probe's verdict table (issue 11), row by row: role, VIP held, --standby-ok, who answered."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from checks.cli.text import describe_responder, summary
from checks.finding import Cause, Severity
from checks.judge import probe
from checks.judge.probe import (
    ProbeVerdict,
    holds_vip,
    judge_probe,
    judge_probes,
    named_responders,
    probe_finding,
)
from checks.model import (
    IFF_LOOPBACK,
    IFF_NOARP,
    IFF_UP,
    Address,
    ArpKnobs,
    HostState,
    Interface,
    Role,
)
from checks.read.arp_probe import ProbeResult, Responder

VIP = IPv4Address("192.0.2.100")
OTHER_VIP = IPv4Address("192.0.2.101")
DIRECTOR = Role.DIRECTOR
REALSERVER = Role.REALSERVER

# The cast of the wire: MACs with what the director could tell about them.
PEER = Responder("02:00:00:00:00:02", False, (IPv4Address("192.0.2.2"),))
STRANGER = Responder("02:00:00:00:00:03", False)
RS1 = Responder("02:00:00:00:00:11", False, (IPv4Address("192.0.2.11"),), True)
RS2 = Responder("02:00:00:00:00:12", False, (IPv4Address("192.0.2.12"),), True)
OWN_NIC = Responder("02:00:00:00:00:01", True, (IPv4Address("192.0.2.9"),))


def result(
    *responders: Responder, vip: IPv4Address = VIP, interface: str = "lan0", truncated: bool = False
) -> ProbeResult:
    return ProbeResult(vip, interface, responders, 0.3, 2, len(responders), truncated)


C, OK = Severity.CRITICAL, Severity.OK

# role, holds the VIP, --standby-ok, responders -> kind, severity, responders named
TABLE = [
    # director holding the VIP
    (DIRECTOR, True, False, (), probe.OK, OK, ()),
    (DIRECTOR, True, True, (), probe.OK, OK, ()),
    (DIRECTOR, True, False, (OWN_NIC,), probe.OK, OK, ()),
    (DIRECTOR, True, False, (RS1,), probe.REALSERVER_RESPONDER, C, (RS1,)),
    (DIRECTOR, True, True, (RS1,), probe.REALSERVER_RESPONDER, C, (RS1,)),
    (DIRECTOR, True, False, (PEER,), probe.SPLIT_BRAIN, C, (PEER,)),
    (DIRECTOR, True, True, (STRANGER,), probe.SPLIT_BRAIN, C, (STRANGER,)),
    (DIRECTOR, True, False, (PEER, RS2), probe.REALSERVER_RESPONDER, C, (RS2, PEER)),
    (DIRECTOR, True, False, (RS1, RS2), probe.REALSERVER_RESPONDER, C, (RS1, RS2)),
    # director not holding it, no --standby-ok: CRITICAL whatever answers, naming who does
    (DIRECTOR, False, False, (), probe.UNREACHABLE, C, ()),
    (DIRECTOR, False, False, (PEER,), probe.VIP_NOT_HELD, C, (PEER,)),
    (DIRECTOR, False, False, (OWN_NIC,), probe.VIP_NOT_HELD, C, (OWN_NIC,)),
    (DIRECTOR, False, False, (PEER, STRANGER), probe.VIP_NOT_HELD, C, (PEER, STRANGER)),
    (DIRECTOR, False, False, (RS1,), probe.REALSERVER_RESPONDER, C, (RS1,)),
    # a BACKUP with --standby-ok: exactly one non-real-server answer is the active director
    (DIRECTOR, False, True, (PEER,), probe.STANDBY_ACTIVE_NAMED, OK, (PEER,)),
    (DIRECTOR, False, True, (STRANGER,), probe.STANDBY_ACTIVE_NAMED, OK, (STRANGER,)),
    (DIRECTOR, False, True, (RS1,), probe.REALSERVER_RESPONDER, C, (RS1,)),
    (DIRECTOR, False, True, (PEER, RS1), probe.REALSERVER_RESPONDER, C, (RS1, PEER)),
    (DIRECTOR, False, True, (PEER, STRANGER), probe.SPLIT_BRAIN, C, (PEER, STRANGER)),
    (DIRECTOR, False, True, (), probe.UNREACHABLE, C, ()),
    (DIRECTOR, False, True, (OWN_NIC,), probe.LOCAL_RESPONDER, C, (OWN_NIC,)),
    (DIRECTOR, False, True, (PEER, OWN_NIC), probe.LOCAL_RESPONDER, C, (OWN_NIC,)),
    # real server: exactly one answer expected; holds and --standby-ok change nothing
    (REALSERVER, False, False, (PEER,), probe.OK, OK, (PEER,)),
    (REALSERVER, True, True, (PEER,), probe.OK, OK, (PEER,)),
    (REALSERVER, False, False, (), probe.UNREACHABLE, C, ()),
    (REALSERVER, False, True, (), probe.UNREACHABLE, C, ()),
    (REALSERVER, False, False, (PEER, RS2), probe.SEVERAL_RESPONDERS, C, (PEER, RS2)),
    (REALSERVER, False, False, (PEER, STRANGER), probe.SEVERAL_RESPONDERS, C, (PEER, STRANGER)),
    (REALSERVER, False, False, (OWN_NIC,), probe.LOCAL_RESPONDER, C, (OWN_NIC,)),
    (REALSERVER, False, False, (PEER, OWN_NIC), probe.LOCAL_RESPONDER, C, (OWN_NIC,)),
]


@pytest.mark.parametrize(
    ("role", "holds", "standby_ok", "answered", "kind", "severity", "named"), TABLE
)
def test_verdict_table(
    role: Role,
    holds: bool,
    standby_ok: bool,
    answered: tuple[Responder, ...],
    kind: str,
    severity: Severity,
    named: tuple[Responder, ...],
) -> None:
    verdict = judge_probe(role, VIP, holds, standby_ok, [result(*answered)])
    assert (verdict.kind, verdict.severity, verdict.responders) == (kind, severity, named)
    assert verdict.responder_count == len(answered)
    finding = probe_finding(verdict)
    # The finding carries every machine heard, the named ones first, and gives them back.
    assert finding.responders[: len(named)] == named
    assert {r.mac for r in finding.responders} == {r.mac for r in answered}
    assert named_responders(finding) == named
    text = summary(finding, role, limit=3)
    for responder in named:  # the report names each machine by MAC and address
        assert responder.mac in text
        for ip in responder.ips:
            assert str(ip) in text


def test_the_table_covers_every_kind() -> None:
    assert {row[4] for row in TABLE} | {probe.PROBE_INCOMPLETE} == set(probe.KINDS)


@pytest.mark.parametrize(
    ("role", "holds", "standby_ok", "answered"),
    [
        (DIRECTOR, True, False, ()),
        (DIRECTOR, False, True, (PEER,)),
        (DIRECTOR, False, True, ()),
        (REALSERVER, False, False, (PEER,)),
    ],
)
def test_a_truncated_probe_cannot_say_ok_or_nobody(
    role: Role, holds: bool, standby_ok: bool, answered: tuple[Responder, ...]
) -> None:
    verdict = judge_probe(role, VIP, holds, standby_ok, [result(*answered, truncated=True)])
    assert (verdict.kind, verdict.severity) == (probe.PROBE_INCOMPLETE, Severity.UNKNOWN)


def test_a_truncated_probe_still_reports_what_it_heard() -> None:
    verdict = judge_probe(DIRECTOR, VIP, True, False, [result(RS1, truncated=True)])
    assert verdict.kind == probe.REALSERVER_RESPONDER


def test_interfaces_merge_by_mac_and_other_vips_are_ignored() -> None:
    results = [
        result(PEER, interface="lan0"),
        result(PEER, interface="lan1"),
        result(RS1, vip=OTHER_VIP),
    ]
    verdict = judge_probe(DIRECTOR, VIP, False, True, results)
    assert verdict.kind == probe.STANDBY_ACTIVE_NAMED
    assert verdict.responder_count == 1
    assert verdict.interfaces == ("lan0", "lan1")


def test_two_machines_seen_on_two_interfaces_are_two_responders() -> None:
    verdict = judge_probe(
        REALSERVER, VIP, False, False, [result(PEER), result(STRANGER, interface="lan1")]
    )
    assert (verdict.kind, verdict.responder_count) == (probe.SEVERAL_RESPONDERS, 2)


def test_summary_names_the_leaking_real_server() -> None:
    verdict = judge_probe(DIRECTOR, VIP, True, False, [result(RS1)])
    finding = probe_finding(verdict)
    assert finding.cause is Cause.PROBE_FOREIGN_RESPONDER
    assert summary(finding, DIRECTOR) == (
        "VIP 192.0.2.100 answered by 02:00:00:00:00:11 (real server 192.0.2.11)"
    )


def test_a_real_server_is_named_before_another_foreign_responder() -> None:
    verdict = judge_probe(DIRECTOR, VIP, True, False, [result(PEER, RS1)])
    assert verdict.kind == probe.REALSERVER_RESPONDER
    assert verdict.responders == (RS1, PEER)


def test_every_kind_is_a_cause_of_its_own() -> None:
    assert set(probe.KIND_CAUSES) == set(probe.KINDS)
    assert len(set(probe.KIND_CAUSES.values())) == len(probe.KINDS)
    assert all(cause.value.startswith("probe_") for cause in probe.PROBE_CAUSES)


@pytest.mark.parametrize(
    ("responder", "text"),
    [
        (STRANGER, "02:00:00:00:00:03 (address unknown)"),
        (PEER, "02:00:00:00:00:02 (192.0.2.2)"),
        (OWN_NIC, "02:00:00:00:00:01 (this host, 192.0.2.9)"),
        (
            Responder(
                "02:00:00:00:00:13",
                False,
                (IPv4Address("10.0.0.1"), IPv4Address("192.0.2.13")),
                True,
            ),
            "02:00:00:00:00:13 (real server 10.0.0.1, 192.0.2.13)",
        ),
    ],
)
def test_describe_responder(responder: Responder, text: str) -> None:
    assert describe_responder(responder) == text


def state(*addresses: Address, flags: dict[str, int] | None = None) -> HostState:
    flags = {
        "lo": IFF_UP | IFF_LOOPBACK,
        "lan0": IFF_UP,
        "down0": 0,
        "noarp0": IFF_UP | IFF_NOARP,
        **(flags or {}),
    }
    knobs = ArpKnobs(0, 0)
    return HostState(
        knobs, knobs, tuple(Interface(n, f, knobs) for n, f in flags.items()), addresses
    )


@pytest.mark.parametrize(
    ("interface", "held"), [("lan0", True), ("lo", False), ("down0", False), ("noarp0", False)]
)
def test_holds_vip_only_on_an_up_arp_interface(interface: str, held: bool) -> None:
    assert holds_vip(state(Address(interface, VIP, 32, 0)), VIP) is held


def test_judge_probes_gives_one_verdict_per_vip_with_its_own_placement() -> None:
    host = state(Address("lan0", VIP, 32, 0), Address("lo", OTHER_VIP, 32, 0))
    verdicts = judge_probes(DIRECTOR, host, False, [result(), result(vip=OTHER_VIP)])
    assert [(v.vip, v.kind) for v in verdicts] == [(VIP, probe.OK), (OTHER_VIP, probe.UNREACHABLE)]
    assert all(isinstance(v, ProbeVerdict) for v in verdicts)


def test_the_backup_of_a_pair_takes_its_peer_as_the_active_director() -> None:
    """--role both: the MASTER is a real server in IPVS too; one answer is the active one."""
    peer = Responder("02:00:00:00:00:02", False, (IPv4Address("192.0.2.12"),), True)
    other = Responder("02:00:00:00:00:03", False, (IPv4Address("192.0.2.13"),), True)
    vip = IPv4Address("192.0.2.100")

    def kind(*responders: Responder, holds: bool = False) -> str:
        result = ProbeResult(vip, "lan0", responders, 0.3, 2, len(responders))
        return judge_probe(Role.BOTH, vip, holds, False, [result]).kind

    assert kind(peer) == probe.STANDBY_ACTIVE_NAMED
    assert kind(peer, other) == probe.SPLIT_BRAIN
    assert kind() == probe.UNREACHABLE
    assert (
        kind(peer, holds=True) == probe.REALSERVER_RESPONDER
    )  # holding it: the peer must be quiet
