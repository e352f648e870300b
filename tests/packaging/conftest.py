"""Session fixtures for the packaging proofs: the release tarball, a .deb build, its extraction."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from required_programs import explain, require, run
from source_tree import DebBuild, build_in_pristine_tree, release, unpack_git_archive


@pytest.fixture(scope="session")
def source_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release tarball (`git archive`) unpacked: no .git, as a user downloads it."""
    require("git")
    tree = unpack_git_archive(tmp_path_factory.mktemp("release"))
    assert not (tree / ".git").exists()
    return tree


@pytest.fixture(scope="session")
def deb_build(source_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> DebBuild:
    """The package, built once by packaging/build-deb from the unpacked tarball."""
    require("dpkg-buildpackage", "dh", "dh_python3")
    outdir = tmp_path_factory.mktemp("deb")
    log = build_in_pristine_tree(source_tree, "build-deb", outdir)
    version = release.project_version(source_tree)
    stem = f"{release.PACKAGE}_{release.debian_version(version)}"
    deb, changes = outdir / f"{stem}_all.deb", next(outdir.glob(f"{stem}_*.changes"), None)
    assert deb.is_file() and changes is not None, sorted(p.name for p in outdir.iterdir())
    return DebBuild(version, deb, changes, log)


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
