"""Peak RSS of check_lvs_arp, and the exporter's RSS growth over 10,000 scrapes.

    python tests/benchmarks/memory.py [--scrapes N] [--runs N]

The plugin's peak comes from wait4's ru_maxrss, at 3 and at 2,000 interfaces. The
exporter's growth is VmRSS after 10,000 scrapes minus VmRSS after a warm-up: a leak per
scrape (a cached read, a counter per label set, an unjoined thread) shows up there.
Targets: plugin peak <= 40 MiB; exporter growth <= 1 MiB.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bench_common import (
    PLUGIN,
    Row,
    alternate,
    benchmark_namespace,
    compile_like_an_install,
    interface_names,
    machine_note,
    print_table,
    rss_kib,
    running_exporter,
    scrape_in,
    sound_sysctl_root,
)

PLUGIN_PEAK_MIB = 40.0
EXPORTER_GROWTH_MIB = 1.0
WARMUP_SCRAPES = 500
EXPORTER_INTERFACES = 8


def plugin_peaks(runs: int) -> list[Row]:
    rows = []
    for interfaces in (3, 2000):
        with benchmark_namespace("rss", interfaces) as node, sound_sysctl_root() as boot:
            have = len(interface_names(node))
            argv = node.argv([PLUGIN, "-r", "realserver", f"--sysctl-root={boot}"])
            timed = alternate({"plugin": argv}, runs)["plugin"]
        peak_mib = max(run.max_rss_kib for run in timed) / 1024
        rows.append(
            Row(
                f"check_lvs_arp peak RSS, {have} interfaces",
                peak_mib,
                "MiB",
                runs,
                target=f"<= {PLUGIN_PEAK_MIB:.0f} MiB",
                met=peak_mib <= PLUGIN_PEAK_MIB,
            )
        )
    return rows


def exporter_growth(scrapes: int) -> list[Row]:
    with benchmark_namespace("growth", EXPORTER_INTERFACES) as node, sound_sysctl_root() as boot:
        have = len(interface_names(node))
        args = ["--role=realserver", f"--sysctl-root={boot}"]
        with running_exporter(node, args) as (pid, port):
            scrape_in(node, port, WARMUP_SCRAPES)
            before = rss_kib(pid)
            scrape_in(node, port, scrapes)
            after = rss_kib(pid)
    growth_mib = (after - before) / 1024
    return [
        Row(
            f"exporter RSS after {WARMUP_SCRAPES} scrapes, {have} interfaces",
            before / 1024,
            "MiB",
            1,
        ),
        Row(
            f"exporter RSS growth over {scrapes} more scrapes",
            growth_mib,
            "MiB",
            scrapes,
            target=f"<= {EXPORTER_GROWTH_MIB:.0f} MiB",
            met=growth_mib <= EXPORTER_GROWTH_MIB,
        ),
    ]


def main(argv: Sequence[str] | None = None) -> list[Row]:
    compile_like_an_install()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scrapes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=11)
    options = parser.parse_args(argv)
    rows = plugin_peaks(options.runs) + exporter_growth(options.scrapes)
    print_table(f"Memory ({machine_note()})", rows)
    return rows


if __name__ == "__main__":
    main()
