"""What the web server serves: the metrics renderer, its path, the landing page, the gate."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from checks import __version__

from .basic_auth import BasicAuthGate
from .serve_error import ServeError
from .web_config import WebConfig

EXPORTER_NAME = "lvs-arp-exporter"

# render(accept_header) -> (body, content_type); the collector side negotiates the format.
Render = Callable[[str | None], tuple[bytes, str]]


@dataclass(frozen=True)
class Site:
    """What every request handler of one server shares."""

    render: Render
    telemetry_path: str
    headers: Mapping[str, str]
    gate: BasicAuthGate | None
    landing_page: bytes


def build_site(render: Render, telemetry_path: str, config: WebConfig) -> Site:
    if not telemetry_path.startswith("/"):
        raise ServeError(f"telemetry path {telemetry_path!r} must start with '/'")
    return Site(
        render=render,
        telemetry_path=telemetry_path,
        headers=config.headers,
        gate=BasicAuthGate(config.basic_auth_users) if config.basic_auth_users else None,
        landing_page=_landing_page(telemetry_path),
    )


def _landing_page(telemetry_path: str) -> bytes:
    link = html.escape(telemetry_path, quote=True)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        f'<head><meta charset="utf-8"><title>{EXPORTER_NAME}</title></head>\n'
        "<body>\n"
        f"<h1>{EXPORTER_NAME}</h1>\n"
        f"<p>Prometheus exporter for LVS Direct Routing ARP safety, version {__version__}.</p>\n"
        f'<p><a href="{link}">Metrics</a></p>\n'
        "</body>\n"
        "</html>\n"
    ).encode()
