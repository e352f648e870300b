"""Every boot-file problem carries a kind, so severity can follow it and not its wording.

A sysctl.d file the check may not read (0600, while NRPE runs it as nagios) is the kind
that matters most: it must never pass for "nothing in sysctl.d sets it". Root reads every
file, so those tests run the library and the plugin as `nobody`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fake_host import AS_NOBODY, FakeHost, shared_directory
from sysctl_root import link, put

from checks.boot import sysctl_d
from checks.boot.sysctl_d import ISSUE_KINDS, BootIssue, load_boot_config
from checks.boot.view import read_boot_view

PLUGIN = os.path.join(os.path.dirname(sys.executable), "check_lvs_arp")
SECRET = "/etc/sysctl.d/50-secret.conf"
# The library's view as `nobody` sees it, printed as JSON for the test to read.
VIEW_AS_JSON = (
    "import json, sys\n"
    "from checks.boot.view import read_boot_view\n"
    "view = read_boot_view(['eth0'], sys.argv[1])\n"
    "print(json.dumps([issue._asdict() for issue in view.issues]))\n"
)


def issues_as_nobody(root: Path) -> list[BootIssue]:
    done = subprocess.run(
        [*AS_NOBODY, sys.executable, "-c", VIEW_AS_JSON, str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [BootIssue(**fields) for fields in json.loads(done.stdout)]


def test_a_file_the_check_may_not_read_is_an_unreadable_issue_saying_what_to_grant() -> None:
    with shared_directory() as root:
        put(root, SECRET, "net.ipv4.conf.all.arp_ignore = 1\n")
        (root / SECRET.lstrip("/")).chmod(0o600)
        [issue] = issues_as_nobody(root)
    assert (issue.path, issue.line, issue.kind) == (SECRET, None, sysctl_d.UNREADABLE_FILE)
    assert "permission denied" in issue.message
    assert "the user the check runs as (nobody): chmod 0644 or add an ACL" in issue.message


def test_a_directory_the_check_may_not_list_is_an_unreadable_issue() -> None:
    with shared_directory() as root:
        put(root, SECRET, "net.ipv4.conf.all.arp_ignore = 1\n")
        (root / "etc/sysctl.d").chmod(0o700)
        [issue] = issues_as_nobody(root)
    assert (issue.path, issue.kind) == ("/etc/sysctl.d", sysctl_d.UNREADABLE_DIR)
    assert "(nobody): chmod 0755 or add an ACL" in issue.message


def test_the_plugin_run_as_nobody_names_the_unreadable_file() -> None:
    """A host sound now and in every file it may read: the unread file must show."""
    host = FakeHost(1, 2, 1, 2).loopback("10.0.0.100/32").interface("eth0", "192.0.2.1/24")
    with shared_directory() as root:
        tree = host.write(root / "host")
        boot = host.write_boot_config(root / "image", name="10-lvs.conf")
        put(boot, SECRET, "net.ipv4.conf.all.arp_ignore = 0\n")
        (boot / SECRET.lstrip("/")).chmod(0o600)
        argv = [PLUGIN, "-r", "realserver", *tree.plugin_args(), f"--sysctl-root={boot}"]
        done = subprocess.run(
            [*AS_NOBODY, *argv], capture_output=True, text=True, timeout=60, check=False
        )
    assert SECRET in done.stdout, done.stdout
    assert done.returncode != 0, done.stdout  # never OK on a boot file it could not read
    assert "Traceback" not in done.stdout + done.stderr


def _dangling(root: Path) -> None:
    link(root, "/etc/sysctl.d/90-lvs.conf", "/srv/gone.conf")


def _fifo(root: Path) -> None:
    (root / "etc/sysctl.d").mkdir(parents=True)
    os.mkfifo(root / "etc/sysctl.d/90-fifo.conf")


def _directory(root: Path) -> None:
    (root / "etc/sysctl.d/50-dir.conf").mkdir(parents=True)


def _not_a_directory(root: Path) -> None:
    put(root, "/run/sysctl.d", "not a directory\n")


def _long_line(root: Path) -> None:
    put(root, "/etc/sysctl.d/90-a.conf", "a" * (1024 * 1024) + "\n")


def _remark(root: Path) -> None:
    put(root, "/etc/sysctl.d/90-a.conf", "kernel.panic\n")


def _arp_remark(root: Path) -> None:
    put(root, "/etc/sysctl.d/90-a.conf", "net.ipv4.conf.all.arp_ignore 1\n")


def _bad_value(root: Path) -> None:
    put(root, "/etc/sysctl.d/90-a.conf", "net.ipv4.conf.all.arp_ignore = one\n")


def _bad_pattern(root: Path) -> None:
    put(root, "/etc/sysctl.d/90-a.conf", "net.ipv4.conf.*" + "{a,b}" * 11 + ".arp_ignore = 1\n")


def _legacy(root: Path) -> None:
    put(root, "/etc/sysctl.conf", "net.ipv4.conf.all.arp_ignore = 1\n")


CASES = [
    (_dangling, sysctl_d.DANGLING_LINK),
    (_fifo, sysctl_d.NOT_A_FILE),
    (_directory, sysctl_d.NOT_A_FILE),
    (_not_a_directory, sysctl_d.NOT_A_DIRECTORY),
    (_long_line, sysctl_d.LINE_TOO_LONG),
    (_remark, sysctl_d.NOT_ASSIGNMENT),
    (_arp_remark, sysctl_d.ARP_NOT_ASSIGNMENT),
    (_bad_value, sysctl_d.BAD_VALUE),
    (_bad_pattern, sysctl_d.BAD_PATTERN),
    (_legacy, sysctl_d.SYSCTL_CONF_NOT_READ),
]


@pytest.mark.parametrize(("make", "kind"), CASES, ids=[kind for _, kind in CASES])
def test_each_problem_has_its_kind(tmp_path: Path, make: object, kind: str) -> None:
    assert callable(make)
    make(tmp_path)
    issues = read_boot_view(["eth0"], str(tmp_path)).issues
    assert [issue.kind for issue in issues] == [kind], issues
    assert kind in ISSUE_KINDS


def test_kinds_survive_the_config_loader_alone(tmp_path: Path) -> None:
    _dangling(tmp_path)
    [issue] = load_boot_config(str(tmp_path)).issues
    assert issue.kind == sysctl_d.DANGLING_LINK


def test_a_line_that_is_not_utf8_is_read_as_its_bytes(tmp_path: Path) -> None:
    """systemd-sysctl takes the bytes; a name that is not UTF-8 is set by such a line."""
    (tmp_path / "etc/sysctl.d").mkdir(parents=True)
    (tmp_path / "etc/sysctl.d/90-a.conf").write_bytes(b"net.ipv4.conf.e\xffth0.arp_ignore = 1\n")
    view = read_boot_view([os.fsdecode(b"e\xffth0")], str(tmp_path))
    setting = view.setting(os.fsdecode(b"e\xffth0"), "arp_ignore")
    assert view.issues == ()
    assert setting is not None and setting.value == 1
    assert setting.key == "net.ipv4.conf.e\\xffth0.arp_ignore"  # printable, as file names are
