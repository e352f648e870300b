"""A threading HTTP server that a misbehaving or numerous clientele cannot stall.

Concurrency: one thread accepts connections and does nothing else that can wait on a client.
Each accepted connection gets a daemon worker thread, which does the TLS handshake (a client
that stalls mid-handshake holds only its own thread), reads one request (HTTP/1.0: one
request per connection, so idle keep-alives hold no thread between scrapes), and answers.
Every socket operation times out after `ConnectionLimits.timeout_seconds`, and the handshake
and request together must be in within `ConnectionLimits.request_seconds`. At most
`ConnectionLimits.max_connections` workers run at once; when all are busy, the accept loop
waits briefly for one to finish, then turns the connection away with 503 (plain HTTP) or a
close (TLS, which cannot be answered without a handshake), so overload shows as a failed
scrape at once rather than as connections queueing unseen until the scrape times out.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import cast

from .connection_limits import ConnectionLimits
from .listen_address import ListenAddress, bind_target
from .request_deadline import RequestDeadline

logger = logging.getLogger(__name__)

_OVERLOADED = (
    b"HTTP/1.0 503 Service Unavailable\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 21\r\n"
    b"Retry-After: 1\r\n"
    b"\r\n"
    b"too many connections\n"
)


class ConnectionServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with TLS in the worker thread, socket timeouts and a worker cap.

    Subclasses say what to do with each connection in serve_connection.
    """

    daemon_threads = True
    block_on_close = False  # shutdown must not wait for a slow client's timeout
    request_queue_size = 128

    def __init__(
        self,
        address: ListenAddress,
        limits: ConnectionLimits,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self.limits = limits
        self.ssl_context = ssl_context
        self._workers = threading.BoundedSemaphore(limits.max_connections)
        self._last_overload_warning = 0.0
        self.address_family, bind_address = bind_target(address)
        self._dual_stack = address.host == "" and self.address_family == socket.AF_INET6
        # finish_request hands connections to serve_connection, never to this class.
        super().__init__(bind_address, BaseHTTPRequestHandler)

    def server_bind(self) -> None:
        if self._dual_stack:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        # TCPServer's bind, not HTTPServer's: that one calls getfqdn, which can hang on DNS.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        """Runs in the accept loop: hand the connection to a worker, or turn it away."""
        if not self._workers.acquire(timeout=self.limits.overload_wait_seconds):
            self._turn_away(cast(socket.socket, request), client_address)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._workers.release()
            raise

    def process_request_thread(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._workers.release()

    def finish_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        """Runs in the worker thread, so the TLS handshake cannot stall the accept loop."""
        deadline = RequestDeadline.start(self.limits)
        connection = cast(socket.socket, request)
        # CPython's ssl bounds the whole handshake by this, so it counts against the deadline.
        connection.settimeout(deadline.next_timeout())
        if self.ssl_context is None:
            self.serve_connection(connection, client_address, deadline)
            return
        tls_connection = self._handshake(self.ssl_context, connection, client_address)
        if tls_connection is None:
            return
        try:
            self.serve_connection(tls_connection, client_address, deadline)
        finally:
            tls_connection.close()

    def serve_connection(
        self, connection: socket.socket, client_address: object, deadline: RequestDeadline
    ) -> None:
        """Read the request by the deadline and answer it; runs in the worker thread."""
        raise NotImplementedError

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError):  # resets, timeouts, TLS alerts: the client's doing
            logger.debug("connection from %s ended: %s", _peer(client_address), error)
        else:
            logger.error("serving %s failed", _peer(client_address), exc_info=True)

    def _handshake(
        self, context: ssl.SSLContext, connection: socket.socket, client_address: object
    ) -> ssl.SSLSocket | None:
        try:
            tls_connection = context.wrap_socket(
                connection, server_side=True, do_handshake_on_connect=False
            )
        except OSError as err:
            logger.debug("TLS setup for %s failed: %s", _peer(client_address), err)
            return None
        try:
            tls_connection.do_handshake()
        except OSError as err:  # ssl.SSLError and timeouts alike
            logger.debug("TLS handshake with %s failed: %s", _peer(client_address), err)
            tls_connection.close()
            return None
        return tls_connection

    def _turn_away(self, connection: socket.socket, client_address: object) -> None:
        """Never blocks: the accept loop must stay free however many clients misbehave."""
        self._warn_overloaded(client_address)
        if self.ssl_context is None:
            connection.setblocking(False)
            _drain(connection)
            with contextlib.suppress(OSError):
                connection.send(_OVERLOADED)
        self.shutdown_request(connection)

    def _warn_overloaded(self, client_address: object) -> None:
        # At most once a minute: a flood must not also flood the log.
        now = time.monotonic()
        if now - self._last_overload_warning >= 60:
            self._last_overload_warning = now
            logger.warning(
                "all %d connections busy; turning away %s (and others for a minute, unlogged)",
                self.limits.max_connections,
                _peer(client_address),
            )


def _drain(connection: socket.socket) -> None:
    """Read what the client already sent, so closing sends FIN rather than a reset."""
    with contextlib.suppress(OSError):  # BlockingIOError once the buffer is empty
        for _ in range(16):  # bounded: a client streaming data must not hold the accept loop
            if not connection.recv(65536):
                return


def _peer(client_address: object) -> str:
    if isinstance(client_address, tuple) and client_address:
        return str(client_address[0])
    return str(client_address)
