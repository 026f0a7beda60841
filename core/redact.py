"""Secret redaction: API keys and database passwords never reach logs, the database or a screen.

Three kinds of secret are handled, each by a pure function:

- known secret values (the API keys read from the environment): :func:`register_secret` adds
  one to this process's list, and :func:`redact_text` replaces every occurrence of a listed
  value (also URL-encoded) with ``***``. A seller that echoes the key back ("Invalid API key:
  key=abc...") therefore never gets it stored or logged.
- ``key=value`` pairs whose name says secret (``key``, ``api_key``, ``token``, ``password``...)
  in a text: the value is masked even when it was never registered (a key of another site).
- passwords inside URLs (``postgresql://user:pw@host/db``): :func:`mask_url_passwords`.

:func:`redact_json` applies :func:`redact_text` to every string of a nested structure (stats,
raw records); :func:`drop_secret_keys` removes secret-looking keys from a configuration before
it is stored. :class:`RedactingFilter` / :func:`install_log_redaction` apply the same to every
log record of the process.

This module is on the ground floor (``core``): it imports no other project package.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

MASK = "***"
# Values shorter than this are no secrets (and replacing them would mangle ordinary text).
MIN_SECRET_LENGTH = 4

# name=value (a form or query echo) for any secret-sounding name; "name": value (a JSON or text
# echo) only for names that cannot mean anything else ("sort key: price" stays readable).
_SECRET_PAIR = re.compile(
    r"(?P<name>\b(?:(?:pass(?:word|wd)?|secret|token|api[_-]?key|apikey|key|auth|credentials?|session)"
    r"[\"']?\s*=|(?:pass(?:word|wd)?|secret|api[_-]?key|apikey|access[_-]?token)[\"']?\s*:)\s*[\"']?)"
    r"(?P<value>[^\s\"'&,;}\]<>]{4,})",
    re.IGNORECASE)
_SECRET_KEY = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|apikey|auth|credential|cookie|session|private)",
    re.IGNORECASE,
)
# scheme://user:password@ — the password is anything up to the last "@" before the host.
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][\w+.-]*://[^\s:/@]*:)(?P<password>[^\s@/]*)(?P<at>@)")

_known: set[str] = set()
_known_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret value of this process (an API key): every later redaction hides it."""
    if value is None or len(value.strip()) < MIN_SECRET_LENGTH:
        return
    with _known_lock:
        _known.add(value)


def known_secrets() -> frozenset[str]:
    with _known_lock:
        return frozenset(_known)


def _forms(secret: str) -> Iterable[str]:
    """The ways a value appears in text: as is, stripped, URL- or form-encoded, repr-escaped."""
    return dict.fromkeys(
        form for form in (secret, secret.strip(), quote(secret, safe=""), quote_plus(secret),
                          repr(secret)[1:-1])
        if len(form) >= MIN_SECRET_LENGTH)


@lru_cache(maxsize=64)
def _all_forms(secrets: frozenset[str]) -> tuple[str, ...]:
    """Every form of every secret, longest secret first (a key that contains another key is
    hidden whole); cached, since every log record of a crawl is redacted."""
    return tuple(form for secret in sorted(secrets, key=lambda s: (-len(s), s))
                 for form in _forms(secret))


def redact_text(text: str, secrets: Iterable[str] | None = None) -> str:
    """``text`` without the known secret values, secret ``name=value`` pairs and URL
    passwords (each replaced by ``***``)."""
    if not text:
        return text
    values = set(known_secrets())
    if secrets is not None:
        values.update(s for s in secrets if s and len(s.strip()) >= MIN_SECRET_LENGTH)
    for form in _all_forms(frozenset(values)):
        if form in text:
            text = text.replace(form, MASK)
    text = _SECRET_PAIR.sub(lambda m: m["name"] + MASK if m["value"] != MASK else m[0], text)
    return mask_url_passwords(text)


def mask_url_passwords(text: str) -> str:
    """``postgresql://user:pw@host/db`` -> ``postgresql://user:***@host/db``, anywhere in a
    text."""
    if "://" not in text or "@" not in text:
        return text
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}{m['at']}" if m["password"] else m[0],
                             text)


def url_without_password(url: str) -> str:
    """A URL with its password (if any) masked; anything unparseable is masked textually."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return mask_url_passwords(url)
    if password is None:
        return url
    netloc = f"{parts.username}:{MASK}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def redact_json(value: Any, secrets: Iterable[str] | None = None) -> Any:
    """A copy of a nested structure (dicts, lists, strings) with :func:`redact_text` applied to
    every string, keys included."""
    secrets = list(secrets) if secrets is not None else None
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, dict):
        return {(redact_text(key, secrets) if isinstance(key, str) else key):
                redact_json(item, secrets) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_json(item, secrets) for item in value]
    return value


def drop_secret_keys(config: Any) -> Any:
    """A copy of a configuration without secret-looking keys and without passwords inside
    URLs (what is stored of a site's config)."""
    if isinstance(config, dict):
        return {key: drop_secret_keys(value) for key, value in config.items()
                if not _SECRET_KEY.search(str(key))}
    if isinstance(config, (list, tuple)):
        return [drop_secret_keys(value) for value in config]
    if isinstance(config, str) and "@" in config and "://" in config:
        return url_without_password(config)
    return config


class RedactingFilter(logging.Filter):
    """Rewrites a log record's message (and its traceback text) without secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_formatter = logging.Formatter()


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    if getattr(record, "_redacted", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it itself
        return record
    record.msg, record.args = redact_text(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = _formatter.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact_text(record.exc_text)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)
    record._redacted = True
    return record


_installed = False


def install_log_redaction() -> None:
    """Redact every log record of this process, whatever handler prints it (Scrapy replaces the
    root handlers as crawlers start, so a handler filter alone would be lost): the record
    factory passes each new record through :class:`RedactingFilter`, and the handlers present
    now get the filter too."""
    global _installed
    if _installed:
        return
    _installed = True
    make_record = logging.getLogRecordFactory()
    redacting = RedactingFilter()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        redacting.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redacting)
