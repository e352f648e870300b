"""The options every front end shares: what to read, which role to judge it for, and boot."""

from __future__ import annotations

import argparse
import re
import signal
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from ipaddress import IPv4Address, IPv4Network

from ..assess import NodeCheck, ProbeOptions
from ..errors import ConfigError, DeadlineExceeded
from ..judge.vips import parse_vips
from ..model import Role

DEFAULT_SYSCTL_ROOT = "/"
# read.arp_probe's DEFAULT_WINDOW_S and MAX_WINDOW_S; that module is imported only to probe.
DEFAULT_PROBE_WINDOW_S = 0.3
MAX_PROBE_WINDOW_S = 10.0
DEFAULT_TIMEOUT = 10
# SIGALRM takes whole seconds in a C int; a day is more than any check needs.
MAX_TIMEOUT = 86400
# Addresses no LVS virtual service can be reached at, and why (RFC 1122 3.2.1.3, RFC 5771).
_NOT_A_VIP = (
    (IPv4Network("0.0.0.0/32"), "is the unspecified address, which no host can be reached at"),
    (IPv4Network("255.255.255.255/32"), "is the limited broadcast address"),
    (IPv4Network("224.0.0.0/4"), "is a multicast address; ARP never resolves it"),
    (IPv4Network("127.0.0.0/8"), "is loopback, never sent on a wire; ARP has no part in it"),
)


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
    add_probe_arguments(parser)


def add_probe_arguments(parser: argparse.ArgumentParser) -> None:
    """--probe-arp, --probe-interface, --probe-window: ask the segment who answers ARP."""
    parser.add_argument(
        "--probe-arp",
        action="store_true",
        help="also ask the segment who answers ARP for each VIP (duplicate-address ARP "
        "requests, nothing else is sent); needs CAP_NET_RAW and the live host",
    )
    parser.add_argument(
        "--probe-interface",
        metavar="IFACE",
        help="probe on IFACE (default: each up ARP interface whose subnet holds the VIP)",
    )
    parser.add_argument(
        "--probe-window",
        metavar="SECONDS",
        type=_argument(probe_window_seconds),
        default=DEFAULT_PROBE_WINDOW_S,
        help=f"collect ARP replies for SECONDS (default {DEFAULT_PROBE_WINDOW_S}, more than 0, "
        f"at most {MAX_PROBE_WINDOW_S:g})",
    )


def probe_window_seconds(text: str) -> float:
    """--probe-window: seconds, more than 0 and at most MAX_PROBE_WINDOW_S."""
    try:
        seconds = float(text)
    except ValueError:
        raise ConfigError(f"--probe-window {_shorten(text)} is not a number of seconds") from None
    if not 0 < seconds <= MAX_PROBE_WINDOW_S:  # also refuses nan and inf
        raise ConfigError(
            f"--probe-window {_shorten(text)} is not more than 0 and at most "
            f"{MAX_PROBE_WINDOW_S:g} seconds"
        )
    return seconds


def window_fits(window: float, timeout: float) -> bool:
    """Whether a probe window leaves the run time to read and judge the host too: at most
    half the timeout. A window just under it was taken, then every run timed out."""
    return window * 2 <= timeout


def probe_options(options: argparse.Namespace) -> ProbeOptions | None:
    """The probe the options ask for, or None; ConfigError for a probe option without
    --probe-arp or a window the run's -t would cut short."""
    if not options.probe_arp:
        if options.probe_interface is not None:
            raise ConfigError("--probe-interface is an option of --probe-arp: add --probe-arp")
        return None
    window = float(options.probe_window)
    timeout = getattr(options, "timeout", None)  # -t of the plugin and the preflight
    if timeout is not None and not window_fits(window, timeout):
        raise ConfigError(
            f"--probe-window {window:g} s does not fit in -t {timeout}: the probe takes the "
            "window, and reading and judging the host need the rest; give -t at least twice "
            "the window, or a shorter window"
        )
    return ProbeOptions(window, options.probe_interface)


def add_timeout_argument(parser: argparse.ArgumentParser, outcome: str = "UNKNOWN") -> None:
    """-t/--timeout SECONDS, checked at start: 1 to MAX_TIMEOUT whole seconds."""
    parser.add_argument(
        "-t",
        "--timeout",
        type=_argument(timeout_seconds),
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up ({outcome}) after this many seconds (default {DEFAULT_TIMEOUT})",
    )


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
    except (RecursionError, OverflowError, MemoryError, ValueError) as err:
        # Nesting or repeat counts past what the regex engine can compile.
        raise ConfigError(
            f"--exclude-interface {_shorten(pattern)} is too large for the regex engine "
            f"({type(err).__name__}); simplify it"
        ) from None


def vip_address(text: str) -> IPv4Address:
    """One --vip: an IPv4 address a virtual service can have, or a ConfigError saying why not."""
    (vip,) = parse_vips([text])
    for network, reason in _NOT_A_VIP:
        if vip in network:
            raise ConfigError(f"--vip {vip} cannot be a VIP: it {reason}")
    return vip


def vip_addresses(texts: Iterable[str]) -> tuple[IPv4Address, ...]:
    """Every --vip, checked by vip_address(), duplicates dropped, in the order given."""
    return tuple(dict.fromkeys(vip_address(text) for text in texts))


def timeout_seconds(text: str) -> int:
    """-t: whole seconds, 1 to MAX_TIMEOUT, so SIGALRM can be armed with it."""
    try:
        seconds = int(text)
    except ValueError:
        raise ConfigError(f"{_shorten(text)} is not a whole number of seconds") from None
    if not 0 < seconds <= MAX_TIMEOUT:
        raise ConfigError(f"{_shorten(text)} is not 1 to {MAX_TIMEOUT} seconds")
    return seconds


@contextmanager
def deadline(seconds: int, what: str = "the check") -> Iterator[None]:
    """Raise DeadlineExceeded (an LvsArpError) in the main thread after *seconds* (SIGALRM).

    For faces without nagiosplugin's own timeout (the preflight): `with deadline(t): ...`.
    The previous handler and alarm are restored on the way out.
    """
    seconds = timeout_seconds(str(seconds))

    def expire(signum: int, frame: object) -> None:
        raise DeadlineExceeded(f"{what} gave up after {seconds} s (-t {seconds})")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _argument(check: Callable[[str], object]) -> Callable[[str], object]:
    """An argparse type from a checker: its ConfigError becomes argparse's one-line error."""

    def convert(text: str) -> object:
        try:
            return check(text)
        except ConfigError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    convert.__name__ = check.__name__  # argparse names the type in "invalid ... value"
    return convert


def _shorten(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def node_check(options: argparse.Namespace) -> NodeCheck:
    """The options every front end shares, parsed: ConfigError names a bad VIP or regex.

    Nothing is read yet, so a face calls it at start to refuse bad options at once: a probe
    with --proc-root/--sys-root/--ip-json, or a probe window -t would cut short, too.
    """
    check = NodeCheck(
        role=Role(options.role),
        vips=vip_addresses(options.vip),
        exclude=exclude_pattern(options.exclude_interface),
        standby_ok=options.standby_ok,
        proc_root=options.proc_root,
        sys_root=options.sys_root,
        ip_json=options.ip_json,
        sysctl_root=boot_root(options),
        probe=probe_options(options),
    )
    check.refuse_offline_probe()
    return check
