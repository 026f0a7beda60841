"""Reseller-link precision and recall against the simulator's ground truth, per seed.

    python -m benchmarks.reseller_links [--seeds 1 2 3 4 5] [--panels 20] [--days 14]
        [--store panels|crawl] [--shops 10] [--catalogue-scale 1.0]

For each seed a simulated market is stored day by day, links are computed with
``estimates.resellers.link_resellers`` and compared with the truth's ``reseller_links[].
service_map``. A link is right when the truth says the reseller service copies exactly that
upstream service; recall counts the truth pairs whose two offers are in the store.

``--store panels`` (default): every panel's API price list through the real extractor,
pipelines and repository (no HTTP; all panels seen). ``--store crawl``: the market of issue 8
(``HARD_MARKET``: unseen sellers, counters as claims, the seed's reseller share) stored by
``simulator.store.build_store`` (a discovery pass and daily crawls through the real spiders).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from estimates.resellers import Link, link_resellers
from storage.models import offer_table


@dataclass(frozen=True, slots=True)
class LinkScore:
    seed: int
    predicted: int
    correct: int
    truth_pairs: int
    found: int
    same_root: int
    """Wrong links whose two offers still copy one upstream service (siblings)."""

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.truth_pairs if self.truth_pairs else 1.0


def truth_pairs(truth: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    """(reseller site, reseller service id, upstream site, upstream service id) of the truth."""
    return {(entry["reseller"], reseller_sid, entry["upstream"], upstream_sid)
            for entry in truth["reseller_links"]
            for reseller_sid, upstream_sid in entry["service_map"].items()}


def score_links(engine: Engine, links: list[Link], truth: dict[str, Any], *,
                seed: int) -> LinkScore:
    """Precision and recall of ``links`` against ``truth`` (the market's ground truth)."""
    offers = offer_table
    with engine.connect() as connection:
        key = {row.id: (row.site_id, row.site_offer_id) for row in connection.execute(
            select(offers.c.id, offers.c.site_id, offers.c.site_offer_id)
            .where(offers.c.is_active, offers.c.pricing == "per_1000"))}
    expected = truth_pairs(truth)
    stored = set(key.values())
    reachable = {pair for pair in expected if pair[:2] in stored and pair[2:] in stored}
    root = {(site, sid): (upstream, usid) for site, sid, upstream, usid in expected}
    predicted = {key[link.reseller_offer_id] + key[link.upstream_offer_id] for link in links
                 if link.reseller_offer_id in key and link.upstream_offer_id in key}
    correct = predicted & expected
    siblings = sum(1 for pair in predicted - expected
                   if root.get(pair[:2]) is not None
                   and root.get(pair[:2]) == root.get(pair[2:], pair[2:]))
    return LinkScore(seed=seed, predicted=len(predicted), correct=len(correct),
                     truth_pairs=len(reachable), found=len(correct & reachable),
                     same_root=siblings)


def measure(seed: int, *, panels: int, days: int, workdir: Path, store: str = "panels",
            shops: int = 0, catalogue_scale: float = 1.0) -> tuple[LinkScore, int, float, float]:
    """The score, the offers stored, the seconds to build the store and to link."""
    from simulator.market import HARD_MARKET, Market
    from simulator.store import build_store
    from storage.db import get_engine
    from storage.repository import table_counts
    from tests.reseller_store import build_panel_store

    database_url = f"sqlite:///{workdir / f'links-{seed}.db'}"
    started = time.perf_counter()
    if store == "crawl":
        market = Market(seed=seed, n_panels=panels, n_shops=shops,
                        counter_coverage=HARD_MARKET["counter_coverage"],
                        counter_distortion=HARD_MARKET["counter_distortion"],
                        unseen_share=HARD_MARKET["unseen_share"], catalogue_scale=catalogue_scale)
        build_store(market, database_url, days=days)
        engine = get_engine(database_url)
    else:
        market = Market(seed=seed, n_panels=panels, n_shops=0, catalogue_scale=catalogue_scale)
        engine = build_panel_store(market, database_url, days=days)
    built = time.perf_counter()
    try:
        links = link_resellers(engine)
        linked = time.perf_counter()
        score = score_links(engine, links, market.ground_truth(), seed=seed)
        return score, table_counts(engine)["offer"], built - started, linked - built
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--panels", type=int, default=20)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--store", choices=("panels", "crawl"), default="panels")
    parser.add_argument("--shops", type=int, default=10, help="with --store crawl")
    parser.add_argument("--catalogue-scale", type=float, default=1.0)
    options = parser.parse_args()
    print(f"{'seed':>5} {'offers':>7} {'links':>6} {'right':>6} {'truth':>6} {'found':>6} "
          f"{'precision':>9} {'recall':>7} {'siblings':>8} {'build s':>7} {'link s':>6}")
    with tempfile.TemporaryDirectory() as directory:
        for seed in options.seeds:
            score, offers, build_seconds, link_seconds = measure(
                seed, panels=options.panels, days=options.days, workdir=Path(directory),
                store=options.store, shops=options.shops,
                catalogue_scale=options.catalogue_scale)
            print(f"{seed:>5} {offers:>7} {score.predicted:>6} {score.correct:>6} "
                  f"{score.truth_pairs:>6} {score.found:>6} {score.precision:>9.3f} "
                  f"{score.recall:>7.3f} {score.same_root:>8} {build_seconds:>7.1f} "
                  f"{link_seconds:>6.2f}")


if __name__ == "__main__":
    main()
