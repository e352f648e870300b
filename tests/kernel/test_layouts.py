"""Every layout of issue 10, built in namespaces, watched on the wire, then judged.

Each test builds the layout operators run (multi-host ones on a Linux bridge, the others as
a node and the LAN peer facing it), observes what the kernel does with real ARP frames (and
ping where the layout is about reachability), runs the check inside the node's namespace
as the plugin would, and demands the verdict match the wire: sound is OK or WARNING,
unsound is CRITICAL. This kernel has no IPVS: a --proc-root tree holds net/ip_vs beside
the live sysctls (`sys` links to /proc/sys, so the read is still live and reads routes).

Layouts: 1 director and real server, 2 standby director, 3 two NICs on one LAN, 4 a VIP
wider than /32 on a director, 5 arp_ignore 2 with off-subnet neighbours, 6 unnumbered pod
links and the printed fix, 7 ARP filter rules instead of sysctls, 8 a nat REDIRECT instead
of a VIP, 9 firewall-mark services, 10 kube-proxy IPVS, 11 the wrong network namespace,
12 settings on lo that do nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fake_host import ip_vs_text
from netns_commands import COMMAND_TIMEOUT_S, run

from .arp_observer import Observation
from .netns import DEFAULT_VIP, NODE_IFACE, NODE_IP, PEER_IP, NoarpInterface, Sysctl, Topology
from .segment import LAN, MACHINES, Segment, lan_segment
from .test_arp_filters import INPUT_DROP, OUTPUT_MANGLE, arptables
from .test_routes import (
    OFFLINK_GATEWAY,
    POD_LINK,
    add_offlink_routes,
    node_answers_own_address,
    pod_namespace,
    pod_reaches_node,
)

pytestmark = pytest.mark.kernel

VIP = DEFAULT_VIP
HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.dirname(sys.executable)
SOUND = ("OK", "INFO", "WARNING")  # INFO: a remark; the plugin exits OK

# Runs inside a namespace: the check as every face runs it (NodeCheck), findings as JSON.
CHECK = """
import json, sys
from ipaddress import IPv4Address
from checks.assess import NodeCheck
from checks.errors import LvsArpError
from checks.judge.remedy import merged_settings, sysctl_line
from checks.model import Role
a = json.loads(sys.argv[1])
node = NodeCheck(Role(a["role"]), tuple(IPv4Address(v) for v in a["vips"]), None,
                 a["standby_ok"], a["proc_root"])
try:
    result = node.assess()
except LvsArpError as err:
    print(json.dumps({"worst": "UNKNOWN", "error": str(err), "findings": [], "fix": []}))
    sys.exit()
print(json.dumps({
    "worst": result.worst.name,
    "error": None,
    "findings": [{
        "cause": f.cause.value, "severity": f.severity.name, "interfaces": list(f.interfaces),
        "vips": [str(v) for v in f.vips], "evidence": list(getattr(f, "evidence", ())),
        "settings": [sysctl_line(s) for s in f.fix.settings], "commands": list(f.fix.commands),
    } for f in result.findings],
    "fix": [sysctl_line(s) for s in merged_settings(result.findings)],
}))
"""

# Runs in a machine of the segment: one who-has for ARGV[3] from ARGV[2]; every MAC that
# answers within ARGV[4] s (two MACs answering one address is ARP flux).
WHO_ANSWERS = """
import json, sys, time
sys.path.insert(0, sys.argv[5])
from arp_observer import ARPOP_REPLY, Wire, arp_who_has, parse_arp
iface, sender, target, wait = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
wire = Wire(iface)
wire.drain()
wire.send(arp_who_has(wire.mac, sender, target))
macs = set()
deadline = time.monotonic() + wait
while (left := deadline - time.monotonic()) > 0:
    for frame in wire.incoming(left):
        arp = parse_arp(frame)
        if arp and arp.op == ARPOP_REPLY and arp.sender_ip == target and arp.target_ip == sender:
            macs.add(arp.sender_mac.hex(":"))
print(json.dumps(sorted(macs)))
"""


# Runs in a namespace: the netns label of the exporter's per-scrape families.
EXPORTER_NETNS = """
from exporter.families import scrape_families
(info,) = [m for m in scrape_families(None, 0.0, {}) if m.name == "lvs_arp_netns"]
print(info.samples[0].labels["netns"])
"""


class Verdict:
    def __init__(self, report: dict[str, Any]) -> None:
        self.worst: str = report["worst"]
        self.error: str | None = report["error"]
        self.findings: list[dict[str, Any]] = report["findings"]
        self.fix: list[str] = report["fix"]

    def of(self, cause: str) -> list[dict[str, Any]]:
        return [f for f in self.findings if f["cause"] == cause]

    def problems(self) -> list[str]:
        return [f["cause"] for f in self.findings if f["severity"] in ("WARNING", "CRITICAL")]

    def __repr__(self) -> str:
        return f"Verdict({self.worst}, {self.findings})"


def check(
    netns: str,
    role: str,
    vips: Sequence[str] = (),
    *,
    standby_ok: bool = False,
    proc_root: str | None = None,
    wrapper: Sequence[str] = (),
) -> Verdict:
    args = {"role": role, "vips": list(vips), "standby_ok": standby_ok, "proc_root": proc_root}
    argv = ["ip", "netns", "exec", netns, *wrapper, sys.executable, "-c", CHECK, json.dumps(args)]
    return Verdict(json.loads(run(argv)))


def ipvs_tree(tmp: Path, name: str, services: Sequence[str] = (VIP,), fwmarks: int = 0) -> str:
    """A --proc-root whose net/ip_vs lists *services* (TCP :80) and *fwmarks* FWM services,
    and whose sys is the live /proc/sys of whoever reads it."""
    tree = tmp / name
    (tree / "net").mkdir(parents=True)
    (tree / "sys").symlink_to("/proc/sys")
    (tree / "net" / "ip_vs").write_text(ip_vs_text(services, fwmarks, rip="192.0.2.11"))
    return str(tree)


def who_answers(segment: Segment, asker: str, target: str) -> list[str]:
    """MACs answering a who-has for *target* from *asker*'s lan0, seen on the wire."""
    argv = [sys.executable, "-c", WHO_ANSWERS, LAN, segment[asker].ip, target, "0.5", HERE]
    answered: list[str] = json.loads(segment.exec(asker, argv))
    return answered


def second_port(segment: Segment, label: str, name: str, up: bool) -> str:
    """Plug another veth of *label* into the bridge (an LB NIC); its MAC."""
    port = f"p{name}{len(segment.machines)}{label[-1]}"
    netns = segment[label].netns
    run(["ip", "-n", netns, "link", "add", name, "type", "veth", "peer", "name", port,
         "netns", segment.bridge])  # fmt: skip
    run(["ip", "-n", segment.bridge, "link", "set", port, "master", "br0", "up"])
    for knob in ("arp_ignore", "arp_announce", "rp_filter"):
        segment.sysctl(label, name, knob, 0)
    if up:
        segment.ip(label, "link", "set", name, "up")
    link = json.loads(segment.ip(label, "-j", "link", "show", "dev", name))
    return str(link[0]["address"])


@pytest.fixture
def segment(netns_support: None, tmp_path: Path) -> Iterator[Segment]:
    with lan_segment(tmp_path, ("router", "director", "director2", "rs1")) as built:
        yield built


def mac(segment: Segment, label: str) -> str:
    return segment[label].mac


# --- 1: a director that is also a real server (two-node keepalived) --------------------------


def test_1_keepalived_pair_both_nodes_sound_as_both(segment: Segment, tmp_path: Path) -> None:
    tree = ipvs_tree(tmp_path, "ipvs")
    for label in ("director", "director2"):
        segment.add_vip(label, "lo")
        segment.set_knobs(label, 1, 2)
    segment.add_vip("director", LAN)  # keepalived's MASTER
    assert who_answers(segment, "router", VIP) == [mac(segment, "director")]
    master = check(segment["director"].netns, "both", [VIP], proc_root=tree)
    backup = check(segment["director2"].netns, "both", [VIP], proc_root=tree)
    assert master.worst in SOUND, master
    assert backup.worst in SOUND, backup
    assert master.of("vip_answered") and backup.of("vip_placed")
    # The unsound twin: a BACKUP whose LAN answers for lo's VIP as well.
    segment.set_knobs("director2", 0, 0)
    assert who_answers(segment, "router", VIP) == sorted(
        [mac(segment, "director"), mac(segment, "director2")]
    )
    leaking = check(segment["director2"].netns, "both", [VIP], proc_root=tree)
    assert leaking.worst == "CRITICAL" and "reply_leak" in leaking.problems(), leaking


# --- 2: standby directors --------------------------------------------------------------------


def test_2_standby_without_vip_is_ok(segment: Segment, tmp_path: Path) -> None:
    tree = ipvs_tree(tmp_path, "ipvs")
    segment.add_vip("director", LAN)
    assert who_answers(segment, "router", VIP) == [mac(segment, "director")]
    backup = check(segment["director2"].netns, "director", [VIP], standby_ok=True, proc_root=tree)
    assert backup.worst in SOUND and backup.of("vip_not_held"), backup


def test_2_standby_on_a_down_lb_nic_is_judged_by_its_node_nic(
    segment: Segment, tmp_path: Path
) -> None:
    tree = ipvs_tree(tmp_path, "ipvs")
    segment.add_vip("director", LAN)
    second_port(segment, "director2", "lb0", up=False)
    segment.add_vip("director2", "lb0")
    # The VIP on a down NIC is still local: the node NIC (arp_ignore 0) answers for it.
    assert who_answers(segment, "router", VIP) == sorted(
        [mac(segment, "director"), mac(segment, "director2")]
    )
    stealing = check(segment["director2"].netns, "director", [VIP], standby_ok=True, proc_root=tree)
    assert stealing.worst == "CRITICAL", stealing
    (flux,) = stealing.of("vip_flux")
    assert flux["interfaces"] == [LAN]
    assert flux["settings"] == [f"net.ipv4.conf.{LAN}.arp_ignore = 1"]
    segment.sysctl("director2", LAN, "arp_ignore", 1)
    assert who_answers(segment, "router", VIP) == [mac(segment, "director")]
    quiet = check(segment["director2"].netns, "director", [VIP], standby_ok=True, proc_root=tree)
    assert quiet.worst in SOUND and quiet.of("vip_holder_down"), quiet


# --- 3: two NICs on one LAN ------------------------------------------------------------------


def test_3_node_nic_beside_the_lb_nic_answers_for_the_vip(segment: Segment, tmp_path: Path) -> None:
    tree = ipvs_tree(tmp_path, "ipvs")
    lb_mac = second_port(segment, "director", "lb0", up=True)
    segment.add_vip("director", "lb0")
    assert who_answers(segment, "router", VIP) == sorted([mac(segment, "director"), lb_mac])
    flux = check(segment["director"].netns, "director", [VIP], proc_root=tree)
    assert flux.worst == "CRITICAL", flux
    assert flux.of("vip_flux")[0]["interfaces"] == [LAN]
    segment.sysctl("director", LAN, "arp_ignore", 1)
    assert who_answers(segment, "router", VIP) == [lb_mac]
    sound = check(segment["director"].netns, "director", [VIP], proc_root=tree)
    assert sound.worst in SOUND and not sound.of("vip_flux"), sound


# --- 4: a VIP wider than /32 on a director ---------------------------------------------------


def test_4_wide_vip_on_director_lo_answers_for_real_servers(
    segment: Segment, tmp_path: Path
) -> None:
    tree = ipvs_tree(tmp_path, "ipvs")
    rs1 = MACHINES["rs1"]
    segment.ip("director", "addr", "add", f"{VIP}/24", "dev", "lo")
    answering = who_answers(segment, "router", rs1)
    assert mac(segment, "director") in answering and mac(segment, "rs1") in answering
    wide = check(segment["director"].netns, "director", [VIP], proc_root=tree)
    assert wide.worst == "CRITICAL" and wide.of("vip_wide_mask"), wide
    segment.ip("director", "addr", "del", f"{VIP}/24", "dev", "lo")
    segment.add_vip("director", LAN)
    assert who_answers(segment, "router", rs1) == [mac(segment, "rs1")]
    narrow = check(segment["director"].netns, "director", [VIP], proc_root=tree)
    assert narrow.worst in SOUND and not narrow.of("vip_wide_mask"), narrow


# --- 5: arp_ignore 2 with off-subnet neighbours ----------------------------------------------


def realserver(topology: Topology, ignore: str = "1", announce: str = "2") -> None:
    topology.ip_node("addr", "add", f"{VIP}/32", "dev", "lo")
    topology.write_sysctl(Sysctl("all", "arp_ignore", ignore))
    topology.write_sysctl(Sysctl("all", "arp_announce", announce))


def test_5_arp_ignore_2_black_holes_the_onlink_gateway(topology: Topology) -> None:
    add_offlink_routes(topology)
    realserver(topology, ignore="2")
    assert node_answers_own_address(topology, PEER_IP)
    assert not node_answers_own_address(topology, OFFLINK_GATEWAY)
    verdict = check(topology.node, "realserver")
    assert verdict.worst == "CRITICAL", verdict
    (found,) = verdict.of("offlink_unanswered")
    assert found["interfaces"] == [NODE_IFACE]
    assert any(e.startswith(f"{OFFLINK_GATEWAY}/32 on {NODE_IFACE}") for e in found["evidence"])
    # The fix it prints answers the gateway and still hides the VIP.
    assert found["settings"] == ["net.ipv4.conf.all.arp_ignore = 1"]
    topology.write_sysctl(Sysctl("all", "arp_ignore", "1"))
    assert node_answers_own_address(topology, OFFLINK_GATEWAY)
    assert not topology.observe(VIP).answers_vip
    fixed = check(topology.node, "realserver")
    assert fixed.worst in SOUND and not fixed.of("offlink_unanswered"), fixed


def test_5_arp_ignore_2_without_offsubnet_routes_is_ok_with_a_remark(topology: Topology) -> None:
    realserver(topology, ignore="2")
    assert node_answers_own_address(topology, PEER_IP)
    assert not topology.observe(VIP).answers_vip
    verdict = check(topology.node, "realserver")
    assert verdict.worst == "OK" and verdict.of("subnet_only"), verdict


# --- 6: unnumbered pod links and the printed fix ---------------------------------------------


def test_6_unnumbered_link_cut_off_and_the_printed_fix_keeps_it(
    topology: Topology, tmp_path: Path
) -> None:
    realserver(topology)  # the usual fix on conf/all: 1 and 2
    with pod_namespace(topology) as pod:
        assert not pod_reaches_node(pod)
        verdict = check(topology.node, "realserver")
        assert verdict.worst == "CRITICAL", verdict
        assert verdict.of("unnumbered_unreachable")[0]["interfaces"] == [POD_LINK]
        preflight = subprocess.run(
            ["ip", "netns", "exec", topology.node, f"{BIN}/lvs-arp-preflight", "-r",
             "realserver", "--json", "--no-boot-check"],
            capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False,
        )  # fmt: skip
        document = json.loads(preflight.stdout)
        content = document["sysctl_file"]["content"]
        assert "net.ipv4.conf.all.arp_ignore = 0" in content
        assert f"net.ipv4.conf.{NODE_IFACE}.arp_ignore = 1" in content
        fix_file = tmp_path / "90-lvs-realserver.conf"
        fix_file.write_text(content)
        topology.exec_node(["sysctl", "-q", "-p", str(fix_file)])
        run(["ip", "-n", pod, "neigh", "flush", "all"])
        assert pod_reaches_node(pod)
        assert topology.observe(VIP) == Observation(
            accepts_forwarded=True, announce_sender=NODE_IP, answers_vip=False, answers_own=True
        )
        fixed = check(topology.node, "realserver")
        assert fixed.worst in SOUND, fixed


def test_6_leak_fix_on_a_pod_host_sets_the_lan_interface_not_conf_all(
    topology: Topology, tmp_path: Path
) -> None:
    realserver(topology, "0", "0")
    with pod_namespace(topology) as pod:
        assert pod_reaches_node(pod)
        assert topology.observe(VIP).answers_vip
        leaking = check(topology.node, "realserver")
        assert leaking.worst == "CRITICAL", leaking
        assert leaking.of("reply_leak")[0]["interfaces"] == [NODE_IFACE]
        assert "net.ipv4.conf.all.arp_ignore = 1" not in leaking.fix
        assert f"net.ipv4.conf.{NODE_IFACE}.arp_ignore = 1" in leaking.fix
        fix_file = tmp_path / "90-lvs-realserver.conf"
        fix_file.write_text("\n".join(leaking.fix) + "\n")
        topology.exec_node(["sysctl", "-q", "-p", str(fix_file)])
        run(["ip", "-n", pod, "neigh", "flush", "all"])
        assert pod_reaches_node(pod)
        observed = topology.observe(VIP)
        assert not observed.answers_vip and observed.announce_sender == NODE_IP
        assert check(topology.node, "realserver").worst in SOUND


# --- 7: ARP filter rules instead of sysctls --------------------------------------------------


def test_7_arp_rules_hide_the_vip_with_every_sysctl_at_0(topology: Topology) -> None:
    realserver(topology, "0", "0")
    for command in arptables("arptables", INPUT_DROP, OUTPUT_MANGLE):
        topology.exec_node(command)
    observed = topology.observe(VIP)
    assert not observed.answers_vip and observed.announce_sender == NODE_IP
    verdict = check(topology.node, "realserver")
    assert verdict.worst in SOUND and not verdict.problems(), verdict
    (named,) = verdict.of("arp_filtered")
    assert any(f"-d {VIP}" in rule for rule in named["evidence"])


def test_7_input_only_rules_leave_the_announce_leak(topology: Topology) -> None:
    realserver(topology, "0", "0")
    for command in arptables("arptables", INPUT_DROP):
        topology.exec_node(command)
    observed = topology.observe(VIP)
    assert not observed.answers_vip and observed.announce_sender == VIP
    verdict = check(topology.node, "realserver")
    assert verdict.worst == "CRITICAL", verdict
    # conf/default 0: interfaces created later would announce it too.
    assert set(verdict.problems()) == {"announce_leak", "new_interface_risk"}, verdict


def test_7_unreadable_rules_are_said_and_the_sysctls_judge(topology: Topology) -> None:
    realserver(topology, "0", "0")
    for command in arptables("arptables", INPUT_DROP, OUTPUT_MANGLE):
        topology.exec_node(command)
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    verdict = check(topology.node, "realserver", wrapper=nobody)
    (remark,) = verdict.of("rules_unread")
    assert remark["severity"] == "INFO"
    assert any("CAP_NET_ADMIN" in e for e in remark["evidence"]), remark
    assert {"reply_leak", "announce_leak"} <= set(verdict.problems())


# --- 8: a nat REDIRECT instead of a VIP ------------------------------------------------------


def test_8_redirect_without_vip_is_ok_naming_the_rule(topology: Topology) -> None:
    topology.exec_node(["iptables", *f"-t nat -A PREROUTING -d {VIP}/32 -j REDIRECT".split()])
    observed = topology.observe(VIP)
    assert observed.accepts_forwarded and not observed.answers_vip
    verdict = check(topology.node, "realserver", [VIP])
    assert verdict.worst == "OK", verdict
    (found,) = verdict.of("vip_redirected")
    assert found["evidence"] == [f"iptables-nft nat PREROUTING: -d {VIP}/32 -j REDIRECT"]
    # The control: without the rule the forwarded traffic is dropped, and the check says so.
    topology.exec_node(["iptables", "-t", "nat", "-F", "PREROUTING"])
    assert not topology.observe(VIP).accepts_forwarded
    assert check(topology.node, "realserver", [VIP]).worst == "CRITICAL"


# --- 9: firewall-mark virtual services -------------------------------------------------------


def test_9_fwmark_director_is_a_director(topology: Topology, tmp_path: Path) -> None:
    topology.ip_node("addr", "add", f"{VIP}/32", "dev", NODE_IFACE)
    assert topology.observe(VIP).answers_vip
    fwmark = ipvs_tree(tmp_path, "fwmark", services=(), fwmarks=1)
    verdict = check(topology.node, "director", [VIP], proc_root=fwmark)
    assert verdict.worst == "OK" and not verdict.of("role_doubt"), verdict
    empty = ipvs_tree(tmp_path, "empty", services=())
    assert check(topology.node, "director", [VIP], proc_root=empty).of("role_doubt")


# --- 10: kube-proxy in IPVS mode -------------------------------------------------------------

LB_IP = "192.0.2.200"
CLUSTER_IP = "10.96.0.1"


def test_10_kube_ipvs_node_without_strict_arp(topology: Topology, tmp_path: Path) -> None:
    for command in NoarpInterface("kube-ipvs0", "ifb").create_commands()[:1]:
        topology.ip_node(*command)  # created, left down, as kube-proxy's dummy is
    for service in (LB_IP, CLUSTER_IP):
        topology.ip_node("addr", "add", f"{service}/32", "dev", "kube-ipvs0")
    tree = ipvs_tree(tmp_path, "kube", services=(LB_IP, CLUSTER_IP))
    assert topology.observe(LB_IP).answers_vip
    verdict = check(topology.node, "realserver", proc_root=tree)
    assert verdict.worst == "CRITICAL", verdict
    (leak,) = verdict.of("reply_leak")
    assert leak["interfaces"] == [NODE_IFACE] and LB_IP in leak["vips"]
    assert any("strictARP: true" in command for command in leak["commands"])
    assert not verdict.of("role_doubt")
    # Checked for an LVS VIP of its own, the node still hears of strictARP.
    other = check(topology.node, "realserver", [VIP], proc_root=tree)
    (found,) = other.of("kube_strict_arp")
    assert found["interfaces"] == [NODE_IFACE] and found["severity"] == "CRITICAL"
    assert any("strictARP: true" in command for command in found["commands"])
    # What kube-proxy's strictARP writes: conf/all 1 and 2.
    topology.write_sysctl(Sysctl("all", "arp_ignore", "1"))
    topology.write_sysctl(Sysctl("all", "arp_announce", "2"))
    assert not topology.observe(LB_IP).answers_vip
    strict = check(topology.node, "realserver", proc_root=tree)
    assert strict.worst in SOUND and not strict.of("kube_strict_arp"), strict
    assert not strict.of("role_doubt")


# --- 11: the wrong network namespace ---------------------------------------------------------


def test_11_host_proc_in_another_namespace_is_unknown(topology: Topology, tmp_path: Path) -> None:
    realserver(topology, "0", "0")
    assert topology.observe(VIP).answers_vip  # the node leaks: only its namespace says so
    target = tmp_path / "host-proc"
    target.mkdir()
    script = (
        'mount --bind /proc "$1" && exec "$2" --role realserver --no-boot-check --proc-root "$1"'
    )
    argv = ["ip", "netns", "exec", topology.node, "unshare", "--mount", "--propagation",
            "private", "sh", "-c", script, "sh", str(target), f"{BIN}/check_lvs_arp"]  # fmt: skip
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False
    )
    assert result.returncode == 3, result
    assert result.stdout.startswith("LVS_ARP UNKNOWN"), result.stdout
    assert "would judge another host" in result.stdout
    own = os.stat(f"/run/netns/{topology.node}").st_ino
    assert f"net:[{own}]" in result.stdout
    # The exporter names the namespace it reads.
    label = topology.exec_node([sys.executable, "-c", EXPORTER_NETNS]).strip()
    assert label == f"net:[{own}] ({topology.node})"
    # Read in its own namespace, the same node is judged (and leaks).
    assert check(topology.node, "realserver").worst == "CRITICAL"


# --- 12: settings on lo that do nothing ------------------------------------------------------


def test_12_lo_values_alone_do_nothing(topology: Topology) -> None:
    realserver(topology, "0", "0")
    topology.write_sysctl(Sysctl("lo", "arp_ignore", "1"))
    topology.write_sysctl(Sysctl("lo", "arp_announce", "2"))
    observed = topology.observe(VIP)
    assert observed.answers_vip and observed.announce_sender == VIP
    verdict = check(topology.node, "realserver")
    assert verdict.worst == "CRITICAL", verdict
    assert {tuple(f["interfaces"]) for f in verdict.of("no_effect")} == {("lo",)}
    topology.write_sysctl(Sysctl("all", "arp_ignore", "1"))
    topology.write_sysctl(Sysctl("all", "arp_announce", "2"))
    assert not topology.observe(VIP).answers_vip
    assert check(topology.node, "realserver").worst in SOUND
