"""Reading conf/* and interface flags from a /proc and /sys tree, and what it refuses."""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest
from fake_host import AS_NOBODY, NOARP_UP, FakeHost, FakeTree, shared_directory

from checks.errors import ReadError
from checks.model import ArpKnobs
from checks.read import files
from checks.read.files import is_running_kernel, read_file_host, read_value


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


def read_live(tree: FakeTree) -> list[str]:
    """What the reader makes of the tree if it were the running kernel's /proc and /sys."""
    state = read_file_host(str(tree.proc_root), str(tree.sys_root), (), live=True)
    return [i.name for i in state.interfaces]


def test_live_interface_removed_after_listing_is_skipped(tree: FakeTree) -> None:
    """Its conf dir was listed, then the kernel removed it (and its /sys entry) mid-read."""
    conf = tree.conf_file("eth0.100", "arp_ignore").parent
    shutil.rmtree(conf)
    shutil.rmtree(tree.flags_file("eth0.100").parent)
    conf.mkdir()  # still listed, its files gone
    assert read_live(tree) == ["dummy0", "eth0", "lo"]


def test_live_interface_gone_between_listdir_and_open_is_skipped(
    tree: FakeTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path: [*listdir(path), "veth9"])
    assert read_live(tree) == ["dummy0", "eth0", "eth0.100", "lo"]


def test_flags_missing_while_conf_dir_remains_is_an_error(tree: FakeTree) -> None:
    """/sys from another namespace (or a wrong --sys-root) must not hide interfaces."""
    tree.flags_file("eth0").unlink()
    for live in (False, True):
        with pytest.raises(ReadError, match=re.escape(str(tree.flags_file("eth0")))):
            read_file_host(str(tree.proc_root), str(tree.sys_root), (), live=live)


def test_live_name_taken_by_a_new_interface_between_reads_is_read(
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
    assert read_live(tree) == ["dummy0", "eth0", "eth0.100", "lo"]


# --- an offline tree is fixed input: whatever it lacks is UNKNOWN, naming the path ------


def _drop_knob(tree: FakeTree, param: str) -> Path:
    path = tree.conf_file("eth0", param)
    path.unlink()
    return path


def _dangling_knob(tree: FakeTree, param: str) -> Path:
    path = tree.conf_file("eth0", param)
    path.unlink()
    path.symlink_to(path.parent / "nowhere")
    return path


def _dangling_conf_dir(tree: FakeTree, param: str) -> Path:
    conf = tree.conf_file("eth0", param).parent
    shutil.rmtree(conf)
    conf.symlink_to(conf.parent / "eth9")
    return conf


def _looping_conf_dir(tree: FakeTree, param: str) -> Path:
    conf = tree.conf_file("eth0", param).parent
    shutil.rmtree(conf)
    conf.symlink_to(conf.name)  # eth0 -> eth0: ELOOP
    return conf


def _empty_conf_dir(tree: FakeTree, param: str) -> Path:
    conf = tree.conf_file("eth0", param).parent
    shutil.rmtree(conf)
    conf.mkdir()
    return conf


def _drop_flags(tree: FakeTree, param: str) -> Path:
    path = tree.flags_file("eth0")
    path.unlink()
    return path


def _dangling_flags(tree: FakeTree, param: str) -> Path:
    path = tree.flags_file("eth0")
    path.unlink()
    path.symlink_to(path.parent / "gone")
    return path


def _sys_entry_gone(tree: FakeTree, param: str) -> Path:
    entry = tree.flags_file("eth0").parent
    shutil.rmtree(entry)
    return entry


GAPS = [
    _drop_knob,
    _dangling_knob,
    _dangling_conf_dir,
    _looping_conf_dir,
    _empty_conf_dir,
    _drop_flags,
    _dangling_flags,
    _sys_entry_gone,
]


@pytest.mark.parametrize("param", ["arp_ignore", "arp_announce"])
@pytest.mark.parametrize("gap", GAPS, ids=[g.__name__.strip("_") for g in GAPS])
def test_offline_tree_with_a_gap_is_an_error_naming_the_path(
    tree: FakeTree, gap: Callable[[FakeTree, str], Path], param: str
) -> None:
    """eth0 holds a LAN address and answers ARP: dropping it would hide a leak (issue 13)."""
    named = gap(tree, param)
    with pytest.raises(ReadError, match=re.escape(str(named))):
        tree.read()


def test_offline_tree_unreadable_knob_is_an_error() -> None:
    with shared_directory() as root:
        tree = typical_host().write(root)
        path = tree.conf_file("eth0", "arp_announce")
        path.chmod(0)
        script = (
            "import sys\n"
            "from checks.read.files import read_file_host\n"
            "read_file_host(sys.argv[1], sys.argv[2], ())\n"
        )
        done = subprocess.run(
            [*AS_NOBODY, sys.executable, "-c", script, str(tree.proc_root), str(tree.sys_root)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert f"ReadError: cannot read {path}: Permission denied" in done.stderr


def test_offline_tree_is_not_the_running_kernel(tree: FakeTree) -> None:
    assert not is_running_kernel(str(tree.proc_root), str(tree.sys_root))
    assert is_running_kernel("/proc", "/sys")
    assert is_running_kernel("/proc/", "/sys/")
    assert not is_running_kernel("/proc", str(tree.sys_root))


def test_address_on_an_interface_the_tree_lacks_is_an_error(tmp_path: Path) -> None:
    """--ip-json and the tree contradict each other: neither can be trusted alone."""
    host = FakeHost(1, 2, 1, 2).loopback("10.0.0.100/32").interface("eth1", "192.0.2.1/24")
    tree = host.write(tmp_path)
    shutil.rmtree(tree.conf_file("eth1", "arp_ignore").parent)
    shutil.rmtree(tree.flags_file("eth1").parent)
    expected = f"{tree.ip_json} puts 192.0.2.1/24 on interface 'eth1', which {tree.proc_root}"
    with pytest.raises(ReadError, match=re.escape(expected)):
        tree.read()


def test_wrong_sys_root_is_an_error(tree: FakeTree, tmp_path: Path) -> None:
    sys_root = tmp_path / "no-such-sys"
    with pytest.raises(ReadError, match=re.escape(str(sys_root))):
        read_file_host(str(tree.proc_root), str(sys_root), ())


def test_read_value_parses_hex_flags(tree: FakeTree) -> None:
    assert read_value(str(tree.flags_file("eth0"))) == 0x1003


def _unregistering(tree: FakeTree, monkeypatch: pytest.MonkeyPatch) -> str:
    """net-sysfs answers -EINVAL for eth0.100's flags: a device past NETREG_REGISTERED."""
    going = str(tree.flags_file("eth0.100"))
    real_open = open

    def unregistering_open(path: str, *args: Any, **kwargs: Any) -> IO[Any]:
        if path == going:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL), path)
        return real_open(path, *args, **kwargs)

    # A module global shadows the builtin for the reader alone.
    monkeypatch.setattr(files, "open", unregistering_open, raising=False)
    return going


def test_live_unregistering_device_is_gone(tree: FakeTree, monkeypatch: pytest.MonkeyPatch) -> None:
    _unregistering(tree, monkeypatch)
    assert read_live(tree) == ["dummy0", "eth0", "lo"]


def test_offline_unregistering_answer_is_an_error(
    tree: FakeTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    going = _unregistering(tree, monkeypatch)
    with pytest.raises(ReadError, match=re.escape(going)):
        tree.read()
