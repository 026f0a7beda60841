"""One scheduler plans: the ``scheduler`` lease in the database (:mod:`storage.leases`).

Two ``clickfarm schedule`` processes on one database (one machine or several, local or
distributed mode) would both plan every crawl. The first to take the lease plans and renews it
every third of ``scheduler.leader_lease_seconds``; the others wait as standbys, trying again as
often, and the first to find it expired (or held by a dead process of its own machine) takes
over. A leader that cannot renew (its lease was taken: it stalled longer than the lease) stops
planning at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine

from scheduler.resilience import one_line
from storage import leases

logger = logging.getLogger("clickfarm.scheduler")


class Leadership:
    """The scheduler lease of one ``clickfarm schedule`` process."""

    def __init__(self, engine: Engine, *, seconds: float, name: str = leases.SCHEDULER_LEASE,
                 holder: str | None = None) -> None:
        self.engine = engine
        self.seconds = seconds
        self.name = name
        self.holder = holder or leases.new_holder()
        self.lost = threading.Event()
        """Set when a renewal found the lease taken by another scheduler."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def interval(self) -> float:
        return max(0.05, self.seconds / 3)

    def try_acquire(self) -> bool:
        try:
            return leases.acquire(self.engine, self.name, self.holder, seconds=self.seconds)
        except Exception as error:  # the database is away: a standby stays one
            logger.warning("scheduler lease not checked: %s", one_line(error))
            return False

    def wait(self, stop_reason: Callable[[], str | None],
             deadline: float | None = None) -> str | None:
        """Block until this process holds the lease (None) or a stop is asked / ``deadline``
        (monotonic) passes (the reason)."""
        waiting_logged = False
        while True:
            if self.try_acquire():
                if waiting_logged:
                    logger.info("scheduler lease taken over: this scheduler plans now")
                return None
            if not waiting_logged:
                current = leases.lease_holder(self.engine, self.name)
                logger.info("another scheduler plans (%s): waiting as a standby",
                            current or "lease held")
                waiting_logged = True
            next_try = time.monotonic() + self.interval
            while time.monotonic() < next_try:
                reason = stop_reason()
                if reason is not None:
                    return reason
                if deadline is not None and time.monotonic() >= deadline:
                    return "--once-for elapsed while waiting as a standby"
                time.sleep(min(0.1, self.interval))

    def keep(self) -> None:
        """Renew the lease in a thread until :meth:`release`; sets :attr:`lost` if taken."""
        self._thread = threading.Thread(target=self._renew, name="scheduler-lease",
                                        daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if not leases.renew(self.engine, self.name, self.holder, seconds=self.seconds):
                    logger.error("the scheduler lease was taken by another scheduler: "
                                 "this one stops planning")
                    self.lost.set()
                    return
            except Exception as error:  # a blip: the lease outlives a few missed renewals
                logger.warning("scheduler lease not renewed: %s", one_line(error))

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if not self.lost.is_set():
            try:
                leases.release(self.engine, self.name, self.holder)
            except Exception as error:
                logger.warning("scheduler lease not released (it expires): %s",
                               one_line(error))
