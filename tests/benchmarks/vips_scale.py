"""Cost of VIPs: 1,000 interfaces with 5,000 VIPs vs the same node with 1 VIP, side by side.

    python tests/benchmarks/vips_scale.py [--runs N] [--scrapes N]

A kube-proxy IPVS node holds every service IP /32 on kube-ipvs0 (a NOARP dummy; here an
`arp off` veth). Judging must grow with interfaces + VIPs, never their product: the plugin
(whole process) and an exporter scrape (one core) may cost at most 2.0x the 1-VIP node's.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager

from bench_common import (
    PLUGIN,
    Row,
    alternate,
    benchmark_namespace,
    compile_like_an_install,
    machine_note,
    median_ms,
    print_table,
    running_exporter,
    scrape_in,
    sound_sysctl_root,
)
from reliability.node_netns import Node

INTERFACES = 1000
VIPS = 5000
TARGET_RATIO = 2.0
WARMUP_SCRAPES = 5


def _vip(n: int) -> str:
    return f"10.96.{n // 250}.{n % 250 + 1}"


@contextmanager
def node_with_vips(label: str, vips: int) -> Iterator[Node]:
    """A sound real server with ~1,000 interfaces and *vips* /32s on a NOARP interface."""
    with benchmark_namespace(label, INTERFACES) as node:
        node.batch(["link add kube-ipvs0 type veth peer name kpeer", "link set kube-ipvs0 arp off"])
        node.batch([f"addr add {_vip(n)}/32 dev kube-ipvs0" for n in range(vips)])
        yield node


def measure(runs: int, scrapes: int) -> list[Row]:
    with ExitStack() as stack:
        boot = stack.enter_context(sound_sysctl_root())
        one = stack.enter_context(node_with_vips("1vip", 1))
        many = stack.enter_context(node_with_vips("5kvips", VIPS))
        plugin = [PLUGIN, "-r", "realserver", f"--sysctl-root={boot}"]
        timings = alternate({"1 VIP": one.argv(plugin), "5,000 VIPs": many.argv(plugin)}, runs)
        for name, runs_of in timings.items():
            if {run.exit_code for run in runs_of} != {0}:
                raise SystemExit(f"plugin, {name}: not judged OK")
        base, wide = median_ms(timings["1 VIP"]), median_ms(timings["5,000 VIPs"])
        args = ["--role=realserver", f"--sysctl-root={boot}", "--collector.vip-series-limit=256"]
        exporters = {
            name: (node, stack.enter_context(running_exporter(node, args, pin_cpu0=True))[1])
            for name, node in (("1 VIP", one), ("5,000 VIPs", many))
        }
        for node, port in exporters.values():
            scrape_in(node, port, WARMUP_SCRAPES)
        samples: dict[str, list[float]] = {name: [] for name in exporters}
        for _ in range(scrapes // 10):  # alternate in rounds: a load spike hits both
            for name, (node, port) in exporters.items():
                samples[name] += [s.seconds for s in scrape_in(node, port, 10)]
        scrape_ms = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    ratio = wide / base
    scrape_ratio = scrape_ms["5,000 VIPs"] / scrape_ms["1 VIP"]
    target = f"<= {TARGET_RATIO:.1f}x"
    return [
        Row(f"check_lvs_arp, {INTERFACES} interfaces, 1 VIP", base, "ms", runs),
        Row(
            f"check_lvs_arp, {INTERFACES} interfaces, {VIPS:,} VIPs",
            wide,
            "ms",
            runs,
            ratio_to="1 VIP",
            ratio=ratio,
            target=target,
            met=ratio <= TARGET_RATIO,
        ),
        Row(f"scrape, {INTERFACES} interfaces, 1 VIP", scrape_ms["1 VIP"], "ms", scrapes),
        Row(
            f"scrape, {INTERFACES} interfaces, {VIPS:,} VIPs",
            scrape_ms["5,000 VIPs"],
            "ms",
            scrapes,
            ratio_to="1 VIP",
            ratio=scrape_ratio,
            target=target,
            met=scrape_ratio <= TARGET_RATIO,
        ),
    ]


def main(argv: Sequence[str] | None = None) -> list[Row]:
    compile_like_an_install()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--scrapes", type=int, default=60)
    options = parser.parse_args(argv)
    rows = measure(options.runs, options.scrapes)
    print_table(f"VIPs at scale, side by side ({machine_note()})", rows)
    return rows


if __name__ == "__main__":
    main()
