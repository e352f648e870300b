"""Every benchmark in one go, and one table to paste into the README.

    sudo python tests/benchmarks/run_all.py

Each benchmark builds and deletes its own network namespace. Figures depend on the
machine and its load, which the table's header states; the ratios are the point.
"""

from __future__ import annotations

import time

import exporter_latency
import memory
import plugin_startup
import plugin_vs_sysctl
import vips_scale
from bench_common import Row, machine_note, print_table


def main() -> None:
    started = time.monotonic()
    note_before = machine_note()
    rows: list[Row] = []
    for benchmark in (plugin_vs_sysctl, vips_scale, plugin_startup, exporter_latency, memory):
        rows += benchmark.main([])
    print_table(f"All benchmarks ({note_before}; after: {machine_note()})", rows)
    print(f"\n{time.monotonic() - started:.0f} s in all")


if __name__ == "__main__":
    main()
