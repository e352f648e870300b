"""What the next boot sets arp_ignore and arp_announce to: systemd-sysctl's resolution.

systemd 252's sysctl.c keeps one ordered table keyed by the normalised key: a later line
replaces an earlier one with another value and moves it to the end (the same value keeps
the first line and its place). apply_all() then writes exact keys, and writes each glob to
every match that has no table entry of its own, so an exact key (or a `-key` exclusion)
beats any glob, and among globs the one applied last wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType

from ..errors import ConfigError
from ..kernel_int import parse_kernel_int
from ..model import PARAMS
from ..record import Record
from .sysctl_d import (
    BAD_PATTERN,
    BAD_VALUE,
    SYSCTL_CONF_NOT_READ,
    Assignment,
    BootConfig,
    BootIssue,
    load_boot_config,
    unreached_legacy_conf,
)

__all__ = ["BootIssue", "BootSetting", "BootView", "read_boot_view"]

_CONF_PREFIX = ("net", "ipv4", "conf")
# /proc/sys/net/ipv4/conf always has these, whatever the caller lists.
_ALWAYS_PRESENT = ("all", "default")
# glibc's GLOB_BRACE can multiply a pattern; past this the check gives up on the line.
_MAX_EXPANSIONS = 1024


class BootSetting(Record):
    value: int
    path: str  # the file holding the line as the host sees it, links resolved
    line: int
    key: str  # as written, so a glob shows as a glob


class BootView(Record):
    settings: Mapping[tuple[str, str], BootSetting]  # (conf name, param)
    issues: tuple[BootIssue, ...]
    # The ARP-relevant assignments that survive into systemd-sysctl's table, in apply order.
    rules: tuple[Assignment, ...] = ()

    def setting(self, conf_name: str, param: str) -> BootSetting | None:
        """The boot value of an existing conf entry; None when boot does not set it."""
        _require_param(param)
        return self.settings.get((conf_name, param))

    def setting_for_new_interface(self, param: str, name: str | None = None) -> BootSetting | None:
        """What an interface created after boot ends up with; None: the kernel's built-in 0.

        The kernel copies conf/default into a new interface, then udev (99-systemd.rules)
        runs `systemd-sysctl --prefix=/net/ipv4/conf/$name`, which writes the exact key for
        that name or else the globs matching it. So the exact key wins, then the last glob,
        then default's boot value. Between creation and udev's run (milliseconds) the
        interface holds default's value; without udev (most containers) it keeps it.
        Without *name*, only globs whose interface part is `*` count: they match any name.
        """
        _require_param(param)
        if name in _ALWAYS_PRESENT:
            raise ConfigError(f"{name!r} is not an interface; use setting({name!r}, {param!r})")
        if name is None:
            rule = _last_rule_for_any_name(self.rules, param)
        else:
            rule = _winning_rule(self.rules, _conf_key(_conf_name(name), param))
        setting = _to_setting(rule) if rule is not None else None
        return setting if setting is not None else self.setting("default", param)


def read_boot_view(conf_names: Iterable[str], sysctl_root: str = "/") -> BootView:
    """Resolve what boot writes to the ARP knobs of *conf_names*, read under *sysctl_root*.

    Only keys the files set are in `settings`: an interface that already exists when
    systemd-sysctl runs does not pick up conf/default, so an unset key is simply unset.
    """
    names = _conf_names(conf_names)
    config = load_boot_config(sysctl_root)
    rules, pattern_issues = _arp_rules(config)
    settings: dict[tuple[str, str], BootSetting] = {}
    # Indexed once: a host with thousands of interfaces may persist a line for each.
    by_name = {rule.name: rule for rule in rules}
    globs = tuple(rule for rule in rules if rule.is_glob)
    if globs:
        keys = [(name, param) for name in names for param in PARAMS]
    else:
        # Without globs only an exact key sets an entry: look at those keys, not at every
        # interface (10,000 on a big host, most with no line of their own).
        wanted = set(names)
        keys = [
            (conf, key.rsplit("/", 1)[1])
            for key in by_name
            if (conf := _arp_conf_name(key)) is not None and conf in wanted
        ]
    for name, param in keys:
        rule = _winning_rule(globs, _conf_key(name, param), by_name.get)
        setting = _to_setting(rule) if rule is not None else None
        if setting is not None:
            settings[(name, param)] = setting
    issues = (
        *config.issues,
        *pattern_issues,
        *_value_issues(rules),
        *_legacy_issues(sysctl_root, config),
    )
    return BootView(MappingProxyType(settings), issues, rules)


def _winning_rule(
    rules: tuple[Assignment, ...],
    key: str,
    own_rule: Callable[[str], Assignment | None] | None = None,
) -> Assignment | None:
    """The rule that boot applies to *key*: its own entry, else the last matching glob.

    With *own_rule* (a lookup by name: the table's names are unique), *rules* need only be
    the globs, which keeps a boot view of thousands of interfaces linear.
    """
    if own_rule is None:
        own = next((rule for rule in rules if rule.name == key), None)
    else:
        own = own_rule(key)
    if own is not None:
        # ordered_hashmap_contains() keeps every glob off a key with an entry of its own.
        return None if own.value is None or own.is_glob else own
    winner = None
    for rule in rules:
        if rule.is_glob and rule.value is not None and glob_matches(rule.name, key):
            winner = rule
    return winner


def _last_rule_for_any_name(rules: tuple[Assignment, ...], param: str) -> Assignment | None:
    winner = None
    for rule in rules:
        if rule.is_glob and rule.value is not None and _matches_any_name(rule.name, param):
            winner = rule
    return winner


def _to_setting(rule: Assignment) -> BootSetting | None:
    try:
        value = parse_kernel_int(rule.value or "")
    except ValueError:
        return None  # the write fails at boot; _value_issues says so
    return BootSetting(value, rule.path, rule.line, rule.key)


def _arp_rules(config: BootConfig) -> tuple[tuple[Assignment, ...], list[BootIssue]]:
    """systemd-sysctl's table, cut down to entries that can touch an ARP knob."""
    table: dict[str, Assignment] = {}
    for assignment in config.assignments:
        earlier = table.get(assignment.name)
        if earlier is not None and earlier.value == assignment.value:
            continue
        table.pop(assignment.name, None)
        table[assignment.name] = assignment
    kept: list[Assignment] = []
    issues: list[BootIssue] = []
    for rule in table.values():
        try:
            if _touches_arp(rule):
                kept.append(rule)
        except ConfigError as err:
            issues.append(BootIssue(rule.path, rule.line, str(err), BAD_PATTERN))
    return tuple(kept), issues


def _touches_arp(rule: Assignment) -> bool:
    if not rule.is_glob:
        return _arp_conf_name(rule.name) is not None
    return any(
        len(parts) == 5
        and all(_component_matches(p, c) for p, c in zip(parts[:3], _CONF_PREFIX, strict=True))
        and any(_component_matches(parts[4], param) for param in PARAMS)
        for parts in _expansions(rule.name)
    )


def _matches_any_name(pattern: str, param: str) -> bool:
    """A glob whose interface part is all '*': it matches every name an interface can take."""
    wanted = (*_CONF_PREFIX, param)
    return any(
        len(parts) == 5
        and parts[3].strip("*") == ""
        and all(
            _component_matches(p, c) for p, c in zip((*parts[:3], parts[4]), wanted, strict=True)
        )
        for parts in _expansions(pattern)
    )


def _value_issues(rules: tuple[Assignment, ...]) -> list[BootIssue]:
    issues = []
    for rule in rules:
        if rule.value is not None and _to_setting(rule) is None:
            issues.append(BootIssue(rule.path, rule.line, _bad_value_message(rule), BAD_VALUE))
    return issues


def _bad_value_message(rule: Assignment) -> str:
    where = "every interface the pattern matches" if rule.is_glob else "this key"
    quietly = " (only at debug level: the line starts with '-')" if rule.ignore_failure else ""
    return (
        f"{rule.key} = {rule.value!r}: the kernel refuses this value, so systemd-sysctl's "
        f"write fails{quietly} and {where} keeps the value it had"
    )


def _legacy_issues(root: str, config: BootConfig) -> list[BootIssue]:
    assignments, issues = unreached_legacy_conf(root, config.files)
    for line in assignments:
        try:
            lost = line.value is not None and _touches_arp(line)
        except ConfigError:
            continue  # a pattern too large to judge; nothing boot applies anyway
        if lost:
            message = _legacy_message(line)
            issues.append(BootIssue(line.path, line.line, message, SYSCTL_CONF_NOT_READ))
    return issues


def _legacy_message(line: Assignment) -> str:
    return (
        f"systemd-sysctl does not read /etc/sysctl.conf at boot; {line.key} = {line.value} "
        "is applied only by procps `sysctl -p`/`sysctl --system` and is lost on reboot. "
        "Link it from sysctl.d (Debian: /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf) "
        "or move it to /etc/sysctl.d/"
    )


def _conf_key(conf_name: str, param: str) -> str:
    return "/".join((*_CONF_PREFIX, conf_name, param))


def _arp_conf_name(key: str) -> str | None:
    parts = key.split("/")
    if len(parts) == 5 and tuple(parts[:3]) == _CONF_PREFIX and parts[4] in PARAMS:
        return parts[3]
    return None


def _conf_names(conf_names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_conf_name(name) for name in (*_ALWAYS_PRESENT, *conf_names)))


def _conf_name(name: str) -> str:
    if not name or "/" in name or name in (".", ".."):
        raise ConfigError(f"{name!r} is not an interface name")
    return name


def _require_param(param: str) -> None:
    if param not in PARAMS:
        raise ConfigError(f"{param!r} is not one of {', '.join(PARAMS)}")


# --- glob(3) as systemd-sysctl calls it: GLOB_BRACE, backslash escapes, no GLOB_PERIOD ---


def glob_matches(pattern: str, key: str) -> bool:
    """Would glob() on /proc/sys/<pattern> list /proc/sys/<key>? Both normalised."""
    parts = key.split("/")
    return any(
        len(pattern_parts) == len(parts)
        and all(_component_matches(p, c) for p, c in zip(pattern_parts, parts, strict=True))
        for pattern_parts in _expansions(pattern)
    )


@lru_cache(maxsize=512)
def _expansions(pattern: str) -> tuple[tuple[str, ...], ...]:
    """The brace alternatives of *pattern*, each split into path components."""
    return tuple(
        tuple(part for part in alternative.split("/") if part)
        for alternative in _expand_braces(pattern)
    )


def _expand_braces(pattern: str) -> list[str]:
    """glibc glob(): expand the first '{' and go on per alternative; unbalanced: literal."""
    done: list[str] = []
    pending = [pattern]
    while pending:
        current = pending.pop()
        start = _first_unescaped(current, "{")
        split = _brace_alternatives(current, start) if start >= 0 else None
        if split is None:
            done.append(current)
            if len(done) > _MAX_EXPANSIONS:
                raise ConfigError("the pattern's braces expand too far for this check; not judged")
            continue
        alternatives, end = split
        pending += [current[:start] + alt + current[end:] for alt in reversed(alternatives)]
    return done


def _first_unescaped(text: str, wanted: str) -> int:
    index = 0
    while index < len(text):
        if text[index] == "\\":
            index += 2
        elif text[index] == wanted:
            return index
        else:
            index += 1
    return -1


def _brace_alternatives(pattern: str, start: int) -> tuple[list[str], int] | None:
    alternatives = []
    position = start + 1
    while True:
        stop = _next_brace_sub(pattern, position)
        if stop is None:
            return None
        alternatives.append(pattern[position:stop])
        if pattern[stop] == "}":
            return alternatives, stop + 1
        position = stop + 1


def _next_brace_sub(pattern: str, index: int) -> int | None:
    """glibc next_brace_sub(): the ',' or '}' that ends this alternative, nesting aside."""
    depth = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char in ",}" and depth == 0:
            return index
        depth += {"{": 1, "}": -1}.get(char, 0)
        index += 1
    return None


def _component_matches(pattern: str, name: str) -> bool:
    # FNM_PERIOD: only a literal '.' matches a leading '.'.
    if name.startswith(".") and not pattern.startswith((".", "\\.")):
        return False
    return _component_regex(pattern).fullmatch(name) is not None


@lru_cache(maxsize=512)
def _component_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(_translate(pattern)), re.DOTALL)


def _translate(pattern: str) -> list[str]:
    """fnmatch() pattern of one path component as a regex, piece by piece."""
    pieces = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        index += 1
        if char == "*":
            pieces.append(".*")
        elif char == "?":
            pieces.append(".")
        elif char == "[" and (bracket := _bracket(pattern, index)) is not None:
            piece, index = bracket
            pieces.append(piece)
        elif char == "\\":
            if index == len(pattern):
                return ["(?!)"]  # fnmatch(): a trailing backslash never matches
            pieces.append(re.escape(pattern[index]))
            index += 1
        else:
            pieces.append(re.escape(char))
    return pieces


_CLASSES = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "\\x21-\\x7e",
    "lower": "a-z",
    "print": "\\x20-\\x7e",
    "punct": "!-/:-@\\[-`{-~",
    "space": " \\t\\n\\r\\f\\v",
    "upper": "A-Z",
    "xdigit": "0-9A-Fa-f",
}


def _bracket(pattern: str, index: int) -> tuple[str, int] | None:
    """A bracket expression starting after '['; None if unterminated ('[' is then literal)."""
    negate = index < len(pattern) and pattern[index] in "!^"
    if negate:
        index += 1
    start = index
    items: list[str] = []
    while index < len(pattern):
        char = pattern[index]
        if char == "]" and index > start:
            body = "".join(items)
            if not body:  # only empty ranges such as z-a
                return ("." if negate else "(?!)"), index + 1
            return f"[{'^' if negate else ''}{body}]", index + 1
        if char == "[" and pattern.startswith(":", index + 1):
            end = pattern.find(":]", index + 2)
            if end >= 0 and pattern[index + 2 : end] in _CLASSES:
                items.append(_CLASSES[pattern[index + 2 : end]])
                index = end + 2
                continue
        item, index = _bracket_item(pattern, index)
        items.append(item)
    return None


def _bracket_item(pattern: str, index: int) -> tuple[str, int]:
    low, index = _bracket_char(pattern, index)
    if index + 1 < len(pattern) and pattern[index] == "-" and pattern[index + 1] != "]":
        high, index = _bracket_char(pattern, index + 1)
        return (f"{re.escape(low)}-{re.escape(high)}" if low <= high else ""), index
    return re.escape(low), index


def _bracket_char(pattern: str, index: int) -> tuple[str, int]:
    if pattern[index] == "\\" and index + 1 < len(pattern):
        index += 1
    return pattern[index], index + 1
