"""The exporter's HTTP(S) front door: landing page, telemetry path, TLS and basic auth.

Concurrency: one thread accepts connections and does nothing else that can wait on a client.
Each accepted connection gets a daemon worker thread, which does the TLS handshake (a client
that stalls mid-handshake holds only its own thread), reads one request (HTTP/1.0: one
request per connection, so idle keep-alives hold no thread between scrapes), and answers.
Every socket operation times out after `ConnectionLimits.timeout_seconds`. At most
`ConnectionLimits.max_connections` workers run at once; when all are busy, the accept loop
waits briefly for one to finish, then turns the connection away with 503 (plain HTTP) or a
close (TLS, which cannot be answered without a handshake), so overload shows as a failed
scrape at once rather than as connections queueing unseen until the scrape times out.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import hashlib
import hmac
import html
import ipaddress
import logging
import os
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import cast
from urllib.parse import urlsplit

import bcrypt

from checks import __version__

from .web_config import WebConfig, server_ssl_context

logger = logging.getLogger(__name__)

EXPORTER_NAME = "lvs-arp-exporter"

# render(accept_header) -> (body, content_type); the collector side negotiates the format.
Render = Callable[[str | None], tuple[bytes, str]]


class ServeError(Exception):
    """The server cannot start: a bad listen address or telemetry path, or a failed bind."""


@dataclass(frozen=True)
class ListenAddress:
    """Where to listen: host "" means every address (IPv6 and IPv4 where both exist)."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> ListenAddress:
        """Go's forms: "127.0.0.1:9100", "[::1]:9100", "localhost:9100" or ":9100"."""
        host, colon, port = text.strip().rpartition(":")
        if not colon or not (port.isascii() and port.isdigit()) or int(port) > 65535:
            raise ServeError(f"listen address {text!r} needs a port: HOST:PORT or :PORT")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
            _check_ipv6(text, host)
        elif ":" in host:
            raise ServeError(f"listen address {text!r}: write IPv6 in brackets, as [::1]:9100")
        return cls(host, int(port))

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _check_ipv6(text: str, host: str) -> None:
    try:
        ipaddress.IPv6Address(host)
    except ValueError as err:
        raise ServeError(f"listen address {text!r}: {host!r} is not an IPv6 address") from err


@dataclass(frozen=True)
class ConnectionLimits:
    """How much of the host a client, or many, can hold."""

    max_connections: int = 64
    timeout_seconds: float = 10.0
    # How long the accept loop waits for a busy worker to finish before turning a client away.
    overload_wait_seconds: float = 0.5


class BasicAuthGate:
    """Checks HTTP basic credentials against bcrypt hashes without revealing which users exist.

    Every attempt costs one bcrypt check (unknown users are checked against a dummy hash of
    the configured cost) and names are compared as SHA-256 digests with compare_digest, so
    neither timing nor name length tells a valid user from an invalid one. A successful check
    is remembered as an HMAC-SHA-256 of the password under a per-process key, so Prometheus
    pays bcrypt (~100 ms at cost 10) once per process rather than on every scrape; only the
    right password can hit that cache, so its speed reveals nothing an attacker lacks.
    """

    def __init__(self, users: Mapping[str, bytes]) -> None:
        self._users = [(_digest(name.encode("utf-8")), hashed) for name, hashed in users.items()]
        self._dummy_hash = bcrypt.hashpw(
            os.urandom(16).hex().encode(), bcrypt.gensalt(_highest_cost(users))
        )
        self._cache_key = os.urandom(32)
        self._verified: dict[bytes, bytes] = {}
        # One bcrypt at a time, as exporter-toolkit does: a flood of guesses costs one core.
        self._bcrypt_lock = threading.Lock()

    def admits(self, authorization: str | None) -> bool:
        credentials = _basic_credentials(authorization)
        if credentials is None:
            return False
        user, password = credentials
        stored_hash, known = self._stored_hash(user)
        fingerprint = hmac.new(self._cache_key, password, hashlib.sha256).digest()
        remembered = self._verified.get(user, bytes(len(fingerprint)))
        if hmac.compare_digest(remembered, fingerprint) and known:
            return True
        with self._bcrypt_lock:
            matches = bcrypt.checkpw(password, stored_hash)
        if matches and known:
            self._verified[user] = fingerprint
            return True
        return False

    def _stored_hash(self, user: bytes) -> tuple[bytes, bool]:
        """The user's hash, or the dummy; every entry is compared so the work is the same."""
        wanted = _digest(user)
        stored_hash, known = self._dummy_hash, False
        for name_digest, hashed in self._users:
            if hmac.compare_digest(name_digest, wanted):
                stored_hash, known = hashed, True
        return stored_hash, known


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _highest_cost(users: Mapping[str, bytes]) -> int:
    # "$2b$10$...": the cost is the two digits after the second "$".
    return max(int(hashed[4:6]) for hashed in users.values())


_BCRYPT_MAX_PASSWORD = 72  # bcrypt ignores (pyca/bcrypt 5 refuses) bytes beyond this


def _basic_credentials(authorization: str | None) -> tuple[bytes, bytes] | None:
    """(user, password) from an "Authorization: Basic ..." header, or None."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(b":")
    # pyca/bcrypt 3.2 (Debian 12) raises on NUL: refuse before any user is looked up.
    if not colon or len(password) > _BCRYPT_MAX_PASSWORD or b"\x00" in password:
        return None
    return user, password


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


@dataclass(frozen=True)
class _Site:
    """What every request handler of one server shares."""

    render: Render
    telemetry_path: str
    headers: Mapping[str, str]
    gate: BasicAuthGate | None
    landing_page: bytes


_ALLOWED_METHODS = ("GET", "HEAD")
_DISCARDED_BODY_LIMIT = 64 * 1024


class _RequestHandler(BaseHTTPRequestHandler):
    """Routes one request: "/" is the landing page, the telemetry path renders metrics."""

    server_version = f"{EXPORTER_NAME}/{__version__}"
    # One request per connection: an idle keep-alive between scrapes would hold a worker.
    protocol_version = "HTTP/1.0"

    def version_string(self) -> str:
        return self.server_version  # the base class would add the Python version

    @property
    def _site(self) -> _Site:
        return cast(_ThreadingServer, self.server).site

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
            body = gzip.compress(body)
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


_OVERLOADED = (
    b"HTTP/1.0 503 Service Unavailable\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 21\r\n"
    b"Retry-After: 1\r\n"
    b"\r\n"
    b"too many connections\n"
)


class _ThreadingServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with TLS in the worker thread, socket timeouts and a worker cap."""

    daemon_threads = True
    block_on_close = False  # shutdown must not wait for a slow client's timeout
    request_queue_size = 128

    def __init__(
        self,
        address: ListenAddress,
        site: _Site,
        limits: ConnectionLimits,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self.site = site
        self.limits = limits
        self.ssl_context = ssl_context
        self._workers = threading.BoundedSemaphore(limits.max_connections)
        self._last_overload_warning = 0.0
        self.address_family, bind_address = _bind_target(address)
        self._dual_stack = address.host == "" and self.address_family == socket.AF_INET6
        super().__init__(bind_address, _RequestHandler)

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
        connection = cast(socket.socket, request)
        connection.settimeout(self.limits.timeout_seconds)
        if self.ssl_context is None:
            super().finish_request(connection, client_address)
            return
        tls_connection = self._handshake(self.ssl_context, connection, client_address)
        if tls_connection is None:
            return
        try:
            super().finish_request(tls_connection, client_address)
        finally:
            tls_connection.close()

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


def _bind_target(address: ListenAddress) -> tuple[socket.AddressFamily, tuple[str, int]]:
    if address.host == "":
        if _ipv6_usable():
            return socket.AF_INET6, ("::", address.port)
        return socket.AF_INET, ("0.0.0.0", address.port)
    try:
        found = socket.getaddrinfo(
            address.host, address.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as err:
        raise ServeError(f"cannot resolve listen address {address}: {err.strerror}") from err
    family, _, _, _, sockaddr = found[0]
    return family, (str(sockaddr[0]), int(sockaddr[1]))


def _ipv6_usable() -> bool:
    """socket.has_ipv6 says what Python was built with, not whether this kernel has IPv6."""
    try:
        socket.socket(socket.AF_INET6, socket.SOCK_STREAM).close()
    except OSError:
        return False
    return True


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
        site = _site(render, telemetry_path, config)
        context = server_ssl_context(config.tls) if config.tls else None
        try:
            self._server = _ThreadingServer(address, site, limits or ConnectionLimits(), context)
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


def _site(render: Render, telemetry_path: str, config: WebConfig) -> _Site:
    if not telemetry_path.startswith("/"):
        raise ServeError(f"telemetry path {telemetry_path!r} must start with '/'")
    return _Site(
        render=render,
        telemetry_path=telemetry_path,
        headers=config.headers,
        gate=BasicAuthGate(config.basic_auth_users) if config.basic_auth_users else None,
        landing_page=_landing_page(telemetry_path),
    )
