"""pgbench 15 against `immusql serve`: initialisation, the built-in TPC-B-like run and
custom scripts in all three query modes (simple, extended, prepared).

pgbench is a real, unmodified libpq client that pipelines nothing clever but exercises
most of the wire protocol in a tight loop: simple Query with trailing semicolons, unnamed
Parse with no parameter OIDs (`-M extended`), named statements parsed once and bound many
times (`-M prepared`), COPY FROM STDIN, DDL with storage options, VACUUM, TRUNCATE and the
pg_catalog partition probe of the built-in scripts.

Concurrency: immusql commits optimistically, so two clients updating the same row (every
TPC-B transaction updates the single branch row at scale 1) make one of them fail with
SQLSTATE 40001 at COMMIT. pgbench 15 does not abort a client on 40001: it counts the
transaction as failed and goes on to the next one (exit status 0), unless `--max-tries`
> 1 is given, in which case it rolls back and re-runs the same transaction (same random
values). The runs below use `--max-tries` so every transaction eventually commits, and
`test_tpcb_without_retries_counts_failures` pins down the no-retry behaviour. Either way
the TPC-B invariant must hold: a failed transaction leaves no trace.

The password goes through PGPASSWORD, never on the command line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from harness import ADMIN_PASSWORD
from psycopg import errors as pgerrors

PGBENCH = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"

pytestmark = pytest.mark.skipif(not Path(PGBENCH).is_file(), reason="pgbench not installed")

SCALE = 1
MAX_TRIES = "1000"   # every transaction eventually commits; no time limit needed with -t


def pgbench(server, dbname, *args, timeout=180) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGPASSWORD"] = ADMIN_PASSWORD
    env["PGSSLMODE"] = "disable"
    cmd = [PGBENCH, "-h", "127.0.0.1", "-p", str(server.port), "-U", "immusql", *args,
           dbname]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def _explain(res: subprocess.CompletedProcess) -> str:
    return f"pgbench {' '.join(res.args[1:])}\nrc={res.returncode}\n" \
           f"--- stdout\n{res.stdout}\n--- stderr\n{res.stderr[-4000:]}"


def stats(res: subprocess.CompletedProcess) -> dict[str, int]:
    """The counters of pgbench's summary (it prints them on stdout)."""
    out = res.stdout
    m = re.search(r"number of transactions actually processed: (\d+)/(\d+)", out)
    assert m, _explain(res)
    got = {"processed": int(m.group(1)), "planned": int(m.group(2)), "failed": 0,
           "serialization": 0, "deadlock": 0, "retried": 0}
    for key, label in (("failed", "failed transactions"),
                       ("serialization", "serialization failures"),
                       ("deadlock", "deadlock failures"),
                       ("retried", "transactions retried")):
        m = re.search(rf"number of {label}: (\d+)", out)
        if m:
            got[key] = int(m.group(1))
    return got


def ok(res: subprocess.CompletedProcess) -> dict[str, int]:
    """A run that must have completed every planned transaction."""
    assert res.returncode == 0, _explain(res)
    assert "aborted" not in res.stderr, _explain(res)
    s = stats(res)
    assert s["failed"] == 0 and s["processed"] == s["planned"], _explain(res)
    return s


# -- fixtures ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bench_db(server, admin):
    """One database for the whole module: `pgbench -i` takes seconds, so it runs once."""
    name = "pgbench_test"
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {name}")
    yield name
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def initialized(server, bench_db):
    """`pgbench -i -s 1`: drop, create (fillfactor, no keys), COPY 100k accounts, vacuum
    analyze, add primary keys. Returns the finished process."""
    res = pgbench(server, bench_db, "-i", "-s", str(SCALE))
    assert res.returncode == 0, _explain(res)
    return res


@pytest.fixture
def bconn(server, bench_db, initialized):
    with psycopg.connect(server.dsn(bench_db), autocommit=True) as c:
        yield c


def balances(c) -> tuple[int, int, int, int]:
    return c.execute(
        "SELECT (SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts), "
        "(SELECT coalesce(sum(bbalance), 0) FROM pgbench_branches), "
        "(SELECT coalesce(sum(tbalance), 0) FROM pgbench_tellers), "
        "(SELECT coalesce(sum(delta), 0) FROM pgbench_history)").fetchone()


# -- pgbench -i ----------------------------------------------------------------------------

def test_init_loads_tables_and_keys(initialized, bconn):
    out = initialized.stderr
    for step in ("dropping old tables", "creating tables", "generating data",
                 "vacuuming", "creating primary keys", "done in"):
        assert step in out, _explain(initialized)
    counts = bconn.execute(
        "SELECT (SELECT count(*) FROM pgbench_branches), "
        "(SELECT count(*) FROM pgbench_tellers), "
        "(SELECT count(*) FROM pgbench_accounts), "
        "(SELECT count(DISTINCT aid) FROM pgbench_accounts), "
        "(SELECT min(aid) FROM pgbench_accounts), (SELECT max(aid) FROM pgbench_accounts)"
    ).fetchone()
    assert counts == (1 * SCALE, 10 * SCALE, 100_000 * SCALE, 100_000 * SCALE, 1,
                      100_000 * SCALE)
    # the COPY'd rows carry pgbench's values: bid = (aid - 1) / 100000 + 1, balance 0 and
    # an empty filler, blank-padded to char(84)
    row = bconn.execute("SELECT bid, abalance, length(filler), octet_length(filler) "
                        "FROM pgbench_accounts WHERE aid = 54321").fetchone()
    assert row == (1, 0, 0, 84)

    # the primary keys pgbench added last exist in the catalog ...
    keys = bconn.execute(
        "SELECT c.relname, con.conname FROM pg_catalog.pg_constraint con "
        "JOIN pg_catalog.pg_class c ON c.oid = con.conrelid "
        "WHERE con.contype = 'p' AND c.relname LIKE 'pgbench%' ORDER BY 1").fetchall()
    assert keys == [("pgbench_accounts", "pgbench_accounts_pkey"),
                    ("pgbench_branches", "pgbench_branches_pkey"),
                    ("pgbench_tellers", "pgbench_tellers_pkey")]
    # ... and are enforced
    for table, col in (("pgbench_accounts", "aid"), ("pgbench_branches", "bid"),
                       ("pgbench_tellers", "tid")):
        with pytest.raises(pgerrors.UniqueViolation):
            bconn.execute(f"INSERT INTO {table} ({col}) VALUES (1)")


# -- built-in TPC-B-like ---------------------------------------------------------------------

def _check_tpcb_invariant(c, before):
    a, b, t, h = balances(c)
    # pgbench truncates pgbench_history at the start of every run without -n, so the
    # history covers this run only, while the balances accumulate over runs
    da, db, dt = a - before[0], b - before[1], t - before[2]
    assert da == db == dt == h, (before, (a, b, t, h))


@pytest.mark.parametrize("mode", ["simple", "extended", "prepared"])
def test_tpcb_concurrent_with_retries(server, bench_db, bconn, mode):
    before = balances(bconn)
    res = pgbench(server, bench_db, "-c", "2", "-j", "2", "-t", "20", "-M", mode,
                  "--max-tries", MAX_TRIES, "--failures-detailed")
    s = ok(res)
    assert s["processed"] == 40
    assert bconn.execute("SELECT count(*) FROM pgbench_history").fetchone()[0] == 40
    _check_tpcb_invariant(bconn, before)


def test_tpcb_without_retries_counts_failures(server, bench_db, bconn):
    """pgbench 15's default (--max-tries 1): a 40001 at COMMIT fails that transaction only;
    the client is not aborted, the run exits 0, and the failed transaction left nothing."""
    before = balances(bconn)
    res = pgbench(server, bench_db, "-c", "2", "-j", "2", "-t", "20", "--failures-detailed")
    assert res.returncode == 0, _explain(res)
    assert "aborted" not in res.stderr, _explain(res)
    s = stats(res)
    assert s["processed"] + s["failed"] == s["planned"] == 40, _explain(res)
    # the only failures allowed are serialization failures (no deadlocks, no other errors)
    assert s["failed"] == s["serialization"], _explain(res)
    assert bconn.execute("SELECT count(*) FROM pgbench_history").fetchone()[0] == \
        s["processed"]
    _check_tpcb_invariant(bconn, before)


def test_select_only_builtin(server, bench_db, initialized):
    ok(pgbench(server, bench_db, "-S", "-c", "2", "-j", "2", "-t", "50", "-M", "prepared"))


# -- custom scripts ------------------------------------------------------------------------

ROWS = 50

# Read-modify-write through a client-side variable: the SELECT's value comes back via
# \gset and the UPDATE writes old + delta. Under snapshot isolation with first-committer-
# wins this loses no update (a concurrent writer of the same row fails with 40001 and is
# retried); a lost or half-applied transaction would break bal = sum(delta) per row.
RMW_SCRIPT = """\
\\set aid random(1, {rows})
\\set delta random(-5000, 5000)
BEGIN;
SELECT bal AS old FROM acct_{mode} WHERE id = :aid \\gset
\\set newbal :old + :delta
UPDATE acct_{mode} SET bal = :newbal WHERE id = :aid;
INSERT INTO log_{mode} (client, aid, delta, seen) VALUES (:client_id, :aid, :delta, :old);
END;
"""

INSERT_SCRIPT = """\
\\set v random(1, 1000000)
INSERT INTO ins_{mode} (client, v) VALUES (:client_id, :v);
"""


@pytest.mark.parametrize("mode", ["simple", "extended", "prepared"])
def test_custom_scripts(server, bench_db, bconn, tmp_path, mode):
    bconn.execute(f"CREATE TABLE acct_{mode} (id int PRIMARY KEY, bal int NOT NULL)")
    bconn.execute(f"INSERT INTO acct_{mode} SELECT g, 0 FROM generate_series(1, {ROWS}) g")
    bconn.execute(f"CREATE TABLE log_{mode} (id serial PRIMARY KEY, client int, aid int, "
                  "delta int, seen int)")
    bconn.execute(f"CREATE TABLE ins_{mode} (id bigserial PRIMARY KEY, client int, v int)")

    rmw = tmp_path / "rmw.sql"
    rmw.write_text(RMW_SCRIPT.format(rows=ROWS, mode=mode))
    s = ok(pgbench(server, bench_db, "-n", "-M", mode, "-f", str(rmw), "-c", "2", "-j", "2",
                   "-t", "25", "--max-tries", MAX_TRIES, "--failures-detailed"))
    assert s["processed"] == 50
    assert bconn.execute(f"SELECT count(*), count(DISTINCT client) FROM log_{mode}"
                         ).fetchone() == (50, 2)
    wrong = bconn.execute(
        f"SELECT a.id, a.bal, coalesce(l.total, 0) FROM acct_{mode} a "
        f"LEFT JOIN (SELECT aid, sum(delta) AS total FROM log_{mode} GROUP BY aid) l "
        "ON l.aid = a.id WHERE a.bal <> coalesce(l.total, 0)").fetchall()
    assert wrong == []

    ins = tmp_path / "ins.sql"
    ins.write_text(INSERT_SCRIPT.format(mode=mode))
    s = ok(pgbench(server, bench_db, "-n", "-M", mode, "-f", str(ins), "-c", "2", "-j", "2",
                   "-t", "30", "--max-tries", MAX_TRIES))
    assert s["processed"] == 60
    assert bconn.execute(f"SELECT count(*), count(DISTINCT id), count(DISTINCT client) "
                         f"FROM ins_{mode}").fetchone() == (60, 60, 2)
