"""The wheel and the sdist, built by `python -m build` (isolated, as pip would) and `twine check`.

The build runs in the unpacked release tarball (`git archive`, the session's source_tree copied),
so build/ and *.egg-info never land in the work tree; build makes the wheel from the sdist, so
the sdist is proven complete.
"""

from __future__ import annotations

import shutil
import stat
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from required_programs import explain, run
from source_tree import REPO_ROOT, release

pytestmark = pytest.mark.daemons

DIST_NAME = "lvs_arp_check"
BUILD_TIMEOUT_S = 180.0
CONSOLE_SCRIPTS = ("check_lvs_arp = checks.cli.nagios:main", "lvs-arp-exporter = exporter.cli:main")


@pytest.fixture(scope="module")
def dists(source_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(wheel, sdist)."""
    tree = tmp_path_factory.mktemp("dist") / "tree"
    out = tree.parent / "out"
    shutil.copytree(source_tree, tree, symlinks=True)
    built = run([sys.executable, "-m", "build", "--outdir", out, tree], timeout=BUILD_TIMEOUT_S)
    assert built.returncode == 0, explain(built)
    version = release.project_version(REPO_ROOT)
    wheel = out / f"{DIST_NAME}-{version}-py3-none-any.whl"
    sdist = out / f"{DIST_NAME}-{version}.tar.gz"
    assert wheel.is_file() and sdist.is_file(), sorted(p.name for p in out.iterdir())
    return wheel, sdist


def test_twine_check_passes(dists: tuple[Path, Path]) -> None:
    checked = run([sys.executable, "-m", "twine", "check", "--strict", *dists])
    assert checked.returncode == 0, explain(checked)


def test_wheel_holds_the_two_packages_and_both_commands(dists: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(dists[0]) as wheel:
        names = wheel.namelist()
        info = f"{DIST_NAME}-{release.project_version(REPO_ROOT)}.dist-info"
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"checks", "exporter", info}, tops
    for script in CONSOLE_SCRIPTS:
        assert script in entry_points, entry_points


def test_sdist_carries_readme_packaging_and_tests(
    dists: tuple[Path, Path], source_tree: Path
) -> None:
    prefix = f"{DIST_NAME}-{release.project_version(REPO_ROOT)}/"
    with tarfile.open(dists[1]) as sdist:
        members = {m.name.removeprefix(prefix): m for m in sdist.getmembers() if m.isfile()}
    wanted = {"README.md", "MANIFEST.in", "setup.cfg", "pyproject.toml"} | {
        str(path.relative_to(source_tree))
        for top in ("packaging", "tests", "checks", "exporter", "docs")
        for path in (source_tree / top).rglob("*")
        if path.is_file()
    }
    assert wanted <= set(members), sorted(wanted - set(members))
    # The build scripts and debian/rules must stay executable in an unpacked sdist.
    for executable in (
        "packaging/build-deb",
        "packaging/build-rpm",
        "packaging/debian/rules",
        "packaging/wrappers/check_lvs_arp",
    ):
        assert members[executable].mode & stat.S_IXUSR, executable
    assert not [name for name in members if "__pycache__" in name or "_cache/" in name]
