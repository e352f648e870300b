"""Find the real programs the packaging proofs drive; a missing one fails the test, never skips."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

# Daemons live in sbin and the NRPE client among the plugins: not on every user's PATH.
SEARCH_PATH = os.pathsep.join(
    [os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/lib/nagios/plugins"]
)

# program -> the Debian package that ships it, for the failure message.
DEBIAN_PACKAGE = {
    "check_nrpe": "nagios-nrpe-plugin",
    "dpkg-buildpackage": "dpkg-dev",
    "dpkg-deb": "dpkg",
    "dh": "debhelper",
    "dh_python3": "dh-python",
    "git": "git",
    "icinga2": "icinga2-bin",
    "ip": "iproute2",
    "lintian": "lintian",
    "man": "man-db",
    "nagios4": "nagios4-core",
    "nrpe": "nagios-nrpe-server",
    "rpm": "rpm",
    "rpmbuild": "rpm",
    "rpmlint": "rpmlint",
    "setpriv": "util-linux",
    "systemd-analyze": "systemd",
}


def require(*programs: str) -> dict[str, str]:
    """Absolute paths of *programs*, or fail naming the Debian packages to install."""
    found = {name: shutil.which(name, path=SEARCH_PATH) for name in programs}
    missing = sorted(name for name, path in found.items() if path is None)
    if missing:
        packages = " ".join(sorted({DEBIAN_PACKAGE.get(name, name) for name in missing}))
        pytest.fail(
            f"missing {', '.join(missing)}: apt-get install {packages} (CI installs them)",
            pytrace=False,
        )
    return {name: path for name, path in found.items() if path is not None}


def require_root() -> None:
    if os.geteuid() != 0:
        pytest.fail(
            "needs root: network namespaces, and daemons dropping to their user", pytrace=False
        )


def run(
    argv: Sequence[str | Path],
    *,
    timeout: float = 60.0,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run *argv* to completion and hand back everything; the caller judges the exit code."""
    return subprocess.run(
        [str(arg) for arg in argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=None if env is None else dict(env),
        check=False,
    )


def explain(done: subprocess.CompletedProcess[str]) -> str:
    """The command, its exit code and output: the message of a failed assertion."""
    argv = " ".join(str(arg) for arg in done.args)
    return f"$ {argv}\nexit {done.returncode}\n{done.stdout}{done.stderr}"
