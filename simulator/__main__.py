"""``python -m simulator``: serve the simulated market until Ctrl-C."""

from __future__ import annotations

import argparse
from pathlib import Path

from simulator.server import run_simulator


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Serve the simulated market: SMM panels, retail shops and directories."
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--panels", type=int, default=24)
    parser.add_argument("--shops", type=int, default=10, help="retail shops (0 = none)")
    parser.add_argument("--days", type=int, default=0, help="days to simulate before serving")
    parser.add_argument("--truth", type=Path, default=None, help="write the ground truth here")
    args = parser.parse_args()
    run_simulator(
        args.seed, args.host, args.port, args.panels, args.days, args.truth, n_shops=args.shops
    )


if __name__ == "__main__":
    main()
