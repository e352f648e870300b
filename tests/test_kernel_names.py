"""Every interface name the kernel accepts keeps the verdict, through the reader and boot.

dev_valid_name() refuses only NUL, '/', ':', white space, "." and ".."; `=`, quotes,
glob characters, braces and bytes that are not UTF-8 all make names (tests/reliability/
hostile.py draws them). A sysctl.d line cannot hold '=' in its key (parse_file() splits
at the first one), so such a name was once judged UNKNOWN "internal error: ValueError".
The real-kernel half of this is tests/reliability/test_kernel_names_netns.py.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fake_host import FakeHost
from hypothesis import example, given, settings
from hypothesis import strategies as st
from reliability.hostile import interface_names, kernel_name_bytes

from checks.assess import Assessment, NodeCheck
from checks.boot.sysctl_d import Assignment, conf_entry_of_key, parse_line, sysctl_d_key
from checks.boot.view import glob_matches, read_boot_view
from checks.finding import Severity
from checks.model import PARAMS, Role

MANY = settings(max_examples=200, deadline=None)
VIP = "10.0.0.100"
NAMES_OF_NOTE = [b"v=1", b'"q"', b"a'b", b"=", b"a*", b"x{a,b}=", b"\\", b"e\xffth0", b".x=.1"]
params = st.sampled_from(PARAMS)


def decoded(raw: bytes) -> str:
    return os.fsdecode(raw)


def key_name(name: str, param: str) -> str:
    """The normalised key systemd-sysctl files the spelled line under."""
    line = parse_line(f"{sysctl_d_key(name, param)} = 1", "x.conf", 1)
    assert isinstance(line, Assignment)
    return line.name


@MANY
@given(raw=kernel_name_bytes(), param=params)
@example(raw=b"v=1", param="arp_ignore")
@example(raw=b"\\[<->]=", param="arp_announce")
def test_every_kernel_name_has_a_key_that_parses_back_to_it(raw: bytes, param: str) -> None:
    name = decoded(raw)
    key = sysctl_d_key(name, param)
    assert conf_entry_of_key(key) == (name, param)
    # parse_file() splits at the first '=': the key must not hold one.
    assert "=" not in key
    assert glob_matches(key_name(name, param), f"net/ipv4/conf/{name}/{param}") or (
        key_name(name, param) == f"net/ipv4/conf/{name}/{param}"
    )


def write_file(root: Path, lines: list[str]) -> None:
    directory = root / "etc/sysctl.d"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "90-names.conf").write_bytes(os.fsencode("\n".join(lines) + "\n"))


@MANY
@given(names=interface_names(min_size=1, max_size=5), param=params)
@example(names=[decoded(raw) for raw in NAMES_OF_NOTE], param="arp_ignore")
def test_the_boot_resolver_gives_each_name_its_own_line(names: list[str], param: str) -> None:
    values = {name: n + 1 for n, name in enumerate(names)}
    with tempfile.TemporaryDirectory() as root:
        write_file(Path(root), [f"{sysctl_d_key(n, param)} = {v}" for n, v in values.items()])
        view = read_boot_view(names, root)
    assert view.issues == ()
    for name in names:
        setting = view.setting(name, param)
        assert setting is not None, name
        # '=' is spelled [<->]: a sibling holding '<' or '>' there may match it too; then
        # the line applied last wins, for systemd-sysctl and for the resolver alike.
        sharing = [
            other
            for other in names
            if other != name
            and key_name(other, param) != f"net/ipv4/conf/{name}/{param}"
            and glob_matches(key_name(other, param), f"net/ipv4/conf/{name}/{param}")
        ]
        if not sharing:
            assert setting.value == values[name], (name, setting)
        for other in ("all", "default"):
            assert view.setting(other, param) is None


def realserver(names: list[str], persist: bool) -> FakeHost:
    """Per-interface values decide (all=0): each name's own line must be found at boot."""
    host = FakeHost(0, 0, 1, 2).loopback(f"{VIP}/32")
    for n, name in enumerate(names):
        host.interface(name, f"192.0.2.{n + 1}/24", ignore=1, announce=2)
    return host


def judged(host: FakeHost, boot: bool) -> Assessment:
    with tempfile.TemporaryDirectory() as root:
        tree = host.write(Path(root, "host"))
        sysctl_root = host.persist_boot_config(Path(root, "image")) if boot else None
        return NodeCheck(
            Role.REALSERVER,
            proc_root=str(tree.proc_root),
            sys_root=str(tree.sys_root),
            ip_json=str(tree.ip_json),
            sysctl_root=str(sysctl_root) if sysctl_root else None,
        ).assess()


@settings(max_examples=60, deadline=None)
@given(names=interface_names(min_size=1, max_size=4))
@example(names=[decoded(raw) for raw in NAMES_OF_NOTE[:4]])
@example(names=[decoded(raw) for raw in NAMES_OF_NOTE[4:]])
def test_a_host_persisted_in_sysctl_d_keeps_its_verdict_whatever_the_names(
    names: list[str],
) -> None:
    host = realserver(names, persist=True)
    now = judged(host, boot=False)
    with_boot = judged(host, boot=True)
    assert now.worst is Severity.OK, now.ranked()[0]
    assert with_boot.worst is Severity.OK, with_boot.ranked()[0]
    assert {i.name for i in with_boot.checked} == set(names)
