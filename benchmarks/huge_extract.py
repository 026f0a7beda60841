"""`clickfarm extract` of a huge API answer: wall time and peak memory, this tree vs a baseline.

A 50 MB ``action=services`` answer (about 250,000 services, far beyond any real panel) used to
be read and normalized whole: about a minute and 740 MB. Today it is refused before it is read
(``MAX_EXTRACT_BYTES``). The benchmark also times the largest answer still accepted, so the
cost of a legitimate big file stays visible.

    python -m benchmarks.huge_extract [--baseline /work/main] [--megabytes 50]

Each measurement is one child process (its own figures from ``os.wait4``); the ratio is
baseline / this tree.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_services_answer(path: Path, megabytes: float) -> int:
    """Write a PerfectPanel ``services`` answer of at most ``megabytes`` MB, row by row (the
    parent's memory stays small: a child's peak RSS starts from its parent's at fork time);
    return its size in bytes."""
    limit = int(megabytes * 1024 * 1024)
    row = {"service": 0, "name": "Instagram Followers [Real] [Refill 30D]", "type": "Default",
           "rate": "0.90", "min": "100", "max": "10000", "category": "Instagram Followers"}
    written = 1
    with path.open("wb") as stream:
        stream.write(b"[")
        for number in range(10**9):
            text = json.dumps({**row, "service": number,
                               "rate": f"{0.5 + number % 97 / 10:.2f}"}).encode()
            if written + len(text) + 2 > limit:
                break
            stream.write((b", " if number else b"") + text)
            written += len(text) + (2 if number else 0)
        stream.write(b"]")
    return written + 1


def measure(tree: Path, page: Path) -> dict[str, float | int | str]:
    """Run ``clickfarm extract`` from ``tree``; seconds, peak RSS (MB) and exit code of that
    one child (``os.wait4`` gives its own resource usage)."""
    with tempfile.TemporaryFile() as stderr:
        started = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-c", "from clickfarm.cli import app; app()", "extract", str(page),
             "--family", "smm_api"],
            # From the tree itself: "python -c" puts the working folder first on the path.
            cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, stdout=subprocess.DEVNULL,
            stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        stderr.seek(0)
        lines = stderr.read().decode(errors="replace").strip().splitlines()
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "exit": child.returncode, "last_stderr_line": lines[-1][:200] if lines else ""}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="a tree to compare with (e.g. /work/main)")
    parser.add_argument("--megabytes", type=float, default=50.0)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from clickfarm.extract_file import MAX_EXTRACT_BYTES

    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as folder:
        huge = Path(folder) / "huge.json"
        results["huge_bytes"] = write_services_answer(huge, args.megabytes)
        largest = Path(folder) / "largest.json"
        results["largest_accepted_bytes"] = write_services_answer(
            largest, MAX_EXTRACT_BYTES / 1024 / 1024)
        if args.baseline:
            results["baseline_huge"] = measure(args.baseline, huge)
        results["this_tree_largest_accepted"] = measure(ROOT, largest)
        results["this_tree_huge"] = measure(ROOT, huge)
    if args.baseline:
        base, now = results["baseline_huge"], results["this_tree_huge"]
        assert isinstance(base, dict) and isinstance(now, dict)
        results["time_ratio_baseline_over_this"] = round(base["seconds"] / now["seconds"], 1)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
