"""Putting both engines' result values into one comparable shape.

immusql returns psycopg's default Python shapes (int, float, Decimal, bool, str, bytes,
date/time/datetime, UUID, lists, json as str) plus an interval object. psycopg is set up
(`configure_psycopg`) to return json/jsonb as text and intervals as exact `Interval`
triples instead of lossy timedeltas. `normalise` then maps every value to a hashable,
type-tagged form whose equality is exactly "PostgreSQL would print the same thing":

* numeric keeps its scale (`1.0` and `1.00` differ, as in PostgreSQL's output);
* floats compare by repr (so -0.0 != 0.0 and NaN == NaN, as PostgreSQL prints them);
* bool is not int; timestamptz compares as the same instant in UTC;
* intervals compare as (months, days, microseconds), PostgreSQL's own representation.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Any, NamedTuple


class Interval(NamedTuple):
    """PostgreSQL's interval: months, days and microseconds are independent fields
    ('1 mon' != '30 days' != '720:00:00')."""
    months: int
    days: int
    microseconds: int


_INTERVAL_PART = re.compile(
    r"\s*(?:([+-]?\d+)\s+(years?|mons?|days?)"
    r"|([+-])?(\d+):(\d+):(\d+)(?:\.(\d+))?)\s*")


def parse_interval(text: str) -> Interval:
    """PostgreSQL interval text in the default `postgres` IntervalStyle, e.g.
    '1 year 2 mons -3 days +04:05:06.5' -> Interval(14, -3, 14706500000)."""
    months = days = micros = 0
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _INTERVAL_PART.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"not a PostgreSQL interval: {text!r}")
        pos = m.end()
        if m.group(1) is not None:
            n, unit = int(m.group(1)), m.group(2)
            if unit.startswith("year"):
                months += 12 * n
            elif unit.startswith("mon"):
                months += n
            else:
                days += n
        else:
            sign, h, mi, s, frac = m.group(3, 4, 5, 6, 7)
            us = (int(h) * 3600 + int(mi) * 60 + int(s)) * 1_000_000
            us += int((frac or "0").ljust(6, "0")[:6])
            micros += -us if sign == "-" else us
    return Interval(months, days, micros)


def as_interval(value: Any) -> Interval | None:
    """An Interval for anything interval-like: our Interval, an object with months / days /
    microseconds attributes (immusql's), PostgreSQL interval text, or a timedelta (which
    cannot hold months and folds 24 hours into a day, so it only matches intervals that
    print the same way)."""
    if isinstance(value, Interval):
        return value
    if isinstance(value, dt.timedelta):
        return Interval(0, value.days, value.seconds * 1_000_000 + value.microseconds)
    if all(hasattr(value, a) for a in ("months", "days", "microseconds")):
        return Interval(int(value.months), int(value.days), int(value.microseconds))
    return None


def normalise(value: Any) -> Any:
    """A hashable, type-tagged form of a result value; equal iff PostgreSQL would output
    the same value of the same kind."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, Decimal):
        return ("numeric", str(value))
    if isinstance(value, str):
        return ("text", value)
    if isinstance(value, bytes | bytearray | memoryview):
        return ("bytes", bytes(value))
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return ("timestamptz", value.astimezone(dt.timezone.utc).isoformat())
        return ("timestamp", value.isoformat())
    if isinstance(value, dt.date):
        return ("date", value.isoformat())
    if isinstance(value, dt.time):
        return ("timetz" if value.tzinfo is not None else "time", value.isoformat())
    if isinstance(value, uuid.UUID):
        return ("uuid", str(value))
    interval = as_interval(value)   # before tuples: Interval is a NamedTuple
    if interval is not None:
        return ("interval", *interval)
    if isinstance(value, list | tuple):
        return ("array", tuple(normalise(v) for v in value))
    return ("other", type(value).__name__, repr(value))


def normalise_row(row) -> tuple:
    return tuple(normalise(v) for v in row)


def show(value: Any) -> str:
    """A short, unambiguous rendering of a raw result value for diffs."""
    if isinstance(value, Decimal):
        return f"{value}::numeric"
    if isinstance(value, float):
        return f"{value!r}::float"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return f"{value.isoformat()}::{type(value).__name__}"
    if isinstance(value, uuid.UUID):
        return f"{value}::uuid"
    interval = None if isinstance(value, str | bytes) else as_interval(value)
    if interval is not None:
        return "interval(months={}, days={}, us={})".format(*interval)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return repr(value)


def show_row(row) -> str:
    return "(" + ", ".join(show(v) for v in row) + ")"


def configure_psycopg(conn) -> None:
    """Make a psycopg 3 connection return immusql's shapes: json/jsonb as text (PostgreSQL's
    exact output text), intervals as exact Interval triples. Registered on the connection
    only, so psycopg's global defaults stay untouched (arrays of these types follow)."""
    from psycopg.adapt import Loader
    from psycopg.types.string import TextLoader

    class IntervalLoader(Loader):
        def load(self, data) -> Interval:
            return parse_interval(bytes(data).decode())

    for name in ("json", "jsonb"):
        conn.adapters.register_loader(name, TextLoader)
    conn.adapters.register_loader("interval", IntervalLoader)
