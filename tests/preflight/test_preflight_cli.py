"""lvs-arp-preflight as automation runs it: a subprocess, its exit code, its report and JSON.

Every --json document is validated against the shipped schema.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fake_host import FakeHost

import checks

PREFLIGHT = os.path.join(os.path.dirname(sys.executable), "lvs-arp-preflight")
SCHEMA_PATH = Path(checks.__file__).parent / "cli" / "preflight.schema.json"
VIP = "10.0.0.100"
ON_LINK = "10.0.0.10/24"
SAFE, WARN, FAIL, UNJUDGED = 0, 1, 2, 3
REALSERVER_FILE = "/etc/sysctl.d/90-lvs-realserver.conf"


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str

    def document(self) -> dict[str, Any]:
        """The --json output, checked against the schema and its own invariants."""
        found: dict[str, Any] = json.loads(self.stdout)
        jsonschema.validate(found, schema())
        assert found["exit_code"] == self.returncode
        assert found["safe_to_add"] is (self.returncode == SAFE)
        assert sum(found["counts"].values()) == len(found["checks"])
        return found


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return loaded


def run_preflight(*args: str) -> Run:
    done = subprocess.run(
        [PREFLIGHT, *args], capture_output=True, text=True, timeout=60, check=False
    )
    return Run(done.returncode, done.stdout, done.stderr)


def preflight(tmp_path: Path, host: FakeHost, *args: str, persisted: FakeHost | None = None) -> Run:
    """Judge *host*'s tree; the boot files persist *persisted*'s knobs (none by default)."""
    tree = host.write(tmp_path / "tree")
    root = tmp_path / "image"
    (root / "etc/sysctl.d").mkdir(parents=True)
    if persisted is not None:
        persisted.write_boot_config(root)
    return run_preflight(*tree.plugin_args(), f"--sysctl-root={root}", *args)


def sound_realserver() -> FakeHost:
    return FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK)


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


def test_schema_prints_the_shipped_schema_without_other_arguments() -> None:
    result = run_preflight("--schema")
    assert (result.returncode, result.stderr) == (SAFE, "")
    assert json.loads(result.stdout) == schema()


def test_a_sound_persisted_node_is_safe_to_add(tmp_path: Path) -> None:
    host = sound_realserver()
    result = preflight(tmp_path, host, "-r", "realserver", "--json", persisted=host)
    found = result.document()
    assert result.returncode == SAFE
    assert (found["role"], found["vips"], found["boot_checked"]) == ("realserver", [VIP], True)
    assert found["counts"] == {"PASS": len(found["checks"]), "WARN": 0, "FAIL": 0}
    assert (found["sysctl_file"], found["commands"], found["error"]) == (None, [], None)


def test_values_that_a_reboot_would_lose_are_warnings_with_the_file_that_keeps_them(
    tmp_path: Path,
) -> None:
    result = preflight(tmp_path, sound_realserver(), "-r", "realserver", "--json")
    found = result.document()
    assert result.returncode == WARN
    warned = [c for c in found["checks"] if c["status"] == "WARN"]
    assert warned and all(c["after_reboot"] for c in warned)
    (reply,) = [
        c
        for c in warned
        if c["setting"]["parameter"] == "arp_ignore" and c["setting"]["conf"] == "all"
    ]
    assert reply["cause"] == "lost_at_reboot"
    assert reply["summary"] == f"on reboot eth0 answers ARP for VIP {VIP} (all.arp_ignore=1 lost)"
    assert reply["setting"] == {
        "parameter": "arp_ignore",
        "conf": "all",
        "value": 1,
        "all_value": 1,
        "effective": 1,
    }
    assert (reply["interfaces"], reply["vips"]) == (["eth0"], [VIP])
    assert reply["boot"]["at_boot"] == 0 and reply["boot"]["source"] is None
    assert reply["consequences"] == ["reply_leak", "new_interface_risk"]
    assert reply["fix"] == {
        "settings": [{"conf": "all", "parameter": "arp_ignore", "value": 1}],
        "sysctl_lines": ["net.ipv4.conf.all.arp_ignore = 1"],
        "commands": [],
    }
    assert found["sysctl_file"]["path"] == REALSERVER_FILE
    assert found["sysctl_file"]["content"].endswith(
        "net.ipv4.conf.all.arp_ignore = 1\nnet.ipv4.conf.all.arp_announce = 2\n"
        "net.ipv4.conf.default.arp_ignore = 1\nnet.ipv4.conf.default.arp_announce = 2\n"
    )


def test_the_document_is_schema_version_2_and_validates(tmp_path: Path) -> None:
    host = FakeHost(0, 0, 0, 0).loopback(f"{VIP}/32", "10.0.0.101/24")
    host.interface("eth0", ON_LINK, "10.0.0.102/32").interface("eth1", "192.168.5.1/24", ignore=8)
    vips = [f"--vip={v}" for v in (VIP, "10.0.0.101", "10.0.0.102")]
    found = preflight(tmp_path, host, "-r", "realserver", *vips, "--json").document()
    assert found["schema_version"] == 2
    assert schema()["properties"]["schema_version"]["const"] == 2
    # Every kind of check this host gives is in the document, each valid on its own.
    causes = {c["cause"] for c in found["checks"]}
    assert {"reply_leak", "announce_leak", "vip_wide_mask", "vip_on_arp_interface", "silent"} <= (
        causes
    )
    (wide,) = [c for c in found["checks"] if c["cause"] == "vip_wide_mask"]
    assert wide["addresses"] == [{"address": "10.0.0.101/24", "interface": "lo", "scope": 0}]
    broken = json.loads(json.dumps(found))
    broken["checks"][0]["cause"] = 7
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema())


def test_forty_interfaces_behind_conf_all_are_one_check_listing_all(tmp_path: Path) -> None:
    host = FakeHost(0, 2, 1, 2).loopback(f"{VIP}/32")
    for n in range(40):
        host.interface(f"eth{n}", f"192.168.{n}.10/24")
    found = preflight(tmp_path, host, "-r", "realserver", "--json", persisted=host).document()
    (leak,) = [c for c in found["checks"] if c["cause"] == "reply_leak"]
    assert leak["interface_count"] == 40
    assert sorted(leak["interfaces"]) == sorted(f"eth{n}" for n in range(40))
    assert leak["fix"]["sysctl_lines"] == ["net.ipv4.conf.all.arp_ignore = 1"]
    assert found["counts"]["FAIL"] == 1


def test_names_in_the_document_are_printable_and_distinct(tmp_path: Path) -> None:
    raw = os.fsdecode(b"v\xff")
    host = FakeHost(0, 2, 1, 2).loopback(f"{VIP}/32")
    host.interface(raw, "192.168.9.1/24").interface("v\\xff", "192.168.8.1/24")
    found = preflight(tmp_path, host, "-r", "realserver", "--json").document()
    (leak,) = [c for c in found["checks"] if c["cause"] == "reply_leak"]
    assert sorted(leak["interfaces"]) == sorted(["v\\xff", "v\\\\xff"])


def test_a_leaking_node_fails_and_every_fix_line_is_in_the_file(tmp_path: Path) -> None:
    host = FakeHost().loopback().interface("eth0", ON_LINK).interface("eth0.100", "10.1.0.1/24")
    result = preflight(tmp_path, host, "-r", "realserver", f"--vip={VIP}", "--json")
    found = result.document()
    assert result.returncode == FAIL
    assert found["checks"][0]["status"] == "FAIL"  # worst first
    keys = {line.split(" = ")[0] for line in found["sysctl_file"]["content"].splitlines()}
    for check in found["checks"]:
        assert {line.split(" = ")[0] for line in check["fix"]["sysctl_lines"]} <= keys, check
    assert found["commands"] == [f"ip addr add {VIP}/32 dev lo"]


def test_a_director_gets_its_own_file(tmp_path: Path) -> None:
    host = FakeHost(8, 0, 0, 0, virtual_services=(VIP,)).loopback()
    host.interface("eth0", ON_LINK, f"{VIP}/32")
    found = preflight(tmp_path, host, "-r", "director", "--json", persisted=host).document()
    assert found["exit_code"] == FAIL
    assert found["sysctl_file"]["path"] == "/etc/sysctl.d/90-lvs-director.conf"
    assert "net.ipv4.conf.all.arp_ignore = 0\n" in found["sysctl_file"]["content"]


def test_no_boot_check_judges_the_running_values_only(tmp_path: Path) -> None:
    args = ("-r", "realserver", "--json", "--no-boot-check")
    found = preflight(tmp_path, sound_realserver(), *args).document()
    assert (found["exit_code"], found["boot_checked"]) == (SAFE, False)


UNJUDGED_ARGS = {
    "no-vip-found": ([], "no VIP given and none found"),
    "not-an-address": (["--vip=10.0.0.300"], "--vip '10.0.0.300' is not an IPv4 address"),
    "bad-regex": (["--exclude-interface=eth("], "is not a valid regex"),
    "no-such-sysctl-root": (["--sysctl-root=/nonexistent"], "is not a directory"),
}


@pytest.mark.parametrize(("args", "reason"), UNJUDGED_ARGS.values(), ids=UNJUDGED_ARGS)
def test_what_cannot_be_judged_exits_3_and_says_why(
    tmp_path: Path, args: list[str], reason: str
) -> None:
    host = FakeHost(1, 2, 1, 2).loopback().interface("eth0", ON_LINK)
    result = preflight(tmp_path, host, "-r", "realserver", *args, "--json", persisted=host)
    found = result.document()
    assert result.returncode == UNJUDGED
    assert reason in (found["error"] or found["checks"][0]["summary"])
    assert "Traceback" not in result.stdout + result.stderr


def test_bad_arguments_exit_3_with_a_json_error_when_json_was_asked() -> None:
    result = run_preflight("--json", "--role", "balancer")
    assert result.returncode == UNJUDGED
    assert "usage: lvs-arp-preflight" in result.stderr
    found = result.document()
    assert found["role"] is None and "invalid choice" in found["error"]


def test_the_report_has_a_line_per_check_then_the_fix(tmp_path: Path) -> None:
    host = FakeHost(0, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", ON_LINK)
    result = preflight(tmp_path, host, "-r", "realserver", persisted=host)
    assert (result.returncode, result.stderr) == (FAIL, "")
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"lvs-arp-preflight: real server, VIP {VIP}: NOT safe to add (1 FAIL, 0 WARN, 2 PASS)"
    )
    checks_shown = [line for line in lines if re.match(r"(PASS|WARN|FAIL)  \S", line)]
    assert len(checks_shown) == 3
    assert checks_shown == [
        f"FAIL  eth0 answers ARP for VIP {VIP} (all.arp_ignore=0)",
        f"PASS  VIP {VIP} on lo",
        "PASS  1 ARP interface keeps the VIPs out of ARP requests (all.arp_announce=2)",
    ]
    assert lines[lines.index(checks_shown[0]) + 2] == "      fix: net.ipv4.conf.all.arp_ignore = 1"
    at = lines.index("Fix (printed only: nothing was changed on this host):")
    assert lines[at + 1 :] == [
        f"  write {REALSERVER_FILE}:",
        "    # LVS-DR real server: keep the VIPs out of ARP, now and after reboots.",
        "    # Written for this host's interfaces by lvs-arp-check; review it, then load it now",
        f"    # with: sysctl -p {REALSERVER_FILE}",
        "    net.ipv4.conf.all.arp_ignore = 1",
        f"  then load it now: sysctl -p {REALSERVER_FILE}",
    ]


def test_help_documents_the_exit_codes() -> None:
    result = run_preflight("--help")
    assert result.returncode == SAFE
    text = " ".join(result.stdout.split())
    for meaning in ("0 safe to add", "1 warnings only", "2 at least one FAIL", "3 could not"):
        assert meaning in text
