"""core.redact: secrets out of every text, record and log line (table-driven on real shapes)."""

from __future__ import annotations

import logging

import pytest

from core import redact

KEY = "b3f1c0de9a77f00d-panel-key"


@pytest.fixture(autouse=True)
def known_key() -> None:
    redact.register_secret(KEY)


@pytest.mark.parametrize(("text", "expected"), [
    # a seller echoing the key in every way a message can hold it
    (f"Invalid API key: key={KEY}", "Invalid API key: key=***"),
    (f'{{"error": "bad key {KEY}"}}', '{"error": "bad key ***"}'),
    ("POST body key=b3f1c0de9a77f00d-panel-key&action=services",
     "POST body key=***&action=services"),
    ("redirect to http://evil.example/?key=b3f1c0de9a77f00d%2Dpanel%2Dkey refused",
     "redirect to http://evil.example/?key=*** refused"),
    # secret-named pairs of a key never registered (another site's)
    ("Invalid API key: key=zz99yy88xx77", "Invalid API key: key=***"),
    ('{"api_key": "q1w2e3r4t5"}', '{"api_key": "***"}'),
    ("password: hunter2hunter2", "password: ***"),
    ("token=abcd1234", "token=***"),
    # database URLs
    ("cannot connect to postgresql+psycopg://app:s3cr%40t@db:5432/market",
     "cannot connect to postgresql+psycopg://app:***@db:5432/market"),
    # ordinary text is left alone
    ("missing key: services", "missing key: services"),
    ("sqlite:///var/clickfarm.db", "sqlite:///var/clickfarm.db"),
    ("Instagram Followers [Refill 30D] 0.90 per 1000", "Instagram Followers [Refill 30D] 0.90 per 1000"),
    ("", ""),
])
def test_redact_text(text: str, expected: str) -> None:
    assert redact.redact_text(text) == expected


def test_redact_json_walks_nested_records() -> None:
    record = {"notes": [f"echo {KEY}"], "stats": {"listing/errors": 1},
              "raw": {"name": "x", "desc": f"key={KEY}"}}
    assert KEY not in str(redact.redact_json(record))
    assert redact.redact_json(record)["stats"] == {"listing/errors": 1}


def test_drop_secret_keys_keeps_the_rest() -> None:
    config = {"id": "p", "api_key_env": "X", "token": "t", "url": "http://u:pw@h/",
              "politeness": {"retries": 2}}
    assert redact.drop_secret_keys(config) == {"id": "p", "url": "http://u:***@h/",
                                               "politeness": {"retries": 2}}


def test_log_records_are_redacted_whatever_handler_prints_them(caplog) -> None:
    redact.install_log_redaction()
    logger = logging.getLogger("test.redact")
    with caplog.at_level(logging.INFO):
        logger.info("answer: %s", f"Invalid API key: key={KEY}")
        try:
            raise ValueError(f"echo {KEY}")
        except ValueError:
            logger.exception("failed for postgresql://u:pw123@h/db")
    assert KEY not in caplog.text and "pw123" not in caplog.text
    assert "Invalid API key: key=***" in caplog.text
