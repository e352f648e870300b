"""The alert rules, their generator and runbook, and the exposition, judged by Debian's promtool."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from daemon_processes import require_binary, running_exporter
from fake_host import FakeHost

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "packaging" / "prometheus"
RULES = PROMETHEUS_DIR / "lvs-arp.rules.yml"
RULE_TESTS = PROMETHEUS_DIR / "lvs-arp.rules.test.yml"
RENDER_RULES = PROMETHEUS_DIR / "render-rules"
SCRAPE_CONFIG = PROMETHEUS_DIR / "scrape-config.example.yml"
RUNBOOK = PROMETHEUS_DIR.parents[1] / "docs" / "runbook.md"
DEFAULT_RUNBOOK_URL = "https://example.invalid/lvs-arp-check/docs/runbook.md"
# Every selector of a series in an expression, with its matchers if it has any.
_SELECTOR = re.compile(r"\b(lvs_arp_\w+|up|node_textfile_mtime_seconds)\b(\{[^}]*\})?")


def promtool(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    command = [require_binary("promtool", "prometheus"), *args]
    return subprocess.run(command, input=stdin, capture_output=True, timeout=120, check=False)


def assert_clean(done: subprocess.CompletedProcess[bytes]) -> None:
    assert done.returncode == 0, (done.stdout + done.stderr).decode()


def alerts(text: str | None = None) -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text() if text is None else text)["groups"]
    return [rule for group in groups for rule in group["rules"]]


def render_rules(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(RENDER_RULES), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def github_anchor(heading: str) -> str:
    """The id GitHub gives a Markdown heading: lower case, punctuation other than - and _
    dropped, spaces made hyphens."""
    kept = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return kept.replace(" ", "-")


def runbook_anchors() -> set[str]:
    headings = re.findall(r"^#{1,6} +(.+?) *#*$", RUNBOOK.read_text(), flags=re.MULTILINE)
    return {github_anchor(heading) for heading in headings}


def test_promtool_checks_the_rules() -> None:
    assert_clean(promtool("check", "rules", str(RULES)))


def test_promtool_unit_tests_pass() -> None:
    assert_clean(promtool("test", "rules", str(RULE_TESTS)))


def test_the_example_scrape_config_is_valid() -> None:
    assert_clean(promtool("check", "config", str(SCRAPE_CONFIG)))


def test_the_committed_rules_are_the_default_render() -> None:
    done = render_rules()
    assert done.returncode == 0, done.stderr
    assert done.stdout == RULES.read_text(), "run packaging/prometheus/render-rules -o ..."


def test_no_job_is_hard_coded_by_default() -> None:
    assert "job=" not in RULES.read_text()
    assert "@SEL@" not in RULES.read_text() and "@RUNBOOK@" not in RULES.read_text()


def test_a_job_selector_reaches_every_series_selector(tmp_path: Path) -> None:
    selector = 'job=~"lvs_arp|node"'
    url = "https://wiki.example.org/ops/lvs-arp-runbook"
    done = render_rules("--job-selector", selector, "--runbook-url", url)
    assert done.returncode == 0, done.stderr
    rendered = tmp_path / "rules.yml"
    rendered.write_text(done.stdout)
    assert_clean(promtool("check", "rules", str(rendered)))
    rules = alerts(done.stdout)
    selectors = [m for rule in rules for m in _SELECTOR.finditer(rule["expr"])]
    assert len(selectors) >= len(rules)
    for found in selectors:
        assert (found.group(2) or "").startswith("{" + selector), found.group(0)
    for rule in rules:
        assert rule["annotations"]["runbook_url"].startswith(url + "#")


@pytest.mark.parametrize("bad", ["job=", "job=~lvs_arp", 'job="a"}) or vector(1', "up"])
def test_render_rules_refuses_what_is_not_label_matchers(bad: str) -> None:
    done = render_rules("--job-selector", bad)
    assert done.returncode == 2
    assert "--job-selector" in done.stderr


def test_the_runbook_anchors_are_computed_as_github_does() -> None:
    assert github_anchor("LvsArpLeakingOrSilent") == "lvsarpleakingorsilent"
    assert github_anchor("Fix: the `ip` commands, now") == "fix-the-ip-commands-now"
    assert "lvsarpleakingorsilent" in runbook_anchors()


@pytest.mark.parametrize("rule", alerts(), ids=lambda rule: rule["alert"])
def test_every_alert_links_its_runbook_section(rule: dict[str, Any]) -> None:
    assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}
    base, _, anchor = rule["annotations"]["runbook_url"].partition("#")
    assert base == DEFAULT_RUNBOOK_URL
    assert anchor == github_anchor(rule["alert"]), "one section per alert, named after it"
    assert anchor in runbook_anchors(), f"docs/runbook.md has no heading for #{anchor}"


@pytest.mark.parametrize("rule", alerts(), ids=lambda rule: rule["alert"])
def test_every_alert_is_documented_and_tested_both_ways(rule: dict[str, Any]) -> None:
    assert rule["labels"]["severity"] in ("critical", "warning")
    assert all(rule["annotations"][key].strip() for key in ("summary", "description"))
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
