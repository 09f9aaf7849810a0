"""PostgreSQL intervals: input, 'postgres' IntervalStyle output and date arithmetic.

Why: an interval is three independent fields (months, days, microseconds) whose input
syntax ('1 day 2 hours', '1-2', 'P1D', '@ 1 minute ago', fractional units cascading
down) and output ('-1 days +02:00:00') are PostgreSQL-specific, and adding one to a
timestamp is calendar arithmetic (Jan 31 + 1 mon = Feb 29). The operators, functions and
casts use these helpers; the rules follow PostgreSQL 15's DecodeInterval,
DecodeISO8601Interval, EncodeInterval, interval_mul/div, timestamp_pl_interval and
timestamp_age.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re

from ..errors import DatetimeFieldOverflow, DivisionByZero, InvalidDatetimeFormat
from .types import USECS_PER_DAY, InfiniteDatetime, Interval

USECS_PER_SEC = 1_000_000
USECS_PER_MINUTE = 60 * USECS_PER_SEC
USECS_PER_HOUR = 60 * USECS_PER_MINUTE
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

_UNITS = {}
for _names, _unit in (
        (("microsecond", "microseconds", "us", "usec", "usecs", "useconds", "microsecon"),
         "us"),
        (("millisecond", "milliseconds", "ms", "msec", "msecs", "mseconds", "millisecon"),
         "ms"),
        (("second", "seconds", "s", "sec", "secs"), "s"),
        (("minute", "minutes", "m", "min", "mins"), "min"),
        (("hour", "hours", "h", "hr", "hrs"), "h"),
        (("day", "days", "d"), "d"),
        (("week", "weeks", "w"), "w"),
        (("month", "months", "mon", "mons"), "mon"),
        (("year", "years", "y", "yr", "yrs"), "y"),
        (("decade", "decades", "dec", "decs"), "dec"),
        (("century", "centuries", "c", "cent"), "c"),
        (("millennium", "millennia", "mil", "mils", "millenniums"), "mil")):
    for _n in _names:
        _UNITS[_n] = _unit


def _bad(text: str):
    return InvalidDatetimeFormat(f'invalid input syntax for type interval: "{text}"')


def _check(iv: Interval, text: str | None = None) -> Interval:
    if not (INT32_MIN <= iv.months <= INT32_MAX and INT32_MIN <= iv.days <= INT32_MAX
            and INT64_MIN <= iv.microseconds <= INT64_MAX):
        if text is not None:
            from .numerics import IntervalFieldOverflow
            raise IntervalFieldOverflow(f'interval field value out of range: "{text}"')
        raise DatetimeFieldOverflow("interval out of range")
    return iv


class _Acc:
    __slots__ = ("months", "days", "us", "seen")

    def __init__(self):
        self.months = 0
        self.days = 0
        self.us = 0
        self.seen = set()

    def frac_days(self, frac: float, scale: int):
        frac *= scale
        whole = int(frac)
        self.days += whole
        self.us += round((frac - whole) * USECS_PER_DAY)

    def add(self, unit: str, val: int, frac: float):
        if unit == "us":
            self.us += round(val + frac)
        elif unit == "ms":
            self.us += round((val + frac) * 1000)
        elif unit == "s":
            self.us += val * USECS_PER_SEC + round(frac * USECS_PER_SEC)
        elif unit == "min":
            self.us += val * USECS_PER_MINUTE + round(frac * USECS_PER_MINUTE)
        elif unit == "h":
            self.us += val * USECS_PER_HOUR + round(frac * USECS_PER_HOUR)
        elif unit == "d":
            self.days += val
            self.us += round(frac * USECS_PER_DAY)
        elif unit == "w":
            self.days += val * 7
            self.frac_days(frac, 7)
        elif unit == "mon":
            self.months += val
            self.frac_days(frac, 30)
        else:
            mult = {"y": 1, "dec": 10, "c": 100, "mil": 1000}[unit]
            self.months += val * 12 * mult + round(frac * 12 * mult)


def _split_num(tok: str) -> tuple[int, float]:
    neg = tok.startswith("-")
    body = tok.lstrip("+-")
    ip, _, fp = body.partition(".")
    val = int(ip or "0")
    frac = float("0." + fp) if fp else 0.0
    return (-val, -frac) if neg else (val, frac)


def _time_field(tok: str, acc: _Acc, text: str):
    neg = tok.startswith("-")
    parts = tok.lstrip("+-").split(":")
    if len(parts) > 3 or not all(p.replace(".", "", 1).isdigit() for p in parts):
        raise _bad(text)
    h = int(parts[0])
    m = int(parts[1]) if len(parts) > 1 else 0
    if len(parts) == 3:
        s_int, _, s_frac = parts[2].partition(".")
        us = int(s_int) * USECS_PER_SEC + (round(float("0." + s_frac) * USECS_PER_SEC)
                                            if s_frac else 0)
    else:
        if "." in parts[1]:  # 'mm:ss.f' is PostgreSQL's reading of two fields with a fraction
            mi, _, frac = parts[1].partition(".")
            m = int(mi)
            us = round(float("0." + frac) * USECS_PER_SEC)
            total = (h * USECS_PER_MINUTE) + m * USECS_PER_SEC + us
            acc.us += -total if neg else total
            return
        us = 0
    if m > 59 or us >= 60 * USECS_PER_SEC:
        raise DatetimeFieldOverflow(f'interval field value out of range: "{text}"')
    total = h * USECS_PER_HOUR + m * USECS_PER_MINUTE + us
    acc.us += -total if neg else total


_TOK_RE = re.compile(r"\s*(?:([+-]?\d+(?:\.\d*)?:[\d:.]*)|([+-]?\d+-\d+)|([+-]?(?:\d+\.?\d*|\.\d+))"
                     r"|([a-zA-Z]+)|(@))")


def _parse_postgres(text: str) -> Interval:
    tokens: list[tuple[str, str]] = []
    pos = 0
    s = text.strip()
    while pos < len(s):
        m = _TOK_RE.match(s, pos)
        if not m or m.end() == pos:
            raise _bad(text)
        pos = m.end()
        if m.group(1):
            tokens.append(("time", m.group(1)))
        elif m.group(2):
            tokens.append(("ym", m.group(2)))
        elif m.group(3):
            tokens.append(("num", m.group(3)))
        elif m.group(4):
            tokens.append(("word", m.group(4).lower()))
    if not tokens:
        raise _bad(text)
    acc = _Acc()
    ago = False
    pending_unit: str | None = None  # unit that follows (we walk right to left)
    after_time = False
    seen_units: set[str] = set()
    for kind, tok in reversed(tokens):
        if kind == "word":
            if tok == "ago":
                if ago or pending_unit is not None:
                    raise _bad(text)
                ago = True
                continue
            unit = _UNITS.get(tok)
            if unit is None or pending_unit is not None:
                raise _bad(text)
            pending_unit = unit
            continue
        if kind == "time":
            if "time" in seen_units or pending_unit is not None:
                raise _bad(text)
            seen_units.add("time")
            _time_field(tok, acc, text)
            after_time = True
            continue
        if kind == "ym":
            if pending_unit is not None or "ym" in seen_units:
                raise _bad(text)
            seen_units.add("ym")
            neg = tok.startswith("-")
            y, _, mo = tok.lstrip("+-").partition("-")
            months = int(y) * 12 + int(mo)
            acc.months += -months if neg else months
            after_time = False
            continue
        unit = pending_unit
        if unit is None:
            unit = "d" if after_time else "s"
        if unit in seen_units or (unit == "s" and "time" in seen_units and not pending_unit):
            raise _bad(text)
        seen_units.add(unit)
        val, frac = _split_num(tok)
        acc.add(unit, val, frac)
        pending_unit = None
        after_time = False
    if pending_unit is not None:
        raise _bad(text)
    iv = Interval(acc.months, acc.days, acc.us)
    if ago:
        iv = Interval(-iv.months, -iv.days, -iv.microseconds)
    return iv


_ISO_UNIT = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+))([YMWDHS])")
_ISO_ALT = re.compile(r"P(\d+)-(\d+)-(\d+)(?:T(\d+):(\d+):(\d+(?:\.\d*)?))?\Z")


def _parse_iso(text: str) -> Interval:
    s = text.strip()
    m = _ISO_ALT.match(s)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        us = 0
        if m.group(4) is not None:
            sec, _, frac = m.group(6).partition(".")
            us = (int(m.group(4)) * USECS_PER_HOUR + int(m.group(5)) * USECS_PER_MINUTE
                  + int(sec) * USECS_PER_SEC
                  + (round(float("0." + frac) * USECS_PER_SEC) if frac else 0))
        return Interval(y * 12 + mo, d, us)
    body = s[1:]
    date_part, t, time_part = body.partition("T")
    if t and not time_part:
        raise _bad(text)
    acc = _Acc()
    for part, in_time in ((date_part, False), (time_part, True)):
        pos = 0
        while pos < len(part):
            m = _ISO_UNIT.match(part, pos)
            if not m:
                raise _bad(text)
            pos = m.end()
            val, frac = _split_num(m.group(1))
            u = m.group(2)
            if in_time:
                unit = {"H": "h", "M": "min", "S": "s"}.get(u)
            else:
                unit = {"Y": "y", "M": "mon", "W": "w", "D": "d"}.get(u)
            if unit is None:
                raise _bad(text)
            acc.add(unit, val, frac)
    if not date_part and not time_part:
        raise _bad(text)
    return Interval(acc.months, acc.days, acc.us)


def parse_interval(text: str) -> Interval:
    """interval input: PostgreSQL verbose ('1 year 2 mons', '@ 1 minute ago',
    '1 day -01:02:03', '1.5 days'), SQL standard ('1-2', '1 2:03:04') and ISO 8601
    ('P1Y2M3DT4H5M6S', 'PT1.5S', 'P0001-02-03T04:05:06')."""
    s = text.strip()
    if s[:1] in ("P", "p") and len(s) > 1 and s[1:2].upper() in "0123456789T.-+" :
        try:
            iv = _parse_iso(s.upper())
        except InvalidDatetimeFormat:
            raise _bad(text) from None
    else:
        iv = _parse_postgres(text)
    return _check(iv, text)


def format_interval(iv: Interval) -> str:
    """IntervalStyle 'postgres': '1 year 2 mons 3 days 04:05:06', '-1 days +02:00:00'."""
    months, days, us = iv.months, iv.days, iv.microseconds
    year = int(months / 12) if months >= 0 else -((-months) // 12)
    mon = months - year * 12
    out: list[str] = []
    is_zero = True
    is_before = False
    for value, unit in ((year, "year"), (mon, "mon"), (days, "day")):
        if value == 0:
            continue
        out.append(f"{'+' if is_before and value > 0 else ''}{value} {unit}"
                   f"{'' if value == 1 else 's'}")
        is_before = value < 0
        is_zero = False
    neg = us < 0
    a = -us if neg else us
    hour, rem = divmod(a, USECS_PER_HOUR)
    minute, rem = divmod(rem, USECS_PER_MINUTE)
    sec, frac = divmod(rem, USECS_PER_SEC)
    if is_zero or us != 0:
        sign = "-" if neg else ("+" if is_before else "")
        t = f"{sign}{hour:02d}:{minute:02d}:{sec:02d}"
        if frac:
            t += "." + f"{frac:06d}".rstrip("0")
        out.append(t)
    return " ".join(out)


# -------------------------------------------------------------------- arithmetic --


def add(a: Interval, b: Interval) -> Interval:
    return _check(Interval(a.months + b.months, a.days + b.days,
                           a.microseconds + b.microseconds))


def sub(a: Interval, b: Interval) -> Interval:
    return _check(Interval(a.months - b.months, a.days - b.days,
                           a.microseconds - b.microseconds))


def neg(a: Interval) -> Interval:
    return _check(Interval(-a.months, -a.days, -a.microseconds))


def _tsround(x: float) -> float:
    return round(x * 1e6) / 1e6


def _trunc_int(x: float) -> int:
    if math.isnan(x) or math.isinf(x):
        raise DatetimeFieldOverflow("interval out of range")
    return int(x)


def mul(iv: Interval, factor: float) -> Interval:
    """interval * float8 (interval_mul): whole parts per field, fractions cascaded down
    with 30-day months and 86400-second days."""
    factor = float(factor)
    month = _trunc_int(iv.months * factor)
    day = _trunc_int(iv.days * factor)
    month_rem_days = _tsround((iv.months * factor - month) * 30)
    sec_rem = _tsround((iv.days * factor - day + month_rem_days - int(month_rem_days)) * 86400)
    if abs(sec_rem) >= 86400:
        day += int(sec_rem / 86400)
        sec_rem -= int(sec_rem / 86400) * 86400
    day += int(month_rem_days)
    t = iv.microseconds * factor + sec_rem * USECS_PER_SEC
    if math.isnan(t) or math.isinf(t):
        raise DatetimeFieldOverflow("interval out of range")
    return _check(Interval(month, day, round(t)))


def div(iv: Interval, factor: float) -> Interval:
    factor = float(factor)
    if factor == 0:
        raise DivisionByZero("division by zero")
    month = _trunc_int(iv.months / factor)
    day = _trunc_int(iv.days / factor)
    month_rem_days = _tsround((iv.months / factor - month) * 30)
    sec_rem = _tsround((iv.days / factor - day + month_rem_days - int(month_rem_days)) * 86400)
    if abs(sec_rem) >= 86400:
        day += int(sec_rem / 86400)
        sec_rem -= int(sec_rem / 86400) * 86400
    day += int(month_rem_days)
    t = iv.microseconds / factor + sec_rem * USECS_PER_SEC
    if math.isnan(t) or math.isinf(t):
        raise DatetimeFieldOverflow("interval out of range")
    return _check(Interval(month, day, round(t)))


def _tmodulo(t: int, u: int) -> tuple[int, int]:
    q = int(t / u) if abs(t) < 2 ** 52 else (abs(t) // u) * (1 if t >= 0 else -1)
    return q, t - q * u


def justify_hours(iv: Interval) -> Interval:
    whole, time = _tmodulo(iv.microseconds, USECS_PER_DAY)
    days = iv.days + whole
    if days > 0 and time < 0:
        time += USECS_PER_DAY
        days -= 1
    elif days < 0 and time > 0:
        time -= USECS_PER_DAY
        days += 1
    return _check(Interval(iv.months, days, time))


def justify_days(iv: Interval) -> Interval:
    wholemonth, days = _tmodulo(iv.days, 30)
    months = iv.months + wholemonth
    if months > 0 and days < 0:
        days += 30
        months -= 1
    elif months < 0 and days > 0:
        days -= 30
        months += 1
    return _check(Interval(months, days, iv.microseconds))


def justify_interval(iv: Interval) -> Interval:
    whole, time = _tmodulo(iv.microseconds, USECS_PER_DAY)
    days = iv.days + whole
    wholemonth, days = _tmodulo(days, 30)
    months = iv.months + wholemonth
    if months > 0 and (days < 0 or (days == 0 and time < 0)):
        days += 30
        months -= 1
    elif months < 0 and (days > 0 or (days == 0 and time > 0)):
        days -= 30
        months += 1
    if days > 0 and time < 0:
        time += USECS_PER_DAY
        days -= 1
    elif days < 0 and time > 0:
        time -= USECS_PER_DAY
        days += 1
    return _check(Interval(months, days, time))


def add_months(d, months: int):
    """date/datetime + months, clamping the day to the end of the month."""
    total = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise DatetimeFieldOverflow("timestamp out of range")
    day = min(d.day, calendar.monthrange(year, month0 + 1)[1])
    return d.replace(year=year, month=month0 + 1, day=day)


def timestamp_add(ts, iv: Interval, tz=None, aware: bool = False):
    """timestamp(tz) + interval: months (day clamped), then days, then time; for
    timestamptz the months and days move in the session zone's local time."""
    if isinstance(ts, InfiniteDatetime):
        return ts
    from .datetimes import from_local, to_local
    try:
        if aware:
            local = to_local(ts, tz) if (iv.months or iv.days) else None
            if local is not None:
                if iv.months:
                    local = add_months(local, iv.months)
                if iv.days:
                    local = local + dt.timedelta(days=iv.days)
                ts = from_local(local, tz)
            return ts + dt.timedelta(microseconds=iv.microseconds)
        if iv.months:
            ts = add_months(ts, iv.months)
        return ts + dt.timedelta(days=iv.days, microseconds=iv.microseconds)
    except OverflowError:
        raise DatetimeFieldOverflow("timestamp out of range") from None


def timestamp_diff(a, b) -> Interval:
    """timestamp - timestamp: microseconds justified into days (timestamp_mi)."""
    if isinstance(a, InfiniteDatetime) or isinstance(b, InfiniteDatetime):
        raise DatetimeFieldOverflow("cannot subtract infinite timestamps")
    us = (a - b) // dt.timedelta(microseconds=1)
    return justify_hours(Interval(0, 0, us))


def _days_in(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def age(a, b) -> Interval:
    """age(timestamp, timestamp): symbolic years/months/days (PostgreSQL timestamp_age)."""
    if isinstance(a, InfiniteDatetime) or isinstance(b, InfiniteDatetime):
        raise DatetimeFieldOverflow("cannot subtract infinite timestamps")
    if isinstance(a, dt.datetime) and a.tzinfo is not None:
        a = a.replace(tzinfo=None)
        b = b.replace(tzinfo=None)
    fields = [a.microsecond - b.microsecond, a.second - b.second, a.minute - b.minute,
              a.hour - b.hour, a.day - b.day, a.month - b.month, a.year - b.year]
    flip = a < b
    if flip:
        fields = [-x for x in fields]
    fsec, sec, mi, hour, mday, mon, year = fields
    while fsec < 0:
        fsec += USECS_PER_SEC
        sec -= 1
    while sec < 0:
        sec += 60
        mi -= 1
    while mi < 0:
        mi += 60
        hour -= 1
    while hour < 0:
        hour += 24
        mday -= 1
    while mday < 0:
        ref = a if flip else b
        mday += _days_in(ref.year, ref.month)
        mon -= 1
    while mon < 0:
        mon += 12
        year -= 1
    months = year * 12 + mon
    us = ((hour * 60 + mi) * 60 + sec) * USECS_PER_SEC + fsec
    if flip:
        return Interval(-months, -mday, -us)
    return Interval(months, mday, us)


def round_interval(iv: Interval, precision: int | None) -> Interval:
    """interval(p): round the time field half away from zero to p fractional digits."""
    if precision is None or precision >= 6:
        return iv
    scale = 10 ** (6 - precision)
    us = iv.microseconds
    if us >= 0:
        us = (us + scale // 2) // scale * scale
    else:
        us = -(((-us) + scale // 2) // scale * scale)
    return Interval(iv.months, iv.days, us)


def interval_from_time(t: dt.time) -> Interval:
    return Interval(0, 0, ((t.hour * 60 + t.minute) * 60 + t.second) * USECS_PER_SEC
                    + t.microsecond)


def time_from_micros(us: int, tzinfo=None) -> dt.time:
    us %= USECS_PER_DAY
    secs, micro = divmod(us, USECS_PER_SEC)
    return dt.time(secs // 3600, secs // 60 % 60, secs % 60, micro, tzinfo=tzinfo)


def time_micros(t: dt.time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * USECS_PER_SEC + t.microsecond
