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
from .options import add_check_arguments, add_timeout_argument, deadline, node_check
from .preflight_json import document, error_document, report_lines, schema_text
from .preflight_model import EXIT_SAFE, EXIT_UNJUDGED, preflight

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


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
