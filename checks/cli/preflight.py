"""lvs-arp-preflight: may this node join the LVS-DR pool? For people and for Ansible or Salt.

Its own small face on the library, without nagiosplugin: a report (or --json) on stdout
and an exit code automation can act on. It reads the host and never changes it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import NoReturn

from .. import __version__
from ..assess import Assessment
from ..errors import LvsArpError
from ..finding import Finding
from ..judge.remedy import sysctl_line
from ..model import Role
from .options import add_check_arguments, add_timeout_argument, deadline, node_check
from .preflight_json import (
    EXIT_SAFE,
    EXIT_UNJUDGED,
    Preflight,
    Status,
    document,
    error_document,
    preflight,
    schema_text,
)
from .text import LIST_LIMIT, ROLE_NAMES, detail, names, summary

_EXIT_CODES = (
    "Exit codes: 0 safe to add (every check PASS); 1 warnings only (sound now, but not "
    "after a reboot or once a new interface appears); 2 at least one FAIL (the node would "
    "leak a VIP or go silent); 3 could not judge (bad arguments, a read error, no VIP). "
    "Nothing is ever written: the fix is printed."
)


class PreflightArgumentParser(argparse.ArgumentParser):
    """Bad arguments are 'could not judge' (3), not argparse's 2, which means FAIL here."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        if "--json" in sys.argv[1:]:
            print(json.dumps(error_document(None, [], f"{self.prog}: {message}"), indent=2))
        sys.exit(EXIT_UNJUDGED)


def build_parser() -> PreflightArgumentParser:
    parser = PreflightArgumentParser(
        prog="lvs-arp-preflight",
        description="Before a node joins an LVS Direct Routing pool: every ARP check as "
        "PASS, WARN or FAIL with its fix, now and after a reboot.",
        epilog=_EXIT_CODES,
    )
    add_check_arguments(parser)
    add_timeout_argument(parser, outcome="exit 3")
    parser.add_argument(
        "--json", action="store_true", help="print a JSON document (see --schema), not a report"
    )
    parser.add_argument(
        "--schema", action="store_true", help="print the JSON schema of --json and exit"
    )
    parser.add_argument("-V", "--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def run(argv: Sequence[str]) -> int:
    if "--schema" in argv:  # needs no --role: print it before the required options are checked
        print(schema_text(), end="")
        return EXIT_SAFE
    options = build_parser().parse_args(argv)
    try:
        with deadline(options.timeout, "lvs-arp-preflight"):
            assessment = _assess(options)
    except LvsArpError as err:
        return _unjudged(options, str(err))
    except Exception as err:  # a bug: still an answer automation can act on, no traceback
        return _unjudged(options, f"internal error: {type(err).__name__}: {err}")
    result = preflight(assessment)
    if options.json:
        print(json.dumps(document(result), indent=2))
    else:
        print("\n".join(report_lines(result)))
    return result.exit_code


def _assess(options: argparse.Namespace) -> Assessment:
    return node_check(options).assess()


def _unjudged(options: argparse.Namespace, message: str) -> int:
    if options.json:
        print(json.dumps(error_document(options.role, options.vip, message), indent=2))
    else:
        print(f"lvs-arp-preflight: could not judge this node: {message}")
    return EXIT_UNJUDGED


_VERDICTS = {
    0: "safe to add",
    1: "NOT safe to add yet: warnings",
    2: "NOT safe to add",
    3: "could not judge",
}
_INDENT = "      "  # under the text after "PASS  "


def report_lines(result: Preflight) -> list[str]:
    """One line per cause, WARN and FAIL with why and fix; then the whole fix, to apply by hand."""
    lines = [_headline(result), ""]
    role = result.assessment.role
    for check in result.checks:
        lines.append(f"{check.status.value:<4}  {summary(check.finding, role, limit=3)}")
        if check.status is not Status.PASS:
            lines += _explanation(check.finding, role)
    return lines + _fix_lines(result)


def _headline(result: Preflight) -> str:
    assessment = result.assessment
    vips = names(assessment.vips, 3) or "none"
    counts = ", ".join(
        f"{result.count(s)} {s.value}" for s in (Status.FAIL, Status.WARN, Status.PASS)
    )
    boot = "" if assessment.boot_checked else "; boot check off"
    return (
        f"lvs-arp-preflight: {ROLE_NAMES[assessment.role]}, VIP {vips}: "
        f"{_VERDICTS[result.exit_code]} ({counts}{boot})"
    )


def _explanation(finding: Finding, role: Role) -> list[str]:
    why = detail(finding, role)
    lines = [f"{_INDENT}{why}"] if why else []
    if len(finding.interfaces) > 3:
        count = f"{len(finding.interfaces):,}"
        lines.append(f"{_INDENT}interfaces ({count}): {names(finding.interfaces, LIST_LIMIT)}")
    if len(finding.vips) > 3:
        lines.append(f"{_INDENT}VIPs ({len(finding.vips):,}): {names(finding.vips, LIST_LIMIT)}")
    fixes = [sysctl_line(s) for s in finding.fix.settings] + list(finding.fix.commands)
    lines += [f"{_INDENT}fix: {fix}" for fix in fixes[:LIST_LIMIT]]
    if len(fixes) > LIST_LIMIT:
        lines.append(f"{_INDENT}fix: (+{len(fixes) - LIST_LIMIT:,} more: all below)")
    return lines


def _fix_lines(result: Preflight) -> list[str]:
    file = result.sysctl_file
    if file is None and not result.commands:
        return []
    lines = ["", "Fix (printed only: nothing was changed on this host):"]
    if file is not None:
        path, content = file
        lines.append(f"  write {path}:")
        lines += [f"    {line}" for line in content.splitlines()]
        lines.append(f"  then load it now: sysctl -p {path}")
    if result.commands:
        lines.append("  run:")
        lines += [f"    {command}" for command in result.commands]
    return lines


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
