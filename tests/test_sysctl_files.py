"""Finding and parsing sysctl.d files as systemd-sysctl 252 does, in fake roots."""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path

import pytest
from sysctl_root import link, put

from checks.boot.sysctl_d import (
    Assignment,
    BootIssue,
    ConfFile,
    list_conf_files,
    load_boot_config,
    normalize_key,
    parse_conf,
    parse_line,
    resolve_in_root,
)
from checks.errors import ConfigError


def listed(root: Path) -> list[tuple[str, str]]:
    files, _ = list_conf_files(str(root))
    return [(conf.path, conf.target) for conf in files]


# --- keys ---


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("net.ipv4.conf.eth0/100.arp_ignore", "net/ipv4/conf/eth0.100/arp_ignore"),
        ("net/ipv4/conf/eth0.100/arp_ignore", "net/ipv4/conf/eth0.100/arp_ignore"),
        ("/net/ipv4/conf/all/arp_ignore", "net/ipv4/conf/all/arp_ignore"),
        ("net.ipv4.conf..all.arp_ignore.", "net/ipv4/conf/all/arp_ignore"),
        ("net.ipv4.conf.*.arp_announce", "net/ipv4/conf/*/arp_announce"),
    ],
)
def test_keys_are_normalised_like_sysctl_normalize(key: str, expected: str) -> None:
    assert normalize_key(key) == expected


# --- lines ---


@pytest.mark.parametrize("text", ["", "   ", "# net.ipv4.conf.all.arp_ignore = 1", "  ; x = 1"])
def test_blank_and_comment_lines_assign_nothing(text: str) -> None:
    assert parse_line(text, "/f.conf", 1) is None


def test_assignment_splits_on_first_equals_and_strips_blanks() -> None:
    line = parse_line(" \tnet.ipv4.conf.all.arp_ignore \t= 1=2 \t", "/f.conf", 7)
    assert line == Assignment(
        "/f.conf", 7, "net.ipv4.conf.all.arp_ignore", "net/ipv4/conf/all/arp_ignore", "1=2", False
    )


def test_inline_comment_is_part_of_the_value() -> None:
    line = parse_line("net.ipv4.conf.all.arp_ignore = 1 # hide VIP", "/f.conf", 1)
    assert isinstance(line, Assignment)
    assert line.value == "1 # hide VIP"


def test_leading_dash_assignment_still_assigns_and_ignores_failure() -> None:
    line = parse_line("-net.ipv4.conf.lo.arp_ignore = 1", "/f.conf", 1)
    assert isinstance(line, Assignment)
    assert (line.key, line.value, line.ignore_failure) == ("net.ipv4.conf.lo.arp_ignore", "1", True)


def test_dash_key_without_value_is_a_glob_exclusion_not_malformed() -> None:
    line = parse_line("-net.ipv4.conf.eth0.arp_ignore", "/f.conf", 1)
    assert isinstance(line, Assignment)
    assert (line.name, line.value) == ("net/ipv4/conf/eth0/arp_ignore", None)


def test_line_without_equals_is_reported_with_file_and_line() -> None:
    issue = parse_line("net.ipv4.conf.all.arp_ignore 1", "/etc/sysctl.d/x.conf", 3)
    assert isinstance(issue, BootIssue)
    assert (issue.path, issue.line) == ("/etc/sysctl.d/x.conf", 3)
    assert "not an assignment" in issue.message


def test_malformed_line_is_reported_and_later_lines_still_read() -> None:
    lines, issues = parse_conf(b"a.b = 1\nbroken\nc.d = 2\n", "/f.conf")
    assert [(a.key, a.line) for a in lines] == [("a.b", 1), ("c.d", 3)]
    assert [(i.path, i.line) for i in issues] == [("/f.conf", 2)]


def test_line_breaks_are_those_of_systemd_read_line() -> None:
    # \r\n is one break, a lone \r or \0 is one too; \n\n leaves an empty line.
    lines, _ = parse_conf(b"a.a=1\r\nb.b=2\rc.c=3\0d.d=4\n\ne.e=5", "/f.conf")
    assert [(a.key, a.line) for a in lines] == [
        ("a.a", 1),
        ("b.b", 2),
        ("c.c", 3),
        ("d.d", 4),
        ("e.e", 6),
    ]


def test_line_that_is_not_utf8_is_read_as_its_bytes() -> None:
    """systemd-sysctl takes bytes; a key's name part matches names the way os.fsdecode does."""
    lines, issues = parse_conf(b"net.ipv4.conf.e\xff.arp_ignore = \xff\nc.d = 2\n", "/f.conf")
    assert [(a.name, a.key, a.value) for a in lines] == [
        (
            "net/ipv4/conf/" + os.fsdecode(b"e\xff") + "/arp_ignore",
            "net.ipv4.conf.e\\xff.arp_ignore",
            "\\xff",
        ),
        ("c/d", "c.d", "2"),
    ]
    assert issues == []


def test_overlong_line_ends_the_file_like_long_line_max() -> None:
    data = b"a.b = 1\n" + b"x" * (1024 * 1024) + b"\nc.d = 2\n"
    lines, issues = parse_conf(data, "/f.conf")
    assert [a.key for a in lines] == ["a.b"]
    assert [i.line for i in issues] == [2]


# --- listing ---


def test_earlier_directory_masks_same_file_name(tmp_path: Path) -> None:
    put(tmp_path, "/etc/sysctl.d/50-lvs.conf")
    put(tmp_path, "/run/sysctl.d/50-lvs.conf")
    put(tmp_path, "/usr/lib/sysctl.d/50-lvs.conf")
    put(tmp_path, "/usr/local/lib/sysctl.d/60-other.conf")
    assert [path for path, _ in listed(tmp_path)] == [
        "/etc/sysctl.d/50-lvs.conf",
        "/usr/local/lib/sysctl.d/60-other.conf",
    ]


def test_files_are_ordered_by_file_name_across_directories(tmp_path: Path) -> None:
    put(tmp_path, "/usr/lib/sysctl.d/50-a.conf")
    put(tmp_path, "/etc/sysctl.d/10-b.conf")
    put(tmp_path, "/run/sysctl.d/90-c.conf")
    assert [path for path, _ in listed(tmp_path)] == [
        "/etc/sysctl.d/10-b.conf",
        "/usr/lib/sysctl.d/50-a.conf",
        "/run/sysctl.d/90-c.conf",
    ]


def test_only_visible_conf_files_are_listed(tmp_path: Path) -> None:
    for name in ("10-a.conf", ".hidden.conf", "20-b.conf.dpkg-old", "README"):
        put(tmp_path, f"/etc/sysctl.d/{name}")
    assert [path for path, _ in listed(tmp_path)] == ["/etc/sysctl.d/10-a.conf"]


def test_dev_null_link_masks_and_reads_as_nothing(tmp_path: Path) -> None:
    link(tmp_path, "/etc/sysctl.d/50-lvs.conf", "/dev/null")
    put(tmp_path, "/usr/lib/sysctl.d/50-lvs.conf", "net.ipv4.conf.all.arp_ignore = 1\n")
    config = load_boot_config(str(tmp_path))
    assert config.files == (ConfFile("/etc/sysctl.d/50-lvs.conf", "/dev/null"),)
    assert config.assignments == ()
    assert config.issues == ()


def test_merged_usr_lib_sysctl_d_is_listed_once(tmp_path: Path) -> None:
    put(tmp_path, "/usr/lib/sysctl.d/50-a.conf")
    link(tmp_path, "/lib", "usr/lib")
    assert listed(tmp_path) == [("/usr/lib/sysctl.d/50-a.conf", "/usr/lib/sysctl.d/50-a.conf")]


def test_merged_usr_directory_problem_is_reported_once(tmp_path: Path) -> None:
    put(tmp_path, "/usr/lib/sysctl.d", "not a directory")
    link(tmp_path, "/lib", "usr/lib")
    _, issues = list_conf_files(str(tmp_path))
    assert [issue.path for issue in issues] == ["/usr/lib/sysctl.d"]


def test_split_usr_lib_sysctl_d_is_read(tmp_path: Path) -> None:
    put(tmp_path, "/lib/sysctl.d/50-a.conf")
    assert listed(tmp_path) == [("/lib/sysctl.d/50-a.conf", "/lib/sysctl.d/50-a.conf")]


def test_relative_link_is_followed(tmp_path: Path) -> None:
    put(tmp_path, "/etc/sysctl.conf")
    link(tmp_path, "/etc/sysctl.d/99-sysctl.conf", "../sysctl.conf")
    assert listed(tmp_path) == [("/etc/sysctl.d/99-sysctl.conf", "/etc/sysctl.conf")]


def test_absolute_link_is_re_rooted(tmp_path: Path) -> None:
    root = tmp_path / "image"
    put(root, "/srv/lvs.conf", "net.ipv4.conf.all.arp_ignore = 1\n")
    link(root, "/etc/sysctl.d/90-lvs.conf", "/srv/lvs.conf")
    config = load_boot_config(str(root))
    assert [(a.path, a.value) for a in config.assignments] == [("/srv/lvs.conf", "1")]


def test_links_never_climb_out_of_the_root(tmp_path: Path) -> None:
    root = tmp_path / "image"
    put(tmp_path, "/outside.conf", "net.ipv4.conf.all.arp_ignore = 1\n")
    link(root, "/etc/sysctl.d/90-lvs.conf", "../../../../../../../outside.conf")
    assert resolve_in_root(str(root), "/etc/sysctl.d/90-lvs.conf") == "/outside.conf"
    assert load_boot_config(str(root)).assignments == ()


def test_link_loop_is_reported(tmp_path: Path) -> None:
    link(tmp_path, "/etc/sysctl.d/90-a.conf", "90-b.conf")
    link(tmp_path, "/etc/sysctl.d/90-b.conf", "90-a.conf")
    config = load_boot_config(str(tmp_path))
    assert sorted(i.path for i in config.issues) == [
        "/etc/sysctl.d/90-a.conf",
        "/etc/sysctl.d/90-b.conf",
    ]


# --- unreadable things are issues, never tracebacks ---


def test_directory_named_conf_is_reported_and_others_still_read(tmp_path: Path) -> None:
    (tmp_path / "etc/sysctl.d/50-dir.conf").mkdir(parents=True)
    put(tmp_path, "/etc/sysctl.d/60-ok.conf", "a.b = 1\n")
    config = load_boot_config(str(tmp_path))
    assert [a.key for a in config.assignments] == ["a.b"]
    assert [(i.path, "directory" in i.message) for i in config.issues] == [
        ("/etc/sysctl.d/50-dir.conf", True)
    ]


def test_dangling_link_is_reported(tmp_path: Path) -> None:
    link(tmp_path, "/etc/sysctl.d/90-lvs.conf", "/srv/gone.conf")
    [issue] = load_boot_config(str(tmp_path)).issues
    assert issue.path == "/etc/sysctl.d/90-lvs.conf"
    assert "dangling" in issue.message


def test_fifo_is_reported_without_blocking(tmp_path: Path) -> None:
    (tmp_path / "etc/sysctl.d").mkdir(parents=True)
    os.mkfifo(tmp_path / "etc/sysctl.d/90-fifo.conf")
    [issue] = load_boot_config(str(tmp_path)).issues
    assert "not a regular file" in issue.message


def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        root.chmod(0o755)
        put(root, "/etc/sysctl.d/50-secret.conf", "net.ipv4.conf.all.arp_ignore = 1\n")
        put(root, "/etc/sysctl.d/60-open.conf", "a.b = 1\n")
        (root / "etc/sysctl.d/50-secret.conf").chmod(0)
        keys, issues = _load_without_privileges(str(root))
    assert keys == ["a.b"]
    assert [(path, "permission denied" in message) for path, _, message in issues] == [
        ("/etc/sysctl.d/50-secret.conf", True)
    ]


def test_root_that_is_not_a_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        load_boot_config(str(tmp_path / "missing"))


def _load_without_privileges(root: str) -> tuple[list[str], list[tuple[str, int | None, str]]]:
    """load_boot_config as a user that cannot read mode-0 files (root can read them all)."""
    if os.geteuid() != 0:
        config = load_boot_config(root)
        return [a.key for a in config.assignments], [
            (i.path, i.line, i.message) for i in config.issues
        ]
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(reader)
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        config = load_boot_config(root)
        result = (
            [a.key for a in config.assignments],
            [(i.path, i.line, i.message) for i in config.issues],
        )
        os.write(writer, pickle.dumps(result))
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    keys, issues = pickle.loads(data)
    return keys, issues
