"""Judge what the ARP probe saw on the wire: does the right machine, and only it, answer for a VIP?

Pure functions over read results (checks.read.arp_probe.ProbeResult). The probing host never
sees its own answer on the interface it probes from, so a director that holds the VIP and
hears nobody is the expected picture; any other MAC answering is a second holder.
Rules (issue 11):

director, holds the VIP on an up ARP interface:
    nobody else answers                       OK            ok
    a real server answers                     CRITICAL      realserver_responder
    another machine answers                   CRITICAL      split_brain
director, does not hold it, without --standby-ok (that alone is CRITICAL):
    a real server answers                     CRITICAL      realserver_responder
    someone answers                           CRITICAL      vip_not_held (naming them)
    nobody answers                            CRITICAL      unreachable
director, does not hold it, with --standby-ok (a BACKUP):
    one machine, not a real server            OK            standby_active_named
    a real server answers                     CRITICAL      realserver_responder
    several machines                          CRITICAL      split_brain
    this host itself answers (another NIC)    CRITICAL      local_responder
    nobody                                    CRITICAL      unreachable
both (two-node keepalived), does not hold it now (the BACKUP; --standby-ok implied):
    one machine, real server or not (the MASTER is a real server too)   OK   standby_active_named
    several machines                          CRITICAL      split_brain
    this host itself answers (another NIC)    CRITICAL      local_responder
    nobody                                    CRITICAL      unreachable
both, holding it now: as a director that holds the VIP.
real server (expects exactly one answer, the director's):
    one machine                               OK            ok
    this host itself answers (another NIC)    CRITICAL      local_responder
    several machines                          CRITICAL      several_responders
    nobody                                    CRITICAL      unreachable
Whatever would be OK or unreachable is UNKNOWN (probe_incomplete) when the probe stopped at
its frame bound: an unread frame may hold another responder.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address

from ..finding import Cause, Finding, Severity
from ..model import HostState, Role
from ..read.arp_probe import ProbeResult, Responder
from ..record import Record

OK = "ok"
REALSERVER_RESPONDER = "realserver_responder"
SPLIT_BRAIN = "split_brain"
VIP_NOT_HELD = "vip_not_held"
UNREACHABLE = "unreachable"
STANDBY_ACTIVE_NAMED = "standby_active_named"
LOCAL_RESPONDER = "local_responder"
SEVERAL_RESPONDERS = "several_responders"
PROBE_INCOMPLETE = "probe_incomplete"

KINDS = (
    OK,
    REALSERVER_RESPONDER,
    SPLIT_BRAIN,
    VIP_NOT_HELD,
    UNREACHABLE,
    STANDBY_ACTIVE_NAMED,
    LOCAL_RESPONDER,
    SEVERAL_RESPONDERS,
    PROBE_INCOMPLETE,
)


class ProbeVerdict(Record):
    """The probe's verdict on one VIP, as data: the faces word it (checks/cli/text.py)."""

    vip: IPv4Address
    kind: str  # one of KINDS
    severity: Severity
    responders: tuple[Responder, ...]  # the machines the verdict names (empty: nobody)
    responder_count: int  # distinct MACs that answered, on every probed interface (perfdata)
    interfaces: tuple[str, ...]  # where the probe listened
    # Every distinct MAC that answered, the named ones first (local NICs included).
    heard: tuple[Responder, ...] = ()
    truncated: bool = False  # a probe stopped at its frame bound (MAX_FRAMES)


def holds_vip(state: HostState, vip: IPv4Address) -> bool:
    """The VIP sits on an up, ARP-capable interface here: this host answers ARP for it."""
    arp_up = {i.name for i in state.interfaces if i.is_up and i.does_arp}
    return any(address.interface in arp_up for address in state.addresses_of(vip))


def judge_probes(
    role: Role, state: HostState, standby_ok: bool, results: Iterable[ProbeResult]
) -> tuple[ProbeVerdict, ...]:
    """One verdict per VIP probed, in the order the VIPs first appear in *results*."""
    by_vip: dict[IPv4Address, list[ProbeResult]] = {}
    for result in results:
        by_vip.setdefault(result.vip, []).append(result)
    return tuple(
        judge_probe(role, vip, holds_vip(state, vip), standby_ok, found)
        for vip, found in by_vip.items()
    )


def judge_probe(
    role: Role,
    vip: IPv4Address,
    holds: bool,
    standby_ok: bool,
    results: Sequence[ProbeResult],
) -> ProbeVerdict:
    """Judge the probes of *vip* (results for other VIPs are ignored); rules in the module doc.

    holds: this node holds the VIP on an up ARP interface (holds_vip()); standby_ok: the
    director is allowed to be a BACKUP (--standby-ok); ignored for a real server.
    """
    mine = [result for result in results if result.vip == vip]
    everyone = _distinct(mine)
    interfaces = tuple(dict.fromkeys(result.interface for result in mine))
    if role is Role.REALSERVER:
        kind, named = _realserver(everyone)
    elif role is Role.BOTH and not holds:
        kind, named = _backup_of_pair(everyone)
    else:
        kind, named = _director(everyone, holds, standby_ok)
    if kind in (OK, STANDBY_ACTIVE_NAMED, UNREACHABLE) and any(r.truncated for r in mine):
        kind = PROBE_INCOMPLETE
    named_macs = {r.mac for r in named}
    return ProbeVerdict(
        vip=vip,
        kind=kind,
        severity=_SEVERITY[kind],
        responders=named,
        responder_count=len(everyone),
        interfaces=interfaces,
        heard=named + tuple(r for r in everyone if r.mac not in named_macs),
        truncated=any(r.truncated for r in mine),
    )


def _distinct(results: Sequence[ProbeResult]) -> tuple[Responder, ...]:
    found: dict[str, Responder] = {}
    for result in results:
        for responder in result.responders:
            found.setdefault(responder.mac, responder)
    return tuple(found.values())


def _director(
    everyone: tuple[Responder, ...], holds: bool, standby_ok: bool
) -> tuple[str, tuple[Responder, ...]]:
    foreign = tuple(r for r in everyone if not r.is_local)
    local = tuple(r for r in everyone if r.is_local)
    if any(r.is_real_server for r in foreign):
        # The real servers first: a status line that names one names the leaking one.
        return REALSERVER_RESPONDER, tuple(sorted(foreign, key=lambda r: not r.is_real_server))
    if holds:
        # This director's other NICs on the segment answering for its VIP is still this director.
        return (SPLIT_BRAIN, foreign) if foreign else (OK, ())
    if not standby_ok:
        return (VIP_NOT_HELD, everyone) if everyone else (UNREACHABLE, ())
    if local:
        return LOCAL_RESPONDER, local
    if len(foreign) > 1:
        return SPLIT_BRAIN, foreign
    return (STANDBY_ACTIVE_NAMED, foreign) if foreign else (UNREACHABLE, ())


def _backup_of_pair(everyone: tuple[Responder, ...]) -> tuple[str, tuple[Responder, ...]]:
    """A node that is both, not holding the VIP now: the BACKUP of a two-node pair. The
    MASTER is a real server in IPVS too, so exactly one answer, real server or not, is the
    active director; several are a split brain, none an unreachable VIP."""
    foreign = tuple(r for r in everyone if not r.is_local)
    local = tuple(r for r in everyone if r.is_local)
    if local:
        return LOCAL_RESPONDER, local
    if len(foreign) > 1:
        return SPLIT_BRAIN, foreign
    return (STANDBY_ACTIVE_NAMED, foreign) if foreign else (UNREACHABLE, ())


def _realserver(everyone: tuple[Responder, ...]) -> tuple[str, tuple[Responder, ...]]:
    foreign = tuple(r for r in everyone if not r.is_local)
    local = tuple(r for r in everyone if r.is_local)
    if local:
        return LOCAL_RESPONDER, local
    if len(foreign) > 1:
        return SEVERAL_RESPONDERS, foreign
    return (OK, foreign) if foreign else (UNREACHABLE, ())


_SEVERITY = {
    OK: Severity.OK,
    STANDBY_ACTIVE_NAMED: Severity.OK,
    REALSERVER_RESPONDER: Severity.CRITICAL,
    SPLIT_BRAIN: Severity.CRITICAL,
    VIP_NOT_HELD: Severity.CRITICAL,
    UNREACHABLE: Severity.CRITICAL,
    LOCAL_RESPONDER: Severity.CRITICAL,
    SEVERAL_RESPONDERS: Severity.CRITICAL,
    PROBE_INCOMPLETE: Severity.UNKNOWN,
}


# Each verdict kind as a root cause of the finding model (checks/finding.py).
KIND_CAUSES = {
    OK: Cause.PROBE_OK,
    REALSERVER_RESPONDER: Cause.PROBE_FOREIGN_RESPONDER,
    SPLIT_BRAIN: Cause.PROBE_SPLIT_BRAIN,
    VIP_NOT_HELD: Cause.PROBE_NOT_HELD,
    UNREACHABLE: Cause.PROBE_UNREACHABLE,
    STANDBY_ACTIVE_NAMED: Cause.PROBE_STANDBY_ACTIVE,
    LOCAL_RESPONDER: Cause.PROBE_LOCAL_RESPONDER,
    SEVERAL_RESPONDERS: Cause.PROBE_SEVERAL,
    PROBE_INCOMPLETE: Cause.PROBE_INCOMPLETE,
}
PROBE_CAUSES = frozenset(KIND_CAUSES.values())


def probe_finding(verdict: ProbeVerdict) -> Finding:
    """The verdict as a Finding: vips (the VIP), interfaces (where the probe listened) and
    responders (every machine heard, the ones the verdict is about first)."""
    return Finding(
        verdict.severity,
        KIND_CAUSES[verdict.kind],
        interfaces=verdict.interfaces,
        vips=(verdict.vip,),
        responders=verdict.heard,
    )


def named_responders(finding: Finding) -> tuple[Responder, ...]:
    """The responders a probe finding is about (its verdict's `responders`), from its data:
    a director that holds the VIP and hears only its own other NICs names nobody."""
    cause = finding.cause
    everyone = finding.responders
    if cause is Cause.PROBE_LOCAL_RESPONDER:
        return tuple(r for r in everyone if r.is_local)
    if cause in (Cause.PROBE_NOT_HELD, Cause.PROBE_SEVERAL):
        return everyone
    if cause is Cause.PROBE_UNREACHABLE or cause is Cause.PROBE_INCOMPLETE:
        return ()
    return tuple(r for r in everyone if not r.is_local)
