"""The .deb: built, listed by dpkg-deb, run from a `dpkg -x` extraction, judged by lintian."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nagiosplugin
import pytest
from required_programs import explain, require, run
from shipped_paths import (
    DOC_DIR,
    EXAMPLES,
    EXPORTER,
    EXPORTER_DEFAULTS,
    ICINGA2_COMMAND,
    MAN_DIR,
    MAN_PAGES,
    NAGIOS_COMMANDS,
    NRPE_SNIPPET,
    PLUGIN,
    PREFLIGHT,
    PREFLIGHT_SCHEMA,
    PRIVATE_MODULES,
    UNIT_DIR,
    UNITS,
)
from source_tree import REPO_ROOT, DebBuild, release

pytestmark = pytest.mark.daemons

# What a user of the README looks for on the host, beside the programs.
SHIPPED_EXAMPLES = (
    "prometheus/lvs-arp.rules.yml",
    "prometheus/lvs-arp.rules.test.yml",
    "prometheus/scrape-config.example.yml",
    "ansible/preflight.yml",
    "icinga2/services.conf",
    "icinga2/nrpe.conf",
    "nrpe/lvs_arp.cfg",
    "nagios/lvs_arp.cfg",
    "kubernetes/daemonset.yaml",
)
EXPECTED_FILES = {
    PLUGIN,
    EXPORTER,
    PREFLIGHT,
    PREFLIGHT_SCHEMA,
    NRPE_SNIPPET,
    NAGIOS_COMMANDS,
    ICINGA2_COMMAND,
    EXPORTER_DEFAULTS,
    *(MAN_DIR / f"{program}.1.gz" for program in MAN_PAGES),
    PRIVATE_MODULES / "checks" / "__init__.py",
    PRIVATE_MODULES / "checks" / "cli" / "nagios.py",
    PRIVATE_MODULES / "checks" / "cli" / "preflight.py",
    PRIVATE_MODULES / "exporter" / "__init__.py",
    PRIVATE_MODULES / "exporter" / "cli.py",
    DOC_DIR / "copyright",
    DOC_DIR / "README.md",
    DOC_DIR / "README.Debian",
    DOC_DIR / "docs" / "kernel-facts.md",
    *(EXAMPLES / example for example in SHIPPED_EXAMPLES),
    *(UNIT_DIR / unit for unit in UNITS),
}
CONFFILES = {f"/{NRPE_SNIPPET}", f"/{NAGIOS_COMMANDS}", f"/{EXPORTER_DEFAULTS}"}
VIP = "192.0.2.100"


def deb_listing(deb: Path) -> dict[Path, str]:
    """Path -> mode string (e.g. -rwxr-xr-x) of every entry `dpkg-deb -c` lists."""
    done = run(["dpkg-deb", "-c", deb])
    assert done.returncode == 0, explain(done)
    entries = {}
    for line in done.stdout.splitlines():
        mode, *_, name = line.split(maxsplit=5)
        entries[Path(name.split(" -> ")[0].removeprefix("./"))] = mode
    return entries


def test_package_version_is_the_project_version(deb_build: DebBuild) -> None:
    expected = release.debian_version(release.project_version(REPO_ROOT))
    changes = deb_build.changes.read_text(encoding="utf-8")
    assert re.search(rf"^Version: {re.escape(expected)}$", changes, re.M), changes
    field = run(["dpkg-deb", "-f", deb_build.deb, "Version"])
    assert field.stdout.strip() == expected, explain(field)


def test_dpkg_deb_lists_the_expected_paths(deb_build: DebBuild) -> None:
    require("dpkg-deb")
    listing = deb_listing(deb_build.deb)
    assert set(listing) >= EXPECTED_FILES, sorted(EXPECTED_FILES - set(listing))
    for program in (PLUGIN, EXPORTER, PREFLIGHT):
        assert listing[program].startswith("-rwxr-xr-x"), (program, listing[program])
    # Private modules only: a bare `checks` or `exporter` in site-packages would shadow or be
    # shadowed by any other distribution's; byte code is made on the target by py3compile.
    assert not [p for p in listing if re.search(r"(site|dist)-packages|__pycache__", str(p))]
    python_files = {p for p in listing if p.suffix == ".py"}
    assert all(p.is_relative_to(PRIVATE_MODULES) for p in python_files), python_files


def test_configuration_snippets_are_conffiles(deb_build: DebBuild, tmp_path: Path) -> None:
    control = tmp_path / "control"
    done = run(["dpkg-deb", "-e", deb_build.deb, control])
    assert done.returncode == 0, explain(done)
    assert set((control / "conffiles").read_text().split()) == CONFFILES


def test_plugin_runs_from_the_extraction(deb_root: Path) -> None:
    plugin = deb_root / PLUGIN
    version = run([plugin, "-V"])
    expected = f"check_lvs_arp {release.project_version(REPO_ROOT)}"
    assert version.stdout.strip() == expected, explain(version)
    # The status line and a Monitoring Plugins exit code, whatever this host's verdict.
    # The venv's libraries on PYTHONPATH must not matter: the wrapper runs python3 -I, so
    # this proves the modules work with Debian's python3-* packages.
    venv_libs = Path(nagiosplugin.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(venv_libs)}
    checked = run([plugin, "--role", "realserver", "--vip", VIP], env=env)
    assert checked.returncode in (0, 1, 2, 3), explain(checked)
    assert checked.stdout.startswith("LVS_ARP "), explain(checked)
    assert "Traceback" not in checked.stdout + checked.stderr, explain(checked)


def test_exporter_runs_from_the_extraction(deb_root: Path, tmp_path: Path) -> None:
    exporter = deb_root / EXPORTER
    version = run([exporter, "--version"])
    expected = f"lvs-arp-exporter {release.project_version(REPO_ROOT)}"
    assert version.stdout.strip() == expected, explain(version)
    textfile = tmp_path / "lvs_arp.prom"
    written = run([exporter, "--role", "realserver", "--vip", VIP, "--textfile", textfile])
    assert written.returncode == 0, explain(written)
    assert re.search(r"^lvs_arp_scrape_success ", textfile.read_text(), re.M)


def test_preflight_runs_from_the_extraction(deb_root: Path) -> None:
    preflight = deb_root / PREFLIGHT
    schema = run([preflight, "--schema"])
    assert schema.returncode == 0, explain(schema)
    assert json.loads(schema.stdout)["$schema"].startswith("https://json-schema.org/")
    report = run([preflight, "--role", "realserver", "--vip", VIP, "--json"])
    # Whatever this host's verdict, a machine-readable answer with a documented exit code.
    assert report.returncode in (0, 1, 2, 3), explain(report)
    assert json.loads(report.stdout)["exit_code"] == report.returncode, explain(report)


def test_lintian_reports_no_error_or_warning(deb_build: DebBuild) -> None:
    require("lintian")
    # Source and binary, via the .changes; infos are printed by -I for the CI log.
    judged = run(
        ["lintian", "-I", "--fail-on", "error,warning", deb_build.changes.name],
        cwd=deb_build.changes.parent,
        timeout=180,
    )
    print(judged.stdout)
    assert judged.returncode == 0, explain(judged)


def test_grafana_dashboards_are_shipped_when_the_source_has_them(deb_root: Path) -> None:
    dashboards = sorted(p.name for p in (REPO_ROOT / "packaging" / "grafana").glob("*.json"))
    shipped = sorted(p.name for p in (deb_root / EXAMPLES / "grafana").glob("*.json"))
    assert shipped == dashboards


def test_docs_and_examples_are_not_compressed(deb_root: Path) -> None:
    """Users open them as they are, promtool and kubectl read them, units link to them."""
    compressed = [p for p in (deb_root / DOC_DIR).rglob("*.gz") if p.name != "changelog.gz"]
    assert not compressed, compressed
    docs = sorted(p.name for p in (REPO_ROOT / "docs").glob("*.md"))
    assert sorted(p.name for p in (deb_root / DOC_DIR / "docs").glob("*.md")) == docs


def test_installed_readme_names_only_paths_the_package_has(deb_root: Path) -> None:
    """The source README's packaging/ paths become the installed ones; each must exist."""
    readme = (deb_root / DOC_DIR / "README.md").read_text(encoding="utf-8")
    assert "packaging/" not in readme.replace("tests/packaging/", "")
    assert "../shared" not in readme and "source-only" not in readme
    ours = re.findall(
        r"(?<![\w.-])(/(?:usr/share/doc/lvs-arp-check|usr/share/lvs-arp-check|usr/lib/nagios"
        r"|etc/nagios|etc/default/lvs-arp|usr/bin/lvs-arp|usr/share/icinga2)[^\s`),]*)",
        readme,
    )
    assert len(ours) >= 5, ours
    for path in ours:
        assert (deb_root / path.lstrip("/")).exists(), path
    for link in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", readme):
        assert (deb_root / DOC_DIR / link).exists(), link


def test_units_documentation_exists_uncompressed(deb_root: Path) -> None:
    for unit in UNITS:
        text = (deb_root / UNIT_DIR / unit).read_text(encoding="utf-8")
        targets = " ".join(re.findall(r"^Documentation=(.*)$", text, re.M)).split()
        assert targets, unit
        for target in targets:
            scheme, _, where = target.partition(":")
            if scheme == "man":
                page = re.fullmatch(r"([\w.-]+)\((\d)\)", where)
                assert page, target
                name, section = page.groups()
                assert (deb_root / f"usr/share/man/man{section}/{name}.{section}.gz").is_file()
            else:
                assert scheme == "file", f"{unit}: {target} is not on the host"
                assert (deb_root / where.lstrip("/")).is_file(), f"{unit}: {target}"
