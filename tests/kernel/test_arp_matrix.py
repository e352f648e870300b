"""The LVS-DR ARP matrix, judged by the kernel itself and then by check_lvs_arp.

Each row is a node configuration and what the kernel is declared to do with it (ARP-SEMANTICS
§3-§6). The test builds the row in a namespace, watches the node from the wire, asserts the
declaration, derives soundness from what was seen (never from the sysctls), and demands that
the plugin says CRITICAL exactly for the unsound rows.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import pytest

from .arp_observer import Observation
from .netns import (
    DEFAULT_VIP,
    NODE_IFACE,
    NODE_IP,
    Address,
    NoarpInterface,
    NodeConfig,
    Sysctl,
    Topology,
)

pytestmark = pytest.mark.kernel

REALSERVER = "realserver"
DIRECTOR = "director"
OFFLINK_VIP = "198.51.100.100"
NAGIOS_CRITICAL = 2
NAGIOS_OK_OR_WARNING = (0, 1)
RP_FILTER_STRICT = Sysctl("all", "rp_filter", "1")
ARP_FILTER_ON = Sysctl("all", "arp_filter", "1")


@dataclass(frozen=True)
class Row:
    id: str
    role: str
    config: NodeConfig
    expected: Observation
    vip: str = DEFAULT_VIP


def knobs(
    ignore: int | None = None, announce: int | None = None, conf: str = "all"
) -> tuple[Sysctl, ...]:
    """arp_ignore/arp_announce for one conf directory; values go to the kernel as written."""
    pairs = (("arp_ignore", ignore), ("arp_announce", announce))
    return tuple(Sysctl(conf, knob, str(value)) for knob, value in pairs if value is not None)


def vip_on(
    dev: str = "lo", prefix: int = 32, scope: str | None = None, vip: str = DEFAULT_VIP
) -> Address:
    return Address(f"{vip}/{prefix}", dev, scope)


def seen(
    answers_vip: bool, announce: str | None, own: bool = True, forwarded: bool = True
) -> Observation:
    return Observation(
        accepts_forwarded=forwarded,
        announce_sender=announce,
        answers_vip=answers_vip,
        answers_own=own,
    )


def realserver(
    row_id: str,
    sysctls: tuple[Sysctl, ...],
    expected: Observation,
    addresses: tuple[Address, ...] = (vip_on(),),
    interfaces: tuple[NoarpInterface, ...] = (),
    vip: str = DEFAULT_VIP,
) -> Row:
    return Row(
        f"realserver-{row_id}",
        REALSERVER,
        NodeConfig(interfaces, sysctls, addresses),
        expected,
        vip,
    )


def director(
    row_id: str,
    sysctls: tuple[Sysctl, ...],
    expected: Observation,
    addresses: tuple[Address, ...] = (vip_on(NODE_IFACE, 24),),
) -> Row:
    return Row(f"director-{row_id}", DIRECTOR, NodeConfig((), sysctls, addresses), expected)


VIP, OWN = DEFAULT_VIP, NODE_IP
SOUND_RS = seen(answers_vip=False, announce=OWN)

MATRIX = (
    # §3 x §4, VIP/32 on lo: the textbook layout and every way its two knobs go wrong.
    realserver("lo-ignore1-announce2", knobs(1, 2), SOUND_RS),
    realserver("lo-ignore2-announce2", knobs(2, 2), SOUND_RS),
    realserver("lo-ignore1-announce2-rp-filter1", (*knobs(1, 2), RP_FILTER_STRICT), SOUND_RS),
    realserver("lo-ignore0-announce0-defaults", knobs(0, 0), seen(True, VIP)),
    realserver("lo-ignore0-announce2", knobs(0, 2), seen(True, OWN)),
    realserver("lo-ignore1-announce0", knobs(1, 0), seen(False, VIP)),
    realserver("lo-ignore1-announce1-onlink-vip", knobs(1, 1), seen(False, VIP)),
    realserver("lo-ignore2-announce1-onlink-vip", knobs(2, 1), seen(False, VIP)),
    realserver("lo-ignore1-announce3", knobs(1, 3), seen(False, VIP)),
    realserver("lo-ignore1-announce5", knobs(1, 5), seen(False, VIP)),
    realserver("lo-ignore1-announce-neg1", knobs(1, -1), seen(False, VIP)),
    realserver("lo-ignore3-announce2-scope-global", knobs(3, 2), seen(True, OWN)),
    realserver(
        "lo-ignore3-announce2-scope-host", knobs(3, 2), SOUND_RS, addresses=(vip_on(scope="host"),)
    ),
    realserver("lo-ignore4-announce2-reserved", knobs(4, 2), seen(True, OWN)),
    realserver("lo-ignore8-announce2-never-replies", knobs(8, 2), seen(False, OWN, own=False)),
    realserver("lo-ignore9-announce2", knobs(9, 2), seen(True, OWN)),
    realserver("lo-ignore-neg1-announce2", knobs(-1, 2), seen(True, OWN)),
    # §5: where the VIP lives, with the knobs right.
    realserver("vip32-on-lan0", knobs(1, 2), seen(True, OWN), addresses=(vip_on(NODE_IFACE),)),
    # A /24 on lo turns the whole LAN into local addresses (`local 192.0.2.0/24 dev lo`): the
    # node's replies to the LAN loop back to itself. Whether it still answers ARP for its own
    # address depends on rp_filter: the requester's address is "local", hence martian.
    realserver(
        "vip24-on-lo",
        knobs(1, 2),
        seen(False, None, forwarded=False),
        addresses=(vip_on(prefix=24),),
    ),
    realserver(
        "vip24-on-lo-rp-filter1",
        (*knobs(1, 2), RP_FILTER_STRICT),
        seen(False, None, own=False, forwarded=False),
        addresses=(vip_on(prefix=24),),
    ),
    realserver("vip-absent", knobs(1, 2), seen(False, None, forwarded=False), addresses=()),
    realserver(
        "vip-on-ifb-noarp-driver",
        knobs(1, 2),
        SOUND_RS,
        interfaces=(NoarpInterface("vip0", "ifb"),),
        addresses=(vip_on("vip0"),),
    ),
    realserver(
        "vip-on-veth-arp-off",
        knobs(1, 2),
        SOUND_RS,
        interfaces=(NoarpInterface("vip0", "veth"),),
        addresses=(vip_on("vip0"),),
    ),
    realserver(
        "offlink-vip-ignore1-announce1",
        knobs(1, 1),
        SOUND_RS,
        addresses=(vip_on(vip=OFFLINK_VIP),),
        vip=OFFLINK_VIP,
    ),
    realserver(
        "offlink-vip-ignore1-announce0",
        knobs(1, 0),
        seen(False, OFFLINK_VIP),
        addresses=(vip_on(vip=OFFLINK_VIP),),
        vip=OFFLINK_VIP,
    ),
    # §1-§2: which conf directory counts. lo never carries ARP; max(all, iface) per interface.
    realserver("only-lo-set-ignore1-announce2", knobs(0, 0) + knobs(1, 2, "lo"), seen(True, VIP)),
    realserver(
        "only-default-set-ignore1-announce2", knobs(0, 0) + knobs(1, 2, "default"), seen(True, VIP)
    ),
    realserver("only-lan0-set-ignore1-announce2", knobs(0, 0) + knobs(1, 2, NODE_IFACE), SOUND_RS),
    realserver("only-lan0-set-ignore2-announce2", knobs(0, 0) + knobs(2, 2, NODE_IFACE), SOUND_RS),
    realserver(
        "all-announce2-lan0-announce3",
        knobs(1, 2) + knobs(announce=3, conf=NODE_IFACE),
        seen(False, VIP),
    ),
    realserver(
        "all-ignore1-lan0-ignore4", knobs(1, 2) + knobs(ignore=4, conf=NODE_IFACE), seen(True, OWN)
    ),
    # §6: a director must answer for the VIP it holds on its LAN interface.
    director("vip-on-lan0-ignore0", knobs(0, 0), seen(True, VIP)),
    director("vip-on-lan0-ignore1", knobs(1, 0), seen(True, VIP)),
    director("vip-on-lan0-ignore2", knobs(2, 0), seen(True, VIP)),
    director("vip-on-lan0-ignore8", knobs(8, 0), seen(False, VIP, own=False)),
    director("vip-on-lan0-ignore1-announce2", knobs(1, 2), seen(True, OWN)),
    # keepalived's use_vmac sets arp_ignore=1 and arp_filter=1; the VIP is still answered.
    director("vip-on-lan0-ignore1-arp-filter1", (*knobs(1, 0), ARP_FILTER_ON), seen(True, VIP)),
    director("vip-only-on-lo-ignore0", knobs(0, 0), seen(True, VIP), addresses=(vip_on(),)),
    director("vip-only-on-lo-ignore1", knobs(1, 0), seen(False, VIP), addresses=(vip_on(),)),
)


def is_sound(role: str, observed: Observation, vip: str) -> bool:
    """Soundness from the wire alone, as the LAN would experience this node."""
    if role == DIRECTOR:
        return observed.answers_vip and observed.answers_own
    return (
        not observed.answers_vip
        and observed.announce_sender != vip
        and observed.answers_own
        and observed.accepts_forwarded
    )


def build(topology: Topology, row: Row) -> Observation:
    topology.apply(row.config)
    return topology.observe(row.vip)


def installed_check_lvs_arp() -> str:
    """The console script next to this interpreter, as an admin would run it."""
    path = os.path.join(os.path.dirname(sys.executable), "check_lvs_arp")
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"{path} is missing: install the project into this venv "
            f"(`{sys.executable} -m pip install -e .`)",
            pytrace=False,
        )
    return path


def plugin_report(row: Row, exit_code: int, stdout: str, stderr: str) -> str:
    return (
        f"row {row.id}: check_lvs_arp --role {row.role} --vip {row.vip} "
        f"exited {exit_code}\nstdout:\n{stdout}stderr:\n{stderr}"
    )


@pytest.mark.parametrize("row", MATRIX, ids=[row.id for row in MATRIX])
def test_plugin_verdict_matches_kernel(topology: Topology, row: Row) -> None:
    observed = build(topology, row)
    assert observed == row.expected, f"the kernel did not do what row {row.id} declares"

    sound = is_sound(row.role, observed, row.vip)
    done = topology.run_in_node([installed_check_lvs_arp(), "--role", row.role, "--vip", row.vip])
    report = plugin_report(row, done.returncode, done.stdout, done.stderr)
    assert done.stdout.startswith("LVS_ARP "), report
    if sound:
        assert done.returncode in NAGIOS_OK_OR_WARNING, f"sound node {observed}\n{report}"
    else:
        assert done.returncode == NAGIOS_CRITICAL, f"unsound node {observed}\n{report}"


def test_matrix_covers_both_verdicts_for_both_roles() -> None:
    """A matrix of only broken (or only sound) rows could not catch a plugin that always agrees."""
    verdicts = {(row.role, is_sound(row.role, row.expected, row.vip)) for row in MATRIX}
    assert verdicts == {
        (REALSERVER, True),
        (REALSERVER, False),
        (DIRECTOR, True),
        (DIRECTOR, False),
    }


ROWS_BY_ID = {row.id: row for row in MATRIX}
AGREEMENT_ROWS = [
    ROWS_BY_ID[row_id]
    for row_id in (
        "realserver-lo-ignore1-announce2",
        "realserver-all-announce2-lan0-announce3",
        "realserver-vip-on-ifb-noarp-driver",
        "director-vip-on-lan0-ignore1",
    )
]


@pytest.mark.parametrize("row", AGREEMENT_ROWS, ids=[row.id for row in AGREEMENT_ROWS])
def test_file_reading_path_agrees_with_netlink(topology: Topology, row: Row) -> None:
    topology.apply(row.config)
    argv = [installed_check_lvs_arp(), "--role", row.role, "--vip", row.vip]
    via_netlink = topology.run_in_node(argv)
    via_files = topology.run_in_node([*argv, "--proc-root", "/proc", "--sys-root", "/sys"])
    assert via_netlink.stdout.startswith("LVS_ARP "), via_netlink.stdout + via_netlink.stderr
    assert via_files.stdout == via_netlink.stdout
    assert via_files.returncode == via_netlink.returncode
