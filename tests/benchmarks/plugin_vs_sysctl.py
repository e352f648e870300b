"""check_lvs_arp, whole process, at 2,000 and 10,000 interfaces vs procps `sysctl -n`.

    python tests/benchmarks/plugin_vs_sysctl.py [--runs N] [--sizes 2000,10000]

The baseline reads the raw arp_ignore/arp_announce values (every interface, plus all and
default) and nothing else; the plugin reads them too, with flags and addresses, judges
every interface for the role and reads sysctl.d for what a reboot would leave. Targets:
<= 1.5x at 2,000 interfaces (CPython and nagiosplugin alone take most of sysctl's time
there), <= 0.5x at 10,000, where sysctl's cost grows faster than linearly.
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
    median_ms,
    plugin_rows,
    print_table,
    sound_sysctl_root,
)

TARGET_RATIOS = {2000: 1.5, 10000: 0.5}


def measure(runs: int, interfaces: int) -> list[Row]:
    with benchmark_namespace("sysctl", interfaces) as node, sound_sysctl_root() as boot:
        names = interface_names(node)
        confs = ["all", "default", *names]
        keys = [
            f"net.ipv4.conf.{conf}.{knob}"
            for conf in confs
            for knob in ("arp_ignore", "arp_announce")
        ]
        plugin = [PLUGIN, "-r", "realserver", f"--sysctl-root={boot}"]
        commands = {
            "sysctl": node.argv(["sysctl", "-n", *keys]),
            "plugin": node.argv(plugin),
            "plugin --no-boot-check": node.argv([*plugin, "--no-boot-check"]),
        }
        timings = alternate(commands, runs)
    for name, runs_of in timings.items():
        codes = {run.exit_code for run in runs_of}
        if codes != {0}:
            raise SystemExit(f"{name} exited {codes}: the namespace is not judged OK")
    baseline = median_ms(timings["sysctl"])
    rows = [Row(f"sysctl -n, {len(keys)} keys ({len(names)} interfaces)", baseline, "ms", runs)]
    suffix = f", {len(names)} interfaces"
    return rows + plugin_rows(timings, "sysctl", baseline, runs, suffix, TARGET_RATIOS[interfaces])


def main(argv: Sequence[str] | None = None) -> list[Row]:
    compile_like_an_install()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--sizes", default="2000,10000", help="interface counts, comma-separated")
    options = parser.parse_args(argv)
    rows = []
    for size in (int(n) for n in options.sizes.split(",")):
        if size not in TARGET_RATIOS:
            raise SystemExit(f"no target for {size} interfaces: one of {sorted(TARGET_RATIOS)}")
        rows += measure(options.runs if size <= 2000 else max(5, options.runs // 3), size)
    print_table(f"Plugin vs sysctl ({machine_note()})", rows)
    return rows


if __name__ == "__main__":
    main()
