"""Import speed of `clickfarm import-csv` as a ratio against the storage benchmark's baseline.

Ours: every price list of the 2020 dataset sample (``../shared/data/smmpanels/raw``: 34 panels,
534 files, about 360,000 rows) imported into a fresh SQLite database by
:func:`clickfarm.import_csv.import_price_lists` (read, normalize, validate, change-only storage,
the daily price index rebuilt at the end), in rows per second. Baseline: the storage
benchmark's raw ``sqlite3.executemany`` of equivalent rows (offer + price period + event per
offer, :func:`benchmarks.run._raw_sqlite_baseline`), offers per second, measured in the same
run. The ratio is taken on CPU seconds of this process (both sides run in it, SQLite included),
which a busy shared machine does not distort; the wall-clock ratio is printed beside it. The
ratio ours / baseline has no goal: the baseline does no reading and no normalization
(which is most of an import: the time split is printed), it only puts the figure on a scale
that does not depend on the machine. A second import of the same files must add no row.

    python -m benchmarks.import_csv [--lists ../shared/data/smmpanels/raw] [--latest N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from core.config import REPO_ROOT

# ../shared beside the repository, or CLICKFARM_SHARED_DIR (as for the tests).
DEFAULT_LISTS = (Path(os.environ.get("CLICKFARM_SHARED_DIR", REPO_ROOT.parent / "shared"))
                 / "data" / "smmpanels" / "raw")


def bench_import(workdir: Path, *, lists: Path, latest: int | None = None,
                 baseline_offers: int = 20_000) -> dict[str, Any]:
    from benchmarks.run import _raw_sqlite_baseline, _synthetic_offers
    from clickfarm import import_csv
    from storage.db import get_engine, migrate
    from storage.repository import table_counts

    workdir.mkdir(parents=True, exist_ok=True)
    offers = _synthetic_offers(baseline_offers)
    # Best of three, in wall and in CPU seconds of this process (the CPU figures do not depend
    # on what else the shared machine runs: the ratio uses them).
    baseline_wall = baseline_cpu = float("inf")
    for attempt in range(3):
        baseline_wall = min(baseline_wall, _raw_sqlite_baseline(
            workdir / f"raw-{attempt}.db", offers))
        baseline_cpu = min(baseline_cpu, _raw_sqlite_baseline(
            workdir / f"raw-cpu-{attempt}.db", offers, clock=time.process_time))
    engine = get_engine(f"sqlite:///{workdir / 'import.db'}")
    migrate(engine)
    files, problems = import_csv.find_price_lists(lists, latest=latest)
    # Time spent reading and normalizing, apart from storing: the steps, wrapped.
    spent = {"read_and_normalize": 0.0}
    original = import_csv.process_rows

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent["read_and_normalize"] += time.perf_counter() - started

    import_csv.process_rows = timed  # type: ignore[assignment]
    try:
        started, cpu = time.perf_counter(), time.process_time()
        summary = import_csv.import_price_lists(engine, lists, files)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    finally:
        import_csv.process_rows = original  # type: ignore[assignment]
    rows = summary.offers + summary.rejected
    before = table_counts(engine)
    started = time.perf_counter()
    again = import_csv.import_price_lists(engine, lists, files)
    again_seconds = time.perf_counter() - started
    after = table_counts(engine)
    added = {table: after[table] - before[table] for table in after if after[table] != before[table]}
    return {
        "files": len(files), "problems": problems, "imported": summary.count("imported"),
        "failed": summary.count("failed"), "rows": rows, "offers": summary.offers,
        "rejected": summary.rejected, "price_rows": summary.price_rows,
        "seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2),
        "normalize_seconds": round(spent["read_and_normalize"], 2),
        "rows_per_cpu_second": round(rows / cpu_seconds, 1),
        "raw_sqlite_offers_per_cpu_second": round(baseline_offers / baseline_cpu, 1),
        "ratio": round((rows / cpu_seconds) / (baseline_offers / baseline_cpu), 4),
        "ratio_wall_clock": round((rows / seconds) / (baseline_offers / baseline_wall), 4),
        "goal": "none (reported)",
        "second_import_seconds": round(again_seconds, 2),
        "second_import_skipped": again.count("skipped"),
        "second_import_rows_added": added, "second_import_goal": "no rows",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lists", type=Path, default=DEFAULT_LISTS)
    parser.add_argument("--latest", type=int, help="only each panel's N latest files")
    args = parser.parse_args(argv)
    if not args.lists.is_dir():
        print(f"price lists not found at {args.lists}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="clickfarm-import-bench-") as directory:
        result = bench_import(Path(directory), lists=args.lists, latest=args.latest)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
