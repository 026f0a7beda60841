"""`clickfarm schedule`, `clickfarm status`, `clickfarm changes`: running it as a service."""

from __future__ import annotations

from clickfarm.cli import app  # noqa: F401  (commands register on it)
