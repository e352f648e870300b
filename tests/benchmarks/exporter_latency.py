"""lvs-arp-exporter scrape latency at 8 and at 2,000 interfaces, the exporter on one core.

    python tests/benchmarks/exporter_latency.py [--scrapes N]

The exporter is pinned to CPU 0 (taskset) and the client kept off it, so the figure is what
one core does for a scrape: accept, read the host, judge it, read sysctl.d, encode, answer.
The exporter's own lvs_arp_scrape_duration_seconds gives the read-and-judge share. One
exporter serves both sizes: the namespace grows between them.
Targets: median <= 20 ms at 8 interfaces, <= 150 ms at 2,000.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence

from bench_common import (
    Row,
    benchmark_namespace,
    compile_like_an_install,
    interface_names,
    machine_note,
    pairs_for,
    print_table,
    running_exporter,
    scrape_in,
    sound_sysctl_root,
)

TARGETS_MS = {8: 20.0, 2000: 150.0}
WARMUP_SCRAPES = 10


def measure(scrapes: int) -> list[Row]:
    rows = []
    with benchmark_namespace("latency", 8) as node, sound_sysctl_root() as boot:
        args = ["--role=realserver", f"--sysctl-root={boot}"]
        with running_exporter(node, args, pin_cpu0=True) as (_, port):
            for interfaces, count in ((8, scrapes), (2000, max(20, scrapes // 4))):
                have = len(interface_names(node))
                if have < interfaces:
                    node.add_veth_pairs(pairs_for(interfaces) - pairs_for(have), prefix="w")
                    have = len(interface_names(node))
                scrape_in(node, port, WARMUP_SCRAPES)
                timed = scrape_in(node, port, count)
                total = statistics.median(s.seconds for s in timed) * 1000
                inner = statistics.median(s.read_and_judge_seconds for s in timed) * 1000
                target = TARGETS_MS[interfaces]
                rows.append(
                    Row(
                        f"scrape, {have} interfaces",
                        total,
                        "ms",
                        count,
                        target=f"<= {target:.0f} ms",
                        met=total <= target,
                    )
                )
                rows.append(Row(f"  of which read + judge, {have} interfaces", inner, "ms", count))
    return rows


def main(argv: Sequence[str] | None = None) -> list[Row]:
    compile_like_an_install()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scrapes", type=int, default=200)
    options = parser.parse_args(argv)
    rows = measure(options.scrapes)
    print_table(f"Exporter scrape latency, exporter on one core ({machine_note()})", rows)
    return rows


if __name__ == "__main__":
    main()
