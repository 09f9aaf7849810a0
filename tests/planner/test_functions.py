"""Scalar, set-returning, aggregate and window functions against PostgreSQL 15 (tables
checked on a real server: see pg_cases())."""

import datetime as dt
import random
from decimal import Decimal

import pytest

from immusql.errors import UndefinedFunction
from immusql.planner import types as T
from immusql.planner.casts import format_text, parse_text
from immusql.planner.functions import (
    FunctionContext,
    lookup_aggregate,
    lookup_function,
    set_returning_function,
    window_function_type,
)
from immusql.planner.types import parse_type_string

U = "unknown"
NOW = dt.datetime(2024, 3, 5, 14, 7, 9, 123456, tzinfo=dt.timezone.utc)

# (function, [(type, literal or None for NULL)], "value|type" | "NULL|type" | "ERR:...")
FUNCS = [
    ("length", [(U, "abc")], "3|integer"),
    ("length", [("character(5)", "ab")], "2|integer"),
    ("char_length", [("text", "héllo")], "5|integer"),
    ("octet_length", [("text", "é")], "2|integer"),
    ("length", [("bytea", "\\x0102")], "2|integer"),
    ("lower", [(U, "ABC")], "abc|text"), ("upper", [(U, "abc")], "ABC|text"),
    ("initcap", [(U, "hello wORLD-foo bar_baz")], "Hello World-Foo Bar_Baz|text"),
    ("substr", [(U, "hello"), ("integer", "2"), ("integer", "3")], "ell|text"),
    ("substr", [(U, "hello"), ("integer", "-1"), ("integer", "3")], "h|text"),
    ("substring", [(U, "hello"), ("integer", "2")], "ello|text"),
    ("substr", [(U, "hello"), ("integer", "2"), ("integer", "-1")],
     "ERR:22011:negative substring length not allowed"),
    ("strpos", [(U, "hello"), (U, "lo")], "4|integer"),
    ("position", [(U, "hello"), (U, "l")], "3|integer"),  # position('l' IN 'hello')
    ("replace", [(U, "abcabc"), (U, "b"), (U, "X")], "aXcaXc|text"),
    ("btrim", [(U, "xxaxx"), (U, "x")], "a|text"), ("ltrim", [(U, "  a ")], "a |text"),
    ("rtrim", [(U, " a  ")], " a|text"), ("btrim", [(U, "  x  ")], "x|text"),
    ("lpad", [(U, "hi"), ("integer", "5"), (U, "xy")], "xyxhi|text"),
    ("rpad", [(U, "hi"), ("integer", "5")], "hi   |text"),
    ("lpad", [(U, "hello"), ("integer", "3")], "hel|text"),
    ("left", [(U, "hello"), ("integer", "-2")], "hel|text"),
    ("right", [(U, "hello"), ("integer", "2")], "lo|text"),
    ("right", [(U, "hello"), ("integer", "-2")], "llo|text"),
    ("repeat", [(U, "ab"), ("integer", "3")], "ababab|text"),
    ("reverse", [(U, "abc")], "cba|text"),
    ("split_part", [(U, "a,b,c"), (U, ","), ("integer", "2")], "b|text"),
    ("split_part", [(U, "a,b,c"), (U, ","), ("integer", "-1")], "c|text"),
    ("split_part", [(U, "a,b,c"), (U, ","), ("integer", "5")], "|text"),
    ("concat", [(U, "a"), ("integer", "1"), ("text", None), ("boolean", "t")], "a1t|text"),
    ("concat_ws", [(U, ","), (U, "a"), ("text", None), ("integer", "2")], "a,2|text"),
    ("format", [(U, "%s|%I|%L|%L"), (U, "x"), (U, "Foo"), (U, "it's"), ("text", None)],
     "x|\"Foo\"|'it''s'|NULL|text"),
    ("format", [(U, "%2$s %1$s"), (U, "a"), (U, "b")], "b a|text"),
    ("format", [(U, "[%5s][%-5s]"), (U, "ab"), (U, "cd")], "[   ab][cd   ]|text"),
    ("md5", [(U, "abc")], "900150983cd24fb0d6963f7d28e17f72|text"),
    ("encode", [("bytea", "abc"), (U, "base64")], "YWJj|text"),
    ("encode", [("bytea", "abc"), (U, "hex")], "616263|text"),
    ("decode", [(U, "YWJj"), (U, "base64")], "\\x616263|bytea"),
    ("decode", [(U, "6162"), (U, "hex")], "\\x6162|bytea"),
    ("chr", [("integer", "65")], "A|text"), ("ascii", [(U, "A")], "65|integer"),
    ("starts_with", [(U, "abc"), (U, "ab")], "t|boolean"),
    ("quote_ident", [(U, "Foo")], '"Foo"|text'), ("quote_ident", [(U, "foo")], "foo|text"),
    ("quote_ident", [(U, "select")], '"select"|text'),
    ("quote_literal", [(U, "it's")], "'it''s'|text"),
    ("quote_literal", [("integer", "42")], "'42'|text"),
    ("regexp_replace", [(U, "foobar"), (U, "o"), (U, "0")], "f0obar|text"),
    ("regexp_replace", [(U, "foobar"), (U, "o"), (U, "0"), (U, "g")], "f00bar|text"),
    ("regexp_replace", [(U, "abc"), (U, "(b)"), (U, "[\\1]")], "a[b]c|text"),
    ("regexp_match", [(U, "foobar"), (U, "(o+)(b)")], "{oo,b}|text[]"),
    ("regexp_match", [(U, "foobar"), (U, "x")], "NULL|text[]"),
    ("string_to_array", [(U, "a,b,,c"), (U, ",")], "{a,b,\"\",c}|text[]"),
    ("string_to_array", [(U, "a,b,c"), (U, ","), (U, "b")], "{a,NULL,c}|text[]"),
    ("array_to_string", [("integer[]", "{1,NULL,3}"), (U, ",")], "1,3|text"),
    ("array_to_string", [("integer[]", "{1,NULL,3}"), (U, ","), (U, "*")], "1,*,3|text"),
    ("translate", [(U, "12345"), (U, "143"), (U, "ax")], "a2x5|text"),
    ("to_hex", [("integer", "255")], "ff|text"), ("to_hex", [("integer", "-1")],
                                                  "ffffffff|text"),
    ("abs", [("integer", "-1")], "1|integer"), ("abs", [("numeric", "-1.50")], "1.50|numeric"),
    ("abs", [("integer", "-2147483648")], "ERR:22003:integer out of range"),
    ("round", [("integer", "5")], "5|double precision"),
    ("round", [("numeric", "2.5")], "3|numeric"), ("round", [("numeric", "-2.5")],
                                                   "-3|numeric"),
    ("round", [("double precision", "2.5")], "2|double precision"),
    ("round", [("double precision", "-2.5")], "-2|double precision"),
    ("round", [("numeric", "2.567"), ("integer", "2")], "2.57|numeric"),
    ("round", [("numeric", "1234.5678"), ("integer", "-2")], "1200|numeric"),
    ("trunc", [("numeric", "1234.5678"), ("integer", "2")], "1234.56|numeric"),
    ("trunc", [("numeric", "-2.56"), ("integer", "1")], "-2.5|numeric"),
    ("trunc", [("double precision", "-2.7")], "-2|double precision"),
    ("ceil", [("numeric", "-1.5")], "-1|numeric"), ("ceil", [("integer", "1")],
                                                    "1|double precision"),
    ("floor", [("numeric", "-1.5")], "-2|numeric"), ("ceiling", [("double precision", "1.2")],
                                                     "2|double precision"),
    ("mod", [("integer", "-7"), ("integer", "2")], "-1|integer"),
    ("mod", [("numeric", "7.5"), ("integer", "2")], "1.5|numeric"),
    ("div", [("integer", "7"), ("integer", "2")], "3|numeric"),
    ("div", [("numeric", "-7"), ("numeric", "2")], "-3|numeric"),
    ("power", [("integer", "2"), ("integer", "3")], "8|double precision"),
    ("power", [("numeric", "2"), ("numeric", "10")], "1024.0000000000000000|numeric"),
    ("sqrt", [("integer", "16")], "4|double precision"),
    ("sqrt", [("numeric", "2")], "1.414213562373095|numeric"),
    ("sqrt", [("numeric", "1000000")], "1000.0000000000000|numeric"),
    ("sqrt", [("numeric", "0.0001")], "0.01000000000000000|numeric"),
    ("sqrt", [("double precision", "-1")],
     "ERR:2201F:cannot take square root of a negative number"),
    ("cbrt", [("double precision", "27")], "3.0000000000000004|double precision"),
    ("exp", [("numeric", "10")], "22026.465794806717|numeric"),
    ("exp", [("numeric", "0.5")], "1.6487212707001281|numeric"),
    ("exp", [("integer", "1")], "2.718281828459045|double precision"),
    ("ln", [("numeric", "2")], "0.6931471805599453|numeric"),
    ("ln", [("integer", "10")], "2.302585092994046|double precision"),
    ("ln", [("numeric", "0")], "ERR:2201E:cannot take logarithm of zero"),
    ("ln", [("double precision", "-1")], "ERR:2201E:cannot take logarithm of a negative number"),
    ("log", [("integer", "100")], "2|double precision"),
    ("log", [("numeric", "100")], "2.0000000000000000|numeric"),
    ("log", [("numeric", "2.0"), ("numeric", "64.0")], "6.0000000000000000|numeric"),
    ("log10", [("numeric", "1000")], "3.0000000000000000|numeric"),
    ("sign", [("numeric", "-2.5")], "-1|numeric"), ("sign", [("integer", "0")],
                                                    "0|double precision"),
    ("pi", [], "3.141592653589793|double precision"),
    ("degrees", [("double precision", "3.141592653589793")], "180|double precision"),
    ("radians", [("double precision", "180")], "3.141592653589793|double precision"),
    ("sin", [("double precision", "0")], "0|double precision"),
    ("cos", [("double precision", "0")], "1|double precision"),
    ("atan2", [("double precision", "1"), ("double precision", "1")],
     "0.7853981633974483|double precision"),
    ("gcd", [("integer", "12"), ("integer", "18")], "6|integer"),
    ("lcm", [("integer", "4"), ("integer", "6")], "12|integer"),
    ("gcd", [("numeric", "1.5"), ("numeric", "2.25")], "0.75|numeric"),
    ("width_bucket", [("numeric", "5.35"), ("numeric", "0.024"), ("numeric", "10.06"),
                      ("integer", "5")], "3|integer"),
    ("width_bucket", [("double precision", "5.35"), ("double precision", "0.024"),
                      ("double precision", "10.06"), ("integer", "5")], "3|integer"),
    ("scale", [("numeric", "1.500")], "3|integer"),
    ("trim_scale", [("numeric", "1.500")], "1.5|numeric"),
    ("factorial", [("integer", "5")], "120|numeric"),
    ("date_part", [(U, "epoch"), ("timestamp", "2024-01-01 00:00:01.5")],
     "1704067201.5|double precision"),
    ("extract", [(U, "epoch"), ("timestamp", "2024-01-01 00:00:01.5")],
     "1704067201.500000|numeric"),
    ("extract", [(U, "second"), ("timestamp", "2024-01-01 00:00:05.5")], "5.500000|numeric"),
    ("extract", [(U, "milliseconds"), ("timestamp", "2024-01-01 00:00:05.5")],
     "5500.000|numeric"),
    ("extract", [(U, "microseconds"), ("time", "00:00:05.5")], "5500000|numeric"),
    ("extract", [(U, "dow"), ("date", "2024-03-10")], "0|numeric"),
    ("extract", [(U, "isodow"), ("date", "2024-03-10")], "7|numeric"),
    ("extract", [(U, "doy"), ("date", "2024-03-10")], "70|numeric"),
    ("extract", [(U, "week"), ("date", "2024-01-01")], "1|numeric"),
    ("extract", [(U, "quarter"), ("date", "2024-05-01")], "2|numeric"),
    ("extract", [(U, "century"), ("date", "2000-12-31")], "20|numeric"),
    ("extract", [(U, "century"), ("date", "2001-01-01")], "21|numeric"),
    ("extract", [(U, "millennium"), ("date", "2001-01-01")], "3|numeric"),
    ("extract", [(U, "decade"), ("date", "2024-01-01")], "202|numeric"),
    ("extract", [(U, "epoch"), ("date", "2024-01-01")], "1704067200|numeric"),
    ("extract", [(U, "hour"), ("date", "2024-01-01")],
     'ERR:0A000:unit "hour" not supported for type date'),
    ("extract", [(U, "foo"), ("timestamp", "2024-01-01")],
     'ERR:22023:unit "foo" not recognized for type timestamp without time zone'),
    ("extract", [(U, "epoch"), ("interval", "1 year 1 mon 1 day 00:00:01.5")],
     "34236001.500000|numeric"),
    ("extract", [(U, "hour"), ("interval", "100:30:00")], "100|numeric"),
    ("extract", [(U, "minute"), ("interval", "-01:30:00")], "-30|numeric"),
    ("extract", [(U, "month"), ("interval", "14 mons")], "2|numeric"),
    ("extract", [(U, "year"), ("interval", "-14 mons")], "-1|numeric"),
    ("extract", [(U, "timezone"), ("timestamp with time zone", "2024-01-01 00:00+00")],
     "0|numeric"),
    ("extract", [(U, "epoch"), ("timestamp with time zone", "2024-01-01 00:00+02")],
     "1704060000.000000|numeric"),
    ("date_part", [(U, "year"), ("date", "2024-05-01")], "2024|double precision"),
    ("date_trunc", [(U, "month"), ("timestamp", "2024-03-05 14:07:09")],
     "2024-03-01 00:00:00|timestamp without time zone"),
    ("date_trunc", [(U, "week"), ("timestamp", "2024-03-07 14:07:09")],
     "2024-03-04 00:00:00|timestamp without time zone"),
    ("date_trunc", [(U, "quarter"), ("timestamp", "2024-05-05")],
     "2024-04-01 00:00:00|timestamp without time zone"),
    ("date_trunc", [(U, "century"), ("timestamp", "2024-05-05")],
     "2001-01-01 00:00:00|timestamp without time zone"),
    ("date_trunc", [(U, "decade"), ("timestamp", "2024-05-05")],
     "2020-01-01 00:00:00|timestamp without time zone"),
    ("date_trunc", [(U, "hour"), ("timestamp with time zone", "2024-03-05 14:07:09+00")],
     "2024-03-05 14:00:00+00|timestamp with time zone"),
    ("date_trunc", [(U, "month"), ("date", "2024-03-05")],
     "2024-03-01 00:00:00+00|timestamp with time zone"),
    ("date_trunc", [(U, "hour"), ("interval", "1 day 02:03:04")],
     "1 day 02:00:00|interval"),
    ("date_trunc", [(U, "foo"), ("timestamp", "2024-03-05")],
     'ERR:22023:unit "foo" not recognized for type timestamp without time zone'),
    ("age", [("timestamp", "2024-03-01"), ("timestamp", "2023-01-31")],
     "1 year 1 mon 1 day|interval"),
    ("age", [("timestamp", "2023-01-31"), ("timestamp", "2024-03-01")],
     "-1 years -1 mons -1 days|interval"),
    ("age", [("timestamp", "2024-03-01 10:00"), ("timestamp", "2024-02-28 12:00")],
     "1 day 22:00:00|interval"),
    ("make_date", [("integer", "2024"), ("integer", "2"), ("integer", "29")],
     "2024-02-29|date"),
    ("make_date", [("integer", "2023"), ("integer", "2"), ("integer", "29")],
     "ERR:22008:date field value out of range: 2023-02-29"),
    ("make_timestamp", [("integer", "2024"), ("integer", "1"), ("integer", "2"),
                        ("integer", "3"), ("integer", "4"), ("double precision", "5.5")],
     "2024-01-02 03:04:05.5|timestamp without time zone"),
    ("make_interval", [("integer", "1"), ("integer", "2")], "1 year 2 mons|interval"),
    ("make_interval", [("integer", "0"), ("integer", "0"), ("integer", "1"), ("integer", "2"),
                       ("integer", "3"), ("integer", "4"), ("double precision", "5.5")],
     "9 days 03:04:05.5|interval"),
    ("to_timestamp", [("double precision", "1.5")],
     "1970-01-01 00:00:01.5+00|timestamp with time zone"),
    ("to_timestamp", [(U, "2024-03-05 14:07:09"), (U, "YYYY-MM-DD HH24:MI:SS")],
     "2024-03-05 14:07:09+00|timestamp with time zone"),
    ("to_date", [(U, "05 Mar 2024"), (U, "DD Mon YYYY")], "2024-03-05|date"),
    ("to_char", [("timestamp", "2024-03-05 14:07:09.123456"),
                 (U, "YYYY-MM-DD HH24:MI:SS.MS US")], "2024-03-05 14:07:09.123 123456|text"),
    ("to_char", [("timestamp", "2024-03-05 14:07:09"), (U, "Day, DD Month YYYY HH12:MI AM")],
     "Tuesday  , 05 March     2024 02:07 PM|text"),
    ("to_char", [("timestamp", "2024-03-05"),
                 (U, "FMDay FMDD FMMonth Dy Mon DY MON dy mon yy Q WW IW D ID DDD J")],
     "Tuesday 5 March Tue Mar TUE MAR tue mar 24 1 10 10 3 2 065 2460375|text"),
    ("to_char", [("timestamp with time zone", "2024-03-05 00:07+00"), (U, "YYYY TZ OF")],
     "2024 UTC +00|text"),
    ("to_char", [("date", "2024-03-01"), (U, "DDth Mon")], "01st Mar|text"),
    ("to_char", [("interval", "1 day 02:03:04"), (U, "HH24:MI:SS")], "02:03:04|text"),
    ("to_char", [("numeric", "1234.5"), (U, "9999.99")], " 1234.50|text"),
    ("to_char", [("numeric", "1234.5"), (U, "FM9,999.00")], "1,234.50|text"),
    ("to_char", [("integer", "-12"), (U, "999")], " -12|text"),
    ("to_char", [("numeric", "0.5"), (U, "0.99")], " 0.50|text"),
    ("to_char", [("integer", "12"), (U, "0009")], " 0012|text"),
    ("to_char", [("numeric", "1234567.891"), (U, "9G999G999D99")], " 1,234,567.89|text"),
    ("to_char", [("numeric", "3.14159"), (U, "FM990.000")], "3.142|text"),
    ("to_char", [("integer", "-125"), (U, "999PR")], "<125>|text"),
    ("to_char", [("integer", "5"), (U, "S9")], "+5|text"),
    ("to_char", [("numeric", "1e10"), (U, "999")], " ###|text"),
    ("to_char", [("double precision", "12.5"), (U, "99.9")], " 12.5|text"),
    ("justify_days", [("interval", "35 days")], "1 mon 5 days|interval"),
    ("justify_hours", [("interval", "50 hours")], "2 days 02:00:00|interval"),
    ("justify_interval", [("interval", "1 mon -1 day -1 hour")],
     "28 days 23:00:00|interval"),
    ("isfinite", [("date", "infinity")], "f|boolean"),
    ("isfinite", [("timestamp", "2024-01-01")], "t|boolean"),
    ("timezone", [(U, "America/New_York"), ("timestamp with time zone", "2024-07-01 12:00+00")],
     "2024-07-01 08:00:00|timestamp without time zone"),
    ("timezone", [(U, "Asia/Tokyo"), ("timestamp", "2024-07-01 12:00")],
     "2024-07-01 03:00:00+00|timestamp with time zone"),
    ("array_length", [("integer[]", "{1,2,3}"), ("integer", "1")], "3|integer"),
    ("array_length", [("integer[]", "{}"), ("integer", "1")], "NULL|integer"),
    ("array_length", [("integer[]", "{{1,2},{3,4}}"), ("integer", "2")], "2|integer"),
    ("cardinality", [("integer[]", "{{1,2},{3,4}}")], "4|integer"),
    ("array_upper", [("integer[]", "{1,2}"), ("integer", "1")], "2|integer"),
    ("array_lower", [("integer[]", "{1,2}"), ("integer", "1")], "1|integer"),
    ("array_dims", [("integer[]", "{{1,2},{3,4}}")], "[1:2][1:2]|text"),
    ("array_ndims", [("integer[]", "{{1,2},{3,4}}")], "2|integer"),
    ("array_position", [("integer[]", "{1,NULL,2}"), ("integer", None)], "2|integer"),
    ("array_position", [("text[]", "{a,b,a}"), (U, "a"), ("integer", "2")], "3|integer"),
    ("array_positions", [("text[]", "{a,b,a}"), (U, "a")], "{1,3}|integer[]"),
    ("array_append", [("integer[]", "{1,2}"), ("integer", "3")], "{1,2,3}|integer[]"),
    ("array_append", [("integer[]", None), ("integer", "3")], "{3}|integer[]"),
    ("array_prepend", [("integer", "0"), ("integer[]", "{1}")], "{0,1}|integer[]"),
    ("array_cat", [("integer[]", "{1}"), ("integer[]", "{2,3}")], "{1,2,3}|integer[]"),
    ("array_remove", [("integer[]", "{1,2,1,NULL}"), ("integer", "1")], "{2,NULL}|integer[]"),
    ("array_replace", [("integer[]", "{1,2,1}"), ("integer", "1"), ("integer", "9")],
     "{9,2,9}|integer[]"),
    ("json_build_object", [(U, "a"), ("integer", "1"), (U, "b"), (U, "x")],
     '{"a" : 1, "b" : "x"}|json'),
    ("json_build_array", [("integer", "1"), (U, "a"), ("text", None), ("numeric", "1.50")],
     '[1, "a", null, 1.50]|json'),
    ("jsonb_build_object", [(U, "b"), ("integer", "1"), (U, "a"), ("date", "2024-01-01")],
     '{"a": "2024-01-01", "b": 1}|jsonb'),
    ("jsonb_build_array", [("boolean", "t"), ("integer[]", "{1,2}")], '[true, [1, 2]]|jsonb'),
    ("json_build_object", [(U, "a")], "ERR:22023:argument list must have even number of "
                                       "elements"),
    ("to_json", [("timestamp with time zone", "2024-01-02 03:04:05.5+00")],
     '"2024-01-02T03:04:05.5+00:00"|json'),
    ("to_json", [("timestamp", "2024-01-02 03:04")], '"2024-01-02T03:04:00"|json'),
    ("to_json", [("double precision", "NaN")], '"NaN"|json'),
    ("to_json", [("integer[]", "{1,2}")], "[1,2]|json"),
    ("to_json", [("text", 'a"b')], '"a\\"b"|json'),
    ("to_jsonb", [("numeric", "1.50")], "1.50|jsonb"),
    ("to_jsonb", [("text[]", "{a,NULL}")], '["a", null]|jsonb'),
    ("jsonb_typeof", [("jsonb", "1.5")], "number|text"),
    ("json_typeof", [("json", "null")], "null|text"),
    ("jsonb_array_length", [("jsonb", "[1,2,[3]]")], "3|integer"),
    ("jsonb_array_length", [("jsonb", '{"a":1}')],
     "ERR:22023:cannot get array length of a non-array"),
    ("jsonb_extract_path", [("jsonb", '{"a":{"b":[1,2]}}'), (U, "a"), (U, "b")],
     "[1, 2]|jsonb"),
    ("jsonb_extract_path_text", [("jsonb", '{"a":{"b":"x"}}'), (U, "a"), (U, "b")], "x|text"),
    ("jsonb_pretty", [("jsonb", '[1,{"a":2}]')], '[\n    1,\n    {\n        "a": 2\n    }\n]|text'),
    ("jsonb_set", [("jsonb", '{"a":1}'), (U, "{b}"), (U, "2")], '{"a": 1, "b": 2}|jsonb'),
    ("jsonb_set", [("jsonb", '{"a":[1,2]}'), (U, "{a,0}"), (U, '"x"')],
     '{"a": ["x", 2]}|jsonb'),
    ("jsonb_strip_nulls", [("jsonb", '{"a":null,"b":[null]}')], '{"b": [null]}|jsonb'),
    ("pg_typeof", [("numeric", "1")], "numeric|regtype"),
    ("pg_typeof", [("character(3)", "a")], "character|regtype"),
    ("pg_typeof", [(U, "a")], "unknown|regtype"),
    ("num_nulls", [("integer", "1"), ("integer", None), ("text", None)], "2|integer"),
    ("foo", [("integer", "1")], "ERR:42883:function foo(integer) does not exist"),
    ("length", [("integer", "1")], "ERR:42883:function length(integer) does not exist"),
    # PostgreSQL 15 additions: checked against a real server
    ("array_fill", [("integer", "7"), ("integer[]", "{2,2}")], "{{7,7},{7,7}}|integer[]"),
    ("trim_array", [("integer[]", "{1,2,3}"), ("integer", "1")], "{1,2}|integer[]"),
    ("trim_array", [("integer[]", "{1}"), ("integer", "2")],
     "ERR:2202E:number of elements to trim must be between 0 and 1"),
    ("tand", [("double precision", "45")], "1|double precision"),
    ("sind", [("double precision", "30")], "0.5|double precision"),
    ("cotd", [("double precision", "0")], "Infinity|double precision"),
    ("asind", [("double precision", "2")], "ERR:22003:input is out of range"),
    ("width_bucket", [("integer", "5"), ("integer[]", "{1,3,5,7}")], "3|integer"),
    ("width_bucket", [("numeric", "2.5"), ("numeric[]", "{1,2,3}")], "2|integer"),
    ("exp", [("numeric", "6000")], "ERR:22003:value overflows numeric format"),
    ("chr", [("integer", "0")], "ERR:54000:null character not permitted"),
    ("regexp_count", [("text", "banana"), ("text", "a"), ("integer", "3")], "2|integer"),
    ("regexp_instr", [("text", "banana"), ("text", "a(n)"), ("integer", "1"),
                      ("integer", "2"), ("integer", "1")], "6|integer"),
    ("regexp_substr", [("text", "banana"), ("text", "x")], "NULL|text"),
    ("regexp_like", [("text", "Banana"), ("text", "^b"), ("text", "i")], "t|boolean"),
    ("regexp_count", [("text", "a"), ("text", "a"), ("integer", "0")],
     'ERR:22023:invalid value for parameter "start": 0'),
    ("substring", [("text", "foobar"), ("text", 'f#"oo#"%'), ("text", "#")], "oo|text"),
    ("get_byte", [("bytea", "\\x0102"), ("integer", "1")], "2|integer"),
    ("get_byte", [("bytea", "\\x01"), ("integer", "5")],
     "ERR:2202E:index 5 out of valid range, 0..0"),
    ("set_bit", [("bytea", "\\x0102"), ("bigint", "0"), ("integer", "0")], "\\x0002|bytea"),
    ("convert_from", [("bytea", "\\x68c3a9"), ("name", "UTF8")], "hé|text"),
    ("convert_to", [("text", "€"), ("name", "LATIN1")], "ERR:22P05:has no equivalent"),
    ("date_bin", [("interval", "15 minutes"), ("timestamp", "2024-01-01 10:37:12"),
                  ("timestamp", "2024-01-01 00:00")], "2024-01-01 10:30:00|timestamp without time zone"),
    ("date_bin", [("interval", "1 mon"), ("timestamp", "2024-01-01"),
                  ("timestamp", "2024-01-01")], "ERR:0A000:containing months or years"),
    ("overlaps", [("timestamp", "2024-01-01"), ("timestamp", None),
                  ("timestamp", "2024-01-01"), ("timestamp", "2024-01-02")], "NULL|boolean"),
    ("overlaps", [("time", "10:00"), ("interval", "2 hours"), ("time", "11:00"),
                  ("time", "12:00")], "t|boolean"),
]


# to_char(numeric, format): (value, format, output)
TO_CHAR_NUMERIC = [
    ("0", "9999", "    0"), ("-12", "S999", " -12"), ("12", "S999", " +12"),
    ("12", "PL999", "+  12"), ("-12", "SG999", "- 12"), ("12", "SG999", "+ 12"),
    ("-0.001", "FM9.99", "0."), ("125", "999PR", " 125 "), ("-12", "9999PR", "  <12>"),
    ("0", "FM9", "0"), ("-12", "MI999", "- 12"), ("0", "9.99", "  .00"),
    ("-0.5", "9.99", " -.50"), ("0.5", "9.99", "  .50"), ("12", "999S", " 12+"),
    ("-12", "999MI", " 12-"), ("-5", "FM999", "-5"), ("3", "FM999th", "3rd"),
    ("21", "999TH", "  21ST"), ("12345", "9.99EEEE", " 1.23e+04"),
    ("0.00012", "9.99EEEE", " 1.20e-04"), ("5", "FM000", "005"), ("1234.5", "FM9999", "1235"),
    ("99.99", "99.9", " ##.#"), ("-99.99", "FM99.9", "-##.#"), ("0.001", "0.999", " 0.001"),
    ("1e5", "999,999.99", " 100,000.00"), ("42", "0099", " 0042"), ("7", "9009", "  007"),
    ("-1234.5678", "9G999D99PR", "<1,234.57>"), ("123.456", "S999.99", "+123.46"),
    ("1", "FM9.99", "1."), ("1234567", "9,999,999", " 1,234,567"),
]


@pytest.mark.parametrize("value,fmt,expected", TO_CHAR_NUMERIC)
def test_to_char_numeric(value, fmt, expected):
    fn, _ = lookup_function("to_char", [T.NUMERIC, T.TEXT])
    assert fn(Decimal(value), fmt) == expected


def _arg(typ, lit):
    if typ == U:
        return T.UNKNOWN, lit
    t = parse_type_string(typ)
    return t, (None if lit is None else parse_text(lit, t))


@pytest.mark.parametrize("name,args,expected", FUNCS, ids=lambda x: str(x)[:60])
def test_function(name, args, expected):
    ctx = FunctionContext(now=NOW)
    types, values = zip(*[_arg(t, v) for t, v in args]) if args else ((), ())
    if expected.startswith("ERR:"):
        code, _, msg = expected[4:].partition(":")
        with pytest.raises(Exception) as e:
            fn, _ = lookup_function(name, types, ctx)
            fn(*values)
        assert getattr(e.value, "sqlstate", None) == code, repr(e.value)
        assert msg in str(e.value)
        return
    fn, rt = lookup_function(name, types, ctx)
    value, _, type_name = expected.rpartition("|")
    assert T.regtype_name(rt) == type_name
    got = fn(*values)
    assert (format_text(got, rt) if got is not None else "NULL") == value


def test_undefined_function_hint():
    with pytest.raises(UndefinedFunction) as e:
        lookup_function("foo", [T.INT4])
    assert e.value.hint == ("No function matches the given name and argument types. You "
                            "might need to add explicit type casts.")


def test_context_functions():
    tx = dt.datetime(2024, 3, 5, 23, 30, tzinfo=dt.timezone.utc)
    ctx = FunctionContext(now=tx + dt.timedelta(seconds=5), transaction_now=tx,
                          timezone="Asia/Tokyo", version_suffix="immusql 0.1.0")
    now, rt = lookup_function("now", [], ctx)
    assert now() == tx and rt == T.TIMESTAMPTZ
    assert lookup_function("statement_timestamp", [], ctx)[0]() == tx + dt.timedelta(seconds=5)
    assert lookup_function("current_date", [], ctx)[0]() == dt.date(2024, 3, 6)
    assert lookup_function("localtimestamp", [], ctx)[0]() == dt.datetime(2024, 3, 6, 8, 30)
    clock, _ = lookup_function("clock_timestamp", [], ctx)
    assert clock.volatile and clock() > tx
    ctx.now = tx + dt.timedelta(hours=1)  # the session updates the same context
    assert lookup_function("statement_timestamp", [], ctx)[0]() == ctx.now
    version, _ = lookup_function("version", [], ctx)
    assert version() == ("PostgreSQL 15.0 on x86_64-pc-linux-gnu, compiled by immusql 0.1.0, "
                         "64-bit")
    assert lookup_function("current_user", [], ctx)[0]() == "immusql"


def test_random_and_setseed():
    ctx = FunctionContext(rng=random.Random())
    rnd, rt = lookup_function("random", [], ctx)
    setseed, _ = lookup_function("setseed", [T.FLOAT8], ctx)
    assert rt == T.FLOAT8 and rnd.volatile
    setseed(0.5)
    a = [rnd() for _ in range(3)]
    setseed(0.5)
    assert [rnd() for _ in range(3)] == a
    assert all(0 <= x < 1 for x in a)
    with pytest.raises(Exception) as e:
        setseed(2.0)
    assert e.value.sqlstate == "22023"


def test_gen_random_uuid():
    fn, rt = lookup_function("gen_random_uuid", [])
    assert rt == T.UUID and fn() != fn() and fn().version == 4


def test_strictness():
    fn, _ = lookup_function("length", [T.TEXT])
    assert fn.strict and fn(None) is None
    fn, _ = lookup_function("concat", [T.TEXT, T.TEXT])
    assert not fn.strict and fn(None, "a") == "a"


# ------------------------------------------------------------------ set-returning --

SRFS = [
    ("generate_series", [("integer", "1"), ("integer", "3")], ["1", "2", "3"], "integer"),
    ("generate_series", [("integer", "5"), ("integer", "1"), ("integer", "-2")],
     ["5", "3", "1"], "integer"),
    ("generate_series", [("numeric", "1"), ("numeric", "2"), ("numeric", "0.5")],
     ["1", "1.5", "2.0"], "numeric"),
    ("generate_series", [("timestamp", "2024-01-30"), ("timestamp", "2024-04-01"),
                         ("interval", "1 mon")],
     ["2024-01-30 00:00:00", "2024-02-29 00:00:00", "2024-03-29 00:00:00"],
     "timestamp without time zone"),
    ("unnest", [("integer[]", "{{1,2},{3,NULL}}")], ["1", "2", "3", None], "integer"),
    ("jsonb_array_elements_text", [("jsonb", '[1,"a",null]')], ["1", "a", None], "text"),
    ("jsonb_array_elements", [("jsonb", '[1,{"a":1}]')], ["1", '{"a": 1}'], "jsonb"),
    ("jsonb_object_keys", [("jsonb", '{"bb":1,"a":2}')], ["a", "bb"], "text"),
    ("regexp_split_to_table", [(U, "a1b2c"), (U, "[0-9]")], ["a", "b", "c"], "text"),
    ("generate_subscripts", [("integer[]", "{7,8,9}"), ("integer", "1")], ["1", "2", "3"],
     "integer"),
]


@pytest.mark.parametrize("name,args,expected,type_name", SRFS, ids=lambda x: str(x)[:50])
def test_srf(name, args, expected, type_name):
    types, values = zip(*[_arg(t, v) for t, v in args])
    fn, cols = set_returning_function(name, types)
    assert len(cols) == 1 and T.regtype_name(cols[0][1]) == type_name
    rows = list(fn(*values))
    assert [None if r[0] is None else format_text(r[0], cols[0][1]) for r in rows] == expected


def test_srf_errors_and_multicolumn():
    fn, cols = set_returning_function("generate_series", [T.INT4, T.INT4, T.INT4])
    with pytest.raises(Exception) as e:
        list(fn(1, 3, 0))
    assert e.value.sqlstate == "22023" and str(e.value) == "step size cannot equal zero"
    fn, cols = set_returning_function("jsonb_each", [T.JSONB])
    assert [c[0] for c in cols] == ["key", "value"]
    assert list(fn('{"b": 1, "a": [2]}')) == [("a", "[2]"), ("b", "1")]
    fn, cols = set_returning_function("unnest", [T.array_of(T.TEXT)])
    assert list(fn(None)) == []


# -------------------------------------------------------------------- aggregates --

# (aggregate, arg type, values, distinct, "value|type")
AGGS = [
    ("count", "integer", ["1", None, "2"], False, "2|bigint"),
    ("count", "integer", [], False, "0|bigint"),
    ("sum", "integer", ["1", "2", "4"], False, "7|bigint"),
    ("sum", "smallint", ["1", "2"], False, "3|bigint"),
    ("sum", "bigint", ["1", "2"], False, "3|numeric"),
    ("sum", "numeric", ["1.5", "2.25"], False, "3.75|numeric"),
    ("sum", "real", ["1.5", "2.25"], False, "3.75|real"),
    ("sum", "double precision", ["0.1", "0.2"], False, "0.30000000000000004|double precision"),
    ("sum", "interval", ["1 day", "2 hours"], False, "1 day 02:00:00|interval"),
    ("sum", "integer", [None], False, "NULL|bigint"),
    ("sum", "integer", ["1", "1", "2"], True, "3|bigint"),
    ("avg", "integer", ["1", "2"], False, "1.5000000000000000|numeric"),
    ("avg", "integer", ["1", "2", "4"], False, "2.3333333333333333|numeric"),
    ("avg", "bigint", ["1"], False, "1.00000000000000000000|numeric"),
    ("avg", "numeric", ["1.5", "2.25"], False, "1.8750000000000000|numeric"),
    ("avg", "double precision", ["1", "2", "4"], False, "2.3333333333333335|double precision"),
    ("avg", "real", ["1", "2", "4"], False, "2.3333333333333335|double precision"),
    ("avg", "interval", ["1 day", "2 days"], False, "1 day 12:00:00|interval"),
    ("stddev", "integer", ["1", "2", "4"], False, "1.5275252316519467|numeric"),
    ("stddev_samp", "double precision", ["1", "2", "4"], False,
     "1.5275252316519468|double precision"),
    ("variance", "bigint", ["1", "2", "4"], False, "2.3333333333333333|numeric"),
    ("var_pop", "double precision", ["1", "2", "4"], False,
     "1.5555555555555556|double precision"),
    ("stddev_pop", "integer", ["1", "2", "4"], False, "1.2472191289246471|numeric"),
    ("stddev", "numeric", ["1.5", "2.25"], False, "0.53033008588991064330|numeric"),
    ("variance", "numeric", ["1.5", "2.25"], False, "0.28125000000000000000|numeric"),
    ("stddev", "integer", ["1"], False, "NULL|numeric"),
    ("var_pop", "integer", ["1"], False, "0|numeric"),
    ("var_samp", "integer", ["5", "5"], False, "0|numeric"),
    ("min", "numeric", ["2", "1.5", None], False, "1.5|numeric"),
    ("max", "text", ["a", "b", "B"], False, "b|text"),
    ("max", "double precision", ["1", "NaN", "Infinity"], False, "NaN|double precision"),
    ("min", "date", ["2024-01-01", "-infinity"], False, "-infinity|date"),
    ("max", "integer[]", ["{1,2}", "{1,3}"], False, "{1,3}|integer[]"),
    ("bool_and", "boolean", ["t", "f", None], False, "f|boolean"),
    ("bool_or", "boolean", ["f", None, "t"], False, "t|boolean"),
    ("every", "boolean", ["t"], False, "t|boolean"),
    ("bit_and", "integer", ["7", "3"], False, "3|integer"),
    ("bit_or", "integer", ["1", "4"], False, "5|integer"),
    ("array_agg", "integer", ["1", None, "2"], False, "{1,NULL,2}|integer[]"),
    ("array_agg", "integer[]", ["{1,2}", "{3,4}"], False, "{{1,2},{3,4}}|integer[]"),
    ("array_agg", "text", ["a", "a", "b"], True, "{a,b}|text[]"),
    ("json_agg", "integer", ["1", None], False, "[1, null]|json"),
    ("jsonb_agg", "text", ["a", "b"], False, '["a", "b"]|jsonb'),
    ("json_agg", "integer", [], False, "NULL|json"),
]


def _run_agg(name, typ, values, distinct):
    t = parse_type_string(typ)
    spec = lookup_aggregate(name, (t,), distinct)
    state = spec.init()
    for v in values:
        state = spec.step(state, None if v is None else parse_text(v, t))
    return spec, spec.final(state)


@pytest.mark.parametrize("name,typ,values,distinct,expected", AGGS, ids=lambda x: str(x)[:40])
def test_aggregate(name, typ, values, distinct, expected):
    spec, got = _run_agg(name, typ, values, distinct)
    value, _, type_name = expected.rpartition("|")
    assert T.regtype_name(spec.result_type) == type_name
    assert (format_text(got, spec.result_type) if got is not None else "NULL") == value


def test_count_star_and_string_agg():
    spec = lookup_aggregate("count", ())
    s = spec.init()
    for _ in range(3):
        s = spec.step(s)
    assert spec.final(s) == 3 and spec.result_type == T.INT8
    spec = lookup_aggregate("string_agg", (T.TEXT, T.UNKNOWN))
    s = spec.init()
    for v in ("a", None, "b", "c"):
        s = spec.step(s, v, ",")
    assert spec.final(s) == "a,b,c" and spec.result_type == T.TEXT
    assert spec.final(spec.init()) is None
    spec = lookup_aggregate("json_object_agg", (T.TEXT, T.INT4))
    s = spec.init()
    for k, v in (("a", 1), ("b", None)):
        s = spec.step(s, k, v)
    assert spec.final(s) == '{ "a" : 1, "b" : null }'
    with pytest.raises(UndefinedFunction):
        lookup_aggregate("sum", (T.TEXT,))


def test_window_function_types():
    assert window_function_type("row_number", ()) == T.INT8
    assert window_function_type("rank", ()) == T.INT8
    assert window_function_type("percent_rank", ()) == T.FLOAT8
    assert window_function_type("ntile", (T.INT4,)) == T.INT4
    assert window_function_type("lag", (T.NUMERIC, T.INT4)) == T.NUMERIC
    assert window_function_type("first_value", (T.TEXT,)) == T.TEXT
    assert window_function_type("sum", (T.INT4,)) == T.INT8
    with pytest.raises(UndefinedFunction):
        window_function_type("row_number", (T.INT4,))


def pg_cases():
    def lit(typ, v):
        if v is None:
            return "NULL" if typ == U else f"NULL::{typ}"
        return "'" + v.replace("'", "''") + "'" + ("" if typ == U else f"::{typ}")
    out = []
    for name, args, exp in FUNCS:
        qual = "pg_catalog." if name in ("extract", "position") else ""
        call = f"{qual}{name}({', '.join(lit(t, v) for t, v in args)})"
        if exp.startswith("ERR:"):
            out.append((f"select {call}", exp))
        else:
            value, _, typ = exp.rpartition("|")
            out.append((f"select coalesce(({call})::text, 'NULL'), pg_typeof({call})",
                        f"{value}|{typ}" if value != "t" and value != "f" else
                        f"{'true' if value == 't' else 'false'}|{typ}"))
    for value, fmt, exp in TO_CHAR_NUMERIC:
        out.append((f"select '[' || to_char({value}::numeric, '{fmt}') || ']'", f"[{exp}]"))
    for name, args, exp, typ in SRFS:
        call = f"{name}({', '.join(lit(t, v) for t, v in args)})"
        out.append((f"select string_agg(coalesce(x::text, 'NULL'), ';') from {call} x",
                    ";".join("NULL" if e is None else e for e in exp)))
    for name, typ, values, distinct, exp in AGGS:
        rows = ", ".join(f"({lit(typ, v)})" for v in values) or f"(NULL::{typ})"
        where = "" if values else " where false"
        d = "distinct " if distinct else ""
        value, _, rtype = exp.rpartition("|")
        if value in ("t", "f"):
            value = "true" if value == "t" else "false"
        out.append((f"select coalesce({name}({d}x)::text, 'NULL'), pg_typeof({name}({d}x)) "
                    f"from (values {rows}) v(x){where}", f"{value}|{rtype}"))
    return out
