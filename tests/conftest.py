"""Fixtures shared by every test module."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _shared_dir() -> Path:
    return Path(os.environ.get("CLICKFARM_SHARED_DIR", REPO_ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def smmpanels_dir() -> Path:
    """The real 2020 price lists (../shared/data/smmpanels). Read by tests only, never copied."""
    path = _shared_dir() / "data" / "smmpanels"
    if not path.is_dir():
        pytest.fail(f"real price lists not found at {path}: set CLICKFARM_SHARED_DIR")
    return path
