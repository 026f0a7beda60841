"""A real Redis server for the distributed tests, on loopback, thrown away afterwards.

``redis-server`` comes from the system (``scripts/ensure-test-services.sh`` installs it when it is
missing); a missing binary FAILS the tests with what to install, never skips them. The server
runs with ``appendonly yes`` (every write logged, fsync every second) in a temp dir, so that
:meth:`RedisServer.restart` keeps the queued tasks, as a production broker with persistence on.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.postgres import free_port


class RedisUnavailable(RuntimeError):
    pass


@dataclass
class RedisServer:
    binary: str
    base_dir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.base_dir), "--appendonly", "yes", "--appendfsync", "always",
             "--save", "", "--protected-mode", "no", "--daemonize", "no",
             "--logfile", str(self.base_dir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RedisUnavailable(f"redis-server exited with {self.process.returncode}: "
                                       f"{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RedisUnavailable(f"redis-server did not answer within 30 s: {self.log_tail()}")

    def stop(self) -> None:
        """Stop the server the way a crash does (SIGKILL: only the append-only file survives)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self.process = None

    def restart(self, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = (self.base_dir / "redis.log").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)


def start_redis() -> RedisServer:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisUnavailable("redis-server not found: install it (Debian: apt-get install "
                               "redis-server; scripts/ensure-test-services.sh does it)")
    server = RedisServer(binary, Path(tempfile.mkdtemp(prefix="clickfarm-redis-")),
                         free_port())
    try:
        return server.start()
    except BaseException:
        server.close()
        raise
