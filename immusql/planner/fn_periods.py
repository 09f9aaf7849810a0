"""date_bin() and the `(a, b) OVERLAPS (c, d)` predicate (function overlaps()).

Why: both are small pieces of PostgreSQL's timestamp.c with exact edge rules: date_bin
rounds toward minus infinity from the origin and refuses month strides; OVERLAPS swaps
reversed periods, treats a period with one NULL end as a single instant, and returns
NULL (not false) when a NULL leaves the answer open.
"""

from __future__ import annotations

from ..errors import DatetimeFieldOverflow, FeatureNotSupported
from . import datetimes as dts
from . import intervals as ivs
from . import types as T
from .functions import register
from .types import InfiniteDatetime

TS, TSZ, IV, TM, BOOL = T.TIMESTAMP, T.TIMESTAMPTZ, T.INTERVAL, T.TIME, T.BOOL


def _date_bin_factory(ctx, params, elem):
    aware = params[1].oid == TSZ.oid

    def f(stride, source, origin):
        if isinstance(source, InfiniteDatetime):
            return source
        if isinstance(origin, InfiniteDatetime):
            raise DatetimeFieldOverflow("origin out of range")
        if stride.months:
            raise FeatureNotSupported(
                "timestamps cannot be binned into intervals containing months or years")
        step = stride.days * 86_400_000_000 + stride.microseconds
        if step <= 0:
            raise DatetimeFieldOverflow("stride must be greater than zero")
        o = dts.timestamp_micros(origin)
        diff = dts.timestamp_micros(source) - o
        delta = diff - (abs(diff) % step) * (1 if diff >= 0 else -1)  # C's %: truncates
        if diff < 0 and diff % step:
            delta -= step  # before the origin: round toward minus infinity
        return dts.micros_to_timestamp(o + delta, aware)
    return f


def _period(s, e):
    """(start, end) ordered as overlaps_timestamp orders them: a NULL start takes the end's
    place, a reversed pair is swapped; None when both are NULL."""
    if s is None:
        return None if e is None else (e, None)
    if e is not None and s > e:
        return e, s
    return s, e


def _overlaps(s1, e1, s2, e2):
    """PostgreSQL's overlaps_timestamp (also used for time)."""
    p1, p2 = _period(s1, e1), _period(s2, e2)
    if p1 is None or p2 is None:
        return None
    (s1, e1), (s2, e2) = p1, p2
    if s1 > s2:
        if e2 is None:
            return None
        if s1 < e2:
            return True
        return None if e1 is None else False
    if s1 < s2:
        if e1 is None:
            return None
        if s2 < e1:
            return True
        return None if e2 is None else False
    return None if e1 is None or e2 is None else True


def _overlaps_factory(ctx, params, elem):
    """Either end may be an interval: the period is then (start, start + interval)."""
    t = params[0]

    def end(start, v, p):
        if p.oid != IV.oid or v is None:
            return v
        if start is None:
            return None
        if t.oid == TM.oid:
            return _time_plus(start, v)
        return ivs.timestamp_add(start, v, ctx.timezone, aware=t.oid == TSZ.oid)

    def f(s1, e1, s2, e2):
        return _overlaps(s1, end(s1, e1, params[1]), s2, end(s2, e2, params[3]))
    return f


def _time_plus(t, iv):
    from .ops_impl import _time_plus as tp
    return tp(t, iv)


def _reg_all():
    r = register
    for t in (TS, TSZ):
        r("date_bin", (IV, t, t), t, _date_bin_factory, needs_ctx=True)
    for t in (TS, TSZ, TM):
        for a in (t, IV):
            for b in (t, IV):
                r("overlaps", (t, a, t, b), BOOL, _overlaps_factory, strict=False,
                  needs_ctx=True)


_reg_all()
