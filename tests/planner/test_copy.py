"""COPY FROM STDIN / TO STDOUT through the engine (planner/copy.py), and against
PostgreSQL 15.

The first part pins the engine's behaviour: defaults, serial and identity, constraints
with PostgreSQL's CONTEXT lines, the whole COPY as one transaction (an error anywhere
leaves neither rows nor a store transaction), explicit blocks, CopyFail, WHERE, FORCE_*,
COPY TO streaming and the binary format through an injected codec.

The second part is differential: the same bytes are loaded into the same table in a
private PostgreSQL 15 (tests/sql/pg.py) and in immusql, and the resulting rows, the
COPY TO bytes and the errors (SQLSTATE, message, CONTEXT) must be identical.
"""

from __future__ import annotations

import random
import struct
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from immusql import errors
from immusql.parser import ast, parse
from immusql.planner import types as T

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sql"))


@pytest.fixture
def s(engine):
    session = engine.session()
    yield session
    session.close()


def run(session, sql):
    res = session.execute(sql)[-1]
    return res.rows if res.columns is not None else res.tag


def stmt_of(sql):
    (stmt,) = parse(sql)
    assert isinstance(stmt, ast.Copy)
    return stmt


def copy_in(session, sql, data=b"", chunks=None):
    """Run COPY ... FROM STDIN with `data` (or `chunks`); the Result's tag."""
    cp = session.copy_in(stmt_of(sql))
    for ch in (chunks if chunks is not None else [data]):
        cp.feed(ch)
    return cp.finish().tag


def copy_error(session, sql, data=b"", chunks=None):
    with pytest.raises(errors.Error) as exc:
        copy_in(session, sql, data, chunks)
    e = exc.value
    return e.sqlstate, str(e), e.context


def copy_out(session, sql):
    out = session.copy_out(stmt_of(sql))
    data = list(out.chunks())
    return data, out.result().tag


# ------------------------------------------------------------------------ basics -------

def test_copy_in_and_out_text_and_csv(s):
    run(s, "CREATE TABLE t (id int PRIMARY KEY, name text, score numeric)")
    assert copy_in(s, "COPY t FROM STDIN", b"1\tann\t1.5\n2\t\\N\t\\N\n3\ttab\\there\t-2\n") \
        == "COPY 3"
    assert copy_in(s, "COPY t FROM STDIN (FORMAT csv, HEADER)",
                   b'id,name,score\n4,"a,b",\n5,"",0.10\n') == "COPY 2"
    assert run(s, "SELECT * FROM t ORDER BY id") == [
        (1, "ann", Decimal("1.5")), (2, None, None), (3, "tab\there", Decimal("-2")),
        (4, "a,b", None), (5, "", Decimal("0.10"))]
    data, tag = copy_out(s, "COPY t TO STDOUT")
    assert tag == "COPY 5"
    assert data == [b"1\tann\t1.5\n", b"2\t\\N\t\\N\n", b"3\ttab\\there\t-2\n",
                    b"4\ta,b\t\\N\n", b"5\t\t0.10\n"]  # one CopyData payload per row
    data, tag = copy_out(s, "COPY t (name, id) TO STDOUT (FORMAT csv, HEADER)")
    assert data[0] == b"name,id\n" and data[4] == b'"a,b",4\n' and data[5] == b'"",5\n'
    data, tag = copy_out(s, "COPY (SELECT id * 10 AS x FROM t WHERE id > 3 ORDER BY id) "
                            "TO STDOUT (FORMAT csv, HEADER, FORCE_QUOTE *)")
    assert (data, tag) == ([b"x\n", b'"40"\n', b'"50"\n'], "COPY 2")


def test_copy_in_reports_columns_and_format(s):
    run(s, "CREATE TABLE t (a int, b text, c date)")
    cp = s.copy_in(stmt_of("COPY t (c, a) FROM STDIN (FORMAT csv)"))
    assert [c.name for c in cp.columns] == ["c", "a"]
    assert [c.type for c in cp.columns] == [T.DATE, T.INT4]
    assert cp.format == "csv"
    cp.abort("never mind")
    out = s.copy_out(stmt_of("COPY (SELECT 1 AS one, 'x'::text AS two) TO STDOUT"))
    assert [c.name for c in out.columns] == ["one", "two"] and out.format == "text"
    list(out.chunks())


def test_defaults_serial_and_identity_apply_to_missing_columns(s):
    run(s, "CREATE TABLE t (id serial PRIMARY KEY, g int GENERATED ALWAYS AS IDENTITY, "
           "a int DEFAULT 7, b text, ts date DEFAULT '2024-01-02')")
    assert copy_in(s, "COPY t (b) FROM STDIN", b"x\ny\n") == "COPY 2"
    # COPY may set an identity column, even GENERATED ALWAYS (as PostgreSQL allows)
    assert copy_in(s, "COPY t (g, a, b) FROM STDIN", b"100\t\\N\tz\n") == "COPY 1"
    assert run(s, "SELECT id, g, a, b, ts::text FROM t ORDER BY id") == [
        (1, 1, 7, "x", "2024-01-02"), (2, 2, 7, "y", "2024-01-02"),
        (3, 100, None, "z", "2024-01-02")]
    assert run(s, "INSERT INTO t (b) VALUES ('w') RETURNING id, g") == [(4, 3)]


def test_column_list_errors(s):
    run(s, "CREATE TABLE t (a int, b text)")
    assert copy_error(s, "COPY t (zz) FROM STDIN") == (
        "42703", 'column "zz" of relation "t" does not exist', None)
    assert copy_error(s, "COPY t (b, b) FROM STDIN") == (
        "42701", 'column "b" specified more than once', None)
    assert copy_error(s, "COPY t (a) FROM STDIN (FORMAT csv, FORCE_NOT_NULL (b))") == (
        "42P10", 'FORCE_NOT_NULL column "b" not referenced by COPY', None)
    assert copy_error(s, "COPY t FROM STDIN (FORMAT csv, FORCE_NULL (zz))") == (
        "42703", 'column "zz" of relation "t" does not exist', None)
    assert copy_error(s, "COPY nosuch FROM STDIN")[:2] == (
        "42P01", 'relation "nosuch" does not exist')


def test_views_sequences_files_and_programs_are_refused(s):
    run(s, "CREATE TABLE t (a int)")
    run(s, "CREATE VIEW v AS SELECT * FROM t")
    run(s, "CREATE SEQUENCE sq")
    with pytest.raises(errors.WrongObjectType) as exc:
        s.copy_in(stmt_of("COPY v FROM STDIN"))
    assert str(exc.value) == 'cannot copy to view "v"'
    assert exc.value.hint == ("To enable copying to a view, provide an INSTEAD OF INSERT "
                              "trigger.")
    assert copy_error(s, "COPY sq FROM STDIN")[:2] == ("42809", 'cannot copy to sequence "sq"')
    with pytest.raises(errors.WrongObjectType) as exc:
        s.copy_out(stmt_of("COPY v TO STDOUT"))
    assert (str(exc.value), exc.value.hint) == (
        'cannot copy from view "v"', "Try the COPY (SELECT ...) TO variant.")
    with pytest.raises(errors.WrongObjectType, match='cannot copy from sequence "sq"'):
        s.copy_out(stmt_of("COPY sq TO STDOUT"))
    for sql in ("COPY t FROM '/etc/passwd'", "COPY t FROM PROGRAM 'ls'"):
        with pytest.raises(errors.FeatureNotSupported) as exc:
            s.copy_in(stmt_of(sql))
        assert str(exc.value) == ("COPY from a server-side file is not supported; use COPY "
                                  "FROM STDIN (psql's \\copy)")
    with pytest.raises(errors.FeatureNotSupported, match="use COPY TO STDOUT"):
        s.copy_out(stmt_of("COPY t TO '/tmp/x'"))
    with pytest.raises(errors.FeatureNotSupported, match="COPY BINARY is not supported"):
        s.copy_in(stmt_of("COPY t FROM STDIN (FORMAT binary)"))
    with pytest.raises(errors.FeatureNotSupported, match="COPY BINARY is not supported"):
        s.copy_out(stmt_of("COPY t TO STDOUT (FORMAT binary)"))
    assert not s.in_block and not s.failed


# ------------------------------------------------------------------------ errors -------

def test_conversion_errors_name_line_column_and_value(s):
    run(s, "CREATE TABLE t (a int, b varchar(3), c numeric(4,1))")
    assert copy_error(s, "COPY t FROM STDIN", b"1\tx\t1\nzz\ty\t2\n") == (
        "22P02", 'invalid input syntax for type integer: "zz"',
        'COPY t, line 2, column a: "zz"')
    assert copy_error(s, "COPY t FROM STDIN", b"99999999999\tx\t1\n") == (
        "22003", 'value "99999999999" is out of range for type integer',
        'COPY t, line 1, column a: "99999999999"')
    assert copy_error(s, "COPY t FROM STDIN", b"1\tabcd\t1\n") == (
        "22001", "value too long for type character varying(3)",
        'COPY t, line 1, column b: "abcd"')
    assert copy_error(s, "COPY t FROM STDIN (FORMAT csv)", b"1,x,1\n2,y,12345\n")[0] == "22003"
    assert copy_error(s, "COPY t FROM STDIN", b"\n") == (
        "22P02", 'invalid input syntax for type integer: ""', 'COPY t, line 1, column a: ""')
    # the first error in row order wins: a bad value in line 3 comes after line 2's
    # missing column, and within a line the columns go left to right
    assert copy_error(s, "COPY t FROM STDIN", b"1\tx\t1\n2\n3\tyyyy\tq\n") == (
        "22P04", 'missing data for column "b"', 'COPY t, line 2: "2"')
    assert copy_error(s, "COPY t FROM STDIN", b"1\tyyyy\tq\n")[2] == \
        'COPY t, line 1, column b: "yyyy"'
    assert run(s, "SELECT count(*) FROM t") == [(0,)]


def test_constraint_errors(s):
    run(s, "CREATE TABLE t (id int PRIMARY KEY, b text NOT NULL, c int CHECK (c > 0), "
           "u text UNIQUE)")
    assert copy_error(s, "COPY t FROM STDIN", b"1\tx\t1\ta\n2\t\\N\t1\tb\n") == (
        "23502", 'null value in column "b" of relation "t" violates not-null constraint',
        'COPY t, line 2: "2\t\\N\t1\tb"')
    assert copy_error(s, "COPY t FROM STDIN", b"1\tx\t0\ta\n") == (
        "23514", 'new row for relation "t" violates check constraint "t_c_check"',
        'COPY t, line 1: "1\tx\t0\ta"')
    # duplicates within the COPY (the table is empty: decided in memory) ...
    assert copy_error(s, "COPY t FROM STDIN", b"1\tx\t1\ta\n2\tx\t1\tb\n1\tx\t1\tc\n") == (
        "23505", 'duplicate key value violates unique constraint "t_pkey"', "COPY t, line 3")
    assert copy_error(s, "COPY t FROM STDIN", b"1\tx\t1\ta\n2\tx\t1\ta\n") == (
        "23505", 'duplicate key value violates unique constraint "t_u_key"', "COPY t, line 2")
    assert copy_error(s, "COPY t FROM STDIN", b"1\tx\t1\t\\N\n2\tx\t1\t\\N\n1\ty\t1\tq\n")[0] \
        == "23505"  # NULLs never conflict, the key does
    # ... and against rows already there (read from the store)
    copy_in(s, "COPY t FROM STDIN", b"1\tx\t1\ta\n")
    with pytest.raises(errors.UniqueViolation) as exc:
        copy_in(s, "COPY t FROM STDIN", b"5\tx\t1\tz\n1\ty\t1\tb\n")
    assert (exc.value.context, exc.value.detail) == ("COPY t, line 2",
                                                     "Key (id)=(1) already exists.")
    assert copy_error(s, "COPY t FROM STDIN", b"6\tx\t1\ta\n")[:2] == (
        "23505", 'duplicate key value violates unique constraint "t_u_key"')
    assert run(s, "SELECT id FROM t") == [(1,)]


def test_foreign_keys(s):
    run(s, "CREATE TABLE p (k int PRIMARY KEY)")
    run(s, "CREATE TABLE c (id int PRIMARY KEY, k int REFERENCES p)")
    copy_in(s, "COPY p FROM STDIN", b"1\n2\n")
    assert copy_in(s, "COPY c FROM STDIN", b"1\t1\n2\t\\N\n3\t2\n") == "COPY 3"
    sqlstate, message, context = copy_error(s, "COPY c FROM STDIN", b"4\t1\n5\t9\n")
    assert (sqlstate, message) == (
        "23503", 'insert or update on table "c" violates foreign key constraint "c_k_fkey"')
    assert context is None  # PostgreSQL checks them at the end of the statement


def test_where_filters_rows(s):
    run(s, "CREATE TABLE t (id serial PRIMARY KEY, a int, b text DEFAULT 'd')")
    assert copy_in(s, "COPY t (a) FROM STDIN WHERE a > 1 AND b = 'd'", b"1\n2\n3\n\\N\n") \
        == "COPY 2"
    assert run(s, "SELECT a, b FROM t ORDER BY a") == [(2, "d"), (3, "d")]
    assert copy_error(s, "COPY t FROM STDIN WHERE a > (SELECT 1)") == (
        "0A000", "cannot use subquery in COPY FROM WHERE condition", None)
    assert copy_error(s, "COPY t FROM STDIN WHERE count(*) > 1") == (
        "42803", "aggregate functions are not allowed in COPY FROM WHERE conditions", None)
    assert copy_error(s, "COPY t FROM STDIN WHERE zz > 1")[:2] == (
        "42703", 'column "zz" does not exist')
    assert copy_error(s, "COPY t FROM STDIN WHERE a")[:2] == (
        "42804", "argument of WHERE must be type boolean, not type integer")


def test_force_not_null_and_force_null(s):
    run(s, "CREATE TABLE t (a text NOT NULL, b text)")
    assert copy_error(s, "COPY t FROM STDIN (FORMAT csv)", b",x\n")[0] == "23502"
    assert copy_in(s, "COPY t FROM STDIN (FORMAT csv, FORCE_NOT_NULL (a), FORCE_NULL (b))",
                   b',""\n"",\n') == "COPY 2"
    assert run(s, "SELECT a, b FROM t") == [("", None), ("", None)]


def test_zero_column_table(s):
    run(s, "CREATE TABLE z ()")
    assert copy_in(s, "COPY z FROM STDIN", b"\n\n") == "COPY 2"
    assert copy_error(s, "COPY z FROM STDIN", b"\nx\n") == (
        "22P04", "extra data after last expected column", 'COPY z, line 2: "x"')
    assert copy_out(s, "COPY z TO STDOUT") == ([b"\n", b"\n"], "COPY 2")


# ------------------------------------------------------------------------ transactions -

def test_an_error_anywhere_leaves_nothing_behind(s, engine):
    run(s, "CREATE TABLE t (id int PRIMARY KEY, a text, b int)")
    copy_in(s, "COPY t FROM STDIN", b"0\tbefore\t0\n")
    last = engine.store.last_committed
    lines = [f"{i}\tname {i}\t{i % 7}\n" for i in range(1, 10001)]
    lines[4999] = "5000\tname\tnot a number\n"
    data = "".join(lines).encode()
    chunks = [data[i:i + 4096] for i in range(0, len(data), 4096)]
    with pytest.raises(errors.InvalidTextRepresentation) as exc:
        copy_in(s, "COPY t FROM STDIN", chunks=chunks)
    assert exc.value.context == 'COPY t, line 5000, column b: "not a number"'
    assert run(s, "SELECT count(*) FROM t") == [(1,)]
    assert engine.store.last_committed == last  # no new store transaction
    # the same for an error in the very last line, found by finish()
    with pytest.raises(errors.BadCopyFileFormat):
        copy_in(s, "COPY t FROM STDIN", chunks=[b"1\tx\t1\n2\tx\t2\n", b"3\tx"])
    assert engine.store.last_committed == last
    # and for a CopyFail after good rows
    cp = s.copy_in(stmt_of("COPY t FROM STDIN"))
    cp.feed(data[:len(data) // 3])
    err = cp.abort("user pressed ^C")
    assert (err.sqlstate, str(err)) == ("57014", "COPY from stdin failed: user pressed ^C")
    assert cp.abort("again") is err and cp.state == "failed"
    with pytest.raises(errors.Error):
        cp.feed(b"1\tx\t1\n")
    with pytest.raises(errors.Error):
        cp.finish()
    assert engine.store.last_committed == last
    assert run(s, "SELECT count(*) FROM t") == [(1,)]
    assert not s.in_block and not s.failed


def test_a_successful_copy_is_one_store_transaction(s, engine):
    run(s, "CREATE TABLE t (id int PRIMARY KEY, a text)")
    last = engine.store.last_committed
    data = "".join(f"{i}\tv{i}\n" for i in range(3000)).encode()
    cp = s.copy_in(stmt_of("COPY t FROM STDIN"))
    for i in range(0, len(data), 1000):
        cp.feed(data[i:i + 1000])
        assert engine.store.last_committed == last  # nothing committed while feeding
    assert cp.finish().tag == "COPY 3000" and cp.state == "done"
    assert engine.store.last_committed == last + 1
    assert run(s, "SELECT count(*), min(a), max(id) FROM t") == [(3000, "v0", 2999)]


def test_copy_inside_a_block(s, engine):
    run(s, "CREATE TABLE t (id int PRIMARY KEY, a text)")
    run(s, "BEGIN")
    run(s, "INSERT INTO t VALUES (1, 'one')")
    assert copy_in(s, "COPY t FROM STDIN", b"2\ttwo\n3\tthree\n") == "COPY 2"
    assert run(s, "SELECT count(*) FROM t") == [(3,)]  # the block sees its rows
    # the table was not empty: a duplicate of the INSERTed row is found in the store tx
    assert copy_error(s, "COPY t FROM STDIN", b"4\tx\n1\ty\n")[:2] == (
        "23505", 'duplicate key value violates unique constraint "t_pkey"')
    assert s.failed and s.transaction_status == "E"
    with pytest.raises(errors.InFailedSqlTransaction):
        run(s, "SELECT 1")
    with pytest.raises(errors.InFailedSqlTransaction):
        s.copy_in(stmt_of("COPY t FROM STDIN"))
    assert run(s, "ROLLBACK") == "ROLLBACK"
    assert run(s, "SELECT count(*) FROM t") == [(0,)]
    run(s, "BEGIN")
    copy_in(s, "COPY t FROM STDIN", b"7\tseven\n")
    assert copy_out(s, "COPY t TO STDOUT") == ([b"7\tseven\n"], "COPY 1")
    run(s, "COMMIT")
    assert run(s, "SELECT * FROM t") == [(7, "seven")]
    # a CopyFail inside a block aborts the block
    run(s, "BEGIN")
    cp = s.copy_in(stmt_of("COPY t FROM STDIN"))
    cp.feed(b"8\teight\n")
    assert cp.abort("no").sqlstate == "57014"
    assert s.failed
    run(s, "ROLLBACK")
    assert run(s, "SELECT count(*) FROM t") == [(1,)]
    run(s, "BEGIN READ ONLY")
    with pytest.raises(errors.ReadOnlySqlTransaction,
                       match="cannot execute COPY FROM in a read-only transaction"):
        s.copy_in(stmt_of("COPY t FROM STDIN"))
    run(s, "ROLLBACK")
    run(s, "BEGIN READ ONLY")
    assert copy_out(s, "COPY t TO STDOUT")[1] == "COPY 1"  # reading is fine
    run(s, "COMMIT")


@pytest.mark.parametrize("sql", ["COPY t (zz) FROM STDIN", "COPY t FROM '/etc/passwd'",
                                 "COPY t FROM STDIN (FORMAT binary)",
                                 "COPY t FROM STDIN (FORMAT csv, QUOTE ',')",
                                 "COPY t (zz) TO STDOUT",
                                 "COPY t TO STDOUT (FORMAT csv, FORCE_NOT_NULL (a))"])
def test_setup_error_in_a_block_aborts_it(s, engine, sql):
    run(s, "CREATE TABLE t (a int)")
    last = engine.store.last_committed
    with pytest.raises(errors.Error):
        (s.copy_in if " FROM " in sql else s.copy_out)(stmt_of(sql))
    assert not s.in_block and engine.store.last_committed == last
    run(s, "BEGIN")
    with pytest.raises(errors.Error):
        (s.copy_in if " FROM " in sql else s.copy_out)(stmt_of(sql))
    assert s.failed
    run(s, "ROLLBACK")


def test_copy_sees_ddl_of_its_block(s):
    run(s, "BEGIN")
    run(s, "CREATE TABLE t (a int, b text)")
    assert copy_in(s, "COPY t FROM STDIN (FORMAT csv)", b"1,x\n") == "COPY 1"
    run(s, "COMMIT")
    assert run(s, "SELECT * FROM t") == [(1, "x")]


# ------------------------------------------------------------------------ COPY TO ------

def test_copy_to_streams_and_ends_the_statement_when_read(s, engine):
    run(s, "CREATE TABLE t (id int PRIMARY KEY, a text)")
    copy_in(s, "COPY t FROM STDIN", "".join(f"{i}\tv{i}\n" for i in range(100)).encode())
    out = s.copy_out(stmt_of("COPY t TO STDOUT"))
    it = out.chunks()
    assert next(it) == b"0\tv0\n"
    with pytest.raises(errors.ObjectNotInPrerequisiteState):
        out.result()  # not read to its end yet
    assert sum(1 for _ in it) == 99
    assert out.result().tag == "COPY 100"
    # an abandoned COPY TO rolls its transaction back
    out = s.copy_out(stmt_of("COPY t TO STDOUT"))
    it = out.chunks()
    next(it)
    it.close()
    assert not s.in_block
    out = s.copy_out(stmt_of("COPY (SELECT 1) TO STDOUT"))
    out.close()


def test_copy_to_errors(s):
    run(s, "CREATE TABLE t (a int)")
    run(s, "INSERT INTO t VALUES (0)")
    out = s.copy_out(stmt_of("COPY (SELECT 1 / a FROM t) TO STDOUT"))
    with pytest.raises(errors.DivisionByZero):
        list(out.chunks())
    with pytest.raises(errors.UndefinedColumn, match='column "zz" of relation "t" does not'):
        s.copy_out(stmt_of("COPY t (zz) TO STDOUT"))
    with pytest.raises(errors.UndefinedColumn):
        s.copy_out(stmt_of("COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE (zz))"))
    with pytest.raises(errors.FeatureNotSupported,
                       match="COPY query must have a RETURNING clause"):
        s.copy_out(stmt_of("COPY (UPDATE t SET a = 1) TO STDOUT"))
    run(s, "BEGIN")
    out = s.copy_out(stmt_of("COPY (SELECT 1 / a FROM t) TO STDOUT"))
    with pytest.raises(errors.DivisionByZero):
        list(out.chunks())
    assert s.failed
    run(s, "ROLLBACK")


def test_copy_dml_returning_to_stdout_writes(s):
    run(s, "CREATE TABLE t (id serial PRIMARY KEY, a text)")
    data, tag = copy_out(s, "COPY (INSERT INTO t (a) VALUES ('x'), ('y') RETURNING id, a) "
                            "TO STDOUT (FORMAT csv)")
    assert (data, tag) == ([b"1,x\n", b"2,y\n"], "COPY 2")
    assert run(s, "SELECT count(*) FROM t") == [(2,)]


# ------------------------------------------------------------------------ binary -------

class Int4TextCodec:
    """A stand-in for the wire layer's binary codecs: int4 and text only."""

    def decoder(self, t):
        if t == T.INT4:
            def dec(b):
                if len(b) != 4:
                    raise errors.InvalidBinaryRepresentation("incorrect binary data format")
                return struct.unpack("!i", b)[0]
            return dec
        return lambda b: b.decode()

    def encoder(self, t):
        if t == T.INT4:
            return lambda v: struct.pack("!i", v)
        return lambda v: v.encode()


def test_binary_through_an_injected_codec(s):
    run(s, "CREATE TABLE t (id int PRIMARY KEY, a text)")
    copy_in(s, "COPY t FROM STDIN", b"1\tone\n2\t\\N\n")
    out = s.copy_out(stmt_of("COPY t TO STDOUT (FORMAT binary)"), Int4TextCodec())
    assert out.format == "binary"
    data = list(out.chunks())
    assert data[0].startswith(b"PGCOPY\n\xff\r\n\x00") and data[-1] == b"\xff\xff"
    assert len(data) == 3 and out.result().tag == "COPY 2"
    run(s, "CREATE TABLE u (id int PRIMARY KEY, a text)")
    cp = s.copy_in(stmt_of("COPY u FROM STDIN (FORMAT binary)"), Int4TextCodec())
    blob = b"".join(data)
    for i in range(len(blob)):
        cp.feed(blob[i:i + 1])
    assert cp.finish().tag == "COPY 2"
    assert run(s, "SELECT * FROM u ORDER BY id") == [(1, "one"), (2, None)]
    cp = s.copy_in(stmt_of("COPY u FROM STDIN (FORMAT binary)"), Int4TextCodec())
    with pytest.raises(errors.InvalidBinaryRepresentation) as exc:
        cp.feed(b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8 + b"\x00\x02\x00\x00\x00\x01x"
                + b"\xff\xff\xff\xff")
    assert exc.value.context == "COPY u, line 1, column id"
    out = s.copy_out(stmt_of("COPY (SELECT 1 WHERE false) TO STDOUT (FORMAT binary)"),
                     Int4TextCodec())
    assert list(out.chunks()) == [b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8 + b"\xff\xff"]


# ------------------------------------------------------------------------ volume -------

def test_many_rows_with_nulls_escapes_and_defaults(s):
    run(s, "CREATE TABLE t (id int PRIMARY KEY, a text, b int, c bool, d text DEFAULT 'x')")
    rng = random.Random(7)
    expect = []
    lines = []
    for i in range(5000):
        a = rng.choice([None, "", "plain", "tab\there", "nl\nx", "back\\slash", "é😀"])
        b = rng.choice([None, rng.randint(-2**31, 2**31 - 1)])
        c = rng.choice([None, True, False])
        expect.append((i, a, b, c, "x"))
        esc = None if a is None else a.replace("\\", "\\\\").replace("\t", "\\t") \
            .replace("\n", "\\n")
        lines.append("\t".join(["\\N" if v is None else v for v in
                                [str(i), esc, None if b is None else f" {b} ",
                                 None if c is None else ("yes" if c else "off")]]) + "\n")
    data = "".join(lines).encode()
    cuts = sorted(rng.sample(range(1, len(data)), 60))
    chunks = [data[i:j] for i, j in zip([0] + cuts, cuts + [len(data)])]
    assert copy_in(s, "COPY t (id, a, b, c) FROM STDIN", chunks=chunks) == "COPY 5000"
    assert run(s, "SELECT * FROM t ORDER BY id") == expect
    text, tag = copy_out(s, "COPY t (id, a, b, c) TO STDOUT")
    assert tag == "COPY 5000"
    assert text == [("\t".join(map(_text_out, row[:4])) + "\n").encode() for row in expect]


def _text_out(v) -> str:
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


# ======================================================================== PostgreSQL ===

@pytest.fixture(scope="module")
def pg_conninfo():
    """A private PostgreSQL 15 for this module, with one database (see tests/sql/pg.py)."""
    psycopg = pytest.importorskip("psycopg")
    from pg import PostgresServer
    with PostgresServer() as server:
        with psycopg.connect(server.conninfo(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE copytest TEMPLATE template0")
        yield server.conninfo("copytest")


@pytest.fixture
def pg(pg_conninfo):
    import psycopg
    with psycopg.connect(pg_conninfo, autocommit=True) as conn:
        for (name,) in conn.execute("SELECT tablename FROM pg_tables "
                                    "WHERE schemaname = 'public'").fetchall():
            conn.execute(f'DROP TABLE "{name}" CASCADE')
        yield conn


def pg_copy_in(conn, sql, data):
    import psycopg
    try:
        with conn.cursor() as cur:
            with cur.copy(sql) as cp:
                if data:
                    cp.write(data)
            return ("ok", f"COPY {cur.rowcount}")
    except psycopg.Error as e:
        return ("err", e.sqlstate, e.diag.message_primary, e.diag.context)


def pg_copy_out(conn, sql):
    with conn.cursor() as cur:
        with cur.copy(sql) as cp:
            return [bytes(b) for b in cp]


def immu_copy_in(session, sql, data):
    try:
        return ("ok", copy_in(session, sql, data))
    except errors.Error as e:
        return ("err", e.sqlstate, str(e), e.context)


# (column list, COPY options, data): loaded into `t` of both, rows compared as COPY TO text
DIFF_TABLE = ("CREATE TABLE t (i int, n numeric(8,2), t text, b bool, d date, "
              "ts timestamptz, ar int[], j jsonb, v varchar(4), by bytea)")
DIFF_CASES = [
    ("", "", rb'1	1.5	plain	t	2024-01-02	2024-01-02 03:04:05+02	{1,2}	{"a": 1}	abc	'
             rb'\\x00ff' b"\n" rb"\N	\N	\N	\N	\N	\N	\N	\N	\N	\N" b"\n"),
    ("", "", rb" 7 	 2.345 	tab\there\nnl\\bs\101\x42	yes	Jan 5 2020	"
             rb"2020-01-05 10:00 America/New_York	{}	null		\\x" b"\n"),
    ("", "", r'3	-0	\xc3\xa9😀 \\N	off	infinity	-infinity	{{1},{2}}	[1, "x"]	'
             "ab  \t\\\\001\n".encode()),
    ("", "", rb"4	1	a\
b	f	2000-02-29	2000-01-01 00:00:00	{NULL}	{}	\N	\N" b"\n\\.\n"),
    ("", "(FORMAT csv)", b'1,1,"a,b",t,2024-01-02,,"{1,2}","{""a"": [1]}",xy,\n'
                         b'2,,"",f,,,,,"",\n3,3,"multi\nline ""q""",,,,,,,\n'),
    ("", r"(FORMAT csv, HEADER, NULL 'NULL', DELIMITER ';', QUOTE '''', ESCAPE '\')",
     b"i;n;t;b;d;ts;ar;j;v;by\n" rb"1;NULL;'it\'s';NULL;NULL;NULL;NULL;NULL;'NULL';NULL" b"\n"),
    ("", "(FORMAT csv, FORCE_NOT_NULL (t, v), FORCE_NULL (j))",
     b'1,,,,,,,"",,\n2,,"",,,,,"{}","",\n'),
    ("", "(FORMAT text, NULL '', DELIMITER '|')", rb"1||x\|y|||||||" b"\n|||||||||\n"),
    ("", "(HEADER MATCH)", b"i\tn\tt\tb\td\tts\tar\tj\tv\tby\n"
                           rb"5	\N	x	\N	\N	\N	\N	\N	\N	\N" b"\n"),
    ("(i, n, t)", "(FORMAT csv)", b"1,,x\r\n2,,y\r\n\\.\r\nignored,after,the,marker\r\n"),
    ("(t, i)", "(FORMAT csv)", b'"x\r\ny",1\r\n'),
    ("(t)", "(FORMAT csv, HEADER MATCH)", b"t\n\\.x\n"),
]


@pytest.mark.parametrize("case", range(len(DIFF_CASES)))
def test_same_rows_as_postgresql(pg, s, case):
    cols, opts, data = DIFF_CASES[case]
    sql = f"COPY t {cols} FROM STDIN {opts}"
    pg.execute(DIFF_TABLE)
    s.execute(DIFF_TABLE)
    want = pg_copy_in(pg, sql, data)
    assert want[0] == "ok"
    assert immu_copy_in(s, sql, data) == want
    query = "COPY (SELECT * FROM t ORDER BY i, t) TO STDOUT"
    assert copy_out(s, query)[0] == pg_copy_out(pg, query)


ERROR_CASES = [
    ("", b"1\tx\n"), ("", b"1\t1\tx\tmaybe\n"), ("", b"1\t1\tx\tt\t2024-13-01\n"),
    ("", b"1\t123456789\n"), ("", b"1\t\\N\t\\N\t\\N\t\\N\t\\N\t{1,x}\n"),
    ("", b"1\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t{bad json}\n"),
    ("", b"1\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\ttoolong\n"),
    ("", b"1\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\\\xzz\n"),
    ("", b"1\n"), ("", b"1\t2\t3\t4\t5\t6\t7\t8\t9\t10\t11\n"), ("", b"\xff\n"),
    ("", b"1\t\\xff\n"), ("", b"\\.x\n"), ("", b"1\r\n2\n"),
    ("(FORMAT csv)", b'1,"unterminated\n'), ("(FORMAT csv)", b"1,2,3\r\n4\n"),
    ("(FORMAT csv, HEADER MATCH)", b"i,n\n"), ("(FORMAT csv)", b"x" * 300 + b"\n"),
    ("(FORMAT csv)", b"1,1.234567890\n"), ("(FORMAT csv)", b"2147483648\n"),
]


@pytest.mark.parametrize("case", range(len(ERROR_CASES)))
def test_same_errors_as_postgresql(pg, s, case):
    opts, data = ERROR_CASES[case]
    sql = f"COPY t FROM STDIN {opts}"
    pg.execute(DIFF_TABLE)
    s.execute(DIFF_TABLE)
    want = pg_copy_in(pg, sql, data)
    got = immu_copy_in(s, sql, data)
    assert want[0] == "err"
    if want[3] and not want[3].startswith("COPY "):
        # PostgreSQL stacks the input function's own CONTEXT line (json's "JSON data,
        # line 1: ...") above COPY's; immusql's json input has none
        want = want[:3] + (want[3].rsplit("\n", 1)[1],)
    assert got == want


def test_random_inputs_like_postgresql(pg, s):
    """Random bytes made of COPY's special characters, text and CSV with option
    variants, into three text columns: same rows or same error as PostgreSQL."""
    pg.execute("CREATE TABLE r (a text, b text, c text)")
    s.execute("CREATE TABLE r (a text, b text, c text)")
    pieces = [b"a", b"\t", b"\n", b"\n", b"\r", b"\r\n", b"\\", b".", b"\\.", b'"', b",",
              b"N", b"\\N", "é".encode(), b"'", b"\\x", b"\\3", b"\\xc3", b"\\251", b"\xff",
              b"\xe2\x82", b"\x00"]
    options = ["", "(NULL '')", "(HEADER)", "(HEADER MATCH)", "(FORMAT csv)",
               "(FORMAT csv, ESCAPE '\\')", "(FORMAT csv, QUOTE '''')",
               "(FORMAT csv, NULL 'N', FORCE_NOT_NULL (a))", "(FORMAT csv, FORCE_NULL (b))",
               "(FORMAT csv, HEADER MATCH)"]
    rng = random.Random(20240611)
    for _ in range(200):
        opts = rng.choice(options)
        cols = rng.choice(["(a, b)", "(a, b, c)", "(a)"] if "FORCE_NULL (b)" not in opts
                          else ["(a, b)", "(a, b, c)"])
        sql = f"COPY r {cols} FROM STDIN {opts}"
        data = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 20)))
        pg.execute("TRUNCATE r")
        s.execute("DELETE FROM r")
        want = pg_copy_in(pg, sql, data)
        got = immu_copy_in(s, sql, data)
        assert got == want, (sql, data)
        if want[0] == "ok":
            query = "COPY (SELECT * FROM r ORDER BY a, b, c) TO STDOUT (FORMAT csv)"
            assert copy_out(s, query)[0] == pg_copy_out(pg, query), (sql, data)


OUT_TABLE = """CREATE TABLE v (id int PRIMARY KEY, i2 smallint, i8 bigint, n numeric,
 n2 numeric(10,3), f float8, f4 real, t text, vc varchar(10), ch char(4), b boolean,
 d date, ts timestamp, tstz timestamptz, iv interval, tm time, by bytea, ia int[],
 ta text[], j json, jb jsonb, u uuid)"""
OUT_ROWS = r"""INSERT INTO v VALUES
 (1, 1, 9223372036854775807, 1.50, 2.5, 1.5e300, 1.25, E'tab\there\nnl\\bs', 'x,y', 'ab',
  true, '2024-02-29', '2024-01-02 03:04:05.123456', '2024-06-01 12:00:00+02',
  '1 year 2 mons 3 days 04:05:06.5', '12:34:56', '\x00ff41', '{1,NULL,3}',
  '{"a b","c,d","e\"f",NULL,"NULL",""}', '{"a": [1, 2.50]}', '{"b": 1, "a": [true, null]}',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (3, -32768, -1, -0.000001, 0, 'NaN', '-Infinity', '', '', '', NULL, 'infinity',
  '-infinity', 'infinity', '-1 days', '00:00:00', '', '{}', '{}', '[]', '{}', NULL),
 (4, 0, 0, 123456789012345678901234567890.123, 1.0005, 0.1, 3.4e38, E'\\N', E'a\rb', 'é',
  NULL, '0001-01-01', '1999-12-31 23:59:59.999999', '1970-01-01 00:00:00+00',
  '00:00:00.000001', '23:59:59.999999', '\x5c', '{{1,2},{3,4}}', '{"\\\\"}', '"str"',
  '"str"', NULL),
 (5, 5, 5, 'NaN', NULL, '-0', 1e-45, E'\x01\x1f\\.x', 'c"q', NULL, NULL, '2000-01-01',
  '2000-01-01 00:00:00', '0044-03-15 12:00:00+00', '-1 years -2 mons +3 days -00:00:01',
  NULL, NULL, NULL, '{"\\."}', 'null', 'null', NULL),
 (6, 6, 6, 1e-20, NULL, 1e16, 1e-7, E'\\.', E'\\.', NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL)"""


@pytest.mark.parametrize("sql", [
    "COPY v TO STDOUT",
    "COPY v TO STDOUT (FORMAT csv)",
    "COPY v TO STDOUT (FORMAT csv, HEADER)",
    "COPY v TO STDOUT (HEADER)",
    "COPY v TO STDOUT (FORMAT csv, FORCE_QUOTE *, NULL 'NULL')",
    "COPY v TO STDOUT (DELIMITER '|', NULL '')",
    "COPY v (t) TO STDOUT (FORMAT csv)",
    "COPY v (t, vc) TO STDOUT (FORMAT csv, QUOTE '''', ESCAPE '\\')",
    "COPY v (id, t) TO STDOUT (FORMAT csv, FORCE_QUOTE (t), DELIMITER ';')",
    "COPY v (id, t) TO STDOUT (DELIMITER E'\\x01')",
    "COPY v (id, t, ta) TO STDOUT (DELIMITER ',')",
    "COPY (SELECT id, t, ta FROM v ORDER BY id DESC) TO STDOUT (FORMAT csv, HEADER)",
    "COPY (SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, NULL) TO STDOUT",
    "COPY (SELECT * FROM v WHERE false) TO STDOUT (FORMAT csv, HEADER)",
])
def test_copy_to_bytes_are_postgresqls(pg, s, sql):
    for conn_run in (pg.execute, lambda q: s.execute(q)):
        conn_run(OUT_TABLE)
        conn_run(OUT_ROWS)  # in primary key order: PostgreSQL's heap order is the same
    assert copy_out(s, sql)[0] == pg_copy_out(pg, sql)


class WireCodec:
    """The wire layer's binary codecs (pgwire/codecs.py), as the server injects them."""

    def decoder(self, t):
        from immusql.pgwire import codecs
        return codecs.param_decoder(t, 1)

    def encoder(self, t):
        from immusql.pgwire import codecs
        return codecs.column_encoder(t, 1)


BINARY_TABLE = ("CREATE TABLE bt (id int PRIMARY KEY, i8 bigint, n numeric(8,2), t text, "
                "b bool, d date, ts timestamp, tz timestamptz, ar int[], j jsonb, by bytea, "
                "f float8, u uuid, iv interval)")
BINARY_ROWS = ("INSERT INTO bt VALUES (1, -5, 123.45, 'héllo', true, '2024-02-29', "
               "'2024-01-02 03:04:05.5', '2024-01-02 03:04:05+01', '{1,NULL,3}', "
               "'{\"a\": 1}', '\\x00ff', 1.5, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
               "'1 mon 2 days 00:00:03'), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
               "NULL, NULL, NULL, NULL, NULL, NULL)")


def test_binary_copy_is_postgresqls(pg, s):
    for run_sql in (pg.execute, s.execute):
        run_sql(BINARY_TABLE)
        run_sql(BINARY_ROWS)
    sql = "COPY bt TO STDOUT (FORMAT binary)"
    want = pg_copy_out(pg, sql)
    out = s.copy_out(stmt_of(sql), WireCodec())
    assert b"".join(out.chunks()) == b"".join(want)
    # PostgreSQL's binary data loads into immusql to the same rows
    s.execute(BINARY_TABLE.replace("bt ", "bt2 "))
    cp = s.copy_in(stmt_of("COPY bt2 FROM STDIN (FORMAT binary)"), WireCodec())
    for payload in want:
        cp.feed(payload)
    assert cp.finish().tag == "COPY 2"
    assert copy_out(s, "COPY bt2 TO STDOUT")[0] == pg_copy_out(pg, "COPY bt TO STDOUT")
