"""Row value encoding: exact round trip for every type, the documented byte layout
(docs/sql-format.md, "Row values"), canonical bytes and corruption handling."""

import datetime as dt
import math
import uuid
from decimal import Decimal

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immusql.errors import DataCorrupted
from immusql.planner import types as T
from immusql.planner.rows import decode_row, encode_row
from immusql.planner.types import NEG_INFINITY, POS_INFINITY, Interval, array_of

UTC = dt.timezone.utc
SAMPLES = [
    (T.INT2, -5), (T.INT4, 2 ** 31 - 1), (T.INT8, -(2 ** 63)), (T.FLOAT4, 1.5),
    (T.FLOAT8, -0.0), (T.FLOAT8, math.inf), (T.NUMERIC, Decimal("1.50")),
    (T.NUMERIC, Decimal("NaN")), (T.NUMERIC, Decimal("-Infinity")),
    (T.NUMERIC, Decimal("123456789012345678901234567890.000000001")),
    (T.BOOL, True), (T.BOOL, False), (T.TEXT, "héllo\x01"), (T.VARCHAR.with_typmod(9), "x"),
    (T.BPCHAR.with_typmod(7), "ab ") , (T.NAME, "pg_class"), (T.CHAR, "a"),
    (T.BYTEA, b"\x00\xff"), (T.DATE, dt.date(2024, 2, 29)), (T.DATE, dt.date(1, 1, 1)),
    (T.DATE, POS_INFINITY), (T.DATE, NEG_INFINITY),
    (T.TIMESTAMP, dt.datetime(1969, 12, 31, 23, 59, 59, 999999)),
    (T.TIMESTAMP, NEG_INFINITY),
    (T.TIMESTAMPTZ, dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)),
    (T.TIMESTAMPTZ, POS_INFINITY), (T.TIME, dt.time(23, 59, 59, 999999)),
    (T.TIMETZ, dt.time(12, 0, tzinfo=dt.timezone(dt.timedelta(hours=-3, minutes=-30)))),
    (T.INTERVAL, Interval(14, -3, 1_500_000)),
    (T.UUID, uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")),
    (T.JSON, '{"b":1,  "a":2}'), (T.JSONB, '{"a": 2, "b": 1}'), (T.OID, 4294967295),
    (T.REGCLASS, 1259), (array_of(T.INT4), [[1, None], [3, 4]]), (array_of(T.TEXT), []),
    (array_of(T.NUMERIC), [Decimal("1.0"), None]),
    (array_of(T.TIMESTAMPTZ), [dt.datetime(2024, 1, 1, tzinfo=UTC)]),
]


@pytest.mark.parametrize("t,v", SAMPLES, ids=lambda x: str(x)[:30])
def test_round_trip(t, v):
    types = {1: T.INT4, 7: t}
    back = decode_row(encode_row({1: 42, 7: v}, types), types)
    assert back[1] == 42
    got = back[7]
    if (isinstance(v, float) and math.isnan(v)) or (isinstance(v, Decimal) and v.is_nan()):
        assert type(got) is type(v) and got != got
    else:
        assert got == v and type(got) is type(v)
    if isinstance(v, Interval):
        assert got.fields() == v.fields()
    if isinstance(v, Decimal) and v.is_finite():
        assert got.as_tuple().exponent == v.as_tuple().exponent
    if isinstance(v, float):
        assert math.copysign(1, got) == math.copysign(1, v)
    if isinstance(v, dt.time) and v.tzinfo is not None:
        assert got.utcoffset() == v.utcoffset()


def test_nulls_omitted_and_absent_columns():
    types = {1: T.INT4, 2: T.TEXT, 3: T.BOOL}
    data = encode_row({1: 1, 2: None, 3: False}, types)
    assert msgpack.unpackb(data[1:], strict_map_key=False) == {1: 1, 3: False}
    assert decode_row(data, types) == {1: 1, 2: None, 3: False}
    # a column added later reads as NULL; a dropped column is ignored
    assert decode_row(data, {1: T.INT4, 4: T.TEXT}) == {1: 1, 4: None}


def test_documented_layout():
    types = {1: T.INT4, 2: T.NUMERIC, 3: T.TIMESTAMPTZ, 4: T.DATE, 5: T.INTERVAL,
             6: T.UUID, 7: T.BYTEA, 8: T.FLOAT8, 9: array_of(T.TEXT)}
    row = {1: 7, 2: Decimal("-1.50"),
           3: dt.datetime(2000, 1, 1, 0, 0, 1, tzinfo=UTC), 4: dt.date(2000, 1, 2),
           5: Interval(1, 2, 3), 6: uuid.UUID(int=1), 7: b"ab", 8: 0.5, 9: ["x", None]}
    data = encode_row(row, types)
    assert data[0] == 1
    m = msgpack.unpackb(data[1:], raw=False, strict_map_key=False)
    assert m == {1: 7, 2: "-1.50", 3: 946684801000000, 4: 1, 5: [1, 2, 3],
                 6: b"\x00" * 15 + b"\x01", 7: b"ab", 8: 0.5, 9: ["x", None]}
    # canonical: keys ascending, float64 always, bin for bytes
    assert data == bytes([1]) + msgpack.packb(m, use_bin_type=True)
    assert data[1] == 0x89  # fixmap with 9 entries
    assert list(msgpack.Unpacker(__import__("io").BytesIO(data[1:]),
                                 strict_map_key=False, raw=False).__next__()) == \
        [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert encode_row({8: 1.5}, {8: T.FLOAT4})[2:] == b"\x08\xcb" + \
        __import__("struct").pack(">d", 1.5)


def test_same_row_same_bytes():
    types = {3: T.TEXT, 1: T.INT4}
    assert encode_row({3: "a", 1: 1}, types) == encode_row({1: 1, 3: "a"}, types)


def test_corruption():
    with pytest.raises(DataCorrupted):
        decode_row(b"", {1: T.INT4})
    with pytest.raises(DataCorrupted):
        decode_row(b"\x02\x80", {1: T.INT4})
    with pytest.raises(DataCorrupted):
        decode_row(b"\x01\xc1", {1: T.INT4})
    with pytest.raises(DataCorrupted):
        decode_row(b"\x01\x01", {1: T.INT4})


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.integers(0, 1000), st.one_of(
    st.none(), st.integers(-(2 ** 63), 2 ** 63 - 1), st.text(max_size=10))))
def test_property_round_trip(values):
    types = {k: (T.INT8 if isinstance(v, int) else T.TEXT) for k, v in values.items()}
    assert decode_row(encode_row(values, types), types) == values
