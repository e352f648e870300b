"""One knob as the kernel sees it on one interface: both raw values and their max."""

from __future__ import annotations

from ..finding import Finding, Fix, Severity
from ..kernel import effective
from ..model import HostState, Interface
from ..record import Record


class KnobReading(Record):
    conf_name: str  # the interface, or "default" for interfaces created later
    param: str
    all_value: int
    own_value: int

    @property
    def effective(self) -> int:
        return effective(self.all_value, self.own_value)

    @property
    def raw(self) -> tuple[tuple[str, int], ...]:
        return (("all", self.all_value), (self.conf_name, self.own_value))

    def describe(self) -> str:
        """e.g. 'arp_ignore eff 0: all=0 eth0=0', the evidence shown after every verdict."""
        return (
            f"{self.param} eff {self.effective}: "
            f"all={self.all_value} {self.conf_name}={self.own_value}"
        )

    def finding(
        self,
        severity: Severity,
        summary: str,
        detail: str,
        vip: str | None = None,
        fix: Fix | None = None,
    ) -> Finding:
        return Finding(
            severity=severity,
            summary=f"{summary} ({self.describe()})",
            subject=self.conf_name,
            parameter=self.param,
            raw=self.raw,
            effective=self.effective,
            vip=vip,
            detail=detail,
            fix=fix or Fix(),
        )


def reading(state: HostState, interface: Interface, param: str) -> KnobReading:
    return KnobReading(interface.name, param, state.all.get(param), interface.knobs.get(param))


def new_interface_reading(state: HostState, param: str) -> KnobReading:
    """A new VLAN or bond copies conf/default when it is created (ARP-SEMANTICS §1)."""
    return KnobReading("default", param, state.all.get(param), state.default.get(param))
