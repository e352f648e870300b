"""Scrape exporters and run the plugin side by side, inside the node's namespace; report JSON.

Run by test_churn.py as `ip netns exec NS python churn_driver.py SPEC`: the exporters listen
on the namespace's own loopback, and the plugin must read the namespace, so the client has
to live there too. One process for all of it keeps the load on the kernel's interface
tables, not on `ip netns exec` start-ups. Everything observed goes into the report; the
test decides what is wrong, so a failure shows every bad answer, not only the first.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

SCRAPE_TIMEOUT_S = 30.0
PLUGIN_TIMEOUT_S = 60.0
# Bad answers kept whole in the report; beyond that only counted.
KEPT_FAILURES = 5
_SUCCESS = re.compile(rb"^lvs_arp_scrape_success (\S+)$", re.MULTILINE)
_RAW_IGNORE = re.compile(rb'^lvs_arp_sysctl_raw_value\{[^}]*parameter="arp_ignore"', re.MULTILINE)


@dataclass
class ScrapeLog:
    scrapes: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    unsuccessful: int = 0  # answered, but lvs_arp_scrape_success was not 1
    # Interfaces listed per scrape: many different counts prove the reads overlapped churn.
    interface_counts: list[int] = field(default_factory=list)
    slowest_s: float = 0.0
    elapsed_s: float = 0.0
    failures: list[str] = field(default_factory=list)

    def keep(self, text: str) -> None:
        if len(self.failures) < KEPT_FAILURES:
            self.failures.append(text)


@dataclass
class PluginLog:
    runs: int = 0
    exit_codes: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    failures: list[str] = field(default_factory=list)  # not OK, or anything on stderr


_plugin_log_lock = threading.Lock()  # plugin runs finish in several pool threads


def scrape_all(port: int, count: int, log: ScrapeLog) -> None:
    started = time.monotonic()
    for _ in range(count):
        asked = time.monotonic()
        try:
            status, body = _get(port)
        except OSError as err:
            log.statuses["error"] = log.statuses.get("error", 0) + 1
            log.keep(f"port {port}: {err!r}")
            continue
        finally:
            log.scrapes += 1
            log.slowest_s = max(log.slowest_s, time.monotonic() - asked)
        log.statuses[str(status)] = log.statuses.get(str(status), 0) + 1
        success = _SUCCESS.search(body)
        if status != 200 or success is None or success.group(1) != b"1":
            log.unsuccessful += 1
            log.keep(f"port {port}: HTTP {status}\n{body.decode(errors='replace')[-2000:]}")
        log.interface_counts.append(len(_RAW_IGNORE.findall(body)))
    log.elapsed_s = time.monotonic() - started


def _get(port: int) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=SCRAPE_TIMEOUT_S)
    try:
        connection.request("GET", "/metrics")
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def run_plugin(argv: list[str], log: PluginLog) -> None:
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=PLUGIN_TIMEOUT_S, check=False
    )
    with _plugin_log_lock:
        log.runs += 1
        code = str(done.returncode)
        log.exit_codes[code] = log.exit_codes.get(code, 0) + 1
        if (done.returncode != 0 or done.stderr) and len(log.failures) < KEPT_FAILURES:
            log.failures.append(f"{argv[1:]} exited {done.returncode}:\n{done.stdout}{done.stderr}")


def main(spec: dict[str, Any]) -> dict[str, Any]:
    ports: list[int] = spec["exporter_ports"]
    scrapes, plugins = [ScrapeLog() for _ in ports], PluginLog()
    # One client per exporter, each scraping its share back to back.
    scrapers = [
        threading.Thread(target=scrape_all, args=(port, spec["scrapes"] // len(ports), log))
        for port, log in zip(ports, scrapes, strict=True)
    ]
    for scraper in scrapers:
        scraper.start()
    variants: list[list[str]] = spec["plugin_argvs"]
    started = time.monotonic()
    with ThreadPoolExecutor(spec["plugin_parallel"]) as pool:
        for n in range(spec["plugin_runs"]):
            pool.submit(run_plugin, variants[n % len(variants)], plugins)
    plugins.elapsed_s = time.monotonic() - started
    for scraper in scrapers:
        scraper.join()
    return {"scrapes": [asdict(log) for log in scrapes], "plugin": asdict(plugins)}


if __name__ == "__main__":
    json.dump(main(json.loads(sys.argv[1])), sys.stdout)
