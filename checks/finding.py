"""A finding is one root cause a person can change, with what it affects and its fix, as data.

One sysctl entry, one VIP placement or one boot file: never one finding per interface and
VIP. The faces (cli/, exporter/) word it; nothing here is text meant for a person, so
nothing downstream parses text another module wrote.
"""

from __future__ import annotations

import enum
from ipaddress import IPv4Address

from .record import TYPE_CHECKING, Record

if TYPE_CHECKING:
    from .boot.view import BootSetting
    from .model import Address
    from .read.arp_probe import Responder


class Severity(enum.IntEnum):
    """Ordered so that max() gives the worst; INFO is a remark that does not raise the state."""

    OK = 0
    INFO = 1
    WARNING = 2
    CRITICAL = 3
    UNKNOWN = 4


class Cause(enum.Enum):
    """What kind of root cause a finding is; the faces word each kind."""

    # A knob (conf entry) at fault: Finding.parameter, conf and value say which.
    REPLY_LEAK = "reply_leak"  # a real server answers ARP for VIPs
    ANNOUNCE_LEAK = "announce_leak"  # a real server puts VIPs in its own ARP requests
    SILENT = "silent"  # arp_ignore 8: no ARP even for the interface's own address
    NEW_INTERFACE_RISK = "new_interface_risk"  # conf/default: interfaces created later
    VIP_UNANSWERED = "vip_unanswered"  # a director's VIP holder answers no ARP for it
    UNUSUAL_VALUE = "unusual_value"  # a director value that works but is not the usual 0
    VIP_FLUX = "vip_flux"  # a director's other NIC on the VIP's LAN answers for it too
    NO_EFFECT = "no_effect"  # lo's or a NOARP interface's own value: the kernel never reads it
    # Sound knobs, grouped: one OK finding per check, for reports that list what passed.
    REPLY_HIDDEN = "reply_hidden"
    ANNOUNCE_HIDDEN = "announce_hidden"
    VIP_ANSWERED = "vip_answered"
    # A VIP's placement: Finding.addresses holds the addresses concerned.
    VIP_PLACED = "vip_placed"  # where the role wants it: OK
    VIP_ABSENT = "vip_absent"
    VIP_ON_ARP_INTERFACE = "vip_on_arp_interface"  # a real server answers for it
    VIP_WIDE_MASK = "vip_wide_mask"  # a prefix wider than /32 routes a subnet to the node
    VIP_HOLDER_DOWN = "vip_holder_down"
    VIP_NOT_HELD = "vip_not_held"  # a director without the VIP (a keepalived BACKUP?)
    VIP_HIDDEN_UNANSWERED = "vip_hidden_unanswered"  # director: VIP only on lo, no answer
    VIP_ANSWERED_BY_ACCIDENT = "vip_answered_by_accident"  # director: lo, any-address answer
    # The reboot and its files.
    LOST_AT_REBOOT = "lost_at_reboot"  # sound now; sysctl.d would not restore the value
    BOOT_FILE = "boot_file"  # a boot file or line that cannot be read or applied
    # The host as a whole.
    ROLE_DOUBT = "role_doubt"  # IPVS tables contradict the declared role
    NO_VIP = "no_vip"
    # What the ARP probe heard on the wire (--probe-arp; judge/probe.py): one finding per VIP,
    # Finding.responders the machines that answered, Finding.interfaces where it listened.
    PROBE_OK = "probe_ok"  # the expected holder alone answers (or, on a director, nobody else)
    PROBE_FOREIGN_RESPONDER = "probe_foreign_responder"  # a real server answers for the VIP
    PROBE_SPLIT_BRAIN = "probe_split_brain"  # a second director answers for it
    PROBE_UNREACHABLE = "probe_unreachable"  # nobody answers: the VIP is unreachable
    PROBE_STANDBY_ACTIVE = "probe_standby_active"  # standby: the active director answers
    PROBE_LOCAL_RESPONDER = "probe_local_responder"  # another NIC of this host answers
    PROBE_SEVERAL = "probe_several"  # a real server hears several machines answer
    PROBE_INCOMPLETE = "probe_incomplete"  # the probe stopped at its frame bound
    PROBE_NOT_HELD = "probe_not_held"  # a director without the VIP hears others answer
    # Layouts operators run (issue 10); Finding.evidence holds the routes or rules read.
    OFFLINK_UNANSWERED = "offlink_unanswered"  # arp_ignore 2: off-subnet neighbours unanswered
    SUBNET_ONLY = "subnet_only"  # arp_ignore 2, no off-subnet neighbour known: OK, what 2 implies
    UNNUMBERED_UNREACHABLE = "unnumbered_unreachable"  # no address, arp_ignore >= 1: no ARP
    ARP_FILTERED = "arp_filtered"  # arptables/nft rules hide what the sysctls would leak
    RULES_UNREAD = "rules_unread"  # ARP or NAT rules could not be read: sysctls judged alone
    VIP_REDIRECTED = "vip_redirected"  # no VIP address, a nat rule takes its traffic: sound
    KUBE_STRICT_ARP = "kube_strict_arp"  # kube-proxy IPVS node without strictARP


class SysctlSetting(Record):
    """One sysctl entry and a value: `net.ipv4.conf.<conf_name>.<parameter> = <value>`."""

    conf_name: str  # "all", "default" or an interface name as the kernel spells it
    parameter: str  # arp_ignore or arp_announce
    value: int


class Fix(Record):
    """What would make the finding go away; the library never applies it.

    `settings` go into the role's sysctl.d file (judge/remedy.py spells them); `commands`
    are shell commands for what no sysctl can change (an `ip addr` for a VIP's placement).
    """

    settings: tuple[SysctlSetting, ...] = ()
    commands: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.settings or self.commands)


NO_FIX = Fix()


class BootEvidence(Record):
    """Why the next boot differs from now, or what is wrong with a boot file.

    For LOST_AT_REBOOT: the entry's value at boot and the sysctl.d line that decides it
    (`source` None: no line does, so the kernel's 0 stays; `copied_default`: conf/default's
    value is copied into an interface created after systemd-sysctl runs). `override`: a
    line that would still beat the role's fix file, to be changed where it is.
    For BOOT_FILE: the file, line, kind and the resolver's account of the problem.
    """

    at_boot: int | None = None
    source: BootSetting | None = None
    copied_default: bool = False
    override: BootSetting | None = None
    path: str | None = None
    line: int | None = None
    kind: str | None = None
    message: str | None = None


class Finding(Record):
    """One root cause. A NamedTuple, not a dataclass: built on every NRPE poll.

    - `parameter`, `conf`, `value`: the knob at fault (arp_ignore/arp_announce, the conf
      entry and its raw value). `conf` None with a parameter means each affected
      interface's own entry, all holding `value` (they outbid conf/all).
    - `all_value`: conf/all's raw value, the evidence beside `value`; the effective value
      on every affected interface is max(all_value, value) (ARP-SEMANTICS §1).
    - `interfaces`, `vips`: everything the cause affects, all of them, in host order.
    - `addresses`: for a placement cause, the VIP addresses concerned.
    - `consequences`: for LOST_AT_REBOOT, the causes the boot view would have.
    - `evidence`: what was read that decides the cause, as the reader prints it: the routes
      to off-subnet neighbours, the ARP or NAT rules, the rule sources that were unreadable.
    """

    severity: Severity
    cause: Cause
    parameter: str | None = None
    conf: str | None = None
    value: int | None = None
    all_value: int | None = None
    interfaces: tuple[str, ...] = ()
    vips: tuple[IPv4Address, ...] = ()
    addresses: tuple[Address, ...] = ()
    fix: Fix = NO_FIX
    after_reboot: bool = False
    boot: BootEvidence | None = None
    consequences: tuple[Cause, ...] = ()
    # For a PROBE_* cause: every machine that answered ARP for the VIP (read.arp_probe.Responder:
    # mac, ips, is_real_server, is_local), the ones the verdict is about first.
    responders: tuple[Responder, ...] = ()
    evidence: tuple[str, ...] = ()

    @property
    def effective(self) -> int | None:
        """The value the kernel uses on the affected interfaces, or None for no knob."""
        if self.value is None:
            return None
        return self.value if self.all_value is None else max(self.all_value, self.value)

    @property
    def is_problem(self) -> bool:
        return self.severity >= Severity.WARNING


# Causes that are a VIP's placement (the fix is an `ip addr` command, not a sysctl).
PLACEMENT_CAUSES = frozenset(
    {
        Cause.VIP_ABSENT,
        Cause.VIP_ON_ARP_INTERFACE,
        Cause.VIP_WIDE_MASK,
        Cause.VIP_HOLDER_DOWN,
        Cause.VIP_NOT_HELD,
        Cause.VIP_HIDDEN_UNANSWERED,
        Cause.VIP_ANSWERED_BY_ACCIDENT,
    }
)
# Causes by which an interface answers or announces a VIP it must not, or fails to answer.
LEAK_CAUSES = frozenset(
    {
        Cause.REPLY_LEAK,
        Cause.ANNOUNCE_LEAK,
        Cause.VIP_UNANSWERED,
        Cause.VIP_FLUX,
        Cause.OFFLINK_UNANSWERED,
        Cause.UNNUMBERED_UNREACHABLE,
        Cause.KUBE_STRICT_ARP,
    }
)
