"""Offers expected vs found per shop, after `make demo`: the demo database against the
simulator's ground truth of the last simulated day (matched by the shop's own offer id, with
the exact price and package size).

    .venv/bin/python -m benchmarks.shop_accuracy [--database var/demo.db] [--truth var/demo-truth.json]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from decimal import Decimal
from pathlib import Path


def compare(database: Path, truth_path: Path) -> list[dict[str, object]]:
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    last_day = truth["dates"][-1]
    connection = sqlite3.connect(database)
    rows = []
    try:
        for shop_id, shop in sorted(truth["shops"].items()):
            expected = {str(offer["site_offer_id"]): (Decimal(str(offer["price"])),
                                                      int(offer["quantity"]))
                        for offer in shop["offers"].get(last_day) or []}
            found = {site_offer_id: (Decimal(str(price)), quantity)
                     for site_offer_id, price, quantity in connection.execute(
                         "SELECT site_offer_id, price, quantity FROM v_offer_current "
                         "WHERE site_id = ?", (shop_id,))}
            exact = sum(1 for offer_id, values in expected.items() if found.get(offer_id) == values)
            rows.append({"shop": shop_id, "family": shop["family"], "kind": shop["kind"],
                         "in_config": shop["in_config"], "expected": len(expected),
                         "found": len(found), "exact": exact})
    finally:
        connection.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", type=Path, default=Path("var/demo.db"))
    parser.add_argument("--truth", type=Path, default=Path("var/demo-truth.json"))
    args = parser.parse_args()
    rows = compare(args.database, args.truth)
    print(f"{'shop':<8} {'family':<12} {'kind':<12} {'config':<7} expected  found  exact")
    for row in rows:
        print(f"{row['shop']:<8} {row['family']:<12} {row['kind']:<12} {row['in_config']!s:<7} "
              f"{row['expected']:>8} {row['found']:>6} {row['exact']:>6}")
    print(f"total: expected {sum(r['expected'] for r in rows)}, found "
          f"{sum(r['found'] for r in rows)}, exact {sum(r['exact'] for r in rows)}")


if __name__ == "__main__":
    main()
