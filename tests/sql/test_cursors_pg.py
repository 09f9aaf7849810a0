"""SQL cursors (DECLARE, FETCH, MOVE, CLOSE) against PostgreSQL 15, statement by statement.

The same scripts run on a real PostgreSQL and on immusql; every statement must give the
same outcome on both: its command tag, columns (names and type OIDs) and rows, or the
same SQLSTATE. Random walks of FETCH/MOVE in every direction exercise the position
bookkeeping (planner/cursors.py ports PostgreSQL's); fixed scripts cover NO SCROLL,
WITH HOLD, savepoints, snapshots, parameters and the errors.

Cursors whose backward movement PostgreSQL decides by the plan are only declared over
queries whose plans it can run backward (a sort, a function scan): immusql allows backward
movement for every cursor not declared NO SCROLL (see planner/cursors.py).
"""

from __future__ import annotations

import random

import pytest

ROWS = 7
SCHEMA = [
    "CREATE TABLE t (id int PRIMARY KEY, v text)",
    f"INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, {ROWS}) g",
]
ORDERED = "SELECT id, v FROM t ORDER BY id"


def outcome(conn, sql: str, params=None):
    """(tag, [(column, type oid)], rows) or ('error', SQLSTATE)."""
    try:
        cur = conn.execute(sql, params)
    except Exception as e:  # psycopg.Error or immusql.errors.Error: both carry .sqlstate
        sqlstate = getattr(e, "sqlstate", None)
        if sqlstate is None:
            raise
        return ("error", sqlstate)
    if cur.description is None:
        return (cur.statusmessage, None, None)
    columns = [(d.name, d.type_code) for d in cur.description]
    return (cur.statusmessage, columns, [tuple(r) for r in cur.fetchall()])


def run_both(pg, immu, script, params=None):
    """Run `script` (statements, or (sql, params) pairs) on both; assert equal outcomes."""
    for step in script:
        sql, args = step if isinstance(step, tuple) else (step, params)
        expected = outcome(pg, sql, args)
        got = outcome(immu, sql, args)
        assert got == expected, f"{sql}\n  PostgreSQL: {expected}\n  immusql:    {got}"


@pytest.fixture
def both(pg, immu):
    for sql in SCHEMA:
        pg.execute(sql)
        immu.execute(sql)
    yield pg, immu
    for conn in (pg, immu):  # leave no block open for the fixtures' teardown
        outcome(conn, "ROLLBACK")


# ------------------------------------------------------------------ directions ---------

_DIRECTIONS = ["", "NEXT", "PRIOR", "FIRST", "LAST", "ALL", "FORWARD", "BACKWARD",
               "FORWARD ALL", "BACKWARD ALL", "ABSOLUTE {n}", "RELATIVE {n}", "{n}",
               "FORWARD {n}", "BACKWARD {n}"]


def walk(rng: random.Random, name: str, steps: int) -> list[str]:
    """Random FETCH / MOVE statements in every direction, counts from -9 to 9."""
    out = []
    for _ in range(steps):
        verb = rng.choice(("FETCH", "FETCH", "MOVE"))
        direction = rng.choice(_DIRECTIONS).format(n=rng.randint(-(ROWS + 2), ROWS + 2))
        from_in = rng.choice(("", "FROM ", "IN "))
        out.append(" ".join(p for p in (verb, direction, from_in + name) if p))
    return out


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("declare", [
    f"DECLARE c SCROLL CURSOR FOR {ORDERED}",
    f"DECLARE c CURSOR FOR {ORDERED}",  # a sort: PostgreSQL scrolls it too
    "DECLARE c CURSOR FOR SELECT g, g * 2 AS twice FROM generate_series(1, 7) g",
    "DECLARE c SCROLL CURSOR FOR SELECT id FROM t WHERE id > 100",  # no rows
    "DECLARE c SCROLL CURSOR FOR SELECT id, v FROM t WHERE id = 4",  # one row
], ids=["scroll", "default-sorted", "default-function", "empty", "one-row"])
def test_random_walk_in_a_block(both, declare, seed):
    pg, immu = both
    rng = random.Random(f"{declare}/{seed}")
    run_both(pg, immu, ["BEGIN", declare, *walk(rng, "c", 60), "CLOSE c", "COMMIT"])


@pytest.mark.parametrize("seed", range(2))
def test_random_walk_with_hold_after_commit(both, seed):
    pg, immu = both
    rng = random.Random(seed)
    run_both(pg, immu, ["BEGIN", f"DECLARE h SCROLL CURSOR WITH HOLD FOR {ORDERED}",
                        *walk(rng, "h", 10), "COMMIT", *walk(rng, "h", 50), "CLOSE h"])


# Every direction from a few positions of a NO SCROLL cursor: PostgreSQL allows whatever
# ends up moving forward, and refuses (55000) anything that would go back or re-read.
_NO_SCROLL_MOVES = ["FETCH c", "FETCH NEXT c", "FETCH PRIOR c", "FETCH FIRST c",
                    "FETCH LAST c", "FETCH ALL c", "FETCH 0 c", "FETCH 2 c", "FETCH -1 c",
                    "FETCH FORWARD 0 c", "FETCH BACKWARD 0 c", "FETCH BACKWARD ALL c",
                    "FETCH ABSOLUTE 0 c", "FETCH ABSOLUTE 1 c", "FETCH ABSOLUTE 3 c",
                    "FETCH ABSOLUTE 5 c", "FETCH ABSOLUTE -1 c", "FETCH RELATIVE 0 c",
                    "FETCH RELATIVE 2 c", "FETCH RELATIVE -1 c", "MOVE 0 c", "MOVE ALL c",
                    "MOVE BACKWARD ALL c", "MOVE ABSOLUTE 2 c", "MOVE RELATIVE 0 c"]


@pytest.mark.parametrize("prefix", ["", "FETCH 2 c", "MOVE 3 c", "FETCH ALL c"],
                         ids=["start", "row2", "row3", "end"])
def test_no_scroll_every_direction(both, prefix):
    pg, immu = both
    script = []
    for move in _NO_SCROLL_MOVES:
        script += ["BEGIN", f"DECLARE c NO SCROLL CURSOR FOR {ORDERED}",
                   *([prefix] if prefix else []), move, "FETCH c", "ROLLBACK"]
    run_both(pg, immu, script)


# ------------------------------------------------------------------ lifetimes ----------

def test_cursors_end_with_their_transaction(both):
    pg, immu = both
    run_both(pg, immu, [
        f"DECLARE c CURSOR FOR {ORDERED}",  # not in a block: 25P01
        "FETCH c", "MOVE c", "CLOSE c", "CLOSE ALL",
        "BEGIN", f"DECLARE c CURSOR FOR {ORDERED}", "FETCH c", "COMMIT", "FETCH c",
        "BEGIN", f"DECLARE c CURSOR FOR {ORDERED}", "FETCH c", "ROLLBACK", "FETCH c",
        "BEGIN", f"DECLARE a CURSOR FOR {ORDERED}", f"DECLARE b CURSOR FOR {ORDERED}",
        "DECLARE a CURSOR FOR SELECT 1",  # 42P03, and the block fails
        "FETCH b", "ROLLBACK",
        "BEGIN", f"DECLARE a CURSOR FOR {ORDERED}", f"DECLARE b CURSOR FOR {ORDERED}",
        "CLOSE a", "FETCH a", "ROLLBACK",
        "BEGIN", f"DECLARE a CURSOR FOR {ORDERED}", f"DECLARE b CURSOR FOR {ORDERED}",
        "CLOSE ALL", "FETCH b", "ROLLBACK",
    ])


def test_with_hold(both):
    pg, immu = both
    run_both(pg, immu, [
        # declared outside a block: materialised at once
        f"DECLARE h CURSOR WITH HOLD FOR {ORDERED}", "FETCH 2 h", "FETCH PRIOR h",
        "BEGIN", "FETCH h", "ROLLBACK", "FETCH h",  # movement is not rolled back
        "INSERT INTO t VALUES (8, 'v8')", "FETCH ALL h",  # nor does it see later writes
        "DELETE FROM t WHERE id = 8", "CLOSE h", "FETCH h",
        # declared in a block: survives its commit, not its rollback
        "BEGIN", f"DECLARE h CURSOR WITHOUT HOLD FOR {ORDERED}", "COMMIT", "FETCH h",
        "BEGIN", f"DECLARE h CURSOR WITH HOLD FOR {ORDERED}", "FETCH 2 h", "ROLLBACK",
        "FETCH h",
        "BEGIN", f"DECLARE h SCROLL CURSOR WITH HOLD FOR {ORDERED}", "FETCH 2 h", "COMMIT",
        "FETCH h", "FETCH -2 h", "FETCH LAST h",
        "BEGIN", "FETCH FIRST h", "ROLLBACK", "FETCH h",  # held from before: survives
        "CLOSE h",
        # NO SCROLL, held: forward only, and a failed FETCH leaves it unusable
        "BEGIN", f"DECLARE h NO SCROLL CURSOR WITH HOLD FOR {ORDERED}", "FETCH 2 h",
        "COMMIT", "FETCH h", "FETCH ABSOLUTE 5 h", "FETCH PRIOR h", "FETCH h", "CLOSE h",
        # an error materialising at COMMIT fails the COMMIT and drops the cursor
        "BEGIN", "DECLARE h CURSOR WITH HOLD FOR SELECT 10 / (g - 3) FROM "
        "generate_series(1, 5) g", "COMMIT", "FETCH h",
    ])


def test_savepoints(both):
    pg, immu = both
    run_both(pg, immu, [
        # movement inside a rolled-back savepoint stays; cursors opened in it close
        "BEGIN", f"DECLARE a CURSOR FOR {ORDERED}", "SAVEPOINT s", "FETCH 2 a",
        f"DECLARE b CURSOR FOR {ORDERED}", "ROLLBACK TO s", "FETCH a", "FETCH b",
        "ROLLBACK",
        # RELEASE keeps them, until a rollback to an outer savepoint
        "BEGIN", "SAVEPOINT s", "SAVEPOINT s2", f"DECLARE b CURSOR FOR {ORDERED}",
        "RELEASE s2", "FETCH b", "ROLLBACK TO s", "FETCH b", "ROLLBACK",
        # a cursor whose FETCH failed cannot run again, even after ROLLBACK TO
        "BEGIN", f"DECLARE a NO SCROLL CURSOR FOR {ORDERED}", "FETCH a", "SAVEPOINT s",
        "FETCH PRIOR a", "ROLLBACK TO s", "FETCH a", "ROLLBACK",
        "BEGIN", "DECLARE a CURSOR FOR SELECT 10 / (g - 3) FROM generate_series(1, 5) g",
        "FETCH 2 a", "SAVEPOINT s", "FETCH a", "ROLLBACK TO s", "FETCH a", "ROLLBACK",
        # CLOSE is not undone either
        "BEGIN", f"DECLARE a CURSOR FOR {ORDERED}", "SAVEPOINT s", "CLOSE a",
        "ROLLBACK TO s", "FETCH a", "ROLLBACK",
    ])


def test_snapshot_of_declare(both):
    pg, immu = both
    run_both(pg, immu, [
        "BEGIN", "INSERT INTO t VALUES (0, 'before')",  # the block's own write: seen
        f"DECLARE c CURSOR FOR {ORDERED}", "FETCH 2 c",
        "INSERT INTO t VALUES (10, 'after')", "UPDATE t SET v = 'changed' WHERE id = 3",
        "DELETE FROM t WHERE id = 5",  # none of these are
        "FETCH ALL c", "FETCH ABSOLUTE 4 c", "ROLLBACK",
    ])


def test_parameters(both):
    pg, immu = both
    run_both(pg, immu, [
        "BEGIN",
        ("DECLARE c CURSOR FOR SELECT id, v FROM t WHERE id > %s AND v <> %s ORDER BY id",
         (3, "v5")),
        ("DECLARE d CURSOR FOR SELECT %s::int + id AS n FROM t ORDER BY id", (100,)),
        "FETCH ALL c", "FETCH 2 d", "FETCH PRIOR d", "ROLLBACK",
    ])


def test_errors(both):
    pg, immu = both
    run_both(pg, immu, [
        "DECLARE c CURSOR FOR SELECT * FROM nosuch",  # analysis errors come first
        "BEGIN", "DECLARE c SCROLL NO SCROLL CURSOR FOR SELECT 1", "ROLLBACK",
        "BEGIN", "DECLARE c ASENSITIVE INSENSITIVE CURSOR FOR SELECT 1", "ROLLBACK",
        "BEGIN", "DECLARE c BINARY INSENSITIVE SCROLL CURSOR WITHOUT HOLD FOR SELECT 1",
        "CLOSE c", "ROLLBACK",
        "BEGIN", "DECLARE c CURSOR FOR WITH x AS (INSERT INTO t VALUES (9, 'x') "
        "RETURNING id) SELECT * FROM x", "ROLLBACK",
        "BEGIN", "DECLARE c SCROLL CURSOR FOR SELECT id FROM t FOR UPDATE", "ROLLBACK",
        "BEGIN", "DECLARE c CURSOR WITH HOLD FOR SELECT id FROM t FOR UPDATE", "ROLLBACK",
        # FOR UPDATE without SCROLL: forward only
        "BEGIN", "DECLARE c CURSOR FOR SELECT id FROM t ORDER BY id FOR UPDATE", "FETCH c",
        "FETCH PRIOR c", "ROLLBACK",
        "BEGIN", "FETCH c", "ROLLBACK", "BEGIN", "MOVE ALL c", "ROLLBACK",
        "BEGIN", "CLOSE c", "ROLLBACK",
    ])


def test_describe_fetch_and_declare(both):
    """Parse + Describe (libpq's PQprepare / PQdescribePrepared) of the cursor statements:
    DECLARE types its query's parameters and returns no rows, FETCH has its cursor's
    columns, or none (and no error) when the cursor does not exist."""
    pg, immu = both
    from immusql.planner import types as T
    session = immu.info
    if not hasattr(session, "describe"):
        pytest.skip("needs immusql's Session (not the self-mode stand-in)")
    pg.execute("BEGIN")
    immu.execute("BEGIN")
    for sql in ("DECLARE x CURSOR FOR SELECT * FROM t WHERE id = $1", "FETCH 2 FROM nosuch",
                "MOVE 1 IN nosuch", "CLOSE nosuch"):
        assert pg.pgconn.prepare(b"", sql.encode()).error_message == b""
        d = pg.pgconn.describe_prepared(b"")
        expected = ([d.param_type(i) for i in range(d.nparams)], d.nfields)
        mine = session.describe(sql)
        got = ([t.oid for t in mine.param_types], len(mine.columns or ()))
        assert got == expected, sql
    declare = "DECLARE c CURSOR FOR SELECT id, v, id::numeric / 2 AS half FROM t"
    pg.execute(declare)
    immu.execute(declare)
    pg.pgconn.prepare(b"", b"FETCH 2 c")
    d = pg.pgconn.describe_prepared(b"")
    expected = [(d.fname(i).decode(), d.ftype(i)) for i in range(d.nfields)]
    assert [(c.name, c.type.oid) for c in session.describe("FETCH 2 c").columns] == expected
    assert session.describe("MOVE 2 c").columns is None
    assert not session.failed
    assert T.UNKNOWN.oid not in [c.type.oid for c in session.describe("FETCH c").columns]
