"""Session fixtures for the packaging proofs: one .deb build, one extraction of it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from debbuild import DebBuild, DebBuildError, build
from required_programs import explain, require, run


@pytest.fixture(scope="session")
def deb_build(tmp_path_factory: pytest.TempPathFactory) -> DebBuild:
    """The package, built once from a temporary copy of the tree."""
    require("dpkg-buildpackage", "dh", "dh_python3", "help2man", "git")
    try:
        return build(tmp_path_factory.mktemp("deb"))
    except DebBuildError as err:
        pytest.fail(f"the .deb did not build: {err}", pytrace=False)


@pytest.fixture(scope="session")
def deb_root(deb_build: DebBuild) -> Iterator[Path]:
    """`dpkg -x` of the package: the installed layout, without touching the system.

    nrpe runs the plugin as user nagios, who cannot enter pytest's 0700 temp dirs: this one is
    made world-readable, like /usr.
    """
    require("dpkg-deb")
    root = Path(tempfile.mkdtemp(prefix="lvs-arp-deb-root-"))
    try:
        os.chmod(root, 0o755)
        done = run(["dpkg-deb", "-x", deb_build.deb, root])
        assert done.returncode == 0, explain(done)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def daemon_dir() -> Iterator[Path]:
    """A work dir the daemons can read after dropping to user nagios: pytest's tmp is 0700."""
    path = Path(tempfile.mkdtemp(prefix="lvs-arp-daemon-"))
    try:
        path.chmod(0o755)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
