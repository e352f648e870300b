"""Debian's Prometheus scrapes the exporter on a broken real server, then on the fixed one.

Both daemons run inside a network namespace set up as an LVS-DR real server (lan0 with
192.0.2.10/24, the VIP on lo, every ARP knob at the kernel default 0: the VIP leaks) and talk
over that namespace's loopback, so nothing here touches the host's own network. The test asks
Prometheus's HTTP API what it stored, as a dashboard or an alert would.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_processes import Daemon, http_get, require_binary, running, running_exporter, wait_for
from kernel.netns import DEFAULT_VIP, NODE_IFACE, NetnsError, Sysctl, Topology, lvs_topology

from exporter.cli_args import DEFAULT_PORT

pytestmark = [pytest.mark.daemons, pytest.mark.kernel]

PROMETHEUS_PORT = 9090  # the namespace is ours alone: the usual ports are free in it
SCRAPE_INTERVAL = "1s"
QUERY_TIMEOUT_S = 60.0

RULES = Path(__file__).resolve().parents[2] / "packaging" / "prometheus" / "lvs-arp.rules.yml"
# The shipped rule alerts per problem: the interface and parameter reach the alert.
LEAK_ALERT = (
    'ALERTS{{alertname="LvsArpLeakingOrSilent", alertstate="pending", '
    'interface="{iface}", parameter="{param}"}}'
)
ANY_LEAK_ALERT = 'count(ALERTS{alertname="LvsArpLeakingOrSilent"})'
MISCONFIGURED = 'lvs_arp_misconfigured{{interface="{iface}", parameter="{param}"}}'


@pytest.fixture
def real_server() -> Iterator[Topology]:
    """A real server that leaks its VIP: the namespaces are deleted whatever happens."""
    if os.geteuid() != 0:
        pytest.fail("this test makes network namespaces: run pytest as root", pytrace=False)
    try:
        with lvs_topology() as topology:
            topology.ip_node("addr", "add", f"{DEFAULT_VIP}/32", "dev", "lo")
            yield topology
    except NetnsError as err:
        pytest.fail(f"cannot make the test network namespaces: {err}", pytrace=False)


def prometheus_config(path: Path) -> Path:
    path.write_text(
        "global:\n"
        f"  scrape_interval: {SCRAPE_INTERVAL}\n"
        f"  evaluation_interval: {SCRAPE_INTERVAL}\n"
        f"rule_files: ['{RULES}']\n"
        "scrape_configs:\n"
        "  - job_name: lvs_arp\n"
        "    scrape_timeout: 1s\n"
        "    static_configs:\n"
        f"      - targets: ['127.0.0.1:{DEFAULT_PORT}']\n"
    )
    return path


class PrometheusApi:
    def __init__(self, daemon: Daemon, netns: str) -> None:
        self.daemon = daemon
        self.netns = netns

    def query(self, promql: str) -> float | None:
        """The instant value of a single-series query, or None while there is none."""
        url = f"http://127.0.0.1:{PROMETHEUS_PORT}/api/v1/query?" + urllib.parse.urlencode(
            {"query": promql}
        )
        try:
            answer = json.loads(http_get(url, self.netns))
        except OSError:
            return None  # not listening yet
        result = answer["data"]["result"]
        assert len(result) <= 1, result
        return float(result[0]["value"][1]) if result else None

    def wait_until(self, promql: str, expected: float | None) -> None:
        def settled() -> bool | None:
            return True if self.query(promql) == expected else None

        wait_for(f"{promql} == {expected}", settled, self.daemon, QUERY_TIMEOUT_S)


def test_prometheus_stores_the_leak_and_then_the_fix(tmp_path: Path, real_server: Topology) -> None:
    prometheus = require_binary("prometheus", "prometheus")
    node = real_server.node
    argv = [
        prometheus,
        f"--config.file={prometheus_config(tmp_path / 'prometheus.yml')}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{PROMETHEUS_PORT}",
    ]
    exporting = running_exporter(
        ["--role=realserver"], tmp_path / "exporter.log", node, DEFAULT_PORT
    )
    scraping = running(argv, tmp_path / "prometheus.log", node)
    with exporting, scraping as daemon:
        leak_then_fix(PrometheusApi(daemon, node), real_server)


def leak_then_fix(api: PrometheusApi, real_server: Topology) -> None:
    api.wait_until('up{job="lvs_arp"}', 1)
    api.wait_until("lvs_arp_scrape_success", 1)
    for param in ("arp_ignore", "arp_announce"):
        api.wait_until(MISCONFIGURED.format(iface=NODE_IFACE, param=param), 1)
    api.wait_until(f'lvs_arp_vip_present{{vip="{DEFAULT_VIP}"}}', 1)
    api.wait_until("lvs_arp_compliant", 0)
    for param in ("arp_ignore", "arp_announce"):  # the shipped rule, evaluated by Prometheus
        api.wait_until(LEAK_ALERT.format(iface=NODE_IFACE, param=param), 1)
    # lo carries no ARP (ARP-SEMANTICS §2): it is never judged.
    assert api.query('count(lvs_arp_misconfigured{interface="lo"})') is None

    real_server.write_sysctl(Sysctl("all", "arp_ignore", "1"))
    real_server.write_sysctl(Sysctl("all", "arp_announce", "2"))
    for param in ("arp_ignore", "arp_announce"):
        api.wait_until(MISCONFIGURED.format(iface=NODE_IFACE, param=param), 0)
    api.wait_until('lvs_arp_findings{severity="critical"}', 0)
    api.wait_until(ANY_LEAK_ALERT, None)
