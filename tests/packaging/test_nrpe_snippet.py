"""The NRPE snippet, proven by Debian's nrpe daemon and check_nrpe on a real server in a netns.

The daemon reads a temp nrpe.cfg (pid file, 127.0.0.1:5666 inside the namespace, only
127.0.0.1 allowed) that includes the snippet as the .deb ships it, with one rewrite: the
plugin path /usr/lib/nagios/plugins/check_lvs_arp becomes the same file in a `dpkg -x`
extraction of the .deb. nrpe drops to user nagios, as installed.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from netns import RealServerNode, realserver_node
from required_programs import explain, require, require_root, run
from shipped_paths import INSTALLED_PLUGIN, NRPE_SNIPPET, PLUGIN, nrpe_commands

pytestmark = pytest.mark.daemons

PORT = 5666  # the namespace is new: nothing else can hold the port there
START_TIMEOUT_S = 10.0
CHECK_NRPE_DEFAULT_TIMEOUT_S = 10
CRITICAL, OK = 2, 0


def nrpe_config(workdir: Path, snippet: Path) -> Path:
    config = workdir / "nrpe.cfg"
    config.write_text(
        "\n".join(
            [
                f"pid_file={workdir}/nrpe.pid",
                f"log_file={workdir}/nrpe.log",
                "debug=1",
                "server_address=127.0.0.1",
                f"server_port={PORT}",
                "nrpe_user=nagios",
                "nrpe_group=nagios",
                "allowed_hosts=127.0.0.1",
                "dont_blame_nrpe=0",
                "allow_bash_command_substitution=0",
                "disable_syslog=1",
                "command_timeout=60",
                f"include={snippet}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return config


def check_nrpe(
    node: RealServerNode, check_nrpe_path: str, command: str | None = None
) -> subprocess.CompletedProcess[str]:
    argv = [check_nrpe_path, "-H", "127.0.0.1", "-p", str(PORT)]
    return run(node.argv(*argv, *(["-c", command] if command else [])), timeout=30)


@contextmanager
def nrpe_daemon(
    node: RealServerNode, nrpe: str, check_nrpe_path: str, config: Path
) -> Iterator[subprocess.Popen[str]]:
    """nrpe in the foreground (-f), as a child: the test always kills it."""
    log = (config.parent / "nrpe.stdout").open("w", encoding="utf-8")
    daemon = subprocess.Popen(
        node.argv(nrpe, "-c", str(config), "-f"), stdout=log, stderr=subprocess.STDOUT, text=True
    )
    try:
        _wait_until_listening(node, check_nrpe_path, daemon, config.parent)
        yield daemon
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=5)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait(timeout=5)
        log.close()


def _wait_until_listening(
    node: RealServerNode, check_nrpe_path: str, daemon: subprocess.Popen[str], workdir: Path
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        # Without -c, check_nrpe asks for the daemon's version: the handshake alone.
        probe = check_nrpe(node, check_nrpe_path)
        if probe.returncode == 0:
            return
        if daemon.poll() is not None or time.monotonic() > deadline:
            logs = "".join(p.read_text() for p in sorted(workdir.glob("nrpe.*")) if p.is_file())
            pytest.fail(f"nrpe did not answer: {explain(probe)}\n{logs}", pytrace=False)
        time.sleep(0.1)


def persisted_fix(workdir: Path) -> Path:
    """A sysctl root (readable by user nagios) whose sysctl.d holds what fix_arp() sets."""
    directory = workdir / "image" / "etc" / "sysctl.d"
    directory.mkdir(parents=True)
    for path in (directory, directory.parent, directory.parent.parent):
        path.chmod(0o755)
    fix = directory / "90-lvs-realserver.conf"
    fix.write_text("net.ipv4.conf.all.arp_ignore = 1\nnet.ipv4.conf.all.arp_announce = 2\n")
    fix.chmod(0o644)
    return workdir / "image"


def first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


def test_snippet_commands_are_fixed_and_time_out_before_check_nrpe(deb_root: Path) -> None:
    commands = nrpe_commands((deb_root / NRPE_SNIPPET).read_text(encoding="utf-8"))
    assert set(commands) == {
        "check_lvs_arp_realserver",
        "check_lvs_arp_director",
        "check_lvs_arp_director_standby_ok",
    }
    for name, line in commands.items():
        assert "$ARG" not in line, f"{name}: arguments must be fixed (dont_blame_nrpe=0)"
        assert line.split()[0] == INSTALLED_PLUGIN, name
        timeout = re.search(r"(?:-t|--timeout)[ =](\d+)", line)
        assert timeout and int(timeout.group(1)) < CHECK_NRPE_DEFAULT_TIMEOUT_S, name


def test_nrpe_runs_the_snippet_on_a_broken_then_fixed_real_server(
    deb_root: Path, daemon_dir: Path
) -> None:
    require_root()
    tools = require("nrpe", "check_nrpe", "ip")
    shipped = (deb_root / NRPE_SNIPPET).read_text(encoding="utf-8")
    plugin = deb_root / PLUGIN
    assert INSTALLED_PLUGIN in shipped and plugin.is_file()
    # The fix is persisted too, as an administrator would: otherwise the fixed node is
    # sound only until its next reboot, which the plugin reports as a WARNING.
    image = persisted_fix(daemon_dir)
    plugin_with_boot_files = f"{plugin} --sysctl-root={image}"
    snippet = daemon_dir / "lvs_arp.cfg"
    snippet.write_text(shipped.replace(INSTALLED_PLUGIN, plugin_with_boot_files), "utf-8")
    config = nrpe_config(daemon_dir, snippet)
    realserver_command = nrpe_commands(shipped)["check_lvs_arp_realserver"].split()

    with realserver_node() as node, nrpe_daemon(node, tools["nrpe"], tools["check_nrpe"], config):
        direct = run(node.argv(*plugin_with_boot_files.split(), *realserver_command[1:]))
        broken = check_nrpe(node, tools["check_nrpe"], "check_lvs_arp_realserver")
        assert broken.returncode == CRITICAL, explain(broken)
        assert first_line(broken.stdout).startswith("LVS_ARP CRITICAL"), explain(broken)
        assert first_line(broken.stdout) == first_line(direct.stdout), explain(direct)

        node.fix_arp()
        fixed = check_nrpe(node, tools["check_nrpe"], "check_lvs_arp_realserver")
        assert fixed.returncode == OK, explain(fixed)
        assert first_line(fixed.stdout).startswith("LVS_ARP OK"), explain(fixed)

        # The director lines parse and run too: this node holds no IPVS service, so they
        # answer with the plugin's own status line, whatever its verdict.
        for command in ("check_lvs_arp_director", "check_lvs_arp_director_standby_ok"):
            answer = check_nrpe(node, tools["check_nrpe"], command)
            assert first_line(answer.stdout).startswith("LVS_ARP "), explain(answer)
