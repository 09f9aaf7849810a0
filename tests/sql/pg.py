"""A private, throw-away PostgreSQL 15 server for the differential tests.

PostgreSQL is the reference implementation that immusql's SQL is compared against, so the
tests need a real server whose settings we control (UTC, ISO dates, C locale, UTF8) and
that no other process shares. This module starts one in a temporary directory on a free
loopback port and stops exactly that process again. It imports nothing from pytest so it
can also be used by hand:

    python tests/sql/pg.py        # starts a server, prints its conninfo, stops on Ctrl-C

PostgreSQL refuses to run as root. When we are root (CI), initdb and postgres run as the
`postgres` system user through `runuser`; any other user runs the binaries directly.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BINDIR = Path(os.environ.get("IMMUSQL_PG_BINDIR", "/usr/lib/postgresql/15/bin"))
INSTALL_HINT = ("install PostgreSQL 15 first: `apt-get update && apt-get install -y postgresql` "
                "(Debian 12 ships 15), or point IMMUSQL_PG_BINDIR at its bin directory")

# Settings every differential test relies on: deterministic output formats, no durability
# cost, no background activity that could change timings.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "TimeZone": "UTC",
    "DateStyle": "ISO,MDY",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",
    "lc_messages": "C",
    "autovacuum": "off",
    "max_connections": "40",
}


class PostgresError(RuntimeError):
    """The private server could not be set up, started or stopped."""


def find_binaries(bindir: Path = BINDIR) -> Path:
    """The directory holding initdb, postgres and pg_isready, or a PostgresError saying how
    to install them."""
    missing = [n for n in ("initdb", "postgres", "pg_isready") if not (bindir / n).is_file()]
    if missing:
        raise PostgresError(f"PostgreSQL binaries not found in {bindir} "
                            f"(missing: {', '.join(missing)}); {INSTALL_HINT}")
    return bindir


def free_port() -> int:
    """A loopback TCP port that is free right now (the server retries if it loses a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One private PostgreSQL cluster: `start()` initialises and starts it, `stop()` stops
    the postmaster we started (and only that one) and deletes the directory.

    Usable as a context manager. `conninfo(dbname)` gives a libpq connection string.
    """

    def __init__(self, bindir: Path | None = None, *, start_timeout: float = 60.0,
                 stop_timeout: float = 10.0, settings: dict[str, str] | None = None,
                 base_dir: str | os.PathLike | None = None):
        self.bindir = find_binaries(bindir or BINDIR)
        # `settings` overrides or extends SERVER_SETTINGS for this server only (e.g. the
        # benchmarks turn fsync and synchronous_commit back on); `base_dir` is where the
        # temporary cluster directory is created (default: the system's temp directory)
        self.settings = {**SERVER_SETTINGS, **(settings or {})}
        self.base_dir = base_dir
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.port: int | None = None
        self.base: Path | None = None
        self._proc: subprocess.Popen | None = None
        self._postmaster_pid: int | None = None
        self._log = None
        self._as_postgres = os.geteuid() == 0

    # -- paths ------------------------------------------------------------------------------
    @property
    def datadir(self) -> Path:
        return self.base / "data"

    @property
    def sockdir(self) -> Path:
        return self.base / "sock"

    @property
    def logfile(self) -> Path:
        return self.base / "server.log"

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> PostgresServer:
        """initdb into a fresh temporary directory, then start postgres on a free port and
        wait (bounded) until it accepts connections."""
        if self._proc is not None:
            raise PostgresError("server already started")
        self.base = Path(tempfile.mkdtemp(prefix="immusql-pg-", dir=self.base_dir))
        atexit.register(self.stop)
        try:
            self.sockdir.mkdir()
            if self._as_postgres:
                self._chown_to_postgres(self.base)
            self._initdb()
            for _ in range(5):
                if self._launch(free_port()):
                    return self
            raise PostgresError(f"no free port after 5 attempts; log:\n{self._log_tail()}")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the postmaster we started: SIGTERM (smart shutdown), then SIGINT (fast
        shutdown, disconnects lingering clients), then SIGKILL, each after a bounded wait.
        Removes the temporary directory. Safe to call more than once."""
        proc, self._proc = self._proc, None
        if proc is not None:
            pid = self._postmaster_pid or (proc.pid if not self._as_postgres else None)
            step = self.stop_timeout / 2
            for sig, wait in ((signal.SIGTERM, step), (signal.SIGINT, step),
                              (signal.SIGKILL, step)):
                if proc.poll() is not None:
                    break
                target = pid if pid is not None and _alive(pid) else proc.pid
                try:
                    os.kill(target, sig)
                except ProcessLookupError:
                    pass
                try:
                    proc.wait(wait)
                except subprocess.TimeoutExpired:
                    continue
        if self._log is not None:
            self._log.close()
            self._log = None
        self._postmaster_pid = None
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None
        atexit.unregister(self.stop)

    # -- internals ---------------------------------------------------------------------------
    def _command(self, *argv: str) -> list[str]:
        """argv for a PostgreSQL binary, run as the postgres user when we are root."""
        if self._as_postgres:
            return ["runuser", "-u", "postgres", "--", *argv]
        return list(argv)

    @staticmethod
    def _chown_to_postgres(path: Path) -> None:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresError("running as root but there is no `postgres` user to run the "
                                f"server as; {INSTALL_HINT}") from None
        for p in (path, *path.rglob("*")):
            os.chown(p, user.pw_uid, user.pw_gid)

    def _initdb(self) -> None:
        argv = self._command(str(self.bindir / "initdb"), "-D", str(self.datadir),
                             "--auth=trust", "-E", "UTF8", "--locale=C", "-U", "postgres",
                             "--no-sync", "--no-instructions")
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=self.start_timeout, cwd=self.base)
        if done.returncode != 0:
            raise PostgresError(f"initdb failed ({done.returncode}):\n{done.stdout}")

    def _launch(self, port: int) -> bool:
        """Start postgres on `port`; True once it accepts connections, False if the port was
        taken meanwhile (the caller retries), PostgresError on any other failure."""
        self.port = port
        self._postmaster_pid = None
        argv = [str(self.bindir / "postgres"), "-D", str(self.datadir), "-p", str(port),
                "-k", str(self.sockdir)]
        for name, value in self.settings.items():
            argv += ["-c", f"{name}={value}"]
        if self._log is None:
            self._log = open(self.logfile, "ab")
        self._proc = subprocess.Popen(self._command(*argv), stdout=self._log,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      cwd=self.base)
        deadline = time.monotonic() + self.start_timeout
        delay = 0.01
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._proc = None
                log = self._log_tail()
                if "could not bind" in log or "Address already in use" in log:
                    return False
                raise PostgresError(f"postgres exited during start-up; log:\n{log}")
            if self._postmaster_pid is None:
                self._postmaster_pid = self._read_postmaster_pid()
            # Our own postmaster.pid must say "ready" before pg_isready is asked: if another
            # process grabbed the port, pg_isready alone would report *its* server.
            if self._postmaster_pid is not None and self._ready() and self._accepting():
                return True
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
        raise PostgresError(f"postgres did not accept connections within "
                            f"{self.start_timeout:.0f}s; log:\n{self._log_tail()}")

    def _read_postmaster_pid(self) -> int | None:
        """The postmaster's pid from postmaster.pid, accepted only if that process is the
        one we started (or, under runuser, its direct child), so stop() never signals a
        stranger."""
        try:
            first = (self.datadir / "postmaster.pid").read_text().split("\n", 1)[0]
            pid = int(first)
        except (OSError, ValueError):
            return None
        if pid == self._proc.pid or _parent_of(pid) == self._proc.pid:
            return pid
        return None

    def _ready(self) -> bool:
        """postmaster.pid lines 4 and 8 (PostgreSQL >= 10): our port, status "ready"."""
        try:
            lines = (self.datadir / "postmaster.pid").read_text().split("\n")
        except OSError:
            return False
        return len(lines) >= 8 and lines[3].strip() == str(self.port) \
            and lines[7].strip() == "ready"

    def _accepting(self) -> bool:
        done = subprocess.run([str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1",
                               "-p", str(self.port), "-U", "postgres", "-t", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return done.returncode == 0

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.logfile.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name is in parentheses and may contain spaces: fields follow the last ')'
    return int(stat.rsplit(")", 1)[1].split()[1])


if __name__ == "__main__":
    with PostgresServer() as server:
        print(server.conninfo(), flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
