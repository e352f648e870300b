"""The alert rules and the exposition, judged by Debian's promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from daemon_processes import require_binary, running_exporter
from fake_host import FakeHost

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "packaging" / "prometheus"
RULES = PROMETHEUS_DIR / "lvs-arp.rules.yml"
RULE_TESTS = PROMETHEUS_DIR / "lvs-arp.rules.test.yml"
SCRAPE_CONFIG = PROMETHEUS_DIR / "scrape-config.example.yml"


def promtool(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    command = [require_binary("promtool", "prometheus"), *args]
    return subprocess.run(command, input=stdin, capture_output=True, timeout=120, check=False)


def assert_clean(done: subprocess.CompletedProcess[bytes]) -> None:
    assert done.returncode == 0, (done.stdout + done.stderr).decode()


def alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_promtool_checks_the_rules() -> None:
    assert_clean(promtool("check", "rules", str(RULES)))


def test_promtool_unit_tests_pass() -> None:
    assert_clean(promtool("test", "rules", str(RULE_TESTS)))


def test_the_example_scrape_config_is_valid() -> None:
    assert_clean(promtool("check", "config", str(SCRAPE_CONFIG)))


@pytest.mark.parametrize("rule", alerts(), ids=lambda rule: rule["alert"])
def test_every_alert_is_documented_and_tested_both_ways(rule: dict[str, Any]) -> None:
    assert rule["labels"]["severity"] in ("critical", "warning")
    assert set(rule["annotations"]) == {"summary", "description"}
    cases = [
        case
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test["alert_rule_test"]
        if case["alertname"] == rule["alert"]
    ]
    assert any(case["exp_alerts"] for case in cases), "never shown firing"
    assert any(not case["exp_alerts"] for case in cases), "never shown not firing"


def test_promtool_lints_a_live_scrape_clean(tmp_path: Path) -> None:
    host = FakeHost(virtual_services=("192.0.2.200",)).loopback("192.0.2.100/32")
    host.interface("eth0", "192.0.2.10/24").interface("eth1", "198.51.100.10/24", announce=9)
    tree = host.write(tmp_path / "host")
    args = ["--role=realserver", *tree.plugin_args()]
    with running_exporter(args, tmp_path / "exporter.log") as exporter:
        body = exporter.get()
    assert b"lvs_arp_misconfigured" in body
    done = promtool("check", "metrics", stdin=body)
    assert_clean(done)
    assert done.stdout == done.stderr == b"", "promtool has lint findings"
