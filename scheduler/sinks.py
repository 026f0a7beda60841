"""Where alerts are sent: the log, a JSON-lines file, a webhook.

Every sink takes the alert's JSON payload (:func:`scheduler.alerts.alert_payload`) and raises on
failure; :func:`scheduler.alerts.deliver` catches, logs and records the failure in the alert's
``deliveries``, so a sink that is down never stops a crawl or the other sinks.

- :class:`LogSink`: one line per alert on the ``clickfarm.alerts`` logger (``critical`` alerts at
  ERROR, ``warning`` at WARNING, ``info`` at INFO).
- :class:`JsonLinesSink`: appends one JSON object per line, flushed and synced to disk, so a
  ``tail -f`` or a log shipper sees it at once.
- :class:`WebhookSink`: one HTTP POST of the JSON payload per alert, with a timeout and bounded
  retries (urllib3's ``Retry``: refused connections, timeouts, 429 and 5xx answers, short
  exponential backoff). ``Retry-After`` is not honoured: a receiver asking for an hour must not
  hold up the scheduler; the failure is recorded instead.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from core.config_sections import SinksConfig, WebhookSinkConfig
from core.deadline import mount_deadline, total_deadline
from storage.types import json_default

alert_logger = logging.getLogger("clickfarm.alerts")

_LOG_LEVELS = {"critical": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO}
_RETRY_STATUSES = (429, 500, 502, 503, 504)
# What describe_error summarizes without their message (which holds the URL).
_SUMMARIZED_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                      requests.exceptions.RetryError)
_OS_REASON = re.compile(r"\[Errno -?\d+\] [^'\")(]+|timed out|Name or service not known")


class AlertSink(Protocol):
    """Something that receives alerts. ``send`` raises when the alert did not get through."""

    name: str

    def send(self, payload: dict[str, Any]) -> None: ...


def payload_json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, default=json_default, ensure_ascii=False, sort_keys=True)


class LogSink:
    name = "log"

    def __init__(self, logger: logging.Logger = alert_logger) -> None:
        self.logger = logger

    def send(self, payload: dict[str, Any]) -> None:
        level = _LOG_LEVELS.get(payload.get("severity", "warning"), logging.WARNING)
        where = " ".join(f"{key}={payload[key]}" for key in ("site_id", "run_id")
                         if payload.get(key) is not None)
        self.logger.log(level, "alert #%s %s %s/%s [%s] %s: %s", payload.get("id"),
                        payload.get("severity"), payload.get("kind"), payload.get("rule"),
                        payload.get("state"), where or "market", payload.get("message"))


class JsonLinesSink:
    name = "jsonl"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def send(self, payload: dict[str, Any]) -> None:
        line = payload_json(payload) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as stream:
            stream.write(line)
            stream.flush()
            os.fsync(stream.fileno())


class WebhookSink:
    name = "webhook"

    def __init__(self, config: WebhookSinkConfig, *, backoff_factor: float = 0.2) -> None:
        self.url = config.url
        self.timeout_seconds = config.timeout_seconds
        self.retries = config.retries
        self.session = requests.Session()
        self.session.headers.update({"Content-Type": "application/json",
                                     "User-Agent": "clickfarm-monitor-alerts/0.1"})
        self.session.headers.update(config.headers)
        self.configured_header_values = list(config.headers.values())
        retry = Retry(total=config.retries, connect=config.retries, read=config.retries,
                      status=config.retries, status_forcelist=_RETRY_STATUSES,
                      allowed_methods=frozenset({"POST"}), backoff_factor=backoff_factor,
                      backoff_max=10, respect_retry_after_header=False, raise_on_status=False)
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        # Each attempt may take timeout_seconds, but a webhook that drips its answer never
        # holds a delivery longer than all attempts together (core.deadline).
        mount_deadline(self.session)
        self.total_seconds = (self.timeout_seconds * (self.retries + 1)
                              + backoff_factor * 2 ** self.retries)

    def send(self, payload: dict[str, Any]) -> None:
        try:
            with total_deadline(self.total_seconds):
                response = self.session.post(self.url, data=payload_json(payload).encode("utf-8"),
                                             timeout=self.timeout_seconds)
        except _SUMMARIZED_ERRORS:
            raise  # describe_error keeps only their reason
        except TimeoutError:  # the total deadline, met outside requests' own wrapping
            raise WebhookError("timed out: no complete answer within "
                               f"{self.total_seconds:g} s") from None
        except requests.exceptions.RequestException as error:
            # requests quotes a bad header value (a token with a trailing newline) or the whole
            # URL (a token in its path) in other messages, which end up in the log and the
            # alert's deliveries: never with a secret in them.
            message = self._without_secrets(str(error))
            if message != str(error):
                raise WebhookError(f"{type(error).__name__}: {message}") from None
            raise
        if response.status_code >= 300:
            retries = getattr(response.raw, "retries", None)
            attempts = len(retries.history) + 1 if retries is not None else 1
            raise WebhookError(f"HTTP {response.status_code} from the webhook "
                               f"after {attempts} attempt(s)")

    def close(self) -> None:
        self.session.close()

    def _without_secrets(self, text: str) -> str:
        """``text`` with the URL, its path and query and every configured header value
        replaced by ``***``."""
        parts = urlsplit(self.url)
        secrets = [self.url, parts.path + (f"?{parts.query}" if parts.query else ""),
                   *self.configured_header_values]
        # The longest first: a header value may contain a shorter one.
        # Values of a few characters are no secrets (and would mangle the message).
        for secret in sorted({s for s in secrets if len(s.strip()) >= 4}, key=len, reverse=True):
            for form in dict.fromkeys((secret, secret.strip(), repr(secret)[1:-1])):
                if form:
                    text = text.replace(form, "***")
        return text


class WebhookError(Exception):
    """The webhook answered with an error status after the retries."""


def build_sinks(config: SinksConfig) -> list[AlertSink]:
    """The sinks a config names, in delivery order (log, jsonl, webhook)."""
    sinks: list[AlertSink] = []
    if config.log:
        sinks.append(LogSink())
    if config.jsonl is not None:
        sinks.append(JsonLinesSink(config.jsonl))
    if config.webhook is not None:
        sinks.append(WebhookSink(config.webhook))
    return sinks


def describe_error(error: BaseException) -> str:
    """A one-line reason for a failed delivery, without URLs' credentials or headers."""
    if isinstance(error, requests.exceptions.ConnectionError):
        # The message of urllib3's MaxRetryError holds the URL; keep only the OS reason.
        reason = _OS_REASON.search(str(error))
        return "connection failed after retries" + (f": {reason[0]}" if reason else "")
    if isinstance(error, requests.exceptions.Timeout):
        return "timed out"
    if isinstance(error, requests.exceptions.RetryError):
        return "gave up after retries"
    return f"{type(error).__name__}: {error}"[:300]
