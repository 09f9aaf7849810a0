"""Views in the stored catalog: the check option's optional key, and that check options
and rename rewrites survive reopening the database. tests/sql/fixtures/views.sql and
rename_deps.sql compare the behaviour with PostgreSQL."""

from __future__ import annotations

import msgpack
import pytest

import immusql
from immusql import errors
from immusql.planner.catalog import Relation


def _run(conn, sql):
    cur = conn.cursor()
    cur.execute(sql)
    return cur.fetchall() if cur.description else None


def test_check_option_is_an_optional_catalog_key():
    plain = Relation(16384, "public", "v", "view", view_query=None)
    assert "check_option" not in msgpack.unpackb(plain.to_msgpack())
    checked = Relation(16384, "public", "v", "view", check_option="local")
    back = Relation.from_msgpack(checked.to_msgpack())
    assert back.check_option == "local"
    assert Relation.from_msgpack(plain.to_msgpack()).check_option is None


def test_check_option_and_renames_survive_reopening(tmp_path):
    conn = immusql.connect(str(tmp_path))
    conn.autocommit = True
    _run(conn, "CREATE TABLE t (id int PRIMARY KEY, n int CHECK (n >= 0))")
    _run(conn, "CREATE VIEW pos AS SELECT id, n FROM t WHERE n > 0 WITH LOCAL CHECK OPTION")
    _run(conn, "ALTER TABLE t RENAME COLUMN n TO qty")
    _run(conn, "ALTER TABLE t RENAME TO stock")
    conn.close()
    conn = immusql.connect(str(tmp_path))
    conn.autocommit = True
    _run(conn, "INSERT INTO pos VALUES (1, 5)")
    with pytest.raises(errors.WithCheckOptionViolation):
        _run(conn, "INSERT INTO pos VALUES (2, 0)")
    with pytest.raises(errors.CheckViolation):
        _run(conn, "INSERT INTO stock VALUES (3, -1)")
    assert _run(conn, "SELECT * FROM pos") == [(1, 5)]
    with pytest.raises(errors.DependentObjectsStillExist):
        _run(conn, "DROP TABLE stock")

