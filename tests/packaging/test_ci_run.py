"""The README's test command (.ci/run) leaves the host's services alone; the README says what
it installs."""

from __future__ import annotations

import re
import shlex

from source_tree import REPO_ROOT

CI_RUN = REPO_ROOT / ".ci" / "run"


def commands() -> list[str]:
    """.ci/run's lines without comments."""
    text = CI_RUN.read_text(encoding="utf-8")
    return [line.split(" #")[0].strip() for line in text.splitlines() if line.strip()[:1] != "#"]


def debian_packages() -> list[str]:
    text = CI_RUN.read_text(encoding="utf-8")
    block = re.search(r"^DEBIAN_PACKAGES=\((.*?)^\)", text, re.S | re.M)
    assert block, "no DEBIAN_PACKAGES=( ... ) in .ci/run"
    return shlex.split(block.group(1), comments=True)


def test_ci_run_neither_stops_nor_starts_services() -> None:
    for line in commands():
        assert not re.search(r"(^|[;&|(]\s*)(systemctl|service|invoke-rc\.d)\s", line), line


def test_apt_installs_under_a_policy_that_forbids_starting_services() -> None:
    lines = commands()
    install = next(i for i, line in enumerate(lines) if line.startswith("apt-get install"))
    before, after = "\n".join(lines[:install]), "\n".join(lines[install + 1 :])
    assert "policy-rc.d" in before and re.search(r"exit 101", before), before
    assert re.search(r'rm -f "\$POLICY"', after), "the policy must be removed after the install"


def test_readme_names_every_package_ci_installs() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    paragraph = readme[readme.index("sudo bash .ci/run") :][:2000]
    missing = [p for p in debian_packages() if not re.search(rf"(?<![\w-]){p}(?![\w-])", paragraph)]
    assert not missing, f"README's test paragraph does not name {missing}"
