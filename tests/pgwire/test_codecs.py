"""Wire encodings of values (immusql/pgwire/codecs.py, binary.py).

The heart of it is the comparison with a real PostgreSQL 15: for each SQL literal below,
PostgreSQL's text and binary result bytes and its RowDescription facts (type oid, size,
modifier) are fetched with libpq, the same literal is evaluated by immusql, and our
encoders must produce byte-identical output from immusql's value; PostgreSQL's binary
and text bytes, read back with our parameter decoders, must give immusql's value. Then
round trips and edge values without PostgreSQL, and bad input compared with the error
PostgreSQL raises for the same bytes in a Bind.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import struct
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

import immusql
from immusql import errors
from immusql.pgwire.codecs import (
    column_encoder,
    param_decoder,
    session_zone,
    text_formatter,
    type_modifier,
    type_oid,
    type_size,
)
from immusql.planner import textio
from immusql.planner import types as T
from immusql.planner.types import NEG_INFINITY, POS_INFINITY, Interval

UTC = dt.timezone.utc

# ------------------------------------------------------------------------- fixtures --


@pytest.fixture(scope="module")
def codecs_pg():
    """A psycopg connection (autocommit) to a private PostgreSQL 15 (tests/sql/pg.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sql"))
    from pg import PostgresServer
    try:
        import psycopg
    except ImportError:
        pytest.fail("psycopg 3 is needed: pip install 'psycopg[binary]'", pytrace=False)
    with PostgresServer() as server:
        with psycopg.connect(server.conninfo(), autocommit=True) as conn:
            yield conn


@pytest.fixture(scope="module")
def codecs_immu(tmp_path_factory):
    """An immusql session on a fresh database."""
    conn = immusql.connect(tmp_path_factory.mktemp("codecs") / "db", autocommit=True)
    try:
        yield conn.info
    finally:
        conn.close()


# -------------------------------------------------------------------------- helpers --

def same(a, b) -> bool:
    """Equal and of the same kind, stricter than ==: numeric scale, float sign and NaN,
    interval fields, time zone offsets and list nesting all count."""
    if isinstance(a, list) or isinstance(b, list):
        return (type(a) is type(b) and len(a) == len(b)
                and all(same(x, y) for x, y in zip(a, b)))
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return repr(a) == repr(b)
    if isinstance(a, Decimal):
        return str(a) == str(b)
    if isinstance(a, Interval):
        return a.fields() == b.fields()
    if isinstance(a, (dt.datetime, dt.time)):
        return a == b and a.utcoffset() == b.utcoffset()
    return a == b


def pg_fetch(pg, exprs: list[str], fmt: int):
    """[(bytes | None, type oid, typmod, typlen)] of SELECT exprs, in format `fmt`."""
    from psycopg import pq
    res = pg.pgconn.exec_params(("SELECT " + ", ".join(exprs)).encode(), [],
                                result_format=fmt)
    assert res.status == pq.ExecStatus.TUPLES_OK, res.error_message
    return [(res.get_value(0, i), res.ftype(i), res.fmod(i), res.fsize(i))
            for i in range(res.nfields)]


def immu_fetch(session, exprs: list[str]):
    """[(SqlType, value)] of SELECT exprs in immusql."""
    result = session.execute("SELECT " + ", ".join(exprs))[-1]
    return [(c.type, v) for c, v in zip(result.columns, result.rows[0])]


def compare_with_pg(pg, session, exprs: list[str], settings=None):
    """Assert our encoders and decoders agree with PostgreSQL on every expression."""
    ours = immu_fetch(session, exprs)
    pg_bin = pg_fetch(pg, exprs, 1)
    pg_text = pg_fetch(pg, exprs, 0)
    problems = []
    for expr, (t, value), (pb, oid, mod, size), (ptxt, *_) in zip(exprs, ours, pg_bin,
                                                                 pg_text):
        got = (type_oid(t), type_modifier(t), type_size(t))
        if got != (oid, mod, size):
            problems.append(f"{expr}: (oid, typmod, typlen) {got} != PostgreSQL's "
                            f"{(oid, mod, size)}")
        enc_bin = column_encoder(t, 1, settings)(value)
        if enc_bin != pb:
            problems.append(f"{expr}: binary {_hex(enc_bin)} != PostgreSQL's {_hex(pb)}")
        enc_txt = column_encoder(t, 0, settings)(value)
        if enc_txt != ptxt:
            problems.append(f"{expr}: text {enc_txt!r} != PostgreSQL's {ptxt!r}")
        if value is not None and enc_txt != textio.format_text(
                value, t, tz=session_zone(settings)).encode():
            problems.append(f"{expr}: text encoder differs from textio.format_text")
        if pb is not None:
            for fmt, data in ((1, pb), (0, ptxt)):
                back = param_decoder(t, fmt, settings)(data)
                if not same(back, value):
                    problems.append(f"{expr}: format {fmt} decoded {back!r} != immusql's "
                                    f"{value!r}")
    assert not problems, "\n".join(problems)


def _hex(b):
    return None if b is None else b.hex(" ", 4)


# ----------------------------------------------------- the comparison with PostgreSQL --

LITERALS = {
    "bool": ["true", "false", "NULL::boolean"],
    "int2": ["0::int2", "'-32768'::int2", "32767::int2", "'-1'::int2"],
    "int4": ["0", "1", "'-1'::int4", "2147483647", "'-2147483648'::int4"],
    "int8": ["0::int8", "'9223372036854775807'::int8", "'-9223372036854775808'::int8",
             "4294967296::int8"],
    "float4": ["1.5::float4", "'-0'::float4", "'NaN'::float4", "'Infinity'::float4",
               "'-Infinity'::float4", "'3.4028235e38'::float4", "'1e-45'::float4",
               "0.1::float4", "'-123456.7'::float4"],
    "float8": ["0.1::float8", "'-0'::float8", "'NaN'::float8", "'Infinity'::float8",
               "'-Infinity'::float8", "'1.7976931348623157e308'::float8",
               "'5e-324'::float8", "'1e20'::float8", "'123456789.125'::float8",
               "'-1e-5'::float8"],
    "numeric": ["0::numeric", "'0.00'::numeric", "'-0.00'::numeric", "1::numeric",
                "'-1'::numeric", "'12345.678'::numeric", "'-12345.678'::numeric",
                "'0.0001'::numeric", "'-0.00012'::numeric", "10000::numeric",
                "100000000::numeric", "'1e20'::numeric", "'1e-20'::numeric",
                "'9999.9999'::numeric", "'0.1'::numeric", "'1.000000'::numeric",
                "'123456789012345678901234567890.123456789012345678901234567890'::numeric",
                "'-98765432109876543210.00000000000000000001'::numeric",
                "1.5::numeric(10,3)", "'12.345'::numeric(5,2)", "'1'::numeric / 3",
                "'NaN'::numeric", "'Infinity'::numeric", "'-Infinity'::numeric",
                "12345678::numeric", "'0.5'::numeric(3,0)",
                # more than 64 digits: binary.py's other path
                "'0." + "0" * 70 + "'::numeric", "'-0." + "0" * 70 + "123'::numeric",
                "'1" + "0" * 80 + ".5'::numeric", "'" + "9" * 70 + "'::numeric",
                "'1" + "0" * 79 + "'::numeric"],
    "text": ["'abc'", "''", "'héllo wörld ✓ 🎉 日本'", "'tab\there'",
             "'quote\"back\\slash'", "'NULL'", "'  spaces  '"],
    "varchar": ["'abc'::varchar(5)", "'abcdef'::varchar(3)", "'x'::varchar",
                "'é'::varchar(2)"],
    "bpchar": ["'ab'::char(5)", "'abc'::bpchar", "'x'::char", "'ü'::char(3)"],
    "name": ["'abc'::name", "'Mixed Case'::name"],
    "char": ["'a'::\"char\"", "'Z'::\"char\""],
    "bytea": ["'\\x'::bytea", "'\\x00ff10'::bytea", "'abc'::bytea",
              "'\\xdeadbeef00'::bytea"],
    "oid": ["0::oid", "'4294967295'::oid", "1259::oid"],
    "regtype": ["'int4'::regtype", "'text[]'::regtype", "'numeric'::regtype",
                "'timestamptz'::regtype", "'0'::regtype"],
    "regclass": ["'0'::regclass"],
    "date": ["'2000-01-01'::date", "'1999-12-31'::date", "'0001-01-01'::date",
             "'9999-12-31'::date", "'infinity'::date", "'-infinity'::date",
             "'1970-01-01'::date", "'2024-02-29'::date", "'1582-10-15'::date"],
    "time": ["'00:00'::time", "'23:59:59.999999'::time", "'12:34:56.789'::time",
             "'12:34:56.789'::time(1)"],
    "timetz": ["'12:34:56+02'::timetz", "'00:00:00-05:30'::timetz",
               "'23:59:59.999999+14'::timetz", "'01:02:03.5-11'::timetz",
               "'10:00:00+00'::timetz"],
    "timestamp": ["'2000-01-01 00:00:00'::timestamp",
                  "'1999-12-31 23:59:59.999999'::timestamp",
                  "'0001-01-01 00:00:00'::timestamp", "'9999-12-31 23:59:59.999999'::timestamp",
                  "'infinity'::timestamp", "'-infinity'::timestamp",
                  "'2024-06-15 12:00:00.5'::timestamp", "'1900-03-01 01:02:03'::timestamp",
                  "'2024-06-15 12:00:00.123456'::timestamp(2)"],
    "timestamptz": ["'2024-06-15 12:00:00+02'::timestamptz",
                    "'1999-12-31 23:59:59.999999+00'::timestamptz",
                    "'infinity'::timestamptz", "'-infinity'::timestamptz",
                    "'0001-01-01 00:00:00+00'::timestamptz",
                    "'1901-01-01 00:00:00-08'::timestamptz",
                    "'2038-01-19 03:14:08.25+05:30'::timestamptz"],
    "interval": ["'1 mon 2 days 3 microseconds'::interval",
                 "'1 year 2 mons -3 days 04:05:06.789'::interval",
                 "'-1 days +02:00:00'::interval", "'0'::interval",
                 "'-178956970 years -7 mons'::interval", "'1 day -1 microseconds'::interval",
                 "'P1Y2M3DT4H5M6.5S'::interval", "'@ 1 minute ago'::interval",
                 "'2147483647 days'::interval", "'-2562047788:00:54.775807'::interval"],
    "uuid": ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid",
             "'00000000-0000-0000-0000-000000000000'::uuid",
             "'{FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF}'::uuid"],
    "json": ["'{\"b\":1, \"a\": [1,2]}'::json", "'\"x\"'::json", "'null'::json",
             "'  [ ]  '::json", "'{\"a\":1,\"a\":2}'::json", "'\"\\u00e9\"'::json"],
    "jsonb": ["'{\"b\":1, \"a\": [1,2.50], \"aa\": null}'::jsonb", "'\"é\"'::jsonb",
              "'[]'::jsonb", "'1e3'::jsonb", "'{\"a\":1,\"a\":2}'::jsonb",
              "'{\"nested\": {\"x\": [true, false, null, \"s\\\"q\"]}}'::jsonb"],
}

ARRAY_LITERALS = [
    "ARRAY[1, NULL, 3]", "ARRAY[[1, 2], [3, 4]]", "'{}'::int[]",
    "'{{{1},{2}},{{3},{4}}}'::int[]", "ARRAY[NULL::int]",
    "'{{NULL,NULL},{NULL,NULL}}'::int[]", "'{{1,2,3},{4,5,6}}'::int8[]",
    "ARRAY['a', NULL, '', 'NULL', 'x y', 'q\"uote', 'back\\slash', '{br}', 'a,b', 'é']",
    "ARRAY[1.5, -2.25, NULL, 0.0001]::numeric[]", "'{NaN,Infinity,-Infinity}'::numeric[]",
    "ARRAY[true, false, NULL]", "ARRAY[1::int2, -1::int2]", "ARRAY[1.5::float4, 'NaN']",
    "ARRAY[0.1::float8, '-Infinity', '1e100']", "ARRAY['\\x01'::bytea, '\\x', NULL]",
    "ARRAY['abc'::name]", "ARRAY['a'::\"char\"]", "ARRAY[1::oid, 4294967295::oid]",
    "ARRAY['int4'::regtype, 'text'::regtype]", "ARRAY['a'::varchar(3)]::varchar(3)[]",
    "ARRAY['x'::char(3), 'yy']::char(3)[]", "'{a,b}'::text[]", "'{}'::text[]",
    "ARRAY['2020-01-01'::date, 'infinity', NULL, '1999-01-01']",
    "ARRAY['12:00'::time, '23:59:59.5']", "ARRAY['12:00+01'::timetz, '00:00-03:30']",
    "ARRAY['2020-01-01 00:00'::timestamp, '-infinity']",
    "ARRAY['2020-01-01 00:00+02'::timestamptz, 'infinity', NULL]",
    "ARRAY['1 day'::interval, '-1 mon 3 us']",
    "ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, NULL]",
    "ARRAY['[1, 2]'::json, '{\"a\" : \"b\"}']", "ARRAY['{\"b\":1,\"a\":2}'::jsonb, 'null']",
    "ARRAY[[1.5::numeric, 2], [NULL, -3.25]]", "ARRAY[['a', 'b'], ['c', NULL]]",
]


@pytest.mark.parametrize("family", sorted(LITERALS))
def test_matches_postgres(codecs_pg, codecs_immu, family):
    compare_with_pg(codecs_pg, codecs_immu, LITERALS[family])


def test_arrays_match_postgres(codecs_pg, codecs_immu):
    compare_with_pg(codecs_pg, codecs_immu, ARRAY_LITERALS)


def test_arrays_of_every_type_match_postgres(codecs_pg, codecs_immu):
    """Each scalar literal above, as a one-element array and with a NULL beside it."""
    exprs = []
    for family, literals in LITERALS.items():
        for lit in literals:
            if lit.startswith("NULL"):
                continue
            exprs.append(f"ARRAY[{lit}]")
            if "(" not in lit and not lit.endswith("::char"):
                # (immusql keeps a typmod beside an untyped NULL, PostgreSQL drops it)
                exprs.append(f"ARRAY[NULL, {lit}]")
    compare_with_pg(codecs_pg, codecs_immu, exprs)


def test_many_numerics_match_postgres(codecs_pg, codecs_immu):
    """Random numerics of every digit count and scale against numeric_send."""
    rng = random.Random(20240615)
    exprs = []
    for _ in range(300):
        int_digits = rng.choice([0, 1, 3, 4, 5, 8, 9, 17, 40])
        frac_digits = rng.choice([0, 1, 2, 3, 4, 5, 7, 8, 12, 30])
        ip = "".join(rng.choice("0123456789") for _ in range(int_digits)) or "0"
        fp = "".join(rng.choice("0000123456789") for _ in range(frac_digits))
        sign = rng.choice(["", "-"])
        exprs.append(f"'{sign}{ip}{'.' + fp if fp else ''}'::numeric")
    for i in range(0, len(exprs), 100):
        compare_with_pg(codecs_pg, codecs_immu, exprs[i:i + 100])


def test_vectors_match_postgres(codecs_pg, codecs_immu):
    """int2vector / oidvector (system catalogs): array_send from lower bound 0, text
    space-separated. (Kept out of LITERALS: ARRAY[vector] is int2vector[] in PostgreSQL.)"""
    compare_with_pg(codecs_pg, codecs_immu, ["'1 2 3'::int2vector", "'1 2'::oidvector",
                                             "'-32768 32767'::int2vector",
                                             "'4294967295 0'::oidvector"])
    # the empty vector: PostgreSQL sends it but refuses to receive it; so do we
    (t, value), = immu_fetch(codecs_immu, ["''::int2vector"])
    (pb, *_), = pg_fetch(codecs_pg, ["''::int2vector"], 1)
    assert column_encoder(t, 1)(value) == pb
    assert column_encoder(t, 0)(value) == b""
    with pytest.raises(errors.InvalidBinaryRepresentation, match="invalid int2vector data"):
        param_decoder(t, 1)(pb)


def test_records_with_known_fields_match_postgres(codecs_pg):
    """record_send for row types whose fields the engine knows (T.record_of)."""
    pg = pg_fetch(codecs_pg, ["row(1, 'a'::text, NULL::int)",
                              "row(1.5::numeric, ARRAY[1, 2])"], 1)
    r1 = T.record_of([("f1", T.INT4), ("f2", T.TEXT), ("f3", T.INT4)])
    r2 = T.record_of([("f1", T.NUMERIC), ("f2", T.array_of(T.INT4))])
    assert column_encoder(r1, 1)((1, "a", None)) == pg[0][0]
    assert column_encoder(r2, 1)((Decimal("1.5"), [1, 2])) == pg[1][0]
    assert type_oid(r1) == pg[0][1] and type_size(r1) == pg[0][3]


def test_type_facts_match_pg_type(codecs_pg):
    """Every type immusql knows (and its array type): typlen as pg_type says, and a
    binary form wherever PostgreSQL has a send function (but anonymous records)."""
    rows = codecs_pg.execute("SELECT oid::int, typlen, typsend::text, typreceive::text, "
                             "typelem::int FROM pg_type").fetchall()
    send = {oid: typsend for oid, _, typsend, _, _ in rows}
    checked = []
    for oid, typlen, typsend, typreceive, typelem in rows:
        try:
            t = T.type_by_oid(oid)
        except errors.UndefinedObject:
            continue
        if t.oid != oid:  # int2vector[] / oidvector[]: immusql has no such type yet
            continue
        checked.append(t)
        assert type_size(t) == typlen, t
        # an array of a type without binary form has none either (array_send fails)
        if "-" in (typsend, send.get(typelem)) or (t.element or t).oid == T.RECORD.oid:
            with pytest.raises(errors.FeatureNotSupported):
                column_encoder(t, 1)
        else:
            column_encoder(t, 1)
        if "-" not in (typreceive, send.get(typelem)) and (t.element or t).oid not in (
                T.RECORD.oid, T.VOID.oid, T.PG_NODE_TREE.oid):
            param_decoder(t, 1)
    assert len(checked) >= 60  # scalars and their array types


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "5", "-3.5",
                                  "Europe/Berlin"])
def test_timezone_setting_matches_postgres(codecs_pg, codecs_immu, zone):
    """timestamptz text output in the session's TimeZone; text parameters read in it."""
    exprs = ["'2024-06-15 12:00:00+02'::timestamptz", "'2024-01-15 12:00:00+00'::timestamptz",
             "'1900-01-01 00:00:00+00'::timestamptz", "'infinity'::timestamptz",
             "ARRAY['2024-03-10 07:30:00+00'::timestamptz, NULL]",
             "'2024-06-15 12:00:00+02'::timetz", "'2024-06-15 12:00:00'::timestamp"]
    settings = {"timezone": zone}
    codecs_pg.execute(f"SET TimeZone = '{zone}'")
    try:
        compare_with_pg(codecs_pg, codecs_immu, exprs, settings)
        # input without an offset is read in the session zone
        pb, *_ = pg_fetch(codecs_pg, ["'2024-07-01 09:15:00'::timestamptz"], 1)[0]
        dec = param_decoder(T.TIMESTAMPTZ, 0, settings)
        assert same(dec(b"2024-07-01 09:15:00"), param_decoder(T.TIMESTAMPTZ, 1)(pb))
    finally:
        codecs_pg.execute("RESET TimeZone")


# --------------------------------------------------------- bad input vs PostgreSQL --

def _array(elem_oid, dims, items, flags=None, ndim=None):
    """Bytes of an array in array_send's layout (items: bytes or None)."""
    has_null = any(i is None for i in items) if flags is None else flags
    out = struct.pack("!iiI", len(dims) if ndim is None else ndim, has_null, elem_oid)
    for size, lb in dims:
        out += struct.pack("!ii", size, lb)
    for i in items:
        out += struct.pack("!i", -1) if i is None else struct.pack("!i", len(i)) + i
    return out


def _numeric(ndigits, weight, sign, dscale, *digits):
    return struct.pack(f"!HhHH{len(digits)}H", ndigits, weight, sign, dscale, *digits)


# (type, bytes, expected class, compare SQLSTATE with PostgreSQL)
BAD_BINARY = [
    (T.INT4, b"\x00\x00\x01", errors.InvalidBinaryRepresentation, False),  # PG: 08P01
    (T.INT4, b"\x00\x00\x00\x01\x00", errors.InvalidBinaryRepresentation, True),
    (T.INT2, b"\x00", errors.InvalidBinaryRepresentation, False),
    (T.INT8, b"\x00" * 9, errors.InvalidBinaryRepresentation, True),
    (T.BOOL, b"\x01\x00", errors.InvalidBinaryRepresentation, True),
    (T.FLOAT8, b"\x00" * 4, errors.InvalidBinaryRepresentation, False),
    (T.UUID, b"\x00" * 17, errors.InvalidBinaryRepresentation, True),
    (T.TEXT, b"\xff", errors.CharacterNotInRepertoire, True),
    (T.TEXT, b"ok\xc3\x28", errors.CharacterNotInRepertoire, True),
    (T.TEXT, b"a\x00b", errors.CharacterNotInRepertoire, True),
    (T.TEXT, b"\xed\xa0\x80", errors.CharacterNotInRepertoire, True),  # a surrogate
    (T.VARCHAR, b"\xf0\x9f\x98", errors.CharacterNotInRepertoire, True),
    (T.NAME, b"n" * 64, errors.NameTooLong, True),
    (T.NUMERIC, _numeric(1, 0, 0x1000, 0, 1), errors.InvalidBinaryRepresentation, True),
    (T.NUMERIC, _numeric(1, 0, 0, 0, 10000), errors.InvalidBinaryRepresentation, True),
    (T.NUMERIC, _numeric(0, 0, 0, 0x4000), errors.InvalidBinaryRepresentation, True),
    (T.NUMERIC, _numeric(2, 0, 0, 0, 1), errors.InvalidBinaryRepresentation, False),
    (T.DATE, struct.pack("!i", 2147483646), errors.DatetimeFieldOverflow, True),
    (T.TIMESTAMP, struct.pack("!q", (1 << 63) - 2), errors.DatetimeFieldOverflow, True),
    (T.TIMESTAMPTZ, struct.pack("!q", -(1 << 63) + 1), errors.DatetimeFieldOverflow, True),
    (T.TIME, struct.pack("!q", 86_400_000_001), errors.DatetimeFieldOverflow, True),
    (T.TIME, struct.pack("!q", -1), errors.DatetimeFieldOverflow, True),
    (T.TIMETZ, struct.pack("!qi", 0, 57600), errors.DataError, True),
    (T.JSON, b"{bad", errors.InvalidTextRepresentation, True),
    (T.JSONB, b"\x02{}", errors.InvalidBinaryRepresentation, False),  # PG: XX000
    (T.JSONB, b"\x01{\"a\":", errors.InvalidTextRepresentation, True),
    (T.array_of(T.INT4), _array(25, [(1, 1)], [b"a"]), errors.DatatypeMismatch, True),
    (T.array_of(T.INT4), _array(23, [(1, 1)], [b"\x00" * 4], flags=2),
     errors.InvalidBinaryRepresentation, True),
    (T.array_of(T.INT4), _array(23, [(1, 1)], [b"\x00" * 5]),
     errors.InvalidBinaryRepresentation, True),
    (T.array_of(T.INT4), _array(23, [(2, 1)], [b"\x00" * 4]),
     errors.InvalidBinaryRepresentation, False),  # PG: 08P01
    (T.array_of(T.INT4), _array(23, [(1, 1)], [b"\x00" * 4]) + b"x",
     errors.InvalidBinaryRepresentation, True),
    (T.array_of(T.INT4), _array(23, [], [], ndim=-1), errors.InvalidBinaryRepresentation,
     True),
    (T.array_of(T.INT4), _array(23, [(1, 1)] * 7, [b"\x00" * 4]),
     errors.ProgramLimitExceeded, True),
    (T.array_of(T.INT4), _array(23, [(-1, 1)], []), errors.ProgramLimitExceeded, True),
    (T.array_of(T.TEXT), _array(25, [(1, 1)], [b"\xff"]), errors.CharacterNotInRepertoire,
     True),
]


@pytest.mark.parametrize("t, data, cls, same_code", BAD_BINARY,
                         ids=[f"{T.typname(c[0])}-{i}" for i, c in enumerate(BAD_BINARY)])
def test_bad_binary_parameters_like_postgres(codecs_pg, t, data, cls, same_code):
    from psycopg import pq
    with pytest.raises(cls) as info:
        param_decoder(t, 1, number=1)(data)
    res = codecs_pg.pgconn.exec_params(f"SELECT $1::{T.format_type(t)}".encode(), [data],
                                       [t.oid], [1])
    assert res.status == pq.ExecStatus.FATAL_ERROR, "PostgreSQL accepted the bytes"
    pg_code = res.error_field(pq.DiagnosticField.SQLSTATE).decode()
    pg_message = res.error_field(pq.DiagnosticField.MESSAGE_PRIMARY).decode()
    assert info.value.message == pg_message
    if same_code:
        assert info.value.sqlstate == pg_code


def test_bad_text_parameters_like_postgres(codecs_pg):
    from psycopg import pq
    cases = [(T.INT4, b"12x"), (T.INT2, b"40000"), (T.NUMERIC, b"1.2.3"), (T.BOOL, b"maybe"),
             (T.UUID, b"nope"), (T.TEXT, b"\xc3"), (T.DATE, b"2024-13-01"),
             (T.array_of(T.INT4), b"{1,2"), (T.JSONB, b"{")]
    for t, data in cases:
        with pytest.raises(errors.Error) as info:
            param_decoder(t, 0)(data)
        res = codecs_pg.pgconn.exec_params(f"SELECT $1::{T.format_type(t)}".encode(), [data],
                                           [t.oid], [0])
        assert res.status == pq.ExecStatus.FATAL_ERROR
        assert info.value.sqlstate == res.error_field(pq.DiagnosticField.SQLSTATE).decode(), t


# ------------------------------------------------------- round trips without PostgreSQL --

ROUND_TRIPS = [
    (T.BOOL, [True, False]),
    (T.INT2, [0, -32768, 32767]),
    (T.INT4, [0, -(1 << 31), (1 << 31) - 1]),
    (T.INT8, [0, -(1 << 63), (1 << 63) - 1]),
    (T.FLOAT4, [0.0, -0.0, 1.5, math.inf, -math.inf, math.nan, 3.4028234663852886e38]),
    (T.FLOAT8, [0.0, -0.0, 0.1, math.inf, -math.inf, math.nan, 5e-324, 1.7976931348623157e308]),
    (T.NUMERIC, [Decimal(s) for s in (
        "0", "0.000", "1", "-1", "0.5", "-0.00001", "99999999", "100000000", "1.00000000",
        "12345678901234567890123456789012345678901234567890.0000000001", "NaN", "Infinity",
        "-Infinity", "0." + "0" * 999 + "1", "9" * 1000, "-1234.5678")]),
    (T.TEXT, ["", "abc", "héllo ✓ 🎉", "NULL", "x" * 10000]),
    (T.VARCHAR, ["", "v"]),
    (T.BPCHAR, ["ab   "]),
    (T.NAME, ["n" * 63, "é" * 31]),
    (T.CHAR, ["a", ""]),
    (T.BYTEA, [b"", b"\x00\xff", bytes(range(256))]),
    (T.OID, [0, 4294967295]),
    (T.REGTYPE, [23, 0]),
    (T.REGCLASS, [1259]),
    (T.DATE, [dt.date(2000, 1, 1), dt.date(1, 1, 1), dt.date(9999, 12, 31),
              dt.date(1999, 12, 31), POS_INFINITY, NEG_INFINITY]),
    (T.TIME, [dt.time(0), dt.time(23, 59, 59, 999999), dt.time(12, 0, 0, 1)]),
    (T.TIMETZ, [dt.time(12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                dt.time(0, 0, tzinfo=dt.timezone(dt.timedelta(hours=-15, minutes=-59))),
                dt.time(1, 2, 3, 4, tzinfo=dt.timezone(dt.timedelta(seconds=-30)))]),
    (T.TIMESTAMP, [dt.datetime(2000, 1, 1), dt.datetime(1, 1, 1),
                   dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
                   dt.datetime(1999, 12, 31, 23, 59, 59, 999999), POS_INFINITY, NEG_INFINITY]),
    (T.TIMESTAMPTZ, [dt.datetime(2000, 1, 1, tzinfo=UTC), dt.datetime(1, 1, 1, tzinfo=UTC),
                     dt.datetime(1969, 7, 20, 20, 17, 40, 5, tzinfo=UTC), POS_INFINITY,
                     NEG_INFINITY]),
    (T.INTERVAL, [Interval(0, 0, 0), Interval(1, 2, 3), Interval(-14, 3, -4_000_000),
                  Interval(-(1 << 31), -(1 << 31), -(1 << 63)),
                  Interval((1 << 31) - 1, (1 << 31) - 1, (1 << 63) - 1)]),
    (T.UUID, [uuid.UUID(int=0), uuid.UUID(int=(1 << 128) - 1), uuid.uuid4()]),
    (T.JSON, ['{"b": 1, "a":2}', "[]", '"é"']),
    (T.JSONB, ['{"a": 2, "b": 1}', "[]", '"é"', "null"]),
    (T.UNKNOWN, ["untyped"]),
    (T.XID, [0, 4294967295]),
    (T.INT2VECTOR, [[1, -2, 3]]),
    (T.OIDVECTOR, [[0, 4294967295]]),
]


@pytest.mark.parametrize("t, values", ROUND_TRIPS, ids=[T.typname(t) for t, _ in ROUND_TRIPS])
def test_round_trip(t, values):
    # (vectors have no array type in immusql yet; textio cannot read xid)
    arr = T.array_of(t) if t.array_oid and t.element is None and t is not T.XID else None
    for fmt in (1,) if t is T.XID else (0, 1):
        enc, dec = column_encoder(t, fmt), param_decoder(t, fmt)
        for v in values:
            assert same(dec(enc(v)), v), (fmt, v)
        assert enc(None) is None and dec(None) is None
        if arr is None:
            continue
        arr_enc, arr_dec = column_encoder(arr, fmt), param_decoder(arr, fmt)
        for a in ([], values, [None, *values, None], [[v, None] for v in values],
                  [[[v]] for v in values]):
            assert same(arr_dec(arr_enc(a)), a), (fmt, a)


def test_binary_layouts():
    """A few layouts spelled out, so a failure says which part is wrong."""
    enc = column_encoder
    assert enc(T.NUMERIC, 1)(Decimal("12345.678")) == _numeric(3, 1, 0, 3, 1, 2345, 6780)
    assert enc(T.NUMERIC, 1)(Decimal("-0.00012")) == _numeric(2, -1, 0x4000, 5, 1, 2000)
    assert enc(T.NUMERIC, 1)(Decimal("0.00000001")) == _numeric(1, -2, 0, 8, 1)
    assert enc(T.NUMERIC, 1)(Decimal("0.00")) == _numeric(0, 0, 0, 2)
    assert enc(T.NUMERIC, 1)(Decimal("1E+8")) == _numeric(1, 2, 0, 0, 1)
    assert enc(T.NUMERIC, 1)(Decimal("NaN")) == _numeric(0, 0, 0xC000, 0)
    assert enc(T.NUMERIC, 1)(Decimal("-Infinity")) == _numeric(0, 0, 0xF000, 32)
    assert enc(T.DATE, 1)(dt.date(1999, 12, 31)) == struct.pack("!i", -1)
    assert enc(T.DATE, 1)(POS_INFINITY) == struct.pack("!i", (1 << 31) - 1)
    assert enc(T.TIMESTAMP, 1)(NEG_INFINITY) == struct.pack("!q", -(1 << 63))
    assert enc(T.TIMESTAMPTZ, 1)(dt.datetime(2000, 1, 1, 1, tzinfo=dt.timezone(
        dt.timedelta(hours=1)))) == struct.pack("!q", 0)
    assert enc(T.TIMETZ, 1)(dt.time(0, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=2)))) \
        == struct.pack("!qi", 1_000_000, -7200)
    assert enc(T.INTERVAL, 1)(Interval(1, 2, 3)) == struct.pack("!qii", 3, 2, 1)
    assert enc(T.JSONB, 1)("[]") == b"\x01[]"
    assert enc(T.array_of(T.INT4), 1)([]) == struct.pack("!iiI", 0, 0, 23)
    assert enc(T.array_of(T.INT4), 1)([None, 7]) == _array(23, [(2, 1)], [None, b"\0\0\0\7"])
    assert enc(T.array_of(T.INT2), 1)([[1], [2]]) == \
        _array(21, [(2, 1), (1, 1)], [b"\0\1", b"\0\2"])


def test_numeric_receive_truncates_to_dscale():
    """numeric_recv cuts digits the dscale hides and keeps trailing zeros it shows."""
    dec = param_decoder(T.NUMERIC, 1)
    assert str(dec(_numeric(2, 0, 0, 2, 1, 5678))) == "1.56"
    assert str(dec(_numeric(1, 0, 0x4000, 3, 7))) == "-7.000"
    assert str(dec(_numeric(1, 0, 0x4000, 0, 0))) == "0"  # no negative zero
    assert str(dec(_numeric(2, 3, 0, 0, 0, 1))) == "100000000"  # leading zero digit


def test_binary_values_immusql_cannot_hold():
    """PostgreSQL accepts these; immusql refuses them clearly instead of mangling them."""
    lb0 = _array(23, [(1, 0)], [b"\0\0\0\1"])
    cases = [(T.array_of(T.INT4), lb0), (T.DATE, struct.pack("!i", -800_000)),
             (T.DATE, struct.pack("!i", 3_000_000)),
             (T.TIMESTAMP, struct.pack("!q", -800_000 * 86_400_000_000)),
             (T.TIME, struct.pack("!q", 86_400_000_000)), (T.CHAR, b"\xe9")]
    for t, data in cases:
        with pytest.raises(errors.FeatureNotSupported):
            param_decoder(t, 1)(data)
    # an empty array's lower bounds do not matter (PostgreSQL ignores them too)
    assert param_decoder(T.array_of(T.INT4), 1)(_array(23, [(0, 5)], [])) == []


def test_types_without_binary_form():
    for t in (T.RECORD, T.array_of(T.RECORD)):
        with pytest.raises(errors.FeatureNotSupported, match="record"):
            column_encoder(t, 1)
        assert column_encoder(t, 0)((1, 2)) is not None  # text still works
        for fmt in (0, 1):
            with pytest.raises(errors.FeatureNotSupported):
                param_decoder(t, fmt)
    assert column_encoder(T.VOID, 1)("") == b""
    assert column_encoder(T.VOID, 0)("") == b""


def test_unknown_format_code():
    for build in (lambda: column_encoder(T.INT4, 2), lambda: param_decoder(T.INT4, -1)):
        with pytest.raises(errors.InvalidParameterValue, match="unsupported format code"):
            build()


def test_parameters_ignore_the_typmod():
    """Bind reads parameters with typmod -1, as PostgreSQL: the statement coerces."""
    assert param_decoder(T.VARCHAR.with_typmod(7), 0)(b"abcdefgh") == "abcdefgh"
    assert str(param_decoder(T.NUMERIC.with_typmod((5 << 16 | 1) + 4), 0)(b"1.25")) == "1.25"


def test_type_descriptions():
    assert (type_oid(T.INT4), type_size(T.INT4), type_modifier(T.INT4)) == (23, 4, -1)
    vc = T.array_of(T.VARCHAR.with_typmod(14))
    assert (type_oid(vc), type_size(vc), type_modifier(vc)) == (1015, -1, 14)
    assert type_size(T.UNKNOWN) == -2 and type_size(T.NAME) == 64
    assert type_size(T.TIMETZ) == 12 and type_size(T.INTERVAL) == 16


def test_output_settings():
    """Settings textio prints only by default: accepted when equivalent, refused when
    they would change the text; binary output does not depend on them."""
    fine = {"timezone": "UTC", "datestyle": "ISO, DMY", "intervalstyle": "postgres",
            "extra_float_digits": "3", "bytea_output": "hex"}
    for t in (T.DATE, T.TIMESTAMPTZ, T.INTERVAL, T.FLOAT8, T.BYTEA, T.array_of(T.DATE)):
        column_encoder(t, 0, fine)
    refused = [(T.DATE, {"datestyle": "SQL, DMY"}),
               (T.array_of(T.TIMESTAMP), {"datestyle": "German"}),
               (T.INTERVAL, {"intervalstyle": "iso_8601"}),
               (T.FLOAT4, {"extra_float_digits": "0"}),
               (T.BYTEA, {"bytea_output": "escape"})]
    for t, settings in refused:
        with pytest.raises(errors.FeatureNotSupported):
            column_encoder(t, 0, settings)
        column_encoder(t, 1, settings)
        column_encoder(T.INT4, 0, settings)  # columns the setting does not affect


def test_text_formatter_matches_textio():
    """The per-type formatter picked once is textio.format_text's choice."""
    cases = [(T.INT4, 5), (T.NUMERIC, Decimal("-1.50")), (T.FLOAT8, 1e20),
             (T.FLOAT4, 0.1), (T.BOOL, True), (T.TIMESTAMPTZ, dt.datetime(2024, 1, 1,
                                                                          tzinfo=UTC)),
             (T.REGTYPE, 1700), (T.REGCLASS, 0), (T.OID, 7), (T.UUID, uuid.UUID(int=5)),
             (T.array_of(T.TEXT), ["a b", None, "", "NULL", '"', "\\"]),
             (T.array_of(T.BYTEA), [b"\x01"]), (T.RECORD, (1, "a"))]
    for zone in ("UTC", "Asia/Tokyo"):
        tz = session_zone({"timezone": zone})
        for t, v in cases:
            assert text_formatter(t, tz)(v) == textio.format_text(v, t, tz=tz), (t, v)


def test_reg_types_use_the_resolver():
    def resolver(kind, value):
        return {("regclass", 1259): "pg_class"}.get((kind, value))
    assert column_encoder(T.REGCLASS, 0, resolver=resolver)(1259) == b"pg_class"
    assert column_encoder(T.REGCLASS, 0, resolver=resolver)(42) == b"42"
    assert column_encoder(T.REGCLASS, 1, resolver=resolver)(1259) == b"\0\0\x04\xeb"
