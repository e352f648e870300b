"""The options every front end shares: what to read, which role to judge it for, and boot."""

from __future__ import annotations

import argparse
import re

from ..assess import NodeCheck
from ..errors import ConfigError
from ..judge.vips import parse_vips
from ..model import Role

DEFAULT_SYSCTL_ROOT = "/"


def add_check_arguments(parser: argparse.ArgumentParser, short_role: bool = True) -> None:
    """Role, VIPs and where to read the host: the same names in every front end.

    The exporter passes short_role=False: Prometheus exporters take long flags only.
    """
    role_flags = ("-r", "--role") if short_role else ("--role",)
    parser.add_argument(
        *role_flags,
        required=True,
        choices=("realserver", "director", "both"),
        help="this node's role; both: a director that is also a real server (two-node "
        "keepalived), each VIP judged by where it sits now",
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
    add_boot_arguments(parser)


def add_boot_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sysctl-root",
        metavar="DIR",
        default=DEFAULT_SYSCTL_ROOT,
        help="read the boot configuration (sysctl.d) under DIR, e.g. an image before it "
        "boots; default /",
    )
    parser.add_argument(
        "--no-boot-check",
        action="store_true",
        help="judge the running values only: do not read sysctl.d for what a reboot leaves",
    )


def boot_root(options: argparse.Namespace) -> str | None:
    """Where to read the boot configuration; None when the boot check is off."""
    return None if options.no_boot_check else str(options.sysctl_root)


def exclude_pattern(pattern: str | None) -> re.Pattern[str] | None:
    """--exclude-interface compiled, or a ConfigError that names the bad regex."""
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as err:
        raise ConfigError(f"--exclude-interface {pattern!r} is not a valid regex: {err}") from err


def node_check(options: argparse.Namespace) -> NodeCheck:
    """The options every front end shares, parsed: ConfigError names a bad VIP or regex."""
    return NodeCheck(
        role=Role(options.role),
        vips=parse_vips(options.vip),
        exclude=exclude_pattern(options.exclude_interface),
        standby_ok=options.standby_ok,
        proc_root=options.proc_root,
        sys_root=options.sys_root,
        ip_json=options.ip_json,
        sysctl_root=boot_root(options),
    )
