"""RequestDeadline's arithmetic; the deadline over real sockets is in test_http_server."""

from __future__ import annotations

import time

import pytest

from exporter.connection_limits import ConnectionLimits
from exporter.request_deadline import RequestDeadline


def test_a_read_waits_the_read_timeout_while_more_time_is_left() -> None:
    deadline = RequestDeadline.start(ConnectionLimits(timeout_seconds=2, request_seconds=60))
    assert deadline.next_timeout() == 2


def test_a_read_waits_only_the_time_left_near_the_deadline() -> None:
    deadline = RequestDeadline(ends=time.monotonic() + 0.5, read_timeout_seconds=10)
    assert 0 < deadline.next_timeout() <= 0.5


def test_no_read_is_started_after_the_deadline() -> None:
    deadline = RequestDeadline(ends=time.monotonic() - 0.001, read_timeout_seconds=10)
    with pytest.raises(TimeoutError):
        deadline.next_timeout()
