"""One HTTP request: the routes, basic auth, gzip and the answers' headers."""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from socketserver import BaseServer
from typing import Any
from urllib.parse import urlsplit

from checks import __version__

from .gzip_encoding import accepts_gzip, gzip_body
from .metrics_site import EXPORTER_NAME, Site
from .request_deadline import RequestDeadline, deadline_reader

logger = logging.getLogger(__name__)

_ALLOWED_METHODS = ("GET", "HEAD")
_DISCARDED_BODY_LIMIT = 64 * 1024


class RequestHandler(BaseHTTPRequestHandler):
    """Routes one request: "/" is the landing page, the telemetry path renders metrics."""

    server_version = f"{EXPORTER_NAME}/{__version__}"
    # One request per connection: an idle keep-alive between scrapes would hold a worker.
    protocol_version = "HTTP/1.0"

    def __init__(
        self,
        connection: socket.socket,
        client_address: Any,
        server: BaseServer,
        site: Site,
        deadline: RequestDeadline,
    ) -> None:
        # Set before the base class's __init__, which serves the request.
        self._site = site
        self._deadline = deadline
        super().__init__(connection, client_address, server)

    def setup(self) -> None:
        super().setup()
        # The base class's rfile waits timeout_seconds per read however long the request takes.
        self.rfile.close()
        self.rfile = deadline_reader(self.connection, self._deadline)

    def version_string(self) -> str:
        return self.server_version  # the base class would add the Python version

    def parse_request(self) -> bool:
        """Answers 405 here, so every method other than GET and HEAD is refused alike."""
        if not super().parse_request():
            return False
        if self.command in _ALLOWED_METHODS:
            return True
        self._discard_body()
        allow = (("Allow", ", ".join(_ALLOWED_METHODS)),)
        self._send_text(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed\n", allow)
        return False

    def do_GET(self) -> None:
        if not self._authorized():
            challenge = (("WWW-Authenticate", f'Basic realm="{EXPORTER_NAME}"'),)
            self._send_text(HTTPStatus.UNAUTHORIZED, "unauthorized\n", challenge)
            return
        path = urlsplit(self.path).path
        if path == self._site.telemetry_path:
            self._send_metrics()
        elif path == "/":
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
        except Exception:
            logger.exception("rendering metrics failed")
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

    def _discard_body(self) -> None:
        """Read a small refused body, so closing with it unread does not reset the answer."""
        length = self.headers.get("Content-Length", "")
        if length.isdigit():
            self.rfile.read(min(int(length), _DISCARDED_BODY_LIMIT))
