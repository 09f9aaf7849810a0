"""Order-preserving key encoding: bytewise order of encodings equals PostgreSQL's ORDER BY
order (property-based with hypothesis), decoding is exact (canonical for numeric,
character(n) and float zero/NaN), composite keys and DESC columns."""

import datetime as dt
import math
import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immusql.planner import types as T
from immusql.planner.compare import sort_key
from immusql.planner.keys import decode_key, encode_key, key_successor
from immusql.planner.types import NEG_INFINITY, POS_INFINITY, Interval, array_of


def pg_order_key(values, types, descending=None):
    """Reference: PostgreSQL's ORDER BY (NULLS LAST ascending, NULLS FIRST descending)."""
    out = []
    for i, (v, t) in enumerate(zip(values, types)):
        desc = descending is not None and descending[i]
        if v is None:
            out.append(_Rev((1,)) if desc else (1,))
        else:
            k = (0, sort_key(t)(v))
            out.append(_Rev(k) if desc else k)
    return tuple(out)


class _Rev:
    def __init__(self, k):
        self.k = k

    def __lt__(self, other):
        return other.k < self.k

    def __eq__(self, other):
        return self.k == other.k


def check_order(values_list, types, descending=None):
    enc = sorted(values_list, key=lambda v: encode_key(v, types, descending))
    ref = sorted(values_list, key=lambda v: pg_order_key(v, types, descending))
    ek = [pg_order_key(v, types, descending) for v in enc]
    rk = [pg_order_key(v, types, descending) for v in ref]
    assert ek == rk
    # equal encodings exactly for equal values
    for a in values_list:
        for b in values_list[:20]:
            same = pg_order_key(a, types, descending) == pg_order_key(b, types, descending)
            assert (encode_key(a, types, descending) == encode_key(b, types, descending)) \
                == same or T.INTERVAL in types


ints = st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1)
floats = st.floats(allow_nan=True, allow_infinity=True)
numerics = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
        lambda d: abs(d.adjusted()) < 300),
    st.sampled_from([Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"),
                     Decimal("0"), Decimal("0.00"), Decimal("1.5"), Decimal("1.50"),
                     Decimal("10"), Decimal("100.25"), Decimal("-1.5"), Decimal("-10")]))
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)
dates = st.one_of(st.dates(), st.sampled_from([POS_INFINITY, NEG_INFINITY]))
timestamps = st.one_of(st.datetimes(), st.sampled_from([POS_INFINITY, NEG_INFINITY]))
intervals = st.builds(Interval, st.integers(-(1 << 31), (1 << 31) - 1),
                      st.integers(-(1 << 31), (1 << 31) - 1),
                      st.integers(-(1 << 62), (1 << 62)))


def nullable(s):
    return st.one_of(st.none(), s)


CASES = [
    (T.INT8, ints), (T.INT4, st.integers(-(1 << 31), (1 << 31) - 1)), (T.FLOAT8, floats),
    (T.NUMERIC, numerics), (T.TEXT, texts), (T.BYTEA, st.binary(max_size=8)),
    (T.BOOL, st.booleans()), (T.DATE, dates), (T.TIMESTAMP, timestamps),
    (T.TIMESTAMPTZ, st.one_of(st.datetimes(timezones=st.just(dt.timezone.utc)),
                              st.sampled_from([POS_INFINITY]))),
    (T.TIME, st.times()), (T.INTERVAL, intervals), (T.UUID, st.uuids()),
    (array_of(T.INT4), st.lists(nullable(st.integers(-5, 5)), max_size=4)),
]


@pytest.mark.parametrize("t,strategy", CASES, ids=lambda x: str(x)[:20])
def test_single_column_order_and_round_trip(t, strategy):
    @settings(max_examples=60, deadline=None)
    @given(st.lists(nullable(strategy), min_size=1, max_size=25))
    def run(values):
        rows = [(v,) for v in values]
        check_order(rows, (t,))
        check_order(rows, (t,), (True,))
        for r in rows:
            back = decode_key(encode_key(r, (t,)), (t,))
            assert pg_order_key(back, (t,)) == pg_order_key(r, (t,))
            back = decode_key(encode_key(r, (t,), (True,)), (t,), (True,))
            assert pg_order_key(back, (t,)) == pg_order_key(r, (t,))
            if t not in (T.NUMERIC, T.FLOAT8):
                assert back == r
    run()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(nullable(texts), nullable(st.integers(-3, 3)), nullable(numerics)),
                min_size=1, max_size=30), st.tuples(st.booleans(), st.booleans(),
                                                    st.booleans()))
def test_composite_keys(rows, desc):
    types = (T.TEXT, T.INT4, T.NUMERIC)
    check_order(rows, types)
    check_order(rows, types, desc)
    for r in rows:
        assert pg_order_key(decode_key(encode_key(r, types, desc), types, desc), types) == \
            pg_order_key(r, types)


def test_examples():
    t = (T.TEXT, T.TEXT)
    assert encode_key(("a", "b"), t) < encode_key(("ab", ""), t)
    assert encode_key(("a\x00", ""), t) > encode_key(("a", "z"), t)
    n = (T.NUMERIC,)
    vals = ["-Infinity", "-100", "-1.5", "-0.001", "0", "0.001", "1.5", "10", "100.25",
            "Infinity", "NaN"]
    encs = [encode_key((Decimal(v),), n) for v in vals]
    assert encs == sorted(encs)
    assert encode_key((Decimal("1.5"),), n) == encode_key((Decimal("1.50"),), n)
    assert decode_key(encode_key((Decimal("100.2500"),), n), n) == (Decimal("100.25"),)
    f = (T.FLOAT8,)
    fl = [-math.inf, -1e300, -1.0, -5e-324, 0.0, 5e-324, 1.0, math.inf, math.nan]
    fe = [encode_key((v,), f) for v in fl]
    assert fe == sorted(fe)
    assert encode_key((-0.0,), f) == encode_key((0.0,), f)
    # NULLs last ascending, first descending
    i = (T.INT4,)
    assert encode_key((None,), i) > encode_key((2 ** 31 - 1,), i)
    assert encode_key((None,), i, (True,)) < encode_key((-(2 ** 31),), i, (True,))
    # character(n) ignores trailing blanks
    c = (T.BPCHAR.with_typmod(9),)
    assert encode_key(("ab   ",), c) == encode_key(("ab",), c)
    assert decode_key(encode_key(("ab   ",), c), c) == ("ab",)
    # ints of all widths share one encoding
    assert encode_key((5,), (T.INT2,)) == encode_key((5,), (T.INT8,))
    u = uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
    assert decode_key(encode_key((u, None, True), (T.UUID, T.TEXT, T.BOOL)),
                      (T.UUID, T.TEXT, T.BOOL)) == (u, None, True)
    a = (array_of(T.INT4),)
    assert decode_key(encode_key(([[1, 2], [3, None]],), a), a) == ([[1, 2], [3, None]],)
    assert encode_key(([],), a) < encode_key(([1],), a) < encode_key(([1, None],), a)


def test_interval_keys_keep_fields():
    t = (T.INTERVAL,)
    a, b = Interval(1, 0, 0), Interval(0, 30, 0)
    assert decode_key(encode_key((a,), t), t)[0].fields() == (1, 0, 0)
    assert encode_key((a,), t)[:17] == encode_key((b,), t)[:17]  # same span first


def test_unsupported_and_errors():
    with pytest.raises(Exception) as e:
        encode_key(('{"a": 1}',), (T.JSONB,))
    assert e.value.sqlstate == "0A000"
    with pytest.raises(ValueError):
        decode_key(encode_key((1,), (T.INT4,)) + b"x", (T.INT4,))


def test_key_successor():
    assert key_successor(b"ab") == b"ac"
    assert key_successor(b"a\xff") == b"b"
    assert key_successor(b"\xff\xff") == b""
    p = encode_key(("a",), (T.TEXT,))
    assert encode_key(("a", 5), (T.TEXT, T.INT4)) < key_successor(p)
