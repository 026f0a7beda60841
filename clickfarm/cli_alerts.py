"""`clickfarm status`, `clickfarm changes`, `clickfarm alerts`: health and market moves."""

from __future__ import annotations

from clickfarm.cli import app  # noqa: F401  (commands register on it)
