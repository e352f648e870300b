"""Where the .deb puts what these tests prove, relative to its root, and how to read it."""

from __future__ import annotations

import re
from pathlib import Path

INSTALLED_PLUGIN = "/usr/lib/nagios/plugins/check_lvs_arp"
PLUGIN = Path(INSTALLED_PLUGIN.lstrip("/"))
EXPORTER = Path("usr/bin/lvs-arp-exporter")
PREFLIGHT = Path("usr/bin/lvs-arp-preflight")
PRIVATE_MODULES = Path("usr/share/lvs-arp-check")
NRPE_SNIPPET = Path("etc/nagios/nrpe.d/lvs_arp.cfg")
NAGIOS_COMMANDS = Path("etc/nagios-plugins/config/lvs_arp.cfg")
ICINGA2_COMMAND = Path("usr/share/icinga2/include/plugins-contrib.d/lvs_arp.conf")
DOC_DIR = Path("usr/share/doc/lvs-arp-check")
EXAMPLES = DOC_DIR / "examples"
ICINGA2_EXAMPLES = EXAMPLES / "icinga2"
EXPORTER_DEFAULTS = Path("etc/default/lvs-arp-exporter")
UNIT_DIR = Path("lib/systemd/system")
EXPORTER_UNIT = "lvs-arp-exporter.service"
TEXTFILE_UNIT = "lvs-arp-exporter-textfile.service"
TEXTFILE_TIMER = "lvs-arp-exporter-textfile.timer"
UNITS = (EXPORTER_UNIT, TEXTFILE_UNIT, TEXTFILE_TIMER)
MAN_DIR = Path("usr/share/man/man1")
# program -> its hand-written page in the source tree.
MAN_PAGES = {
    "check_lvs_arp": "packaging/man/check_lvs_arp.1",
    "lvs-arp-exporter": "packaging/man/lvs-arp-exporter.1",
    "lvs-arp-preflight": "packaging/man/lvs-arp-preflight.1",
}
# The preflight's JSON schema: automation validates --json against the installed copy.
PREFLIGHT_SCHEMA = Path("usr/share/lvs-arp-check/checks/cli/preflight.schema.json")


def nrpe_commands(snippet_text: str) -> dict[str, str]:
    """`command[NAME]=LINE` entries of an NRPE config, by NAME."""
    return dict(re.findall(r"^command\[([^\]]+)\]=(.*)$", snippet_text, re.M))
