"""Reading conf/* and interface flags from a /proc and /sys tree, and what it refuses."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from fake_host import NOARP_UP, FakeHost, FakeTree

from checks.errors import ReadError
from checks.model import ArpKnobs
from checks.read.files import read_file_host, read_value


def typical_host() -> FakeHost:
    host = FakeHost(1, 2, 1, 2).loopback("10.0.0.100/32")
    host.interface("dummy0", flags=NOARP_UP)
    return host.interface("eth0", "10.0.0.10/24").interface("eth0.100", "10.0.1.10/24", ignore=3)


@pytest.fixture
def tree(tmp_path: Path) -> FakeTree:
    return typical_host().write(tmp_path)


def read(tree: FakeTree) -> tuple[ArpKnobs, ...]:
    state = read_file_host(str(tree.proc_root), str(tree.sys_root), ())
    return (state.all, state.default, *(i.knobs for i in state.interfaces))


def test_tree_reads_back_as_the_host_it_describes(tree: FakeTree) -> None:
    assert tree.read() == typical_host().state()


def test_flags_keep_the_bits_arp_depends_on(tree: FakeTree) -> None:
    flags = {i.name: i.flags for i in tree.read().interfaces}
    assert flags == {"dummy0": 0x81, "eth0": 0x1, "eth0.100": 0x1, "lo": 0x9}


VALUES = [("0x3", 3), ("010", 8), ("2147483647", 2147483647), ("-1", -1), (" 3 \n", 3)]


@pytest.mark.parametrize(("text", "value"), VALUES, ids=[repr(t) for t, _ in VALUES])
def test_values_read_as_the_kernel_parses_them(tree: FakeTree, text: str, value: int) -> None:
    tree.conf_file("eth0", "arp_ignore").write_text(text)
    (eth0,) = [i for i in tree.read().interfaces if i.name == "eth0"]
    assert eth0.knobs.arp_ignore == value


@pytest.mark.parametrize(
    "text",
    ["", "abc", "1.5", "2147483648", "\xff"],
    ids=["empty", "word", "fraction", "int-overflow", "binary"],
)
def test_bad_value_names_the_file(tree: FakeTree, text: str) -> None:
    path = tree.conf_file("eth0", "arp_announce")
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ReadError, match=f"^{re.escape(str(path))} holds .*not an integer"):
        tree.read()


def test_unreadable_value_names_the_file(tree: FakeTree) -> None:
    path = tree.conf_file("eth0", "arp_ignore")
    path.unlink()
    path.mkdir()  # EISDIR: an error other than "the interface is gone"
    with pytest.raises(ReadError, match=f"^cannot read {re.escape(str(path))}: Is a directory"):
        tree.read()


def test_missing_conf_dir_names_it(tmp_path: Path) -> None:
    conf = tmp_path / "proc/sys/net/ipv4/conf"
    with pytest.raises(ReadError, match=f"^cannot list {re.escape(str(conf))}: .*--proc-root"):
        read_file_host(str(tmp_path / "proc"), str(tmp_path / "sys"), ())


@pytest.mark.parametrize("conf_name", ["all", "default"])
@pytest.mark.parametrize("param", ["arp_ignore", "arp_announce"])
def test_missing_global_value_is_an_error(tree: FakeTree, conf_name: str, param: str) -> None:
    path = tree.conf_file(conf_name, param)
    path.unlink()
    with pytest.raises(ReadError, match=f"^{re.escape(str(path))} does not exist"):
        tree.read()


def test_interface_removed_after_listing_is_skipped(tree: FakeTree) -> None:
    """Its conf dir was listed, then the kernel removed it (and its /sys entry) mid-read."""
    conf = tree.conf_file("eth0.100", "arp_ignore").parent
    shutil.rmtree(conf)
    shutil.rmtree(tree.flags_file("eth0.100").parent)
    conf.mkdir()  # still listed, its files gone
    names = [i.name for i in tree.read().interfaces]
    assert names == ["dummy0", "eth0", "lo"]


def test_interface_gone_between_listdir_and_open_is_skipped(
    tree: FakeTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path: [*listdir(path), "veth9"])
    names = [i.name for i in tree.read().interfaces]
    assert names == ["dummy0", "eth0", "eth0.100", "lo"]


def test_flags_missing_while_conf_dir_remains_is_an_error(tree: FakeTree) -> None:
    """/sys from another namespace (or a wrong --sys-root) must not hide interfaces."""
    tree.flags_file("eth0").unlink()
    with pytest.raises(ReadError, match=re.escape(str(tree.flags_file("eth0")))):
        tree.read()


def test_name_taken_by_a_new_interface_between_reads_is_read(
    tree: FakeTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Churn reuses names: eth0 removed and re-created while its flags were being read."""
    flags = tree.flags_file("eth0")
    saved = flags.read_bytes()
    flags.unlink()
    isdir = os.path.isdir

    def recreated_after_first_look(path: str) -> bool:
        # The reader looks at conf/eth0 once it misses the flags: by then eth0 is back.
        if not flags.exists():
            flags.write_bytes(saved)
        return isdir(path)

    monkeypatch.setattr(os.path, "isdir", recreated_after_first_look)
    assert [i.name for i in tree.read().interfaces] == ["dummy0", "eth0", "eth0.100", "lo"]


def test_wrong_sys_root_is_an_error(tree: FakeTree, tmp_path: Path) -> None:
    sys_root = tmp_path / "no-such-sys"
    with pytest.raises(ReadError, match=re.escape(str(sys_root))):
        read_file_host(str(tree.proc_root), str(sys_root), ())


def test_read_value_parses_hex_flags(tree: FakeTree) -> None:
    assert read_value(str(tree.flags_file("eth0"))) == 0x1003
