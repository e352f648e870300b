"""check_lvs_arp: the Nagios/Icinga face of the library, on nagiosplugin.

Output is bounded whatever the host's size: a status line of at most 90 characters (the
worst cause, then "(+N more)"), long output (-v) of at most 8 KB grouped by cause, and a
fixed set of perfdata unless per-interface values are asked for. --probe-arp adds what
the wire says (checks/judge/probe.py) as findings like any other.
"""

from __future__ import annotations

import codecs
import io
import re
import sys
from collections.abc import Callable, Iterator, Sequence

import nagiosplugin

from ..assess import Assessment
from ..errors import LvsArpError
from ..finding import LEAK_CAUSES, Cause, Severity
from ..model import Role
from ..names import printable
from ..record import TYPE_CHECKING
from .nagios_args import STATUS_LINE_MAX, build_parser, error_line, no_pipe
from .options import node_check
from .text import (
    PROBE_CAUSES,
    finding_lines,
    fix_file_lines,
    names,
    probe_ok_note,
    summary,
    vips_text,
    within_budget,
)

if TYPE_CHECKING:
    from typing import Any

NAME = "LVS_ARP"
_STATES = {
    Severity.OK: nagiosplugin.Ok,
    Severity.INFO: nagiosplugin.Ok,
    Severity.WARNING: nagiosplugin.Warn,
    Severity.CRITICAL: nagiosplugin.Critical,
    Severity.UNKNOWN: nagiosplugin.Unknown,
}
_COUNTED = (Severity.CRITICAL, Severity.WARNING, Severity.UNKNOWN)


class ArpResource(nagiosplugin.Resource):  # type: ignore[misc]
    """Reads the host once and hands the worst cause and the perfdata to the contexts."""

    def __init__(self, options: Any) -> None:
        self.options = options
        self.assessment: Assessment | None = None

    @property
    def name(self) -> str:
        return NAME

    def probe(self) -> Iterator[nagiosplugin.Metric]:
        self.assessment = assessment = self._assess()
        ranked = assessment.ranked()
        # One result: nagiosplugin's state is the worst, and the summary words it.
        yield nagiosplugin.Metric("finding", ranked[0] if ranked else None, context="finding")
        yield nagiosplugin.Metric("perfdata", self._perfdata(assessment), context="perfdata")

    def _assess(self) -> Assessment:
        opts = self.options
        try:
            return node_check(opts).assess()
        except LvsArpError as err:
            _whole_message(str(err))
            raise nagiosplugin.CheckError(str(err)) from err
        except nagiosplugin.Timeout:
            raise  # -t ran out mid-read: run() says so, not "internal error"
        except Exception as err:
            if opts.verbose >= 3:
                raise  # nagiosplugin prints the traceback
            raise nagiosplugin.CheckError(f"internal error: {type(err).__name__}: {err}") from err

    def _perfdata(self, assessment: Assessment) -> str:
        return perfdata(assessment, self.options.perfdata_interfaces)


def perfdata(assessment: Assessment, per_interface: re.Pattern[str] | None = None) -> str:
    """A fixed set of counts; per-interface effective values only for names *per_interface*
    matches, since container veths come and go and every label becomes a graph. With the
    probe, two more: probe_responders (foreign MACs, summed over the VIPs: one bad VIP or
    many adds up, as Prometheus's sum() of lvs_arp_probe_responders) and probe_vips_unsound."""
    findings = assessment.findings
    leaking = assessment.interfaces_with(*LEAK_CAUSES)
    silent = assessment.interfaces_with(Cause.SILENT)
    after_reboot = assessment.interfaces_with(Cause.LOST_AT_REBOOT, after_reboot=True)
    misplaced = assessment.misplaced_vips()
    values = [
        ("arp_interfaces", len(assessment.checked)),
        ("leaking", len(leaking)),
        ("silent", len(silent)),
        ("unsound_after_reboot", len(after_reboot)),
        ("vips", len(assessment.vips)),
        ("vips_misplaced", len(misplaced)),
    ]
    values += [(s.name.lower(), assessment.count(s)) for s in _COUNTED]
    probed = [f for f in findings if f.cause in PROBE_CAUSES]
    if probed:  # --probe-arp: foreign MACs summed over the VIPs, and the VIPs at fault
        foreign = sum(1 for f in probed for r in f.responders if not r.is_local)
        values += [
            ("probe_responders", foreign),
            ("probe_vips_unsound", len({v for f in probed if f.is_problem for v in f.vips})),
        ]
    parts = [f"{label}={value};;;0" for label, value in values]
    if per_interface is not None:
        all_ignore, all_announce = assessment.state.all
        for i in assessment.checked:
            if per_interface.search(i.name):
                parts.append(f"{label(i.name, 'arp_ignore')}={max(all_ignore, i.knobs[0])}")
                parts.append(f"{label(i.name, 'arp_announce')}={max(all_announce, i.knobs[1])}")
    return " ".join(parts)


def label(interface: str, parameter: str) -> str:
    """A perfdata label for any name the kernel allows: distinct names give distinct labels.

    printable() makes it one unambiguous line; the guidelines then want labels with a
    space, quote or '=' quoted, a quote doubled.
    """
    text = no_pipe(f"{printable(interface)}_{parameter}")
    if _NEEDS_QUOTES.search(text):
        return "'" + text.replace("'", "''") + "'"
    return text


_NEEDS_QUOTES = re.compile("[ '=\"]")


class FindingContext(nagiosplugin.Context):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__("finding")

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        finding = metric.value
        if finding is None:
            return nagiosplugin.Result(nagiosplugin.Unknown, "nothing was judged", metric)
        return nagiosplugin.Result(_STATES[finding.severity], "", metric)

    def performance(self, metric: nagiosplugin.Metric, resource: Any) -> None:
        return None


class PerfdataContext(nagiosplugin.Context):  # type: ignore[misc]
    """All perfdata in one metric: the state comes from the findings, never a threshold."""

    def __init__(self) -> None:
        super().__init__("perfdata")

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        return nagiosplugin.Result(nagiosplugin.Ok, metric=metric)

    def performance(self, metric: nagiosplugin.Metric, resource: Any) -> str:
        return str(metric.value)


class ArpSummary(nagiosplugin.Summary):  # type: ignore[misc]
    def __init__(self, resource: ArpResource) -> None:
        self.resource = resource

    def ok(self, results: nagiosplugin.Results) -> str:
        assessment = self.resource.assessment
        if assessment is None:
            return ""
        return ok_line(assessment)

    def problem(self, results: nagiosplugin.Results) -> str:
        assessment = self.resource.assessment
        state = str(results.first_significant.state).upper()
        if assessment is None:  # a read or argument error: its message, bounded
            return error_line(str(results.first_significant.hint), state)
        return problem_line(assessment, state)

    def verbose(self, results: nagiosplugin.Results) -> list[str]:
        assessment = self.resource.assessment
        if assessment is None:  # the whole message is on the second line already
            return []
        lines = finding_lines(assessment.ranked(), assessment.role)
        lines += fix_file_lines(assessment.findings, assessment.role)
        return within_budget([no_pipe(line) for line in lines])


def _whole_message(message: str) -> None:
    """An error cut to fit the status line goes whole on the next line, -v or not: what to
    grant (CAP_NET_RAW, read access) is often at its end."""
    whole = no_pipe(printable(message))
    if whole != error_line(message):
        nagiosplugin.Runtime().output.add_longoutput(whole)


def ok_line(assessment: Assessment) -> str:
    """Counts, never lists: '3 ARP interfaces hide VIP 10.0.0.100', '... 5,000 VIPs'; with
    the probe, who answers on the wire too, when it fits the status line."""
    line = no_pipe(_ok_line(assessment))
    for address in (True, False):
        note = probe_ok_note(assessment.findings, address)
        if note is None:
            return line
        if line.endswith(_STANDBY):  # the probe says who is active: that replaces the hint
            noted = f"{vips_text(assessment.vips)} standby: {note}"
        else:
            noted = f"{line}; {note}"
        noted = no_pipe(noted)
        if len(f"{NAME} OK - {noted}") <= STATUS_LINE_MAX:
            return noted
    return line


_STANDBY = "not held here: standby (--standby-ok)"


def _ok_line(assessment: Assessment) -> str:
    vips = vips_text(assessment.vips)
    count = len(assessment.checked)
    if assessment.role is Role.REALSERVER:
        verb = "interface hides" if count == 1 else "interfaces hide"
        return f"{count:,} ARP {verb} {vips}"
    if assessment.role is Role.BOTH:
        return f"{vips} answered where held, hidden elsewhere ({count:,} ARP interfaces)"
    standby = any(
        f.severity is Severity.INFO and f.cause in (Cause.VIP_NOT_HELD, Cause.VIP_HOLDER_DOWN)
        for f in assessment.findings
    )
    if standby:
        return f"{vips} {_STANDBY}"
    return f"{vips} answered by ARP"


def problem_line(assessment: Assessment, state: str) -> str:
    """The worst cause, then (+N more) problems; short forms until it fits 90 characters."""
    problems = assessment.problems()
    worst, more = problems[0], len(problems) - 1
    suffix = f" (+{more} more)" if more else ""
    room = STATUS_LINE_MAX - len(f"{NAME} {state} - ") - len(suffix)
    role = assessment.role
    for text in (
        summary(worst, role, limit=1),
        summary(worst, role, limit=0),  # counts instead of names
        summary(worst, role, limit=0, evidence=False),
    ):
        text = no_pipe(text)
        if len(text) <= room:
            return text + suffix
    return text[: room - 1] + "…" + suffix


def run(argv: Sequence[str]) -> None:
    options = build_parser().parse_args(argv)
    resource = ArpResource(options)
    check = nagiosplugin.Check(resource, FindingContext(), PerfdataContext(), ArpSummary(resource))
    check.name = NAME
    try:
        check.main(verbose=options.verbose, timeout=options.timeout)
    except nagiosplugin.Timeout:
        # nagiosplugin would add a traceback to the long output whenever -v is given, as
        # Icinga's CheckCommand does: the answer is one line, as without -v.
        print(f"{NAME} UNKNOWN: Timeout: check execution aborted after {options.timeout}s")
        sys.exit(3)


def _name_bytes_as_escapes(error: UnicodeError) -> tuple[str, int]:
    """Print bytes that are not UTF-8 as \\xNN if a strict stdout refuses them anyway.

    Faces print names through names.printable(); this is the last guard for any other
    text (a path from an offline tree) on a stdout that is not C.UTF-8.
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

__all__ = ["label", "main", "names", "perfdata"]


if __name__ == "__main__":
    main()
