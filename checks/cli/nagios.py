"""check_lvs_arp: the Nagios/Icinga face of the library, on nagiosplugin."""

from __future__ import annotations

import codecs
import io
import re
import sys
from collections.abc import Callable, Iterator, Sequence

import nagiosplugin

from ..assess import Assessment
from ..errors import LvsArpError
from ..finding import Finding, Severity
from ..model import ARP_ANNOUNCE, ARP_IGNORE, Role
from ..record import TYPE_CHECKING
from .nagios_args import build_parser
from .options import node_check
from .text import finding_lines, fix_file_lines

if TYPE_CHECKING:
    from typing import Any

_STATES = {
    Severity.OK: nagiosplugin.Ok,
    Severity.INFO: nagiosplugin.Ok,
    Severity.WARNING: nagiosplugin.Warn,
    Severity.CRITICAL: nagiosplugin.Critical,
    Severity.UNKNOWN: nagiosplugin.Unknown,
}
_COUNTED = (Severity.CRITICAL, Severity.WARNING, Severity.UNKNOWN)
# Pagers and dashboards cut the status line near 90 characters.
STATUS_LINE_MAX = 90


class ArpResource(nagiosplugin.Resource):  # type: ignore[misc]
    """Reads the host once and hands every finding and effective value to the contexts."""

    def __init__(self, options: Any) -> None:
        self.options = options
        self.assessment: Assessment | None = None

    @property
    def name(self) -> str:
        return "LVS_ARP"

    def probe(self) -> Iterator[nagiosplugin.Metric]:
        self.assessment = self._assess()
        # The first finding of each severity is enough for the state and the status line;
        # nagiosplugin's per-result cost would dominate on hosts with thousands of interfaces.
        seen: set[Severity] = set()
        for finding in self.assessment.ranked():
            if finding.severity not in seen:
                seen.add(finding.severity)
                yield nagiosplugin.Metric("finding", finding, context="finding")
        yield nagiosplugin.Metric("perfdata", _perfdata(self.assessment), context="perfdata")

    def _assess(self) -> Assessment:
        opts = self.options
        try:
            return node_check(opts).assess()
        except LvsArpError as err:
            raise nagiosplugin.CheckError(str(err)) from err
        except nagiosplugin.Timeout:
            raise  # -t ran out mid-read: guarded says so, not "internal error"
        except Exception as err:
            if opts.verbose >= 3:
                raise  # nagiosplugin prints the traceback
            raise nagiosplugin.CheckError(f"internal error: {type(err).__name__}: {err}") from err


class FindingContext(nagiosplugin.Context):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__("finding")

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        finding: Finding = metric.value
        return nagiosplugin.Result(_STATES[finding.severity], finding.summary, metric)

    def performance(self, metric: nagiosplugin.Metric, resource: Any) -> None:
        return None


def _perfdata(assessment: Assessment) -> str:
    """Effective values per ARP-capable interface, then finding counts by severity."""
    # Formatted here, not by nagiosplugin.Performance: at 2,000 interfaces its per-value
    # object and quoting logic cost more than reading the values.
    all_ignore, all_announce = assessment.state.all
    values = [
        f"{_label(i.name, ARP_IGNORE)}={max(all_ignore, i.knobs.arp_ignore)} "
        f"{_label(i.name, ARP_ANNOUNCE)}={max(all_announce, i.knobs.arp_announce)}"
        for i in assessment.checked
    ]
    counts = [
        str(nagiosplugin.Performance(s.name.lower(), assessment.count(s), min=0)) for s in _COUNTED
    ]
    return " ".join(values + counts)


def _label(interface: str, param: str) -> str:
    label = f"{interface}_{param}"
    # Perfdata labels with spaces, quotes or '=' must be quoted, a quote doubled.
    if _NEEDS_QUOTES.search(label):
        return "'" + label.replace("'", "''") + "'"
    return label


_NEEDS_QUOTES = re.compile("[ '=\"]")


class PerfdataContext(nagiosplugin.Context):  # type: ignore[misc]
    """All perfdata in one metric: the state comes from the findings, never a threshold."""

    def __init__(self) -> None:
        super().__init__("perfdata")

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        return nagiosplugin.Result(nagiosplugin.Ok, metric=metric)

    def performance(self, metric: nagiosplugin.Metric, resource: Any) -> str:
        # nagiosplugin only str()s what this returns; one pre-joined string keeps it linear.
        return str(metric.value)


class ArpSummary(nagiosplugin.Summary):  # type: ignore[misc]
    def __init__(self, resource: ArpResource) -> None:
        self.resource = resource

    def ok(self, results: nagiosplugin.Results) -> str:
        assessment = self.resource.assessment
        if assessment is None:
            return ""
        vips = ", ".join(str(v) for v in assessment.vips)
        if assessment.role is Role.REALSERVER:
            count = len(assessment.checked)
            verb = "interface hides" if count == 1 else "interfaces hide"
            return f"{count} ARP {verb} VIP {vips}"
        return f"VIP {vips} answered by ARP"

    def problem(self, results: nagiosplugin.Results) -> str:
        # The worst finding alone keeps the status line short; counts are in the perfdata.
        first = results.first_significant
        hint = str(first.hint)
        room = STATUS_LINE_MAX - len(f"LVS_ARP {str(first.state).upper()} - ")
        if len(hint) > room and hint.endswith(")"):
            # Long interface names: drop the "(arp_ignore eff ...)" evidence; -v still has it.
            hint = hint.rsplit(" (", 1)[0]
        return hint

    def verbose(self, results: nagiosplugin.Results) -> list[str]:
        assessment = self.resource.assessment
        if assessment is None:
            return []
        fix_file = fix_file_lines(assessment.findings, assessment.role)
        return finding_lines(assessment.ranked()) + fix_file


def run(argv: Sequence[str]) -> None:
    options = build_parser().parse_args(argv)
    resource = ArpResource(options)
    check = nagiosplugin.Check(resource, FindingContext(), PerfdataContext(), ArpSummary(resource))
    check.name = "LVS_ARP"
    check.main(verbose=options.verbose, timeout=options.timeout)


def _name_bytes_as_escapes(error: UnicodeError) -> tuple[str, int]:
    """Print the bytes of an interface name that is not UTF-8 as \\xNN, as `printable()` does.

    The kernel takes any bytes but '/', ':' and white space as a name; the readers hand one
    that is not UTF-8 on as surrogate escapes, which a strict stdout (a UTF-8 locale other
    than C.UTF-8, or PYTHONIOENCODING) refuses: the whole check would end UNKNOWN.
    """
    if not isinstance(error, UnicodeEncodeError):
        raise error
    raw = error.object[error.start : error.end].encode("utf-8", "surrogateescape")
    return raw.decode("ascii", "backslashreplace"), error.end


def _main() -> None:
    codecs.register_error("lvs_arp.name_bytes_as_escapes", _name_bytes_as_escapes)
    if isinstance(sys.stdout, io.TextIOWrapper):  # a test harness may have replaced it
        sys.stdout.reconfigure(errors="lvs_arp.name_bytes_as_escapes")
    run(sys.argv[1:])


# guarded turns any escaped exception into "LVS_ARP UNKNOWN: ..." and exit 3.
main: Callable[[], None] = nagiosplugin.guarded(verbose=0)(_main)


if __name__ == "__main__":
    main()
