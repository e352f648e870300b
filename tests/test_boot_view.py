"""What boot writes to arp_ignore/arp_announce, resolved from fake roots."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sysctl_root import link, put

from checks.boot.view import BootView, glob_matches, read_boot_view
from checks.errors import ConfigError

IGNORE = "arp_ignore"
ANNOUNCE = "arp_announce"
NAMES = ("lo", "eth0", "eth1", "eth0.100")


def view(root: Path, names: tuple[str, ...] = NAMES) -> BootView:
    return read_boot_view(names, sysctl_root=str(root))


def value(boot: BootView, name: str, param: str = IGNORE) -> int | None:
    setting = boot.setting(name, param)
    return None if setting is None else setting.value


def where(boot: BootView, name: str, param: str = IGNORE) -> tuple[str, int] | None:
    setting = boot.setting(name, param)
    return None if setting is None else (setting.path, setting.line)


# --- order and masking ---


def test_last_assignment_wins_within_a_file(tmp_path: Path) -> None:
    put(
        tmp_path,
        "/etc/sysctl.d/90-lvs.conf",
        "net.ipv4.conf.eth0.arp_ignore = 1\n# x\nnet.ipv4.conf.eth0.arp_ignore = 2\n",
    )
    boot = view(tmp_path)
    assert (value(boot, "eth0"), where(boot, "eth0")) == (2, ("/etc/sysctl.d/90-lvs.conf", 3))


def test_last_assignment_wins_across_files(tmp_path: Path) -> None:
    put(tmp_path, "/etc/sysctl.d/10-a.conf", "net.ipv4.conf.lo.arp_announce = 2\n")
    put(tmp_path, "/etc/sysctl.d/20-b.conf", "net/ipv4/conf/lo/arp_announce = 0\n")
    boot = view(tmp_path)
    assert where(boot, "lo", ANNOUNCE) == ("/etc/sysctl.d/20-b.conf", 1)
    assert value(boot, "lo", ANNOUNCE) == 0


def test_last_file_by_name_wins_across_directories(tmp_path: Path) -> None:
    put(tmp_path, "/usr/lib/sysctl.d/50-a.conf", "net.ipv4.conf.all.arp_ignore = 1\n")
    put(tmp_path, "/etc/sysctl.d/10-b.conf", "net.ipv4.conf.all.arp_ignore = 2\n")
    boot = view(tmp_path)
    assert (value(boot, "all"), where(boot, "all")) == (1, ("/usr/lib/sysctl.d/50-a.conf", 1))


def test_same_name_in_etc_masks_the_vendor_file(tmp_path: Path) -> None:
    put(tmp_path, "/usr/lib/sysctl.d/50-lvs.conf", "net.ipv4.conf.all.arp_announce = 2\n")
    put(tmp_path, "/etc/sysctl.d/50-lvs.conf", "net.ipv4.conf.all.arp_ignore = 1\n")
    boot = view(tmp_path)
    assert (value(boot, "all"), value(boot, "all", ANNOUNCE)) == (1, None)


def test_dev_null_link_masks_the_vendor_file(tmp_path: Path) -> None:
    put(tmp_path, "/usr/lib/sysctl.d/50-lvs.conf", "net.ipv4.conf.all.arp_ignore = 1\n")
    link(tmp_path, "/run/sysctl.d/50-lvs.conf", "/dev/null")
    boot = view(tmp_path)
    assert (boot.settings, boot.issues) == ({}, ())


# --- globs against exact keys ---


@pytest.mark.parametrize(
    "lines",
    [
        ["net.ipv4.conf.*.arp_ignore = 2", "net.ipv4.conf.eth0.arp_ignore = 1"],
        ["net.ipv4.conf.eth0.arp_ignore = 1", "net.ipv4.conf.*.arp_ignore = 2"],
    ],
    ids=["glob-then-exact", "exact-then-glob"],
)
def test_exact_key_beats_glob_in_either_order(tmp_path: Path, lines: list[str]) -> None:
    put(tmp_path, "/etc/sysctl.d/90-lvs.conf", "\n".join(lines) + "\n")
    boot = view(tmp_path)
    assert value(boot, "eth0") == 1
    assert [value(boot, name) for name in ("all", "default", "lo", "eth1", "eth0.100")] == [2] * 5


def test_exact_key_in_an_earlier_file_still_beats_a_later_glob(tmp_path: Path) -> None:
    put(tmp_path, "/etc/sysctl.d/10-eth0.conf", "net.ipv4.conf.eth0.arp_ignore = 1\n")
    put(tmp_path, "/usr/lib/sysctl.d/99-all.conf", "net.ipv4.conf.*.arp_ignore = 0\n")
    boot = view(tmp_path)
    assert (value(boot, "eth0"), value(boot, "eth1")) == (1, 0)


def test_glob_shows_as_written(tmp_path: Path) -> None:
    put(tmp_path, "/etc/sysctl.d/90-lvs.conf", "net/ipv4/conf/*/arp_announce = 2\n")
    setting = view(tmp_path).setting("eth1", ANNOUNCE)
    assert setting is not None
    assert setting.key == "net/ipv4/conf/*/arp_announce"


def test_last_applied_glob_wins_and_repeating_a_value_keeps_its_place(tmp_path: Path) -> None:
    # systemd keeps the first line of a repeated key=value, so 'eth*' stays applied last.
    put(
        tmp_path,
        "/etc/sysctl.d/90-lvs.conf",
        "net.ipv4.conf.*.arp_ignore = 1\n"
        "net.ipv4.conf.eth*.arp_ignore = 2\n"
        "net.ipv4.conf.*.arp_ignore = 1\n"
        "net.ipv4.conf.*.arp_announce = 1\n"
        "net.ipv4.conf.eth*.arp_announce = 2\n"
        "net.ipv4.conf.*.arp_announce = 3\n",
    )
    boot = view(tmp_path)
    assert (value(boot, "eth0"), value(boot, "lo")) == (2, 1)
    assert (value(boot, "eth0", ANNOUNCE), value(boot, "lo", ANNOUNCE)) == (3, 3)


def test_dash_key_keeps_globs_off_it(tmp_path: Path) -> None:
    put(
        tmp_path,
        "/etc/sysctl.d/90-lvs.conf",
        "net.ipv4.conf.*.arp_ignore = 1\n-net.ipv4.conf.all.arp_ignore\n",
    )
    boot = view(tmp_path)
    assert (value(boot, "all"), value(boot, "eth0")) == (None, 1)


def test_dash_key_cancels_an_earlier_exact_assignment(tmp_path: Path) -> None:
    put(tmp_path, "/etc/sysctl.d/10-a.conf", "net.ipv4.conf.lo.arp_ignore = 1\n")
    put(tmp_path, "/etc/sysctl.d/20-b.conf", "-net.ipv4.conf.lo.arp_ignore\n")
    assert value(view(tmp_path), "lo") is None


def test_leading_dash_assignment_counts(tmp_path: Path) -> None:
    put(tmp_path, "/etc/sysctl.d/90-lvs.conf", "-net.ipv4.conf.all.arp_ignore = 1\n")
    assert value(view(tmp_path), "all") == 1


@pytest.mark.parametrize(
    "key", ["net.ipv4.conf.eth0/100.arp_ignore", "net/ipv4/conf/eth0.100/arp_ignore"]
)
def test_dotted_vlan_names_both_ways(tmp_path: Path, key: str) -> None:
    put(tmp_path, "/etc/sysctl.d/90-lvs.conf", f"{key} = 1\n")
    boot = view(tmp_path)
    assert (value(boot, "eth0.100"), value(boot, "eth0")) == (1, None)


def test_dotted_key_with_eth0_dot_100_names_a_different_interface(tmp_path: Path) -> None:
    # The dot is a separator here: net/ipv4/conf/eth0/100/arp_ignore, no interface at all.
    put(tmp_path, "/etc/sysctl.d/90-lvs.conf", "net.ipv4.conf.eth0.100.arp_ignore = 1\n")
    assert view(tmp_path).settings == {}


# --- values ---


# systemd writes the value as it stands, comment and all; proc_dointvec stops at the first
# space and ignores the rest (seen live: "1 # hide the VIP" stores 1, "1#x" is refused).
@pytest.mark.parametrize(
    ("text", "expected"),
    [("0x2", 2), ("010", 8), (" 3 ", 3), ("-1", -1), ("1 # hide the VIP", 1), ("2 3", 2)],
)
def test_values_are_parsed_as_the_kernel_does(tmp_path: Path, text: str, expected: int) -> None:
    put(tmp_path, "/etc/sysctl.d/90-lvs.conf", f"net.ipv4.conf.all.arp_ignore ={text}\n")
    assert value(view(tmp_path), "all") == expected


@pytest.mark.parametrize("text", ["+4", "abc", "2147483648", "1#hide the VIP", ""])
def test_rejected_value_is_an_issue_not_a_setting(tmp_path: Path, text: str) -> None:
    put(tmp_path, "/etc/sysctl.d/90-lvs.conf", f"# lvs\nnet.ipv4.conf.all.arp_ignore = {text}\n")
    boot = view(tmp_path)
    assert value(boot, "all") is None
    assert [(i.path, i.line) for i in boot.issues] == [("/etc/sysctl.d/90-lvs.conf", 2)]
    assert "refuses" in boot.issues[0].message


def test_rejected_exact_value_still_keeps_the_glob_off(tmp_path: Path) -> None:
    put(
        tmp_path,
        "/etc/sysctl.d/90-lvs.conf",
        "net.ipv4.conf.*.arp_ignore = 1\nnet.ipv4.conf.eth0.arp_ignore = one\n",
    )
    boot = view(tmp_path)
    assert (value(boot, "eth0"), value(boot, "eth1")) == (None, 1)
    assert [i.line for i in boot.issues] == [2]


def test_rejected_value_overridden_later_is_no_issue(tmp_path: Path) -> None:
    put(tmp_path, "/etc/sysctl.d/10-a.conf", "net.ipv4.conf.all.arp_ignore = abc\n")
    put(tmp_path, "/etc/sysctl.d/20-b.conf", "net.ipv4.conf.all.arp_ignore = 1\n")
    boot = view(tmp_path)
    assert (value(boot, "all"), boot.issues) == (1, ())


def test_malformed_line_is_reported_and_the_rest_applies(tmp_path: Path) -> None:
    put(
        tmp_path,
        "/etc/sysctl.d/90-lvs.conf",
        "net.ipv4.conf.all.arp_ignore 1\n; note\nnet.ipv4.conf.all.arp_announce = 2\n",
    )
    boot = view(tmp_path)
    assert (value(boot, "all"), value(boot, "all", ANNOUNCE)) == (None, 2)
    assert [(i.path, i.line) for i in boot.issues] == [("/etc/sysctl.d/90-lvs.conf", 1)]


# --- /etc/sysctl.conf ---


def test_debian_link_to_sysctl_conf_counts(tmp_path: Path) -> None:
    put(tmp_path, "/etc/sysctl.conf", "#\nnet.ipv4.conf.all.arp_ignore = 1\n")
    link(tmp_path, "/etc/sysctl.d/99-sysctl.conf", "../sysctl.conf")
    boot = view(tmp_path)
    assert (value(boot, "all"), where(boot, "all")) == (1, ("/etc/sysctl.conf", 2))
    assert boot.issues == ()


def test_sysctl_conf_alone_is_reported_as_lost_on_reboot(tmp_path: Path) -> None:
    put(
        tmp_path,
        "/etc/sysctl.conf",
        "vm.swappiness = 10\nnet.ipv4.conf.all.arp_ignore = 1\nnet.ipv4.conf.*.arp_announce = 2\n",
    )
    boot = view(tmp_path)
    assert boot.settings == {}
    assert [(i.path, i.line) for i in boot.issues] == [
        ("/etc/sysctl.conf", 2),
        ("/etc/sysctl.conf", 3),
    ]
    assert boot.issues[0].message.startswith(
        "systemd-sysctl does not read /etc/sysctl.conf at boot;"
    )


def test_sysctl_conf_reached_through_an_absolute_link_counts(tmp_path: Path) -> None:
    root = tmp_path / "image"
    put(root, "/etc/sysctl.conf", "net.ipv4.conf.all.arp_ignore = 1\n")
    link(root, "/etc/sysctl.d/99-sysctl.conf", "/etc/sysctl.conf")
    boot = view(root)
    assert (value(boot, "all"), boot.issues) == (1, ())


def test_unreadable_file_is_reported_and_others_still_apply(tmp_path: Path) -> None:
    (tmp_path / "etc/sysctl.d/50-broken.conf").mkdir(parents=True)
    put(tmp_path, "/etc/sysctl.d/60-lvs.conf", "net.ipv4.conf.all.arp_ignore = 1\n")
    boot = view(tmp_path)
    assert value(boot, "all") == 1
    assert [i.path for i in boot.issues] == ["/etc/sysctl.d/50-broken.conf"]


# --- interfaces that appear later ---


def test_new_interface_gets_default_when_no_glob_applies(tmp_path: Path) -> None:
    put(tmp_path, "/etc/sysctl.d/90-lvs.conf", "net.ipv4.conf.default.arp_ignore = 1\n")
    boot = view(tmp_path)
    setting = boot.setting_for_new_interface(IGNORE)
    assert setting is not None
    assert (setting.value, setting.key) == (1, "net.ipv4.conf.default.arp_ignore")


def test_new_interface_ends_with_the_glob_udev_reapplies(tmp_path: Path) -> None:
    put(
        tmp_path,
        "/etc/sysctl.d/90-lvs.conf",
        "net.ipv4.conf.default.arp_ignore = 1\nnet.ipv4.conf.*.arp_ignore = 2\n",
    )
    boot = view(tmp_path)
    assert value(boot, "default") == 1
    setting = boot.setting_for_new_interface(IGNORE)
    assert setting is not None
    assert setting.value == 2


def test_named_new_interface_uses_its_exact_key_then_matching_globs(tmp_path: Path) -> None:
    put(
        tmp_path,
        "/etc/sysctl.d/90-lvs.conf",
        "net.ipv4.conf.default.arp_ignore = 1\n"
        "net.ipv4.conf.eth*.arp_ignore = 2\n"
        "net.ipv4.conf.?.arp_ignore = 4\n"
        "net.ipv4.conf.eth0/200.arp_ignore = 3\n"
        "-net.ipv4.conf.eth9.arp_ignore\n",
    )
    boot = view(tmp_path)

    def new(name: str | None) -> int | None:
        setting = boot.setting_for_new_interface(IGNORE, name)
        return None if setting is None else setting.value

    assert [new("eth0.200"), new("eth7"), new("bond0"), new("eth9"), new(None)] == [3, 2, 1, 1, 1]


def test_new_interface_without_boot_config_is_unset(tmp_path: Path) -> None:
    assert view(tmp_path).setting_for_new_interface(ANNOUNCE) is None


def test_new_interface_rejects_all_and_default(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        view(tmp_path).setting_for_new_interface(IGNORE, "default")


# --- glob(3) semantics ---


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("net/ipv4/conf/*/arp_ignore", "net/ipv4/conf/eth0.100/arp_ignore", True),
        ("net/ipv4/*/arp_ignore", "net/ipv4/conf/eth0/arp_ignore", False),
        ("net/ipv4/conf/*/arp_ignore", "net/ipv4/conf/.hidden/arp_ignore", False),
        ("net/ipv4/conf/.*/arp_ignore", "net/ipv4/conf/.hidden/arp_ignore", True),
        ("net/ipv4/conf/eth[0-9]/arp_*", "net/ipv4/conf/eth3/arp_announce", True),
        ("net/ipv4/conf/eth[!0-3]/arp_*", "net/ipv4/conf/eth3/arp_announce", False),
        ("net/ipv4/conf/eth[^0-3]/arp_*", "net/ipv4/conf/eth4/arp_announce", True),
        ("net/ipv4/conf/[[:alpha:]]*/arp_ignore", "net/ipv4/conf/bond0/arp_ignore", True),
        ("net/ipv4/conf/{all,eth*}/arp_ignore", "net/ipv4/conf/all/arp_ignore", True),
        ("net/ipv4/conf/{all,eth*}/arp_ignore", "net/ipv4/conf/lo/arp_ignore", False),
        ("net/ipv4/conf/{all,eth*/arp_ignore", "net/ipv4/conf/{all,eth0/arp_ignore", True),
        ("net/ipv4/conf/eth\\*/arp_ignore", "net/ipv4/conf/eth0/arp_ignore", False),
        ("net/ipv4/conf/eth\\*/arp_ignore", "net/ipv4/conf/eth*/arp_ignore", True),
        ("net/ipv4/conf/eth*\\/arp_ignore", "net/ipv4/conf/eth0\\/arp_ignore", False),
        ("net/ipv4/conf/?/arp_ignore", "net/ipv4/conf/eth0/arp_ignore", False),
        ("net/ipv4/conf/[eth0/arp_ignore", "net/ipv4/conf/[eth0/arp_ignore", True),
    ],
)
def test_glob_matching_follows_glibc(pattern: str, key: str, matches: bool) -> None:
    assert glob_matches(pattern, key) is matches


def test_brace_glob_from_a_file_applies(tmp_path: Path) -> None:
    put(tmp_path, "/etc/sysctl.d/90-lvs.conf", "net.ipv4.conf.{all,eth?}.arp_ignore = 1\n")
    boot = view(tmp_path)
    assert [value(boot, name) for name in ("all", "eth0", "lo", "eth0.100")] == [1, 1, None, None]


def test_runaway_braces_are_reported_not_expanded(tmp_path: Path) -> None:
    put(tmp_path, "/etc/sysctl.d/90-x.conf", "net.ipv4.conf.*" + "{a,b}" * 12 + ".arp_ignore = 1\n")
    boot = view(tmp_path)
    assert [(i.line, "braces" in i.message) for i in boot.issues] == [(1, True)]


# --- the caller's mistakes ---


def test_all_and_default_are_always_resolved(tmp_path: Path) -> None:
    put(tmp_path, "/etc/sysctl.d/90-lvs.conf", "net.ipv4.conf.*.arp_ignore = 1\n")
    boot = read_boot_view([], sysctl_root=str(tmp_path))
    assert set(boot.settings) == {("all", IGNORE), ("default", IGNORE)}


@pytest.mark.parametrize("name", ["", "a/b", ".."])
def test_impossible_interface_name_is_a_config_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError):
        view(tmp_path, (name,))


def test_unknown_param_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        view(tmp_path).setting("all", "arp_filter")


# --- whatever the files hold, the answer is a BootView ---

_FRAGMENTS = st.sampled_from(
    [
        "net.ipv4.conf.",
        "net/ipv4/conf/",
        "all",
        "default",
        "eth0",
        "eth0/100",
        "*",
        "?",
        "[",
        "]",
        "{",
        "}",
        ",",
        "\\",
        ".",
        "/",
        "arp_ignore",
        "arp_announce",
        "=",
        " ",
        "-",
        "#",
        ";",
        "\n",
        "\r",
        "\0",
        "0x",
        "1",
        "08",
        "2147483648",
        "\xff",
    ]
)
_CONTENT = st.one_of(
    st.lists(_FRAGMENTS, max_size=40).map(lambda parts: "".join(parts).encode("utf-8")),
    st.binary(max_size=200),
)
_FILES = st.dictionaries(
    st.sampled_from(
        [
            "/etc/sysctl.d/10-a.conf",
            "/usr/lib/sysctl.d/10-a.conf",
            "/run/sysctl.d/50-b.conf",
            "/lib/sysctl.d/90-c.conf",
            "/etc/sysctl.conf",
        ]
    ),
    _CONTENT,
    max_size=5,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=_FILES, link_legacy=st.booleans())
def test_any_file_contents_give_a_boot_view(files: dict[str, bytes], link_legacy: bool) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for path, content in files.items():
            put(root, path, content)
        if link_legacy:
            link(root, "/etc/sysctl.d/99-sysctl.conf", "../sysctl.conf")
        boot = view(root)
        new = [boot.setting_for_new_interface(param, "eth0.7") for param in (IGNORE, ANNOUNCE)]
    assert isinstance(boot, BootView)
    for setting in [*boot.settings.values(), *(s for s in new if s is not None)]:
        assert -(2**31) <= setting.value < 2**31
        assert setting.path in files or setting.path == "/etc/sysctl.conf"
    assert all(issue.message for issue in boot.issues)
