"""Date/time functions: now() and friends, extract/date_part, date_trunc, age, make_*,
to_timestamp/to_date/to_char, justify_*, isfinite, AT TIME ZONE (timezone()).

Why: these depend on the statement time and the session time zone (from the
FunctionContext), and PostgreSQL 15 returns numeric from EXTRACT but double precision
from date_part; both are registered ('extract' and 'date_part': the parser should map
EXTRACT(f FROM x) to extract(f, x) for PostgreSQL 15's result type).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from ..errors import DatetimeFieldOverflow, FeatureNotSupported, InvalidParameterValue
from . import datetimes as dts
from . import intervals as ivs
from . import tochar
from . import types as T
from .functions import register
from .types import InfiniteDatetime, Interval

TS, TSZ, D, IV, TM, TXT, F8, N, I4 = (T.TIMESTAMP, T.TIMESTAMPTZ, T.DATE, T.INTERVAL,
                                      T.TIME, T.TEXT, T.FLOAT8, T.NUMERIC, T.INT4)
_TYPENAME = {TS.oid: "timestamp without time zone", TSZ.oid: "timestamp with time zone",
             D.oid: "date", IV.oid: "interval", TM.oid: "time without time zone",
             T.TIMETZ.oid: "time with time zone"}
_UNIT_ALIASES = {
    "microsecond": "microseconds", "microseconds": "microseconds", "us": "microseconds",
    "usec": "microseconds", "usecs": "microseconds", "millisecond": "milliseconds",
    "milliseconds": "milliseconds", "ms": "milliseconds", "msec": "milliseconds",
    "msecs": "milliseconds", "second": "second", "seconds": "second", "s": "second",
    "sec": "second", "secs": "second", "minute": "minute", "minutes": "minute",
    "m": "minute", "min": "minute", "mins": "minute", "hour": "hour", "hours": "hour",
    "h": "hour", "hr": "hour", "hrs": "hour", "day": "day", "days": "day", "d": "day",
    "week": "week", "weeks": "week", "w": "week", "month": "month", "months": "month",
    "mon": "month", "mons": "month", "quarter": "quarter", "qtr": "quarter",
    "year": "year", "years": "year", "y": "year", "yr": "year", "yrs": "year",
    "decade": "decade", "decades": "decade", "dec": "decade", "century": "century",
    "centuries": "century", "c": "century", "cent": "century", "millennium": "millennium",
    "millennia": "millennium", "mil": "millennium", "mils": "millennium", "dow": "dow",
    "isodow": "isodow", "doy": "doy", "isoyear": "isoyear", "epoch": "epoch",
    "julian": "julian", "timezone": "timezone", "timezone_hour": "timezone_hour",
    "timezone_minute": "timezone_minute", "timezone_m": "timezone_minute",
    "timezone_h": "timezone_hour",
}


def _unit(text: str, t: T.SqlType) -> str:
    u = _UNIT_ALIASES.get(text.strip().lower())
    if u is None:
        raise InvalidParameterValue(f'unit "{text}" not recognized for type {_TYPENAME[t.oid]}')
    return u


def _unsupported(u, t):
    return FeatureNotSupported(f'unit "{u}" not supported for type {_TYPENAME[t.oid]}')


def _ts_fields(v: dt.datetime, u: str, t: T.SqlType, tzoff: int):
    """Numeric (Decimal) value of field u for a local timestamp."""
    if u == "microseconds":
        return Decimal(v.second * 1_000_000 + v.microsecond)
    if u == "milliseconds":
        return Decimal(v.second * 1_000_000 + v.microsecond).scaleb(-3)
    if u == "second":
        return Decimal(v.second * 1_000_000 + v.microsecond).scaleb(-6)
    if u == "minute":
        return Decimal(v.minute)
    if u == "hour":
        return Decimal(v.hour)
    if u == "day":
        return Decimal(v.day)
    if u == "month":
        return Decimal(v.month)
    if u == "quarter":
        return Decimal((v.month - 1) // 3 + 1)
    if u == "year":
        return Decimal(v.year)
    if u == "week":
        return Decimal(v.isocalendar()[1])
    if u == "decade":
        return Decimal(v.year // 10)
    if u == "century":
        return Decimal((v.year + 99) // 100)
    if u == "millennium":
        return Decimal((v.year + 999) // 1000)
    if u == "dow":
        return Decimal((v.weekday() + 1) % 7)
    if u == "isodow":
        return Decimal(v.isoweekday())
    if u == "doy":
        return Decimal(v.timetuple().tm_yday)
    if u == "isoyear":
        return Decimal(v.isocalendar()[0])
    if u == "julian":
        day = v.toordinal() + 1721425
        secs = v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6
        if not secs:
            return Decimal(day)
        from .numerics import div_exact_scale
        us = (v.hour * 3600 + v.minute * 60 + v.second) * 1_000_000 + v.microsecond
        frac = div_exact_scale(Decimal(us), Decimal(86_400_000_000), 20)
        return Decimal(day) + frac
    if u == "timezone":
        return Decimal(tzoff)
    if u == "timezone_hour":
        return Decimal(int(tzoff / 3600))
    if u == "timezone_minute":
        return Decimal(int(tzoff / 60) % 60 if tzoff >= 0 else -((-tzoff // 60) % 60))
    raise _unsupported(u, t)


def _extract(field: str, v, t: T.SqlType, tz) -> Decimal | None:
    u = _unit(field, t)
    if isinstance(v, InfiniteDatetime):
        if u in ("epoch", "year", "decade", "century", "millennium", "julian", "isoyear"):
            return Decimal("Infinity") if v.sign > 0 else Decimal("-Infinity")
        return None
    oid = t.oid
    if oid == IV.oid:
        return _interval_part(u, v, t)
    if oid in (TM.oid, T.TIMETZ.oid):
        us = ivs.time_micros(v)
        off = int((v.utcoffset() or dt.timedelta(0)).total_seconds()) if oid != TM.oid else 0
        if u == "epoch":
            return Decimal(us - off * 1_000_000).scaleb(-6)
        if u in ("microseconds", "milliseconds", "second", "minute", "hour"):
            return _ts_fields(dt.datetime(2000, 1, 1, v.hour, v.minute, v.second,
                                          v.microsecond), u, t, 0)
        if oid == T.TIMETZ.oid and u.startswith("timezone"):
            return _ts_fields(dt.datetime(2000, 1, 1), u, t, off)
        raise _unsupported(u, t)
    if oid == D.oid:
        if u == "epoch":
            return Decimal((v - dt.date(1970, 1, 1)).days * 86400)
        if u in ("microseconds", "milliseconds", "second", "minute", "hour") or \
                u.startswith("timezone"):
            raise _unsupported(u, t)
        return _ts_fields(dt.datetime(v.year, v.month, v.day), u, t, 0)
    if oid == TSZ.oid:
        if u == "epoch":
            return Decimal(dts.timestamp_micros(v)).scaleb(-6)
        local = v.astimezone(dts.zone_of(tz))
        off = int(local.utcoffset().total_seconds())
        return _ts_fields(local.replace(tzinfo=None), u, t, off)
    if u == "epoch":
        return Decimal(dts.timestamp_micros(v)).scaleb(-6)
    if u.startswith("timezone"):
        raise _unsupported(u, t)
    return _ts_fields(v, u, t, 0)


def _interval_part(u: str, v: Interval, t):
    months, days, us = v.months, v.days, v.microseconds
    year = int(months / 12)
    if u == "epoch":
        secs_day_month = ((1461 * year) + 120 * (months - year * 12) + 4 * days) * 21600
        return Decimal(us + secs_day_month * 1_000_000).scaleb(-6)
    if u == "microseconds":
        return Decimal(math.fmod(us, 60_000_000)).quantize(Decimal(1)) if False else \
            Decimal(_cmod(us, 60_000_000))
    if u == "milliseconds":
        return Decimal(_cmod(us, 60_000_000)).scaleb(-3)
    if u == "second":
        return Decimal(_cmod(us, 60_000_000)).scaleb(-6)
    if u == "minute":
        return Decimal(_cmod(int(us / 60_000_000) if abs(us) < 2 ** 52 else
                             _ctrunc(us, 60_000_000), 60))
    if u == "hour":
        return Decimal(_ctrunc(us, 3_600_000_000))
    if u == "day":
        return Decimal(days)
    if u == "month":
        return Decimal(months - year * 12)
    if u == "quarter":
        return Decimal(int((months - year * 12) / 3) + 1) if months >= 0 else \
            Decimal(int((months - year * 12) / 3) - 1 + 2)
    if u == "year":
        return Decimal(year)
    if u == "decade":
        return Decimal(int(year / 10))
    if u == "century":
        return Decimal(int(year / 100))
    if u == "millennium":
        return Decimal(int(year / 1000))
    raise _unsupported(u, t)


def _ctrunc(a: int, b: int) -> int:
    q = abs(a) // b
    return q if a >= 0 else -q


def _cmod(a: int, b: int) -> int:
    r = abs(a) % b
    return r if a >= 0 else -r


def _extract_factory(numeric: bool):
    def make(ctx, params, elem):
        t = params[1]

        def f(field, v):
            r = _extract(field, v, t, ctx.timezone)
            if r is None or numeric:
                return r
            return float(r)
        return f
    return make


def _trunc_local(u: str, v: dt.datetime, t) -> dt.datetime:
    if u == "microseconds":
        return v
    if u == "milliseconds":
        return v.replace(microsecond=v.microsecond // 1000 * 1000)
    if u == "second":
        return v.replace(microsecond=0)
    if u == "minute":
        return v.replace(second=0, microsecond=0)
    if u == "hour":
        return v.replace(minute=0, second=0, microsecond=0)
    day = v.replace(hour=0, minute=0, second=0, microsecond=0)
    if u == "day":
        return day
    if u == "week":
        return day - dt.timedelta(days=day.weekday())
    if u == "month":
        return day.replace(day=1)
    if u == "quarter":
        return day.replace(month=(v.month - 1) // 3 * 3 + 1, day=1)
    if u == "year":
        return day.replace(month=1, day=1)
    if u == "decade":
        return day.replace(year=max(v.year - v.year % 10, 1), month=1, day=1)
    if u == "century":
        return day.replace(year=(v.year + 99) // 100 * 100 - 99, month=1, day=1)
    if u == "millennium":
        return day.replace(year=(v.year + 999) // 1000 * 1000 - 999, month=1, day=1)
    raise _unsupported(u, t)


def _date_trunc_factory(ctx, params, elem):
    t = params[1]
    zone_arg = len(params) == 3

    def f(field, v, zone=None):
        u = _unit(field, t)
        if isinstance(v, InfiniteDatetime):
            return v
        if t.oid == IV.oid:
            return _trunc_interval(u, v, t)
        if t.oid == TSZ.oid:
            tz = zone if zone_arg else ctx.timezone
            local = dts.to_local(v, tz)
            return dts.from_local(_trunc_local(u, local, t), tz)
        return _trunc_local(u, v, t)
    return f


def _trunc_interval(u, v: Interval, t):
    us = v.microseconds
    order = ["microseconds", "milliseconds", "second", "minute", "hour", "day", "month",
             "quarter", "year", "decade", "century", "millennium"]
    if u not in order:
        raise _unsupported(u, t)
    scale = {"microseconds": 1, "milliseconds": 1000, "second": 1_000_000,
             "minute": 60_000_000, "hour": 3_600_000_000}
    if u in scale:
        return Interval(v.months, v.days, _ctrunc(us, scale[u]) * scale[u])
    if u == "day":
        return Interval(v.months, v.days, 0)
    mult = {"month": 1, "quarter": 3, "year": 12, "decade": 120, "century": 1200,
            "millennium": 12000}[u]
    return Interval(_ctrunc(v.months, mult) * mult, 0, 0)


def _make_date(y, m, d):
    try:
        return dt.date(y, m, d)
    except ValueError:
        raise DatetimeFieldOverflow(f"date field value out of range: {y}-{m:02d}-{d:02d}") \
            from None


def _make_time(h, mi, sec):
    if not (0 <= h <= 23 and 0 <= mi <= 59 and 0 <= sec < 60):
        raise DatetimeFieldOverflow(f"time field value out of range: {h}:{mi:02d}:"
                                    f"{sec:02}")
    us = round(sec * 1_000_000)
    return dt.time(h, mi, us // 1_000_000, us % 1_000_000)


def _make_timestamp(y, mo, d, h, mi, sec):
    date = _make_date(y, mo, d)
    t = _make_time(h, mi, sec)
    return dt.datetime.combine(date, t)


def _make_timestamptz_factory(ctx, params, elem):
    def f(y, mo, d, h, mi, sec, zone=None):
        return dts.from_local(_make_timestamp(y, mo, d, h, mi, sec),
                              zone if zone is not None else ctx.timezone)
    return f


def _make_interval(years=0, months=0, weeks=0, days=0, hours=0, mins=0, secs=0.0):
    us = round(secs * 1_000_000) + (hours * 60 + mins) * 60_000_000
    return Interval(years * 12 + months, weeks * 7 + days, us)


def _to_timestamp_float(x: float):
    if math.isnan(x):
        raise DatetimeFieldOverflow("timestamp cannot be NaN")
    if math.isinf(x):
        return T.POS_INFINITY if x > 0 else T.NEG_INFINITY
    return dts.micros_to_timestamp(round(x * 1_000_000), aware=True)


def _to_timestamp_text_factory(ctx, params, elem):
    def f(text, fmt):
        value, off = tochar.parse_datetime(text, fmt)
        if off is not None:
            return (value - off).replace(tzinfo=dts.UTC)
        return dts.from_local(value, ctx.timezone)
    return f


def _to_char_factory(ctx, params, elem):
    t = params[0]

    def f(v, fmt):
        if t.oid == TSZ.oid:
            if isinstance(v, InfiniteDatetime):
                return None
            zone = dts.zone_of(ctx.timezone)
            local = v.astimezone(zone)
            name = local.tzname() or ""
            if name and (name[0] in "+-"):
                name = dts.format_offset(local.utcoffset())
            return tochar.format_datetime(local.replace(tzinfo=None), fmt, name,
                                          local.utcoffset())
        if t.oid in (TS.oid, D.oid, IV.oid):
            return tochar.format_datetime(v, fmt)
        return tochar.format_number(v, fmt)
    return f


def _now_factory(kind):
    def make(ctx, params, elem):
        if kind == "statement":
            return lambda: ctx.statement_time()
        if kind == "clock":
            return lambda: dt.datetime.now(dts.UTC)
        if kind == "date":
            return lambda: dts.to_local(ctx.transaction_time(), ctx.timezone).date()
        if kind == "localtimestamp":
            return lambda: dts.to_local(ctx.transaction_time(), ctx.timezone)
        if kind == "localtime":
            return lambda: dts.to_local(ctx.transaction_time(), ctx.timezone).time()
        if kind == "current_time":
            def ct():
                now = ctx.transaction_time()
                local = now.astimezone(dts.zone_of(ctx.timezone))
                return local.time().replace(tzinfo=dt.timezone(local.utcoffset()))
            return ct
        return lambda: ctx.transaction_time()
    return make


def _age1_factory(ctx, params, elem):
    def f(v):
        today = dts.to_local(ctx.transaction_time(), ctx.timezone).date()
        base = dt.datetime(today.year, today.month, today.day)
        if params[0].oid == TSZ.oid:
            return ivs.age(base, dts.to_local(v, ctx.timezone))
        return ivs.age(base, v)
    return f


def _age2_factory(ctx, params, elem):
    def f(a, b):
        if params[0].oid == TSZ.oid:
            return ivs.age(dts.to_local(a, ctx.timezone), dts.to_local(b, ctx.timezone))
        return ivs.age(a, b)
    return f


def _posix_zone(zone: str) -> str:
    """AT TIME ZONE reads a bare numeric zone ('+02') as POSIX, i.e. hours *west* of
    Greenwich, unlike timestamp literals and SET TIME ZONE (ISO 8601, east)."""
    z = zone.strip()
    if z[:1] in ("+", "-") and z[1:2].isdigit():
        return ("-" if z[0] == "+" else "+") + z[1:]
    return zone


def _at_zone_factory(ctx, params, elem):
    src = params[1]

    def f(zone, v):
        if isinstance(v, InfiniteDatetime):
            return v
        zone = _posix_zone(zone)
        if src.oid == TSZ.oid:
            return dts.to_local(v, zone)
        return dts.from_local(v, zone)
    return f


def _reg_all():
    r = register
    for name in ("now", "current_timestamp", "transaction_timestamp"):
        r(name, (), TSZ, _now_factory("transaction"), needs_ctx=True)
    r("statement_timestamp", (), TSZ, _now_factory("statement"), needs_ctx=True)
    r("clock_timestamp", (), TSZ, _now_factory("clock"), needs_ctx=True, volatile=True)
    r("current_date", (), D, _now_factory("date"), needs_ctx=True)
    r("current_time", (), T.TIMETZ, _now_factory("current_time"), needs_ctx=True)
    r("localtimestamp", (), TS, _now_factory("localtimestamp"), needs_ctx=True)
    r("localtime", (), TM, _now_factory("localtime"), needs_ctx=True)
    for t in (TS, TSZ, D, IV, TM, T.TIMETZ):
        r("extract", (TXT, t), N, _extract_factory(True), needs_ctx=True)
    for t in (TS, TSZ, IV, TM, T.TIMETZ):
        r("date_part", (TXT, t), F8, _extract_factory(False), needs_ctx=True)
    r("date_part", (TXT, D), F8,
      lambda ctx, params, elem: (lambda f, v: (lambda x: None if x is None else float(x))(
          _extract(f, dt.datetime(v.year, v.month, v.day) if not isinstance(
              v, InfiniteDatetime) else v, TS, ctx.timezone))), needs_ctx=True)
    for t in (TS, TSZ, IV):
        r("date_trunc", (TXT, t), t, _date_trunc_factory, needs_ctx=True)
    r("date_trunc", (TXT, TSZ, TXT), TSZ, _date_trunc_factory, needs_ctx=True)
    r("age", (TS, TS), IV, _age2_factory, needs_ctx=True)
    r("age", (TSZ, TSZ), IV, _age2_factory, needs_ctx=True)
    r("age", (TS,), IV, _age1_factory, needs_ctx=True)
    r("age", (TSZ,), IV, _age1_factory, needs_ctx=True)
    r("make_date", (I4, I4, I4), D, _make_date)
    r("make_time", (I4, I4, F8), TM, _make_time)
    r("make_timestamp", (I4, I4, I4, I4, I4, F8), TS, _make_timestamp)
    r("make_timestamptz", (I4, I4, I4, I4, I4, F8), TSZ, _make_timestamptz_factory,
      needs_ctx=True)
    r("make_timestamptz", (I4, I4, I4, I4, I4, F8, TXT), TSZ, _make_timestamptz_factory,
      needs_ctx=True)
    for n in range(0, 8):
        params = (I4, I4, I4, I4, I4, I4, F8)[:n]
        r("make_interval", params, IV, _make_interval)
    r("to_timestamp", (F8,), TSZ, _to_timestamp_float)
    r("to_timestamp", (TXT, TXT), TSZ, _to_timestamp_text_factory, needs_ctx=True)
    r("to_date", (TXT, TXT), D, lambda s, f: tochar.parse_datetime(s, f)[0].date())
    r("to_number", (TXT, TXT), N, tochar.parse_number)
    for t in (TS, TSZ, IV, N, F8, T.FLOAT4, I4, T.INT8):
        r("to_char", (t, TXT), TXT, _to_char_factory, needs_ctx=True)
    r("justify_days", (IV,), IV, ivs.justify_days)
    r("justify_hours", (IV,), IV, ivs.justify_hours)
    r("justify_interval", (IV,), IV, ivs.justify_interval)
    r("isfinite", (D,), T.BOOL, lambda v: not isinstance(v, InfiniteDatetime))
    r("isfinite", (TS,), T.BOOL, lambda v: not isinstance(v, InfiniteDatetime))
    r("isfinite", (TSZ,), T.BOOL, lambda v: not isinstance(v, InfiniteDatetime))
    r("isfinite", (IV,), T.BOOL, lambda v: True)
    r("timezone", (TXT, TSZ), TS, _at_zone_factory, needs_ctx=True)
    r("timezone", (TXT, TS), TSZ, _at_zone_factory, needs_ctx=True)


_reg_all()
