"""One LAN segment of namespaces for the ARP probe: a bridge and the machines plugged into it.

    router 192.0.2.1   director 192.0.2.10   director2 192.0.2.20   rs1 192.0.2.11   rs2 192.0.2.12
          \\                |                      |                     |                /
           `------------ br0 (a Linux bridge in its own namespace, one veth port each) ---'

Each machine is a namespace with `lan0` (its end of a veth) at 192.0.2.x/24 and its ARP
knobs reset to the kernel default 0, so a real server with its VIP /32 on `lo` leaks until
it is fixed with arp_ignore=1, arp_announce=2. The library runs inside a machine's namespace
as a subprocess (`ip netns exec`), the way the plugin runs there. Everything is deleted on
exit, pass or fail; every command names a namespace this module created.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from netns_commands import COMMAND_TIMEOUT_S, NetnsError, delete_namespaces, run

REPO = str(Path(__file__).resolve().parents[2])
LAN = "lan0"
PREFIX = 24
VIP = "192.0.2.100"
RESET_KNOBS = ("arp_ignore", "arp_announce", "arp_filter", "rp_filter")
MACHINES = {
    "router": "192.0.2.1",
    "director": "192.0.2.10",
    "director2": "192.0.2.20",
    "rs1": "192.0.2.11",
    "rs2": "192.0.2.12",
}
NEIGHBOUR_WAIT_S = 3.0

_serial = itertools.count()

# One datagram to the discard port: the kernel must resolve the address's MAC to send it.
UDP_POKE = (
    "import socket, sys; "
    "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'', (sys.argv[1], 9))"
)

# Runs inside a machine's namespace: read the host, choose the interfaces, probe, name the
# responders, judge. What check_lvs_arp --probe-arp will do, minus the face.
PROBE_SNIPPET = textwrap.dedent(
    """
    import json, sys
    from ipaddress import IPv4Address
    from checks.cli.text import summary
    from checks.judge.probe import judge_probes, probe_finding
    from checks.model import Role
    from checks.read.arp_probe import probe_and_identify, probe_interfaces
    from checks.read.live import read_live_host

    args = json.loads(sys.argv[1])
    state = read_live_host()
    vips = [IPv4Address(v) for v in args["vips"]]
    targets = [(i, v) for v in vips for i in probe_interfaces(state, v, args["interface"])]
    results = probe_and_identify(targets, args["window_s"], proc_root=args["proc_root"])
    verdicts = judge_probes(Role(args["role"]), state, args["standby_ok"], results)
    def responder(r):
        return {"mac": r.mac, "ips": [str(ip) for ip in r.ips], "is_local": r.is_local,
                "is_real_server": r.is_real_server}
    print(json.dumps({
        "results": [{"vip": str(r.vip), "interface": r.interface, "requests_sent": r.requests_sent,
                     "frames_read": r.frames_read, "truncated": r.truncated,
                     "responders": [responder(x) for x in r.responders]} for r in results],
        "verdicts": [{"vip": str(v.vip), "kind": v.kind, "severity": v.severity.name,
                      "responders": [x.mac for x in v.responders],
                      "responder_count": v.responder_count,
                      "summary": summary(probe_finding(v), Role(args["role"]), limit=3)}
                     for v in verdicts],
    }))
    """
)

# Listens on a machine's lan0 and prints every frame a given MAC sent, as hex, one per line.
CAPTURE_SNIPPET = textwrap.dedent(
    """
    import select, socket, sys, time
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    sock.bind((sys.argv[1], 0))
    source = bytes.fromhex(sys.argv[2].replace(":", ""))
    print("listening", flush=True)
    deadline = time.monotonic() + float(sys.argv[3])
    while (left := deadline - time.monotonic()) > 0:
        if select.select([sock], [], [], left)[0]:
            frame = sock.recv(2048)
            if frame[6:12] == source:
                print(frame.hex(), flush=True)
    """
)


# Asks who-has ARGV[3] from ARGV[2] every ARGV[5] s for ARGV[4] s: a router re-resolving the
# VIP, or (interval 0) a flood of ARP.
CHATTER_SNIPPET = textwrap.dedent(
    """
    import socket, sys, time
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    sock.bind((sys.argv[1], 0x0806))
    mac = sock.getsockname()[4]
    arp = bytes.fromhex("0806 0001 0800 06 04 0001".replace(" ", ""))
    frame = (b"\\xff" * 6 + mac + arp + mac + socket.inet_aton(sys.argv[2]) + b"\\0" * 6
             + socket.inet_aton(sys.argv[3]))
    print("sending", flush=True)
    deadline = time.monotonic() + float(sys.argv[4])
    while time.monotonic() < deadline:
        sock.send(frame)
        time.sleep(float(sys.argv[5]))
    """
)


@dataclass(frozen=True)
class Machine:
    label: str
    netns: str
    ip: str
    mac: str


@dataclass
class Segment:
    bridge: str
    machines: dict[str, Machine] = field(default_factory=dict)
    proc_root: str | None = None  # a fake proc tree holding net/ip_vs, for the director

    def __getitem__(self, label: str) -> Machine:
        return self.machines[label]

    def ip(self, label: str, *args: str) -> str:
        return run(["ip", "-n", self[label].netns, *args])

    def sysctl(self, label: str, conf: str, knob: str, value: int) -> None:
        path = f"/proc/sys/net/ipv4/conf/{conf}/{knob}"
        run(["ip", "netns", "exec", self[label].netns, "tee", path], stdin=f"{value}\n")

    def add_vip(self, label: str, dev: str) -> None:
        self.ip(label, "addr", "add", f"{VIP}/32", "dev", dev)

    def del_vip(self, label: str, dev: str) -> None:
        self.ip(label, "addr", "del", f"{VIP}/32", "dev", dev)

    def set_knobs(self, label: str, arp_ignore: int, arp_announce: int) -> None:
        """The real server's fix (1/2) or its leak (0/0), on conf/all as the README fix does."""
        self.sysctl(label, "all", "arp_ignore", arp_ignore)
        self.sysctl(label, "all", "arp_announce", arp_announce)

    def learn(self, label: str, *others: str) -> None:
        """Make *label*'s kernel resolve *others* as forwarding to them would: a UDP datagram
        to each (the discard port), then wait for a complete neighbour entry."""
        for other in others:
            self.exec(label, [sys.executable, "-c", UDP_POKE, self[other].ip])
        deadline = time.monotonic() + NEIGHBOUR_WAIT_S
        wanted = {self[other].ip: self[other].mac for other in others}
        while True:
            table = json.loads(self.ip(label, "-j", "neigh", "show", "dev", LAN))
            known = {e["dst"]: e.get("lladdr") for e in table if e.get("state") != ["FAILED"]}
            if all(known.get(ip) == mac for ip, mac in wanted.items()):
                return
            if time.monotonic() > deadline:
                raise NetnsError(
                    f"{label} did not resolve {wanted} within {NEIGHBOUR_WAIT_S} s: {table}"
                )
            time.sleep(0.05)

    def exec(self, label: str, argv: Sequence[str]) -> str:
        return run(["ip", "netns", "exec", self[label].netns, *argv])

    def probe(
        self,
        label: str,
        role: str,
        *,
        standby_ok: bool = False,
        interface: str | None = None,
        window_s: float = 0.3,
        wrapper: Sequence[str] = (),
    ) -> dict[str, list[dict[str, object]]]:
        """Run the library's probe and verdicts in *label*'s namespace; its JSON report.

        *wrapper* goes before python (setpriv, unshare); a wrapped run reads no ip_vs file,
        since pytest's temp dir is closed to other users.
        """
        on_director = label.startswith("director") and not wrapper
        args = {
            "vips": [VIP],
            "role": role,
            "standby_ok": standby_ok,
            "interface": interface,
            "window_s": window_s,
            "proc_root": self.proc_root if on_director else "/nonexistent",
        }
        argv = [*wrapper, sys.executable, "-c", PROBE_SNIPPET, json.dumps(args)]
        output = self.exec(label, argv)
        report: dict[str, list[dict[str, object]]] = json.loads(output)
        return report

    def run_as(self, label: str, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        """Run *argv* in *label*'s namespace; hand back what happened, exit code included."""
        return subprocess.run(
            ["ip", "netns", "exec", self[label].netns, *argv],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
            env={**os.environ, "PYTHONPATH": REPO},
        )

    @contextmanager
    def chatter(
        self, label: str, seconds: float, target: str = VIP, interval_s: float = 0.02
    ) -> Iterator[None]:
        """*label* keeps asking who-has *target* (from its own address) while the block runs."""
        argv = [sys.executable, "-c", CHATTER_SNIPPET, LAN, self[label].ip, target]
        argv += [str(seconds), str(interval_s)]
        with self._background(label, argv, "sending") as process:
            yield
            process.wait(timeout=seconds + COMMAND_TIMEOUT_S)

    @contextmanager
    def _background(
        self, label: str, argv: Sequence[str], ready: str
    ) -> Iterator[subprocess.Popen[str]]:
        """Start *argv* in *label*'s namespace, wait for its *ready* line, kill it if left over."""
        process = subprocess.Popen(
            ["ip", "netns", "exec", self[label].netns, *argv], stdout=subprocess.PIPE, text=True
        )
        try:
            assert process.stdout is not None
            if process.stdout.readline().strip() != ready:
                raise NetnsError(f"{argv[:3]} in {label} did not start")
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    @contextmanager
    def capture(self, label: str, source_mac: str, seconds: float) -> Iterator[list[bytes]]:
        """Frames *source_mac* sends, as *label* hears them, while the block runs."""
        frames: list[bytes] = []
        argv = [sys.executable, "-c", CAPTURE_SNIPPET, LAN, source_mac, str(seconds)]
        with self._background(label, argv, "listening") as listener:
            yield frames
            out, _ = listener.communicate(timeout=seconds + COMMAND_TIMEOUT_S)
            frames.extend(bytes.fromhex(line) for line in out.split())


def _new_namespace(name: str) -> None:
    run(["ip", "netns", "add", name])
    # IPv6 only adds chatter on the wire (DAD, MLD); ARP is IPv4.
    for conf in ("all", "default"):
        path = f"/proc/sys/net/ipv6/conf/{conf}/disable_ipv6"
        run(["ip", "netns", "exec", name, "tee", path], stdin="1\n")


def _plug(segment: Segment, label: str, ip: str, port: str) -> Machine:
    netns = f"{segment.bridge.replace('-br-', f'-{label}-')}"
    _new_namespace(netns)
    run(
        [
            "ip",
            "-n",
            netns,
            "link",
            "add",
            LAN,
            "type",
            "veth",
            "peer",
            "name",
            port,
            "netns",
            segment.bridge,
        ]
    )
    run(["ip", "-n", segment.bridge, "link", "set", port, "master", "br0", "up"])
    run(["ip", "-n", netns, "addr", "add", f"{ip}/{PREFIX}", "dev", LAN])
    for conf in ("all", "default", "lo", LAN):
        for knob in RESET_KNOBS:
            path = f"/proc/sys/net/ipv4/conf/{conf}/{knob}"
            run(["ip", "netns", "exec", netns, "tee", path], stdin="0\n")
    run(["ip", "-n", netns, "link", "set", "lo", "up"])
    run(["ip", "-n", netns, "link", "set", LAN, "up"])
    link = json.loads(run(["ip", "-n", netns, "-j", "link", "show", "dev", LAN]))
    return Machine(label, netns, ip, str(link[0]["address"]))


def _ip_vs(tree: Path, rips: Sequence[str]) -> None:
    """/proc/net/ip_vs as ip_vs_ctl.c prints it: the VIP's TCP service, DR to *rips*.

    This CI kernel has no IPVS, so the director's list of real servers comes from this file
    (read_destinations(proc_root)); the neighbour table it is matched through is the kernel's.
    """
    lines = [
        "IP Virtual Server version 1.2.1 (size=4096)",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn",
        "TCP  {:08X}:0050 rr".format(int.from_bytes(bytes(map(int, VIP.split("."))), "big")),
    ]
    for rip in rips:
        packed = int.from_bytes(bytes(map(int, rip.split("."))), "big")
        lines.append(f"  -> {packed:08X}:0050      Route   1      0          0")
    (tree / "net").mkdir(parents=True)
    (tree / "net" / "ip_vs").write_text("\n".join(lines) + "\n")


@contextmanager
def lan_segment(tmp: Path, labels: Sequence[str] = tuple(MACHINES)) -> Iterator[Segment]:
    """Build the segment with *labels* plugged in; delete every namespace afterwards."""
    bridge = f"lvsarp-br-{os.getpid()}-{next(_serial)}"
    segment = Segment(bridge=bridge, proc_root=str(tmp / "proc"))
    names = [bridge] + [bridge.replace("-br-", f"-{label}-") for label in labels]
    try:
        _new_namespace(bridge)
        run(["ip", "-n", bridge, "link", "add", "br0", "type", "bridge"])
        run(["ip", "-n", bridge, "link", "set", "br0", "up"])
        for number, label in enumerate(labels):
            segment.machines[label] = _plug(segment, label, MACHINES[label], f"port{number}")
        _ip_vs(tmp / "proc", [MACHINES["rs1"], MACHINES["rs2"]])
        yield segment
    finally:
        delete_namespaces(names)
