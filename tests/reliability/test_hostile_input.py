"""Hostile input, property-based: whatever the files and names, a clear answer, never a crash.

The library must return a HostState or raise its own ReadError naming the file; the plugin
must print one `LVS_ARP <STATE>` line whose state is the library's verdict; the exporter
must serve valid UTF-8 exposition. Interface names are any the kernel accepts (see
hostile.py), and a name must never change a verdict: the same host with plain names is
judged the same.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fake_host import ETHER_DOWN, ETHER_UP, NOARP_UP, FakeHost, FakeTree
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from checks.assess import Assessment, NodeCheck, assess
from checks.boot.sysctl_d import SYSCTL_DIRS, printable
from checks.boot.view import read_boot_view
from checks.errors import LvsArpError, ReadError
from checks.model import KNOWN_FLAGS, HostState, Role
from checks.names import printable as one_line
from checks.read.ip_json import read_ip_json
from checks.read.ipvs import parse_virtual_services
from exporter.collector import ArpCollector, build_registry
from exporter.exposition import text_format

from .hostile import file_contents, interface_names, kernel_int_texts, kernel_ints
from .node_netns import SOUND_KNOBS, sound_realserver
from .processes import EXPORTER, PLUGIN, running_exporter

VIP = "10.0.0.100"
EXIT_CODES = {"OK": 0, "INFO": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}
STATUS_LINE = re.compile(r"^LVS_ARP (OK|WARNING|CRITICAL|UNKNOWN)(?: - |: )\S")
# In-process properties run many examples; subprocess ones (~0.2 s each) a few.
MANY = settings(max_examples=150, deadline=None)
FEW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# A strict stdout (a real en_US.UTF-8 locale, or PYTHONIOENCODING) refuses surrogate
# escapes; C.UTF-8 would hide that by writing them as raw bytes.
STRICT_STDOUT = {"PATH": os.environ.get("PATH", ""), "PYTHONIOENCODING": "utf-8"}


@contextmanager
def written(host: FakeHost) -> Iterator[FakeTree]:
    """Hypothesis reuses fixtures across examples, so each example gets its own directory."""
    with tempfile.TemporaryDirectory(prefix="lvsarp-hostile-") as root:
        yield host.write(Path(root))


interface_flags = st.sampled_from([ETHER_UP, ETHER_DOWN, NOARP_UP])


@st.composite
def hosts(draw: st.DrawFn, names: st.SearchStrategy[list[str]] | None = None) -> FakeHost:
    """A real server: lo with the VIP, and interfaces with any kernel-valid names and values."""
    host = FakeHost(
        draw(kernel_ints()), draw(kernel_ints()), draw(kernel_ints()), draw(kernel_ints())
    ).loopback(f"{VIP}/32")
    for n, name in enumerate(draw(names if names is not None else interface_names())):
        host.interface(
            name,
            f"192.0.2.{n + 1}/24",
            ignore=draw(kernel_ints()),
            announce=draw(kernel_ints()),
            flags=draw(interface_flags),
        )
    return host


def plain_names(host: FakeHost) -> dict[str, str]:
    return {i.name: "lo" if i.name == "lo" else f"if{n}" for n, i in enumerate(host.interfaces)}


def renamed(host: FakeHost) -> FakeHost:
    """The same host with plain names."""
    plain = plain_names(host)
    return replace(host, interfaces=[replace(i, name=plain[i.name]) for i in host.interfaces])


def verdict(assessment: Assessment) -> tuple[str, dict[str, int]]:
    counts = {s.name: assessment.count(s) for s in type(assessment.worst)}
    return assessment.worst.name, counts


def judge(state: HostState) -> Assessment:
    return assess(state, Role.REALSERVER)


# --- the library ---------------------------------------------------------------------------


CONF_TARGETS = st.sampled_from(["all", "default", "interface", "flags"])


def target_file(tree: FakeTree, host: FakeHost, which: str, param: str) -> Path:
    name = host.interfaces[-1].name
    if which == "flags":
        return tree.flags_file(name)
    return tree.conf_file(name if which == "interface" else which, param)


@MANY
@given(
    host=hosts(),
    which=CONF_TARGETS,
    param=st.sampled_from(["arp_ignore", "arp_announce"]),
    content=file_contents(),
)
@example(host=FakeHost().loopback().interface("eth0"), which="all", param="arp_ignore",
         content=b"\xff")  # fmt: skip
def test_any_file_content_is_read_or_refused_naming_the_file(
    host: FakeHost, which: str, param: str, content: bytes
) -> None:
    with written(host) as tree:
        path = target_file(tree, host, which, param)
        path.write_bytes(content)
        try:
            state = tree.read()
        except ReadError as err:
            assert str(path) in str(err)
            return
    # Read: then the value is one the kernel could hold, and the verdict is whole.
    assert judge(state).findings


@MANY
@given(host=hosts(), which=CONF_TARGETS, text_value=kernel_int_texts())
def test_every_form_the_kernel_accepts_reads_as_its_value(
    host: FakeHost, which: str, text_value: tuple[str, int]
) -> None:
    text, value = text_value
    with written(host) as tree:
        target_file(tree, host, which, "arp_ignore").write_text(text)
        state = tree.read()
    last = next(i for i in state.interfaces if i.name == host.interfaces[-1].name)
    if which == "flags":
        assert last.flags == value & KNOWN_FLAGS
    elif which == "interface":
        assert last.knobs.arp_ignore == value
    else:
        assert getattr(state, which).arp_ignore == value


@MANY
@given(host=hosts())
def test_a_name_never_changes_the_verdict(host: FakeHost) -> None:
    with written(host) as tree:
        hostile = tree.read()
    with written(renamed(host)) as tree:
        plain = tree.read()
    assert hostile.all == plain.all and hostile.default == plain.default
    rename = plain_names(host)
    seen = {rename[i.name]: (i.flags, i.knobs) for i in hostile.interfaces}
    assert seen == {i.name: (i.flags, i.knobs) for i in plain.interfaces}
    assert verdict(judge(hostile)) == verdict(judge(plain))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
address_fields = st.fixed_dictionaries(
    {},
    optional={
        "family": st.sampled_from(["inet", "inet6", 4]) | json_values,
        "local": st.sampled_from(["10.0.0.1", "10.0.0.256", "::1", ""]) | json_values,
        "prefixlen": st.sampled_from([0, 32, 33, -1, "24", "x"]) | json_values,
        "scope": st.sampled_from(["host", "global", "galaxy", 254, 999]) | json_values,
    },
)
ip_json_documents = st.one_of(
    json_values,
    st.lists(
        st.fixed_dictionaries(
            {"ifname": st.text(max_size=15) | json_values},
            optional={"addr_info": st.lists(address_fields, max_size=3) | json_values},
        ),
        max_size=3,
    ),
)


@MANY
@given(document=ip_json_documents | st.binary(max_size=64))
def test_any_ip_json_is_read_or_refused_naming_the_file(document: Any) -> None:
    with tempfile.TemporaryDirectory() as root:
        path = Path(root, "ip.json")
        data = document if isinstance(document, bytes) else json.dumps(document).encode()
        path.write_bytes(data)
        try:
            addresses = read_ip_json(str(path))
        except ReadError as err:
            assert str(path) in str(err)
            return
    assert all(0 <= address.prefixlen <= 32 for address in addresses)


ip_vs_lines = st.one_of(
    st.text(max_size=40),
    st.builds(
        "{} {}:{} rr".format,
        st.sampled_from(["TCP", "UDP", "SCTP", "FWM"]),
        st.sampled_from(["C0000264", "[2001:db8::1]", "ZZ", "", "1" * 12]) | st.text(max_size=9),
        st.sampled_from(["0050", ""]),
    ),
)


@MANY
@given(lines=st.lists(ip_vs_lines, max_size=6))
def test_any_ip_vs_text_is_parsed_or_refused_naming_the_file(lines: list[str]) -> None:
    try:
        found = parse_virtual_services("\n".join(lines), "/proc/net/ip_vs").addresses
    except ReadError as err:
        assert "/proc/net/ip_vs" in str(err)
        return
    assert len(set(found)) == len(found)


# --- sysctl.d ------------------------------------------------------------------------------

sysctl_lines = st.one_of(
    st.binary(max_size=60),
    st.builds(
        "{}{} = {}".format,
        st.sampled_from(["", "-", " ", "#", ";"]),
        st.sampled_from(
            [
                "net.ipv4.conf.all.arp_ignore",
                "net/ipv4/conf/eth0.100/arp_announce",
                "net.ipv4.conf.eth0/100.arp_ignore",
                "net.ipv4.conf.*.arp_ignore",
                "net.ipv4.conf.{a,b}*.arp_[!x]*",
                "net.ipv4.conf.[.arp_ignore",
                "net.ipv4.conf.\\*.arp_ignore",
                "{" * 12 + "a,b" + "}" * 12,
            ]
        )
        | st.text(max_size=30),
        st.sampled_from(["1", "0x2", "-1", "2147483648", "", "abc"]) | st.text(max_size=8),
    ).map(lambda line: line.encode("utf-8", "surrogateescape")),
)
sysctl_files = st.dictionaries(
    st.tuples(st.sampled_from(SYSCTL_DIRS), st.sampled_from(["10-a", "50-b", "90-lvs", "99-z"])),
    st.lists(sysctl_lines, max_size=6).map(b"\n".join),
    max_size=5,
)


@MANY
@given(files=sysctl_files, names=interface_names(max_size=3))
def test_any_sysctl_d_is_resolved_or_refused_clearly(
    files: dict[tuple[str, str], bytes], names: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as root:
        write_sysctl_files(root, files)
        try:
            view = read_boot_view(names, root)
        except LvsArpError as err:
            assert str(err)
            return
    for issue in view.issues:
        # Printed by the plugin and logged by the exporter: never unprintable.
        issue.message.encode("utf-8")
        issue.path.encode("utf-8")


def _literal_key_part(name: str) -> bool:
    return name.isprintable() and not any(char in name for char in "*?[]{}\\=#;")


@st.composite
def exact_assignments(draw: st.DrawFn) -> tuple[dict[tuple[int, str], list[str]], list[str]]:
    """sysctl.d files of exact arp_ignore keys only: (dir index, file stem) -> lines."""
    # A name with glob or brace characters makes the key a pattern ("*" is a valid name).
    names = draw(interface_names(max_size=3).filter(lambda ns: all(map(_literal_key_part, ns))))
    files: dict[tuple[int, str], list[str]] = {}
    for _ in range(draw(st.integers(1, 5))):
        where = (draw(st.integers(0, 3)), draw(st.sampled_from(["10-a", "50-b", "90-c"])))
        for _ in range(draw(st.integers(0, 4))):
            name = draw(st.sampled_from(names))
            # A dotted VLAN name must be written with '/' when the key uses dots (§8).
            key = (
                f"net.ipv4.conf.{name.replace('.', '/')}.arp_ignore"
                if draw(st.booleans())
                else f"net/ipv4/conf/{name}/arp_ignore"
            )
            files.setdefault(where, []).append(f"{key} = {draw(st.integers(-1, 9))}")
    return files, names


def expected_boot_values(files: dict[tuple[int, str], list[str]]) -> dict[str, int]:
    """The model: earlier dirs mask a file name; files apply by name; the last line wins."""
    winners: dict[str, tuple[int, list[str]]] = {}
    for (directory, stem), lines in files.items():
        if stem not in winners or directory < winners[stem][0]:
            winners[stem] = (directory, lines)
    values: dict[str, int] = {}
    for stem in sorted(winners):
        for line in winners[stem][1]:
            key, value = (part.strip() for part in line.split("="))
            name = key[len("net.ipv4.conf.") : -len(".arp_ignore")]
            if key.startswith("net/"):
                name = key.split("/")[3]
            values[name.replace("/", ".")] = int(value)
    return values


@MANY
@given(exact_assignments())
def test_exact_sysctl_d_keys_resolve_as_the_last_applied_line(
    case: tuple[dict[tuple[int, str], list[str]], list[str]],
) -> None:
    files, names = case
    with tempfile.TemporaryDirectory() as root:
        for (directory, stem), lines in files.items():
            path = Path(root, SYSCTL_DIRS[directory].lstrip("/"), f"{stem}.conf")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(lines) + "\n")
        view = read_boot_view(names, root)
    resolved = {name: view.setting(name, "arp_ignore") for name in names}
    got = {name: setting.value for name, setting in resolved.items() if setting is not None}
    assert got == expected_boot_values(files)


# --- the front ends ------------------------------------------------------------------------


def exposed_interfaces(body: bytes) -> set[str]:
    families = text_string_to_metric_families(body.decode("utf-8"))  # strict: valid UTF-8
    raw = next(f for f in families if f.name == "lvs_arp_sysctl_raw_value")
    return {sample.labels["interface"] for sample in raw.samples}


@MANY
@given(host=hosts(interface_names(max_size=6)))
def test_the_exposition_is_valid_utf8_and_names_every_interface(host: FakeHost) -> None:
    with written(host) as tree:
        collector = ArpCollector(
            NodeCheck(
                Role.REALSERVER,
                proc_root=str(tree.proc_root),
                sys_root=str(tree.sys_root),
                ip_json=str(tree.ip_json),
            )
        )
        body = text_format(build_registry(collector).collect())
    assert b"lvs_arp_scrape_success 1" in body
    # As every face shows names: bytes that are not UTF-8 as \xNN, a backslash doubled.
    expected = {one_line(i.name) for i in host.interfaces} | {"all", "default"}
    assert exposed_interfaces(body) == expected


def run_plugin(tree: FakeTree, *args: str) -> subprocess.CompletedProcess[bytes]:
    argv = [PLUGIN, "-r", "realserver", *tree.plugin_args(), "--no-boot-check", *args]
    return subprocess.run(argv, capture_output=True, env=STRICT_STDOUT, timeout=60, check=False)


@FEW
@given(host=hosts(interface_names(min_size=2, max_size=6)), verbose=st.booleans())
def test_the_plugin_states_the_librarys_verdict_whatever_the_names(
    host: FakeHost, verbose: bool
) -> None:
    with written(host) as tree:
        expected = judge(tree.read()).worst.name
        done = run_plugin(tree, *(["-v"] if verbose else []))
    output = done.stdout.decode("utf-8")  # strict: a name must not break the output
    assert STATUS_LINE.match(output), output
    assert output.split()[1] == ("OK" if expected == "INFO" else expected)
    assert done.returncode == EXIT_CODES[expected]
    assert done.stderr == b""
    assert "Traceback" not in output and "internal error" not in output


@FEW
@given(host=hosts(), which=CONF_TARGETS, content=file_contents())
def test_the_plugin_names_the_unreadable_file(host: FakeHost, which: str, content: bytes) -> None:
    with written(host) as tree:
        path = target_file(tree, host, which, "arp_announce")
        path.write_bytes(content)
        try:
            expected = judge(tree.read()).worst.name
        except ReadError:
            expected = "UNREADABLE"
        done = run_plugin(tree, "-v")
    output = done.stdout.decode("utf-8")
    assert STATUS_LINE.match(output), output
    assert done.stderr == b""
    if expected == "UNREADABLE":
        assert done.returncode == 3
        # Nagios ends the status line at '\n' only (str.splitlines also splits at \x1c);
        # it is at most 90 characters, and -v gives the whole message, path and all.
        status, whole = output.split("\n")[:2]
        assert len(status) <= 90, status
        assert one_line(str(path)) in status + whole, output
    else:
        assert done.returncode == EXIT_CODES[expected]


GAPS = ["arp_ignore", "arp_announce", "flags", "dangling arp_ignore", "dangling conf dir"]


def open_gap(tree: FakeTree, name: str, gap: str) -> Path:
    """Make the offline tree incomplete for interface *name*; return the path it lacks."""
    if gap == "flags":
        path = tree.flags_file(name)
        path.unlink()
        return path
    if gap == "dangling conf dir":
        conf = tree.conf_file(name, "arp_ignore").parent
        for child in conf.iterdir():
            child.unlink()
        conf.rmdir()
        conf.symlink_to(conf.parent / "gone")
        return conf
    path = tree.conf_file(name, gap.removeprefix("dangling "))
    path.unlink()
    if gap.startswith("dangling"):
        path.symlink_to(path.parent / "gone")
    return path


@FEW
@given(host=hosts(), data=st.data(), gap=st.sampled_from(GAPS))
def test_an_incomplete_tree_is_unknown_naming_the_path(
    host: FakeHost, data: st.DataObject, gap: str
) -> None:
    """Fail closed (issue 13): an interface the tree only half describes is never dropped."""
    name = data.draw(st.sampled_from([i.name for i in host.interfaces]))
    with written(host) as tree:
        path = open_gap(tree, name, gap)
        with pytest.raises(ReadError) as caught:
            tree.read()
        assert str(path) in str(caught.value)
        done = run_plugin(tree, "-v")
    output = done.stdout.decode("utf-8")
    assert done.returncode == 3, output
    status, whole = output.split("\n")[:2]
    assert status.startswith("LVS_ARP UNKNOWN - "), output
    # At most 90 characters, one line; -v gives the whole message, path and all.
    assert len(status) <= 90, status
    assert one_line(str(path)) in status + whole, output


def test_an_address_on_an_interface_the_tree_lacks_is_unknown(tmp_path: Path) -> None:
    """eth1 holds the VIP in --ip-json, but the tree has no eth1: the inputs disagree."""
    host = FakeHost(1, 2, 1, 2).loopback().interface("eth0", "192.0.2.1/24")
    host.interface("eth1", f"{VIP}/24")
    tree = host.write(tmp_path)
    for path in (tree.conf_file("eth1", "arp_ignore").parent, tree.flags_file("eth1").parent):
        for child in path.iterdir():
            child.unlink()
        path.rmdir()
    done = run_plugin(tree, "--vip", VIP)
    first = done.stdout.decode("utf-8").split("\n")[0]
    assert done.returncode == 3, first
    expected = f"LVS_ARP UNKNOWN - {tree.ip_json} puts {VIP}/24 on interface 'eth1'"
    cut = first.removesuffix("…")  # at most 90 characters: a long path is cut
    assert len(first) <= 90 and (cut.startswith(expected) or expected.startswith(cut)), first


def write_sysctl_files(root: str, files: dict[tuple[str, str], bytes]) -> None:
    for (directory, stem), data in files.items():
        path = Path(root, directory.lstrip("/"), f"{stem}.conf")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@FEW
@given(files=sysctl_files)
def test_the_plugin_judges_any_sysctl_d_with_a_clear_line(
    files: dict[tuple[str, str], bytes],
) -> None:
    """A host sound now: whatever sysctl.d holds, boot can only warn, never break the check."""
    host = FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0.100", "192.0.2.1/24")
    with written(host) as tree, tempfile.TemporaryDirectory() as boot:
        write_sysctl_files(boot, files)
        argv = [PLUGIN, "-r", "realserver", *tree.plugin_args(), f"--sysctl-root={boot}", "-v"]
        done = subprocess.run(argv, capture_output=True, env=STRICT_STDOUT, timeout=60, check=False)
    output = done.stdout.decode("utf-8")
    assert STATUS_LINE.match(output), output
    assert done.returncode in (0, 1), output
    assert done.stderr == b""
    assert "Traceback" not in output and "internal error" not in output


@pytest.mark.parametrize("env", [STRICT_STDOUT, {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}])
def test_a_name_that_is_not_utf8_in_the_status_line(tmp_path: Path, env: dict[str, str]) -> None:
    name = os.fsdecode(b"e\xffth0.100")
    host = FakeHost(0, 0).loopback(f"{VIP}/32").interface(name, "192.0.2.10/24")
    tree = host.write(tmp_path)
    argv = [PLUGIN, "-r", "realserver", *tree.plugin_args(), "--no-boot-check"]
    done = subprocess.run(argv, capture_output=True, env=env, timeout=60, check=False)
    assert done.returncode == 2, done.stdout
    first = done.stdout.decode("utf-8").splitlines()[0]
    assert first.startswith("LVS_ARP CRITICAL - e\\xffth0.100 answers ARP for VIP"), first


# --- the same names on a real kernel -----------------------------------------------------

# Dots, dashes, 15 characters, UTF-8 and not: every one a name `ip link add` accepts.
KERNEL_NAMES = [b"a.b-c_123456789", b"eth0.100", "caf\u00e9".encode(), b"e\xffth0", b"-x-"]
LEAKING = os.fsdecode(b"e\xffth0")


def test_hostile_names_on_a_real_kernel(netns_support: None, tmp_path: Path) -> None:
    """Per-interface values decide here (all=0), so every name must be read as itself."""
    with sound_realserver("names") as node:
        for knob in SOUND_KNOBS:
            node.write_sysctl("all", knob, "0")
        for n, raw in enumerate(KERNEL_NAMES):
            node.ip("link", "add", os.fsdecode(raw), "type", "veth", "peer", "name", f"p{n}")
        node.write_sysctl(LEAKING, "arp_ignore", "0")  # copied 1 from default; now it leaks
        node.ip("link", "set", LEAKING, "up")  # down, it would only be a WARNING
        plugin = [PLUGIN, "-r", "realserver", "--no-boot-check"]
        for argv in (plugin, [*plugin, "--proc-root=/proc", "--sys-root=/sys"]):
            done = subprocess.run(
                node.argv(argv), capture_output=True, env=STRICT_STDOUT, timeout=60, check=False
            )
            first = done.stdout.decode("utf-8").splitlines()[0]
            assert done.returncode == 2, first
            assert first.startswith("LVS_ARP CRITICAL - e\\xffth0 answers ARP for VIP"), first
        exporter = [EXPORTER, "--role=realserver", "--web.listen-address=127.0.0.1:0"]
        with running_exporter(node.argv(exporter), tmp_path / "exporter.log") as running:
            fetch = [sys.executable, "-c", FETCH, running.url()]
            body = subprocess.run(
                node.argv(fetch), capture_output=True, timeout=60, check=True
            ).stdout
    names = exposed_interfaces(body)
    assert {printable(os.fsdecode(raw)) for raw in KERNEL_NAMES} <= names
    assert b'lvs_arp_misconfigured{interface="e\\\\xffth0",parameter="arp_ignore"} 1' in body
    assert b"lvs_arp_scrape_success 1" in body


# Run inside the namespace, where the exporter's loopback is.
FETCH = (
    "import sys, urllib.request as r\n"
    "o = r.build_opener(r.ProxyHandler({}))\n"
    "sys.stdout.buffer.write(o.open(sys.argv[1], timeout=30).read())\n"
)
