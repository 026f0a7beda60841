"""A profile of one re-crawl process: where its time goes (figures, no goal).

``python -m benchmarks.profile_recrawl [--panels 40]``: the simulated panels are crawled once
(the first crawl, every offer new), then the crawl child process of a re-crawl of the same
listings runs under cProfile. Prints the child's wall time, its start-up (imports before the
crawl) and the functions with the most cumulative time.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--panels", type=int, default=40)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--save", type=Path, help="keep the profile here (pstats file)")
    args = parser.parse_args(argv)
    from clickfarm.demo import export_sites_file, observation_time
    from crawlers.runner import DATABASE_URL_ENV, run_crawl
    from simulator.market import Market
    from simulator.server import SimulatorServer
    from storage.db import get_engine, migrate

    with tempfile.TemporaryDirectory(prefix="clickfarm-profile-") as directory:
        workdir = Path(directory)
        database_url = f"sqlite:///{workdir / 'crawl.db'}"
        migrate(get_engine(database_url))
        market = Market(seed=11, n_panels=args.panels, n_shops=0)
        sites_path = workdir / "sites.yaml"
        profile = workdir / "recrawl.prof"
        with SimulatorServer(market) as server:
            os.environ["CLICKFARM_SIM_URL"] = server.base_url
            os.environ.update(market.api_key_env())
            export_sites_file(market, sites_path)
            observed = observation_time(market.today)
            result = run_crawl(None, sites_path=sites_path, observed_at=observed,
                               database_url=database_url)
            if result.returncode != 0:
                raise RuntimeError(f"first crawl failed: {result.stderr_tail}")
            environment = {**os.environ, DATABASE_URL_ENV: database_url}
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "cProfile", "-o", str(profile), "-m",
                            "crawlers.runner", "--schema-is-current", "--sites-file",
                            str(sites_path), "--observed-at",
                            (observed + timedelta(minutes=1)).isoformat()],
                           check=True, env=environment, stderr=subprocess.DEVNULL)
            wall = time.perf_counter() - started
        stats = pstats.Stats(str(profile))
        entries = stats.stats  # type: ignore[attr-defined]
        total = max(cumulative for _calls, _primitive, _own, cumulative, _callers
                    in entries.values())
        # Imports: the outermost import machinery frames (nested imports counted once).
        imports = max((cumulative for (_file, _line, name), (_c, _p, _o, cumulative, _callers)
                       in entries.items() if name == "_find_and_load"), default=0.0)
        print(json.dumps({"panels": args.panels, "recrawl_child_wall_seconds": round(wall, 2),
                          "profiled_seconds": round(total, 2),
                          "import_seconds": round(imports, 2)}, indent=2))
        stats.sort_stats("cumulative").print_stats(args.top)
        if args.save:
            stats.dump_stats(str(args.save))
    return 0


if __name__ == "__main__":
    sys.exit(main())
