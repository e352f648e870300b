"""Where the web server listens: Go's HOST:PORT forms, and the socket they bind."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

from .serve_error import ServeError


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


def bind_target(address: ListenAddress) -> tuple[socket.AddressFamily, tuple[str, int]]:
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
