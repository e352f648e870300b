"""The Icinga 2 CheckCommand and example services, proven by `icinga2 daemon -C`.

The CheckCommand is dropped, as the .deb installs it, into a copy of the ITL's include
directory, so `include <plugins-contrib>`'s own `include_recursive "plugins-contrib.d"` loads it
next to every ITL command (a clashing name would fail). Sample hosts opt in to each example.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from required_programs import explain, require, run
from shipped_paths import ICINGA2_COMMAND, ICINGA2_EXAMPLES, NRPE_SNIPPET, nrpe_commands

from checks.cli.nagios_args import build_parser

pytestmark = pytest.mark.daemons

ITL_DIR = Path("/usr/share/icinga2/include")
# icinga2 drops to its Debian user before writing its object cache.
ICINGA2_USER = "nagios"

SAMPLE = """
const PluginDir = "/usr/lib/nagios/plugins"
const PluginContribDir = "/usr/lib/nagios/plugins"
const ManubulonPluginDir = "/usr/lib/nagios/plugins"
const NodeName = "master.example"
const ZoneName = NodeName

include "{itl}/itl"
include "{itl}/plugins"
include "{itl}/plugins-contrib"
include "{examples}/services.conf"
include "{examples}/nrpe.conf"

object Endpoint NodeName {{ }}
object Zone ZoneName {{ endpoints = [ NodeName ] }}

object Endpoint "rs1.example" {{ }}
object Zone "rs1.example" {{ endpoints = [ "rs1.example" ]; parent = ZoneName }}
object Endpoint "lvs1.example" {{ }}
object Zone "lvs1.example" {{ endpoints = [ "lvs1.example" ]; parent = ZoneName }}

template Host "lvs-node" {{
  check_command = "hostalive"
  zone = ZoneName
}}

object Host "rs1.example" {{
  import "lvs-node"
  address = "192.0.2.11"
  vars.agent_endpoint = name
  vars.lvs_arp_role = "realserver"
}}

object Host "lvs1.example" {{
  import "lvs-node"
  address = "192.0.2.2"
  vars.agent_endpoint = name
  vars.lvs_arp_role = "director"
  vars.lvs_arp_vip = [ "192.0.2.100", "192.0.2.101" ]
  vars.lvs_arp_standby_ok = true
}}

object Host "rs2.example" {{
  import "lvs-node"
  address = "192.0.2.12"
  vars.lvs_arp_role = "realserver"
  vars.lvs_arp_nrpe = true
}}

object Host "lvs2.example" {{
  import "lvs-node"
  address = "192.0.2.3"
  vars.lvs_arp_role = "director"
  vars.lvs_arp_nrpe = true
}}

object Host "lvs3.example" {{
  import "lvs-node"
  address = "192.0.2.4"
  vars.lvs_arp_role = "director"
  vars.lvs_arp_nrpe = true
  vars.lvs_arp_standby_ok = true
}}
"""

EXPECTED_SERVICES = {
    "rs1.example!lvs-arp-realserver": "lvs_arp",
    "lvs1.example!lvs-arp-director": "lvs_arp",
    "rs2.example!lvs-arp": "nrpe",
    "lvs2.example!lvs-arp": "nrpe",
    "lvs3.example!lvs-arp": "nrpe",
}
# The NRPE command each NRPE example service asks for: standby_ok as with the direct command.
EXPECTED_NRPE_COMMANDS = {
    "rs2.example!lvs-arp": "check_lvs_arp_realserver",
    "lvs2.example!lvs-arp": "check_lvs_arp_director",
    "lvs3.example!lvs-arp": "check_lvs_arp_director_standby_ok",
}


@pytest.fixture
def icinga2_dir(deb_root: Path, daemon_dir: Path) -> Path:
    """Config, ITL copy and object cache, readable by icinga2's user."""
    require("icinga2")
    path = daemon_dir
    shutil.copytree(ITL_DIR, path / "include")
    shutil.copy(deb_root / ICINGA2_COMMAND, path / "include" / "plugins-contrib.d")
    (path / "cache").mkdir()
    shutil.chown(path / "cache", ICINGA2_USER, ICINGA2_USER)
    sample = SAMPLE.format(itl=path / "include", examples=deb_root / ICINGA2_EXAMPLES)
    (path / "icinga2.conf").write_text(sample, encoding="utf-8")
    return path


def icinga2(workdir: Path, *args: str) -> list[str]:
    return ["icinga2", *args, f"-DConfiguration.CacheDir={workdir / 'cache'}"]


def service_blocks(listing: str) -> dict[str, str]:
    """`icinga2 object list` output, one text block per object name."""
    parts = re.split(r"^Object '([^']+)' of type 'Service':$", listing, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_icinga2_validates_check_command_and_example_services(
    icinga2_dir: Path, deb_root: Path
) -> None:
    config = icinga2_dir / "icinga2.conf"
    validated = run(icinga2(icinga2_dir, "daemon", "-C", "-c", str(config)))
    assert validated.returncode == 0, explain(validated)
    # An apply rule that matches nothing is only a warning: every example must match a host.
    problems = re.findall(r"^.*(?:warning|critical)/.*$", validated.stdout, re.M)
    assert not problems, explain(validated)

    listed = run(icinga2(icinga2_dir, "object", "list", "--type", "Service"))
    assert listed.returncode == 0, explain(listed)
    services = service_blocks(listed.stdout)
    assert set(services) == set(EXPECTED_SERVICES), explain(listed)
    for name, command in EXPECTED_SERVICES.items():
        assert f'* check_command = "{command}"' in services[name], services[name]

    # The NRPE examples name commands the NRPE snippet defines, standby_ok honoured.
    defined = nrpe_commands((deb_root / NRPE_SNIPPET).read_text(encoding="utf-8"))
    for name, command in EXPECTED_NRPE_COMMANDS.items():
        asked = re.findall(r'\* nrpe_command = "([^"]+)"', services[name])
        assert asked == [command] and command in defined, services[name]


def _check_command_arguments(text: str) -> dict[str, str]:
    """Each `"--option" = { ... }` block of the CheckCommand, by option."""
    return dict(re.findall(r'^\t\t"(--[a-z-]+)" = \{\n(.*?)^\t\t\}', text, re.M | re.S))


def _normal(text: str) -> str:
    return text.lower().rstrip(".")


def test_check_command_follows_itl_conventions_and_plugin_help() -> None:
    repo = Path(__file__).resolve().parents[2]
    text = (repo / "packaging" / "icinga2" / "lvs_arp.conf").read_text(encoding="utf-8")
    assert 'object CheckCommand "lvs_arp"' in text
    assert 'command = [ PluginDir + "/check_lvs_arp" ]' in text
    arguments = _check_command_arguments(text)
    # argparse has no public list of its options; _actions is what --help itself walks.
    options = {
        action.option_strings[-1]: action
        for action in build_parser()._actions
        if action.dest not in ("help", "version")
    }
    assert set(arguments) == set(options), "one ITL argument per plugin option, long form"
    for option, block in arguments.items():
        variable = "lvs_arp_" + option.removeprefix("--").replace("-", "_")
        assert re.search(rf'(value|set_if) = "\${variable}\$"', block), (option, block)
        description = re.search(r'description = "([^"]+)"', block)
        help_text = (options[option].help or "").removeprefix("-v: ")
        assert description and _normal(help_text) in _normal(description.group(1)), option
