"""What to read (live, or files under the roots) and which role to judge it for.

Every front end asks the same question: the plugin once per poll, the preflight once, the
exporter once per scrape. This record holds the parsed answer to its options and asks it.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address

from .assess import Assessment, assess
from .boot.reboot import read_boot
from .model import Role
from .read.host import read_host
from .record import Record


class NodeCheck(Record):
    role: Role
    vips: tuple[IPv4Address, ...] = ()
    exclude: re.Pattern[str] | None = None
    standby_ok: bool = False
    proc_root: str | None = None
    sys_root: str | None = None
    ip_json: str | None = None
    # Where the boot configuration (sysctl.d) is read; None: the boot check is off.
    sysctl_root: str | None = None

    def assess(self) -> Assessment:
        """Read the host afresh and judge it, with its boot view when that is on."""
        state = read_host(self.proc_root, self.sys_root, self.ip_json)
        boot = read_boot(state, self.sysctl_root)
        return assess(state, self.role, self.vips, self.exclude, self.standby_ok, boot)
