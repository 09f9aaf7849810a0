"""String functions (PostgreSQL 15 semantics), registered into functions.py.

Why: each has small PostgreSQL-specific rules that tests compare exactly: substr with
negative starts, split_part with negative fields (PG 14+), initcap's word boundaries,
lpad truncating, format()'s %I/%L quoting, regexp_* flags, char(n) trailing blanks.
"""

from __future__ import annotations

import base64
import hashlib

from ..errors import InvalidParameterValue, ProgramLimitExceeded
from . import patterns
from . import types as T
from .functions import register
from .numerics import SubstringError
from .overload import ANY, ANYELEMENT

# The database runs with LC_CTYPE "C": case mapping touches ASCII letters only, as in
# PostgreSQL with the C locale (upper('é') stays 'é').
_UPPER = {c: c - 32 for c in range(ord("a"), ord("z") + 1)}
_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def ascii_upper(s: str) -> str:
    return s.translate(_UPPER)


def ascii_lower(s: str) -> str:
    return s.translate(_LOWER)

TXT, INT, BOOL, BYTEA = T.TEXT, T.INT4, T.BOOL, T.BYTEA
TXTARR = T.array_of(T.TEXT)


def _substr(s, start, count=None):
    if count is not None and count < 0:
        raise SubstringError("negative substring length not allowed")
    begin = start - 1
    end = len(s) if count is None else begin + count
    begin = max(begin, 0)
    if end <= begin:
        return s[:0]
    return s[begin:end]


def _lpad(s, n, fill=" "):
    if n <= len(s):
        return s[:max(n, 0)]
    if not fill:
        return s
    need = n - len(s)
    return (fill * (need // len(fill) + 1))[:need] + s


def _rpad(s, n, fill=" "):
    if n <= len(s):
        return s[:max(n, 0)]
    if not fill:
        return s
    need = n - len(s)
    return s + (fill * (need // len(fill) + 1))[:need]


def _left(s, n):
    return s[:n] if n >= 0 else s[:max(len(s) + n, 0)]


def _right(s, n):
    if n >= 0:
        return s[len(s) - n:] if n else ""
    return s[-n:] if -n < len(s) else ""


def _split_part(s, delim, n):
    if n == 0:
        raise InvalidParameterValue("field position must not be zero")
    parts = s.split(delim) if delim else [s]
    if s == "":
        return ""
    idx = n - 1 if n > 0 else len(parts) + n
    return parts[idx] if 0 <= idx < len(parts) else ""


def _initcap(s):
    out = []
    prev_alnum = False
    for ch in s:
        out.append(ch.lower() if prev_alnum else ch.upper())
        prev_alnum = ch.isalnum()
    return "".join(out)


def _trim_chars(s, chars, mode):
    if mode == "b":
        return s.strip(chars)
    if mode == "l":
        return s.lstrip(chars)
    return s.rstrip(chars)


def _repeat(s, n):
    return s * max(n, 0)


def _chr(n):
    if n < 0:
        raise InvalidParameterValue("character number must be positive")
    if n == 0:
        raise ProgramLimitExceeded("null character not permitted")
    if n > 0x10FFFF:
        raise ProgramLimitExceeded("requested character too large for encoding: %d" % n)
    if 0xD800 <= n <= 0xDFFF:
        raise ProgramLimitExceeded("requested character not valid for encoding: %d" % n)
    return chr(n)


def _ascii(s):
    return ord(s[0]) if s else 0


def quote_ident(s: str) -> str:
    """quote_ident: quotes unless a lower-case identifier that is not a keyword."""
    if s and (s[0].islower() or s[0] == "_") and all(
            c.islower() or c.isdigit() or c == "_" for c in s) and s not in _RESERVED:
        return s
    return '"' + s.replace('"', '""') + '"'


# reserved keywords (PostgreSQL quotes these in quote_ident)
_RESERVED = frozenset("""all analyse analyze and any array as asc asymmetric authorization
binary both case cast check collate collation column concurrently constraint create cross
current_catalog current_date current_role current_schema current_time current_timestamp
current_user default deferrable desc distinct do else end except false fetch for foreign
freeze from full grant group having ilike in initially inner intersect into is isnull join
lateral leading left like limit localtime localtimestamp natural not notnull null offset on
only or order outer overlaps placing primary references returning right select
session_user similar some symmetric table tablesample then to trailing true union unique
user using variadic verbose when where window with between bigint bit boolean char
character coalesce dec decimal exists extract float greatest grouping inout int integer
interval least national nchar none normalize nullif numeric out overlay position precision
real row setof smallint substring time timestamp treat trim values varchar xmlattributes
xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot
xmlserialize xmltable""".split())


def quote_literal(s: str) -> str:
    if "\\" in s:
        return "E'" + s.replace("\\", "\\\\").replace("'", "''") + "'"
    return "'" + s.replace("'", "''") + "'"


def _text_of(v, t, ctx):
    """A value as text the way concat()/format() print it: the type's output function
    (so booleans are 't'/'f', unlike a cast)."""
    from .textio import format_text
    if t.oid == T.BPCHAR.oid:
        return v
    return format_text(v, t, tz=ctx.timezone if ctx else None)


def _cast_text(v, t, ctx):
    from .casts import cast
    return cast(v, t, T.TEXT, tz=ctx.timezone if ctx else None)


def _concat_factory(ctx, params, elem):
    def concat(*args):
        return "".join(_text_of(a, t, ctx) for a, t in zip(args, params) if a is not None)
    return concat


def _concat_ws_factory(ctx, params, elem):
    def concat_ws(sep, *args):
        if sep is None:
            return None
        return sep.join(_text_of(a, t, ctx) for a, t in zip(args, params[1:])
                        if a is not None)
    return concat_ws


def _format_factory(ctx, params, elem):
    def fmt(f, *args):
        if f is None:
            return None
        out = []
        i = 0
        argi = 0
        n = len(f)
        while i < n:
            c = f[i]
            if c != "%":
                out.append(c)
                i += 1
                continue
            i += 1
            if i >= n:
                raise InvalidParameterValue("unterminated format() type specifier",
                                            hint='For a single "%" use "%%".')
            if f[i] == "%":
                out.append("%")
                i += 1
                continue
            # optional position n$ and width (flags '-' and digits)
            j = i
            while j < n and f[j].isdigit():
                j += 1
            pos = None
            if j < n and f[j] == "$" and j > i:
                pos = int(f[i:j]) - 1
                i = j + 1
            left = False
            if i < n and f[i] == "-":
                left = True
                i += 1
            j = i
            while j < n and f[j].isdigit():
                j += 1
            width = int(f[i:j]) if j > i else 0
            i = j
            if i >= n:
                raise InvalidParameterValue("unterminated format() type specifier",
                                            hint='For a single "%" use "%%".')
            kind = f[i]
            i += 1
            if kind not in "sIL":
                raise InvalidParameterValue(f'unrecognized format() type specifier "{kind}"',
                                            hint='For a single "%" use "%%".')
            idx = pos if pos is not None else argi
            if idx >= len(args):
                raise InvalidParameterValue("too few arguments for format()")
            argi = idx + 1
            v = args[idx]
            t = params[idx + 1]
            if kind == "s":
                s = "" if v is None else _text_of(v, t, ctx)
            elif kind == "I":
                if v is None:
                    raise InvalidParameterValue(
                        "null values cannot be formatted as an SQL identifier")
                s = quote_ident(_text_of(v, t, ctx))
            else:
                s = "NULL" if v is None else quote_literal(_text_of(v, t, ctx))
            if width:
                s = s.ljust(width) if left else s.rjust(width)
            out.append(s)
        return "".join(out)
    return fmt


def _encode(b, fmt):
    fmt = fmt.lower()
    if fmt == "base64":
        s = base64.b64encode(b).decode()
        return "\n".join(s[i:i + 76] for i in range(0, len(s), 76))
    if fmt == "hex":
        return b.hex()
    if fmt == "escape":
        out = []
        for x in b:
            if x == 0x5C:
                out.append("\\\\")
            elif x == 0 or x >= 0x80:
                out.append("\\%03o" % x)
            else:
                out.append(chr(x))
        return "".join(out)
    raise InvalidParameterValue(f'unrecognized encoding: "{fmt}"')


def _decode(s, fmt):
    fmt = fmt.lower()
    if fmt == "base64":
        try:
            return base64.b64decode("".join(s.split()), validate=True)
        except Exception:
            raise InvalidParameterValue("invalid base64 end sequence",
                                        hint="Input data is missing padding, is truncated, "
                                             "or is otherwise corrupted.") from None
    if fmt == "hex":
        from .textio import parse_bytea
        return parse_bytea("\\x" + s)
    if fmt == "escape":
        from .textio import parse_bytea
        return parse_bytea(s)
    raise InvalidParameterValue(f'unrecognized encoding: "{fmt}"')


def _regexp_replace(s, pat, repl, flags=""):
    rx = patterns.compile_regex(pat, flags)
    count = 0 if "g" in flags else 1
    return rx.sub(lambda m: patterns.expand_replacement(m, repl), s, count=count)


def _match_groups(m):
    if m.re.groups:
        return [m.group(i + 1) for i in range(m.re.groups)]
    return [m.group(0)]


def _regexp_match(s, pat, flags=""):
    if "g" in flags:
        raise InvalidParameterValue("regexp_match() does not support the \"global\" option",
                                    hint="Use the regexp_matches function instead.")
    m = patterns.compile_regex(pat, flags).search(s)
    return _match_groups(m) if m else None


def _regexp_matches(s, pat, flags=""):
    rx = patterns.compile_regex(pat, flags)
    if "g" in flags:
        return [(_match_groups(m),) for m in rx.finditer(s)]
    m = rx.search(s)
    return [(_match_groups(m),)] if m else []


def _regexp_split(s, pat, flags=""):
    rx = patterns.compile_regex(pat, flags)
    out = []
    pos = 0
    for m in rx.finditer(s):
        if m.end() == m.start() and (m.start() == 0 or m.start() == len(s)):
            continue
        if m.end() == m.start():
            out.append(s[pos:m.start()])
            pos = m.start()
            continue
        out.append(s[pos:m.start()])
        pos = m.end()
    out.append(s[pos:])
    if len(s) == 0:
        return [""] if not rx.pattern else [""]
    return out


def _string_to_array(s, delim, null_str=None):
    if s is None:
        return None
    if s == "":
        return []
    if delim is None:
        parts = list(s)
    elif delim == "":
        parts = [s]
    else:
        parts = s.split(delim)
    if null_str is not None:
        parts = [None if p == null_str else p for p in parts]
    return parts


def _translate(s, frm, to):
    out = []
    for ch in s:
        i = frm.find(ch)
        if i < 0:
            out.append(ch)
        elif i < len(to):
            out.append(to[i])
    return "".join(out)


def _overlay(s, repl, start, count=None):
    if count is None:
        count = len(repl)
    if start < 1:
        raise SubstringError("negative substring length not allowed")
    return s[:start - 1] + repl + s[start - 1 + count:]


def _bpchar_len(s):
    return len(s.rstrip(" "))


def _reg_all():
    r = register
    for name in ("length", "char_length", "character_length"):
        r(name, (TXT,), INT, len)
        r(name, (T.BPCHAR,), INT, _bpchar_len)
    r("length", (BYTEA,), INT, len)
    r("octet_length", (TXT,), INT, lambda s: len(s.encode()))
    r("octet_length", (T.BPCHAR,), INT, lambda s: len(s.encode()))
    r("octet_length", (BYTEA,), INT, len)
    r("bit_length", (TXT,), INT, lambda s: 8 * len(s.encode()))
    r("lower", (TXT,), TXT, ascii_lower)
    r("upper", (TXT,), TXT, ascii_upper)
    r("initcap", (TXT,), TXT, _initcap)
    for name in ("substr", "substring"):
        r(name, (TXT, INT), TXT, _substr)
        r(name, (TXT, INT, INT), TXT, _substr)
        r(name, (BYTEA, INT), BYTEA, _substr)
        r(name, (BYTEA, INT, INT), BYTEA, _substr)
    r("substring", (TXT, TXT), TXT, lambda s, p: (lambda m: None if m is None else (
        m.group(1) if m.re.groups else m.group(0)))(patterns.compile_regex(p).search(s)))
    r("substring", (TXT, TXT, TXT), TXT, patterns.similar_substring)
    r("position", (TXT, TXT), INT, lambda s, sub: s.find(sub) + 1)  # position(sub IN s)
    r("strpos", (TXT, TXT), INT, lambda s, sub: s.find(sub) + 1)
    r("position", (BYTEA, BYTEA), INT, lambda s, sub: s.find(sub) + 1)
    r("replace", (TXT, TXT, TXT), TXT, lambda s, a, b: s.replace(a, b) if a else s)
    r("translate", (TXT, TXT, TXT), TXT, _translate)
    r("overlay", (TXT, TXT, INT), TXT, _overlay)
    r("overlay", (TXT, TXT, INT, INT), TXT, _overlay)
    for name, mode in (("btrim", "b"), ("ltrim", "l"), ("rtrim", "r")):
        r(name, (TXT,), TXT, lambda s, m=mode: _trim_chars(s, " ", m))
        r(name, (TXT, TXT), TXT, lambda s, c, m=mode: _trim_chars(s, c, m))
    r("btrim", (BYTEA, BYTEA), BYTEA, lambda s, c: s.strip(c))
    r("lpad", (TXT, INT), TXT, _lpad)
    r("lpad", (TXT, INT, TXT), TXT, _lpad)
    r("rpad", (TXT, INT), TXT, _rpad)
    r("rpad", (TXT, INT, TXT), TXT, _rpad)
    r("left", (TXT, INT), TXT, _left)
    r("right", (TXT, INT), TXT, _right)
    r("repeat", (TXT, INT), TXT, _repeat)
    r("reverse", (TXT,), TXT, lambda s: s[::-1])
    r("split_part", (TXT, TXT, INT), TXT, _split_part)
    r("concat", (ANY,), TXT, _concat_factory, strict=False, needs_ctx=True, variadic=True)
    r("concat_ws", (TXT, ANY), TXT, _concat_ws_factory, strict=False, needs_ctx=True,
      variadic=True)
    r("format", (TXT,), TXT, _format_factory, strict=False, needs_ctx=True)
    r("format", (TXT, ANY), TXT, _format_factory, strict=False, needs_ctx=True,
      variadic=True)
    r("md5", (TXT,), TXT, lambda s: hashlib.md5(s.encode()).hexdigest())
    r("md5", (BYTEA,), TXT, lambda b: hashlib.md5(b).hexdigest())
    r("sha256", (BYTEA,), BYTEA, lambda b: hashlib.sha256(b).digest())
    r("sha512", (BYTEA,), BYTEA, lambda b: hashlib.sha512(b).digest())
    r("encode", (BYTEA, TXT), TXT, _encode)
    r("decode", (TXT, TXT), BYTEA, _decode)
    r("chr", (INT,), TXT, _chr)
    r("ascii", (TXT,), INT, _ascii)
    r("starts_with", (TXT, TXT), BOOL, lambda s, p: s.startswith(p))
    r("quote_ident", (TXT,), TXT, quote_ident)
    r("quote_literal", (TXT,), TXT, quote_literal)
    r("quote_literal", (ANYELEMENT,), TXT,
      lambda ctx, params, elem: (lambda v: quote_literal(_cast_text(v, params[0], ctx))),
      needs_ctx=True)
    r("quote_nullable", (TXT,), TXT, lambda s: "NULL" if s is None else quote_literal(s),
      strict=False)
    r("regexp_replace", (TXT, TXT, TXT), TXT, _regexp_replace)
    r("regexp_replace", (TXT, TXT, TXT, TXT), TXT, _regexp_replace)
    r("regexp_match", (TXT, TXT), TXTARR, _regexp_match)
    r("regexp_match", (TXT, TXT, TXT), TXTARR, _regexp_match)
    r("regexp_matches", (TXT, TXT), [("regexp_matches", TXTARR)], _regexp_matches, srf=True)
    r("regexp_matches", (TXT, TXT, TXT), [("regexp_matches", TXTARR)], _regexp_matches,
      srf=True)
    r("regexp_split_to_array", (TXT, TXT), TXTARR, _regexp_split)
    r("regexp_split_to_array", (TXT, TXT, TXT), TXTARR, _regexp_split)
    r("regexp_split_to_table", (TXT, TXT), [("regexp_split_to_table", TXT)],
      lambda s, p: [(x,) for x in _regexp_split(s, p)], srf=True)
    r("string_to_array", (TXT, TXT), TXTARR, _string_to_array, strict=False)
    r("string_to_array", (TXT, TXT, TXT), TXTARR, _string_to_array, strict=False)
    r("string_to_table", (TXT, TXT), [("string_to_table", TXT)],
      lambda s, d: [(x,) for x in _string_to_array(s, d)], srf=True)
    r("to_hex", (INT,), TXT, lambda n: format(n & 0xFFFFFFFF, "x"))
    r("to_hex", (T.INT8,), TXT, lambda n: format(n & 0xFFFFFFFFFFFFFFFF, "x"))


_reg_all()

