"""Command line of lvs-arp-exporter, in the Prometheus exporters' style (--web.*, --log.*)."""

from __future__ import annotations

import argparse
import re

from checks import __version__
from checks.cli.options import add_check_arguments

from .collector import DEFAULT_SCRAPE_TIMEOUT_S
from .families import DEFAULT_VIP_SERIES_LIMIT
from .promlog import FORMATS, LEVELS

# Not a port of the Prometheus default-port allocation wiki that we could confirm as free:
# that range is fully allocated, so sites with a clash pass --web.listen-address.
DEFAULT_PORT = 9787
DEFAULT_LISTEN_ADDRESS = f":{DEFAULT_PORT}"

_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?")
_DURATION_UNITS_S = (3600.0, 60.0, 1.0, 0.001)
# A host read that may take longer than an hour is a mistake in the flag, and far larger
# values cannot even be armed as a thread timeout (OverflowError at the first scrape).
MAX_SCRAPE_TIMEOUT_S = 3600.0


def prometheus_duration(text: str) -> float:
    """Seconds in a Prometheus duration such as "5s", "1m30s" or "500ms"."""
    match = _DURATION.fullmatch(text.strip())
    if not match or not any(match.groups()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 5s, 500ms or 1m")
    seconds = sum(
        int(n) * unit for n, unit in zip(match.groups(), _DURATION_UNITS_S, strict=True) if n
    )
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"duration {text!r} must be more than zero")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lvs-arp-exporter",
        description="Prometheus exporter: is this node's ARP behaviour safe for LVS Direct "
        "Routing? The host is read afresh on every scrape; nothing is ever written to it.",
        epilog=f"Listens on {DEFAULT_LISTEN_ADDRESS} by default. With --textfile, writes the "
        "metrics once and exits 0 when the file was written (a failed read is in the file as "
        "lvs_arp_scrape_success 0), 1 when it was not.",
    )
    _check_arguments(parser)
    _web_arguments(parser)
    parser.add_argument(
        "--collector.vip-series-limit",
        dest="vip_series_limit",
        type=_non_negative_int,
        default=DEFAULT_VIP_SERIES_LIMIT,
        metavar="N",
        help="export per-VIP series only while the node judges at most N VIPs; past that "
        f"only counts by state (default {DEFAULT_VIP_SERIES_LIMIT}; a large N gets them all)",
    )
    parser.add_argument(
        "--textfile",
        metavar="PATH",
        help="write the metrics once to PATH (atomically) and exit: for node_exporter's "
        "--collector.textfile.directory; PATH should end in .prom",
    )
    parser.add_argument(
        "--log.level", dest="log_level", choices=tuple(LEVELS), default="info", help="log level"
    )
    parser.add_argument(
        "--log.format", dest="log_format", choices=FORMATS, default="logfmt", help="log format"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def scrape_timeout(text: str) -> float:
    """A duration above zero and at most MAX_SCRAPE_TIMEOUT_S."""
    seconds = prometheus_duration(text)
    if seconds > MAX_SCRAPE_TIMEOUT_S:
        raise argparse.ArgumentTypeError(
            f"duration {text!r} is longer than the {MAX_SCRAPE_TIMEOUT_S / 60:g}m a host read "
            "may take"
        )
    return seconds


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    """The same judgement as check_lvs_arp, with the same names."""
    add_check_arguments(parser, short_role=False)
    parser.add_argument(
        "--scrape.timeout",
        dest="scrape_timeout",
        type=scrape_timeout,
        default=DEFAULT_SCRAPE_TIMEOUT_S,
        metavar="DURATION",
        help="give up on a host read after this long (lvs_arp_scrape_success 0); default 5s",
    )


def _web_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--web.listen-address",
        dest="listen_address",
        default=DEFAULT_LISTEN_ADDRESS,
        metavar="ADDRESS",
        help=f"address to listen on for the landing page and metrics (default "
        f"{DEFAULT_LISTEN_ADDRESS})",
    )
    parser.add_argument(
        "--web.telemetry-path",
        dest="telemetry_path",
        default="/metrics",
        metavar="PATH",
        help="path under which to expose metrics (default /metrics)",
    )
    parser.add_argument(
        "--web.config.file",
        dest="web_config_file",
        metavar="FILE",
        help="exporter-toolkit web configuration file: TLS and basic auth",
    )


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 0")
    return value
