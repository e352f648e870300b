"""Command line of check_lvs_arp, per the Monitoring Plugins development guidelines."""

from __future__ import annotations

import argparse
import re
import sys

from .. import __version__
from ..errors import ConfigError
from ..names import printable
from ..record import TYPE_CHECKING
from .options import add_check_arguments, add_timeout_argument, node_check

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import NoReturn

UNKNOWN_EXIT = 3
NAME = "LVS_ARP"
# Pagers and dashboards cut the status line near 90 characters.
STATUS_LINE_MAX = 90


def no_pipe(text: str) -> str:
    """*text* with '|' as `\\x7c`: the plugin output's perfdata separator. nagiosplugin
    would drop the character (interface `p|q` would print, and graph, as `pq`) and add a
    warning line; the kernel allows it in interface names. printable() has doubled every
    backslash already, so the name `p\\x7cq` still prints apart from `p|q`."""
    return text.replace("|", "\\x7c")


def error_line(message: str, state: str = "UNKNOWN") -> str:
    """*message* (an error that may name paths from an offline tree) as the status line's
    summary: one line, as names.printable() shows it, cut with '…' so that the line with
    its prefix is at most STATUS_LINE_MAX characters."""
    text = no_pipe(printable(message))
    room = STATUS_LINE_MAX - len(f"{NAME} {state} - ")
    return text if len(text) <= room else text[: room - 1] + "…"


class PluginArgumentParser(argparse.ArgumentParser):
    """argparse exits 2 on stderr, which Nagios would read as CRITICAL: say UNKNOWN instead.

    The shared options are checked here too (a VIP that cannot be one, a regex that does
    not compile), so a bad option is refused at start with usage, before any read.
    """

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: None = None
    ) -> argparse.Namespace:
        options = super().parse_args(args, namespace)
        try:
            node_check(options)
        except ConfigError as err:
            self.refuse(str(err))
        return options

    def error(self, message: str) -> NoReturn:
        self.refuse(f"{self.prog}: {message}")

    def refuse(self, message: str) -> NoReturn:
        # The status line comes first: Nagios shows only the first line. It is bounded like
        # any other; the whole message follows the usage when it had to be cut.
        line = error_line(message)
        print(f"{NAME} UNKNOWN - {line}")
        self.print_usage(sys.stdout)
        if line != no_pipe(printable(message)):
            print(no_pipe(printable(message)))
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
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="-v: each cause once, what it affects, and the fix",
    )
    parser.add_argument(
        "--perfdata-interfaces",
        metavar="REGEX",
        type=_regex,
        help="also give each matching ARP interface's effective values as perfdata (by "
        "default only counts: container veths come and go, and every label becomes a graph)",
    )
    add_timeout_argument(parser)
    parser.add_argument("-V", "--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as err:
        raise argparse.ArgumentTypeError(f"{pattern!r} is not a valid regex: {err}") from err
