"""Run one host read per scrape in a worker thread, and give up on it after a deadline.

A read can hang (a stuck netlink socket, /proc on a wedged NFS root). The scrape must still
answer in time, with `lvs_arp_scrape_success 0`, and later scrapes must not wait on the hung
read beyond their own deadline. Python cannot kill a thread, so a hung worker keeps its slot
until it returns; the slots are bounded, so a read that never returns costs a few idle
threads, not one per scrape for ever.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

# Reads in flight at once: Prometheus HA pairs scrape together; more wait for a slot.
DEFAULT_MAX_IN_FLIGHT = 4


class Failure(enum.Enum):
    """Why a scrape has no assessment; the values are the `reason` label."""

    TIMEOUT = "timeout"  # the read did not return before the deadline
    BUSY = "busy"  # every slot stayed held by earlier reads until the deadline
    READ = "read"  # the library said it could not read the host (LvsArpError)
    INTERNAL = "internal"  # anything else: a bug, logged with its traceback


class GuardedReadError(Exception):
    def __init__(self, failure: Failure, message: str) -> None:
        super().__init__(message)
        self.failure = failure


@dataclass
class _Outcome(Generic[T]):
    values: list[T] = field(default_factory=list)  # empty until read() returns
    error: BaseException | None = None


class ReadGuard:
    """Calls a function in a fresh daemon thread and waits at most `timeout_s` for it."""

    def __init__(self, timeout_s: float, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT) -> None:
        self.timeout_s = timeout_s
        self._slots = threading.BoundedSemaphore(max_in_flight)

    def run(self, read: Callable[[], T]) -> T:
        """Return read()'s value or re-raise its exception; GuardedReadError if none in time.

        Waiting for a free slot counts against the same deadline, so a scrape never waits
        longer than `timeout_s` in all, however many reads before it hang.
        """
        deadline = time.monotonic() + self.timeout_s
        if not self._slots.acquire(timeout=self.timeout_s):
            raise GuardedReadError(Failure.BUSY, "earlier reads of the host have not returned")
        outcome: _Outcome[T] = _Outcome()
        worker = threading.Thread(
            target=self._work, args=(read, outcome), name="lvs-arp-read", daemon=True
        )
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            raise GuardedReadError(
                Failure.TIMEOUT, f"reading the host took longer than {self.timeout_s:g}s"
            )
        if outcome.error is not None:
            raise outcome.error
        return outcome.values[0]

    def _work(self, read: Callable[[], T], outcome: _Outcome[T]) -> None:
        try:
            outcome.values.append(read())
        except BaseException as err:  # handed to the waiting scrape, which sorts it out
            outcome.error = err
        finally:
            self._slots.release()
