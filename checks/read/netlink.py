"""A minimal rtnetlink dump client: one request, every answer, in the reader's namespace.

Written on the socket module alone: a process that imports pyroute2 starts about 80 ms
slower, and the plugin runs on every NRPE poll of every node.
"""

from __future__ import annotations

# _socket, not socket: socket.py builds IntEnums and imports selectors, 3 ms per start-up.
import _socket
import os
import struct
from collections.abc import Iterator

from ..errors import ReadError

NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300

_HEADER = struct.Struct("=IHHII")  # nlmsghdr: len, type, flags, seq, pid
_ATTR = struct.Struct("=HH")  # rtattr: len, type
_ERRNO = struct.Struct("=i")
_RECV_BUFFER = 1 << 20


def _align(length: int) -> int:
    return (length + 3) & ~3


def dump(message_type: int, body: bytes) -> Iterator[tuple[int, memoryview]]:
    """Send one NLM_F_DUMP request and yield (type, payload) of every answer."""
    request = _HEADER.pack(_HEADER.size + len(body), message_type, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
    try:
        sock = _socket.socket(_socket.AF_NETLINK, _socket.SOCK_RAW, _socket.NETLINK_ROUTE)
        try:
            sock.sendto(request + body, (0, 0))
            yield from _answers(sock)
        finally:
            sock.close()
    except OSError as err:
        raise ReadError(f"netlink dump (type {message_type}) failed: {err}") from err


def _answers(sock: _socket.socket) -> Iterator[tuple[int, memoryview]]:
    while True:
        view = memoryview(sock.recv(_RECV_BUFFER))
        size = len(view)
        offset = 0
        while offset + _HEADER.size <= size:
            length, kind, _flags, _seq, _pid = _HEADER.unpack_from(view, offset)
            if length < _HEADER.size:
                raise ReadError(f"netlink answered a malformed message (length {length})")
            if kind == NLMSG_DONE:
                return
            payload = view[offset + _HEADER.size : offset + length]
            if kind == NLMSG_ERROR:
                (errno,) = _ERRNO.unpack_from(payload)
                if errno:
                    raise ReadError(f"netlink refused the dump: {os.strerror(-errno)}")
            else:
                yield kind, payload
            offset += _align(length)


def attributes(data: memoryview, offset: int = 0) -> Iterator[tuple[int, memoryview]]:
    """Yield (type, value) of each rtattr in *data* from *offset*; nested flag bits cleared."""
    end = len(data)
    while offset + _ATTR.size <= end:
        length, kind = _ATTR.unpack_from(data, offset)
        if length < _ATTR.size:
            return
        yield kind & 0x3FFF, data[offset + _ATTR.size : offset + length]
        offset += _align(length)
