"""What every benchmark shares: a namespace, timed child processes, and the result table.

Benchmarks are run by hand (`python tests/benchmarks/<name>.py`, or run_all.py), never by
pytest: timings on a shared runner make flaky tests, and ratios measured side by side in
one run say more than absolute numbers. Each measurement alternates the command under test
with its baseline, so a load spike on the machine hits both.
"""

from __future__ import annotations

import compileall
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))  # the namespace helper lives beside the reliability tests

from reliability.node_netns import SOUND_KNOBS, Node, sound_realserver  # noqa: E402

BIN = Path(sys.executable).parent
PLUGIN = str(BIN / "check_lvs_arp")
EXPORTER = str(BIN / "lvs-arp-exporter")
PYTHON = sys.executable
REPO = TESTS.parent


def compile_like_an_install() -> None:
    """Byte-compile checks/ and exporter/ as `pip install` and Debian's py3compile do.

    With PYTHONDONTWRITEBYTECODE set (as on this project's machines) an editable checkout
    would compile every module from source on every run, a cost no installed copy pays.
    """
    for package in ("checks", "exporter"):
        compileall.compile_dir(REPO / package, quiet=1)


# lo, lan0 and lan0p come with every namespace; the rest are veth pairs.
BASE_INTERFACES = 3


@dataclass(frozen=True)
class Run:
    seconds: float
    max_rss_kib: int
    exit_code: int


@dataclass(frozen=True)
class Row:
    """One line of the table: a median (or a peak, for memory) and how it meets its target."""

    name: str
    value: float
    unit: str
    runs: int
    ratio_to: str = ""  # the baseline the ratio is taken against
    ratio: float | None = None
    target: str = ""
    met: bool | None = None

    def cells(self) -> list[str]:
        ratio = f"{self.ratio:.2f}x {self.ratio_to}" if self.ratio is not None else ""
        met = "" if self.met is None else ("met" if self.met else "MISSED")
        return [self.name, f"{self.value:.1f} {self.unit}", str(self.runs), ratio, self.target, met]


def print_table(title: str, rows: Sequence[Row]) -> None:
    header = ["measurement", "value", "runs", "ratio", "target", ""]
    table = [header, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    print(f"\n## {title}\n")
    for n, line in enumerate(table):
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    sys.stdout.flush()


def machine_note() -> str:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"{os.cpu_count()} CPUs, load average {load} (1/5/15 min) at {time.strftime('%H:%M')}"


def spawn_and_wait(argv: Sequence[str]) -> Run:
    """Start *argv* with stdout/stderr to /dev/null; wall time and the child's peak RSS.

    posix_spawn and wait4 directly: subprocess's own bookkeeping would be timed too, and
    wait4 hands back the child's rusage, where ru_maxrss is its peak resident set.
    """
    quiet = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_WRONLY, 0) for fd in (1, 2)]
    started = time.perf_counter()
    pid = os.posix_spawnp(argv[0], list(argv), os.environ, file_actions=quiet)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - started
    return Run(elapsed, usage.ru_maxrss, os.waitstatus_to_exitcode(status))


def alternate(
    commands: Mapping[str, Sequence[str]], runs: int, warmup: int = 2
) -> dict[str, list[Run]]:
    """Run each command *runs* times, taking turns, after *warmup* untimed rounds."""
    for _ in range(warmup):
        for argv in commands.values():
            spawn_and_wait(argv)
    timings: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            timings[name].append(spawn_and_wait(argv))
    return timings


def median_ms(runs: Sequence[Run]) -> float:
    return statistics.median(run.seconds for run in runs) * 1000


def pairs_for(interfaces: int) -> int:
    """veth pairs that bring a namespace to about *interfaces* (pairs come two at a time)."""
    return max(0, (interfaces - BASE_INTERFACES + 1) // 2)


@contextmanager
def benchmark_namespace(label: str, interfaces: int) -> Iterator[Node]:
    """A sound real server with about *interfaces* interfaces; always deleted afterwards."""
    with sound_realserver(f"bench-{label}", veth_pairs=pairs_for(interfaces)) as node:
        yield node


@contextmanager
def sound_sysctl_root() -> Iterator[str]:
    """A boot configuration that restores the namespace's values: the check judges it OK.

    This is the configured real server the numbers are for; the host's own /etc/sysctl.d
    would make every interface a WARNING and measure the warnings instead.
    """
    with tempfile.TemporaryDirectory(prefix="lvsarp-bench-boot-") as root:
        conf = Path(root, "etc/sysctl.d/90-lvs-arp.conf")
        conf.parent.mkdir(parents=True)
        lines = [
            f"net.ipv4.conf.{c}.{k} = {v}"
            for c in ("all", "default")
            for k, v in SOUND_KNOBS.items()
        ]
        conf.write_text("\n".join(lines) + "\n")
        yield root


def interface_names(node: Node) -> list[str]:
    """Every interface in the namespace, as `ip -o link` names them (without @peer)."""
    lines = node.ip("-o", "link", "show").splitlines()
    return [line.split(": ", 2)[1].split("@")[0] for line in lines if line.strip()]


# Scrapes run inside the namespace, where the exporter's loopback is: a small client that
# keeps off CPU 0 (the exporter's, when pinned) and prints "seconds read_and_judge" lines.
_SCRAPE_CLIENT = r"""
import http.client, os, re, sys, time
others = os.sched_getaffinity(0) - {0}
if others:
    os.sched_setaffinity(0, others)
port, count = int(sys.argv[1]), int(sys.argv[2])
duration = re.compile(rb"^lvs_arp_scrape_duration_seconds (\S+)$", re.MULTILINE)
for _ in range(count):
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/metrics")
    body = connection.getresponse().read()
    connection.close()
    took = time.perf_counter() - started
    if b"lvs_arp_scrape_success 1" not in body:
        sys.exit("scrape failed:\n" + body.decode(errors="replace")[-2000:])
    print(took, float(duration.search(body).group(1)))
"""
_LISTENING = re.compile(rb"listening on \S*:(\d+)")


@dataclass(frozen=True)
class Scrape:
    seconds: float
    read_and_judge_seconds: float  # the exporter's own lvs_arp_scrape_duration_seconds


@contextmanager
def running_exporter(
    node: Node, args: Sequence[str], pin_cpu0: bool = False
) -> Iterator[tuple[int, int]]:
    """(pid, port) of an exporter in *node* listening on 127.0.0.1; stopped afterwards."""
    pin = ["taskset", "-c", "0"] if pin_cpu0 else []
    argv = node.argv([*pin, EXPORTER, *args, "--web.listen-address=127.0.0.1:0"])
    with tempfile.TemporaryDirectory(prefix="lvsarp-bench-") as scratch:
        log = Path(scratch, "exporter.log")
        with log.open("wb") as sink:
            # ip netns exec and taskset exec, not fork: the pid is the exporter's own.
            process = subprocess.Popen(argv, stdout=sink, stderr=sink)
        try:
            yield process.pid, _port(process, log)
        finally:
            process.terminate()
            process.wait(10)


def _port(process: subprocess.Popen[bytes], log: Path) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        found = _LISTENING.search(log.read_bytes())
        if found:
            return int(found.group(1))
        time.sleep(0.05)
    raise SystemExit(f"the exporter did not start:\n{log.read_text()}")


def scrape_in(node: Node, port: int, count: int) -> list[Scrape]:
    done = subprocess.run(
        node.argv([sys.executable, "-c", _SCRAPE_CLIENT, str(port), str(count)]),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return [Scrape(*map(float, line.split())) for line in done.stdout.splitlines()]


def rss_kib(pid: int) -> int:
    """VmRSS of a running process, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit(f"no VmRSS for pid {pid}")


def plugin_rows(
    timings: Mapping[str, Sequence[Run]],
    baseline_name: str,
    baseline_ms: float,
    runs: int,
    suffix: str,
    target_ratio: float,
) -> list[Row]:
    """The plugin with and without the boot check, each as a ratio to the baseline run."""
    rows = []
    for name, label in (("plugin", "default, sysctl.d sound"), ("plugin --no-boot-check", "")):
        value = median_ms(timings[name])
        ratio = value / baseline_ms
        rows.append(
            Row(
                f"check_lvs_arp ({label or name.removeprefix('plugin ')}){suffix}",
                value,
                "ms",
                runs,
                ratio_to=baseline_name,
                ratio=ratio,
                target=f"<= {target_ratio:.1f}x",
                met=ratio <= target_ratio if name == "plugin" else None,
            )
        )
    return rows
