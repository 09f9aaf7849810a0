"""Start and stop `immusql serve` for tests: in-process (a thread running the server's
event loop: fast, and the test sees server-side objects) or as a child process (for
kill -9, signals and everything a real deployment does).

Both wait for the server's own "ready" signal (a callback, or the log line on stderr),
never for a fixed time, and pick their port at run time (port 0, loopback only).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from immusql.pgwire import config as server_config
from immusql.pgwire.server import serve

ADMIN_PASSWORD = "test-admin-secret"


class InProcessServer:
    def __init__(self, data_dir, **settings):
        settings.setdefault("admin_password", ADMIN_PASSWORD)
        settings.setdefault("port", 0)
        settings.setdefault("log_level", "warning")
        self.config = server_config.ServerConfig(dir=str(data_dir), **settings)
        server_config.validate(self.config)
        self.server = None
        self._stop = None
        self._loop = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="immusql-server", daemon=True)

    def _main(self) -> None:
        def ready(server, stop):
            self.server, self._stop = server, stop
            self._loop = asyncio.get_running_loop()
            self._ready.set()
        try:
            asyncio.run(serve(self.config, ready=ready))
        except BaseException as e:  # reported by start()
            self._error = e
            self._ready.set()

    def start(self) -> "InProcessServer":
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    @property
    def port(self) -> int:
        return self.server.addresses[0][1]

    def dsn(self, dbname="immusql", user="immusql", password=ADMIN_PASSWORD, **kw) -> str:
        parts = [f"host=127.0.0.1 port={self.port} dbname={dbname} user={user}",
                 "sslmode=disable"]
        if password is not None:
            parts.append(f"password={password}")
        parts += [f"{k}={v}" for k, v in kw.items()]
        return " ".join(parts)

    def stop(self) -> None:
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


_LISTEN = re.compile(r"listening on (\S+) port (\d+)")


class ServerProcess:
    """`python -m immusql serve` as a child; stderr is the log, read until ready."""

    def __init__(self, data_dir, *args, env=None):
        self.data_dir = Path(data_dir)
        self.args = list(args)
        self.env = dict(os.environ, **(env or {}))
        self.env.setdefault("IMMUSQL_ADMIN_PASSWORD", ADMIN_PASSWORD)
        self.proc: subprocess.Popen | None = None
        self.port = None
        self.log: list[str] = []

    def start(self, expect_ready: bool = True) -> "ServerProcess":
        cmd = [sys.executable, "-m", "immusql", "serve", "--dir", str(self.data_dir),
               "--port", "0", "--log-level", "info", *self.args]
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     text=True, env=self.env)
        if not expect_ready:
            return self
        for line in self.proc.stderr:
            self.log.append(line)
            m = _LISTEN.search(line)
            if m and self.port is None:
                self.port = int(m.group(2))
            if "ready to accept connections" in line:
                break
        else:
            raise RuntimeError("server exited before it was ready:\n" + "".join(self.log))
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.log.append(line)

    def wait_exit(self, timeout=60) -> int:
        rc = self.proc.wait(timeout)
        return rc

    def output(self) -> str:
        """Everything logged (after the process ended, complete)."""
        if self.proc.poll() is not None and not self.proc.stderr.closed:
            try:
                self.log.append(self.proc.stderr.read())
            except ValueError:
                pass
        return "".join(self.log)

    def dsn(self, dbname="immusql", user="immusql", password=ADMIN_PASSWORD) -> str:
        return (f"host=127.0.0.1 port={self.port} dbname={dbname} user={user} "
                f"password={password} sslmode=disable")

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(60)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.kill()
