"""The simulated SMM-panel market: seeded sites, a clock, orders, faults and ground truth.

Typical use::

    from simulator import Market, SimulatorServer

    market = Market(seed=42)                     # 24 panels, day 0 = 2026-09-01
    with SimulatorServer(market) as server:      # loopback, any free port
        config = market.sites_config(server.base_url)
        market.advance(days=1)                   # prices drift, orders arrive, counters grow
        truth = market.ground_truth()

``python -m simulator --seed 42 --port 8800`` serves the market until Ctrl-C.
"""

from __future__ import annotations

from typing import Any

from simulator.market import FAULTS, THEMES, Market

__all__ = ["FAULTS", "THEMES", "Market", "SimulatorServer", "run_simulator"]


def __getattr__(name: str) -> Any:
    # the server pulls in aiohttp: import it only when asked for
    if name in ("SimulatorServer", "run_simulator"):
        from simulator import server

        return getattr(server, name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
