"""The RPM: built by packaging/build-rpm from the release tarball, judged by rpmlint, installed
into a scratch root with `rpm --root`, and its installed plugin run on a fake host.

Debian's rpm and rpmlint stand in for RHEL's; the layout asserted is RHEL/Rocky 9's.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_host import FakeHost
from required_programs import explain, require, run
from source_tree import REPO_ROOT, build_in_pristine_tree, release

pytestmark = pytest.mark.daemons

PLUGIN = Path("usr/lib64/nagios/plugins/check_lvs_arp")
NRPE_SNIPPET = Path("etc/nrpe.d/lvs_arp.cfg")
SYSCONFIG = Path("etc/sysconfig/lvs-arp-exporter")
UNIT_DIR = Path("usr/lib/systemd/system")
UNITS = (
    "lvs-arp-exporter.service",
    "lvs-arp-exporter-textfile.service",
    "lvs-arp-exporter-textfile.timer",
)
PRIVATE_MODULES = Path("usr/share/lvs-arp-check")
DOC_DIR = Path("usr/share/doc/lvs-arp-check")
EXPECTED_FILES = {
    PLUGIN,
    Path("usr/bin/lvs-arp-exporter"),
    Path("usr/bin/lvs-arp-preflight"),
    NRPE_SNIPPET,
    SYSCONFIG,
    Path("usr/share/icinga2/include/plugins-contrib.d/lvs_arp.conf"),
    PRIVATE_MODULES / "checks/cli/nagios.py",
    PRIVATE_MODULES / "checks/cli/preflight.schema.json",
    PRIVATE_MODULES / "exporter/cli.py",
    DOC_DIR / "README.md",
    DOC_DIR / "docs/kernel-facts.md",
    DOC_DIR / "examples/prometheus/lvs-arp.rules.yml",
    DOC_DIR / "examples/prometheus/scrape-config.example.yml",
    DOC_DIR / "examples/ansible/preflight.yml",
    DOC_DIR / "examples/kubernetes/daemonset.yaml",
    *(Path("usr/share/man/man1") / f"{name}.1.gz" for name in ("check_lvs_arp",
                                                                "lvs-arp-exporter",
                                                                "lvs-arp-preflight")),
    *(UNIT_DIR / unit for unit in UNITS),
}  # fmt: skip
VIP = "192.0.2.100"


@pytest.fixture(scope="session")
def rpm_build(source_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """'rpm', 'srpm' and 'spec' that packaging/build-rpm made from the unpacked tarball."""
    require("rpmbuild")
    outdir = tmp_path_factory.mktemp("rpm")
    build_in_pristine_tree(source_tree, "build-rpm", outdir)
    version = release.rpm_version(release.project_version(source_tree))
    made = {
        "rpm": outdir / f"{release.PACKAGE}-{version}-1.noarch.rpm",
        "srpm": outdir / f"{release.PACKAGE}-{version}-1.src.rpm",
        "spec": outdir / f"{release.PACKAGE}.spec",
    }
    assert all(p.is_file() for p in made.values()), sorted(p.name for p in outdir.iterdir())
    return made


@pytest.fixture(scope="session")
def rpm_root(rpm_build: dict[str, Path]) -> Iterator[Path]:
    """A scratch root the RPM was installed into by rpm itself (dependencies not checked)."""
    require("rpm")
    root = Path(tempfile.mkdtemp(prefix="lvs-arp-rpm-root-"))
    try:
        root.chmod(0o755)
        argv = ["rpm", "--root", root, "--dbpath", "/var/lib/rpm", "--nodeps", "-i"]
        installed = run([*argv, rpm_build["rpm"]], timeout=120)
        assert installed.returncode == 0, explain(installed)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_rpmlint_finds_no_error(rpm_build: dict[str, Path]) -> None:
    require("rpmlint")
    config = REPO_ROOT / "packaging" / "rpm" / "rpmlint.toml"
    judged = run(["rpmlint", "-c", config, *rpm_build.values()], timeout=180)
    print(judged.stdout)
    summary = re.search(r"(\d+) errors, (\d+) warnings", judged.stdout)
    assert summary and summary.group(1) == "0", explain(judged)
    assert judged.returncode == 0, explain(judged)


def test_rpm_is_noarch_with_the_project_version(rpm_build: dict[str, Path]) -> None:
    query = run(["rpm", "-qp", "--qf", "%{ARCH} %{VERSION}\\n", rpm_build["rpm"]])
    version = release.rpm_version(release.project_version(REPO_ROOT))
    assert query.stdout.strip() == f"noarch {version}", explain(query)
    requires = run(["rpm", "-qp", "--requires", rpm_build["rpm"]])
    # RHEL 9's python3 is 3.9, older than the project supports.
    assert "/usr/bin/python3.11" in requires.stdout.split("\n"), explain(requires)


def test_rpm_installs_the_rhel_layout(rpm_root: Path) -> None:
    missing = sorted(str(p) for p in EXPECTED_FILES if not (rpm_root / p).is_file())
    assert not missing, missing
    listed = run(["rpm", "--root", rpm_root, "--dbpath", "/var/lib/rpm", "-qa"])
    assert listed.stdout.startswith(f"{release.PACKAGE}-"), explain(listed)
    assert os.access(rpm_root / PLUGIN, os.X_OK)
    # Private modules only; no byte code made with the build host's python.
    assert not list(rpm_root.rglob("site-packages")) + list(rpm_root.rglob("__pycache__"))


def test_rpm_configuration_points_at_the_rpm_paths(rpm_root: Path) -> None:
    snippet = (rpm_root / NRPE_SNIPPET).read_text(encoding="utf-8")
    commands = re.findall(r"^command\[[^\]]+\]=(\S+)", snippet, re.M)
    assert commands and set(commands) == {f"/{PLUGIN}"}, commands
    for unit in UNITS:
        text = (rpm_root / UNIT_DIR / unit).read_text(encoding="utf-8")
        assert "/etc/default" not in text, unit
        for target in " ".join(re.findall(r"^Documentation=(.*)$", text, re.M)).split():
            scheme, _, where = target.partition(":")
            if scheme == "file":
                assert (rpm_root / where.lstrip("/")).is_file(), (unit, target)
            else:
                page = re.fullmatch(r"([\w.-]+)\((\d)\)", where)
                assert scheme == "man" and page, (unit, target)
                name, section = page.groups()
                assert (rpm_root / f"usr/share/man/man{section}/{name}.{section}.gz").is_file()
    service = (rpm_root / UNIT_DIR / "lvs-arp-exporter.service").read_text(encoding="utf-8")
    assert f"EnvironmentFile=-/{SYSCONFIG}" in service
    readme = (rpm_root / DOC_DIR / "README.md").read_text(encoding="utf-8")
    assert "packaging/" not in readme.replace("tests/packaging/", "")
    assert f"/{NRPE_SNIPPET}" in readme


@pytest.mark.parametrize(
    ("fixed", "status", "code"), [(False, "CRITICAL", 2), (True, "OK", 0)], ids=["leak", "fixed"]
)
def test_installed_plugin_judges_a_fake_host(
    rpm_root: Path, tmp_path: Path, fixed: bool, status: str, code: int
) -> None:
    """The installed file itself, by its #!/usr/bin/python3.11 -I: Debian 12's python3.11 with
    Debian's python3-nagiosplugin stands in for RHEL 9's, on a fake host tree."""
    host = FakeHost().loopback(f"{VIP}/32").interface("eth0", "192.0.2.10/24")
    if fixed:
        host.all_ignore, host.all_announce = 1, 2
    tree = host.write(tmp_path / "host")
    sysctl_root = host.write_boot_config(tmp_path / "image")
    argv = [rpm_root / PLUGIN, "--role", "realserver", "--vip", VIP, *tree.plugin_args()]
    checked = run([*argv, f"--sysctl-root={sysctl_root}"])
    assert checked.returncode == code, explain(checked)
    assert checked.stdout.startswith(f"LVS_ARP {status} - "), explain(checked)
    if not fixed:
        assert "eth0 answers ARP for VIP 192.0.2.100" in checked.stdout, explain(checked)
