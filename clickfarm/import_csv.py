"""`clickfarm import-csv DIR`: published price lists into the store as observed history.

The layout is that of the 2020 smmpanels dataset: ``DIR/<Panel>/<YYYY_MM_DD>.csv`` or
``.csv.gz``, one file per panel and crawl day. Each file goes the way of one crawl:

- one site per panel (id: the panel's folder name in lower case, ``--site-prefix`` before it;
  family ``smm_html``, the public services page the dataset was scraped from; never crawled:
  its URL is the folder's ``file:`` URI and it is not promoted);
- one run per file (trigger ``import``) observed at noon UTC of the file's date;
- the rows through the crawl's own steps: :func:`crawlers.extract.price_list_csv` (the pure
  reader), :func:`pipelines.normalize.normalize_offer` (taxonomy, money, the ECB rate of that
  date, attributes), :func:`pipelines.validate.validate_offer`, then
  :func:`storage.repository.complete_run`: change-only periods, events, removals, in one
  transaction per file; rows that cannot be read are ``rejected_offer`` rows with the reason;
  the stored daily price index of the days imported is rebuilt once at the end;
- a file that cannot be read at all is a ``failed`` run with the reason; so is a file whose
  every row is rejected, and an empty list where the panel had offers (as for a crawl);
- a file whose run exists (same site, trigger ``import``, same observation time) is skipped: a
  second import adds nothing. A run left by an import that was stopped (Ctrl-C, killed) is
  ``interrupted`` and stored nothing: its file is imported again. A file older than a run already stored for its site is skipped
  too (history is stored in time order; importing it would rewrite later periods).
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from core.offers import NormalizedOffer, Rejection
from crawlers.extract.price_list_csv import extract_price_list_csv
from crawlers.items import ExtractError
from pipelines.coverage_pipeline import TRACKED_FIELDS
from pipelines.normalize import normalize_offer, usd_gap_reason
from pipelines.validate import validate_offer
from storage import repository
from storage.models import run_table, site_table
from storage.price_index import rebuild as rebuild_price_index

TRIGGER = "import"
FAMILY = "smm_html"
SUFFIXES = (".csv.gz", ".csv")
_FILE_DATE = re.compile(r"^(\d{4})[_-](\d{2})[_-](\d{2})$")
OBSERVED_AT = day_time(12, 0)
"""Files are dated by day: the observation is recorded at noon UTC of that day."""


@dataclass(frozen=True, slots=True)
class PriceListFile:
    panel: str
    site_id: str
    path: Path
    day: date

    @property
    def observed_at(self) -> datetime:
        return datetime.combine(self.day, OBSERVED_AT, UTC)


@dataclass(slots=True)
class FileOutcome:
    file: PriceListFile
    status: str
    """``imported`` (run succeeded), ``failed`` (a failed run was stored) or ``skipped``."""
    run_id: int | None = None
    offers: int = 0
    rejected: int = 0
    new: int = 0
    changed: int = 0
    removed: int = 0
    price_rows: int = 0
    reason: str | None = None


@dataclass(slots=True)
class ImportSummary:
    outcomes: list[FileOutcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Files found but not importable (no date in the name, a second file for one date)."""
    seconds: float = 0.0
    index_rows: int = 0
    """Rows of the daily price index rebuilt for the days imported."""

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def offers(self) -> int:
        return sum(outcome.offers for outcome in self.outcomes)

    @property
    def rejected(self) -> int:
        return sum(outcome.rejected for outcome in self.outcomes)

    @property
    def price_rows(self) -> int:
        return sum(outcome.price_rows for outcome in self.outcomes)


def site_id_for(panel: str, prefix: str = "") -> str:
    """``SMM-Panel`` -> ``smm-panel``; ``prefix`` (``"2020-"``) goes first; the id obeys the
    sites file's rule (lower case letters, digits, ``.``, ``_``, ``-``, at most 63)."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", f"{prefix}{panel}".lower()).strip("-._")
    return slug[:63] or "panel"


def file_day(path: Path) -> date | None:
    """The date in a price list's name (``2020_03_20.csv.gz``), or ``None``."""
    stem = path.name
    for suffix in SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    else:
        return None
    match = _FILE_DATE.match(stem)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def find_price_lists(directory: Path, *, site_prefix: str = "",
                     panels: Iterable[str] | None = None, since: date | None = None,
                     until: date | None = None, latest: int | None = None
                     ) -> tuple[list[PriceListFile], list[str]]:
    """The price lists under ``directory`` (``<Panel>/<YYYY_MM_DD>.csv[.gz]``), per panel in
    date order, and the problems met (names without a date, two files for one date).

    ``panels`` keeps only those folders (by name, any case); ``since`` / ``until`` keep the
    files dated in that range; ``latest`` keeps each panel's N latest of those."""
    wanted = {name.lower() for name in panels} if panels else None
    found: list[PriceListFile] = []
    problems: list[str] = []
    for folder in sorted(p for p in directory.iterdir() if p.is_dir()):
        if wanted is not None and folder.name.lower() not in wanted:
            continue
        by_day: dict[date, Path] = {}
        for path in sorted(folder.iterdir()):
            if not path.is_file() or not path.name.endswith(SUFFIXES):
                continue
            day = file_day(path)
            if day is None:
                problems.append(f"{folder.name}/{path.name}: no YYYY_MM_DD date in the name")
                continue
            if day in by_day:
                problems.append(f"{folder.name}/{path.name}: a second file for {day} "
                                f"(kept {by_day[day].name})")
                continue
            by_day[day] = path
        days = [day for day in sorted(by_day) if (since is None or day >= since)
                and (until is None or day <= until)]
        if latest is not None:
            days = days[-latest:] if latest > 0 else []
        site_id = site_id_for(folder.name, site_prefix)
        found += [PriceListFile(folder.name, site_id, by_day[day], day) for day in days]
    return found, problems


def process_rows(result: Any, *, observed_at: datetime, currency: str | None,
                 stats: Counter[str]) -> tuple[list[NormalizedOffer], list[Rejection]]:
    """The crawl's item steps on one file's rows, in the crawl's order: extraction rejections
    as the normalize pipeline stores them, :func:`normalize_offer` (site currency: the one the
    file's price header states, else ``currency``), :func:`validate_offer`, and the field
    coverage and USD-gap counters of the crawl stats."""
    offers: list[NormalizedOffer] = []
    rejections: list[Rejection] = []
    site_currency = result.currency or currency
    stats["offers/extracted"] += len(result.offers)
    for item in result.rejected:
        stats["offers/rejected/extract"] += 1
        offer_id = str(item.site_offer_id).strip() if item.site_offer_id is not None else ""
        rejections.append(Rejection(site_offer_id=offer_id or None, reason=item.reason,
                                    raw=item.raw))
    for raw in result.offers:
        normalized = normalize_offer(raw, site_currency=site_currency, observed_at=observed_at)
        if isinstance(normalized, Rejection):
            stats["offers/rejected/normalize"] += 1
            rejections.append(normalized)
            continue
        gap = usd_gap_reason(normalized)
        if gap:
            stats[gap] += 1
        reason = validate_offer(normalized)
        if reason is not None:
            stats["offers/rejected/validate"] += 1
            rejections.append(Rejection(
                site_offer_id=normalized.site_offer_id, reason=reason,
                raw={"name": normalized.name_raw, "price": normalized.price_raw,
                     "currency": normalized.currency, "min": normalized.min_quantity,
                     "max": normalized.max_quantity}))
            continue
        stats["offers/normalized"] += 1
        for name in TRACKED_FIELDS:
            if getattr(normalized, name) is None:
                stats[f"field/{name}/missing"] += 1
        offers.append(normalized)
    return offers, rejections


class SiteTaken(Exception):
    """The site id of a panel belongs to a site that was not imported (a crawled seller)."""


def _prepare_site(engine: Engine, file: PriceListFile, directory: Path) -> list[Any]:
    """Create the panel's site (or check it is an imported one); its stored runs."""
    with engine.connect() as connection:
        row = connection.execute(select(site_table.c.config).where(
            site_table.c.id == file.site_id)).one_or_none()
        runs = connection.execute(
            select(run_table.c.id, run_table.c.started_at, run_table.c.trigger,
                   run_table.c.status)
            .where(run_table.c.site_id == file.site_id)).all()
    if row is not None and (row.config or {}).get("imported_from") is None:
        raise SiteTaken(f"site {file.site_id!r} exists and was not imported (a crawled "
                        f"seller): give --site-prefix to keep the panel apart")
    if row is None:
        folder = (directory / file.panel).resolve()
        repository.upsert_site(engine, site_id=file.site_id, url=folder.as_uri(),
                               family=FAMILY, currency=None, now=file.observed_at,
                               config={"imported_from": str(folder), "panel": file.panel})
    return list(runs)


def import_file(engine: Engine, file: PriceListFile, *, currency: str | None,
                runs: list[Any]) -> FileOutcome:
    """Import one price list (its site exists); ``runs``: the site's stored runs, to which
    the new run is added."""
    all_runs = runs
    observed_at = file.observed_at
    # An interrupted import stored nothing (its transaction was rolled back): done again.
    runs = [run for run in runs if run.status != "interrupted"]
    for run in runs:
        started = _aware(run.started_at)
        if run.trigger == TRIGGER and started == observed_at:
            return FileOutcome(file, "skipped", run_id=run.id,
                               reason=f"imported already (run {run.id}, {run.status})")
    later = [run for run in runs if _aware(run.started_at) >= observed_at]
    if later:
        first = min(later, key=lambda run: _aware(run.started_at))
        return FileOutcome(file, "skipped", reason=(
            f"older than run {first.id} of {file.site_id} at {_aware(first.started_at):%Y-%m-%d}: "
            "history is stored in time order"))
    started_clock = time.monotonic()
    # The pid lets the next writer mark the run interrupted when this process is killed.
    run_id = repository.start_run(engine, site_id=file.site_id, started_at=observed_at,
                                  trigger=TRIGGER, pid=os.getpid())
    try:
        outcome = _store_file(engine, file, run_id=run_id, currency=currency,
                              started_clock=started_clock)
    except BaseException as stop:  # Ctrl-C, a database error: nothing of the file is stored
        repository.fail_run(engine, run_id=run_id, status="interrupted", error=(
            f"import stopped before the end ({type(stop).__name__}: {stop})"[:500]),
            finished_at=observed_at + timedelta(seconds=time.monotonic() - started_clock))
        raise
    all_runs.append(_RunRow(run_id, observed_at, TRIGGER,
                            "failed" if outcome.status == "failed" else "succeeded"))
    return outcome


def _store_file(engine: Engine, file: PriceListFile, *, run_id: int, currency: str | None,
                started_clock: float) -> FileOutcome:
    observed_at = file.observed_at
    stats: Counter[str] = Counter()
    notes: list[str] = []
    offers: list[NormalizedOffer] = []
    rejections: list[Rejection] = []
    error: str | None = None
    try:
        result = extract_price_list_csv(file.path.read_bytes(), name=file.path.name)
    except ExtractError as failure:
        error = str(failure)
    except OSError as failure:
        error = f"cannot read the file: {failure.strerror or failure}"
    else:
        notes = result.notes
        offers, rejections = process_rows(result, observed_at=observed_at, currency=currency,
                                          stats=stats)
    run_stats: dict[str, Any] = {**stats, "notes": notes[:20],
                                 "import": {"file": f"{file.panel}/{file.path.name}",
                                            "bytes": _size(file.path)}}

    def finished() -> datetime:
        return observed_at + timedelta(seconds=time.monotonic() - started_clock)

    outcome = FileOutcome(file, "failed", run_id=run_id, rejected=len(rejections))
    if error is None and not offers and rejections:
        error = f"every row was rejected ({len(rejections)}), e.g. {rejections[0].reason}"
    if error is None and not offers:
        previous = repository.last_successful_offer_count(engine, site_id=file.site_id)
        if previous:
            error = (f"empty price list: 0 offers where the last import saw {previous}; "
                     "nothing was marked removed")
    if error is not None:
        repository.fail_run(engine, run_id=run_id, finished_at=finished(), error=error,
                            rejections=rejections, stats=run_stats)
        outcome.reason = error
        return outcome
    stored = repository.complete_run(
        engine, run_id=run_id, site_id=file.site_id, observed_at=observed_at, offers=offers,
        rejections=rejections, counters=[], pages=1, stats=run_stats, finished_at=finished(),
        refresh_index=False)
    duplicates = stored.rejected - len(rejections)
    return FileOutcome(file, "imported", run_id=run_id, offers=len(offers) - duplicates,
        rejected=stored.rejected,
        new=stored.new, changed=stored.changed, removed=stored.removed,
        price_rows=stored.price_rows_added)


@dataclass(frozen=True, slots=True)
class _RunRow:
    id: int
    started_at: datetime
    trigger: str
    status: str


def import_price_lists(engine: Engine, directory: Path, files: list[PriceListFile], *,
                       currency: str | None = "USD",
                       on_file: Callable[[FileOutcome], None] | None = None) -> ImportSummary:
    """Import ``files`` (from :func:`find_price_lists`) panel by panel in date order;
    ``on_file`` hears about each file when it is done (the progress bar)."""
    started = time.monotonic()
    summary = ImportSummary()
    # Runs of an import (or crawl) process that was killed: interrupted, so done again here.
    repository.mark_stale_runs_interrupted(engine, now=datetime.now(UTC))
    try:
        _import_all(engine, directory, files, currency, on_file, summary)
    finally:
        # The daily price index of the days imported, in one sweep (per file it would
        # recompute the days between two weekly lists again and again).
        days = [o.file.day for o in summary.outcomes if o.status == "imported"]
        if days:
            summary.index_rows = rebuild_price_index(engine, start=min(days), end=max(days))
    summary.seconds = time.monotonic() - started
    return summary


def _import_all(engine: Engine, directory: Path, files: list[PriceListFile],
                currency: str | None, on_file: Callable[[FileOutcome], None] | None,
                summary: ImportSummary) -> None:
    runs_by_site: dict[str, list[Any]] = {}
    refused: dict[str, str] = {}
    for file in files:
        if file.site_id in refused:
            outcome = FileOutcome(file, "skipped", reason=refused[file.site_id])
        else:
            try:
                if file.site_id not in runs_by_site:
                    runs_by_site[file.site_id] = _prepare_site(engine, file, directory)
                outcome = import_file(engine, file, currency=currency,
                                      runs=runs_by_site[file.site_id])
            except SiteTaken as taken:
                refused[file.site_id] = str(taken)
                outcome = FileOutcome(file, "skipped", reason=str(taken))
        summary.outcomes.append(outcome)
        if on_file is not None:
            on_file(outcome)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


