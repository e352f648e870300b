"""Command line of check_lvs_arp, per the Monitoring Plugins development guidelines."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from . import __version__

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
        epilog="Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Nothing is ever written; "
        "fixes are printed with -v.",
    )
    parser.add_argument(
        "-r", "--role", required=True, choices=("realserver", "director"), help="this node's role"
    )
    parser.add_argument(
        "--vip",
        action="append",
        default=[],
        metavar="ADDR",
        help="a virtual IP (repeatable); without it, real servers check the VIPs on lo and "
        "NOARP interfaces, directors those in /proc/net/ip_vs",
    )
    parser.add_argument(
        "--exclude-interface",
        metavar="REGEX",
        help="ignore ARP-capable interfaces whose name matches (e.g. ARP silenced by arptables)",
    )
    parser.add_argument(
        "--standby-ok",
        action="store_true",
        help="director: a VIP not held here is expected (keepalived BACKUP)",
    )
    parser.add_argument("--proc-root", metavar="DIR", help="read conf/* under DIR/sys/net/ipv4")
    parser.add_argument(
        "--sys-root", metavar="DIR", help="read interface flags under DIR/class/net"
    )
    parser.add_argument(
        "--ip-json", metavar="FILE", help="read addresses from saved `ip -json address` output"
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="-v: every interface and the fix"
    )
    parser.add_argument(
        "-t", "--timeout", type=int, default=10, metavar="SECONDS", help="give up (UNKNOWN) after"
    )
    parser.add_argument("-V", "--version", action="version", version=f"%(prog)s {__version__}")
    return parser
