"""The whole-request deadline: the TLS handshake and the request must be in by one moment.

A timeout per socket read bounds silence, not slowness: a client sending a byte every 9 s
would hold a worker for ever. So each read's socket timeout is shrunk to the time left
before the deadline; the wait stays in the kernel (no polling), and a request still
incomplete at the deadline ends in TimeoutError, on which http.server drops the connection.
"""

from __future__ import annotations

import io
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .connection_limits import ConnectionLimits

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


@dataclass(frozen=True)
class RequestDeadline:
    """When the request must be in (time.monotonic), and the per-read limit within that."""

    ends: float
    read_timeout_seconds: float

    @classmethod
    def start(cls, limits: ConnectionLimits) -> RequestDeadline:
        return cls(time.monotonic() + limits.request_seconds, limits.timeout_seconds)

    def next_timeout(self) -> float:
        """The socket timeout for the next read: the per-read limit, or the time left if less."""
        left = self.ends - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request deadline has passed")
        return min(self.read_timeout_seconds, left)


def deadline_reader(connection: socket.socket, deadline: RequestDeadline) -> io.BufferedReader:
    """A buffered reader of the connection (as makefile("rb") gives) that keeps the deadline."""
    return io.BufferedReader(_DeadlineSocketReader(connection, deadline))


class _DeadlineSocketReader(io.RawIOBase):
    """Raw reads of a socket, each given only the time left before the deadline.

    Shrinking the timeout per raw read, below the buffering, is what bounds a readline that
    a dribbling client makes wait for many small packets.
    """

    def __init__(self, connection: socket.socket, deadline: RequestDeadline) -> None:
        super().__init__()
        self._connection = connection
        self._raw = connection.makefile("rb", buffering=0)  # counted, so close() is honoured
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int | None:
        self._connection.settimeout(self._deadline.next_timeout())
        try:
            return self._raw.readinto(buffer)
        finally:
            # The deadline bounds the request, not the answer: writes keep the full timeout.
            self._connection.settimeout(self._deadline.read_timeout_seconds)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()
