"""Date, time and timestamp input and output in PostgreSQL 15's formats.

Why: PostgreSQL accepts many spellings of a moment ('2024-01-02 03:04:05+02',
'Jan 8 04:05:06 1999 PST', '1/8/1999', '20240102T030405', 'epoch', 'infinity') and prints
them in one ISO form ('2024-01-02 03:04:05.5+00'); results are compared with a real
PostgreSQL, so the SQL layer must read and print exactly the same. This is a compact
re-implementation of PostgreSQL's ParseDateTime/DecodeDateTime for the common forms
(DateStyle 'ISO, MDY', the default), not a port: see the report for the gaps.

Values: date -> datetime.date, time -> datetime.time, timetz -> datetime.time with a
fixed-offset tzinfo, timestamp -> naive datetime, timestamptz -> aware datetime in UTC,
+/-infinity -> types.POS_INFINITY / NEG_INFINITY. Python's range (years 1..9999) is ours;
BC dates are not supported.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from ..errors import (
    DatetimeFieldOverflow,
    FeatureNotSupported,
    InvalidDatetimeFormat,
    InvalidParameterValue,
)
from .types import NEG_INFINITY, POS_INFINITY, InfiniteDatetime

UTC = dt.timezone.utc
EPOCH_2000 = dt.datetime(2000, 1, 1)
EPOCH_1970 = dt.datetime(1970, 1, 1)

MONTHS = {"jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4,
          "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8,
          "august": 8, "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10,
          "nov": 11, "november": 11, "dec": 12, "december": 12}
DAYS = {"sun", "sunday", "mon", "monday", "tue", "tues", "tuesday", "wed", "wednesday",
        "thu", "thur", "thurs", "thursday", "fri", "friday", "sat", "saturday"}
# A small part of PostgreSQL's 'Default' timezone_abbreviations (offsets in seconds).
ABBREVIATIONS = {
    "utc": 0, "gmt": 0, "z": 0, "zulu": 0, "ut": 0, "est": -5 * 3600, "edt": -4 * 3600,
    "cst": -6 * 3600, "cdt": -5 * 3600, "mst": -7 * 3600, "mdt": -6 * 3600,
    "pst": -8 * 3600, "pdt": -7 * 3600, "akst": -9 * 3600, "akdt": -8 * 3600,
    "hst": -10 * 3600, "ast": -4 * 3600, "adt": -3 * 3600, "nst": -12600, "ndt": -9000,
    "wet": 0, "west": 3600, "bst": 3600, "cet": 3600, "cest": 7200, "met": 3600,
    "mest": 7200, "eet": 7200, "eest": 10800, "msk": 10800, "ist": 7200, "jst": 9 * 3600,
    "kst": 9 * 3600, "hkt": 8 * 3600, "sgt": 8 * 3600, "awst": 8 * 3600,
    "acst": 34200, "acdt": 37800, "aest": 36000, "aedt": 39600, "nzst": 43200,
    "nzdt": 46800,
}
SPECIALS = {"epoch", "infinity", "-infinity", "+infinity", "now", "today", "tomorrow",
            "yesterday", "allballs"}

_TYPE_LABEL = {"date": "date", "time": "time", "timetz": "time with time zone",
               "timestamp": "timestamp", "timestamptz": "timestamp with time zone"}


# ---------------------------------------------------------------------------- zones --

@functools.lru_cache(maxsize=None)
def _zone_index() -> dict[str, str]:
    import zoneinfo
    try:
        names = zoneinfo.available_timezones()
    except Exception:  # pragma: no cover - no tzdata at all
        names = set()
    return {n.lower(): n for n in names}


@functools.lru_cache(maxsize=512)
def resolve_zone(name: str) -> dt.tzinfo:
    """A time zone by PostgreSQL's rules, case-insensitively: an IANA name
    ('America/New_York'), 'UTC'/'GMT'/'Z', a known abbreviation ('PST'), or a numeric
    offset ('+05:30' as ISO 8601, i.e. east of Greenwich).
    Raises InvalidParameterValue `time zone "x" not recognized`."""
    low = name.strip().lower()
    if low in ("utc", "gmt", "z", "zulu", "ut", "etc/utc", "universal", "etc/gmt"):
        return UTC
    m = re.fullmatch(r"([+-])(\d{1,2})(?::?(\d{2}))?(?::(\d{2}))?", low)
    if m:
        secs = int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60 + int(m.group(4) or 0)
        return dt.timezone(dt.timedelta(seconds=-secs if m.group(1) == "-" else secs))
    real = _zone_index().get(low)
    if real is not None:
        import zoneinfo
        return zoneinfo.ZoneInfo(real)
    if low in ABBREVIATIONS:
        return dt.timezone(dt.timedelta(seconds=ABBREVIATIONS[low]))
    raise InvalidParameterValue(f'time zone "{name}" not recognized')


def zone_of(tz) -> dt.tzinfo:
    if tz is None:
        return UTC
    if isinstance(tz, dt.tzinfo):
        return tz
    return resolve_zone(tz)


def localize(naive: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """Attach a zone to a local time the way PostgreSQL does: in a spring-forward gap the
    time is read with the offset before the transition, an ambiguous fall-back time as
    the later (standard time) instant. Returns an aware datetime in UTC."""
    if isinstance(zone, dt.timezone):
        return (naive.replace(tzinfo=zone)).astimezone(UTC)
    a = naive.replace(tzinfo=zone, fold=0)
    b = naive.replace(tzinfo=zone, fold=1)
    if a.utcoffset() == b.utcoffset():
        return a.astimezone(UTC)
    ua, ub = a.astimezone(UTC), b.astimezone(UTC)
    if (ua.astimezone(zone).replace(tzinfo=None) == naive
            and ub.astimezone(zone).replace(tzinfo=None) == naive):
        return max(ua, ub)  # ambiguous: the later instant (standard time)
    return ua  # gap: fold=0 reads it with the offset in force before the transition


def to_local(value: dt.datetime, tz=None) -> dt.datetime:
    """An aware UTC timestamp as naive local time in `tz` (session zone; default UTC)."""
    zone = zone_of(tz)
    if zone is UTC:
        return value.replace(tzinfo=None)
    return value.astimezone(zone).replace(tzinfo=None)


def from_local(naive: dt.datetime, tz=None) -> dt.datetime:
    """Naive local time in `tz` -> aware UTC (PostgreSQL's timestamp -> timestamptz)."""
    zone = zone_of(tz)
    if zone is UTC:
        return naive.replace(tzinfo=UTC)
    return localize(naive, zone)


# --------------------------------------------------------------------------- parsing --

_TOKEN_RE = re.compile(r"""
    (?P<time>\d+:\d+(?::\d+)?(?:[.,]\d*)?)
  | (?P<date>(?:\d+|[a-zA-Z]{3,9}(?=-\d))(?P<sep>[-/.])[0-9a-zA-Z]+(?:(?P=sep)[0-9a-zA-Z]+)?)
  | (?P<number>\d+(?:\.\d*)?)
  | (?P<signed>[+-]\d+(?::\d+)*(?:\.\d*)?)
  | (?P<special>[+-]infinity)
  | (?P<text>[a-zA-Z][a-zA-Z._]*(?:[0-9]+[a-zA-Z]+)?(?:/[a-zA-Z0-9_+-]+)*)
  | (?P<skip>[\s,]+)
""", re.X | re.I)


class _Fields:
    __slots__ = ("year", "month", "day", "hour", "minute", "second", "usec", "zone", "ampm",
                 "bc", "special", "year2", "have_time", "seen_t", "dow", "text")

    def __init__(self, text):
        self.year = self.month = self.day = None
        self.hour = self.minute = self.second = None
        self.usec = 0
        self.zone = None
        self.ampm = None
        self.bc = False
        self.special = None
        self.year2 = False
        self.have_time = False
        self.seen_t = False
        self.dow = None
        self.text = text


def _bad(kind: str, text: str):
    return InvalidDatetimeFormat(f'invalid input syntax for type {_TYPE_LABEL[kind]}: "{text}"')


def _range(text: str):
    return DatetimeFieldOverflow(f'date/time field value out of range: "{text}"')


def _frac_usec(frac: str) -> int:
    """Fraction digits (after the point) -> microseconds, rint() like PostgreSQL."""
    if not frac:
        return 0
    return round(float("0." + frac) * 1_000_000)


def _set_time(f: _Fields, tok: str, kind: str):
    if f.have_time:
        raise _bad(kind, f.text)
    sec_part = tok.replace(",", ".")
    parts = sec_part.split(":")
    f.hour = int(parts[0])
    f.minute = int(parts[1])
    if len(parts) > 2:
        s, _, frac = parts[2].partition(".")
        f.second = int(s)
        f.usec = _frac_usec(frac)
    else:
        if "." in parts[1]:  # mm:ss.ff form is not what PostgreSQL reads here either
            raise _bad(kind, f.text)
        f.second = 0
    f.have_time = True


def _set_date_parts(f: _Fields, parts: list[str], kind: str):
    if f.year is not None or f.month is not None:
        raise _bad(kind, f.text)
    named = [i for i, p in enumerate(parts) if not p.isdigit()]
    if named:
        if len(named) != 1 or parts[named[0]].lower() not in MONTHS or len(parts) != 3:
            raise _bad(kind, f.text)
        f.month = MONTHS[parts[named[0]].lower()]
        nums = [p for i, p in enumerate(parts) if i != named[0]]
        if named[0] == 0:  # Mon-DD-YYYY
            day, year = nums
        elif len(nums[0]) >= 3 or int(nums[0]) > 31:  # YYYY-Mon-DD
            year, day = nums
        else:  # DD-Mon-YYYY
            day, year = nums
        f.day = int(day)
        f.year = int(year)
        f.year2 = len(year) <= 2
        return
    if len(parts) == 2:
        raise _bad(kind, f.text)
    if len(parts[0]) >= 3:  # ISO / YMD
        if f.have_time or f.day is not None:
            raise _bad(kind, f.text)
        f.year, f.month, f.day = (int(p) for p in parts)
        return
    # DateStyle MDY
    f.month, f.day, f.year = (int(p) for p in parts)
    f.year2 = len(parts[2]) <= 2


def _apply_number(f: _Fields, tok: str, kind: str):
    if "." in tok:
        if f.have_time and f.second is not None:
            raise _bad(kind, f.text)
        raise _bad(kind, f.text)
    n = len(tok)
    if f.seen_t and not f.have_time and n in (2, 4, 6):
        f.hour = int(tok[:2])
        f.minute = int(tok[2:4]) if n >= 4 else 0
        f.second = int(tok[4:6]) if n >= 6 else 0
        f.have_time = True
        return
    if (f.year is not None and f.month is not None and f.day is not None
            and not f.have_time and n in (4, 6)):
        # '20240110 101112': a run of digits after a complete date is hhmm[ss]
        f.hour, f.minute = int(tok[:2]), int(tok[2:4])
        f.second = int(tok[4:6]) if n == 6 else 0
        f.have_time = True
        return
    if f.year is None and f.month is None and f.day is None and n in (6, 8):
        if n == 8:
            f.year, f.month, f.day = int(tok[:4]), int(tok[4:6]), int(tok[6:])
        else:
            f.year, f.month, f.day = int(tok[:2]), int(tok[2:4]), int(tok[4:])
            f.year2 = True
        return
    if f.have_time and f.hour is not None and f.year is not None and f.day is not None:
        raise _bad(kind, f.text)
    if f.month is not None and f.day is None and n <= 2:
        f.day = int(tok)
        return
    if f.year is None and (n >= 3 or (f.month is not None and f.day is not None)):
        f.year = int(tok)
        f.year2 = n <= 2
        return
    if f.day is None and f.month is not None:
        f.day = int(tok)
        return
    if f.day is None and f.month is None and f.year is None and n <= 2:
        f.day = int(tok)  # 'Tue, 10 Jan 2024': a day before the month name
        return
    raise _bad(kind, f.text)


def _apply_text(f: _Fields, word: str, kind: str, raw: str):
    w = word.lower()
    if w in MONTHS:
        if f.month is not None:
            raise _bad(kind, f.text)
        f.month = MONTHS[w]
    elif w in DAYS:
        f.dow = w
    elif w in ("am", "a.m.", "pm", "p.m."):
        f.ampm = w[0]
    elif w in ("bc", "b.c."):
        f.bc = True
    elif w in ("ad", "a.d."):
        pass
    elif w == "t":
        f.seen_t = True
    elif w == "allballs" and f.year is not None:
        if f.have_time:
            raise _bad(kind, f.text)
        f.hour = f.minute = f.second = 0
        f.have_time = True
    elif w in SPECIALS:
        if f.special is not None:
            raise _bad(kind, f.text)
        f.special = w
    elif w in ABBREVIATIONS or "/" in w or w in _zone_index():
        if f.zone is not None:
            raise _bad(kind, f.text)
        f.zone = resolve_zone(w)
    elif w.startswith("t") and w[1:] in MONTHS:
        raise _bad(kind, f.text)
    else:
        if re.fullmatch(r"[a-z]+/[a-z_/]+", w):
            raise InvalidParameterValue(f'time zone "{raw}" not recognized')
        raise _bad(kind, f.text)


def _parse_offset(tok: str, kind: str, text: str) -> dt.tzinfo:
    sign = -1 if tok[0] == "-" else 1
    body = tok[1:]
    if ":" in body:
        parts = body.split(":")
        h, m = int(parts[0]), int(parts[1])
        s = int(parts[2]) if len(parts) > 2 else 0
    elif len(body) <= 2:
        h, m, s = int(body), 0, 0
    elif len(body) == 4:
        h, m, s = int(body[:2]), int(body[2:]), 0
    elif len(body) == 6:
        h, m, s = int(body[:2]), int(body[2:4]), int(body[4:])
    else:
        raise _bad(kind, text)
    if h > 15 or m > 59 or s > 59:
        from .numerics import InvalidTimeZoneDisplacement
        raise InvalidTimeZoneDisplacement(
            f'time zone displacement out of range: "{text}"')
    return dt.timezone(dt.timedelta(seconds=sign * (h * 3600 + m * 60 + s)))


def _decode(text: str, kind: str) -> _Fields:
    f = _Fields(text)
    pos = 0
    s = text.strip()
    if not s:
        raise _bad(kind, text)
    while pos < len(s):
        m = _TOKEN_RE.match(s, pos)
        if not m or m.end() == pos:
            raise _bad(kind, text)
        pos = m.end()
        g = m.lastgroup
        tok = m.group(g) if g != "sep" else m.group("date")
        if m.group("date") is not None:
            g, tok = "date", m.group("date")
        if g == "skip":
            continue
        if g == "time":
            _set_time(f, tok, kind)
        elif g == "date":
            sep = m.group("sep")
            if sep == "." and tok.count(".") == 1:
                raise _bad(kind, text)
            parts = tok.split(sep)
            if len(parts) == 2 and parts[1][-1:].isalpha() and sep == "-":
                raise _bad(kind, text)
            _set_date_parts(f, parts, kind)
        elif g == "number":
            # digits glued to a 'T' (ISO basic) or a zone: '20240102T030405'
            _apply_number(f, tok, kind)
        elif g == "signed":
            if f.have_time or (kind in ("timetz", "timestamptz", "timestamp", "time")
                               and f.year is not None and f.hour is not None):
                if f.zone is not None:
                    raise _bad(kind, text)
                f.zone = _parse_offset(tok, kind, text)
            else:
                raise _bad(kind, text)
        elif g == "special":
            f.special = tok.lower()
        elif g == "text":
            word = tok
            # ISO 'T' glued to a time: 'T03:04:05' or '2024-01-02T03:04'
            if word[:1] in "tT" and len(word) == 1:
                f.seen_t = True
            else:
                _apply_text(f, word, kind, tok)
    return f


_ISO_RE = re.compile(
    r"\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt]|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d*))?)?)?"
    r"\s*(?:(Z|z|[+-]\d{1,2}(?::?\d{2}(?::\d{2})?)?))?\s*\Z")


def _fast_iso(text: str):
    """The ISO 8601 forms (nearly all real input) without the general decoder."""
    m = _ISO_RE.match(text)
    if not m:
        return None
    f = _Fields(text)
    f.year, f.month, f.day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if m.group(4) is not None:
        f.hour, f.minute = int(m.group(4)), int(m.group(5))
        f.second = int(m.group(6) or 0)
        f.usec = _frac_usec(m.group(7) or "")
        f.have_time = True
    z = m.group(8)
    if z:
        f.zone = UTC if z in "Zz" else _parse_offset(z, "timestamptz", text)
    return f


def _split_iso_t(text: str) -> str:
    # '2024-01-02T03:04:05' and '20240102T030405': make the T a separate token
    return re.sub(r"(?<=\d)[Tt](?=\d)", " T ", text)


def _fields(text: str, kind: str) -> _Fields:
    f = _fast_iso(text)
    if f is None:
        f = _decode(_split_iso_t(text), kind)
        f.text = text
    return f


def _resolve_date(f: _Fields, kind: str, text: str) -> dt.date:
    if f.year is None or f.month is None or f.day is None:
        raise _bad(kind, text)
    year = f.year
    if f.year2:
        year += 2000 if year < 70 else 1900
    if f.bc:
        raise FeatureNotSupported(f'BC dates are not supported: "{text}"')
    if not 1 <= f.month <= 12 or f.day < 1:
        raise _range(text)
    if year < 1 or year > 9999:
        raise DatetimeFieldOverflow(f'date out of range: "{text}"')
    try:
        return dt.date(year, f.month, f.day)
    except ValueError:
        raise _range(text) from None


def _resolve_time(f: _Fields, kind: str, text: str) -> tuple[int, int, int, int, int]:
    """(hour, minute, second, usec, extra_days) with AM/PM and 24:00 / :60 carry."""
    if f.hour is None:
        if f.ampm:
            raise _bad(kind, text)
        return 0, 0, 0, 0, 0
    h, mi, s, us = f.hour, f.minute, f.second or 0, f.usec
    if f.ampm:
        if h > 12 or h < 1 and False:
            raise _range(text)
        if h > 12:
            raise _range(text)
        if f.ampm == "a" and h == 12:
            h = 0
        elif f.ampm == "p" and h != 12:
            h += 12
    if mi > 59 or s > 60 or h > 24 or (h == 24 and (mi or s or us)):
        raise _range(text)
    total = ((h * 60 + mi) * 60 + s) * 1_000_000 + us
    days, rem = divmod(total, 86_400_000_000)
    secs, us = divmod(rem, 1_000_000)
    return secs // 3600, secs // 60 % 60, secs % 60, us, days


def _special(f: _Fields, kind: str, text: str, now: dt.datetime | None, tz):
    sp = f.special
    other = (f.year is not None or f.month is not None or f.hour is not None
             or f.day is not None)
    if sp in ("infinity", "+infinity", "-infinity"):
        if other or kind in ("time", "timetz"):
            raise _bad(kind, text)
        return NEG_INFINITY if sp == "-infinity" else POS_INFINITY
    if sp == "epoch":
        if other or kind in ("time", "timetz"):
            raise _bad(kind, text)
        return EPOCH_1970 if kind != "timestamptz" else EPOCH_1970.replace(tzinfo=UTC)
    if sp == "allballs":
        if kind not in ("time", "timetz", "timestamp", "timestamptz") or other:
            raise _bad(kind, text)
        return dt.time(0) if kind == "time" else dt.time(0, tzinfo=UTC)
    now = now or dt.datetime.now(UTC)
    local_now = to_local(now, tz)
    if sp == "now":
        if other:
            raise _bad(kind, text)
        if kind == "timestamptz":
            return now
        if kind == "timestamp":
            return local_now
        if kind == "date":
            return local_now.date()
        if kind == "time":
            return local_now.time()
        return local_now.time().replace(tzinfo=dt.timezone(local_now.astimezone(zone_of(tz))
                                                           .utcoffset() or dt.timedelta(0)))
    if kind in ("time", "timetz"):
        raise _bad(kind, text)
    day = local_now.date() + dt.timedelta(days={"today": 0, "tomorrow": 1,
                                                "yesterday": -1}[sp])
    return day


def parse_date(text: str, now: dt.datetime | None = None, tz=None):
    """date input ('2024-01-02', 'January 8, 1999', '1/8/1999', 'today', 'infinity')."""
    f = _fields(text, "date")
    if f.special:
        v = _special(f, "date", text, now, tz)
        return v.date() if isinstance(v, dt.datetime) else v
    return _resolve_date(f, "date", text)


def parse_timestamp(text: str, now: dt.datetime | None = None, tz=None, with_tz=False):
    """timestamp / timestamptz input. A zone in the text is ignored for timestamp (as in
    PostgreSQL); for timestamptz a missing zone means the session zone `tz` (default
    UTC). Returns naive datetime, aware UTC datetime, or an infinity sentinel."""
    kind = "timestamptz" if with_tz else "timestamp"
    f = _fields(text, kind)
    if f.special:
        v = _special(f, kind, text, now, tz)
        if isinstance(v, InfiniteDatetime):
            return v
        if isinstance(v, dt.datetime):
            return v
        if f.have_time:
            h, mi, s, us, extra = _resolve_time(f, kind, text)
            naive = dt.datetime.combine(v, dt.time(h, mi, s, us)) + dt.timedelta(days=extra)
        else:
            naive = dt.datetime.combine(v, dt.time(0))
        return from_local(naive, f.zone or tz) if with_tz else naive
    d = _resolve_date(f, kind, text)
    h, mi, s, us, extra = _resolve_time(f, kind, text)
    naive = dt.datetime(d.year, d.month, d.day, h, mi, s, us)
    if extra:
        try:
            naive += dt.timedelta(days=extra)
        except OverflowError:
            raise DatetimeFieldOverflow(f'timestamp out of range: "{text}"') from None
    if not with_tz:
        return naive
    try:
        return from_local(naive, f.zone if f.zone is not None else tz)
    except OverflowError:
        raise DatetimeFieldOverflow(f'timestamp out of range: "{text}"') from None


def parse_time(text: str, with_tz: bool = False, now=None, tz=None):
    """time / timetz input ('04:05', '04:05:06.789', '04:05 PM', 'allballs',
    '12:00:00+02'). A date in front is accepted and ignored, as in PostgreSQL."""
    kind = "timetz" if with_tz else "time"
    f = _fields(text, kind)
    if f.special:
        return _special(f, kind, text, now, tz)
    if f.hour is None:
        raise _bad(kind, text)
    h, mi, s, us, extra = _resolve_time(f, kind, text)
    if extra:
        raise FeatureNotSupported(f'time value 24:00:00 is not supported: "{text}"')
    if not with_tz:
        return dt.time(h, mi, s, us)
    zone = f.zone
    if zone is None or not isinstance(zone, dt.timezone):
        z = zone_of(tz) if zone is None else zone
        ref = (now or dt.datetime.now(UTC))
        off = ref.astimezone(z).utcoffset() if z is not UTC else dt.timedelta(0)
        zone = dt.timezone(off)
    return dt.time(h, mi, s, us, tzinfo=zone)


# ---------------------------------------------------------------------------- output --


def _frac(us: int) -> str:
    return ("." + f"{us:06d}".rstrip("0")) if us else ""


def format_offset(off: dt.timedelta) -> str:
    """'+00', '+05:30', '-08', '-04:56:02' (PostgreSQL's ISO zone suffix)."""
    secs = int(off.total_seconds())
    sign = "-" if secs < 0 else "+"
    secs = abs(secs)
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    out = f"{sign}{h:02d}"
    if m or s:
        out += f":{m:02d}"
    if s:
        out += f":{s:02d}"
    return out


def format_date(d) -> str:
    if isinstance(d, InfiniteDatetime):
        return str(d)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def format_time(t: dt.time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}{_frac(t.microsecond)}"


def format_timetz(t: dt.time) -> str:
    off = t.utcoffset() or dt.timedelta(0)
    return format_time(t) + format_offset(off)


def format_timestamp(v) -> str:
    if isinstance(v, InfiniteDatetime):
        return str(v)
    return f"{format_date(v)} {format_time(v.time())}"


def format_timestamptz(v, tz=None) -> str:
    """Aware timestamp printed in the session zone `tz` (default UTC) with its offset."""
    if isinstance(v, InfiniteDatetime):
        return str(v)
    zone = zone_of(tz)
    local = v.astimezone(zone)
    return format_timestamp(local.replace(tzinfo=None)) + format_offset(local.utcoffset())


# --------------------------------------------------------------------- precision --

_SCALES = [1_000_000, 100_000, 10_000, 1000, 100, 10, 1]


def round_timestamp(v, precision: int | None):
    """timestamp(p) / timestamptz(p): round to p fractional digits like PostgreSQL's
    AdjustTimestampForTypmod (half away from zero, counted from 2000-01-01)."""
    if precision is None or precision >= 6 or isinstance(v, InfiniteDatetime):
        return v
    scale = _SCALES[precision]
    aware = v.tzinfo is not None
    naive = v.replace(tzinfo=None)
    us = (naive - EPOCH_2000) // dt.timedelta(microseconds=1)
    if us >= 0:
        us = (us + scale // 2) // scale * scale
    else:
        us = -(((-us) + scale // 2) // scale * scale)
    out = EPOCH_2000 + dt.timedelta(microseconds=us)
    return out.replace(tzinfo=UTC) if aware else out


def round_time(t: dt.time, precision: int | None) -> dt.time:
    if precision is None or precision >= 6:
        return t
    scale = _SCALES[precision]
    us = ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond
    us = (us + scale // 2) // scale * scale
    if us >= 86_400_000_000:
        us = 86_400_000_000 - scale  # 24:00:00 cannot be held by datetime.time
    secs, micro = divmod(us, 1_000_000)
    return dt.time(secs // 3600, secs // 60 % 60, secs % 60, micro, tzinfo=t.tzinfo)


def timestamp_micros(v: dt.datetime) -> int:
    """Microseconds since 1970-01-01 (naive: as wall time; aware: UTC)."""
    naive = v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo is not None else v
    return (naive - EPOCH_1970) // dt.timedelta(microseconds=1)


def micros_to_timestamp(us: int, aware: bool = False) -> dt.datetime:
    try:
        v = EPOCH_1970 + dt.timedelta(microseconds=us)
    except OverflowError:
        raise DatetimeFieldOverflow("timestamp out of range") from None
    return v.replace(tzinfo=UTC) if aware else v
