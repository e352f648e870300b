"""How much of the host one client, or many, can hold."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConnectionLimits:
    """How much of the host a client, or many, can hold."""

    max_connections: int = 64
    # Each socket read or write; alone, it lets a byte every 9 s hold a worker for ever.
    timeout_seconds: float = 10.0
    # The TLS handshake and the whole request (line, headers, any body) together.
    request_seconds: float = 10.0
    # How long the accept loop waits for a busy worker to finish before turning a client away.
    overload_wait_seconds: float = 0.5
