"""Command line of check_lvs_arp, per the Monitoring Plugins development guidelines."""

from __future__ import annotations

import argparse
import re
import sys

from .. import __version__
from ..record import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import NoReturn
from .options import add_check_arguments

UNKNOWN_EXIT = 3


class PluginArgumentParser(argparse.ArgumentParser):
    """argparse exits 2 on stderr, which Nagios would read as CRITICAL: say UNKNOWN instead."""

    def error(self, message: str) -> NoReturn:
        # The status line comes first: Nagios shows only the first line.
        print(f"LVS_ARP UNKNOWN - {self.prog}: {message}")
        self.print_usage(sys.stdout)
        sys.exit(UNKNOWN_EXIT)


def build_parser() -> PluginArgumentParser:
    parser = PluginArgumentParser(
        prog="check_lvs_arp",
        description="Check that this node's ARP behaviour is safe for LVS Direct Routing: "
        "a real server must hide the VIP, a director must answer for it.",
        epilog="Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. A node sound now whose "
        "values sysctl.d would not restore after a reboot is a WARNING. Nothing is ever "
        "written; fixes are printed with -v.",
    )
    add_check_arguments(parser)
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="-v: every interface and the fix"
    )
    parser.add_argument(
        "--perfdata-interfaces",
        metavar="REGEX",
        type=_regex,
        help="also give each matching ARP interface's effective values as perfdata (by "
        "default only counts: container veths come and go, and every label becomes a graph)",
    )
    parser.add_argument(
        "-t", "--timeout", type=int, default=10, metavar="SECONDS", help="give up (UNKNOWN) after"
    )
    parser.add_argument("-V", "--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as err:
        raise argparse.ArgumentTypeError(f"{pattern!r} is not a valid regex: {err}") from err
