"""check_lvs_arp, whole process, at 2,000 interfaces vs procps `sysctl -n` on the same keys.

    python tests/benchmarks/plugin_vs_sysctl.py [--runs N]

The baseline reads the ~4,000 raw arp_ignore/arp_announce values (every interface, plus
all and default) and nothing else; the plugin reads them too, with flags and addresses,
judges every interface for the role, reads sysctl.d for what a reboot would leave, and
prints perfdata for each. Target: the plugin no slower than the baseline (<= 1.0x).
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

INTERFACES = 2000
TARGET_RATIO = 1.0


def measure(runs: int) -> list[Row]:
    with benchmark_namespace("sysctl", INTERFACES) as node, sound_sysctl_root() as boot:
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
    return rows + plugin_rows(timings, "sysctl", baseline, runs, "", TARGET_RATIO)


def main(argv: Sequence[str] | None = None) -> list[Row]:
    compile_like_an_install()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    options = parser.parse_args(argv)
    rows = measure(options.runs)
    print_table(f"Plugin vs sysctl at {INTERFACES} interfaces ({machine_note()})", rows)
    return rows


if __name__ == "__main__":
    main()
