"""What packaging/build-deb and packaging/build-rpm share: the version, the source copy, the README.

Both start from the tree this file sits in, which is normally an unpacked release tarball
(`git archive`): nothing here runs git or needs a `.git` directory. Python's standard library
only, so the build needs nothing beyond the packaging tools themselves.

    python3 packaging/release.py installed-readme {deb,rpm} README.md DEST

writes the README as a package installs it (debian/rules and the RPM spec call it).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = "lvs-arp-check"
SOURCE_ROOT = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT_S = 600.0

# What a developer's work tree may hold beside the sources; a tarball has none of it.
_NOT_SOURCE = re.compile(
    r"^(\.git|__pycache__|\.mypy_cache|\.ruff_cache|\.pytest_cache|\.hypothesis|.*\.egg-info)$"
)
_NOT_SOURCE_AT_TOP = {".venv", "venv", "build", "dist", "debian"}

DOC_DIR = f"/usr/share/doc/{PACKAGE}"
SCHEMA = "checks/cli/preflight.schema.json"
# Where each packaging/ path the README names lands, per package layout. Every directory of
# packaging/ is also shipped whole under the doc directory's examples/, so a README path that
# names a directory or an example file points at a real copy on the host.
INSTALLED_PATHS: dict[str, dict[str, str]] = {
    "deb": {
        "packaging/nrpe/lvs_arp.cfg": "/etc/nagios/nrpe.d/lvs_arp.cfg",
        "packaging/": f"{DOC_DIR}/examples/",
        SCHEMA: f"/usr/share/{PACKAGE}/{SCHEMA}",
    },
    "rpm": {
        "packaging/nrpe/lvs_arp.cfg": "/etc/nrpe.d/lvs_arp.cfg",
        "packaging/": f"{DOC_DIR}/examples/",
        SCHEMA: f"/usr/share/{PACKAGE}/{SCHEMA}",
    },
}
# README passages about working on the source tree (building packages, running the tests):
# a package's copy leaves them out.
_SOURCE_ONLY = re.compile(r"<!-- source-only -->.*?<!-- /source-only -->\n?", re.S)


class BuildError(RuntimeError):
    """A build step failed; the message carries what ran and its output."""


def project_version(root: Path = SOURCE_ROOT) -> str:
    """`__version__` from checks/__init__.py, read without importing the package."""
    init = root / "checks" / "__init__.py"
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise BuildError(f"no __version__ = '...' string in {init}")


def debian_version(version: str) -> str:
    """A PEP 440 pre-release (1.0rc1) must sort before 1.0 in dpkg too: 1.0~rc1."""
    return re.sub(r"(?<=\d)(a|b|rc|\.dev)(?=\d)", r"~\1", version)


def rpm_version(version: str) -> str:
    """The same for rpm (>= 4.10 sorts `~` first); rpm refuses `-` in Version:."""
    return debian_version(version)


def source_date(root: Path = SOURCE_ROOT) -> int:
    """SOURCE_DATE_EPOCH, else the release's own time: `git archive` stamps every file with
    its commit's time, so two builds of one tarball are identical."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdigit():
        return int(epoch)
    return int((root / "checks" / "__init__.py").stat().st_mtime)


def copy_source(dest: Path, root: Path = SOURCE_ROOT) -> None:
    """The source files of *root* under *dest*, symlinks and modes kept, work-tree clutter left."""

    def ignored(directory: str, names: list[str]) -> set[str]:
        top = Path(directory) == root
        return {n for n in names if _NOT_SOURCE.match(n) or (top and n in _NOT_SOURCE_AT_TOP)}

    shutil.copytree(root, dest, symlinks=True, ignore=ignored)


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run one build step; its whole output on success, BuildError with the tail on failure."""
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
            check=False,
            env={**os.environ, "LC_ALL": "C.UTF-8", **(env or {})},
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise BuildError(f"{' '.join(argv)}: {err}") from err
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise BuildError(f"{' '.join(argv)} exited {done.returncode}:\n{output[-6000:]}")
    return output


def installed_readme(text: str, layout: str) -> str:
    """The README as a package of *layout* installs it: no source-only passage, and every
    packaging/ path turned into where that package puts the file."""
    text = _SOURCE_ONLY.sub("", text)
    # Longest prefix first: a file with its own place beats its directory's copy.
    for source, installed in sorted(INSTALLED_PATHS[layout].items(), key=lambda p: -len(p[0])):
        text = re.sub(rf"(?<![\w/.-]){re.escape(source)}", installed, text)
    left = sorted(set(re.findall(r"(?<![\w/.-])packaging/\S*", text)))
    if left:
        raise BuildError(f"README.md names source paths no package has: {', '.join(left)}")
    return text


def outdir_argument(argv: list[str], program: str) -> Path:
    """The one OUTDIR argument, made if missing; exit 2 with usage otherwise."""
    if len(argv) != 1 or argv[0].startswith("-"):
        print(f"usage: {program} OUTDIR", file=sys.stderr)
        sys.exit(2)
    outdir = Path(argv[0]).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    return outdir


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] != "installed-readme" or argv[1] not in INSTALLED_PATHS:
        print(f"usage: {sys.argv[0]} installed-readme {{deb,rpm}} README DEST", file=sys.stderr)
        return 2
    try:
        text = installed_readme(Path(argv[2]).read_text(encoding="utf-8"), argv[1])
    except (OSError, BuildError) as err:
        print(f"{sys.argv[0]}: {err}", file=sys.stderr)
        return 1
    dest = Path(argv[3])
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
