"""The simulated market against the real 2020 price lists (``smmpanels_dir`` fixture).

Compared on the labeled lists (last crawled day of every panel, ``Site``/``Product``/
``Price/1000``), with the same vocabulary mapping as ``simulator/calibration.py``:

- platform shares: within 7 percentage points for the top 5 real platforms;
- median USD per 1000 per platform x metric: within a factor 2 for the top 8 real classes, and
  no systematic bias (geometric mean of the 8 ratios within 0.8 - 1.25);
- stylised facts from MARKET.md (views cheaper than followers, YouTube dearer than Instagram);
- service names carry the same kinds of marks as real ones, in several languages.
"""

from __future__ import annotations

import csv
import gzip
import math
import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from simulator.calibration import REAL_PRODUCT_TO_METRIC, REAL_SITE_TO_PLATFORM
from simulator.market import Market

PLATFORM_SHARE_TOLERANCE_POINTS = 7.0
MEDIAN_FACTOR = 2.0


@pytest.fixture(scope="module")
def real_rows(smmpanels_dir: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for panel_dir in sorted((smmpanels_dir / "labeled").iterdir()):
        last_day = sorted(panel_dir.glob("*.csv.gz"))[-1]
        with gzip.open(last_day, "rt", encoding="utf-8", newline="") as handle:
            rows.extend(csv.DictReader(handle))
    assert len(rows) > 10_000
    return rows


@pytest.fixture(scope="module")
def real_raw_names(smmpanels_dir: Path) -> list[str]:
    names: list[str] = []
    for panel_dir in sorted((smmpanels_dir / "raw").iterdir()):
        last_day = sorted(panel_dir.glob("*.csv.gz"))[-1]
        with gzip.open(last_day, "rt", encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            names.extend(row[2].strip() for row in reader if len(row) > 2 and row[2].strip())
    return names


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(seed=42)


@pytest.fixture(scope="module")
def simulated_offers(market: Market) -> list[dict]:
    return market.offers()


def _real_platform_shares(rows: list[dict[str, str]]) -> dict[str, float]:
    platforms = [
        REAL_SITE_TO_PLATFORM[row["Site"]] for row in rows if row["Site"] in REAL_SITE_TO_PLATFORM
    ]
    counts = Counter(platforms)
    return {platform: count / len(platforms) for platform, count in counts.items()}


def _real_class_prices(rows: list[dict[str, str]]) -> dict[tuple[str, str], list[float]]:
    prices: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in rows:
        platform = REAL_SITE_TO_PLATFORM.get(row["Site"])
        metric = REAL_PRODUCT_TO_METRIC.get(row["Product"])
        try:
            price = float(row["Price/1000"])
        except ValueError:
            continue
        if platform and metric and price > 0:
            prices[(platform, metric)].append(price)
    return prices


def test_platform_shares_match_the_real_lists(real_rows, simulated_offers) -> None:
    real = _real_platform_shares(real_rows)
    simulated = Counter(offer["platform"] for offer in simulated_offers)
    total = sum(simulated.values())
    top_five = sorted(real, key=real.get, reverse=True)[:5]
    assert top_five[:3] == ["instagram", "youtube", "website"]
    report = {
        platform: (round(real[platform] * 100, 1), round(simulated[platform] / total * 100, 1))
        for platform in top_five
    }
    for real_points, simulated_points in report.values():
        assert abs(real_points - simulated_points) <= PLATFORM_SHARE_TOLERANCE_POINTS, report


def test_median_prices_per_class_match_the_real_lists(real_rows, simulated_offers) -> None:
    real = _real_class_prices(real_rows)
    simulated: dict[tuple[str, str], list[float]] = defaultdict(list)
    for offer in simulated_offers:
        if offer["usd_per_1000"] is not None:
            simulated[(offer["platform"], offer["metric"])].append(float(offer["usd_per_1000"]))
    top_classes = sorted(real, key=lambda key: len(real[key]), reverse=True)[:8]
    ratios = {}
    for key in top_classes:
        assert len(simulated[key]) >= 30, f"too few simulated {key}"
        ratios[key] = statistics.median(simulated[key]) / statistics.median(real[key])
    report = {f"{p}/{m}": round(ratio, 2) for (p, m), ratio in ratios.items()}
    assert all(1 / MEDIAN_FACTOR <= ratio <= MEDIAN_FACTOR for ratio in ratios.values()), report
    geometric_mean = math.exp(statistics.mean(math.log(ratio) for ratio in ratios.values()))
    assert 0.8 <= geometric_mean <= 1.25, report


def test_stylised_facts_hold(simulated_offers) -> None:
    prices: dict[tuple[str, str], list[float]] = defaultdict(list)
    for offer in simulated_offers:
        if offer["usd_per_1000"] is not None:
            prices[(offer["platform"], offer["metric"])].append(float(offer["usd_per_1000"]))
    median = {key: statistics.median(values) for key, values in prices.items()}
    assert median[("instagram", "views")] * 10 < median[("instagram", "followers")]
    assert median[("tiktok", "views")] < median[("tiktok", "followers")]
    assert median[("youtube", "subscribers")] > median[("instagram", "followers")]
    assert median[("youtube", "views")] > median[("instagram", "views")]
    assert median[("instagram", "comments")] > median[("instagram", "likes")]


def test_local_currencies_have_realistic_magnitudes(market: Market) -> None:
    usd_medians = {}
    for currency in ("USD", "INR", "TRY", "EUR"):
        rates = [
            float(offer["usd_per_1000"])
            for offer in market.offers()
            if offer["currency"] == currency and offer["usd_per_1000"] is not None
        ]
        usd_medians[currency] = statistics.median(rates)
    # converted back to USD every currency lands in the same price world
    for value in usd_medians.values():
        assert 0.3 < value / usd_medians["USD"] < 3.5, usd_medians
    inr = [offer["rate"] for offer in market.offers() if offer["currency"] == "INR"]
    assert statistics.median(inr) > 20, "INR rates are tens to hundreds, not cents"


_MARKS = {
    "square brackets": re.compile(r"\[[^\]]+\]"),
    "pipe separators": re.compile(r" \| "),
    "emoji": re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]"),
    "styled unicode": re.compile("[\U0001d400-\U0001d7ff]"),
    "flags": re.compile("[\U0001f1e6-\U0001f1ff]{2}"),
    "id prefixes": re.compile(r"^\s*(ID\s*:?\s*\d+|\d+\s*[-~]|\[ID: \d+\])"),
    "refill tags": re.compile(r"\b(R\d+|AR\d+|R∞|Refill|REFILL|Guarantee)"),
    "speed tags": re.compile(r"(?i)(\d+\s*[KM]?\s*/\s*(day|d|h)\b|per day)"),
    "max tags": re.compile(r"(?i)\bmax\b"),
    "start tags": re.compile(r"(?i)(instant|start)"),
}


@pytest.mark.parametrize("mark", list(_MARKS), ids=list(_MARKS))
def test_service_names_carry_the_marks_real_names_carry(mark, real_raw_names, market) -> None:
    pattern = _MARKS[mark]
    simulated_names = [s.name for site in market.sites.values() for s in site.services.values()]
    real_share = sum(bool(pattern.search(n)) for n in real_raw_names) / len(real_raw_names)
    simulated_share = sum(bool(pattern.search(n)) for n in simulated_names) / len(simulated_names)
    assert real_share > 0.02
    # same order of magnitude: between a third and three times the real frequency
    assert real_share / 3 <= simulated_share <= min(1.0, real_share * 3), (
        real_share,
        simulated_share,
    )


@pytest.mark.parametrize(
    ("language", "pattern"),
    [
        ("vi", r"Người theo dõi|Lượt thích|Lượt xem|Không bảo hành|Bảo hành"),
        ("tr", r"Takipçi|Beğeni|İzlenme|Telafili|Anlık Başlar"),
        ("id", r"Pengikut|Suka|Tayangan|Isi Ulang|Maks"),
        ("es", r"Seguidores|Me gusta|Reposición|Visualizaciones"),
        ("pt", r"Seguidores|Curtidas|Reposição|Visualizações"),
        ("ar", r"[\u0600-\u06ff]"),
    ],
    ids=["vietnamese", "turkish", "indonesian", "spanish", "portuguese", "arabic"],
)
def test_names_in_other_languages(language: str, pattern: str) -> None:
    names = [
        service.name
        for seed in (42, 7, 8)
        for site in Market(seed=seed).sites.values()
        if site.language == language
        for service in site.services.values()
    ]
    assert names, f"no {language} panel in seeds 42, 7, 8"
    assert any(re.search(pattern, name) for name in names)


def test_every_service_carries_its_true_class(market: Market) -> None:
    known_platforms = set(REAL_SITE_TO_PLATFORM.values())
    known_metrics = set(REAL_PRODUCT_TO_METRIC.values())
    for site in market.sites.values():
        for service in site.services.values():
            assert service.platform in known_platforms
            assert service.metric in known_metrics
