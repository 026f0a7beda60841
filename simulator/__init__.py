"""The simulated market: seeded panels, retail shops, directories, a clock, faults and truth.

Typical use::

    from simulator import Market, SimulatorServer

    market = Market(seed=42)                     # 24 panels + 10 shops, day 0 = 2026-09-01
    with SimulatorServer(market) as server:      # loopback, any free port
        config = market.sites_config(server.base_url)   # panels + the shops in the config
        market.shop_offers("shop-01")            # the packages a shop serves today
        market.inject_fault("shop-02", "http_429", day=3, retry_after=2)
        market.advance(days=1)                   # prices drift, orders arrive, counters grow
        truth = market.ground_truth()            # ... incl. "shops" and "discovery"

Directories for discovery: ``{base_url}/d/smmlist/`` and ``{base_url}/d/topsellers/``. Faults:
see the ``simulator.market`` module docstring (the market is split by concern: ``model``,
``generation``, ``dynamics``, ``faults``, ``export``, ``truth``).

``python -m simulator --seed 42 --port 8800`` serves the market until Ctrl-C.
"""

from __future__ import annotations

from typing import Any

from simulator.market import FAULT_PARAMS, FAULTS, PANEL_FAULTS, SHOP_FAULTS, THEMES, Market

__all__ = [
    "FAULTS",
    "FAULT_PARAMS",
    "PANEL_FAULTS",
    "SHOP_FAULTS",
    "THEMES",
    "Market",
    "SimulatorServer",
    "run_simulator",
]


def __getattr__(name: str) -> Any:
    # the server pulls in aiohttp: import it only when asked for
    if name in ("SimulatorServer", "run_simulator"):
        from simulator import server

        return getattr(server, name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
