"""One HTTP request: the routes, the landing page, the basic-auth gate, gzip and the answers.

The server (http_server) hands each request over only once it has fully arrived (the head
and a small body), in a reader that already holds it: nothing here waits on a slow client.
Every malformed request is answered with a 4xx and logged at debug level only: a bad
request line, a Content-Length that is not a number, a target that is no path or URL.
"""

from __future__ import annotations

import gzip
import html
import io
import logging
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from checks import __version__

from .basic_auth import BasicAuthGate
from .web_config import WebConfig

EXPORTER_NAME = "lvs-arp-exporter"

# render(accept_header) -> (body, content_type); the collector side negotiates the format.
Render = Callable[[str | None], tuple[bytes, str]]

logger = logging.getLogger(__name__)

_ALLOWED_METHODS = ("GET", "HEAD")
# zlib's default, not 9: at 2,000 interfaces 5.6 ms a scrape against 12.5 ms, for nearly
# the same size.
GZIP_LEVEL = 6


class ServeError(Exception):
    """The server cannot start: a bad listen address or telemetry path, or a failed bind."""


# --- what is served --------------------------------------------------------------------------


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


# --- gzip ------------------------------------------------------------------------------------


def gzip_body(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=GZIP_LEVEL)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding header allows gzip (a q=0 entry refuses it)."""
    for entry in (accept_encoding or "").split(","):
        coding, _, parameters = entry.partition(";")
        if coding.strip().lower() == "gzip":
            return _quality(parameters) > 0
    return False


def _quality(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 1.0
    return 1.0


# --- the request -----------------------------------------------------------------------------


def request_path(target: str) -> str | None:
    """The path of an origin-form ("/metrics?x") or absolute-form target, or None if neither."""
    if target.startswith("/"):
        return target.partition("?")[0].partition("#")[0]
    if "://" not in target:
        return None
    try:
        path = urlsplit(target).path
    except ValueError:  # "http://[/metrics": an unclosed IPv6 bracket
        return None
    return path or "/"


def content_length(value: str | None) -> int | None:
    """The length a Content-Length header gives; -1 when there is none, None if malformed."""
    if value is None:
        return -1
    value = value.strip()
    # str.isdigit accepts "²" and other digits int() refuses; 18 digits fit any real body.
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        return None
    return int(value)


class RequestHandler(BaseHTTPRequestHandler):
    """Routes one request: "/" is the landing page, the telemetry path renders metrics."""

    server_version = f"{EXPORTER_NAME}/{__version__}"
    # One request per connection: an idle keep-alive between scrapes would hold a worker.
    protocol_version = "HTTP/1.0"
    # Not "HTTP/0.9": an error found before the version is read still gets a status line.
    default_request_version = "HTTP/1.0"

    def __init__(
        self,
        connection: socket.socket,
        client_address: tuple[Any, ...],
        site: Site,
        rfile: io.BytesIO,
    ) -> None:
        # Not the base class's __init__: it would make its own reader of the socket.
        self.request = self.connection = connection
        self.client_address = client_address
        self._site = site
        self._path = "/"
        self.rfile = rfile
        self.wfile = connection.makefile("wb")  # buffered: every byte is written, flushed once

    def serve(self) -> None:
        """Answer the one request; what goes wrong on the socket is the client's doing."""
        try:
            self.handle_one_request()
            self.wfile.flush()
        finally:
            self.rfile.close()
            self.wfile.close()

    def version_string(self) -> str:
        return self.server_version  # the base class would add the Python version

    def parse_request(self) -> bool:
        """The base class's checks, then the target, the body length and the method."""
        if not super().parse_request():
            return False
        if self.headers.defects:  # a line without a colon, as Go's "malformed MIME header"
            self.send_error(HTTPStatus.BAD_REQUEST, "Malformed header line")
            return False
        path = request_path(self.path)
        if path is None:
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad request target")
            return False
        if content_length(self.headers.get("Content-Length")) is None:
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad Content-Length")
            return False
        self._path = path
        if self.command in _ALLOWED_METHODS:
            return True
        allow = (("Allow", ", ".join(_ALLOWED_METHODS)),)
        self._send_text(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed\n", allow)
        return False

    def do_GET(self) -> None:
        if not self._authorized():
            challenge = (("WWW-Authenticate", f'Basic realm="{EXPORTER_NAME}"'),)
            self._send_text(HTTPStatus.UNAUTHORIZED, "unauthorized\n", challenge)
            return
        if self._path == self._site.telemetry_path:
            self._send_metrics()
        elif self._path == "/":
            self._send(HTTPStatus.OK, self._site.landing_page, "text/html; charset=utf-8")
        else:
            self._send_text(HTTPStatus.NOT_FOUND, "not found\n")

    do_HEAD = do_GET  # _send leaves the body out for HEAD

    def end_headers(self) -> None:
        # Here, so that the configured headers reach error pages from the base class too.
        for name, value in self._site.headers.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        # Request lines and status codes only: the base class never logs request headers.
        logger.debug("%s %s", self.address_string(), format % args)

    def _authorized(self) -> bool:
        gate = self._site.gate
        if gate is None or gate.admits(self.headers.get("Authorization")):
            return True
        logger.debug("%s: basic auth failed", self.address_string())
        return False

    def _send_metrics(self) -> None:
        try:
            body, content_type = self._site.render(self.headers.get("Accept"))
        except Exception as err:
            # One line at error; the traceback only for those who asked for debug.
            logger.error("rendering metrics failed: %s: %s", type(err).__name__, err)
            logger.debug("rendering metrics failed", exc_info=True)
            self._send_text(HTTPStatus.INTERNAL_SERVER_ERROR, "rendering metrics failed\n")
            return
        headers = [("Vary", "Accept, Accept-Encoding")]
        if accepts_gzip(self.headers.get("Accept-Encoding")):
            body = gzip_body(body)
            headers.append(("Content-Encoding", "gzip"))
        self._send(HTTPStatus.OK, body, content_type, headers)

    def _send_text(
        self, status: HTTPStatus, text: str, headers: Sequence[tuple[str, str]] = ()
    ) -> None:
        self._send(status, text.encode("utf-8"), "text/plain; charset=utf-8", headers)

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
