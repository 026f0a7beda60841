"""A total deadline for a network exchange, not a per-read timeout.

A socket timeout bounds one read: a server that drips one byte every half second never trips
it, and a "30 s" fetch runs for ever. Here every connection opened inside
``with total_deadline(seconds):`` gets a socket whose every read, write and connect waits at
most the time *left* until the deadline; past it, the operation raises
:class:`DeadlineExceeded` (a ``TimeoutError``, so callers that already handle timeouts handle
it). It covers the status line and headers as well as the body.

Use :func:`deadline_opener` for ``urllib`` and :func:`mount_deadline` for a ``requests``
session; both only change connections made while a deadline is active.

Ground floor (``core``): imports no other project package.
"""

from __future__ import annotations

import contextvars
import http.client
import io
import socket
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_DEADLINE: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar(
    "network_deadline", default=None)


class DeadlineExceeded(TimeoutError):
    """The exchange ran past its total deadline."""


@contextmanager
def total_deadline(seconds: float) -> Iterator[None]:
    """Every connection made by :func:`deadline_opener` / :func:`mount_deadline` inside the
    block ends within ``seconds`` of entering it."""
    token = _DEADLINE.set((time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def seconds_left() -> float | None:
    """Seconds until the active deadline (``None`` without one); never negative."""
    current = _DEADLINE.get()
    return None if current is None else max(0.0, current[0] - time.monotonic())


class DeadlineSocket:
    """A socket (plain or TLS) whose blocking calls wait at most until the deadline."""

    def __init__(self, sock: Any, deadline: float, seconds: float) -> None:
        self._sock = sock
        self._deadline = deadline
        self._seconds = seconds
        self._timeout: float | None = sock.gettimeout()

    def _arm(self) -> None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded(f"timed out: no complete answer within {self._seconds:g} s")
        self._sock.settimeout(left if self._timeout is None else min(left, self._timeout))

    def _call(self, name: str, *args: Any) -> Any:
        self._arm()
        try:
            return getattr(self._sock, name)(*args)
        except TimeoutError:
            if self._deadline - time.monotonic() <= 0:
                raise DeadlineExceeded(
                    f"timed out: no complete answer within {self._seconds:g} s") from None
            raise

    def recv(self, *args: Any) -> Any:
        return self._call("recv", *args)

    def recv_into(self, *args: Any) -> Any:
        return self._call("recv_into", *args)

    def send(self, *args: Any) -> Any:
        return self._call("send", *args)

    def sendall(self, *args: Any) -> Any:
        return self._call("sendall", *args)

    def settimeout(self, value: float | None) -> None:
        self._timeout = value

    def gettimeout(self) -> float | None:
        return self._timeout

    def makefile(self, mode: str = "r", buffering: int | None = None, **_: Any) -> Any:
        # What socket.makefile does, with this object (and its deadline) under the buffer.
        raw = socket.SocketIO(self, "rb" if "r" in mode else "wb")  # type: ignore[arg-type]
        self._sock._io_refs += 1
        if "r" in mode:
            return io.BufferedReader(raw, buffering or 8192)
        return io.BufferedWriter(raw, buffering or 8192)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _wrap(sock: Any) -> Any:
    current = _DEADLINE.get()
    if current is None or sock is None or isinstance(sock, DeadlineSocket):
        return sock
    return DeadlineSocket(sock, *current)


def _connect_within_deadline(connection: http.client.HTTPConnection,
                             connect: Any) -> None:
    """Connect (plain or TLS) in what is left of the deadline, then bound every later read."""
    left = seconds_left()
    if left is not None:
        if left <= 0:
            raise DeadlineExceeded("timed out before connecting")
        connection.timeout = left if connection.timeout is None else min(connection.timeout,
                                                                          left)
    connect()
    connection.sock = _wrap(connection.sock)


class _DeadlineHTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        _connect_within_deadline(self, super().connect)


class _DeadlineHTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        _connect_within_deadline(self, super().connect)


class _DeadlineHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: Any) -> Any:
        return self.do_open(_DeadlineHTTPConnection, req)


class _DeadlineHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: Any) -> Any:
        return self.do_open(_DeadlineHTTPSConnection, req,
                            context=self._context)  # type: ignore[attr-defined]


def deadline_opener(*handlers: Any) -> urllib.request.OpenerDirector:
    """A ``urllib`` opener whose connections keep the active :func:`total_deadline`."""
    return urllib.request.build_opener(_DeadlineHTTPHandler, _DeadlineHTTPSHandler, *handlers)


def mount_deadline(session: Any) -> None:
    """Make a ``requests`` session's connections keep the active :func:`total_deadline`
    (call after mounting its adapters)."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class DeadlineConnection(HTTPConnection):
        def connect(self) -> None:
            super().connect()
            self.sock = _wrap(self.sock)

    class DeadlineSecureConnection(HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            self.sock = _wrap(self.sock)

    class DeadlinePool(HTTPConnectionPool):
        ConnectionCls = DeadlineConnection

    class DeadlineSecurePool(HTTPSConnectionPool):
        ConnectionCls = DeadlineSecureConnection

    for adapter in session.adapters.values():
        manager = getattr(adapter, "poolmanager", None)
        if manager is not None:
            manager.pool_classes_by_scheme = {"http": DeadlinePool, "https": DeadlineSecurePool}
