"""PEP 249's module interface: `immusql` is the DB-API module."""

from __future__ import annotations

import datetime

import pytest

import immusql


def test_module_attributes():
    assert (immusql.apilevel, immusql.threadsafety, immusql.paramstyle) == ("2.0", 2,
                                                                           "pyformat")
    for name in ("Warning", "Error", "InterfaceError", "DatabaseError", "DataError",
                 "OperationalError", "IntegrityError", "InternalError", "ProgrammingError",
                 "NotSupportedError"):
        assert issubclass(getattr(immusql, name), Exception), name
    assert issubclass(immusql.IntegrityError, immusql.DatabaseError)
    assert issubclass(immusql.DatabaseError, immusql.Error)
    with pytest.raises(AttributeError):
        immusql.NoSuchThing  # noqa: B018


def test_type_objects_compare_with_description_type_codes(tmp_path):
    conn = immusql.connect(tmp_path)
    cur = conn.cursor()
    cur.execute("SELECT 'a'::text, 1, 1.5, now(), '\\x00'::bytea, current_date")
    codes = [d.type_code for d in cur.description]
    assert codes[0] == immusql.STRING and codes[1] == immusql.NUMBER
    assert codes[2] == immusql.NUMBER and codes[3] == immusql.DATETIME
    assert codes[4] == immusql.BINARY and codes[5] == immusql.DATETIME
    assert codes[0] != immusql.NUMBER
    conn.close()


def test_constructors():
    assert immusql.Date(2024, 2, 29) == datetime.date(2024, 2, 29)
    assert immusql.Binary(b"\x00") == b"\x00"
    ts = immusql.TimestampFromTicks(0)
    assert isinstance(ts, datetime.datetime)
    assert immusql.DateFromTicks(0) == ts.date() and immusql.TimeFromTicks(0) == ts.time()
