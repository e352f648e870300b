"""Options are checked when the program starts, and refused with one clear line.

Accepted at start and broken at use was issue 13's kind 5: `-t 0` never armed the alarm,
`-t 99999999999999999999` died of OverflowError, a VIP of 0.0.0.0 was judged.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_host import FakeHost, FakeTree

from checks.cli.nagios_args import build_parser
from checks.cli.options import (
    MAX_TIMEOUT,
    deadline,
    exclude_pattern,
    node_check,
    timeout_seconds,
    vip_address,
)
from checks.errors import ConfigError, DeadlineExceeded, LvsArpError

BIN = os.path.dirname(sys.executable)
PLUGIN = os.path.join(BIN, "check_lvs_arp")
PREFLIGHT = os.path.join(BIN, "lvs-arp-preflight")
STATUS = re.compile(r"^LVS_ARP UNKNOWN - (.+)$")


@pytest.fixture
def tree(tmp_path: Path) -> FakeTree:
    return FakeHost(1, 2, 1, 2).loopback("10.0.0.100/32").write(tmp_path)


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


BAD_TIMEOUTS = ["0", "-1", "-0", str(MAX_TIMEOUT + 1), "99999999999999999999", "1.5", "ten", ""]


@pytest.mark.parametrize("value", BAD_TIMEOUTS)
def test_timeout_outside_what_sigalrm_can_arm_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(repr(value))):
        timeout_seconds(value)


@pytest.mark.parametrize("value", ["1", "10", str(MAX_TIMEOUT), " 5"])
def test_timeout_in_range_is_taken(value: str) -> None:
    assert timeout_seconds(value) == int(value)


@pytest.mark.parametrize("value", ["0", "-5", "99999999999999999999"])
def test_the_plugin_refuses_a_bad_timeout_with_unknown_and_usage(
    tree: FakeTree, value: str
) -> None:
    done = run([PLUGIN, "-r", "realserver", *tree.plugin_args(), "-t", value])
    assert done.returncode == 3, done.stdout
    first, *rest = done.stdout.splitlines()
    message = f"check_lvs_arp: argument -t/--timeout: {value!r} is not 1 to {MAX_TIMEOUT} seconds"
    # At most 90 characters: a message cut to fit is given whole after the usage.
    assert f"LVS_ARP UNKNOWN - {message}".startswith(first.removesuffix("…"))
    assert len(first) <= 90
    assert rest[0].startswith("usage: check_lvs_arp")
    assert first.endswith("seconds") or rest[-1] == message
    assert "Traceback" not in done.stdout + done.stderr


def test_the_help_gives_the_default_timeout() -> None:
    assert "give up (UNKNOWN) after this many seconds (default 10)" in " ".join(
        build_parser().format_help().split()
    )


NOT_VIPS = {
    "0.0.0.0": "unspecified",
    "255.255.255.255": "broadcast",
    "224.0.0.18": "multicast",
    "239.255.255.250": "multicast",
    "127.0.0.1": "loopback",
    "127.1.2.3": "loopback",
}


@pytest.mark.parametrize(("text", "why"), NOT_VIPS.items(), ids=NOT_VIPS)
def test_an_address_that_cannot_be_a_vip_is_refused_saying_why(text: str, why: str) -> None:
    with pytest.raises(ConfigError, match=f"^--vip {re.escape(text)} cannot be a VIP: .*{why}"):
        vip_address(text)


@pytest.mark.parametrize("text", ["10.0.0.100", "192.0.2.1", "169.254.1.1", "223.255.255.254"])
def test_ordinary_addresses_are_vips(text: str) -> None:
    assert str(vip_address(text)) == text


def test_node_check_refuses_any_bad_vip_among_good_ones() -> None:
    options = build_parser().parse_args(["-r", "director", "--vip", "10.0.0.1"])
    options.vip.append("0.0.0.0")  # as a face that builds its options by hand might
    with pytest.raises(ConfigError, match=r"0\.0\.0\.0 cannot be a VIP"):
        node_check(options)


def test_the_plugin_refuses_a_bad_vip_before_reading_anything(tmp_path: Path) -> None:
    """No tree at all: the refusal must come from the options, not from a read."""
    missing = tmp_path / "absent"
    argv = [PLUGIN, "-r", "realserver", f"--proc-root={missing}", "--vip", "224.0.0.1"]
    done = run(argv)
    assert done.returncode == 3
    first, usage, *_ = done.stdout.splitlines()
    assert first.startswith("LVS_ARP UNKNOWN - --vip 224.0.0.1 cannot be a VIP: it is a multicast")
    assert usage.startswith("usage: check_lvs_arp")


BAD_REGEXES = ["(", "[a-", "a{2,1}", "(?P<x>a)(?P<x>b)", "\\", "(" * 200_000 + ")" * 200_000]


@pytest.mark.parametrize("pattern", BAD_REGEXES, ids=range(len(BAD_REGEXES)))
def test_a_regex_the_engine_refuses_is_a_config_error(pattern: str) -> None:
    with pytest.raises(ConfigError, match=r"^--exclude-interface "):
        exclude_pattern(pattern)


def test_the_plugin_refuses_a_bad_regex_with_one_line_and_usage(tree: FakeTree) -> None:
    done = run([PLUGIN, "-r", "realserver", *tree.plugin_args(), "--exclude-interface", "eth("])
    assert done.returncode == 3
    first, usage, *_ = done.stdout.splitlines()
    assert first.startswith("LVS_ARP UNKNOWN - --exclude-interface 'eth(' is not a valid regex")
    assert usage.startswith("usage: check_lvs_arp")


# --- the deadline the preflight arms --------------------------------------------------------


def test_deadline_raises_a_library_error_and_restores_the_alarm() -> None:
    def earlier(signum: int, frame: object) -> None:
        raise AssertionError("the handler in place before the deadline ran")

    previous = signal.signal(signal.SIGALRM, earlier)
    try:
        with (
            pytest.raises(DeadlineExceeded, match=r"gave up after 1 s \(-t 1\)"),
            deadline(1, "the test"),
        ):
            time.sleep(30)  # interrupted by SIGALRM
        assert isinstance(DeadlineExceeded("x"), LvsArpError)
        assert signal.getsignal(signal.SIGALRM) is earlier
        assert signal.alarm(0) == 0  # nothing left armed
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_deadline_refuses_what_it_cannot_arm() -> None:
    with pytest.raises(ConfigError), deadline(0):
        pass


def test_the_preflight_takes_a_timeout_and_refuses_a_bad_one(tree: FakeTree) -> None:
    done = run([PREFLIGHT, "-r", "realserver", *tree.plugin_args(), "-t", "0"])
    assert done.returncode == 3
    assert "argument -t/--timeout: '0' is not 1 to 86400 seconds" in done.stderr


def test_the_preflight_gives_up_within_its_timeout(tree: FakeTree) -> None:
    """A FIFO no one writes blocks open() for ever, as a wedged NFS root would."""
    fifo = tree.conf_file("all", "arp_ignore")
    fifo.unlink()
    os.mkfifo(fifo)
    started = time.monotonic()
    done = run([PREFLIGHT, "-r", "realserver", *tree.plugin_args(), "--no-boot-check", "-t1"])
    assert time.monotonic() - started < 20  # not a timing assert: -t 1 vs. hanging for ever
    assert done.returncode == 3, done.stdout
    assert done.stdout.strip() == (
        "lvs-arp-preflight: could not judge this node: lvs-arp-preflight gave up after 1 s (-t 1)"
    )
