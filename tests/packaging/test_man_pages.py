"""The hand-written man pages: real sections, no groff warning, and every --help option in them.

The options are taken from each program's own --help output, so a new or renamed option that
the man page does not describe fails here instead of drifting unnoticed.
"""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

import pytest
from required_programs import explain, require, run
from shipped_paths import MAN_DIR, MAN_PAGES
from source_tree import REPO_ROOT

pytestmark = pytest.mark.daemons

SECTIONS = (
    "NAME",
    "SYNOPSIS",
    "DESCRIPTION",
    "WHAT IS JUDGED",
    "OPTIONS",
    "EXIT STATUS",
    "EXAMPLES",
    "FILES",
    "SEE ALSO",
)
# An option as --help lists it at the start of a line: "  -t SECONDS, --timeout SECONDS".
_HELP_OPTION_LINE = re.compile(r"^  (-.*?)(?:  |$)", re.M)
_OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w.-]*)")


def help_options(program: str) -> set[str]:
    """Every option string the program's --help shows, from the venv's console script."""
    script = Path(sys.executable).with_name(program)
    shown = run([script, "--help"])
    assert shown.returncode == 0, explain(shown)
    body = shown.stdout.split("\n\n", 1)[1]  # past the usage block
    options = {o for line in _HELP_OPTION_LINE.findall(body) for o in _OPTION.findall(line)}
    assert "--help" in options and len(options) > 5, shown.stdout
    return options


def rendered(page: Path) -> str:
    """The page as man shows it, wide and unhyphenated, dashes as typed."""
    require("man")
    shown = run(["man", "--warnings", "-l", page], env={"MANWIDTH": "200", "LC_ALL": "C.UTF-8"})
    assert shown.returncode == 0, explain(shown)
    assert shown.stderr == "", explain(shown)  # groff warnings, as lintian would report them
    return shown.stdout.replace("\u2010", "-").replace("\u2212", "-")


@pytest.mark.parametrize("program", sorted(MAN_PAGES))
def test_man_page_documents_every_help_option(program: str) -> None:
    text = rendered(REPO_ROOT / MAN_PAGES[program])
    words = set(_OPTION.findall(text))
    missing = sorted(help_options(program) - words)
    assert not missing, f"{MAN_PAGES[program]} does not describe {missing}"


@pytest.mark.parametrize("program", sorted(MAN_PAGES))
def test_man_page_has_the_sections_a_reader_looks_for(program: str) -> None:
    text = rendered(REPO_ROOT / MAN_PAGES[program])
    headings = re.findall(r"^([A-Z][A-Z ]+)$", text, re.M)
    assert [h for h in headings if h in SECTIONS] == list(SECTIONS), headings
    name = re.search(r"^NAME\n\s+(\S+) - \S", text, re.M)
    assert name and name.group(1) == program, text[:300]


@pytest.mark.parametrize("program", sorted(MAN_PAGES))
def test_package_installs_the_hand_written_page(program: str, deb_root: Path) -> None:
    installed = gzip.decompress((deb_root / MAN_DIR / f"{program}.1.gz").read_bytes())
    assert installed == (REPO_ROOT / MAN_PAGES[program]).read_bytes()
