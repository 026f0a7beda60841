"""What a crawl child process imports before its first request, and what that costs.

Run in fresh interpreters (``python -m benchmarks.startup``): the modules a crawl of one panel
loads (runner, the sites loader, the family's spider, the project settings, every item pipeline,
the storage engine), their count, and the best wall time of a few fresh processes. Figures only: start-up
is part of the crawl benchmark's ratios; this says where it goes (``-X importtime`` for detail).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

CHILD_IMPORTS = """
import sys, time
started = time.perf_counter()
import crawlers.runner
from crawlers.discovery.sites import crawl_targets
from core.families import spider_class
from scrapy.crawler import CrawlerProcess
from scrapy.utils.misc import load_object
from crawlers import settings
spider_class({family!r}, None)
for path in settings.ITEM_PIPELINES:
    load_object(path)
from storage.db import get_engine
get_engine("sqlite://")
print(len(sys.modules), time.perf_counter() - started)
"""


def measure(family: str = "smm_api", repeats: int = 5) -> dict[str, object]:
    code = CHILD_IMPORTS.format(family=family)
    walls, imports, cpus, modules = [], [], [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                text=True).stdout.split()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        walls.append(time.perf_counter() - started)
        # CPU time: far steadier than wall time on a shared, loaded machine.
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        modules, seconds = int(output[0]), float(output[1])
        imports.append(seconds)
    return {"family": family, "modules_loaded": modules,
            "import_seconds_best": round(min(imports), 3),
            "process_seconds_best": round(min(walls), 3),
            "process_cpu_seconds_best": round(min(cpus), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--family", default="smm_api")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.family, args.repeats), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
