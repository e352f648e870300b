"""packaging/ansible/preflight.yml: valid YAML, the command it runs works, what it reads exists.

Ansible itself is not installed here; the play is checked as data and its command is run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from fake_host import FakeHost

import checks

PLAY = Path(__file__).resolve().parents[2] / "packaging" / "ansible" / "preflight.yml"
SCHEMA = json.loads((Path(checks.__file__).parent / "cli" / "preflight.schema.json").read_text())
VIP = "10.0.0.100"


def tasks() -> list[dict[str, Any]]:
    (play,) = yaml.safe_load(PLAY.read_text())
    assert play["gather_facts"] is False
    found: list[dict[str, Any]] = play["tasks"]
    return found


def command_task() -> dict[str, Any]:
    (task,) = [t for t in tasks() if "ansible.builtin.command" in t]
    return task


def test_the_play_runs_the_preflight_with_json_and_registers_it() -> None:
    task = command_task()
    argv = task["ansible.builtin.command"]["argv"]
    assert argv[0] == "lvs-arp-preflight"
    assert "--json" in argv and "{{ vip }}" in argv
    assert task["register"] == "preflight"
    assert task["changed_when"] is False  # it only reads the host


def test_the_node_is_kept_out_unless_the_exit_code_is_allowed() -> None:
    (play,) = yaml.safe_load(PLAY.read_text())
    assert play["vars"]["preflight_allowed_rcs"] == [0]
    (gate,) = [t for t in tasks() if "ansible.builtin.assert" in t]
    assert gate["ansible.builtin.assert"]["that"] == "preflight.rc in preflight_allowed_rcs"
    shown = [t for t in tasks() if "ansible.builtin.debug" in t]
    assert shown and "report.sysctl_file" in json.dumps(shown)


def test_every_report_field_the_play_reads_is_in_the_schema() -> None:
    used = set(re.findall(r"report\.(\w+)", PLAY.read_text()))
    assert used and used <= set(SCHEMA["properties"]), used - set(SCHEMA["properties"])
    for name in re.findall(r"report\.counts\.(\w+)", PLAY.read_text()):
        assert name in SCHEMA["properties"]["counts"]["properties"]
    for name in re.findall(r"attribute='(\w+)'|'(status)'", PLAY.read_text()):
        assert {n for n in name if n} <= set(SCHEMA["$defs"]["check"]["properties"])


def test_the_command_of_the_play_runs_and_answers_json(tmp_path: Path) -> None:
    host = FakeHost(1, 2, 1, 2).loopback(f"{VIP}/32").interface("eth0", "10.0.0.10/24")
    tree = host.write(tmp_path / "tree")
    root = host.write_boot_config(tmp_path / "image")
    argv = [
        arg.replace("{{ lvs_role }}", "realserver").replace("{{ vip }}", VIP)
        for arg in command_task()["ansible.builtin.command"]["argv"]
    ]
    argv[0] = os.path.join(os.path.dirname(sys.executable), argv[0])
    done = subprocess.run(
        [*argv, *tree.plugin_args(), f"--sysctl-root={root}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    report = json.loads(done.stdout)
    jsonschema.validate(report, SCHEMA)
    assert (done.returncode, report["safe_to_add"]) == (0, True)
