"""config/sites.yaml loading: defaults, env expansion and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ConfigError, load_sites, select_sites

GOOD = """
defaults:
  politeness: {download_delay: 0.5, concurrency: 3}
sites:
  - id: panel-a
    url: ${TEST_SIM_URL:-http://127.0.0.1:9}/s/panel-a
    family: smm_api
    currency: USD
    api_key_env: TEST_KEY_PANEL_A
  - id: panel-b
    url: http://127.0.0.1:9/s/panel-b/
    family: smm_html
    politeness: {download_delay: 2}
    enabled: false
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sites.yaml"
    path.write_text(text)
    return path


def test_defaults_merge_and_env_expansion(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SIM_URL", "http://127.0.0.1:4242")
    monkeypatch.setenv("TEST_KEY_PANEL_A", "secret-key")
    panel_a, panel_b = load_sites(write(tmp_path, GOOD))
    assert panel_a.url == "http://127.0.0.1:4242/s/panel-a/"
    assert panel_a.politeness.download_delay == 0.5 and panel_a.politeness.concurrency == 3
    assert panel_b.politeness.download_delay == 2 and panel_b.politeness.concurrency == 3
    assert panel_a.api_key() == "secret-key"
    # The key's variable name may be stored; the key itself never.
    assert "secret-key" not in str(panel_a.public_dict())
    assert [s.id for s in select_sites([panel_a, panel_b], None)] == ["panel-a"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sites:\n  - id: x\n    url: ftp://x\n    family: smm_api\n", "url must start with http"),
        ("sites:\n  - id: x\n    url: http://x\n    family: magento\n", "site x: family"),
        ("sites:\n  - id: x\n    url: http://x\n    family: smm_api\n    currency: usd\n", "currency"),
        ("sites:\n  - id: x\n    url: http://x\n    family: smm_api\n  - id: x\n    url: http://y\n    family: smm_api\n", "duplicate site ids: x"),
        ("sites: [\n", "not valid YAML"),
        ("just: text\n", "expected a mapping with a 'sites' list"),
        ("sites:\n  - id: x\n    url: ${NOT_SET_ANYWHERE}/\n    family: smm_api\n", "NOT_SET_ANYWHERE is not set"),
        ("sites:\n  - id: x\n    url: http://x\n    family: smm_api\n    politeness: {download_delay: -1}\n", "download_delay"),
    ],
    ids=["url-scheme", "unknown-family", "lower-case-currency", "duplicate-ids", "bad-yaml",
         "no-sites", "unset-env", "negative-delay"],
)
def test_bad_config_gives_clear_error(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_sites(write(tmp_path, text))


def test_unknown_site_id_is_an_error(tmp_path):
    sites = load_sites(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match="unknown site id"):
        select_sites(sites, ["panel-z"])


def test_env_references_in_comments_are_not_read(tmp_path, monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    text = "# ${NOT_SET_ANYWHERE} is the simulator's base URL\n" + GOOD
    assert [site.id for site in load_sites(write(tmp_path, text))] == ["panel-a", "panel-b"]


def test_an_env_value_cannot_change_the_structure_of_the_file(tmp_path, monkeypatch):
    # Expanded after parsing: YAML in a variable stays text.
    monkeypatch.setenv("TEST_SIM_URL", "http://127.0.0.1:9\n    family: smm_html")
    panel_a, _ = load_sites(write(tmp_path, GOOD))
    assert panel_a.family == "smm_api"
    assert panel_a.url.startswith("http://127.0.0.1:9\n")


def test_the_optional_sections_are_validated(tmp_path):
    from core.config import load_config

    config = load_config(write(tmp_path, GOOD + "scheduler: {max_parallel_crawls: 3}\n"))
    assert config.scheduler.max_parallel_crawls == 3 and config.discovery.directories == []
    assert config.defaults == {"politeness": {"download_delay": 0.5, "concurrency": 3}}
    with pytest.raises(ConfigError, match="scheduler: max_parallel_crawls"):
        load_config(write(tmp_path, GOOD + "scheduler: {max_parallel_crawls: 0}\n"))
    with pytest.raises(ConfigError, match="unknown top-level key"):
        load_config(write(tmp_path, GOOD + "schedular: {}\n"))
