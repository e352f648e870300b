"""The exporter's HTTP(S) server: where it listens, its limits, deadlines and connections.

Concurrency, and why no client can starve a scrape:

- One selector thread accepts every connection, does its TLS handshake (non-blocking), and
  gathers its request (request line, headers, and up to MAX_BODY_BYTES of any body a refused
  method brings). It never waits on one client: an idle or dribbling connection costs a
  socket and a small buffer, not a thread.
- Each connection must bring its handshake and whole head within `request_seconds` of being
  accepted, and may not fall silent for longer than `timeout_seconds`; otherwise it is closed
  without an answer, as Go's ReadHeaderTimeout does.
- At most `max_open_connections` connections may be gathering their head; one more sheds the
  oldest of them (it has had the longest to speak), so a flood of silent clients cannot keep
  a new scrape out. Below the process's open-file limit, which start-up raises to its hard
  limit where that is needed.
- A complete head goes to one of `max_connections` worker threads, which answers it
  (http_handler) with socket writes bounded by `timeout_seconds`. Up to `max_waiting`
  complete requests queue for a worker; beyond that a request is answered 503 at once, so
  overload shows as a failed scrape, not as a scrape timing out unseen.
- HTTP/1.0, one request per connection: an idle keep-alive never holds a worker.
"""

from __future__ import annotations

import contextlib
import errno
import io
import ipaddress
import logging
import queue
import re
import resource
import selectors
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .http_handler import EXPORTER_NAME, Render, RequestHandler, ServeError, Site, build_site
from .tls import server_context
from .web_config import WebConfig

# The names the CLI and tests use.
__all__ = ["ConnectionLimits", "ListenAddress", "MetricsServer", "Render", "ServeError"]

logger = logging.getLogger(__name__)

# A head may be this long: above http.server's 65,536-byte line limit, so a longer request
# line or header line is still recognised as such (414 or 431) rather than cut off.
MAX_HEAD_BYTES = 65536 + 4096
# Of a body (which only a refused method has): read, so that closing does not reset the answer.
MAX_BODY_BYTES = 65536
# Open files kept for everything but connections: the host read, logs, imports.
_RESERVED_FILES = 128
_RECV_BYTES = 16384
_ACCEPTS_PER_WAKE = 64  # then the loop serves the connections it has
_ACCEPT_PAUSE_S = 0.1  # out of file descriptors with nothing to shed: try again after this


@dataclass(frozen=True)
class ConnectionLimits:
    """How much of the host a client, or many, can hold."""

    # Worker threads answering complete requests at once.
    max_connections: int = 64
    # Complete requests waiting for a worker; one more is answered 503 at once.
    max_waiting: int = 256
    # Connections whose handshake or request head is still arriving; one more sheds the oldest.
    max_open_connections: int = 1024
    # Silence on a socket: a read while the head arrives, or any write of the answer.
    timeout_seconds: float = 10.0
    # From accept to the last byte of the head, TLS handshake included.
    request_seconds: float = 10.0


# --- where to listen -------------------------------------------------------------------------


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
            raise ServeError(
                f"listen address {text!r} needs a port from 0 to 65535: HOST:PORT or :PORT"
            )
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


def _listening_socket(address: ListenAddress) -> socket.socket:
    family, bind_address = _bind_target(address)
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if address.host == "" and family == socket.AF_INET6:
            listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        listener.bind(bind_address)
        listener.listen(socket.SOMAXCONN)
        listener.setblocking(False)
    except OSError as err:
        listener.close()
        raise ServeError(f"cannot listen on {address}: {err.strerror or err}") from err
    return listener


def _bind_target(address: ListenAddress) -> tuple[socket.AddressFamily, tuple[str, int]]:
    """The address family and socket address to bind for this listen address."""
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


# --- open files ------------------------------------------------------------------------------


def fit_to_open_file_limit(limits: ConnectionLimits) -> ConnectionLimits:
    """Raise this process's soft RLIMIT_NOFILE toward its hard limit as far as the limits
    need; if even the hard limit is too low, hold fewer connections open (logged)."""
    need = limits.max_open_connections + limits.max_connections + limits.max_waiting
    need += _RESERVED_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        raised = need if hard == resource.RLIM_INFINITY else min(hard, need)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
    if soft == resource.RLIM_INFINITY or soft >= need:
        return limits
    room = max(1, soft - (need - limits.max_open_connections))
    logger.warning(
        "the open-file limit (%d) allows %d connections gathering a request, not %d",
        soft,
        room,
        limits.max_open_connections,
    )
    return replace(limits, max_open_connections=room)


# --- the server ------------------------------------------------------------------------------


class MetricsServer:
    """The exporter's web server; binds at construction, so a taken port fails at once.

    Raises ServeError (address, telemetry path, bind) or WebConfigError (TLS that does not
    load or allows no handshake). Call serve_forever() (blocking) or start() (a background
    thread); shutdown() from another thread than serve_forever's.
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
        context = server_context(config.tls) if config.tls else None
        self._loop = _ConnectionLoop(
            _listening_socket(address),
            site,
            fit_to_open_file_limit(limits or ConnectionLimits()),
            context,
        )
        self._thread: threading.Thread | None = None
        self._log_start(address, config)

    @property
    def port(self) -> int:
        """The bound port: the real one when the listen address asked for port 0."""
        return self._loop.port

    @property
    def scheme(self) -> str:
        return "https" if self._loop.ssl_context else "http"

    def serve_forever(self) -> None:
        self._loop.run()

    def start(self) -> None:
        """Serve from a daemon thread and return."""
        self._loop.will_run()  # before the thread runs, so an immediate shutdown() stops it
        self._thread = threading.Thread(target=self._loop.run, name=EXPORTER_NAME, daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        """Stop accepting and close the listening socket; running requests finish alone."""
        self._loop.stop()
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


@dataclass(eq=False)
class _Arriving:
    """A connection whose handshake or request head is still arriving."""

    connection: socket.socket  # an ssl.SSLSocket when serving TLS
    peer: tuple[Any, ...]
    accepted: float  # time.monotonic()
    last_heard: float
    handshaking: bool
    events: int = selectors.EVENT_READ
    head: bytearray = field(default_factory=bytearray)
    scanned: int = 0  # the head holds no blank line before this offset
    wanted: int = -1  # once the head is complete: its length plus the (small) body's

    def deadline(self, limits: ConnectionLimits) -> float:
        return min(self.accepted + limits.request_seconds, self.last_heard + limits.timeout_seconds)

    def head_status(self) -> int | None:
        """None while the request may still be coming; 0 once complete; else 414 or 431.

        Complete means the head and the first MAX_BODY_BYTES of any body it announces, so a
        worker never waits on a client: a refused POST's body, sent slowly, is cut off here.
        """
        if self.wanted < 0:
            # Only the new bytes (and three before them) are searched: a client sending one
            # byte at a time must not make each arrival cost a scan of everything so far.
            start = max(0, self.scanned - 3)
            ends = [
                found + len(marker)
                for marker in (b"\r\n\r\n", b"\n\n")
                if (found := self.head.find(marker, start)) >= 0
            ]
            if not ends:
                self.scanned = len(self.head)
                if len(self.head) < MAX_HEAD_BYTES:
                    return None
                return 414 if b"\n" not in self.head else 431
            head_end = min(ends)
            self.wanted = head_end + _announced_body(bytes(self.head[:head_end]))
        return 0 if len(self.head) >= self.wanted else None


_CONTENT_LENGTH = re.compile(rb"\ncontent-length[ \t]*:[ \t]*(\d{1,18})[ \t]*\r?\n", re.IGNORECASE)


def _announced_body(head: bytes) -> int:
    """The body bytes to gather: what Content-Length says, at most MAX_BODY_BYTES.

    A malformed value gathers nothing; the handler answers it 400.
    """
    found = _CONTENT_LENGTH.search(head)
    return min(int(found.group(1)), MAX_BODY_BYTES) if found else 0


class _ConnectionLoop:
    """The selector thread: accept, handshake, gather heads, expire, hand over."""

    def __init__(
        self,
        listener: socket.socket,
        site: Site,
        limits: ConnectionLimits,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self.port = int(listener.getsockname()[1])
        self.ssl_context = ssl_context
        self._listener = listener
        self._site = site
        self._limits = limits
        self._arriving: OrderedDict[int, _Arriving] = OrderedDict()  # oldest first
        self._selector = selectors.DefaultSelector()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._selector.register(listener, selectors.EVENT_READ, None)
        self._selector.register(self._wake_reader, selectors.EVENT_READ, None)
        self._accept_paused_until = 0.0
        self._next_due = float("inf")
        self._workers = _Workers(limits, self._serve)
        self._stopping = threading.Event()
        self._may_run = threading.Event()
        self._stopped = threading.Event()
        self._closed = False
        self._last_warning: dict[str, float] = {}

    def will_run(self) -> None:
        self._may_run.set()

    def run(self) -> None:
        self._may_run.set()
        try:
            while not self._stopping.is_set():
                self._turn()
        finally:
            self._close_all()
            self._stopped.set()

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"\0")
        if self._may_run.is_set():
            self._stopped.wait()
        else:
            self._close_all()
        self._workers.stop()

    # --- one turn of the loop ---

    def _turn(self) -> None:
        now = time.monotonic()
        if self._accept_paused_until and now >= self._accept_paused_until:
            self._accept_paused_until = 0.0
            self._selector.register(self._listener, selectors.EVENT_READ, None)
        wait = None if self._next_due == float("inf") else max(0.0, self._next_due - now)
        if self._accept_paused_until:
            wait = min(wait if wait is not None else _ACCEPT_PAUSE_S, _ACCEPT_PAUSE_S)
        for key, _ in self._selector.select(wait):
            if key.fileobj is self._listener:
                self._accept()
            elif key.fileobj is self._wake_reader:
                with contextlib.suppress(OSError):
                    self._wake_reader.recv(64)
            elif isinstance(key.data, _Arriving):
                self._advance(key.data)
        if time.monotonic() >= self._next_due:
            self._expire()

    def _accept(self) -> None:
        for _ in range(_ACCEPTS_PER_WAKE):
            try:
                connection, peer = self._listener.accept()
            except BlockingIOError:
                return
            except OSError as err:
                if err.errno not in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    continue  # ECONNABORTED and the like: that client is gone
                if not self._shed_oldest("out of file descriptors"):
                    self._pause_accepting()
                    return
                continue
            if len(self._arriving) >= self._limits.max_open_connections:
                self._shed_oldest(f"{self._limits.max_open_connections} connections open")
            self._admit(connection, peer)

    def _admit(self, connection: socket.socket, peer: tuple[Any, ...]) -> None:
        connection.setblocking(False)
        if self.ssl_context is not None:
            try:
                connection = self.ssl_context.wrap_socket(
                    connection, server_side=True, do_handshake_on_connect=False
                )
            except OSError as err:
                logger.debug("TLS setup for %s failed: %s", peer[0], err)
                _close(connection)
                return
        now = time.monotonic()
        arriving = _Arriving(connection, peer, now, now, self.ssl_context is not None)
        self._arriving[connection.fileno()] = arriving
        self._selector.register(connection, selectors.EVENT_READ, arriving)
        self._next_due = min(self._next_due, arriving.deadline(self._limits))

    def _advance(self, arriving: _Arriving) -> None:
        """Move the handshake and the head on as far as the bytes in hand allow."""
        connection = arriving.connection
        try:
            if arriving.handshaking and isinstance(connection, ssl.SSLSocket):
                connection.do_handshake()
                arriving.handshaking = False
            while arriving.head_status() is None:
                chunk = connection.recv(_RECV_BYTES)
                if not chunk:
                    self._drop(arriving, "closed before its request was complete")
                    return
                arriving.head += chunk
                arriving.last_heard = time.monotonic()
        except ssl.SSLWantReadError:
            self._want(arriving, selectors.EVENT_READ)
            return
        except ssl.SSLWantWriteError:
            self._want(arriving, selectors.EVENT_WRITE)
            return
        except BlockingIOError:
            return
        except OSError as err:  # resets and TLS alerts: the client's doing
            what = "TLS handshake failed" if arriving.handshaking else "ended"
            self._drop(arriving, f"{what}: {err}")
            return
        self._forget(arriving)
        if not self._workers.submit(arriving):
            self._turn_away(arriving)

    def _want(self, arriving: _Arriving, events: int) -> None:
        if arriving.events != events:
            arriving.events = events
            self._selector.modify(arriving.connection, events, arriving)

    def _expire(self) -> None:
        now = time.monotonic()
        self._next_due = float("inf")
        for arriving in list(self._arriving.values()):
            deadline = arriving.deadline(self._limits)
            if deadline <= now:
                self._drop(arriving, "did not send its request in time")
            else:
                self._next_due = min(self._next_due, deadline)

    def _shed_oldest(self, why: str) -> bool:
        if not self._arriving:
            return False
        oldest = next(iter(self._arriving.values()))
        self._warn_once_a_minute(
            why, "%s: closing the connection from %s that has waited longest", why, oldest.peer[0]
        )
        self._drop(oldest, "shed")
        return True

    def _pause_accepting(self) -> None:
        self._warn_once_a_minute(
            "EMFILE", "out of file descriptors with no idle connection to close"
        )
        self._selector.unregister(self._listener)
        self._accept_paused_until = time.monotonic() + _ACCEPT_PAUSE_S

    def _turn_away(self, arriving: _Arriving) -> None:
        """Every worker busy and the queue full: a 503 now, never a wait."""
        self._warn_once_a_minute(
            "busy",
            "all %d workers busy and %d requests waiting; answering 503 (for a minute, unlogged)",
            self._limits.max_connections,
            self._limits.max_waiting,
        )
        with contextlib.suppress(OSError):
            arriving.connection.send(
                _canned(503, "too many requests", self._site, "Retry-After: 1")
            )
        _close(arriving.connection)

    def _drop(self, arriving: _Arriving, why: str) -> None:
        logger.debug("connection from %s %s", arriving.peer[0], why)
        self._forget(arriving)
        _close(arriving.connection)

    def _forget(self, arriving: _Arriving) -> None:
        self._arriving.pop(arriving.connection.fileno(), None)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(arriving.connection)

    def _close_all(self) -> None:
        if self._closed:
            return
        self._closed = True
        for arriving in list(self._arriving.values()):
            self._drop(arriving, "closed at shutdown")
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(self._listener)
        self._listener.close()
        self._selector.close()
        self._wake_reader.close()
        self._wake_writer.close()

    def _warn_once_a_minute(self, topic: str, message: str, *args: object) -> None:
        # A flood must not also flood the log.
        now = time.monotonic()
        if now - self._last_warning.get(topic, -60.0) >= 60:
            self._last_warning[topic] = now
            logger.warning(message, *args)

    # --- in a worker thread ---

    def _serve(self, arriving: _Arriving) -> None:
        """Answer the request; the worker closes the connection once it counts itself free."""
        connection = arriving.connection
        try:
            connection.settimeout(self._limits.timeout_seconds)
            status = arriving.head_status()
            if status:
                connection.sendall(_canned(status, "request head too large", self._site))
                return
            reader = io.BytesIO(bytes(arriving.head))
            RequestHandler(connection, arriving.peer, self._site, reader).serve()
        except OSError as err:  # resets, time-outs: the client's doing
            logger.debug("connection from %s ended: %s", arriving.peer[0], err)
        except Exception as err:
            logger.error("serving %s failed: %s: %s", arriving.peer[0], type(err).__name__, err)
            logger.debug("serving %s failed", arriving.peer[0], exc_info=True)


class _Workers:
    """Up to max_connections daemon threads, started as needed, fed through one queue."""

    def __init__(self, limits: ConnectionLimits, serve: Callable[[_Arriving], None]) -> None:
        self._size = limits.max_connections
        self._capacity = limits.max_connections + limits.max_waiting
        self._serve = serve
        self._jobs: queue.SimpleQueue[_Arriving | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._busy = 0  # running or queued

    def submit(self, job: _Arriving) -> bool:
        with self._lock:
            if self._busy >= self._capacity:
                return False
            self._busy += 1
            if self._threads < min(self._size, self._busy):
                self._threads += 1
                threading.Thread(target=self._work, name="lvs-arp-http", daemon=True).start()
        self._jobs.put(job)
        return True

    def stop(self) -> None:
        with self._lock:
            for _ in range(self._threads):
                self._jobs.put(None)
            self._threads = 0

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                self._serve(job)
            finally:
                # Free before the close, which is what tells the client it may ask again.
                with self._lock:
                    self._busy -= 1
                _close(job.connection)


def _canned(status: int, text: str, site: Site, *extra: str) -> bytes:
    """A whole small answer, for the cases no handler runs for."""
    reason = {414: "URI Too Long", 431: "Request Header Fields Too Large"}.get(
        status, "Service Unavailable"
    )
    body = f"{text}\n".encode()
    lines = [
        f"HTTP/1.0 {status} {reason}",
        "Content-Type: text/plain; charset=utf-8",
        f"Content-Length: {len(body)}",
        *extra,
        *(f"{name}: {value}" for name, value in site.headers.items()),
    ]
    return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body


def _close(connection: socket.socket) -> None:
    """Close after reading what the client already sent, so it gets a FIN, not a reset."""
    with contextlib.suppress(OSError):
        if not isinstance(connection, ssl.SSLSocket):
            connection.setblocking(False)
            for _ in range(16):  # bounded: a client streaming data must not hold us
                if not connection.recv(65536):
                    break
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_WR)
    connection.close()
