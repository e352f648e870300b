"""The Grafana dashboard: Grafana's model accepts it, and every panel's query finds data.

packaging/grafana/lvs-arp.json is written by packaging/grafana/render-dashboard with
grafana-foundation-sdk (Grafana's builders generated from its dashboard schema). The queries
are run, with the template variables filled in, against Debian's Prometheus after it scraped
two real lvs-arp-exporters serving fake hosts on loopback: a broken real server and a sound one.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from daemon_processes import free_port, http_get, require_binary, running, running_exporter
from fake_host import FakeHost

GRAFANA_DIR = Path(__file__).resolve().parents[2] / "packaging" / "grafana"
DASHBOARD = GRAFANA_DIR / "lvs-arp.json"
RENDER = GRAFANA_DIR / "render-dashboard"
# Panels on the metrics of `lvs-arp-exporter --probe-arp`, off here: their queries must
# parse, and may find nothing.
PROBE_PANELS = {"ARP responders per VIP", "Who answers ARP for each VIP"}
# What Grafana puts in for the variables: All of job and instance matches everything.
VARIABLES = {"$job": ".*", "$instance": ".*", "$__rate_interval": "1m"}
SERIES_NAMES = r"\b(lvs_arp_\w+|up)\b(\{[^}]*\})?"
QUERY_TIMEOUT_S = 60.0


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def panels() -> list[dict[str, Any]]:
    return [panel for panel in dashboard()["panels"] if panel["type"] != "row"]


def queries() -> list[tuple[str, str]]:
    """(panel title, PromQL with the variables substituted) for every query of every panel."""
    found = []
    for panel in panels():
        for target in panel["targets"]:
            expr = target["expr"]
            for name, value in VARIABLES.items():
                expr = expr.replace(name, value)
            found.append((panel["title"], expr))
    return found


def test_the_committed_dashboard_is_the_generator_output() -> None:
    done = subprocess.run(
        [sys.executable, str(RENDER)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr  # grafana-foundation-sdk: setup.cfg's test extra
    assert done.stdout == DASHBOARD.read_text(), "run packaging/grafana/render-dashboard -o ..."


def test_the_generator_type_checks_against_grafanas_builders() -> None:
    """mypy --strict over the SDK's typed builders: a wrong option or enum fails here."""
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(RENDER)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def assert_within(path: str, ours: Any, model: Any) -> None:
    """Every key and value we wrote survives Grafana's model (which adds its defaults)."""
    if isinstance(ours, dict):
        assert isinstance(model, dict), f"{path}: an object, the model has {model!r}"
        for key, value in ours.items():
            assert key in model, f"{path}.{key}: not in Grafana's dashboard model"
            assert_within(f"{path}.{key}", value, model[key])
    elif isinstance(ours, list):
        assert isinstance(model, list) and len(model) == len(ours), path
        for index, (mine, theirs) in enumerate(zip(ours, model, strict=True)):
            assert_within(f"{path}[{index}]", mine, theirs)
    else:
        assert ours == model, f"{path}: {ours!r} read back as {model!r}"


def round_trip(board: dict[str, Any]) -> Any:
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.cog.plugins import register_default_plugins
    from grafana_foundation_sdk.models.dashboard import Dashboard

    register_default_plugins()  # the panel and query types by plugin id
    return json.loads(json.dumps(Dashboard.from_json(board), cls=JSONEncoder))


def test_grafanas_dashboard_model_reads_the_json_back_unchanged() -> None:
    assert_within("dashboard", dashboard(), round_trip(dashboard()))


def test_the_model_check_catches_what_grafana_does_not_know() -> None:
    board = dashboard()
    board["panels"][1]["fieldConfig"]["defaults"]["thresholdz"] = {}
    with pytest.raises(AssertionError, match="thresholdz"):
        assert_within("dashboard", board, round_trip(board))


def test_the_dashboard_is_current_and_has_its_variables() -> None:
    board = dashboard()
    assert board["schemaVersion"] >= 39
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert set(variables) == {"datasource", "job", "instance"}
    assert variables["datasource"]["query"] == "prometheus"
    for name in ("job", "instance"):
        assert variables[name]["multi"] and variables[name]["includeAll"]
    assert {panel["title"] for panel in panels()} >= PROBE_PANELS


def test_every_panel_reads_the_datasource_variable_and_filters_job_and_instance() -> None:
    ids = [panel["id"] for panel in dashboard()["panels"]]
    assert len(set(ids)) == len(ids)
    for panel in panels():
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"
            for found in re.finditer(SERIES_NAMES, target["expr"]):
                matchers = found.group(2) or ""
                assert 'job=~"$job"' in matchers and 'instance=~"$instance"' in matchers, (
                    f"{panel['title']}: {found.group(0)}"
                )


def test_no_two_panels_overlap() -> None:
    cells: dict[tuple[int, int], str] = {}
    for panel in dashboard()["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


def broken_real_server(root: Path) -> list[str]:
    """Leaks on eth1 now, eth0 sound only until reboot, a VIP on eth1, a bad boot line."""
    host = FakeHost().loopback("192.0.2.100/32")
    host.interface("eth0", "192.0.2.10/24", ignore=1, announce=2)
    host.interface("eth1", "198.51.100.10/24", "192.0.2.101/24")
    tree = host.write(root)
    sysctl_d = root / "sysroot/etc/sysctl.d"
    sysctl_d.mkdir(parents=True)
    (sysctl_d / "90-lvs.conf").write_text("this line is not a setting\n")
    vips = ["--vip=192.0.2.100", "--vip=192.0.2.101"]
    return [*tree.plugin_args(), f"--sysctl-root={root / 'sysroot'}", *vips]


def sound_real_server(root: Path) -> list[str]:
    host = FakeHost(all_ignore=1, all_announce=2, default_ignore=1, default_announce=2)
    host.loopback("192.0.2.100/32").interface("eth0", "192.0.2.11/24")
    tree = host.write(root)
    sysctl_root = host.write_boot_config(root / "sysroot")
    return [*tree.plugin_args(), f"--sysctl-root={sysctl_root}"]


class Prometheus:
    def __init__(self, port: int) -> None:
        self.port = port

    def query(self, promql: str) -> dict[str, Any] | None:
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode(
            {"query": promql}
        )
        try:
            answer: dict[str, Any] = json.loads(http_get(url))
        except OSError:
            return None  # not listening yet, or a 400 for a query it cannot parse
        return answer


@pytest.fixture
def scraped_pool(tmp_path: Path) -> Iterator[Prometheus]:
    prometheus = require_binary("prometheus", "prometheus")
    with ExitStack() as stack:
        targets = []
        for name, tree in (("rs-broken", broken_real_server), ("rs-sound", sound_real_server)):
            args = ["--role=realserver", *tree(tmp_path / name)]
            exporter = stack.enter_context(running_exporter(args, tmp_path / f"{name}.log"))
            targets.append(f"'127.0.0.1:{exporter.port}'")
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            "  - job_name: lvs_arp\n"
            "    scrape_timeout: 1s\n"
            f"    static_configs: [{{targets: [{', '.join(targets)}]}}]\n"
        )
        port = free_port()
        argv = [
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
        daemon = stack.enter_context(running(argv, tmp_path / "prometheus.log"))
        api = Prometheus(port)
        yield api
        assert daemon.process.poll() is None, daemon.log_text()


@pytest.mark.daemons
def test_every_panel_query_returns_series_from_a_real_prometheus(
    scraped_pool: Prometheus,
) -> None:
    deadline = time.monotonic() + QUERY_TIMEOUT_S
    while True:
        answers = {expr: scraped_pool.query(expr) for _, expr in queries()}
        missing = [
            (title, expr)
            for title, expr in queries()
            if (answer := answers[expr]) is None
            or answer["status"] != "success"
            or (title not in PROBE_PANELS and not answer["data"]["result"])
        ]
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert not missing, "panels without data:\n" + "\n".join(f"{t}: {e}" for t, e in missing)
    assert {title for title, _ in queries()} >= PROBE_PANELS
