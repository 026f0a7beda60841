"""Crawl cycles (storage/leases.py): claimed once, over once, crawled again only when an
attempt was interrupted; one worker per site. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from storage import leases, repository
from storage.models import cycle_table, run_table
from tests.run_history import add_site

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
W1, W2 = "host-a:1:w1", "host-b:2:w2"


def _claim(engine: Engine, holder: str, *, site: str = "s1", seconds: float = 0,
           max_attempts: int = 3) -> leases.CycleClaim:
    return leases.claim_cycle(engine, site, T0, holder, lease_seconds=30,
                              max_attempts=max_attempts, now=T0 + timedelta(seconds=seconds))


def _cycle(engine: Engine, site: str = "s1") -> dict[str, object]:
    with engine.connect() as connection:
        return dict(connection.execute(select(cycle_table).where(
            cycle_table.c.site_id == site)).one()._mapping)


def test_planning_a_cycle_twice_creates_it_once(db_engine: Engine) -> None:
    assert leases.plan_cycles(db_engine, ["s1", "s2"], T0) == ["s1", "s2"]
    assert leases.plan_cycles(db_engine, ["s1", "s2", "s3"], T0) == ["s3"]
    assert leases.plan_cycles(db_engine, ["s1"], T0 + timedelta(hours=1)) == ["s1"]
    assert leases.cycle_counts(db_engine) == {"queued": 4}


# (run status of the attempt, cycle status after it): over, or to be crawled again.
FINISHES = [("succeeded", "succeeded"), ("partial", "succeeded"), ("failed", "failed"),
            ("interrupted", "interrupted"), (None, "interrupted")]


def test_an_attempt_closes_the_cycle_from_its_run(db_engine: Engine) -> None:
    for index, (run_status, expected) in enumerate(FINISHES):
        site = f"f{index}"
        claim = _claim(db_engine, W1, site=site)
        assert claim.outcome == "claimed" and claim.attempt == 1
        assert claim.cycle_id is not None
        status = leases.finish_cycle(db_engine, claim.cycle_id, holder=W1, site_id=site,
                                     run_id=None, run_status=run_status)
        assert status == expected == _cycle(db_engine, site)["status"], run_status
        again = _claim(db_engine, W2, site=site, seconds=1)  # the lease was released
        assert again.outcome == ("done" if expected in ("succeeded", "failed") else "claimed")


def test_one_worker_per_site_and_a_lost_worker_s_run_is_closed(db_engine: Engine) -> None:
    add_site(db_engine, "s1")
    first = _claim(db_engine, W1)
    assert first.outcome == "claimed"
    run_id = repository.start_run(db_engine, site_id="s1", started_at=T0, trigger="schedule",
                                  planned_at=T0)
    # The same cycle delivered to a second worker while the first crawls: busy.
    assert _claim(db_engine, W2, seconds=10).outcome == "busy"
    # The first worker died (its lease ran out): the second closes its run and crawls again.
    second = _claim(db_engine, W2, seconds=31)
    assert (second.outcome, second.attempt, second.closed_runs) == ("claimed", 2, 1)
    with db_engine.connect() as connection:
        assert connection.execute(select(run_table.c.status).where(
            run_table.c.id == run_id)).scalar_one() == "interrupted"
    # The dead worker's late word changes nothing: the cycle is the second worker's now.
    assert first.cycle_id is not None
    leases.finish_cycle(db_engine, first.cycle_id, holder=W1, site_id="s1", run_id=None,
                        run_status="succeeded")
    assert _cycle(db_engine)["status"] == "running"
    assert _cycle(db_engine)["worker"] == W2


def test_a_cycle_interrupted_too_often_is_given_up(db_engine: Engine) -> None:
    for attempt in range(1, 3):
        claim = _claim(db_engine, W1, seconds=attempt, max_attempts=2)
        assert (claim.outcome, claim.attempt) == ("claimed", attempt)
        assert claim.cycle_id is not None
        leases.finish_cycle(db_engine, claim.cycle_id, holder=W1, site_id="s1", run_id=None,
                            run_status="interrupted")
    assert _claim(db_engine, W1, seconds=5, max_attempts=2).outcome == "exhausted"
    cycle = _cycle(db_engine)
    assert cycle["status"] == "failed" and "2 attempt" in str(cycle["error"])
    assert _claim(db_engine, W2, seconds=6, max_attempts=2).outcome == "done"


def test_a_task_failing_on_an_unexpected_error_is_sent_again_before_it_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The broker acknowledges a failed task: its cycles would stay queued until the next
    cycle. An unexpected error sends the task again (UNEXPECTED_ERROR_RETRIES times), then
    fails it with that error."""
    from scheduler import distributed

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    calls: list[list[tuple[str, datetime]]] = []

    def failing(_engine: object, _context: object, cycles: list[tuple[str, datetime]],
                _settings: object) -> distributed.TaskOutcome:
        calls.append(cycles)
        raise RuntimeError("a bug nobody expected")

    monkeypatch.setattr(distributed, "run_task", failing)
    result = distributed.crawl_sites.apply(args=([["s1", T0.isoformat()]], {}))
    assert len(calls) == distributed.UNEXPECTED_ERROR_RETRIES + 1
    assert calls[0] == [("s1", T0)]
    assert result.failed() and isinstance(result.result, RuntimeError)
