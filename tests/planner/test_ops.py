"""The physical operators (immusql.planner.ops) against naive references and hand-computed
PostgreSQL results: sorting, joins, aggregates, set operations, windows, recursion."""

from __future__ import annotations

import functools
import math
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from immusql.errors import (
    DataError,
    FeatureNotSupported,
    StatementTooComplex,
    UndefinedFunction,
    WindowingError,
)
from immusql.planner.ops import (
    AggCall,
    Append,
    Distinct,
    DistinctOn,
    Filter,
    Frame,
    FunctionScan,
    GroupAggregate,
    HashAggregate,
    HashJoin,
    Limit,
    Materialize,
    NestedLoopJoin,
    Operator,
    Project,
    RecursiveUnion,
    SetOp,
    Sort,
    SortKey,
    Values,
    Window,
    WindowCall,
    col,
    sort_rows,
)

try:
    from .ops_specs import ARRAY_AGG, COUNT, COUNT_STAR, MAX, MIN, MSUM, SUM
except ImportError:  # tests/planner is not a package: pytest put this directory on sys.path
    from ops_specs import ARRAY_AGG, COUNT, COUNT_STAR, MAX, MIN, MSUM, SUM

NAN = float("nan")
FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


class Counting(Operator):
    """A source that records how many rows were pulled from it."""

    name = "Counting"

    def __init__(self, rows, columns=None):
        super().__init__([], columns if columns is not None else len(rows[0]) if rows else 1)
        self.rows, self.pulled, self.runs = list(rows), 0, 0

    def __iter__(self):
        self.runs += 1
        for r in self.rows:
            self.pulled += 1
            yield r


def V(rows, columns=None):
    rows = [tuple(r) for r in rows]
    return Values(rows, columns if columns is not None else (len(rows[0]) if rows else 1))


def norm(v):
    """Comparable stand-in for a value: NaN equals NaN."""
    if isinstance(v, (float, Decimal)) and v != v:
        return f"{type(v).__name__} NaN"
    if isinstance(v, (list, tuple)):
        return type(v)(norm(x) for x in v)
    return v


def same(a, b):
    return norm(list(a)) == norm(list(b))


# ------------------------------------------------------------- PostgreSQL ordering ----

def isnan(v):
    return isinstance(v, (float, Decimal)) and v != v


def pg_cmp(a, b):
    """PostgreSQL's comparison of two non-null values (arrays: NULL elements last)."""
    if isinstance(a, list):
        for x, y in zip(a, b):
            if x is None or y is None:
                c = (x is None) - (y is None)
            else:
                c = pg_cmp(x, y)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    if isnan(a) or isnan(b):
        return isnan(a) - isnan(b)
    return (a > b) - (a < b)


def ref_sort(rows, keys):
    """sorted() (stable) with a comparison function written from PostgreSQL's rules."""
    def cmp(r1, r2):
        for fn, desc, nulls_first in keys:
            a, b = fn(r1), fn(r2)
            if a is None or b is None:
                if a is None and b is None:
                    continue
                first = desc if nulls_first is None else nulls_first
                return (-1 if a is None else 1) * (1 if first else -1)
            c = pg_cmp(a, b)
            if c:
                return -c if desc else c
        return 0
    return sorted(rows, key=functools.cmp_to_key(cmp))


def sql_eq(a, b):
    """= for join keys: NULL matches nothing, NaN = NaN."""
    if a is None or b is None:
        return False
    if isnan(a) and isnan(b):
        return True
    return a == b


def distinct_eq(a, b):
    """IS NOT DISTINCT FROM (grouping, DISTINCT)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(distinct_eq, a, b))
    return sql_eq(a, b)


# ---------------------------------------------------------------- strategies ---------

floats = st.sampled_from([NAN, -0.0, 0.0, 1.5, -2.0, math.inf, -math.inf, 1.0])
small_ints = st.integers(-3, 3)
texts = st.sampled_from(["", "a", "B", "b", "ab", "é", "€", "a\x00", "Z"])
arrays = st.lists(st.one_of(st.none(), st.integers(0, 2)), max_size=3)


# ======================================================================== basic ======

def test_filter_is_three_valued_and_project_compiles_columns():
    t = V([(1, "a"), (2, None), (3, "c")])
    f = Filter(t, lambda r: None if r[1] is None else r[0] > 1)
    assert list(f) == [(3, "c")]
    p = Project(t, [col(1), lambda r: r[0] * 10, col(0)])
    assert p.columns == 3
    assert list(p) == [("a", 10, 1), (None, 20, 2), ("c", 30, 3)]
    assert list(Project(t, [col(1)])) == [("a",), (None,), ("c",)]
    assert list(Project(t, [col(1), col(0)])) == [("a", 1), (None, 2), ("c", 3)]
    assert list(Project(t, [])) == [(), (), ()]


def test_operators_rerun_on_every_iteration():
    calls = []
    fs = FunctionScan(lambda: calls.append(1) or [(1,), (2,)], 1)
    p = Project(fs, [lambda r: r[0] + 1])
    assert list(p) == [(2,), (3,)] and list(p) == [(2,), (3,)]
    assert len(calls) == 2


def test_limit_reads_no_row_past_the_last_one_returned():
    src = Counting([(i,) for i in range(100)])
    assert list(Limit(Project(src, [col(0)]), 3, 2)) == [(2,), (3,), (4,)]
    assert src.pulled == 5
    src = Counting([(i,) for i in range(10)])
    assert list(Limit(src, 0, 5)) == [] and src.pulled == 0
    assert list(Limit(V([(i,) for i in range(5)]), None, 3)) == [(3,), (4,)]
    assert list(Limit(V([(i,) for i in range(5)]), 10)) == [(i,) for i in range(5)]


def test_limit_rejects_negative_values_with_postgres_sqlstates():
    with pytest.raises(DataError) as e:
        list(Limit(V([(1,)]), -1))
    assert e.value.sqlstate == "2201W"
    with pytest.raises(DataError) as e:
        list(Limit(V([(1,)]), 1, -1))
    assert e.value.sqlstate == "2201X"


def test_materialize_runs_its_child_once_even_with_interleaved_iterations():
    src = Counting([(i,) for i in range(5)])
    m = Materialize(src)
    a, b = iter(m), iter(m)
    assert [next(a), next(a), next(b)] == [(0,), (1,), (0,)]
    assert src.pulled == 2
    assert list(b) == [(1,), (2,), (3,), (4,)] and list(a) == [(2,), (3,), (4,)]
    assert list(m) == [(i,) for i in range(5)]
    assert src.runs == 1 and src.pulled == 5
    m.reset()
    assert list(m) == [(i,) for i in range(5)] and src.runs == 2


def test_append_chains_children_and_checks_widths():
    a = Append([V([(1,)]), V([(2,), (3,)]), V([], 1)])
    assert list(a) == [(1,), (2,), (3,)] and a.columns == 1
    with pytest.raises(ValueError):
        Append([V([(1,)]), V([(1, 2)])])
    assert list(Append([], columns=2)) == []


def test_explain_is_postgres_shaped():
    t = V([(1, 2)], 2)
    t.label = "Seq Scan on a"
    u = V([(1, 2)], 2)
    u.label = "Seq Scan on b\nFilter: (x > 1)"
    plan = Limit(Sort(HashJoin(t, u, [col(0)], [col(0)], "left",
                               label="Hash Cond: (a.id = b.id)"),
                      [SortKey(col(0))], label="Sort Key: a.id"), 10)
    assert plan.explain() == [
        "Limit",
        "  ->  Sort",
        "        Sort Key: a.id",
        "        ->  Hash Left Join",
        "              Hash Cond: (a.id = b.id)",
        "              ->  Seq Scan on a",
        "              ->  Hash",
        "                    ->  Seq Scan on b",
        "                          Filter: (x > 1)",
    ]
    agg = HashAggregate(t, [col(0)], [AggCall(COUNT_STAR, star=True)], label="Group Key: a.x")
    assert agg.explain() == ["HashAggregate", "  Group Key: a.x", "  ->  Seq Scan on a"]
    assert HashAggregate(t, [], []).explain()[0] == "Aggregate"
    assert NestedLoopJoin(t, u, None, "anti").explain()[0] == "Nested Loop Anti Join"
    assert SetOp("except", True, t, u).explain()[0] == "HashSetOp Except All"
    lat = NestedLoopJoin(t, lambda r: Project(u, [col(0)]), None, "left", lateral=True,
                         right_columns=1)
    assert lat.explain() == ["Nested Loop Left Join", "  ->  Seq Scan on a",
                             "  ->  Result", "        ->  Seq Scan on b",
                             "              Filter: (x > 1)"]
    rec = RecursiveUnion(t, lambda w: V(w, 2), label="CTE t")
    assert rec.explain() == ["CTE t", "  ->  Seq Scan on a", "  ->  Values Scan"]
    assert "Sort" in repr(Sort(t, []))


# ========================================================================= sort ======

sort_rows_st = st.lists(st.tuples(st.one_of(st.none(), small_ints),
                                  st.one_of(st.none(), floats),
                                  st.one_of(st.none(), texts),
                                  st.one_of(st.none(), arrays)), max_size=25)
sort_keys_st = st.lists(st.tuples(st.integers(0, 3), st.booleans(),
                                  st.sampled_from([None, True, False])),
                        min_size=1, max_size=3)


@FAST
@given(sort_rows_st, sort_keys_st)
def test_sort_matches_postgres_ordering_and_is_stable(rows, spec):
    rows = [r + (i,) for i, r in enumerate(rows)]  # the index shows stability
    keys = [SortKey(col(c), d, n) for c, d, n in spec]
    expected = ref_sort(rows, [(col(c), d, n) for c, d, n in spec])
    assert same(Sort(V(rows, 5), keys), expected)
    assert same(sort_rows(rows, keys), expected)


@FAST
@given(sort_rows_st, sort_keys_st, st.integers(0, 30))
def test_top_n_equals_the_head_of_the_full_sort(rows, spec, n):
    rows = [r + (i,) for i, r in enumerate(rows)]
    keys = [SortKey(col(c), d, k) for c, d, k in spec]
    assert same(Sort(V(rows, 5), keys, limit=n), sort_rows(rows, keys)[:n])


def test_sort_specifics():
    vals = [(1.0,), (NAN,), (-math.inf,), (math.inf,), (None,), (-0.0,), (0.0,), (NAN,)]
    out = list(Sort(V(vals), [SortKey(col(0))]))
    assert norm(out) == norm([(-math.inf,), (-0.0,), (0.0,), (1.0,), (math.inf,), (NAN,),
                              (NAN,), (None,)])
    out = list(Sort(V(vals), [SortKey(col(0), descending=True)]))
    assert norm(out) == norm([(None,), (NAN,), (NAN,), (math.inf,), (1.0,), (-0.0,),
                              (0.0,), (-math.inf,)])
    # C collation: code point order
    words = [("é",), ("a",), ("B",), ("€",), ("",), ("ab",)]
    assert list(Sort(V(words), [SortKey(col(0))])) == [("",), ("B",), ("a",), ("ab",),
                                                       ("é",), ("€",)]
    assert list(Sort(V([(True,), (None,), (False,)]), [SortKey(col(0), False, True)])) == [
        (None,), (False,), (True,)]
    dec = [(Decimal("NaN"),), (Decimal("2.5"),), (Decimal("-1"),)]
    assert [str(r[0]) for r in Sort(V(dec), [SortKey(col(0))])] == ["-1", "2.5", "NaN"]
    arr = [([1, None],), ([1, 2, 3],), ([1, NAN],), ([1, 2],), ([],), ([0, 9],)]
    assert norm(list(Sort(V(arr), [SortKey(col(0))]))) == norm(
        [([],), ([0, 9],), ([1, 2],), ([1, 2, 3],), ([1, NAN],), ([1, None],)])


def test_sort_with_nulls_first_on_a_second_key_keeps_ties_stable():
    rows = [(1, None, "a"), (0, 5, "b"), (1, 2, "c"), (1, None, "d"), (0, None, "e")]
    out = Sort(V(rows), [SortKey(col(0), True), SortKey(col(1), False, True)])
    assert [r[2] for r in out] == ["a", "d", "c", "e", "b"]


# ======================================================================== joins ======

def ref_join(left, right, lk, rk, kind, residual, lw=3, rw=3):
    """A nested loop written from the definitions; same output order as the operators."""
    out, matched = [], set()
    for lrow in left:
        hits = []
        for j, rrow in enumerate(right):
            if all(sql_eq(f(lrow), g(rrow)) for f, g in zip(lk, rk)) and (
                    residual is None or residual(lrow + rrow)):
                hits.append(lrow + rrow)
                matched.add(j)
        if kind == "semi":
            out += [lrow] if hits else []
        elif kind == "anti":
            out += [] if hits else [lrow]
        else:
            out += hits
            if not hits and kind in ("left", "full"):
                out.append(lrow + (None,) * rw)
    if kind in ("right", "full"):
        out += [(None,) * lw + r for j, r in enumerate(right) if j not in matched]
    return out


join_key = st.one_of(st.none(), st.integers(0, 3), st.sampled_from([NAN, 0.0, -0.0, 2.0]))
join_rows = st.lists(st.tuples(join_key, st.one_of(st.none(), st.integers(0, 2)),
                               st.integers(0, 9)), max_size=12)


@FAST
@given(join_rows, join_rows, st.sampled_from(["inner", "left", "right", "full", "semi",
                                              "anti"]),
       st.integers(1, 2), st.booleans())
def test_joins_match_a_naive_nested_loop(left, right, kind, nkeys, with_residual):
    lk = [col(0), col(1)][:nkeys]
    rk = [col(0), lambda r: r[1]][:nkeys]  # a non-itemgetter key on one side
    residual = (lambda r: r[2] <= r[5]) if with_residual else None
    lw, rw = 3, 3
    expected = ref_join(left, right, lk, rk, kind, residual)
    hj = HashJoin(V(left, lw), V(right, rw), lk, rk, kind, residual)
    assert same(hj, expected)
    pred = lambda r: (all(sql_eq(f(r[:3]), g(r[3:])) for f, g in zip(lk, rk))  # noqa: E731
                      and (residual is None or residual(r)))
    nl = NestedLoopJoin(V(left, lw), V(right, rw), pred, kind)
    assert same(nl, expected)
    assert hj.columns == nl.columns == (3 if kind in ("semi", "anti") else 6)


def test_hash_join_key_equality_is_postgres_equality():
    left = V([(NAN,), (1,), (0.0,), ([1, 2],), (None,), (Decimal("2"),)])
    right = V([(float("nan"),), (1.0,), (-0.0,), ([1, 2],), (None,), (2,)])
    out = list(HashJoin(left, right, [col(0)], [col(0)], "inner"))
    assert len(out) == 5 and norm(out[0]) == norm((NAN, NAN))
    assert list(HashJoin(V([(1, None)]), V([(1, None)]), [col(0), col(1)],
                         [col(0), col(1)])) == []
    # composite keys with an array on the build side (non-plain) and duplicates
    r = V([([1], "x", "r1"), ([1], "x", "r2"), ([2], "x", "r3")])
    out = HashJoin(V([([1], "x")]), r, [col(0), col(1)], [col(0), col(1)], "inner")
    assert [row[-1] for row in out] == ["r1", "r2"]


def test_hash_join_with_empty_build_side_does_not_read_the_probe_side():
    for kind in ("inner", "semi", "right"):
        src = Counting([(1,), (2,)])
        assert list(HashJoin(src, V([(None,)]), [col(0)], [col(0)], kind)) == (
            [(None, None)] if kind == "right" else [])
        assert src.pulled == 0
    src = Counting([(1,), (2,)])
    assert list(HashJoin(src, V([], 1), [col(0)], [col(0)], "anti")) == [(1,), (2,)]


def test_nested_loop_runs_its_inner_side_once_and_only_if_needed():
    inner = Counting([(1,), (2,)])
    assert list(NestedLoopJoin(V([], 1), inner, None, "inner")) == [] and inner.runs == 0
    out = list(NestedLoopJoin(V([(1,), (2,), (3,)]), inner, lambda r: r[0] < r[1]))
    assert out == [(1, 2)] and inner.runs == 1
    right = V([(1,), (5,)])
    out = list(NestedLoopJoin(V([(1,), (9,)]), right, lambda r: r[0] == r[1], "full"))
    assert out == [(1, 1), (9, None), (None, 5)]


def test_lateral_joins():
    def series(lrow):  # LATERAL generate_series(1, l.n)
        return FunctionScan(lambda: [(i,) for i in range(1, lrow[0] + 1)], 1)

    left = V([(2,), (0,), (1,)])
    out = list(NestedLoopJoin(left, series, None, "inner", lateral=True, right_columns=1))
    assert out == [(2, 1), (2, 2), (1, 1)]
    out = list(NestedLoopJoin(left, series, None, "left", lateral=True, right_columns=1))
    assert out == [(2, 1), (2, 2), (0, None), (1, 1)]
    even = lambda r: r[1] % 2 == 0  # noqa: E731
    assert list(NestedLoopJoin(left, series, even, "semi", lateral=True)) == [(2,)]
    assert list(NestedLoopJoin(left, series, even, "anti", lateral=True)) == [(0,), (1,)]
    # a semi join stops reading the correlated side at the first match
    big = Counting([(i,) for i in range(1000)])
    assert list(NestedLoopJoin(V([(1,)]), lambda r: big, None, "semi", lateral=True)) == [
        (1,)]
    assert big.pulled == 1
    with pytest.raises(FeatureNotSupported):
        NestedLoopJoin(left, series, None, "right", lateral=True, right_columns=1)
    with pytest.raises(ValueError):
        NestedLoopJoin(left, series, None, "inner", lateral=True)


# ==================================================================== aggregates =====

def agg_calls():
    x = col(1)
    return [AggCall(COUNT_STAR, [], star=True), AggCall(COUNT, [x]), AggCall(SUM, [x]),
            AggCall(MIN, [x]), AggCall(MAX, [x]), AggCall(ARRAY_AGG, [x]),
            AggCall(COUNT, [x], filter_fn=lambda r: r[2] > 0)]


def ref_aggregate(rows, group_idx):
    groups: list = []
    for r in rows:
        key = tuple(r[i] for i in group_idx)
        for k, members in groups:
            if all(map(distinct_eq, k, key)):
                members.append(r)
                break
        else:
            groups.append((key, [r]))
    if not group_idx and not groups:
        groups = [((), [])]
    out = []
    for key, members in groups:
        xs = [r[1] for r in members]
        nn = [x for x in xs if x is not None]
        out.append(key + (len(members), len(nn), sum(nn) if nn else None,
                          min(nn) if nn else None, max(nn) if nn else None, xs or None,
                          len([r for r in members if r[1] is not None and r[2] > 0])))
    return out


agg_rows = st.lists(st.tuples(st.one_of(st.none(), st.sampled_from([1, 2, NAN, -0.0, 0.0])),
                              st.one_of(st.none(), st.integers(-5, 5)),
                              st.integers(-1, 1), st.one_of(st.none(), arrays)), max_size=30)


@FAST
@given(agg_rows, st.sampled_from([[], [0], [0, 3], [3]]))
def test_hash_and_group_aggregates_match_a_reference(rows, group_idx):
    group_fns = [col(i) for i in group_idx]
    expected = ref_aggregate(rows, group_idx)
    assert same(HashAggregate(V(rows, 4), group_fns, agg_calls()), expected)
    got = list(GroupAggregate(Sort(V(rows, 4), [SortKey(f) for f in group_fns]), group_fns,
                              agg_calls()))
    out_keys = [SortKey(col(j)) for j in range(len(group_idx))]  # keys lead the output
    assert same(got, sort_rows(expected, out_keys))


def test_aggregate_without_group_by_over_no_rows_is_one_row():
    calls = agg_calls()
    assert list(HashAggregate(V([], 3), [], calls)) == [(0, 0, None, None, None, None, 0)]
    assert list(GroupAggregate(V([], 3), [], calls)) == [(0, 0, None, None, None, None, 0)]
    assert list(HashAggregate(V([], 3), [col(0)], calls)) == []
    assert list(GroupAggregate(V([], 3), [col(0)], calls)) == []
    assert list(HashAggregate(V([(1,), (1,), (2,)]), [col(0)], [])) == [(1,), (2,)]
    assert list(HashAggregate(V([(1, 2), (1, 2)]), [col(0), col(1)], [])) == [(1, 2)]


def test_grouping_keys_nan_zero_arrays_and_nulls():
    rows = [(NAN, 1), (float("nan"), 2), (0.0, 3), (-0.0, 4), ([1, None], 5), ([1, None], 6),
            (None, 7), (None, 8), (Decimal("NaN"), 9), (Decimal("NaN"), 10)]
    out = list(HashAggregate(V(rows), [col(0)], [AggCall(SUM, [col(1)])]))
    assert norm(out) == norm([(NAN, 3), (0.0, 7), ([1, None], 11), (None, 15),
                              (Decimal("NaN"), 19)])
    assert isinstance(out[2][0], list)  # the key comes back as the original value


def test_distinct_ordered_and_filtered_aggregates():
    rows = [("a", 3, 1), ("a", 1, 2), ("a", 3, 3), ("a", None, 4), ("b", None, 5)]
    calls = [AggCall(COUNT, [col(1)], distinct=True),
             AggCall(ARRAY_AGG, [col(1)], distinct=True),
             AggCall(ARRAY_AGG, [col(2)], order_by=[SortKey(col(1), True)]),
             AggCall(ARRAY_AGG, [col(2)], order_by=[SortKey(col(1))],
                     filter_fn=lambda r: r[2] != 3),
             AggCall(COUNT_STAR, [], star=True, filter_fn=lambda r: None)]
    out = list(HashAggregate(V(rows), [col(0)], calls))
    assert out == [("a", 2, [1, 3, None], [4, 1, 3, 2], [2, 1, 4], 0),
                   ("b", 0, [None], [5], [5], 0)]
    assert list(GroupAggregate(V(rows), [col(0)], calls)) == out


def test_specs_without_strict_get_every_row():
    class Collect:  # like planner.aggregates' specs: NULL rules live in step
        init = staticmethod(list)
        step = staticmethod(lambda s, x: s + [x])
        final = staticmethod(lambda s: s)

    rows = [(1,), (None,), (2,)]
    assert list(HashAggregate(V(rows), [], [AggCall(Collect(), [col(0)])])) == [
        ([1, None, 2],)]
    out = list(Window(V(rows), [], [], [WindowCall("c", [col(0)], spec=Collect())]))
    assert [r[1] for r in out] == [[1, None, 2]] * 3


def test_group_aggregate_streams_groups():
    src = Counting([(1,), (1,), (2,), (3,)])
    it = iter(GroupAggregate(src, [col(0)], [AggCall(COUNT_STAR, [], star=True)]))
    assert next(it) == (1, 2) and src.pulled == 3


# ===================================================================== distinct ======

def test_distinct_and_distinct_on():
    rows = [(1, None), (1, None), (NAN, 2), (float("nan"), 2), (0.0, 1), (-0.0, 1), ([1], 3),
            ([1], 3)]
    assert norm(list(Distinct(V(rows)))) == norm([(1, None), (NAN, 2), (0.0, 1), ([1], 3)])
    src = Counting([(i % 3, i) for i in range(30)])
    assert list(Limit(Distinct(src, [col(0)]), 2)) == [(0, 0), (1, 1)] and src.pulled == 2
    on = DistinctOn(Sort(V([(1, "b"), (2, "x"), (1, "a")]), [SortKey(col(0)), SortKey(col(1))]),
                    [col(0)])
    assert list(on) == [(1, "a"), (2, "x")]


# ======================================================================= set ops =====

setop_rows = st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 2)),
                                st.sampled_from([None, 0.0, -0.0, NAN])), max_size=12)


def counter(rows):
    return Counter(norm(tuple(0.0 if v == 0 else v for v in r)) for r in rows)


@FAST
@given(setop_rows, setop_rows, st.sampled_from(["union", "intersect", "except"]),
       st.booleans())
def test_set_operations_follow_multiset_semantics(left, right, kind, all_):
    out = list(SetOp(kind, all_, V(left, 2), V(right, 2)))
    lc, rc = counter(left), counter(right)
    if kind == "union":
        expected = lc + rc if all_ else Counter(dict.fromkeys(lc | rc, 1))
    elif kind == "intersect":
        expected = lc & rc if all_ else Counter(dict.fromkeys(lc & rc, 1))
    else:
        expected = lc - rc if all_ else Counter(dict.fromkeys(set(lc) - set(rc), 1))
    assert counter(out) == expected
    if kind != "union":  # rows come out in left order: a subsequence of the left rows
        rest = iter(left)
        assert all(any(counter([r]) == counter([o]) for r in rest) for o in out)


def test_set_op_width_mismatch():
    with pytest.raises(ValueError):
        SetOp("union", False, V([(1,)]), V([(1, 2)]))


# ======================================================================== windows ====

def test_ranking_functions_with_peers_and_partitions():
    rows = [(1, "a", 10), (2, "a", 20), (3, "a", 20), (4, "a", 30), (5, "b", None), (6, "b", 5)]
    calls = [WindowCall(n) for n in ("row_number", "rank", "dense_rank", "percent_rank",
                                     "cume_dist")]
    out = list(Window(V(rows), [col(1)], [SortKey(col(2))], calls))
    assert [r[0] for r in out] == [1, 2, 3, 4, 6, 5]  # NULLS LAST within partition b
    assert [r[3:] for r in out] == [
        (1, 1, 1, 0.0, 0.25), (2, 2, 2, 1 / 3, 0.75), (3, 2, 2, 1 / 3, 0.75),
        (4, 4, 3, 1.0, 1.0), (1, 1, 1, 0.0, 0.5), (2, 2, 2, 1.0, 1.0)]
    # no ORDER BY: all rows are peers
    out = list(Window(V(rows[:3]), [], [], calls))
    assert [r[3:] for r in out] == [(1, 1, 1, 0.0, 1.0), (2, 1, 1, 0.0, 1.0),
                                    (3, 1, 1, 0.0, 1.0)]
    assert list(Window(V([], 3), [], [], calls)) == []


def test_ntile():
    rows = [(i,) for i in range(10)]
    out = list(Window(V(rows), [], [SortKey(col(0))], [WindowCall("ntile", [lambda r: 3])]))
    assert [r[1] for r in out] == [1, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    out = list(Window(V(rows[:2]), [], [SortKey(col(0))], [WindowCall("ntile", [lambda r: 5])]))
    assert [r[1] for r in out] == [1, 2]
    out = list(Window(V(rows[:2]), [], [], [WindowCall("ntile", [lambda r: None])]))
    assert [r[1] for r in out] == [None, None]
    with pytest.raises(DataError) as e:
        list(Window(V(rows), [], [], [WindowCall("ntile", [lambda r: 0])]))
    assert e.value.sqlstate == "22014"


def test_lag_and_lead():
    rows = [(1, "a"), (2, "a"), (3, "a"), (4, "b")]
    calls = [WindowCall("lag", [col(0)]), WindowCall("lead", [col(0), lambda r: 2]),
             WindowCall("lag", [col(0), lambda r: 1, lambda r: -r[0]]),
             WindowCall("lead", [col(0), lambda r: -1]),  # negative offset looks back
             WindowCall("lag", [col(0), lambda r: None, lambda r: 0])]
    out = list(Window(V(rows), [col(1)], [SortKey(col(0))], calls))
    assert [r[2:] for r in out] == [(None, 3, -1, None, None), (1, None, 1, 1, None),
                                    (2, None, 2, 2, None), (None, None, -4, None, None)]


def test_first_last_nth_value_use_the_frame():
    rows = [(1, 10), (2, 20), (3, 20), (4, 30)]
    calls = [WindowCall("first_value", [col(0)]), WindowCall("last_value", [col(0)]),
             WindowCall("nth_value", [col(0), lambda r: 2]),
             WindowCall("last_value", [col(0)], frame=Frame("rows", "current_row", None,
                                                            "unbounded_following")),
             WindowCall("nth_value", [col(0), lambda r: 3],
                        frame=Frame("rows", "preceding", 1, "following", 1))]
    out = list(Window(V(rows), [], [SortKey(col(1))], calls))
    # default frame: last_value is the last peer, not the last row
    assert [r[2:] for r in out] == [(1, 1, None, 4, None), (1, 3, 2, 4, 3),
                                    (1, 3, 2, 4, 4), (1, 4, 2, 4, None)]
    with pytest.raises(DataError) as e:
        list(Window(V(rows), [], [], [WindowCall("nth_value", [col(0), lambda r: 0])]))
    assert e.value.sqlstate == "22016"


def test_aggregates_over_the_default_frame_include_peers():
    rows = [(1, 1), (2, 2), (3, 2), (4, 3), (5, None)]
    calls = [WindowCall("sum", [col(1)], spec=SUM),
             WindowCall("count", [], spec=COUNT_STAR),
             WindowCall("array_agg", [col(0)], spec=ARRAY_AGG)]
    out = list(Window(V(rows), [], [SortKey(col(1))], calls))
    assert [r[2:] for r in out] == [(1, 1, [1]), (5, 3, [1, 2, 3]), (5, 3, [1, 2, 3]),
                                    (8, 4, [1, 2, 3, 4]), (8, 5, [1, 2, 3, 4, 5])]
    assert out[1][4] is not out[3][4]  # results are snapshots, not the live state
    out = list(Window(V(rows), [], [], calls))  # no ORDER BY: the whole partition
    assert {r[2:4] for r in out} == {(8, 5)}
    parts = [(1, "a"), (2, "b"), (3, "a"), (4, "b"), (5, "b")]
    out = list(Window(V(parts), [col(1)], [], [
        WindowCall("count", [], spec=COUNT_STAR), WindowCall("rank"),
        WindowCall("a", [col(0)], spec=ARRAY_AGG)]))
    assert out == [(1, "a", 2, 1, [1, 3]), (3, "a", 2, 1, [1, 3]),
                   (2, "b", 3, 1, [2, 4, 5]), (4, "b", 3, 1, [2, 4, 5]),
                   (5, "b", 3, 1, [2, 4, 5])]


def test_explicit_frames_hand_computed():
    rows = [(1, 1), (2, 2), (3, 2), (4, 5), (5, 6)]
    ids = lambda frame, **kw: [r[2] for r in Window(  # noqa: E731
        V(rows), [], [SortKey(col(1), **kw)], [WindowCall("a", [col(0)], spec=ARRAY_AGG,
                                                          frame=frame)])]
    assert ids(Frame("rows", "preceding", 1, "following", 1)) == [
        [1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5]]
    assert ids(Frame("range", "preceding", 1, "following", 1)) == [
        [1, 2, 3], [1, 2, 3], [1, 2, 3], [4, 5], [4, 5]]
    assert ids(Frame("range", "preceding", 1, "following", 1), descending=True) == [
        [5, 4], [5, 4], [2, 3, 1], [2, 3, 1], [2, 3, 1]]
    assert ids(Frame("groups", "preceding", 1, "current_row")) == [
        [1], [1, 2, 3], [1, 2, 3], [2, 3, 4], [4, 5]]
    assert ids(Frame("rows", "unbounded_preceding", None, "unbounded_following",
                     exclude="current_row")) == [
        [2, 3, 4, 5], [1, 3, 4, 5], [1, 2, 4, 5], [1, 2, 3, 5], [1, 2, 3, 4]]
    assert ids(Frame("range", "current_row", None, "current_row", exclude="ties")) == [
        [1], [2], [3], [4], [5]]
    assert ids(Frame("range", "current_row", None, "current_row", exclude="group")) == [
        None] * 5
    assert ids(Frame("rows", "following", 1, "following", 2)) == [
        [2, 3], [3, 4], [4, 5], [5], None]


def test_range_offsets_with_nulls_and_nan():
    rows = [(1, None), (2, 1.0), (3, 2.0), (4, NAN), (5, NAN), (6, None)]
    frame = Frame("range", "preceding", 1, "following", 1)
    for nulls_first in (False, True):
        out = list(Window(V(rows), [], [SortKey(col(1), nulls_first=nulls_first)],
                          [WindowCall("a", [col(0)], spec=ARRAY_AGG, frame=frame)]))
        got = {r[0]: r[2] for r in out}
        nulls = [1, 6]
        assert got == {1: nulls, 6: nulls, 2: [2, 3], 3: [2, 3], 4: [4, 5], 5: [4, 5]}
    # UNBOUNDED FOLLOWING from a non-null row reaches the NULLs sorted last
    out = list(Window(V(rows), [], [SortKey(col(1))], [WindowCall(
        "a", [col(0)], spec=ARRAY_AGG,
        frame=Frame("range", "preceding", 0, "unbounded_following"))]))
    assert {r[0]: r[2] for r in out}[3] == [3, 4, 5, 1, 6]


def test_range_offsets_with_a_custom_in_range():
    # e.g. timestamps with an interval offset: the planner passes the support function
    def days_in_range(val, base, offset, sub, less):
        bound = base - offset if sub else base + offset
        return val <= bound if less else val >= bound

    rows = [(1, 0), (2, 3), (3, 4), (4, 9)]
    frame = Frame("range", "preceding", 3, "current_row", in_range=days_in_range)
    out = list(Window(V(rows), [], [SortKey(col(1))],
                      [WindowCall("a", [col(0)], spec=ARRAY_AGG, frame=frame)]))
    assert [r[2] for r in out] == [[1], [1, 2], [2, 3], [4]]


def test_moving_aggregates_use_the_inverse_transition():
    rows = [(i, i * 10 if i != 3 else None) for i in range(1, 7)]
    frame = Frame("rows", "preceding", 1, "following", 1)
    out = list(Window(V(rows), [], [SortKey(col(0))],
                      [WindowCall("msum", [col(1)], spec=MSUM, frame=frame),
                       WindowCall("sum", [col(1)], spec=SUM, frame=frame)]))
    assert [r[2] for r in out] == [r[3] for r in out] == [30, 30, 60, 90, 150, 110]


def test_window_filter_and_distinct():
    rows = [(1, 5), (2, 5), (3, 7), (4, None)]
    calls = [WindowCall("count", [col(1)], spec=COUNT, filter_fn=lambda r: r[0] != 2),
             WindowCall("count", [col(1)], spec=COUNT, distinct=True)]
    out = list(Window(V(rows), [], [SortKey(col(0))], calls))
    assert [r[2:] for r in out] == [(1, 1), (1, 1), (2, 2), (2, 2)]


def test_window_and_frame_validation():
    with pytest.raises(WindowingError):
        Frame("rows", "unbounded_following", None, "current_row")
    with pytest.raises(WindowingError):
        Frame("rows", "current_row", None, "preceding", 1)
    with pytest.raises(WindowingError):
        Frame("rows", "following", 1, "current_row")
    with pytest.raises(WindowingError):
        Frame("rows", "unbounded_preceding", None, "unbounded_preceding")
    with pytest.raises(DataError) as e:
        Frame("rows", "preceding", -1, "current_row")
    assert e.value.sqlstate == "22013"
    with pytest.raises(DataError):
        Frame("range", "preceding", -0.5, "current_row")
    with pytest.raises(DataError) as e:
        Frame("rows", "preceding", None, "current_row")
    assert e.value.sqlstate == "22004"
    assert Frame("ROWS", "unbounded preceding", None, "CURRENT ROW").start_kind == (
        "unbounded_preceding")
    range_offset = Frame("range", "preceding", 1, "current_row")
    with pytest.raises(WindowingError):
        Window(V([(1, 2)]), [], [SortKey(col(0)), SortKey(col(1))],
               [WindowCall("s", [col(0)], spec=SUM, frame=range_offset)])
    with pytest.raises(WindowingError):
        Window(V([(1,)]), [], [], [WindowCall("s", [col(0)], spec=SUM,
                                              frame=Frame("groups"))])
    with pytest.raises(UndefinedFunction):
        Window(V([(1,)]), [], [], [WindowCall("no_such_function")])
    with pytest.raises(UndefinedFunction):
        Window(V([(1,)]), [], [], [WindowCall("lag")])


# -- windows against a reference written from PostgreSQL's frame head/tail loops ------

def ref_in_range(val, base, offset, sub, less):
    bound = base - offset if sub else base + offset
    return val <= bound if less else val >= bound


def ref_frame(values, peers_of, groups, i, frame, desc, nulls_first):
    """Frame row positions of row i in a partition, following nodeWindowAgg.c."""
    n = len(values)
    mode = frame.mode

    def head():
        kind, off = frame.start_kind, frame.start_offset
        if kind == "unbounded_preceding":
            return 0
        if kind == "current_row":
            return i if mode == "rows" else min(peers_of[i])
        if mode == "rows":
            return min(max(i + (off if kind == "following" else -off), 0), n)
        if mode == "groups":
            target = groups[i] + (off if kind == "following" else -off)
            return next((p for p in range(n) if groups[p] >= target), n)
        sub, less = kind == "preceding", False
        if desc:
            sub, less = not sub, True
        p = 0
        while p < n:
            hv, cv = values[p], values[i]
            if hv is None or cv is None:
                if nulls_first:
                    if hv is not None or cv is None:
                        break
                elif hv is None or cv is not None:
                    break
            elif ref_in_range(hv, cv, off, sub, less):
                break
            p += 1
        return p

    def tail():
        kind, off = frame.end_kind, frame.end_offset
        if kind == "unbounded_following":
            return n
        if kind == "current_row":
            return i + 1 if mode == "rows" else max(peers_of[i]) + 1
        if mode == "rows":
            return min(max(i + (off if kind == "following" else -off) + 1, 0), n)
        if mode == "groups":
            target = groups[i] + (off if kind == "following" else -off)
            return next((p for p in range(n) if groups[p] > target), n)
        sub, less = kind == "preceding", True
        if desc:
            sub, less = not sub, False
        p = 0
        while p < n:
            tv, cv = values[p], values[i]
            if tv is None or cv is None:
                if nulls_first:
                    if tv is not None:
                        break
                elif cv is not None:
                    break
            elif not ref_in_range(tv, cv, off, sub, less):
                break
            p += 1
        return p

    members = list(range(head(), tail()))
    ex = frame.exclude
    if ex == "current_row":
        members = [p for p in members if p != i]
    elif ex == "group":
        members = [p for p in members if p not in peers_of[i]]
    elif ex == "ties":
        members = [p for p in members if p == i or p not in peers_of[i]]
    return members


frame_st = st.builds(
    lambda mode, s, so, e, eo, ex: (mode, s, so, e, eo, ex),
    st.sampled_from(["rows", "range", "groups"]),
    st.sampled_from(["unbounded_preceding", "preceding", "current_row", "following"]),
    st.integers(0, 3),
    st.sampled_from(["preceding", "current_row", "following", "unbounded_following"]),
    st.integers(0, 3),
    st.sampled_from(["no_others", "current_row", "group", "ties"]))
window_rows = st.lists(st.tuples(st.integers(0, 1), st.one_of(st.none(), st.integers(0, 6)),
                                 st.one_of(st.none(), st.integers(-3, 3))), max_size=14)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(window_rows, frame_st, st.booleans(), st.sampled_from([None, True, False]))
def test_window_frames_match_postgres_head_and_tail_rules(rows, fspec, desc, nulls_first):
    try:
        frame = Frame(*fspec)
    except WindowingError:
        assume(False)
    rows = [(i,) + r for i, r in enumerate(rows)]  # (id, part, v, x)
    check_window_frames(rows, frame, SortKey(col(2), desc, nulls_first), ordered=True)
    if not (frame.mode == "groups" or frame.has_range_offset):  # these need ORDER BY
        check_window_frames(rows, frame, None, ordered=False)


def check_window_frames(rows, frame, key, ordered):
    calls = [WindowCall("array_agg", [col(0)], spec=ARRAY_AGG, frame=frame),
             WindowCall("msum", [col(3)], spec=MSUM, frame=frame),
             WindowCall("sum", [col(3)], spec=SUM, frame=frame),
             WindowCall("first_value", [col(0)], frame=frame),
             WindowCall("last_value", [col(0)], frame=frame),
             WindowCall("nth_value", [col(0), lambda r: 2], frame=frame)]
    out = list(Window(V(rows, 4), [col(1)], [key] if ordered else [], calls))
    order = [(col(1), False, None)]
    if ordered:
        order.append((key.fn, key.descending, key.nulls_first))
    expected_order = ref_sort(rows, order)
    assert [r[:4] for r in out] == expected_order
    for part in (0, 1):
        prow = [r for r in expected_order if r[1] == part]
        got = [r[4:] for r in out if r[1] == part]
        values = [r[2] for r in prow] if ordered else [0] * len(prow)  # all peers
        peers_of = [{q for q in range(len(prow)) if distinct_eq(values[q], values[p])}
                    for p in range(len(prow))]
        groups, g = [], -1  # peer group numbers
        for p in range(len(prow)):
            if p == 0 or not distinct_eq(values[p], values[p - 1]):
                g += 1
            groups.append(g)
        desc = ordered and key.descending
        first = ordered and key.nulls_go_first
        for i, r in enumerate(prow):
            members = ref_frame(values, peers_of, groups, i, frame, desc, first)
            ids = [prow[m][0] for m in members]
            xs = [prow[m][3] for m in members if prow[m][3] is not None]
            assert got[i] == (ids or None, sum(xs) if xs else None, sum(xs) if xs else None,
                              ids[0] if ids else None, ids[-1] if ids else None,
                              ids[1] if len(ids) > 1 else None), (i, frame, ordered)


# ====================================================================== recursion ====

def test_recursive_union_all_counts():
    def step(work):
        return Filter(Project(Values(work, 1), [lambda r: r[0] + 1]), lambda r: r[0] <= 5)
    assert list(RecursiveUnion(V([(1,)]), step, all=True)) == [(i,) for i in range(1, 6)]


def test_recursive_union_dedups_across_iterations_and_ends_cycles():
    edges = V([(1, 2), (2, 3), (3, 1), (3, 4), (1, 1)])

    def step(work):  # SELECT e.dst FROM walk JOIN edges e ON e.src = walk.node
        return Project(HashJoin(Values(work, 1), edges, [col(0)], [col(0)]), [col(2)])
    assert list(RecursiveUnion(V([(1,), (1,)]), step)) == [(1,), (2,), (3,), (4,)]
    with pytest.raises(StatementTooComplex):  # UNION ALL over a cycle never ends
        list(RecursiveUnion(V([(1,)]), step, all=True, max_iterations=50))


def test_recursive_union_streams_so_limit_ends_an_unbounded_recursion():
    def step(work):
        return Project(Values(work, 1), [lambda r: r[0] + 1])
    assert list(Limit(RecursiveUnion(V([(1,)]), step, all=True), 5)) == [
        (1,), (2,), (3,), (4,), (5,)]
    with pytest.raises(StatementTooComplex, match="1000 rows"):
        list(RecursiveUnion(V([(1,)]), step, all=True, max_rows=1000))


def test_recursive_union_checks_the_step_width():
    with pytest.raises(ValueError):
        list(RecursiveUnion(V([(1,)]), lambda w: V([(1, 2)]), all=True))
