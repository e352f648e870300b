"""The exporter's HTTP(S) front door: landing page, telemetry path, TLS and basic auth.

The pieces: `ListenAddress` (where), `ConnectionServer` (threads, TLS handshakes, the
`ConnectionLimits`), `RequestHandler` (routes) and `Site` (what is served).
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading

from .connection_limits import ConnectionLimits
from .connection_server import ConnectionServer
from .listen_address import ListenAddress
from .metrics_site import EXPORTER_NAME, Render, Site, build_site
from .request_deadline import RequestDeadline
from .request_handler import RequestHandler
from .serve_error import ServeError
from .tls_context import server_ssl_context
from .web_config import WebConfig

# The names the CLI and tests use; ConnectionLimits and Render are MetricsServer's parameters.
__all__ = ["ConnectionLimits", "MetricsServer", "Render", "ServeError"]

logger = logging.getLogger(__name__)

# How long shutdown() may wait for the accept loop to notice; idle, that is 10 cheap wake-ups
# a second, and tests (and service restarts) do not pay socketserver's default 0.5 s each.
_SHUTDOWN_POLL_SECONDS = 0.1


class MetricsServer:
    """The exporter's web server; binds at construction, so a taken port fails at once.

    Call serve_forever() (blocking) or start() (background thread); shutdown() from another
    thread than serve_forever's, as with socketserver.
    """

    def __init__(
        self,
        listen_address: str,
        render: Render,
        *,
        web_config: WebConfig | None = None,
        telemetry_path: str = "/metrics",
        limits: ConnectionLimits | None = None,
    ) -> None:
        config = web_config or WebConfig()
        address = ListenAddress.parse(listen_address)
        site = build_site(render, telemetry_path, config)
        context = server_ssl_context(config.tls) if config.tls else None
        try:
            self._server = _MetricsHTTPServer(address, site, limits or ConnectionLimits(), context)
        except OSError as err:
            raise ServeError(f"cannot listen on {address}: {err.strerror or err}") from err
        self._thread: threading.Thread | None = None
        self._serving = threading.Event()
        self._log_start(address, config)

    @property
    def port(self) -> int:
        """The bound port: the real one when the listen address asked for port 0."""
        return int(self._server.server_address[1])

    @property
    def scheme(self) -> str:
        return "https" if self._server.ssl_context else "http"

    def serve_forever(self) -> None:
        self._serving.set()
        self._server.serve_forever(poll_interval=_SHUTDOWN_POLL_SECONDS)

    def start(self) -> None:
        """Serve from a daemon thread and return."""
        # Set before the thread runs, so that an immediate shutdown() still stops the loop.
        self._serving.set()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(_SHUTDOWN_POLL_SECONDS,),
            name=EXPORTER_NAME,
            daemon=True,
        )
        self._thread.start()

    def shutdown(self) -> None:
        """Stop accepting and close the listening socket; running requests finish alone."""
        if self._serving.is_set():
            self._server.shutdown()  # waits for serve_forever to return
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    def _log_start(self, address: ListenAddress, config: WebConfig) -> None:
        logger.info(
            "listening on %s, TLS %s, basic auth %s",
            ListenAddress(address.host, self.port),
            "enabled" if config.tls else "disabled",
            f"on ({len(config.basic_auth_users)} users)" if config.basic_auth_users else "off",
        )


class _MetricsHTTPServer(ConnectionServer):
    """A ConnectionServer whose every connection is one request to the site."""

    def __init__(
        self,
        address: ListenAddress,
        site: Site,
        limits: ConnectionLimits,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self._site = site
        super().__init__(address, limits, ssl_context)

    def serve_connection(
        self, connection: socket.socket, client_address: object, deadline: RequestDeadline
    ) -> None:
        RequestHandler(connection, client_address, self, self._site, deadline)
