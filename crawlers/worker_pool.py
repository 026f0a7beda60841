"""Long-lived crawl processes for jobs that crawl the same sellers again and again (the parent side
of :mod:`crawlers.worker`).

:func:`crawlers.runner.run_crawls` starts a process per batch of sites; each pays its start-up
(imports, Scrapy's set-up, Playwright's driver and Chromium for a JavaScript shop) every time.
:class:`CrawlWorkers` keeps up to ``size`` worker processes and sends each crawl's batches to
them instead. Everything else is the crawl runner's: the parent creates the runs (``running``,
with the worker's pid) before a batch goes out, the worker's storage pipeline completes them,
and :func:`crawlers.runner.settle_runs` gives an honest final status to whatever a batch left
open. The isolation of a crawl process is kept where it matters:

- a hard timeout per batch: past it, the worker gets SIGTERM (its crawls close their runs as
  ``interrupted``), SIGKILL after a grace, and the runs say ``hard timeout ...``; the next batch
  starts a fresh worker;
- a worker that dies (killed, crashed) fails or interrupts only its batch's runs, with the
  reason; the next batch starts a fresh worker;
- a worker's stderr goes to a file; a batch's error summary reads only what it wrote during
  that batch.

Workers are started on first use, in their own session (a Ctrl-C meant for the parent does not
reach them), and end when the pool closes (stdin closed: they close Chromium and exit), or when
the parent dies (their stdin closes too).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from crawlers.child_process import read_lines, signal_group, stop, tail
from crawlers.runner import (
    DEFAULT_STOP_GRACE_SECONDS,
    STDERR_TAIL_CHARS,
    CrawlProcessResult,
    _ensure_schema,
    _error_summary,
    _verdict,
    balanced_groups,
    child_environment,
    create_runs,
    settle_runs,
)
from storage import repository


@dataclass
class _Worker:
    process: subprocess.Popen[str]
    stderr: IO[bytes]
    replies: queue.Queue[str | None] = field(default_factory=queue.Queue)
    busy: bool = False
    """A batch is in flight: its thread reads the stderr file and closes it when done."""

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stderr_size(self) -> int:
        return os.fstat(self.stderr.fileno()).st_size


class CrawlWorkers:
    """Up to ``size`` long-lived crawl processes (one per CPU is the most that helps: parsing
    and normalizing are CPU-bound). Use as a context manager; :meth:`crawl` is the counterpart
    of :func:`crawlers.runner.run_crawls`."""

    def __init__(self, size: int = 2, *, database_url: str | None,
                 sites_path: Path | str | None = None, log_level: str = "WARNING",
                 stop_grace_seconds: float = DEFAULT_STOP_GRACE_SECONDS) -> None:
        from storage.db import shared_engine

        self.size = max(1, size)
        self.database_url = database_url
        self.sites_path = sites_path
        self.log_level = log_level
        self.stop_grace_seconds = stop_grace_seconds
        _ensure_schema(database_url)
        self.engine = shared_engine(database_url)
        self.workers: dict[int, _Worker] = {}
        self.lock = threading.Lock()
        self.jobs = 0
        self.started = 0
        """Worker processes started so far (a new one replaces each that died or timed out)."""

    def __enter__(self) -> CrawlWorkers:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def pids(self) -> list[int]:
        return [worker.pid for worker in self.workers.values() if worker.alive()]

    # -- crawling -----------------------------------------------------------------------------

    def crawl(self, site_ids: list[str], *, observed_at: datetime | None = None,
              weights: dict[str, int] | None = None, trigger: str = "manual",
              timeout_seconds: float = 3600) -> list[CrawlProcessResult]:
        """Crawl the sites, split into up to ``size`` batches of similar work (``weights``: see
        :func:`crawlers.runner.balanced_groups`), each batch in its own worker at once; one
        result per batch, its ``run_ids`` settled. ``timeout_seconds`` bounds each batch."""
        batches = balanced_groups(site_ids, self.size, weights)
        moment = observed_at or datetime.now(UTC)
        with ThreadPoolExecutor(max_workers=len(batches) or 1) as pool:
            futures = [pool.submit(self.crawl_batch, slot, batch, observed_at=moment,
                                   trigger=trigger, timeout_seconds=timeout_seconds)
                       for slot, batch in enumerate(batches)]
            try:
                return [future.result() for future in futures]
            except BaseException:
                # Ctrl-C (or any error) in the caller: the workers stop their crawls (runs
                # closed ``interrupted``) instead of the batches running on to their timeout.
                self.close()
                raise

    def crawl_batch(self, slot: int, batch: list[str], *, observed_at: datetime,
                    trigger: str, timeout_seconds: float) -> CrawlProcessResult:
        """One batch in worker ``slot`` (started, or replaced, as needed)."""
        run_by_site = create_runs(self.engine, batch, sites_path=self.sites_path,
                                  database_url=self.database_url, trigger=trigger,
                                  planned_at=None, started_at=observed_at)
        worker = self._worker(slot)
        repository.set_run_pid(self.engine, list(run_by_site.values()), worker.pid)
        with self.lock:
            self.jobs += 1
            job_id = self.jobs
        job = {"job": job_id, "sites": batch,
               "sites_file": str(self.sites_path) if self.sites_path else None,
               "observed_at": observed_at.isoformat(), "trigger": trigger,
               "run_ids": run_by_site}
        worker.busy = True
        try:
            return self._send(slot, worker, job, run_by_site, observed_at=observed_at,
                              timeout_seconds=timeout_seconds)
        finally:
            worker.busy = False

    def _send(self, slot: int, worker: _Worker, job: dict[str, Any], run_by_site: dict[str, int],
              *, observed_at: datetime, timeout_seconds: float) -> CrawlProcessResult:
        job_id = job["job"]
        offset = worker.stderr_size()
        started = time.monotonic()
        timed_out = died = False
        answer: dict[str, Any] | None = None
        try:
            assert worker.process.stdin is not None
            worker.process.stdin.write(json.dumps(job) + "\n")
            worker.process.stdin.flush()
        except (OSError, ValueError):  # the worker is gone (or closed): its exit is read below
            died = True
        deadline = started + timeout_seconds
        while answer is None and not died:
            try:
                line = worker.replies.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                timed_out = True
                break
            if line is None:  # stdout closed: the worker ended
                died = True
                break
            try:
                message = json.loads(line)
            except ValueError:  # not an answer (the worker's stdout carries only answers)
                continue
            if isinstance(message, dict) and message.get("job") == job_id:
                answer = message
        seconds = time.monotonic() - started
        gone = timed_out or died
        if timed_out:
            stop(worker.process, self.stop_grace_seconds)
        if gone:
            worker.process.wait()
        returncode = worker.process.returncode if gone else (
            0 if answer and answer.get("ok") else 1)
        stderr_tail = tail(worker.stderr, STDERR_TAIL_CHARS, start=offset)
        if gone:  # the next batch of this slot starts a fresh worker
            self._discard(slot, worker)
        result = CrawlProcessResult(returncode, timed_out, stderr_tail, pid=worker.pid,
                                    seconds=seconds)
        if answer is not None and not answer.get("ok"):
            status, reason = "failed", f"crawl job failed: {answer.get('error')}"
        elif answer is not None:
            status, reason = "failed", ("the crawl worker finished the job without closing the "
                                        f"run ({_error_summary(stderr_tail)})")
        else:
            status, reason = _verdict(result, timeout_seconds=timeout_seconds,
                                      cancel_reason="crawl worker stopped")
        result.run_ids = settle_runs(self.engine, run_ids=list(run_by_site.values()),
                                     status=status, reason=reason, stopped_by_parent=timed_out,
                                     started_at=observed_at, seconds=seconds)
        return result

    # -- workers ------------------------------------------------------------------------------

    def _worker(self, slot: int) -> _Worker:
        with self.lock:
            worker = self.workers.get(slot)
            if worker is not None and worker.alive():
                return worker
            if worker is not None:
                self._close_files(worker)
            worker = self._start()
            self.workers[slot] = worker
            self.started += 1
            return worker

    def _start(self) -> _Worker:
        stderr = tempfile.TemporaryFile()
        process = subprocess.Popen(
            [sys.executable, "-m", "crawlers.worker", "--log-level", self.log_level],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True,
            env=child_environment(self.database_url), start_new_session=True)
        worker = _Worker(process, stderr)
        reader = threading.Thread(target=read_lines, args=(process.stdout, worker.replies),
                                  daemon=True, name=f"crawl-worker-{process.pid}")
        reader.start()
        return worker

    def _discard(self, slot: int, worker: _Worker) -> None:
        with self.lock:
            if self.workers.get(slot) is worker:
                del self.workers[slot]
        self._close_files(worker)

    @staticmethod
    def _close_files(worker: _Worker) -> None:
        for stream in (worker.process.stdin, worker.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass

    def close(self) -> None:
        """End every worker: stdin closed (it stops a crawl in progress, whose runs close as
        ``interrupted`` once its requests in flight end, closes Chromium and exits); SIGKILL
        if it has not exited after the grace."""
        with self.lock:
            workers, self.workers = list(self.workers.values()), {}
        for worker in workers:
            try:
                if worker.process.stdin is not None:
                    worker.process.stdin.close()
            except OSError:
                pass
        for worker in workers:
            try:
                worker.process.wait(timeout=self.stop_grace_seconds)
            except subprocess.TimeoutExpired:
                # Closing stdin already asked for the graceful stop that SIGTERM would.
                signal_group(worker.pid, signal.SIGKILL)
                worker.process.wait()
            if not worker.busy:  # else the batch's thread still reads its stderr
                self._close_files(worker)
