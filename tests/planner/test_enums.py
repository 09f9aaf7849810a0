"""Enum types in the engine: what is stored (label OIDs in rows, sort orders in keys, the
label table in the catalog's version entry), that it survives reopening and RENAME VALUE,
and that catalogs written before enum types existed still load."""

from __future__ import annotations

import msgpack
import pytest

from immusql import errors
from immusql.planner import keys as keycodec
from immusql.planner import rows as rowcodec
from immusql.planner.catalog import CATALOG_VERSION_KEY, Catalog
from immusql.planner.enumtypes import EnumValue, make_enum
from immusql.planner.session import Engine
from immusql.planner.tables import row_prefix


@pytest.fixture
def path(tmp_path):
    return tmp_path / "db"


def run(session, sql):
    return session.execute(sql)[-1]


def rows(session, sql):
    return [tuple(r) for r in run(session, sql).rows]


def stored_rows(engine, table_id):
    """The table's live row entries, in the store's (key byte) order."""
    return list(engine.store.scan(row_prefix(table_id)))


def table_and_enum(engine, table):
    cat = engine.catalog(engine.store.transaction())
    (enum,) = cat.enums.values()
    return next(r for r in cat.relations.values() if r.name == table), enum


def test_label_oids_are_stored_and_survive_rename_and_reopen(path):
    engine = Engine.open(path)
    s = engine.session()
    run(s, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
    run(s, "CREATE TABLE t (id int PRIMARY KEY, m mood, ms mood[])")
    run(s, "INSERT INTO t VALUES (1, 'happy', '{sad,ok}'), (2, 'sad', NULL)")
    rel, mood = table_and_enum(engine, "t")
    ids = {label: i for i, label, _ in mood.labels}
    before = {e.key: e.value for e in stored_rows(engine, rel.id)}
    m_col, ms_col = rel.column("m").id, rel.column("ms").id
    decoded = [msgpack.unpackb(v[1:], strict_map_key=False) for v in before.values()]
    assert sorted(d[m_col] for d in decoded) == sorted([ids["happy"], ids["sad"]])
    assert [d[ms_col] for d in decoded if ms_col in d] == [[ids["sad"], ids["ok"]]]
    run(s, "ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'")
    after = {e.key: e.value for e in stored_rows(engine, rel.id)}
    assert after == before  # RENAME VALUE rewrites no row
    assert rows(s, "SELECT id, m::text, ms::text FROM t ORDER BY id") == [
        (1, "happy", "{blue,ok}"), (2, "blue", None)]
    s.close()
    engine.close()

    engine = Engine.open(path)
    s = engine.session()
    assert rows(s, "SELECT id, m::text FROM t ORDER BY m") == [(2, "blue"), (1, "happy")]
    run(s, "ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok'")
    run(s, "INSERT INTO t VALUES (3, 'meh')")
    assert rows(s, "SELECT enumlabel, enumsortorder FROM pg_enum ORDER BY enumsortorder") \
        == [("blue", 1.0), ("meh", 1.5), ("ok", 2.0), ("happy", 3.0)]
    assert rows(s, "SELECT id FROM t ORDER BY m") == [(2,), (3,), (1,)]
    s.close()
    engine.close()


def test_primary_key_and_index_order_is_the_enum_order(path):
    engine = Engine.open(path)
    s = engine.session()
    run(s, "CREATE TYPE size AS ENUM ('small', 'large')")
    run(s, "ALTER TYPE size ADD VALUE 'medium' AFTER 'small'")
    run(s, "CREATE TABLE k (s size PRIMARY KEY)")
    run(s, "INSERT INTO k VALUES ('large'), ('small'), ('medium')")
    rel, _ = table_and_enum(engine, "k")
    keys = [e.key for e in stored_rows(engine, rel.id)]  # the store's (byte) order
    t = rel.column("s").type
    assert [keycodec.decode_key(k[len(row_prefix(rel.id)):], (t,))[0].label
            for k in keys] == ["small", "medium", "large"]
    assert rows(s, "SELECT s::text FROM k") == [("small",), ("medium",), ("large",)]
    with pytest.raises(errors.UniqueViolation):
        run(s, "INSERT INTO k VALUES ('medium')")
    s.close()
    engine.close()


def test_codecs_of_an_enum_value():
    e = make_enum(16400, "public", "mood", 16401, [(16402, "sad", 1.0), (16403, "ok", 2.0),
                                                    (16404, "meh", 1.5)])
    assert [v.label for v in e.values()] == ["sad", "meh", "ok"]
    ok = e.by_label("ok")
    assert isinstance(ok, EnumValue) and ok == "ok" and ok > e.by_label("meh")
    assert rowcodec.decode_row(rowcodec.encode_row({1: ok}, {1: e}), {1: e}) == {1: ok}
    assert msgpack.unpackb(rowcodec.encode_row({1: ok}, {1: e})[1:],
                           strict_map_key=False) == {1: 16403}
    k = [keycodec.encode_key((v,), (e,)) for v in e.values()]
    assert k == sorted(k) and keycodec.decode_key(k[1], (e,)) == (e.by_label("meh"),)
    with pytest.raises(errors.InvalidTextRepresentation,
                       match='invalid input value for enum mood: "angry"'):
        e.by_label("angry")


def test_catalog_without_enums_loads_and_enums_round_trip():
    old = msgpack.packb({"version": 3, "next_id": 16390})  # before enum types existed
    cat = Catalog.load([(CATALOG_VERSION_KEY, old)])
    assert cat.enums == {} and "enums" not in msgpack.unpackb(cat.version_value())
    e = make_enum(16390, "public", "mood", 16391, [(16392, "a", 1.0), (16393, "b", 0.5)])
    cat = cat.with_enum(e)
    doc = msgpack.unpackb(cat.version_value())
    assert doc["enums"] == [[16390, "public", "mood", 16391, [[16393, "b", 0.5],
                                                              [16392, "a", 1.0]]]]
    again = Catalog.load([(CATALOG_VERSION_KEY, cat.version_value())])
    assert again.enums[16390] == e
