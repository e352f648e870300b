"""lvs-arp-exporter: serve the library's verdicts to Prometheus, or write them once to a file."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from checks import __version__
from checks.assess import NodeCheck
from checks.cli.options import node_check as shared_node_check
from checks.cli.options import window_fits
from checks.errors import ConfigError

from . import promlog
from .cli_args import build_parser
from .collector import ArpCollector, build_registry
from .exposition import renderer, text_format
from .read_guard import ReadGuard
from .textfile import Interrupted, TextfileError, write_atomically

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1


def node_check(options: argparse.Namespace) -> NodeCheck:
    """The plugin's judgement, with a bad boot root, or a probe window the scrape timeout
    would cut short, refused at start, not on every scrape."""
    check = shared_node_check(options)
    if check.probe is not None and not window_fits(check.probe.window_s, options.scrape_timeout):
        raise ConfigError(
            f"--probe-window {check.probe.window_s:g} s does not fit in --scrape.timeout "
            f"{options.scrape_timeout:g}s: each scrape probes for the whole window, then reads "
            "and judges the host; give a timeout at least twice the window, or a shorter window"
        )
    return check._replace(sysctl_root=_sysctl_root(check.sysctl_root))


def _sysctl_root(root: str | None) -> str | None:
    """Refuse a boot root that is not a directory at start, not on every scrape."""
    if root is not None and not os.path.isdir(root):
        raise ConfigError(f"--sysctl-root {root!r} is not a directory")
    return root


def write_textfile(path: str, collector: ArpCollector) -> int:
    if not path.endswith(".prom"):
        logger.warning("%s does not end in .prom: node_exporter will not read it", path)
    try:
        write_atomically(path, text_format(build_registry(collector, process=False).collect()))
    except TextfileError as err:
        logger.error("%s", err)
        return EXIT_FAILURE
    except Interrupted as err:
        logger.error("%s; %s left as it was", err, path)
        return err.exit_code
    logger.debug("wrote %s", path)
    return EXIT_OK


def serve(options: argparse.Namespace, collector: ArpCollector) -> int:
    # Imported here: a --textfile run from a timer needs neither TLS, bcrypt nor YAML.
    from .http_server import MetricsServer, ServeError
    from .web_config import WebConfigError, load_web_config

    try:
        server = MetricsServer(
            options.listen_address,
            renderer(build_registry(collector)),
            web_config=load_web_config(options.web_config_file),
            telemetry_path=options.telemetry_path,
        )
    except (ServeError, WebConfigError) as err:
        logger.error("%s", err)
        return EXIT_FAILURE
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    return EXIT_OK


def run(argv: Sequence[str]) -> int:
    options = build_parser().parse_args(argv)
    promlog.configure(options.log_level, options.log_format)
    try:
        check = node_check(options)
    except ConfigError as err:
        logger.error("%s", err)
        return EXIT_FAILURE
    collector = ArpCollector(check, ReadGuard(options.scrape_timeout), options.vip_series_limit)
    if options.textfile:
        return write_textfile(options.textfile, collector)
    logger.info("starting lvs-arp-exporter %s, role %s", __version__, check.role.value)
    return serve(options, collector)


def main() -> int:
    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
