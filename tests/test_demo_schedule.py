"""How `clickfarm demo` spreads a simulated day's work (issue 11: a second demo under 180 s):

- the reseller links of a day are computed in a worker process while the next day is crawled;
  that is only right if the links of a day do not depend on what the next crawl stores, which
  is checked here on stores built straight from the simulator, and on a short real demo;
- the sites are split between the crawl processes with a browser crawl weighed as the work it
  is, and every site still gets exactly one run per day.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select

from clickfarm import demo
from crawlers.runner import balanced_groups
from estimates.resellers import link_resellers, stored_links
from simulator import Market
from storage.db import get_engine
from storage.models import reseller_link_table, run_table
from tests.reseller_store import build_panel_store


def _noon(day) -> datetime:
    return datetime.combine(day, time(12, 0), UTC)


@pytest.mark.parametrize(("seed", "days"), [(4, 3)])
def test_a_days_links_do_not_depend_on_the_next_crawl(tmp_path: Path, seed: int,
                                                      days: int) -> None:
    """Links as of day N's noon, computed before and after day N+1 is stored: the same."""
    stores = {}
    for extra in (0, 1):
        market = Market(seed=seed, n_panels=6, n_shops=0, reseller_share=0.5)
        engine = build_panel_store(market, f"sqlite:///{tmp_path / f'{extra}.db'}",
                                   days=days + extra)
        at = _noon(market.today) if not extra else _noon(market.today.fromordinal(
            market.today.toordinal() - 1))
        stores[extra] = (engine, at)
    (before, at_before), (after, at_after) = stores[0], stores[1]
    assert at_before == at_after
    links_before = link_resellers(before, at=at_before)
    assert links_before, "the market must have resellers for this test to mean anything"
    assert link_resellers(after, at=at_after) == links_before


def test_a_browser_crawl_weighs_as_much_as_thousands_of_offers(monkeypatch) -> None:
    class Site:
        def __init__(self, site_id: str, family: str) -> None:
            self.id, self.family = site_id, family

    targets = [Site("big", "smm_api"), Site("spa", "spa"), Site("small", "smm_html"),
               Site("fresh-spa", "spa")]
    monkeypatch.setattr("storage.repository.active_offer_counts",
                        lambda engine: {"big": 2000, "spa": 30, "small": 40})
    weights = demo._crawl_weights(None, targets)
    assert weights == {"big": 2000, "small": 40, "spa": 30 + demo.BROWSER_CRAWL_WEIGHT,
                       "fresh-spa": demo.BROWSER_CRAWL_WEIGHT}
    # With 2 processes, each browser crawl gets a process of its own side; every site once.
    groups = balanced_groups([site.id for site in targets], 2, weights)
    assert sorted(site for group in groups for site in group) == sorted(weights)
    assert {group[0] for group in groups} == {"spa", "fresh-spa"}


def test_a_short_demo_stores_each_days_links_and_one_run_per_site_and_day(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two simulated days: the links stored at the end are those of the last crawl day
    (computed in the worker process, waited for before the reports), their first computation
    is kept from the first day, and every site has one run per day."""
    # Its sites file and alerts here, not in the repository's var/ (a demo may be running).
    monkeypatch.setattr(demo, "VAR_DIR", tmp_path)
    database_url = f"sqlite:///{tmp_path / 'demo.db'}"
    console = Console(file=open(tmp_path / "out.txt", "w"), width=200)  # noqa: SIM115
    with console.file:
        result = demo.run_demo(console, days=2, seed=4, panels=6, shops=0,
                               database_url=database_url, truth_path=tmp_path / "truth.json",
                               market_options={"reseller_share": 0.5, "unseen_share": 0.0})
    engine = get_engine(database_url)
    with engine.connect() as connection:
        runs = connection.execute(select(run_table.c.site_id, run_table.c.started_at)).all()
        computed = connection.execute(select(reseller_link_table.c.first_computed_at,
                                             reseller_link_table.c.last_computed_at)).all()
    days = sorted({started.date() for _, started in runs})
    assert len(days) == 2
    per_site_day: dict[tuple[str, object], int] = {}
    for site_id, started in runs:
        per_site_day[(site_id, started.date())] = per_site_day.get((site_id, started.date()),
                                                                   0) + 1
    assert set(per_site_day.values()) == {1}
    assert len(per_site_day) == 2 * len({site_id for site_id, _ in runs})
    assert result["runs_by_status"] == {"succeeded": len(runs)}
    last = demo.observation_time(days[-1])
    expected = link_resellers(engine, at=last)
    assert expected, "the market must have resellers for this test to mean anything"
    assert ({(link.reseller_offer_id, link.upstream_offer_id, link.price_ratio)
             for link in stored_links(engine)}
            == {(link.reseller_offer_id, link.upstream_offer_id, link.price_ratio)
                for link in expected})
    assert {row.last_computed_at for row in computed} == {last}
    assert {row.first_computed_at for row in computed} <= {demo.observation_time(days[0]), last}
    assert result["counts"]["reseller_link"] == len(expected)
