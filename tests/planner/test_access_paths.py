"""What tables read: primary-key range scans are chosen where they apply and never where
they would be wrong, and WHERE conditions reach the scans of inner joins only.
(tests/sql/fixtures/key_ranges.sql and joins.sql compare the answers with PostgreSQL.)"""

from __future__ import annotations

import pytest

import immusql


@pytest.fixture
def conn(tmp_path):
    c = immusql.connect(str(tmp_path))
    c.autocommit = True
    cur = c.cursor()
    cur.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
    cur.execute("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) AS g")
    cur.execute("CREATE TABLE c (a text, b int, PRIMARY KEY (a, b))")
    cur.execute("CREATE TABLE i (d interval PRIMARY KEY)")
    yield c
    c.close()


def plan(conn, sql, params=None) -> str:
    cur = conn.cursor()
    cur.execute("EXPLAIN " + sql, params)
    return "\n".join(r[0] for r in cur.fetchall())


@pytest.mark.parametrize("sql", [
    "SELECT * FROM t WHERE id > 90",
    "SELECT * FROM t WHERE id BETWEEN 3 AND 7",
    "SELECT * FROM t WHERE 10 >= id",
    "SELECT * FROM t WHERE id < '5'",
    "SELECT * FROM t x WHERE x.id >= 5 AND x.v <> 'a'",
    "SELECT * FROM c WHERE a = 'k'",
    "SELECT * FROM c WHERE a = 'k' AND b < 4",
])
def test_key_bounds_read_a_range(conn, sql):
    assert "Index Scan using" in plan(conn, sql) and "(range:" in plan(conn, sql)


@pytest.mark.parametrize("sql", [
    "SELECT * FROM t WHERE id > 1.5",             # the bound is not an int: filter only
    "SELECT * FROM t WHERE id NOT BETWEEN 3 AND 7",
    "SELECT * FROM t WHERE id > 5 OR v = 'x'",
    "SELECT * FROM t WHERE id + 0 > 5",
    "SELECT * FROM c WHERE b > 3",                # not a leading key column
    "SELECT * FROM i WHERE d > '1 day'",          # equal intervals can differ in key bytes
    "SELECT * FROM t AS OF TX 1 WHERE id > 5",
])
def test_no_range_where_it_does_not_apply(conn, sql):
    assert "(range:" not in plan(conn, sql)


def test_parameters_bound_each_execution(conn):
    cur = conn.cursor()
    sql = "SELECT id FROM t WHERE id > %s AND id <= %s ORDER BY id"
    assert "(range: id)" in plan(conn, sql, (1, 2))
    for lo, hi in ((1, 3), (98, 200), (50, 10), (None, 5)):
        cur.execute(sql, (lo, hi))
        expected = [] if lo is None else [(i,) for i in range(lo + 1, min(hi, 100) + 1)]
        assert cur.fetchall() == expected


def test_where_conditions_reach_the_scans_of_inner_joins_only(conn):
    cur = conn.cursor()
    cur.execute("CREATE TABLE u (id int PRIMARY KEY, t_id int, w int)")
    lines = plan(conn, "SELECT * FROM t JOIN u ON u.t_id = t.id "
                       "WHERE t.v = 'x' AND u.w > 3").splitlines()
    scans = [i for i, line in enumerate(lines) if "Seq Scan" in line]
    assert len(scans) == 2 and all("Filter" in lines[i - 1] for i in scans)
    lines = plan(conn, "SELECT * FROM t LEFT JOIN u ON u.t_id = t.id "
                       "WHERE t.v = 'x' AND u.w IS NULL").splitlines()
    below = {lines[i].split("on ")[-1].strip(): "Filter" in lines[i - 1]
             for i, line in enumerate(lines) if "Seq Scan" in line}
    assert below == {"t": True, "u": False}  # u's rows may be NULL-extended


def test_a_narrow_left_side_fetches_its_partners_by_key(conn):
    cur = conn.cursor()
    cur.execute("CREATE TABLE o (id int PRIMARY KEY, t_id int)")
    cur.execute("INSERT INTO o SELECT g, g % 7 FROM generate_series(1, 30) AS g")
    by_key = plan(conn, "SELECT * FROM o JOIN t ON t.id = o.t_id WHERE o.id = 3")
    assert "Nested Loop" in by_key and "Index Scan using t_pkey on t" in by_key
    assert "Hash" not in by_key
    left = plan(conn, "SELECT * FROM o LEFT JOIN t ON t.id = o.t_id WHERE o.id IN (3, 4)")
    assert "Nested Loop Left Join" in left and "t_pkey" in left
    for sql in ("SELECT * FROM o JOIN t ON t.id = o.t_id",              # left not narrow
                "SELECT * FROM o RIGHT JOIN t ON t.id = o.t_id WHERE o.id = 3",
                "SELECT * FROM o JOIN t AS OF TX 1 ON t.id = o.t_id WHERE o.id = 3"):
        assert "Hash" in plan(conn, sql) and "t_pkey" not in plan(conn, sql), sql
    cur.execute("SELECT o.id, t.v FROM o JOIN t ON t.id = o.t_id WHERE o.id IN (3, 7, 8)"
                " ORDER BY o.id")
    assert cur.fetchall() == [(3, "v3"), (8, "v1")]  # 7 % 7 = 0: no t row 0


def test_secondary_index_ranges_take_the_best_index(conn):
    cur = conn.cursor()
    cur.execute("CREATE TABLE s (id int PRIMARY KEY, a int, b text)")
    cur.execute("CREATE INDEX s_a ON s (a)")
    cur.execute("CREATE INDEX s_ba ON s (b DESC, a)")
    assert "Index Scan using s_a on s  (range: a)" in plan(conn, "SELECT * FROM s WHERE a > 3")
    assert "s_ba on s  (range: b)" in plan(conn, "SELECT * FROM s WHERE b < 'x'")
    # equality on b and a range on a: s_ba uses both of its columns
    assert "s_ba on s  (range: b, a)" in plan(conn, "SELECT * FROM s WHERE b = 'k' AND a > 6")
    assert "(range:" not in plan(conn, "SELECT * FROM s WHERE a + 1 > 3")


def test_order_by_the_key_reads_in_key_order_and_stops_at_the_limit(conn, monkeypatch):
    assert "Sort" not in plan(conn, "SELECT * FROM t ORDER BY id DESC LIMIT 5")
    assert "Backward" in plan(conn, "SELECT * FROM t ORDER BY id DESC LIMIT 5")
    assert "Sort" not in plan(conn, "SELECT * FROM t WHERE id > 50 ORDER BY 1 LIMIT 5")
    for sql in ("SELECT * FROM t ORDER BY v LIMIT 5",            # not the key
                "SELECT * FROM c ORDER BY a, b DESC",            # mixed directions
                "SELECT * FROM c ORDER BY b",                    # not the leading column
                "SELECT * FROM t AS OF TX 2 ORDER BY id",        # time travel
                "SELECT DISTINCT id FROM t ORDER BY id"):
        assert "Sort" in plan(conn, sql), sql
    # LIMIT stops the scan: count the rows the store hands out
    from immusql.planner import context
    read = []
    original = context.StatementContext.table_rows

    def counting(self, *args, **kwargs):
        for row in original(self, *args, **kwargs):
            read.append(row)
            yield row
    monkeypatch.setattr(context.StatementContext, "table_rows", counting)
    cur = conn.cursor()
    cur.execute("SELECT id FROM t ORDER BY id DESC LIMIT 3")
    assert cur.fetchall() == [(100,), (99,), (98,)] and len(read) == 3
