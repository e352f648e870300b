"""The systemd units, proven by `systemd-analyze verify` and `security` on the .deb's layout.

`--root` points systemd-analyze at a copy of the `dpkg -x` extraction, so ExecStart= finds the
wrapper where the package puts it; the host's own units are copied in beside ours because
verify follows dependencies such as sysinit.target and network-online.target.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
from netns import realserver_node
from required_programs import explain, require, require_root, run
from shipped_paths import (
    EXPORTER,
    EXPORTER_DEFAULTS,
    EXPORTER_UNIT,
    TEXTFILE_TIMER,
    TEXTFILE_UNIT,
    UNIT_DIR,
    UNITS,
)

pytestmark = pytest.mark.daemons

HOST_UNIT_DIRS = (Path("/lib/systemd/system"), Path("/usr/lib/systemd/system"))
# systemd-analyze security scales exposure by 10: 15 means "1.5 OK" or better.
EXPOSURE_THRESHOLD = 15
COLLECTOR_DIR = "/var/lib/prometheus/node-exporter"
NO_CAPABILITIES = (
    "setpriv",
    "--bounding-set=-all",
    "--inh-caps=-all",
    "--ambient-caps=-all",
    "--no-new-privs",
    "--",
)

Settings = dict[str, dict[str, list[str]]]


def unit_settings(text: str) -> Settings:
    """Section -> key -> every value in order (systemd keys may repeat; configparser refuses)."""
    settings: Settings = {}
    section: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = settings.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        section.setdefault(key.strip(), []).append(value.strip())
    return settings


def last(settings: Settings, section: str, key: str) -> str | None:
    values = settings.get(section, {}).get(key)
    return values[-1] if values else None


@pytest.fixture
def verify_root(deb_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(deb_root, root, symlinks=True)
    ours = root / UNIT_DIR
    for host_dir in HOST_UNIT_DIRS:
        for unit in host_dir.glob("*"):
            if unit.is_file() and not (ours / unit.name).exists():
                shutil.copy2(unit, ours / unit.name, follow_symlinks=False)
    return root


def read_unit(deb_root: Path, name: str) -> Settings:
    return unit_settings((deb_root / UNIT_DIR / name).read_text(encoding="utf-8"))


def test_systemd_analyze_verify_accepts_the_units(verify_root: Path) -> None:
    """verify also runs `man` for each man: Documentation= link: MANPATH is the package's."""
    require("systemd-analyze", "man")
    env = {**os.environ, "MANPATH": str(verify_root / "usr/share/man")}
    verified = run(["systemd-analyze", "verify", f"--root={verify_root}", *UNITS], env=env)
    assert verified.returncode == 0, explain(verified)
    # An unknown key or a bad value is only a warning, exit code 0: any output is a defect.
    assert verified.stdout + verified.stderr == "", explain(verified)


def test_services_expose_little(verify_root: Path) -> None:
    require("systemd-analyze")
    services = [unit for unit in UNITS if unit.endswith(".service")]
    argv = ["systemd-analyze", "security", "--offline=true", f"--root={verify_root}"]
    judged = run([*argv, f"--threshold={EXPOSURE_THRESHOLD}", "--no-pager", *services])
    assert judged.returncode == 0, explain(judged)


def test_exporter_runs_unprivileged_with_only_the_sockets_it_needs(deb_root: Path) -> None:
    unit = read_unit(deb_root, EXPORTER_UNIT)
    service = unit["Service"]
    assert last(unit, "Service", "DynamicUser") == "yes"
    assert last(unit, "Service", "NoNewPrivileges") == "yes"
    assert last(unit, "Service", "ProtectSystem") == "strict"
    assert last(unit, "Service", "CapabilityBoundingSet") == ""
    families = set(" ".join(service["RestrictAddressFamilies"]).split())
    assert families == {"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"}
    # /proc/sys/net and netlink answer for the reader's namespace: it must stay the host's,
    # and ProcSubset=pid would hide /proc/sys and /proc/net.
    assert "PrivateNetwork" not in service and "ProcSubset" not in service


def test_textfile_unit_writes_only_the_collector_dir(deb_root: Path) -> None:
    unit = read_unit(deb_root, TEXTFILE_UNIT)
    service = unit["Service"]
    assert last(unit, "Service", "Type") == "oneshot"
    assert last(unit, "Service", "NoNewPrivileges") == "yes"
    assert last(unit, "Service", "ProtectSystem") == "strict"
    assert last(unit, "Service", "CapabilityBoundingSet") == ""
    assert service["ReadWritePaths"] == [COLLECTOR_DIR]
    assert set(" ".join(service["RestrictAddressFamilies"]).split()) == {"AF_UNIX", "AF_NETLINK"}
    exec_start = shlex.split(last(unit, "Service", "ExecStart") or "")
    target = exec_start[exec_start.index("--textfile") + 1]
    assert Path(target).parent == Path(COLLECTOR_DIR) and target.endswith(".prom")

    timer = read_unit(deb_root, TEXTFILE_TIMER)
    assert last(timer, "Install", "WantedBy") == "timers.target"
    assert last(timer, "Timer", "Unit") in (None, TEXTFILE_UNIT)  # None: same name


def environment_file(text: str) -> dict[str, str]:
    """KEY="value" lines, as systemd's EnvironmentFile= reads the shipped /etc/default file."""
    pairs = (shlex.split(line)[0] for line in text.splitlines() if re.match(r"^\w+=", line))
    return dict(pair.split("=", 1) for pair in pairs)


def expand_exec_start(line: str, environment: dict[str, str]) -> list[str]:
    """systemd's unbraced $VAR: the value split on whitespace; an empty one vanishes."""
    words: list[str] = []
    for word in shlex.split(line):
        if word.startswith("$"):
            words.extend(environment.get(word[1:], "").split())
        else:
            words.append(word)
    return words


def test_textfile_unit_command_writes_the_verdict(deb_root: Path, tmp_path: Path) -> None:
    """ExecStart= as systemd expands it with the shipped defaults, run on a real server.

    Two rewrites, both of absolute paths: /usr/bin/lvs-arp-exporter is the extracted wrapper,
    and the collector directory is a temp dir (root-owned, as Debian's is). setpriv stands in
    for CapabilityBoundingSet= and NoNewPrivileges=: root with no capability at all.
    """
    require_root()
    require("ip", "setpriv")
    unit = read_unit(deb_root, TEXTFILE_UNIT)
    defaults = environment_file((deb_root / EXPORTER_DEFAULTS).read_text(encoding="utf-8"))
    argv = expand_exec_start(last(unit, "Service", "ExecStart") or "", defaults)
    assert argv[0] == f"/{EXPORTER}"
    argv[0] = str(deb_root / EXPORTER)
    textfile = tmp_path / "lvs_arp.prom"
    argv = [str(textfile) if a.startswith(COLLECTOR_DIR + "/") else a for a in argv]

    # The fix is persisted as well as applied, or the node is sound only until a reboot.
    image = tmp_path / "image"
    (image / "etc/sysctl.d").mkdir(parents=True)
    (image / "etc/sysctl.d/90-lvs-realserver.conf").write_text(
        "net.ipv4.conf.all.arp_ignore = 1\nnet.ipv4.conf.all.arp_announce = 2\n"
    )
    argv.append(f"--sysctl-root={image}")

    with realserver_node() as node:
        for fix, compliant in ((False, "0"), (True, "1")):
            if fix:
                node.fix_arp()
            written = run(node.argv(*NO_CAPABILITIES, *argv))
            assert written.returncode == 0, explain(written)
            metrics = textfile.read_text(encoding="utf-8")
            assert re.search(r"^lvs_arp_scrape_success 1(\.0)?$", metrics, re.M), metrics
            assert re.search(rf"^lvs_arp_compliant {compliant}(\.0)?$", metrics, re.M), metrics
