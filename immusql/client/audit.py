"""The auditor: keep a trusted state and, every round, make the server prove that its
current state extends it (immudb's auditor mode, docs/verify.md section 9).

A round is `Client.verify_state()`: `immusql_state(<trusted tx>)`, the dual proof checked
with the store's pure functions, the newer state saved in the shared state file (so the
auditor also vouches for every client using the same state directory). With `sweep`, the
round then proves that many whole transactions (VERIFY TX), walking the history from tx 1
and wrapping around, so a damaged value anywhere is found within a bounded number of
rounds, not only when someone reads it. A round ends in one verdict:

- VERIFIED: the server's history extends the trusted state; the state moves forward.
- TAMPERED: a proof failed, the history forked or was rolled back, a signature is wrong,
  or the server reports corruption. The auditor logs it, runs the alert command, and
  stops with exit status 1 (the first inconsistency is enough: nothing after it can be
  trusted).
- ERROR: the server could not be asked (down, refused, timed out). Logged and counted;
  the next round reconnects.

Prometheus metrics (prometheus-client, own registry) are served on --metrics-port.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import subprocess
import threading
from dataclasses import dataclass

import psycopg

from ..kv.state import State
from .connection import Client, load_public_key
from .errors import TamperedError

__all__ = ["Auditor", "Round", "parse_interval", "Metrics"]

log = logging.getLogger("immusql.audit")

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "": 1.0}


def parse_interval(text: str) -> float:
    """'60s', '5m', '1h', '250ms' or a number of seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|)\s*", str(text))
    if not m:
        raise ValueError(f"{text!r} is not an interval (e.g. 60s, 5m, 1h, 500ms)")
    return float(m.group(1)) * _UNITS[m.group(2)]


@dataclass
class Round:
    number: int
    verdict: str  # VERIFIED, TAMPERED or ERROR
    state: State | None
    check: str | None = None
    message: str = ""

    def line(self) -> str:
        now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.verdict == "VERIFIED":
            s = self.state
            what = ("database is empty" if s is None or s.tx_id == 0 else
                    f"db {s.db} tx {s.tx_id} alh {s.alh.hex()}")
            return f"{now} round {self.number}: VERIFIED {what}"
        if self.verdict == "TAMPERED":
            return f"{now} round {self.number}: TAMPERED ({self.check}) {self.message}"
        return f"{now} round {self.number}: ERROR {self.message}"


class Metrics:
    """rounds, failures, last verified tx (and when), on a registry of their own."""

    def __init__(self, database: str):
        from prometheus_client import CollectorRegistry, Counter, Gauge
        self.registry = CollectorRegistry()
        labels = ["database"]
        self.rounds = Counter("immusql_audit_rounds", "Audit rounds, by verdict",
                              labels + ["verdict"], registry=self.registry)
        self.failures = Counter("immusql_audit_failures", "Rounds that did not verify "
                                "(tampered or error), by check or error",
                                labels + ["kind"], registry=self.registry)
        self.last_tx = Gauge("immusql_audit_last_verified_tx",
                             "Transaction of the last verified state", labels,
                             registry=self.registry)
        self.last_time = Gauge("immusql_audit_last_verified_timestamp_seconds",
                               "Unix time of the last verified round", labels,
                               registry=self.registry)
        self.tampered = Gauge("immusql_audit_tampered",
                              "1 once the server failed verification", labels,
                              registry=self.registry)
        self.database = database
        for verdict in ("verified", "tampered", "error"):
            self.rounds.labels(database, verdict)
        self.tampered.labels(database).set(0)

    def record(self, r: Round) -> None:
        db = self.database
        self.rounds.labels(db, r.verdict.lower()).inc()
        if r.verdict == "VERIFIED":
            self.last_tx.labels(db).set(r.state.tx_id if r.state else 0)
            self.last_time.labels(db).set_to_current_time()
        elif r.verdict == "TAMPERED":
            self.failures.labels(db, r.check or "tampered").inc()
            self.tampered.labels(db).set(1)
        else:
            self.failures.labels(db, "error").inc()

    def serve(self, port: int, host: str = "127.0.0.1") -> int:
        """Serve /metrics; returns the bound port (useful with port 0)."""
        from prometheus_client import start_http_server
        started = start_http_server(port, addr=host, registry=self.registry)
        if isinstance(started, tuple):  # prometheus-client >= 0.20: (server, thread)
            self._server = started[0]
            return started[0].server_port
        return port

    def close(self) -> None:
        server = getattr(self, "_server", None)
        if server is not None:
            server.shutdown()
            server.server_close()


class Auditor:
    def __init__(self, dsn: str, *, state_dir=None, server_public_key=None, identity=None,
                 alert_command: str | None = None, connect_timeout: float = 10,
                 sweep: int = 0, out=None):
        self.dsn = dsn
        self.state_dir = state_dir
        self.public_key = None if server_public_key is None else load_public_key(
            server_public_key)
        self.identity = identity
        self.alert_command = alert_command
        self.connect_timeout = connect_timeout
        self.sweep = sweep  # whole transactions proven per round (see _sweep)
        self._cursor = 1
        self.client: Client | None = None
        self.out = out
        self.stop_event = threading.Event()
        self.metrics: Metrics | None = None

    def _client(self) -> Client:
        if self.client is None or self.client.conn.closed:
            conn = psycopg.connect(self.dsn, autocommit=True,
                                   connect_timeout=max(1, int(self.connect_timeout)))
            self.client = Client(conn, state_dir=self.state_dir,
                                 server_public_key=self.public_key, identity=self.identity,
                                 owns_connection=True)
        return self.client

    def round(self, number: int) -> Round:
        try:
            client = self._client()
            state = client.verify_state()
            self._sweep(client, state)
            return Round(number, "VERIFIED", state)
        except TamperedError as e:
            return Round(number, "TAMPERED", None, e.check, e.message)
        except (psycopg.Error, OSError) as e:
            if self.client is not None:
                self.client.close()
                self.client = None
            return Round(number, "ERROR", None, None, str(e).strip().splitlines()[0]
                         if str(e).strip() else type(e).__name__)

    def _sweep(self, client: Client, state: State) -> None:
        """Prove `sweep` whole transactions, continuing where the last round stopped and
        wrapping around: over time every stored value is read back and re-hashed (by the
        server, which reports damage, and by this client, which recomputes each eh)."""
        last = state.tx_id if state is not None else 0
        for _ in range(min(self.sweep, last)):
            if not 1 <= self._cursor <= last:
                self._cursor = 1
            client.verify_tx(self._cursor)
            self._cursor += 1

    def run(self, interval: float, rounds: int | None = None, metrics_port: int | None = None,
            metrics_host: str = "127.0.0.1", on_round=None) -> int:
        """Audit until `rounds` rounds ran (None: forever) or a round is TAMPERED.
        Exit status: 0 (the last round verified), 1 (tampered), 2 (the last round could
        not reach the server)."""
        database = psycopg.conninfo.conninfo_to_dict(self.dsn).get("dbname") or \
            os.environ.get("PGDATABASE", "")
        self.metrics = Metrics(database or "default")
        if metrics_port is not None:
            port = self.metrics.serve(metrics_port, metrics_host)
            self._print(f"metrics on http://{metrics_host}:{port}/metrics")
        last = None
        n = 0
        try:
            while rounds is None or n < rounds:
                if n and self.stop_event.wait(interval):
                    break
                n += 1
                last = self.round(n)
                self.metrics.record(last)
                self._print(last.line())
                if on_round is not None:
                    on_round(last)
                if last.verdict == "TAMPERED":
                    self._alert(last)
                    return 1
        finally:
            if self.client is not None:
                self.client.close()
            self.metrics.close()
        return 0 if last is None or last.verdict == "VERIFIED" else 2

    def _print(self, line: str) -> None:
        if self.out is not None:
            print(line, file=self.out, flush=True)
        log.info(line) if self.out is None else None

    def _alert(self, r: Round) -> None:
        if not self.alert_command:
            return
        env = dict(os.environ, IMMUSQL_AUDIT_VERDICT=r.verdict,
                   IMMUSQL_AUDIT_CHECK=r.check or "", IMMUSQL_AUDIT_MESSAGE=r.message,
                   IMMUSQL_AUDIT_DSN=self.dsn)
        try:
            subprocess.run(self.alert_command, shell=True, env=env, timeout=60, check=False)
        except (OSError, subprocess.SubprocessError) as e:
            log.error("the alert command failed: %s", e)
