"""check_lvs_arp on a small host (3 interfaces) vs `python3 -c 'import nagiosplugin'`.

    python tests/benchmarks/plugin_startup.py [--runs N]

On a small host the plugin's cost is its start-up: the interpreter and nagiosplugin,
which the baseline pays too. Target: the whole check within 1.3x of that import.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bench_common import (
    PLUGIN,
    PYTHON,
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

INTERFACES = 3
TARGET_RATIO = 1.3


def measure(runs: int) -> list[Row]:
    with benchmark_namespace("startup", INTERFACES) as node, sound_sysctl_root() as boot:
        count = len(interface_names(node))
        plugin = [PLUGIN, "-r", "realserver", f"--sysctl-root={boot}"]
        commands = {
            "import": node.argv([PYTHON, "-c", "import nagiosplugin"]),
            "plugin": node.argv(plugin),
            "plugin --no-boot-check": node.argv([*plugin, "--no-boot-check"]),
        }
        timings = alternate(commands, runs)
    if {run.exit_code for run in timings["plugin"]} != {0}:
        raise SystemExit("the plugin did not judge the namespace OK")
    baseline = median_ms(timings["import"])
    rows = [Row("python3 -c 'import nagiosplugin'", baseline, "ms", runs)]
    suffix = f", {count} interfaces"
    return rows + plugin_rows(timings, "import", baseline, runs, suffix, TARGET_RATIO)


def main(argv: Sequence[str] | None = None) -> list[Row]:
    compile_like_an_install()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31)
    options = parser.parse_args(argv)
    rows = measure(options.runs)
    print_table(f"Plugin start-up at {INTERFACES} interfaces ({machine_note()})", rows)
    return rows


if __name__ == "__main__":
    main()
