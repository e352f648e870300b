"""Find and parse the files systemd-sysctl applies at boot (sysctl.d(5)), inside a root.

Mirrors systemd 252 (Debian 12): conf_files_list_strv() for the listing, sysctl.c's
parse_file() for the lines, sysctl_normalize() for the keys. Nothing is ever written.
"""

from __future__ import annotations

import errno
import os
import re
import stat

from ..errors import ConfigError, ReadError
from ..record import Record

# CONF_PATHS("sysctl.d"), highest priority first; /lib only exists apart on split-/usr.
SYSCTL_DIRS = (
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
)
LEGACY_SYSCTL_CONF = "/etc/sysctl.conf"
DEV_NULL = "/dev/null"
GLOB_CHARS = "*?["

# read_line(): \n, \r and \0 end a line, and so do \r\n, \n\r and either followed by \0.
_END_OF_LINE = re.compile(rb"\r\n?\0?|\n\r?\0?|\0")
# LONG_LINE_MAX: read_line() fails on a longer line and parse_file() gives up on the file.
_LONG_LINE_MAX = 1024 * 1024
_MAX_LINK_HOPS = 40
# Past any real sysctl.d file: a `sysctl -a` dump saved as one (about 5 KB per interface)
# fits for 3,000 interfaces. It bounds memory, since each short line becomes a record.
CONF_FILE_CAP = 16 << 20
# strstrip() strips only these; \r and \n never survive the line split.
_WHITESPACE = " \t"
_COMMENT_CHARS = "#;"


# BootIssue.kind: what went wrong, so severity follows the kind and never the wording.
UNREADABLE_FILE = "unreadable_file"  # a file this check may not (or cannot) read
UNREADABLE_DIR = "unreadable_dir"  # a sysctl.d directory this check cannot list
DANGLING_LINK = "dangling_link"  # systemd-sysctl skips it silently
NOT_A_FILE = "not_a_file"  # a directory, FIFO or device where a .conf file should be
NOT_A_DIRECTORY = "not_a_directory"  # a sysctl.d path that is a file: ignored
LINE_TOO_LONG = "line_too_long"  # systemd-sysctl stops reading the file there
NOT_ASSIGNMENT = "not_assignment"  # a line without '=' that names no ARP knob: a remark
ARP_NOT_ASSIGNMENT = "arp_not_assignment"  # the same, naming arp_ignore or arp_announce
BAD_VALUE = "bad_value"  # an ARP key the kernel refuses the value of
BAD_PATTERN = "bad_pattern"  # a glob this check cannot judge
SYSCTL_CONF_NOT_READ = "sysctl_conf_not_read"  # /etc/sysctl.conf holds ARP keys boot misses
TOO_LARGE = "too_large"  # a file past CONF_FILE_CAP: not read, so what it sets is not known
ISSUE_KINDS = (
    UNREADABLE_FILE,
    UNREADABLE_DIR,
    DANGLING_LINK,
    NOT_A_FILE,
    NOT_A_DIRECTORY,
    LINE_TOO_LONG,
    NOT_ASSIGNMENT,
    ARP_NOT_ASSIGNMENT,
    BAD_VALUE,
    BAD_PATTERN,
    SYSCTL_CONF_NOT_READ,
    TOO_LARGE,
)
_ARP_PARAMS = ("arp_ignore", "arp_announce")


class BootIssue(Record):
    """Something in the boot configuration that does not do what it seems to.

    `kind` is one of ISSUE_KINDS; `message` says it for people, naming what to do.
    """

    path: str
    line: int | None
    message: str
    kind: str


class BootReadError(ReadError):
    """A boot file that cannot be read; `kind` says how (UNREADABLE_FILE, NOT_A_FILE...)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class Assignment(Record):
    """A `key = value` line, or a `-key` line (value None) that keeps globs off that key."""

    path: str
    line: int
    key: str  # as written, without the leading '-'
    name: str  # normalised, as systemd-sysctl keys its table: net/ipv4/conf/eth0.100/arp_ignore
    value: str | None
    ignore_failure: bool

    @property
    def is_glob(self) -> bool:
        return any(char in self.name for char in GLOB_CHARS)


class ConfFile(Record):
    """A file systemd-sysctl applies: `path` as listed in its directory, `target` behind links."""

    path: str
    target: str


class BootConfig(Record):
    files: tuple[ConfFile, ...]  # in the order systemd-sysctl applies them
    assignments: tuple[Assignment, ...]  # likewise, line by line
    issues: tuple[BootIssue, ...]


def normalize_key(key: str) -> str:
    """sysctl_normalize(): swap '.' and '/' if the first separator is a '.', then simplify."""
    first = re.search(r"[./]", key)
    if first is not None and first.group() == ".":
        key = key.translate(str.maketrans("./", "/."))
    # path_simplify() drops empty and '.' components; the leading '/' goes too.
    return "/".join(part for part in key.split("/") if part not in ("", "."))


# What a key needs escaped to stay one literal interface name in glob(3) with GLOB_BRACE.
_GLOB_SPECIAL = frozenset("*?[]{},\\")
_NEEDS_GLOB = "*?[="
# The narrowest glob for '=' that holds no '=': the characters 0x3c to 0x3e.
_EQUALS = "[<->]"
_IFACE_PREFIX = "net.ipv4.conf."


def sysctl_d_key(conf_name: str, param: str) -> str:
    """The sysctl.d key that sets conf/<conf_name>/<param> at boot, for any name the kernel takes.

    A dotted name (VLAN eth0.100) is written with '/': sysctl_normalize() swaps them back
    (ARP-SEMANTICS §8). parse_file() ends the key at the first '=', so no key can hold
    one: '=' is written as the range `[<->]`, which also matches '<' or '>' in that place.
    A name with a glob character is a glob already, so then every character glob(3) or
    GLOB_BRACE treats specially is escaped. Such a key is a glob to systemd-sysctl: an
    exact key beats it, and among globs matching a name the one applied last wins.
    """
    if not any(char in _NEEDS_GLOB for char in conf_name):
        return f"{_IFACE_PREFIX}{conf_name.replace('.', '/')}.{param}"
    spelled = "".join(
        _EQUALS if char == "=" else "\\" + char if char in _GLOB_SPECIAL else char
        for char in conf_name.replace(".", "/")
    )
    return f"{_IFACE_PREFIX}{spelled}.{param}"


def conf_entry_of_key(key: str) -> tuple[str, str] | None:
    """(conf name, param) of a key sysctl_d_key() spelled; None for any other key."""
    parts = normalize_key(key).split("/")
    if len(parts) != 5 or parts[:3] != ["net", "ipv4", "conf"]:
        return None
    name = _unspell(parts[3])
    if sysctl_d_key(name, parts[4]) != key:
        return None
    return name, parts[4]


def _unspell(component: str) -> str:
    if not any(char in GLOB_CHARS for char in component):
        return component
    name: list[str] = []
    index = 0
    while index < len(component):
        if component.startswith(_EQUALS, index):
            name.append("=")
            index += len(_EQUALS)
        elif component[index] == "\\" and index + 1 < len(component):
            name.append(component[index + 1])
            index += 2
        else:
            name.append(component[index])
            index += 1
    return "".join(name)


def load_boot_config(root: str) -> BootConfig:
    """Every file systemd-sysctl would apply from *root*, parsed, with what went wrong."""
    files, issues = list_conf_files(root)
    assignments: list[Assignment] = []
    for conf in files:
        try:
            lines, problems = read_conf_file(root, conf.target)
        except BootReadError as err:
            issues.append(BootIssue(printable(conf.path), None, str(err), err.kind))
            continue
        assignments.extend(lines)
        issues.extend(problems)
    return BootConfig(tuple(files), tuple(assignments), tuple(issues))


def list_conf_files(root: str) -> tuple[list[ConfFile], list[BootIssue]]:
    """The surviving *.conf files, sorted by file name across directories.

    A name seen in an earlier directory hides the same name in later ones; a link to
    /dev/null does so too, and reads as empty, which is how systemd masks a file.
    """
    _require_directory(root)
    chosen: dict[str, ConfFile] = {}
    issues: list[BootIssue] = []
    listed: set[str] = set()
    for directory in SYSCTL_DIRS:
        try:
            real = resolve_in_root(root, directory)
            if real in listed:  # /lib/sysctl.d is /usr/lib/sysctl.d on merged-/usr
                continue
            listed.add(real)
            names = _conf_names(root, real)
        except FileNotFoundError:
            continue
        except OSError as err:
            issues.append(_directory_issue(directory, err))
            continue
        for name in names:
            chosen.setdefault(name, ConfFile(f"{directory}/{name}", ""))
    files = [_with_target(root, conf, issues) for conf in _by_file_name(chosen)]
    return [conf for conf in files if conf is not None], issues


def read_conf_file(root: str, path: str) -> tuple[list[Assignment], list[BootIssue]]:
    """Parse one file given as the host sees it; ReadError if it cannot be read."""
    if path == DEV_NULL:
        return [], []
    return parse_conf(_read_bytes(root, path), printable(path))


def parse_conf(data: bytes, path: str) -> tuple[list[Assignment], list[BootIssue]]:
    """Lines as parse_file() reads them; a bad line is reported and the rest still read."""
    assignments: list[Assignment] = []
    issues: list[BootIssue] = []
    for number, raw in enumerate(split_lines(data), start=1):
        if len(raw) >= _LONG_LINE_MAX:
            issues.append(BootIssue(path, number, _TOO_LONG, LINE_TOO_LONG))
            break
        # systemd-sysctl takes the bytes as they are; interface names that are not UTF-8
        # reach Python with surrogate escapes (os.fsdecode), and so do these lines.
        parsed = parse_line(raw.decode("utf-8", "surrogateescape"), path, number)
        if isinstance(parsed, Assignment):
            assignments.append(parsed)
        elif parsed is not None:
            issues.append(parsed)
    return assignments, issues


def parse_line(text: str, path: str, number: int) -> Assignment | BootIssue | None:
    """One line: None for blanks and comments, a BootIssue when it assigns nothing."""
    line = text.strip(_WHITESPACE)
    if not line or line[0] in _COMMENT_CHARS:
        return None
    key, equals, value = line.partition("=")
    flagged = key.startswith("-")
    if not equals and not flagged:
        kind = ARP_NOT_ASSIGNMENT if any(p in line for p in _ARP_PARAMS) else NOT_ASSIGNMENT
        message = f"{_short(printable(line))} is not an assignment (no '='); {_SKIPS}"
        return BootIssue(path, number, message, kind)
    key = (key[1:] if flagged else key).strip(_WHITESPACE)
    return Assignment(
        path=path,
        line=number,
        key=printable(key),
        name=normalize_key(key),
        value=printable(value.strip(_WHITESPACE)) if equals else None,
        ignore_failure=flagged and bool(equals),
    )


def split_lines(data: bytes) -> list[bytes]:
    lines = _END_OF_LINE.split(data)
    if lines[-1] == b"":  # the last line break ends a line; it does not start one
        lines.pop()
    return lines


def unreached_legacy_conf(
    root: str, files: tuple[ConfFile, ...]
) -> tuple[list[Assignment], list[BootIssue]]:
    """/etc/sysctl.conf's lines when no sysctl.d link leads systemd-sysctl to it."""
    try:
        legacy = resolve_in_root(root, LEGACY_SYSCTL_CONF)
        if any(conf.target == legacy for conf in files) or not _exists(root, legacy):
            return [], []
        return read_conf_file(root, legacy)
    except (OSError, ReadError) as err:
        reason = _unreadable(LEGACY_SYSCTL_CONF, err) if isinstance(err, OSError) else str(err)
        kind = err.kind if isinstance(err, BootReadError) else UNREADABLE_FILE
        message = f"cannot check whether it sets keys that boot would miss: {reason}"
        return [], [BootIssue(LEGACY_SYSCTL_CONF, None, message, kind)]


def resolve_in_root(root: str, path: str) -> str:
    """Follow symbolic links in *path* the way chase() does with a root: never above it.

    Absolute link targets start again at the root, '..' stops there. A missing component
    ends the walk; the rest of the path is kept as written. Returns the path the host sees.
    """
    pending = _components(path)[::-1]
    resolved: list[str] = []
    hops = 0
    while pending:
        part = pending.pop()
        if part == "..":
            resolved = resolved[:-1]
            continue
        host_path = "/" + "/".join([*resolved, part])
        target = _link_target(root, host_path)
        if target is None:
            resolved.append(part)
            continue
        hops += 1
        if hops > _MAX_LINK_HOPS:
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), host_path)
        if target.startswith("/"):
            resolved = []
        pending.extend(_components(target)[::-1])
    return "/" + "/".join(resolved)


def in_root(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def printable(path: str) -> str:
    """A file name with bytes that are not UTF-8 shown as escapes, safe to print."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


_SKIPS = "systemd-sysctl logs a warning and skips the line"
_TOO_LONG = "line is 1 MiB or longer; systemd-sysctl stops reading the file here"


def _require_directory(root: str) -> None:
    if not os.path.isdir(root):
        raise ConfigError(
            f"sysctl root {root!r} is not a directory; give the image's top directory"
        )


def _conf_names(root: str, directory: str) -> list[str]:
    # FOREACH_DIRENT skips hidden entries; any node type counts, as with systemd 252's flags=0.
    with os.scandir(in_root(root, directory)) as entries:
        return [e.name for e in entries if e.name.endswith(".conf") and not e.name.startswith(".")]


def _by_file_name(chosen: dict[str, ConfFile]) -> list[ConfFile]:
    # base_cmp(): strcmp() on the bytes of the file name, whatever the directory.
    return [chosen[name] for name in sorted(chosen, key=os.fsencode)]


def _with_target(root: str, conf: ConfFile, issues: list[BootIssue]) -> ConfFile | None:
    try:
        return ConfFile(conf.path, resolve_in_root(root, conf.path))
    except OSError as err:
        message = _unreadable(conf.path, err)
        issues.append(BootIssue(printable(conf.path), None, message, _unreadable_kind(err)))
        return None


def _read_bytes(root: str, path: str) -> bytes:
    # O_NONBLOCK: a FIFO must not hang the check; O_NOFOLLOW: links were resolved in root.
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(in_root(root, path), flags)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise BootReadError(_not_a_file(path, info), NOT_A_FILE)
            data = handle.read(CONF_FILE_CAP + 1)  # a file growing as it is read counts too
            if len(data) > CONF_FILE_CAP:
                raise BootReadError(_too_large(path), TOO_LARGE)
            return data
    except OSError as err:
        raise BootReadError(_unreadable(path, err), _unreadable_kind(err)) from err


def _not_a_file(path: str, info: os.stat_result) -> str:
    shown = printable(path)
    if stat.S_ISDIR(info.st_mode):
        return f"{shown} is a directory; systemd-sysctl fails to read it and applies nothing"
    return f"{shown} is not a regular file; this check does not read it"


def _too_large(path: str) -> str:
    return (
        f"{printable(path)} is larger than {CONF_FILE_CAP >> 20} MiB, more than any sysctl.d "
        "file this check knows of; not read, so what it sets at boot is not known: is it the "
        "right file?"
    )


def _unreadable(path: str, err: OSError) -> str:
    shown = printable(path)
    if isinstance(err, FileNotFoundError):
        return f"{shown} does not exist (a dangling link?); systemd-sysctl skips it silently"
    if isinstance(err, PermissionError):
        return (
            f"cannot read {shown}: permission denied, so what it sets at boot is not known; "
            f"systemd-sysctl reads it as root. Make it {_grant('0644')}"
        )
    return f"cannot read {shown}: {err.strerror}; systemd-sysctl may not apply it either"


def _unreadable_kind(err: OSError) -> str:
    if isinstance(err, FileNotFoundError):
        return DANGLING_LINK
    # open() takes a directory; reading it fails (EISDIR), at boot too.
    return NOT_A_FILE if isinstance(err, IsADirectoryError) else UNREADABLE_FILE


def _grant(mode: str) -> str:
    """What to grant the user this check runs as (NRPE: nagios), named."""
    import pwd  # only on this error path

    try:
        user = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        user = f"uid {os.geteuid()}"
    return f"readable by the user the check runs as ({user}): chmod {mode} or add an ACL"


def _directory_issue(directory: str, err: OSError) -> BootIssue:
    if isinstance(err, NotADirectoryError):
        message = f"{directory} is not a directory; systemd-sysctl ignores it"
        return BootIssue(directory, None, message, NOT_A_DIRECTORY)
    if isinstance(err, PermissionError):
        message = (
            f"cannot list {directory}: permission denied, so what its files set at boot is "
            f"not known; systemd-sysctl lists it as root. Make it {_grant('0755')}"
        )
    else:
        message = f"cannot list {directory}: {err.strerror}; its files are not judged"
    return BootIssue(directory, None, message, UNREADABLE_DIR)


def _link_target(root: str, host_path: str) -> str | None:
    try:
        return os.readlink(in_root(root, host_path))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as err:
        if err.errno == errno.EINVAL:  # not a link
            return None
        raise


def _exists(root: str, path: str) -> bool:
    return os.path.lexists(in_root(root, path))


def _components(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]


def _short(line: str) -> str:
    return repr(line if len(line) <= 60 else line[:57] + "...")
