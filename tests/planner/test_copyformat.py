"""COPY's data formats without an engine: the planner/copyformat package.

The expected values (rows, messages, SQLSTATEs and CONTEXT lines) were taken from
PostgreSQL 15; tests/planner/test_copy.py also compares the parser with a live PostgreSQL
on fixed and random inputs. Here: option validation, every escape and CSV quoting rule,
line ends, the end-of-data marker, invalid UTF-8, chunks split at every byte offset, the
fast path against the line-by-line port, and format -> parse round trips.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from immusql import errors
from immusql.planner import copyformat as cf


def parse(data, opts=(), names=("a", "b"), chunks=None, fast=True, force_not_null=(),
          force_null=()):
    """('ok', rows) or ('err', sqlstate, message, context) for `data` fed in `chunks`
    (a list of byte strings; default: one chunk)."""
    o = cf.parse_options(tuple(opts), is_from=True)
    fnn = [list(names).index(n) for n in o.force_not_null] or force_not_null
    fn = [list(names).index(n) for n in o.force_null] or force_null
    p = cf.CopyParser(o, list(names), "t", fnn, fn)
    p.fast = fast
    rows = []
    try:
        for ch in (chunks if chunks is not None else [data]):
            for batch in p.feed(ch):
                assert len(batch.rows) == len(batch.linenos) == len(batch.lines)
                rows.extend(tuple(r) for r in batch.rows)
        for batch in p.finish():
            rows.extend(tuple(r) for r in batch.rows)
    except errors.Error as e:
        return ("err", e.sqlstate, str(e), e.context)
    return ("ok", rows)


CSV = (("format", "csv"),)


# ------------------------------------------------------------------------ options ----

@pytest.mark.parametrize("opts, is_from, sqlstate, message", [
    ((("format", "binary"), ("header", True)), True, "0A000",
     "cannot specify HEADER in BINARY mode"),
    ((("delimiter", "ab"),), True, "0A000",
     "COPY delimiter must be a single one-byte character"),
    ((("delimiter", "é"),), True, "0A000",
     "COPY delimiter must be a single one-byte character"),
    ((("delimiter", ""),), True, "0A000",
     "COPY delimiter must be a single one-byte character"),
    ((("delimiter", "\n"),), True, "22023",
     "COPY delimiter cannot be newline or carriage return"),
    ((("format", "csv"), ("delimiter", "\r")), True, "22023",
     "COPY delimiter cannot be newline or carriage return"),
    ((("delimiter", "\\"),), True, "22023", 'COPY delimiter cannot be "\\"'),
    ((("delimiter", "a"),), True, "22023", 'COPY delimiter cannot be "a"'),
    ((("delimiter", "."),), True, "22023", 'COPY delimiter cannot be "."'),
    ((("delimiter", "7"),), True, "22023", 'COPY delimiter cannot be "7"'),
    ((("format", "csv"), ("quote", "ab")), True, "0A000",
     "COPY quote must be a single one-byte character"),
    ((("format", "csv"), ("quote", "")), True, "0A000",
     "COPY quote must be a single one-byte character"),
    ((("format", "csv"), ("escape", "")), True, "0A000",
     "COPY escape must be a single one-byte character"),
    ((("format", "csv"), ("quote", ",")), True, "22023",
     "COPY delimiter and quote must be different"),
    ((("quote", '"'),), True, "0A000", "COPY quote available only in CSV mode"),
    ((("escape", "x"),), True, "0A000", "COPY escape available only in CSV mode"),
    ((("force_quote", ("a",)),), False, "0A000",
     "COPY force quote available only in CSV mode"),
    ((("format", "csv"), ("force_quote", ("a",))), True, "0A000",
     "COPY force quote only available using COPY TO"),
    ((("format", "csv"), ("force_quote", "*")), True, "0A000",
     "COPY force quote only available using COPY TO"),
    ((("force_not_null", ("a",)),), True, "0A000",
     "COPY force not null available only in CSV mode"),
    ((("format", "csv"), ("force_not_null", ("a",))), False, "0A000",
     "COPY force not null only available using COPY FROM"),
    ((("force_null", ("a",)),), True, "0A000", "COPY force null available only in CSV mode"),
    ((("format", "csv"), ("force_null", ("a",))), False, "0A000",
     "COPY force null only available using COPY FROM"),
    ((("null", "\n"),), True, "22023",
     "COPY null representation cannot use newline or carriage return"),
    ((("format", "csv"), ("null", '"')), True, "0A000",
     "CSV quote character must not appear in the NULL specification"),
    ((("format", "csv"), ("null", ",")), True, "0A000",
     "COPY delimiter must not appear in the NULL specification"),
    ((("null", "a\tb"),), True, "0A000",
     "COPY delimiter must not appear in the NULL specification"),
    ((("format", "foo"),), True, "22023", 'COPY format "foo" not recognized'),
    ((("format", "csv"), ("format", "csv")), True, "42601", "conflicting or redundant options"),
    ((("header", "foo"),), True, "42601", 'header requires a Boolean value or "match"'),
    ((("header", 2),), True, "42601", 'header requires a Boolean value or "match"'),
    ((("header", "match"),), False, "0A000", 'cannot use "match" with HEADER in COPY TO'),
    ((("encoding", "nope"),), True, "22023",
     'argument to option "encoding" must be a valid encoding name'),
    ((("bogus", 1),), True, "42601", 'option "bogus" not recognized'),
    ((("format", "binary"), ("null", "x")), True, "42601", "cannot specify NULL in BINARY mode"),
    ((("format", "binary"), ("delimiter", ",")), True, "42601",
     "cannot specify DELIMITER in BINARY mode"),
])
def test_options_are_validated_as_postgresql(opts, is_from, sqlstate, message):
    with pytest.raises(errors.Error) as exc:
        cf.parse_options(opts, is_from)
    assert (exc.value.sqlstate, str(exc.value)) == (sqlstate, message)


def test_option_defaults_and_accepted_values():
    o = cf.parse_options((), True)
    assert (o.format, o.delimiter, o.null, o.header) == ("text", "\t", "\\N", False)
    o = cf.parse_options(CSV, True)
    assert (o.delimiter, o.null, o.quote, o.escape) == (",", "", '"', '"')
    o = cf.parse_options(CSV + (("quote", "'"),), True)
    assert o.escape == "'"  # ESCAPE defaults to QUOTE
    assert cf.parse_options((("header", "match"),), True).header == "match"
    assert cf.parse_options((("header", "ON"),), True).header is True  # PG 15: text too
    assert cf.parse_options((("header", 0),), True).header is False
    assert cf.parse_options((("header", None),), True).header is True
    assert cf.parse_options(CSV + (("delimiter", "."),), True).delimiter == "."
    assert cf.parse_options((("null", "a\\b"),), True).null == "a\\b"
    assert cf.parse_options((("encoding", "UTF-8"),), True).encoding == "UTF-8"
    with pytest.raises(errors.FeatureNotSupported):
        cf.parse_options((("encoding", "latin1"),), True)  # valid, but not UTF8
    assert cf.parse_options((("freeze", True),), True).freeze is True


# ------------------------------------------------------------------------ text ---------

@pytest.mark.parametrize("data, rows", [
    (b"1\tx\n2\ty\n", [("1", "x"), ("2", "y")]),
    (b"\\N\t\\N\n", [(None, None)]),
    (b"1\t\\N\\N\n", [("1", "NN")]),  # only the whole raw field is NULL
    (b"1\t\n", [("1", "")]),
    (b"1\t\\b\\f\\n\\r\\t\\v\\\\\n", [("1", "\b\f\n\r\t\v\\")]),
    (b"1\t\\x41\\101\\u\\N\\\\\n", [("1", "AAuN\\")]),  # hex, octal, any other char
    (b"1\t\\x4\\x4g\\xg\\7\\0101\n", [("1", "\x04\x04gxg\x07\x081")]),  # short forms
    (b"1\t\\xc3\\xa9\\303\\251\n", [("1", "éé")]),  # escaped bytes make UTF-8
    (b"1\ta\\\tb\n", [("1", "a\tb")]),  # an escaped delimiter is data
    (b"1\ta\\\nb\n", [("1", "a\nb")]),  # so is an escaped newline
    (b"1\tx\\", [("1", "x")]),  # a backslash at the very end is dropped
    (b"1\tx", [("1", "x")]),  # the last line needs no line end
    (b"1\tx\r\n2\ty\r\n", [("1", "x"), ("2", "y")]),
    (b"1\tx\r2\ty\r", [("1", "x"), ("2", "y")]),
    (b"1\tx\n\\.\n3\tgarbage\xff\n", [("1", "x")]),  # after \. nothing counts
    (b"1\tx\\.\n", [("1", "x")]),  # text: \. ends the data even after data
    (b"1\tx\r\n\\.\r\n", [("1", "x")]),
    (b"", []),
    (b"\\.\n", []),
])
def test_text_rows(data, rows):
    assert parse(data) == ("ok", rows)
    assert parse(data, fast=False) == ("ok", rows)


def test_text_null_and_delimiter_options():
    assert parse(b"\tx\n\\N\t\n", [("null", "")]) == ("ok", [(None, "x"), ("N", None)])
    assert parse(b"a|b\\|c\n", [("delimiter", "|")]) == ("ok", [("a", "b|c")])
    assert parse(b"NULL\t\\NULL\n", [("null", "NULL")]) == ("ok", [(None, "NULL")])
    assert parse(b"h1\th2\n1\t2\n", [("header", True)]) == ("ok", [("1", "2")])
    assert parse(b"a\tb\n1\t2\n", [("header", "match")]) == ("ok", [("1", "2")])


def test_zero_columns():
    assert parse(b"\n\n", names=()) == ("ok", [(), ()])
    assert parse(b"\nx\n", names=()) == (
        "err", "22P04", "extra data after last expected column", 'COPY t, line 2: "x"')
    assert parse(b"\n,\n", CSV, names=()) == (
        "err", "22P04", "extra data after last expected column", 'COPY t, line 2: ","')


# ------------------------------------------------------------------------ CSV ----------

@pytest.mark.parametrize("opts, data, rows", [
    ((), b'1,"a,b"\n2,""\n3,\n4,"x""y"\n',
     [("1", "a,b"), ("2", ""), ("3", None), ("4", 'x"y')]),
    ((), b'1,"multi\nline"\n2,z\n', [("1", "multi\nline"), ("2", "z")]),
    ((), b'1,"abc"def\n', [("1", "abcdef")]),
    ((), b'1,ab"c"d\n', [("1", "abcd")]),
    ((), b"1, x \n", [("1", " x ")]),  # no trimming
    ((), b"1,\\.\n", [("1", "\\.")]),  # \. ends the data only alone on a line
    ((), b"\\.\n", []),
    ((), b"1,x\n\\.\n2,y\n", [("1", "x")]),
    ((), b'1,"a\\.\n\\.\n"\n', [("1", "a\\.\n\\.\n")]),  # inside quotes it is data
    ((), b"1,x\r\n2,y\r\n", [("1", "x"), ("2", "y")]),
    ((), b'1,"a\r\nb"\r\n2,y\r\n', [("1", "a\r\nb"), ("2", "y")]),
    ((), b",\n", [(None, None)]),
    ((), b'"",""\n', [("", "")]),  # quoted empty string is not NULL
    ((("escape", "\\"),), b'1,"a\\"b\\\\c\\d"\n', [("1", 'a"b\\c\\d')]),
    ((("escape", "\\"),), b'1,"a""b"\n', [("1", "ab")]),  # "" is no escape then
    ((("quote", "'"), ("escape", "\\")), b"1,'a''b'\n", [("1", "ab")]),
    ((("null", "NULL"),), b'1,NULL\n2,"NULL"\n3,\n', [("1", None), ("2", "NULL"), ("3", "")]),
    ((("force_not_null", ("b",)),), b"1,\n", [("1", "")]),
    ((("force_null", ("b",)),), b'1,""\n2,\n3,"x"\n', [("1", None), ("2", None), ("3", "x")]),
    ((("force_null", ("b",)), ("null", "N")), b'1,"N"\n2,N\n', [("1", None), ("2", None)]),
    ((("force_not_null", ("b",)), ("force_null", ("b",))), b'1,""\n2,\n',
     [("1", None), ("2", "")]),
    ((("header", True),), b"a,b\n1,x\n", [("1", "x")]),
    ((("header", True),), b"", []),
    ((("header", True),), b'"multi\nline header",b\n1,x\n', [("1", "x")]),
    ((("header", "match"),), b'"a","b"\n1,x\n', [("1", "x")]),
    ((("delimiter", ";"),), b"1;a,b\n", [("1", "a,b")]),
])
def test_csv_rows(opts, data, rows):
    assert parse(data, CSV + opts) == ("ok", rows)
    assert parse(data, CSV + opts, fast=False) == ("ok", rows)


def test_csv_backslash_dot_at_the_end_is_data():
    assert parse(b"1\n\\.", CSV, names=("a",)) == ("ok", [("1",), ("\\.",)])
    assert parse(b"\\.x\n", CSV, names=("a",)) == ("ok", [("\\.x",)])
    # "\." at a line start followed by a quote: the quote starts a quoted field
    assert parse(b'\\."a\nb"\n', CSV, names=("a",)) == ("ok", [('\\.a\nb',)])


# ------------------------------------------------------------------------ errors -------

@pytest.mark.parametrize("opts, data, error", [
    ((), b"1\tx\n2\n", ("22P04", 'missing data for column "b"', 'COPY t, line 2: "2"')),
    ((), b"1\tx\textra\n",
     ("22P04", "extra data after last expected column", 'COPY t, line 1: "1\tx\textra"')),
    ((), b"1\tx\n\\.", ("22P04", "end-of-copy marker corrupt", "COPY t, line 2")),
    ((), b"1\tx\n\\.x\n", ("22P04", "end-of-copy marker corrupt", "COPY t, line 2")),
    ((), b"1\tx\r\n2\ty\n", ("22P04", "literal newline found in data", "COPY t, line 2")),
    ((), b"1\tx\n2\ty\r\n",
     ("22P04", "literal carriage return found in data", "COPY t, line 2")),
    ((), b"1\tx\r2\ty\n", ("22P04", "literal newline found in data", "COPY t, line 2")),
    ((), b"1\tx\r\n\\.\n", ("22P04", "end-of-copy marker does not match previous newline "
                                     "style", "COPY t, line 2")),
    ((), b"1\tx\n\\.\r\n", ("22P04", "end-of-copy marker does not match previous newline "
                                     "style", "COPY t, line 2")),
    ((), b"1\t\\xff\n", ("22021", 'invalid byte sequence for encoding "UTF8": 0xff',
                         'COPY t, line 1: "1\t\\xff"')),
    ((), b"1\t\\0\n", ("22021", 'invalid byte sequence for encoding "UTF8": 0x00',
                       'COPY t, line 1: "1\t\\0"')),
    ((), b"1\tab\xffcd\n", ("22021", 'invalid byte sequence for encoding "UTF8": 0xff',
                            "COPY t, line 1")),
    ((), b"1\tab\x00cd\n", ("22021", 'invalid byte sequence for encoding "UTF8": 0x00',
                            "COPY t, line 1")),
    ((), b"1\t\xe2\x82\n",
     ("22021", 'invalid byte sequence for encoding "UTF8": 0xe2 0x82 0x0a', "COPY t, line 1")),
    ((), b"1\tx\n2\t\xe2\x82",
     ("22021", 'invalid byte sequence for encoding "UTF8": 0xe2 0x82', "COPY t, line 2")),
    (CSV, b'1,"unterminated\n',
     ("22P04", "unterminated CSV quoted field", 'COPY t, line 1: "1,"unterminated\n"')),
    (CSV, b'1,x\n2,"y', ("22P04", "unterminated CSV quoted field", 'COPY t, line 2: "2,"y"')),
    (CSV, b"1,x,\n", ("22P04", "extra data after last expected column",
                      'COPY t, line 1: "1,x,"')),
    (CSV, b"\n", ("22P04", 'missing data for column "b"', 'COPY t, line 1: ""')),
    (CSV, b"1,x\n2,y\r\n", ("22P04", "unquoted carriage return found in data",
                            "COPY t, line 2")),
    (CSV, b"1,x\r\n2,y\n", ("22P04", "unquoted newline found in data", "COPY t, line 2")),
    (CSV, b"1,x\n\\.\r\n", ("22P04", "end-of-copy marker does not match previous newline "
                                     "style", "COPY t, line 2")),
    # a quoted line end counts as a line (not on the first line: its style is unknown)
    (CSV, b'1,"a\nb\nc"\n2,y,z\n', ("22P04", "extra data after last expected column",
                                    'COPY t, line 2: "2,y,z"')),
    (CSV, b'1,x\n2,"a\nb"\n3,y,\n', ("22P04", "extra data after last expected column",
                                     'COPY t, line 4: "3,y,"')),
    (CSV, b'1,"a\r\nb"\r\nx,y,z\r\n', ("22P04", "extra data after last expected column",
                                       'COPY t, line 3: "x,y,z"')),
    (CSV + (("header", "match"),), b"a,c\n1,x\n",
     ("22P04", 'column name mismatch in header line field 2: got "c", expected "b"',
      'COPY t, line 1: "a,c"')),
    (CSV + (("header", "match"),), b"a\n1,x\n",
     ("22P04", "wrong number of fields in header line: got 1, expected 2",
      'COPY t, line 1: "a"')),
    (CSV + (("header", "match"),), b",b\n1,x\n",
     ("22P04", 'column name mismatch in header line field 1: got null value (""), '
               'expected "a"', 'COPY t, line 1: ",b"')),
    (CSV + (("header", "match"),), b"",
     ("22P04", "wrong number of fields in header line: got 1, expected 2",
      'COPY t, line 1: ""')),
    ((("header", "match"),), b"a\t\\N\n1\tx\n",
     ("22P04", 'column name mismatch in header line field 2: got null value ("\\N"), '
               'expected "b"', 'COPY t, line 1: "a\t\\N"')),
])
def test_errors_have_postgresql_sqlstate_message_and_context(opts, data, error):
    assert parse(data, opts) == ("err",) + error
    assert parse(data, opts, fast=False) == ("err",) + error


def test_rows_before_an_error_come_first():
    o = cf.parse_options((), True)
    p = cf.CopyParser(o, ["a", "b"], "t")
    got = []
    with pytest.raises(errors.BadCopyFileFormat):
        for batch in p.feed(b"1\tx\n2\ty\n3\n4\tz\n"):
            got.extend(batch.rows)
            assert list(batch.linenos) == [1, 2]
            assert batch.lines == ["1\tx", "2\ty"]
    assert got == [["1", "x"], ["2", "y"]]


def test_context_is_cut_at_100_bytes():
    long = b"1\t" + "é".encode() * 60 + b"\tzz\n"
    err = parse(long)
    assert err[3] == 'COPY t, line 1: "1\t' + "é" * 49 + '..."'
    assert cf.limit_printout("x" * 100) == "x" * 100
    assert cf.limit_printout("x" * 101) == "x" * 100 + "..."
    assert cf.column_context("t", 3, "b", None) == "COPY t, line 3, column b: null input"
    assert cf.column_context("t", 3, "b", "v") == 'COPY t, line 3, column b: "v"'
    assert cf.column_context("t", 3, "b", b"", binary=True) == "COPY t, line 3, column b"


def test_invalid_utf8_message_names_the_bytes():
    assert str(cf.invalid_utf8(b"ab\xed\xa0\x80z", 2)) == \
        'invalid byte sequence for encoding "UTF8": 0xed 0xa0 0x80'
    assert str(cf.invalid_utf8(b"\xf0\x9f", 0)) == \
        'invalid byte sequence for encoding "UTF8": 0xf0 0x9f'
    assert cf.first_invalid_utf8("é😀".encode()) is None
    assert cf.first_invalid_utf8(b"ab\x00\xff") == 2
    assert cf.first_invalid_utf8(b"ab\xc0\x80") == 2  # overlong


def test_invalid_utf8_waits_for_the_bytes_postgresql_would_show():
    # the bad sequence is reported with up to its claimed length of following bytes,
    # even when they arrive in a later chunk
    data = b"1\tx\n2\t\xf0\n3\tz\n"
    whole = parse(data)
    assert whole == ("err", "22021", 'invalid byte sequence for encoding "UTF8": '
                                     "0xf0 0x0a 0x33 0x09", "COPY t, line 2")
    for k in range(len(data) + 1):
        assert parse(data, chunks=[data[:k], data[k:]]) == whole


# ------------------------------------------------------------------------ chunks -------

SPLIT_INPUTS = [
    ((), b"1\tx\n\\N\ty\\tz\n3\t\\xc3\\xa9\\303\\251\n"),
    ((), "1\té😀\n2\t\\\\\n".encode()),
    ((), b"1\ta\\\nb\n2\tc\r\n"),
    ((), b"1\tx\r\n2\ty\r\n\\.\r\nignored"),
    ((), b"1\tx\r2\ty\r\\.\r"),
    ((("null", ""), ("delimiter", "|")), b"|x\n1|\n"),
    ((("header", "match"),), b"a\tb\n1\t2\n"),
    (CSV, 'a,"b\r\n""c"",d"\r\n"é",\r\n\\.\r\n'.encode()),
    (CSV, b'1,"multi\nline"\n,""\n"\\.",x\n'),
    (CSV + (("escape", "\\"), ("quote", "'")), b"1,'a\\'b\n\\\\c'\n2,''\n"),
    (CSV + (("header", True),), b'"a\nb",c\n1,2\n'),
    ((), b"1\tx\n2\n"),  # errors too
    ((), b"1\tab\xffcd\n"),
    (CSV, b'1,x\n2,"y'),
    ((), b"1\tx\r\n2\ty\n"),
]


@pytest.mark.parametrize("opts, data", SPLIT_INPUTS)
def test_chunks_split_at_every_byte_offset_change_nothing(opts, data):
    whole = parse(data, opts)
    assert parse(data, opts, fast=False) == whole
    for fast in (True, False):
        assert parse(data, opts, chunks=[data[i:i + 1] for i in range(len(data))],
                     fast=fast) == whole
        for k in range(len(data) + 1):
            assert parse(data, opts, chunks=[data[:k], data[k:]], fast=fast) == whole
        for k in range(0, len(data), 3):
            parts = [data[:k], data[k:k + 2], data[k + 2:k + 5], data[k + 5:]]
            assert parse(data, opts, chunks=parts, fast=fast) == whole


_PIECES = [b"a", b"b", b"\t", b"\n", b"\n", b"\r", b"\r\n", b"\\", b".", b"\\.", b'"', b",",
           b"N", b"\\N", b"0", "é".encode(), b"'", b"\\x", b"\\3", b"\\xc3", b"\\251",
           b"\xff", b"\xe2\x82", b"\x00", b"|", b";"]
_OPTIONS = st.sampled_from([
    (), (("null", ""),), (("delimiter", "|"),), (("header", True),), (("header", "match"),),
    CSV, CSV + (("escape", "\\"),), CSV + (("quote", "'"),), CSV + (("null", "N"),),
    CSV + (("quote", "'"), ("escape", "\\")), CSV + (("delimiter", ";"),),
    CSV + (("header", "match"),), CSV + (("force_null", ("b",)),),
    CSV + (("force_not_null", ("a",)),),
])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(opts=_OPTIONS, pieces=st.lists(st.sampled_from(_PIECES), max_size=30),
       ncols=st.sampled_from([1, 2, 3]), cuts=st.lists(st.integers(0, 200), max_size=4))
def test_fast_path_equals_the_port_and_chunking_changes_nothing(opts, pieces, ncols, cuts):
    names = ("a", "b", "c")[:ncols]
    if any(n not in names for k, v in opts if k.startswith("force") for n in v):
        return
    data = b"".join(pieces)
    slow = parse(data, opts, names, fast=False)
    assert parse(data, opts, names) == slow
    cuts = sorted({c % (len(data) + 1) for c in cuts})
    chunks = [data[i:j] for i, j in zip([0] + cuts, cuts + [len(data)])]
    assert parse(data, opts, names, chunks=chunks) == slow
    assert parse(data, opts, names, chunks=chunks, fast=False) == slow


# ------------------------------------------------------------------------ output -------

def fmt(rows, opts=(), ncols=None, force_quote=(), names=None, is_from=False):
    o = cf.parse_options(tuple(opts), is_from)
    f = cf.CopyFormatter(o, ncols if ncols is not None else len(rows[0]), force_quote)
    out = [f.header(names)] if names else []
    return b"".join(out + [f.row(list(r)) for r in rows])


def test_text_output_escapes():
    assert fmt([("a\tb", "c\nd", None)]) == b"a\\tb\tc\\nd\t\\N\n"
    assert fmt([("\b\f\r\v\\", "\x01\x1f", "")]) == b"\\b\\f\\r\\v\\\\\t\x01\x1f\t\n"
    assert fmt([("\\N", "é")]) == "\\\\N\té\n".encode()
    assert fmt([("a|b", None)], [("delimiter", "|"), ("null", "")]) == b"a\\|b|\n"
    assert fmt([("a\x01b", "c")], [("delimiter", "\x01")]) == b"a\\\x01b\x01c\n"
    assert fmt([("x",)], names=["col\tname"]) == b"col\\tname\nx\n"


def test_csv_output_quoting():
    assert fmt([("a,b", 'q"', "", None, "x\ny", "x\rz", " s ")], CSV) == \
        b'"a,b","q""","",,"x\ny","x\rz", s \n'
    assert fmt([("\\.",)], CSV) == b'"\\."\n'  # alone on its line: would end the data
    assert fmt([("\\.", "x")], CSV) == b"\\.,x\n"
    assert fmt([("1", None, "")], CSV, force_quote="*") == b'"1",,""\n'
    assert fmt([("1", "2")], CSV, force_quote=[1]) == b'1,"2"\n'
    assert fmt([("N", None)], CSV + (("null", "N"),)) == b'"N",N\n'
    assert fmt([("a'b\\c",)], CSV + (("quote", "'"), ("escape", "\\"))) == b"'a\\'b\\\\c'\n"
    assert fmt([("a'b",)], CSV + (("quote", "'"),)) == b"'a''b'\n"
    assert fmt([("1", "2")], CSV, names=["a,b", "c"]) == b'"a,b",c\n1,2\n'


_TEXT = st.text(st.sampled_from(list("ab\t\n\r\\\",.'N|;é😀 \x01\x7f")), max_size=8)


@settings(max_examples=300, deadline=None)
@given(rows=st.integers(1, 4).flatmap(lambda n: st.lists(
    st.lists(st.none() | _TEXT, min_size=n, max_size=n), min_size=1, max_size=5)),
    opts=st.sampled_from([(), (("delimiter", "|"),), CSV, CSV + (("quote", "'"),),
                          CSV + (("escape", "\\"),), CSV + (("null", "N"),),
                          CSV + (("delimiter", ";"), ("quote", "'"), ("escape", "\\"))]),
    header=st.booleans(), cuts=st.lists(st.integers(0, 400), max_size=5))
def test_format_then_parse_round_trips(rows, opts, header, cuts):
    ncols = len(rows[0])
    names = [f"c{i}" for i in range(ncols)]
    o = cf.parse_options(opts, False)
    f = cf.CopyFormatter(o, ncols)
    data = (f.header(names) if header else b"") + b"".join(f.row(r) for r in rows)
    cuts = sorted({c % (len(data) + 1) for c in cuts})
    chunks = [data[i:j] for i, j in zip([0] + cuts, cuts + [len(data)])]
    in_opts = opts + ((("header", "match"),) if header else ())
    assert parse(data, in_opts, names, chunks=chunks) == ("ok", [tuple(r) for r in rows])


# ------------------------------------------------------------------------ binary -------

def binary_parse(data, names=("a", "b"), chunks=None):
    p = cf.BinaryParser(list(names), "t")
    rows = []
    try:
        for ch in (chunks if chunks is not None else [data]):
            for batch in p.feed(ch):
                rows.extend(tuple(r) for r in batch.rows)
        for batch in p.finish():
            rows.extend(tuple(r) for r in batch.rows)
    except errors.Error as e:
        return ("err", e.sqlstate, str(e), e.context)
    return ("ok", rows)


H = cf.BINARY_HEADER


def test_binary_framing_round_trips_in_any_chunks():
    rows = [(b"\x00\x00\x00\x01", None), (b"", b"xyz")]
    data = H + b"".join(cf.binary_row(list(r)) for r in rows) + cf.BINARY_TRAILER
    assert binary_parse(data) == ("ok", rows)
    for k in range(len(data) + 1):
        assert binary_parse(data, chunks=[data[:k], data[k:]]) == ("ok", rows)
    # no trailer: the end of the data at a tuple boundary ends it too
    assert binary_parse(data[:-2]) == ("ok", rows)
    # a header extension is skipped
    ext = cf.BINARY_SIGNATURE + b"\x00\x00\x00\x00\x00\x00\x00\x03abc"
    assert binary_parse(ext + cf.binary_row([b"1", b"2"])) == ("ok", [(b"1", b"2")])


@pytest.mark.parametrize("data, error", [
    (b"", ("22P04", "COPY file signature not recognized", None)),
    (b"PGCOPY\n\xff\r\n\x01", ("22P04", "COPY file signature not recognized", None)),
    (cf.BINARY_SIGNATURE, ("22P04", "invalid COPY file header (missing flags)", None)),
    (cf.BINARY_SIGNATURE + b"\x00\x01\x00\x00\x00\x00\x00\x00",
     ("22P04", "invalid COPY file header (WITH OIDS)", None)),
    (cf.BINARY_SIGNATURE + b"\x00\x02\x00\x00\x00\x00\x00\x00",
     ("22P04", "unrecognized critical flags in COPY file header", None)),
    (cf.BINARY_SIGNATURE + b"\x00\x00\x00\x00",
     ("22P04", "invalid COPY file header (missing length)", None)),
    (cf.BINARY_SIGNATURE + b"\x00\x00\x00\x00\x00\x00\x00\x03",
     ("22P04", "invalid COPY file header (wrong length)", None)),
    (H + b"\x00\x01", ("22P04", "row field count is 1, expected 2", "COPY t, line 1")),
    (H + b"\x00\x02\xff\xff\xff\xfe", ("22P04", "invalid field size",
                                       "COPY t, line 1, column a")),
    (H + b"\x00\x02\x00\x00\x00\x04\x00\x00", ("22P04", "unexpected EOF in COPY data",
                                               "COPY t, line 1, column a")),
    (H + b"\x00\x02\xff\xff\xff\xff\x00\x00", ("22P04", "unexpected EOF in COPY data",
                                               "COPY t, line 1, column b")),
    (H + b"\xff\xffx", ("22P04", "received copy data after EOF marker", "COPY t, line 1")),
])
def test_binary_errors(data, error):
    assert binary_parse(data) == ("err",) + error
