"""Window functions: ranking, navigation (lag/lead/first/last/nth) and aggregates over
frames (ROWS, RANGE, GROUPS; n PRECEDING/FOLLOWING; EXCLUDE; see frames.py),
PostgreSQL's semantics.

The input is materialised and sorted by the partition keys then the window's ORDER BY
(stable, so peers keep input order), which is also the output order. Each call computes
a whole output column at once.

Aggregates over a frame are computed incrementally while the frame start stays put (the
default frame, running totals): the new rows are stepped into the state and `final` is
taken again, so `final` must not consume its state (PostgreSQL asks the same of window
aggregates); list/dict results are copied in case `step` later mutates them in place.
When the start moves, the state is rebuilt, or, if the spec has the optional
`inverse(state, *args) -> state` (PostgreSQL's moving aggregates), the rows leaving the
frame are removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from immusql.errors import UndefinedFunction, WindowingError

from .base import Operator, RowFn, data_error, deferred, tuple_fn
from .canon import canon_tuple
from .frames import DEFAULT_FRAME, Frame, Layout, frame_bounds, frame_members
from .sort import SortKey, sort_rows


@dataclass(eq=False)
class WindowCall:
    """One window function call. `spec` (an aggregate spec as for AggCall) makes it an
    aggregate over the frame; otherwise `name` is one of the built-in window functions."""

    name: str
    arg_fns: Sequence[RowFn] = ()
    spec: Any = None
    frame: Frame | None = None
    distinct: bool = False
    filter_fn: RowFn | None = None


# name -> (min args, max args)
FUNCTIONS = {"row_number": (0, 0), "rank": (0, 0), "dense_rank": (0, 0),
             "percent_rank": (0, 0), "cume_dist": (0, 0), "ntile": (1, 1), "lag": (1, 3),
             "lead": (1, 3), "first_value": (1, 1), "last_value": (1, 1),
             "nth_value": (2, 2)}

_SKIP = object()  # an aggregate input row that is filtered out or NULL for a strict spec


class Window(Operator):
    """Appends one column per call to each row; rows come out in partition/order order."""

    name = "WindowAgg"

    def __init__(self, child: Operator, partition_fns: Sequence[RowFn],
                 order_keys: Sequence[SortKey], calls: Sequence[WindowCall],
                 label: str | None = None):
        super().__init__([child], child.columns + len(calls), label)
        self.partition_fns = list(partition_fns)
        self.order_keys = list(order_keys)
        self.calls = list(calls)
        for c in self.calls:
            self._check(c)

    def _check(self, c: WindowCall) -> None:
        frame = c.frame or DEFAULT_FRAME
        if frame.has_range_offset and len(self.order_keys) != 1:
            raise WindowingError("RANGE with offset PRECEDING/FOLLOWING requires exactly "
                                 "one ORDER BY column")
        if frame.mode == "groups" and not self.order_keys:
            raise WindowingError("GROUPS mode requires an ORDER BY clause")
        if c.spec is None:
            name = c.name.lower()
            if name not in FUNCTIONS:
                raise UndefinedFunction(f"window function {c.name} does not exist")
            lo, hi = FUNCTIONS[name]
            if not lo <= len(c.arg_fns) <= hi:
                raise UndefinedFunction(
                    f"function {c.name} with {len(c.arg_fns)} arguments does not exist")

    def __iter__(self):
        return deferred(self._run)

    def _run(self) -> list[tuple]:
        keys = [SortKey(f) for f in self.partition_fns] + self.order_keys
        rows = sort_rows(list(self.children[0]), keys)
        if not self.calls:
            return rows
        layout = Layout(rows, self.partition_fns, self.order_keys)
        bounds_cache: dict = {}
        columns = [self._column(c, rows, layout, bounds_cache) for c in self.calls]
        return list(map(tuple.__add__, rows, zip(*columns)))

    # ----------------------------------------------------------------- columns ----

    def _bounds(self, frame: Frame, rows: list, lay: Layout, cache: dict):
        """frame_bounds, once per distinct Frame object of the calls."""
        if id(frame) not in cache:
            key = self.order_keys[0] if self.order_keys else None
            cache[id(frame)] = (frame, *frame_bounds(frame, rows, lay, key))
        return cache[id(frame)][1:]

    def _column(self, call: WindowCall, rows: list, lay: Layout, cache: dict) -> list:
        if call.spec is not None:
            frame = call.frame or DEFAULT_FRAME
            return self._aggregate(call, rows, lay, self._bounds(frame, rows, lay, cache),
                                   frame)
        name = call.name.lower()
        n = lay.n
        out: list = [None] * n
        parts = lay.partitions()
        if name == "row_number":
            for ps, pe in parts:
                out[ps:pe] = range(1, pe - ps + 1)
        elif name == "rank":
            for ps, pe in parts:
                out[ps:pe] = [s - ps + 1 for s in lay.peer_start[ps:pe]]
        elif name == "dense_rank":
            for ps, pe in parts:
                g0 = lay.group_of[ps] - 1
                out[ps:pe] = [g - g0 for g in lay.group_of[ps:pe]]
        elif name == "percent_rank":
            for ps, pe in parts:
                d = pe - ps - 1
                out[ps:pe] = [(s - ps) / d if d else 0.0 for s in lay.peer_start[ps:pe]]
        elif name == "cume_dist":
            for ps, pe in parts:
                out[ps:pe] = [(e - ps) / (pe - ps) for e in lay.peer_end[ps:pe]]
        elif name == "ntile":
            for ps, pe in parts:
                out[ps:pe] = _ntile(call.arg_fns[0](rows[ps]), pe - ps)
        elif name in ("lag", "lead"):
            self._lag_lead(call, name == "lag", rows, parts, out)
        else:  # first_value, last_value, nth_value
            frame = call.frame or DEFAULT_FRAME
            fs, fe = self._bounds(frame, rows, lay, cache)
            value = call.arg_fns[0]
            nth = call.arg_fns[1] if name == "nth_value" else None
            for i in range(n):
                members = frame_members(frame.exclude, lay, i, fs[i], fe[i])
                if name == "first_value":
                    j = next(iter(members), None)
                elif name == "last_value":
                    j = members[-1] if members else None
                else:
                    k = nth(rows[i])
                    if k is None:
                        continue
                    if k <= 0:
                        raise data_error("argument of nth_value must be greater than zero",
                                         "22016")
                    j = members[k - 1] if k <= len(members) else None
                if j is not None:
                    out[i] = value(rows[j])
        return out

    @staticmethod
    def _lag_lead(call: WindowCall, lag: bool, rows: list, parts, out: list) -> None:
        fns = call.arg_fns
        value = fns[0]
        offset_fn = fns[1] if len(fns) > 1 else None
        default_fn = fns[2] if len(fns) > 2 else None
        for ps, pe in parts:
            for i in range(ps, pe):
                row = rows[i]
                off = 1 if offset_fn is None else offset_fn(row)
                if off is None:
                    continue
                j = i - off if lag else i + off
                if ps <= j < pe:
                    out[i] = value(rows[j])
                elif default_fn is not None:
                    out[i] = default_fn(row)

    def _aggregate(self, call: WindowCall, rows: list, lay: Layout, bounds, frame: Frame):
        spec = call.spec
        init, step, final = spec.init, spec.step, spec.final
        inverse = getattr(spec, "inverse", None)
        nargs = len(call.arg_fns)
        args = _agg_inputs(call, rows)
        fs, fe = bounds
        fe = list(map(max, fs, fe))  # an empty frame [s, s)
        out: list = [None] * lay.n
        rebuild_each = call.distinct or frame.exclude != "no_others"
        for ps, pe in lay.partitions():
            state, cs, ce = None, 0, 0
            last_s, last_e, last_value = -1, -1, None
            for i in range(ps, pe):
                s, e = fs[i], fe[i]
                if rebuild_each:
                    members = frame_members(frame.exclude, lay, i, s, e)
                    out[i] = _fold(spec, [args[j] for j in members], nargs, call.distinct)
                    continue
                if s == last_s and e == last_e:
                    out[i] = last_value
                    continue
                if state is not None and s == cs:
                    state = _step(step, state, args, ce, e, nargs)
                elif state is not None and inverse is not None and cs <= s <= ce:
                    state = _step(inverse, state, args, cs, s, nargs)
                    state = _step(step, state, args, ce, e, nargs)
                else:
                    state = _step(step, init(), args, s, e, nargs)
                cs, ce = s, e
                v = final(state)
                if type(v) is list or type(v) is dict:
                    v = v.copy()
                out[i] = last_value = v
                last_s, last_e = s, e
        return out

def _agg_inputs(call: WindowCall, rows: list) -> list:
    """Per row: the aggregate's argument (a value for one argument, else a tuple), or
    _SKIP when FILTER rejects the row or a strict aggregate sees a NULL argument."""
    fns = list(call.arg_fns)
    args = list(map(fns[0] if len(fns) == 1 else tuple_fn(fns), rows))
    if fns and getattr(call.spec, "strict", False):
        if len(fns) == 1:
            args = [_SKIP if a is None else a for a in args]
        else:
            args = [_SKIP if None in a else a for a in args]
    if call.filter_fn is not None:
        args = [a if keep else _SKIP for a, keep in zip(args, map(call.filter_fn, rows))]
    return args


def _step(step, state, args: list, a: int, b: int, nargs: int):
    """`state` stepped with the inputs of rows [a, b)."""
    if nargs == 1:
        for v in args[a:b]:
            if v is not _SKIP:
                state = step(state, v)
    elif nargs == 0:
        for v in args[a:b]:
            if v is not _SKIP:
                state = step(state)
    else:
        for v in args[a:b]:
            if v is not _SKIP:
                state = step(state, *v)
    return state


def _fold(spec, args: list, nargs: int, distinct: bool):
    """The aggregate over the given inputs from a fresh state (DISTINCT: first of each)."""
    if distinct:
        seen: set = set()
        unique = []
        for a in args:
            if a is not _SKIP:
                k = canon_tuple(a) if nargs > 1 else canon_tuple((a,))
                if k not in seen:
                    seen.add(k)
                    unique.append(a)
        args = unique
    return spec.final(_step(spec.step, spec.init(), args, 0, len(args), nargs))


def _ntile(buckets, count: int) -> list:
    """PostgreSQL's ntile: the first count % buckets buckets get one extra row."""
    if buckets is None:
        return [None] * count
    if buckets <= 0:
        raise data_error("argument of ntile must be greater than zero", "22014")
    q, extra = divmod(count, buckets)
    big = extra * (q + 1)
    return [k // (q + 1) + 1 if k < big else extra + (k - big) // q + 1
            for k in range(count)]
