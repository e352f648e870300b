"""The release tarball as `git archive` makes it, of this work tree, and the build scripts' module.

The packages must build from such a tarball, which has no `.git`: the tests unpack one and
run packaging/build-deb and packaging/build-rpm there. So that uncommitted work is proven
too, the archive is of the work tree's files as `git add -A` sees them (ignored files left
out), written with a throw-away index and object directory: the repository is not touched.
"""

from __future__ import annotations

import importlib.util
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

from required_programs import explain, run

REPO_ROOT = Path(__file__).resolve().parents[2]


def _load_release() -> ModuleType:
    path = REPO_ROOT / "packaging" / "release.py"
    spec = importlib.util.spec_from_file_location("lvs_arp_release", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# packaging/release.py: version strings and the README rewrite, as the builds use them.
release = _load_release()


class DebBuild(NamedTuple):
    """What one `packaging/build-deb OUTDIR` run left in OUTDIR."""

    version: str
    deb: Path
    changes: Path
    log: str


def _git(argv: list[str], env: dict[str, str] | None = None) -> bytes:
    done = subprocess.run(
        ["git", *argv], cwd=REPO_ROOT, capture_output=True, timeout=120, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(argv)}: {done.stderr.decode(errors='replace')}")
    return done.stdout


def unpack_git_archive(workdir: Path) -> Path:
    """`git archive` of the work tree, unpacked under *workdir*; the tree's path."""
    objects = _git(["rev-parse", "--path-format=absolute", "--git-path", "objects"]).decode()
    scratch_objects = workdir / "objects"
    scratch_objects.mkdir(parents=True)
    env = {
        **os.environ,
        "GIT_INDEX_FILE": str(workdir / "index"),
        "GIT_OBJECT_DIRECTORY": str(scratch_objects),
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": objects.strip(),
    }
    _git(["add", "-A", "."], env)
    tree = _git(["write-tree"], env).decode().strip()
    prefix = f"{release.PACKAGE}-{release.project_version(REPO_ROOT)}/"
    archive = _git(["archive", "--format=tar", f"--prefix={prefix}", tree], env)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(workdir / "unpacked", filter="tar")
    return workdir / "unpacked" / prefix.rstrip("/")


def listing(tree: Path) -> dict[str, tuple[int, int]]:
    """Relative path -> (mode, size) of every file under *tree*: to prove a build left it alone."""
    return {
        str(path.relative_to(tree)): (path.lstat().st_mode, path.lstat().st_size)
        for path in sorted(tree.rglob("*"))
    }


def build_in_pristine_tree(source_tree: Path, script: str, outdir: Path) -> str:
    """Run packaging/*script* OUTDIR from the unpacked tarball; fail if it changed the tree."""
    before = listing(source_tree)
    built = run([source_tree / "packaging" / script, outdir], cwd=source_tree, timeout=600)
    assert built.returncode == 0, explain(built)
    assert listing(source_tree) == before, f"{script} changed the source tree"
    return built.stdout
