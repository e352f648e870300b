"""A real NRPE daemon and check_nrpe on a real server with 300 interfaces: nothing is cut.

NRPE v2 packets carried 1 KB of plugin output and Nagios Core keeps 8 KB; before findings
were grouped by cause, 303 interfaces made a 13 KB perfdata line that arrived cut mid-value.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from netns import RealServerNode, realserver_node
from netns_commands import run as run_in_netns
from required_programs import explain, require, require_root, run
from shipped_paths import PLUGIN
from test_nrpe_snippet import check_nrpe, nrpe_config, nrpe_daemon, persisted_fix

pytestmark = pytest.mark.daemons

EXTRA_PAIRS = 150  # 300 more ARP interfaces beside lan0
NRPE_V2_OUTPUT_MAX = 1024


def _add_interfaces(node: RealServerNode) -> None:
    batch = [f"link add x{i} type veth peer name y{i}" for i in range(EXTRA_PAIRS)]
    batch += [f"link set x{i} up" for i in range(EXTRA_PAIRS)]
    run_in_netns(["ip", "-n", node.name, "-batch", "-"], stdin="\n".join(batch) + "\n")


@pytest.mark.parametrize("verbose", [False, True], ids=["plain", "verbose"])
def test_check_nrpe_returns_the_whole_answer_from_300_interfaces(
    deb_root: Path, daemon_dir: Path, verbose: bool
) -> None:
    require_root()
    tools = require("nrpe", "check_nrpe", "ip")
    image = persisted_fix(daemon_dir)
    command = f"{deb_root / PLUGIN} --role realserver --sysctl-root={image} -t 9"
    if verbose:
        command += " -v"
    snippet = daemon_dir / "scale.cfg"
    snippet.write_text(f"command[check_lvs_arp_scale]={command}\n", encoding="utf-8")
    config = nrpe_config(daemon_dir, snippet)
    with realserver_node() as node:
        _add_interfaces(node)
        with nrpe_daemon(node, tools["nrpe"], tools["check_nrpe"], config):
            # As NRPE runs it: user nagios, who may not read ARP or NAT rules.
            direct = run(node.argv("runuser", "-u", "nagios", "--", *command.split()))
            answer = check_nrpe(node, tools["check_nrpe"], "check_lvs_arp_scale")
    assert answer.returncode == 2, explain(answer)
    assert answer.stdout.strip() == direct.stdout.strip(), explain(answer)
    status = answer.stdout.splitlines()[0]
    assert status.startswith("LVS_ARP CRITICAL - 301 interfaces answer ARP for VIP 192.0.2.100")
    # The perfdata arrives whole: the last value is complete and every count is there.
    perfdata = answer.stdout.rpartition("| ")[2].split()
    assert [p.split("=")[0] for p in perfdata] == [
        "arp_interfaces",
        "leaking",
        "silent",
        "unsound_after_reboot",
        "vips",
        "vips_misplaced",
        "critical",
        "warning",
        "unknown",
    ]
    assert "arp_interfaces=301;;;0" in perfdata
    if not verbose:
        assert len(answer.stdout.encode()) <= NRPE_V2_OUTPUT_MAX
