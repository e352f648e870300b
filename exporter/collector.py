"""A prometheus_client collector that reads and judges the host afresh on every scrape.

No cache and no timer: what Prometheus stores is what the kernel had when it asked; with
--probe-arp each scrape also asks the segment who answers ARP (the probe window, inside the
scrape timeout). A read
that fails or hangs becomes `lvs_arp_scrape_success 0` and a counted reason, never a
traceback on the wire or a silent gap.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

from prometheus_client.core import Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector, CollectorRegistry

from checks.assess import Assessment, NodeCheck
from checks.errors import LvsArpError

from .families import (
    DEFAULT_VIP_SERIES_LIMIT,
    assessment_families,
    build_info,
    probe_families,
    role_info,
    scrape_families,
)
from .read_guard import Failure, GuardedReadError, ReadGuard

logger = logging.getLogger(__name__)

DEFAULT_SCRAPE_TIMEOUT_S = 5.0


class ArpCollector(Collector):
    def __init__(
        self,
        check: NodeCheck,
        guard: ReadGuard | None = None,
        vip_series_limit: int = DEFAULT_VIP_SERIES_LIMIT,
    ) -> None:
        self.check = check
        self.guard = guard or ReadGuard(DEFAULT_SCRAPE_TIMEOUT_S)
        self.vip_series_limit = vip_series_limit
        self._errors = dict.fromkeys(Failure, 0)
        self._errors_lock = threading.Lock()  # concurrent scrapes count into one dict

    # No describe(): registering would otherwise read the host before the first scrape.

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        assessment, failure = self._assess()
        duration_s = time.perf_counter() - started
        yield build_info()
        yield role_info(self.check.role)
        if assessment is not None:
            yield from assessment_families(assessment, self.vip_series_limit)
            if self.check.probe is not None:
                yield from probe_families(assessment)
        with self._errors_lock:
            if failure is not None:
                self._errors[failure] += 1
            errors = dict(self._errors)
        yield from scrape_families(failure, duration_s, errors)

    def _assess(self) -> tuple[Assessment | None, Failure | None]:
        try:
            return self.guard.run(self.check.assess), None
        except GuardedReadError as err:
            logger.error("cannot judge the host: %s", err)
            return None, err.failure
        except LvsArpError as err:
            logger.error("cannot read the host: %s", err)
            return None, Failure.READ
        except Exception:
            logger.exception("reading the host failed unexpectedly")
            return None, Failure.INTERNAL


def build_registry(collector: ArpCollector, process: bool = True) -> CollectorRegistry:
    """A registry of our own, never the global one: the verdicts, and the exporter's own
    process_* metrics (CPU, memory, open files) that every exporter's users expect. A
    --textfile run leaves process_* out: they would describe a process that has exited."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    if process:
        ProcessCollector(registry=registry)
    return registry
