"""The Nagios Core 4 command definitions, proven by `nagios4 -v` on a minimal configuration.

nagios4 checks only the commands that objects use, so each definition is used by a service.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from required_programs import explain, require, run
from shipped_paths import NAGIOS_COMMANDS, NRPE_SNIPPET, nrpe_commands

pytestmark = pytest.mark.daemons

NAGIOS_USER = "nagios"  # Debian's nagios4 runs as nagios:nagios

SERVICES = {
    "check_lvs_arp_realserver": "check_lvs_arp_realserver!--vip 192.0.2.100",
    "check_lvs_arp_director": "check_lvs_arp_director!--vip 192.0.2.100 --standby-ok",
    "check_lvs_arp_realserver_nrpe": "check_lvs_arp_realserver_nrpe",
    "check_lvs_arp_director_nrpe": "check_lvs_arp_director_nrpe",
    "check_lvs_arp_director_standby_ok_nrpe": "check_lvs_arp_director_standby_ok_nrpe",
}

OBJECTS = """
define timeperiod {
    timeperiod_name  24x7
    alias            always
    monday           00:00-24:00
    tuesday          00:00-24:00
    wednesday        00:00-24:00
    thursday         00:00-24:00
    friday           00:00-24:00
    saturday         00:00-24:00
    sunday           00:00-24:00
}
define command {
    command_name  notify-none
    command_line  /bin/true
}
define command {
    command_name  check-host-alive
    command_line  $USER1$/check_ping -H $HOSTADDRESS$ -w 3000.0,80% -c 5000.0,100% -p 1
}
define contact {
    contact_name                   admin
    host_notification_period       24x7
    service_notification_period    24x7
    host_notification_options      d,u,r
    service_notification_options   w,u,c,r
    host_notification_commands     notify-none
    service_notification_commands  notify-none
}
define host {
    host_name              rs1.example
    address                192.0.2.11
    check_command          check-host-alive
    max_check_attempts     3
    check_period           24x7
    notification_interval  0
    notification_period    24x7
    contacts               admin
}
"""

SERVICE = """
define service {{
    host_name              rs1.example
    service_description    {name}
    check_command          {command}
    max_check_attempts     3
    check_interval         5
    retry_interval         1
    check_period           24x7
    notification_interval  0
    notification_period    24x7
    contacts               admin
}}
"""


def write_config(workdir: Path, commands: Path) -> Path:
    # nagios4 -v checks that its user may write these, as the running daemon would.
    spool = workdir / "spool"
    (spool / "checkresults").mkdir(parents=True)
    for path in (spool, spool / "checkresults"):
        shutil.chown(path, NAGIOS_USER, NAGIOS_USER)
    (workdir / "resource.cfg").write_text("$USER1$=/usr/lib/nagios/plugins\n", encoding="utf-8")
    services = "".join(SERVICE.format(name=n, command=c) for n, c in SERVICES.items())
    (workdir / "objects.cfg").write_text(OBJECTS + services, encoding="utf-8")
    main = workdir / "nagios.cfg"
    main.write_text(
        "\n".join(
            [
                f"cfg_file={commands}",
                f"cfg_file={workdir / 'objects.cfg'}",
                f"resource_file={workdir / 'resource.cfg'}",
                f"log_file={workdir / 'nagios.log'}",
                f"status_file={workdir / 'status.dat'}",
                f"temp_file={workdir / 'nagios.tmp'}",
                f"temp_path={spool}",
                f"lock_file={workdir / 'nagios.lock'}",
                f"object_cache_file={workdir / 'objects.cache'}",
                f"precached_object_file={workdir / 'objects.precache'}",
                f"state_retention_file={workdir / 'retention.dat'}",
                f"check_result_path={spool / 'checkresults'}",
                f"command_file={workdir / 'nagios.cmd'}",
                f"nagios_user={NAGIOS_USER}",
                f"nagios_group={NAGIOS_USER}",
                "illegal_macro_output_chars=`~$&|'\"<>",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return main


def test_nagios4_accepts_the_command_definitions(deb_root: Path, daemon_dir: Path) -> None:
    require("nagios4")
    commands = deb_root / NAGIOS_COMMANDS
    defined = set(re.findall(r"^\s*command_name\s+(\S+)", commands.read_text(), re.M))
    assert defined == set(SERVICES), "every shipped command is used by a service below"

    verified = run(["nagios4", "-v", write_config(daemon_dir, commands)])
    assert verified.returncode == 0, explain(verified)
    assert re.search(r"^Total Warnings:\s+0$", verified.stdout, re.M), explain(verified)
    assert re.search(r"^Total Errors:\s+0$", verified.stdout, re.M), explain(verified)
    assert f"Checked {len(SERVICES)} services." in verified.stdout, explain(verified)


def test_nrpe_commands_ask_for_what_the_nrpe_snippet_defines(deb_root: Path) -> None:
    text = (deb_root / NAGIOS_COMMANDS).read_text(encoding="utf-8")
    asked = re.findall(r"check_nrpe -H \$HOSTADDRESS\$ -c (\S+)", text)
    defined = nrpe_commands((deb_root / NRPE_SNIPPET).read_text(encoding="utf-8"))
    assert asked and set(asked) == set(defined)
    local = re.findall(r"\$USER1\$/check_lvs_arp (.*)$", text, re.M)
    assert len(local) == 2 and all(line.startswith("--role ") for line in local)
