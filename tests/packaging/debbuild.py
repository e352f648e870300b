"""Build the Debian package from a temporary copy of the tree, so the work tree stays clean.

The packaging is kept in packaging/debian/ and copied to debian/ in the copy; debian/changelog
is written there from checks/__init__.py, the project's one version string.

    python3 tests/packaging/debbuild.py OUTDIR
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

PACKAGE = "lvs-arp-check"
REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 240.0


class DebBuildError(RuntimeError):
    """A step of the package build failed; the message carries the command's output."""


@dataclass(frozen=True)
class DebBuild:
    """What one dpkg-buildpackage run left behind."""

    version: str
    source_tree: Path
    deb: Path
    changes: Path
    log: str


def project_version(root: Path = REPO_ROOT) -> str:
    """`__version__` from checks/__init__.py, read without importing the package."""
    module = ast.parse((root / "checks" / "__init__.py").read_text(encoding="utf-8"))
    for node in module.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise DebBuildError(f"no __version__ = '...' string in {root}/checks/__init__.py")


def debian_version(version: str) -> str:
    """A PEP 440 pre-release (1.0rc1) must sort before 1.0 in dpkg too: 1.0~rc1."""
    return re.sub(r"(?<=\d)(a|b|rc|\.dev)(?=\d)", r"~\1", version)


def _run(argv: list[str], cwd: Path, timeout: float = BUILD_TIMEOUT_S) -> str:
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise DebBuildError(f"{' '.join(argv)}: {err}") from err
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise DebBuildError(f"{' '.join(argv)} exited {done.returncode}:\n{output[-6000:]}")
    return output


def tracked_files(root: Path = REPO_ROOT) -> list[Path]:
    """What git would ship: tracked plus untracked-but-not-ignored files (CI has no others)."""
    listing = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], root)
    paths = (Path(name) for name in listing.split("\0") if name)
    # A file deleted in the work tree but still in the index is not part of the tree.
    return sorted(p for p in paths if (root / p).exists() or (root / p).is_symlink())


def copy_tree(dest: Path, root: Path = REPO_ROOT) -> None:
    for relative in tracked_files(root):
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, target, follow_symlinks=False)  # keeps the x bit


def _maintainer(control: Path) -> str:
    match = re.search(r"^Maintainer:\s*(.+)$", control.read_text(encoding="utf-8"), re.M)
    if match is None:
        raise DebBuildError(f"no Maintainer: field in {control}")
    return match.group(1).strip()


def _commit_time(root: Path) -> int:
    # The changelog date is the commit's, so two builds of one commit are identical.
    try:
        return int(_run(["git", "log", "-1", "--format=%ct"], root).strip())
    except (DebBuildError, ValueError):
        return 0


def write_changelog(debian_dir: Path, version: str, timestamp: int) -> None:
    maintainer = _maintainer(debian_dir / "control")
    entry = (
        f"{PACKAGE} ({debian_version(version)}) unstable; urgency=medium\n\n"
        f"  * Release {version}, as in checks/__init__.py.\n\n"
        f" -- {maintainer}  {formatdate(timestamp, localtime=False, usegmt=False)}\n"
    )
    (debian_dir / "changelog").write_text(entry, encoding="utf-8")


def build(workdir: Path, root: Path = REPO_ROOT) -> DebBuild:
    """Copy the tree under *workdir*, add debian/, run dpkg-buildpackage; return the results."""
    version = project_version(root)
    tree = workdir / f"{PACKAGE}-{debian_version(version)}"
    if tree.exists():
        raise DebBuildError(f"{tree} exists: build into an empty directory")
    copy_tree(tree, root)
    shutil.copytree(root / "packaging" / "debian", tree / "debian", symlinks=True)
    write_changelog(tree / "debian", version, _commit_time(root))
    log = _run(["dpkg-buildpackage", "-us", "-uc"], tree)
    stem = f"{PACKAGE}_{debian_version(version)}"
    deb, changes = workdir / f"{stem}_all.deb", next(workdir.glob(f"{stem}_*.changes"), None)
    if not deb.is_file() or changes is None:
        raise DebBuildError(f"dpkg-buildpackage left no {deb.name} or .changes:\n{log[-4000:]}")
    return DebBuild(version, tree, deb, changes, log)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(f"usage: {sys.argv[0]} OUTDIR", file=sys.stderr)
        return 2
    outdir = Path(argv[0]).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    result = build(outdir)
    print(result.deb)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
