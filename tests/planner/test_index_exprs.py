"""Expression and partial indexes: the planner reads through them (EXPLAIN shows it) and
the answers stay right after updates, deletes, a reopen and for time-travel reads."""

from __future__ import annotations

import pytest

import immusql
from immusql import errors


@pytest.fixture
def conn(tmp_path):
    c = immusql.connect(str(tmp_path))
    c.autocommit = True
    yield c
    c.close()


def q(conn, sql):
    cur = conn.cursor()
    cur.execute(sql)
    return cur.fetchall() if cur.description else None


def plan(conn, sql) -> str:
    return "\n".join(r[0] for r in q(conn, "EXPLAIN " + sql))


def setup(conn):
    q(conn, "CREATE TABLE t (id int PRIMARY KEY, name text, n int, active boolean)")
    q(conn, "INSERT INTO t SELECT g, 'Name' || (g % 10), g % 5, g % 2 = 0 "
            "FROM generate_series(1, 50) AS g")
    q(conn, "CREATE INDEX t_lower ON t (lower(name))")
    q(conn, "CREATE INDEX t_act ON t (n) WHERE active")


def test_expression_index_is_used_and_maintained(conn):
    setup(conn)
    sql = "SELECT id FROM t WHERE lower(name) = 'name3' ORDER BY id"
    assert "Index Scan using t_lower on t" in plan(conn, sql)
    assert "Index Scan using t_lower" in plan(conn, "SELECT id FROM t x WHERE lower(x.name) "
                                                  "= 'name3'")
    assert q(conn, sql) == [(3,), (13,), (23,), (33,), (43,)]
    q(conn, "UPDATE t SET name = 'NAME3' WHERE id = 4")
    q(conn, "DELETE FROM t WHERE id = 13")
    assert q(conn, sql) == [(3,), (4,), (23,), (33,), (43,)]
    # a condition on the column itself cannot use the expression index
    assert "Seq Scan on t" in plan(conn, "SELECT id FROM t WHERE name = 'name3'")


def test_partial_index_only_when_the_query_implies_its_predicate(conn):
    setup(conn)
    sql = "SELECT id FROM t WHERE active AND n = 1 ORDER BY id"
    assert "Index Scan using t_act on t" in plan(conn, sql)
    assert q(conn, sql) == [(6,), (16,), (26,), (36,), (46,)]
    assert "Index Scan using t_act" in plan(conn, "SELECT id FROM t WHERE active AND id > 3")
    # without the predicate the index lacks rows: it must not be used
    other = "SELECT id FROM t WHERE n = 1 ORDER BY id"
    assert "t_act" not in plan(conn, other)
    assert len(q(conn, other)) == 10
    q(conn, "UPDATE t SET active = false WHERE id = 6")
    q(conn, "UPDATE t SET active = true WHERE id = 1")
    assert q(conn, sql) == [(1,), (16,), (26,), (36,), (46,)]


def test_unique_expression_and_partial_indexes(conn):
    q(conn, "CREATE TABLE u (id int, code text, grp int)")
    q(conn, "INSERT INTO u VALUES (1, 'a', 1), (2, 'b', 1)")
    q(conn, "CREATE UNIQUE INDEX u_lower ON u (lower(code))")
    with pytest.raises(errors.UniqueViolation, match='"u_lower"'):
        q(conn, "INSERT INTO u VALUES (3, 'A', 2)")
    with pytest.raises(errors.UniqueViolation, match='could not create unique index "u_p"'):
        q(conn, "CREATE UNIQUE INDEX u_p ON u (grp) WHERE code IS NOT NULL")
    q(conn, "UPDATE u SET code = NULL WHERE id = 2")
    q(conn, "CREATE UNIQUE INDEX u_p ON u (grp) WHERE code IS NOT NULL")
    q(conn, "INSERT INTO u VALUES (4, NULL, 1)")  # outside the partial index
    with pytest.raises(errors.UniqueViolation, match='"u_p"'):
        q(conn, "UPDATE u SET code = 'z' WHERE id = 4")
    with pytest.raises(errors.InvalidObjectDefinition, match="IMMUTABLE"):
        q(conn, "CREATE INDEX u_bad ON u ((grp + extract(epoch FROM now())::int))")


def test_time_travel_reads_do_not_use_the_index(conn):
    setup(conn)
    tx = q(conn, "SELECT max(_tx) FROM t")[0][0]
    q(conn, "UPDATE t SET name = 'other' WHERE id = 3")
    sql = f"SELECT id FROM t AS OF TX {tx} WHERE lower(name) = 'name3' ORDER BY id"
    assert "Index Scan" not in plan(conn, sql)
    assert q(conn, sql) == [(3,), (13,), (23,), (33,), (43,)]
    assert q(conn, "SELECT id FROM t WHERE lower(name) = 'name3' ORDER BY id") == \
        [(13,), (23,), (33,), (43,)]


def test_indexes_survive_reopen(tmp_path):
    c = immusql.connect(str(tmp_path))
    c.autocommit = True
    setup(c)
    c.close()
    c = immusql.connect(str(tmp_path))
    c.autocommit = True
    sql = "SELECT id FROM t WHERE lower(name) = 'name3' AND id < 20 ORDER BY id"
    assert "Index Scan using t_lower" in plan(c, sql)
    assert q(c, sql) == [(3,), (13,)]
    assert q(c, "SELECT pg_get_indexdef('t_act'::regclass)") == [
        ("CREATE INDEX t_act ON public.t USING btree (n) WHERE active",)]
    c.close()
