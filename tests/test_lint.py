"""Lint and types are part of the tests: `ruff check` and mypy (both configured in
pyproject.toml) report nothing."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=600)


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing() -> None:
    # the packages come from [tool.mypy] in pyproject.toml
    result = _run("mypy", "--no-incremental", "--config-file", "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
