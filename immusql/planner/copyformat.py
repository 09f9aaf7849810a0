"""COPY's data formats, both directions: PostgreSQL 15's text, CSV and binary framing.

Why a module of its own: the formats are pure byte and string work (no catalog, no
store), and they are where most of COPY's PostgreSQL-compatibility lives: which bytes end
a row, what an escape means, when a CSV field is NULL, and the exact error (SQLSTATE
22P04 bad_copy_file_format, 22021 for invalid UTF-8) with its CONTEXT line
(`COPY t, line 3: "..."`). The engine side (planner/copy.py) turns the rows into values
and writes them.

Input (`CopyParser`, `BinaryParser`): feed arbitrary chunks of bytes (CopyData messages
split rows anywhere, even inside a UTF-8 character or a quoted CSV field); each `feed`
and the final `finish` is a generator of `Batch`es of complete rows, each row a list of
str | None (binary: bytes | None) with as many fields as columns. An error in
the data is raised only after the batch of the rows before it has been yielded, so the
consumer handles (and may fail on) earlier rows first, in PostgreSQL's order.

The text/CSV parser is a port of copyfromparse.c (CopyReadLineText, CopyReadAttributesText,
CopyReadAttributesCSV) including its quirks: the first line fixes the newline style (\\n,
\\r\\n or \\r) and a different one later is an error; `\\.` ends the data (in text mode
anywhere in a line, in CSV only alone on a line) and whatever follows it is ignored; a
CSV quoted newline counts as a line for messages except on the first line. A fast path
handles chunks without \\r and without `\\.` with str.split, which is where the speed
comes from; it produces exactly what the port does (tests compare them).

Output (`CopyFormatter`): one row of str | None (already the type's text output) to the
bytes of one line, as copyto.c's CopyAttributeOutText / CopyAttributeOutCSV.

Binary: the framing only (signature, flags, header extension, per-tuple field count,
-1 trailer); the values' binary encodings belong to the wire layer, so the engine takes
them as injected callables (see planner/copy.py).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Iterator

from .. import errors

# ------------------------------------------------------------------------- options ----

_UTF8_NAMES = frozenset({"utf8", "unicode"})
# PostgreSQL's encoding names (pg_encname_tbl, cleaned: lower case, alphanumerics only):
# a valid name other than UTF8 is refused as not supported rather than as invalid.
_PG_ENCODINGS = frozenset("""
abc alt big5 euccn eucjis2004 eucjp euckr euctw gb18030 gbk iso88591 iso885910 iso885913
iso885914 iso885915 iso885916 iso88592 iso88593 iso88594 iso88595 iso88596 iso88597
iso88598 iso88599 johab koi8 koi8r koi8u latin1 latin10 latin2 latin3 latin4 latin5
latin6 latin7 latin8 latin9 mskanji muleinternal shiftjis shiftjis2004 sjis sqlascii tcvn
tcvn5712 uhc unicode utf8 vscii win win1250 win1251 win1252 win1253 win1254 win1255
win1256 win1257 win1258 win866 win874 win932 win936 win949 win950 windows1250
windows1251 windows1252 windows1253 windows1254 windows1255 windows1256 windows1257
windows1258 windows866 windows874 windows932 windows936 windows949 windows950
""".split())

_TEXT_DELIM_FORBIDDEN = "\\.abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True)
class CopyOptions:
    """COPY's validated options, defaults filled in (PostgreSQL's CopyFormatOptions).

    header: False, True or 'match'. force_quote: '*' or a tuple of column names;
    force_not_null / force_null: tuples of column names (checked against the columns
    by the engine, which knows them)."""

    format: str = "text"  # 'text' | 'csv' | 'binary'
    delimiter: str = "\t"
    null: str = "\\N"
    header: object = False
    quote: str = '"'
    escape: str = '"'
    force_quote: object = ()
    force_not_null: tuple = ()
    force_null: tuple = ()
    freeze: bool = False
    encoding: str | None = None

    @property
    def csv(self) -> bool:
        return self.format == "csv"

    @property
    def binary(self) -> bool:
        return self.format == "binary"


def _as_bool(name: str, value) -> bool:
    """defGetBoolean: no value, true/false/on/off (any case), 1/0."""
    if value is None or value is True or value is False:
        return value is not False
    if isinstance(value, int):
        if value in (0, 1):
            return bool(value)
    elif isinstance(value, str):
        v = value.lower()
        if v in ("true", "on"):
            return True
        if v in ("false", "off"):
            return False
        if v in ("1", "0"):
            return v == "1"
    raise errors.SyntaxError(f"{name} requires a Boolean value")


def _as_header(value, is_from: bool):
    """defGetCopyHeaderChoice: a Boolean or "match" (COPY FROM only)."""
    if value is None or value is True or value is False:
        return value is not False
    if isinstance(value, int) and not isinstance(value, bool):
        if value in (0, 1):
            return bool(value)
    elif isinstance(value, str):
        v = value.lower()
        if v in ("true", "on"):
            return True
        if v in ("false", "off"):
            return False
        if v == "match":
            if not is_from:
                raise errors.FeatureNotSupported(
                    f'cannot use "{value}" with HEADER in COPY TO')
            return "match"
    raise errors.SyntaxError('header requires a Boolean value or "match"')


def _as_string(name: str, value) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (bool, tuple, list)):
        raise errors.SyntaxError(f"{name} requires a parameter")
    return str(value)


def _as_names(name: str, value) -> tuple:
    if isinstance(value, str) and value != "*":
        return (value,)
    if isinstance(value, (tuple, list)):
        return tuple(value)
    raise errors.InvalidParameterValue(
        f'argument to option "{name}" must be a list of column names')


def clean_encoding_name(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def parse_options(options, is_from: bool) -> CopyOptions:
    """Validate COPY's (name, value) options as PostgreSQL's ProcessCopyOptions does, in
    its order, with its messages and SQLSTATEs."""
    seen: set[str] = set()
    fmt = "text"
    vals: dict = {}
    for name, value in options:
        name = name.lower()
        if name in seen:
            raise errors.SyntaxError("conflicting or redundant options")
        seen.add(name)
        if name == "format":
            f = _as_string(name, value)
            if f not in ("text", "csv", "binary"):
                raise errors.InvalidParameterValue(f'COPY format "{f}" not recognized')
            fmt = f
        elif name == "freeze":
            vals["freeze"] = _as_bool(name, value)
        elif name in ("delimiter", "null", "quote", "escape"):
            vals[name] = _as_string(name, value)
        elif name == "header":
            vals["header"] = _as_header(value, is_from)
        elif name == "force_quote":
            vals[name] = "*" if value == "*" else _as_names(name, value)
        elif name in ("force_not_null", "force_null"):
            vals[name] = _as_names(name, value)
        elif name == "encoding":
            enc = _as_string(name, value)
            cleaned = clean_encoding_name(enc)
            if cleaned not in _PG_ENCODINGS:
                raise errors.InvalidParameterValue(
                    'argument to option "encoding" must be a valid encoding name')
            if cleaned not in _UTF8_NAMES and cleaned != "sqlascii":
                raise errors.FeatureNotSupported(
                    f'COPY ENCODING "{enc}" is not supported: immusql reads and writes '
                    "UTF8 only")
            vals["encoding"] = enc
        else:
            raise errors.SyntaxError(f'option "{name}" not recognized')
    csv, binary = fmt == "csv", fmt == "binary"
    if binary and "delimiter" in vals:
        raise errors.SyntaxError("cannot specify DELIMITER in BINARY mode")
    if binary and "null" in vals:
        raise errors.SyntaxError("cannot specify NULL in BINARY mode")
    delim = vals.get("delimiter", "," if csv else "\t")
    null = vals.get("null", "" if csv else "\\N")
    quote = vals.get("quote", '"') if csv else vals.get("quote")
    escape = (vals.get("escape", quote) if csv else vals.get("escape"))
    if len(delim.encode()) != 1:
        raise errors.FeatureNotSupported("COPY delimiter must be a single one-byte character")
    if delim in "\r\n":
        raise errors.InvalidParameterValue(
            "COPY delimiter cannot be newline or carriage return")
    if "\r" in null or "\n" in null:
        raise errors.InvalidParameterValue(
            "COPY null representation cannot use newline or carriage return")
    if not csv and delim in _TEXT_DELIM_FORBIDDEN:
        raise errors.InvalidParameterValue(f'COPY delimiter cannot be "{delim}"')
    header = vals.get("header", False)
    if binary and header:
        raise errors.FeatureNotSupported("cannot specify HEADER in BINARY mode")
    if not csv and quote is not None:
        raise errors.FeatureNotSupported("COPY quote available only in CSV mode")
    if csv and len(quote.encode()) != 1:
        raise errors.FeatureNotSupported("COPY quote must be a single one-byte character")
    if csv and delim == quote:
        raise errors.InvalidParameterValue("COPY delimiter and quote must be different")
    if not csv and escape is not None:
        raise errors.FeatureNotSupported("COPY escape available only in CSV mode")
    if csv and len(escape.encode()) != 1:
        raise errors.FeatureNotSupported("COPY escape must be a single one-byte character")
    fq = vals.get("force_quote", ())
    if not csv and fq:
        raise errors.FeatureNotSupported("COPY force quote available only in CSV mode")
    if fq and is_from:
        raise errors.FeatureNotSupported("COPY force quote only available using COPY TO")
    fnn = vals.get("force_not_null", ())
    if not csv and fnn:
        raise errors.FeatureNotSupported("COPY force not null available only in CSV mode")
    if fnn and not is_from:
        raise errors.FeatureNotSupported(
            "COPY force not null only available using COPY FROM")
    fn = vals.get("force_null", ())
    if not csv and fn:
        raise errors.FeatureNotSupported("COPY force null available only in CSV mode")
    if fn and not is_from:
        raise errors.FeatureNotSupported("COPY force null only available using COPY FROM")
    if delim in null:
        raise errors.FeatureNotSupported(
            "COPY delimiter must not appear in the NULL specification")
    if csv and quote in null:
        raise errors.FeatureNotSupported(
            "CSV quote character must not appear in the NULL specification")
    return CopyOptions(fmt, delim, null, header, quote or '"', escape or '"', fq, fnn, fn,
                       vals.get("freeze", False), vals.get("encoding"))


# ------------------------------------------------------------------------ messages ----

MAX_DISPLAY = 100  # PostgreSQL's MAX_COPY_DATA_DISPLAY (bytes)


def limit_printout(s: str) -> str:
    """limit_printout_length: at most 100 bytes, cut at a character boundary, '...'."""
    if len(s) <= MAX_DISPLAY // 4:
        return s
    b = s.encode("utf-8", "surrogatepass")
    if len(b) <= MAX_DISPLAY:
        return s
    return b[:MAX_DISPLAY].decode("utf-8", "ignore") + "..."


def line_context(relname: str, lineno: int, line: str | None = None) -> str:
    """CopyFromErrorCallback for an error about a whole line (its text when known)."""
    if line is None:
        return f"COPY {relname}, line {lineno}"
    return f'COPY {relname}, line {lineno}: "{limit_printout(line)}"'


def column_context(relname: str, lineno: int, column: str, value, binary=False) -> str:
    """CopyFromErrorCallback for an error about one column's value."""
    if binary:
        return f"COPY {relname}, line {lineno}, column {column}"
    if value is None:
        return f"COPY {relname}, line {lineno}, column {column}: null input"
    return f'COPY {relname}, line {lineno}, column {column}: "{limit_printout(value)}"'


def _with_context(err: errors.Error, context: str) -> errors.Error:
    err.context = context
    return err


def _bad_format(message: str, context: str | None = None, hint: str | None = None):
    e = errors.BadCopyFileFormat(message, hint=hint)
    e.context = context
    return e


def _utf8_len(first: int) -> int:
    """pg_utf_mblen: the length a UTF-8 sequence starting with this byte claims."""
    if first < 0x80:
        return 1
    if first & 0xE0 == 0xC0:
        return 2
    if first & 0xF0 == 0xE0:
        return 3
    if first & 0xF8 == 0xF0:
        return 4
    return 1


def invalid_utf8(data: bytes, at: int) -> errors.Error:
    """report_invalid_encoding: 22021 naming the bytes of the bad sequence."""
    n = min(_utf8_len(data[at]), len(data) - at, 8)
    shown = " ".join(f"0x{b:02x}" for b in data[at:at + n])
    return errors.CharacterNotInRepertoire(
        f'invalid byte sequence for encoding "UTF8": {shown}')


def first_invalid_utf8(data: bytes) -> int | None:
    """Offset of the first byte that is not valid UTF-8 for PostgreSQL (NUL included)."""
    nul = data.find(b"\x00")
    end = nul if nul >= 0 else len(data)
    try:
        data[:end].decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start
    return nul if nul >= 0 else None


# -------------------------------------------------------------------------- input -----

@dataclass
class Batch:
    """Complete rows, in input order. rows[i] has one field per column (str | None, or
    bytes | None for binary). linenos[i] is its line number for messages; lines[i] its
    text (the line without its end, for messages) or None (binary). With the parser's
    allow_short, a row may have fewer fields (then `short` is set): the caller converts
    the fields it has, then reports `missing_data` for the first missing one."""

    rows: list
    linenos: object  # list[int] or range
    lines: list | None = None
    short: bool = False  # some rows have fewer fields than columns (allow_short)


_UNKNOWN, _NL, _CR, _CRNL = 0, 1, 2, 3
_LINE, _END = 0, 1


class CopyParser:
    """PostgreSQL's text and CSV COPY input, fed incrementally.

    `names`: the target columns in COPY's order (for "missing data for column" and
    HEADER MATCH); `relname`: the table name for CONTEXT lines. `force_not_null` /
    `force_null`: positions in `names` (CSV only)."""

    def __init__(self, opts: CopyOptions, names, relname: str, force_not_null=(),
                 force_null=(), allow_short: bool = False):
        self.csv = opts.csv
        self.delim = opts.delimiter
        self.null = opts.null
        self.quote = opts.quote
        self.escape = opts.escape
        self.header = opts.header
        self.names = list(names)
        self.ncols = len(self.names)
        self.relname = relname
        self.force_not_null = tuple(force_not_null)
        self.force_null = tuple(force_null)
        self.lineno = 0  # lines read so far (PostgreSQL's cur_lineno)
        # PostgreSQL converts a row's values before it notices a missing one, so a bad
        # value left of the gap is the error; allow_short leaves that check to the
        # caller (rows may then be short, and the Batch says so)
        self.allow_short = allow_short
        self._short = False
        self.eol = _UNKNOWN
        self.done = False  # end-of-data marker seen: the rest is ignored
        self.fast = True  # tests turn the fast path off to compare it with the port
        self._raw = bytearray()  # bytes not decoded yet (after the last line end)
        self._carry = ""  # decoded text of a line not complete yet
        self._need_header = bool(self.header)
        self._bad_at: int | None = None  # invalid UTF-8 at this offset of _raw
        self._partial_extra = 0  # quoted newlines of the line _read_line could not finish
        d = re.escape(self.delim)
        if self.csv:
            q, e = re.escape(self.quote), re.escape(self.escape)
            if self.quote == self.escape:
                body = f"(?:[^{q}]|{q}{q})*+"
                self._unescape_quoted = lambda s, qq=self.quote * 2, q1=self.quote: \
                    s.replace(qq, q1)
            else:
                body = f"(?:{e}[{e}{q}]|[^{q}])*+"
                pair = re.compile(f"{e}([{e}{q}])")
                self._unescape_quoted = lambda s, p=pair: p.sub(r"\1", s)
            self._csv_field = re.compile(f"(?:[^{d}{q}]++|{q}{body}{q})*+", re.S)
            self._csv_quoted = re.compile(f"{q}({body}){q}", re.S)
            specials = {"\r", "\n", "\\", self.quote}
            if self.quote != self.escape:
                specials.add(self.escape)
                self._csv_qe = re.compile(f"[{q}{e}]")
            self._special = re.compile(
                "[" + "".join(re.escape(c) for c in sorted(specials)) + "]")
        else:
            self._special = re.compile(r"[\\\r\n]")
        self._null_has_backslash = "\\" in self.null
        forced = sorted(set(self.force_not_null) | set(self.force_null))
        self._force = [(i, i in self.force_not_null, i in self.force_null) for i in forced]

    # ---------------------------------------------------------------- public API -----
    def feed(self, data: bytes) -> Iterator[Batch]:
        """Rows completed by `data` (a generator: iterate it to parse)."""
        if self.done or not data:
            return
        raw = self._raw
        start = len(raw)
        raw += data
        if self._bad_at is not None:
            if len(raw) - self._bad_at >= 4:
                raise self._encoding_error()
            return
        cut = max(raw.rfind(b"\n", start), raw.rfind(b"\r", start))
        if cut < 0:
            return
        region = bytes(raw[:cut + 1])
        del raw[:cut + 1]
        yield from self._decode_and_parse(region, final=False)

    def finish(self) -> Iterator[Batch]:
        """The rows of the data's last line (if it has no line end); after the last feed."""
        if self.done:
            return
        if self._bad_at is not None:
            raise self._encoding_error()
        region = bytes(self._raw)
        self._raw.clear()
        yield from self._decode_and_parse(region, final=True)

    # ---------------------------------------------------------------- decoding -------
    def _decode_and_parse(self, region: bytes, final: bool) -> Iterator[Batch]:
        try:
            text = region.decode("utf-8")
            bad = region.find(b"\x00") if "\x00" in text else None
        except UnicodeDecodeError:
            bad = first_invalid_utf8(region)
        if bad is None:
            yield from self._parse(self._carry + text, final)
            return
        text = self._carry + region[:bad].decode("utf-8")
        # PostgreSQL reports the bad bytes when its parser reaches them: rows before
        # come first, and an end-of-data marker before them makes them harmless
        yield from self._parse(text, False)
        if self.done:
            return
        # the line being read when the bad bytes come: its quoted newlines count too
        self._partial_extra = 0
        if self._carry and self.csv:
            self._read_line(self._carry, 0, False)
        self._raw[:0] = region[bad:]
        self._bad_at = 0
        if final or len(self._raw) >= 4:
            raise self._encoding_error()

    def _encoding_error(self) -> errors.Error:
        e = invalid_utf8(bytes(self._raw), self._bad_at)
        self.done = True
        e.context = line_context(self.relname, self.lineno + 1 + self._partial_extra)
        return e

    # ---------------------------------------------------------------- lines ----------
    def _parse(self, text: str, final: bool) -> Iterator[Batch]:
        rows: list = []
        linenos: list = []
        lines: list = []
        self._carry = ""
        pos = 0
        try:
            if self._need_header:
                r = self._read_line(text, 0, final)
                if r is None:
                    self._carry = text
                    return
                kind, line, pos, extra = r
                self.lineno += 1 + extra
                self._need_header = False
                if self.header == "match":
                    self._match_header(line)
                if kind == _END:
                    self.done = True
                    return
            if self.fast and self._fast_ok(text, pos):
                if self.csv:
                    pos = self._fast_csv(text, pos, final, rows, linenos, lines)
                else:
                    pos = self._fast_text(text, pos, final, rows, linenos, lines)
            else:
                pos = self._slow(text, pos, final, rows, linenos, lines)
            if not self.done and pos < len(text):
                self._carry = text[pos:]
        except errors.Error as e:
            self.done = True
            err = e
        else:
            err = None
        if rows:
            yield Batch(rows, linenos, lines, self._short)
            self._short = False
        if err is not None:
            raise err

    def _fast_ok(self, text: str, pos: int) -> bool:
        if self.eol not in (_UNKNOWN, _NL) or text.find("\r", pos) >= 0:
            return False
        if self.csv:
            return not text.startswith("\\.", pos) and text.find("\n\\.", pos) < 0
        return text.find("\\.", pos) < 0

    def _slow(self, text, pos, final, rows, linenos, lines) -> int:
        """The exact port: one line at a time through _read_line."""
        fields_of = self._csv_fields if self.csv else self._text_fields
        while True:
            r = self._read_line(text, pos, final)
            if r is None:
                return pos
            kind, line, pos, extra = r
            if kind == _END:
                self.done = True
                if line == "":
                    self.lineno += 1 + extra
                    return pos
            self.lineno += 1 + extra
            row = fields_of(line, self.lineno)
            self._add_row(row, line, self.lineno, rows, linenos, lines)
            if kind == _END:
                return pos

    def _add_row(self, row, line, lineno, rows, linenos, lines) -> None:
        n = len(row)
        if n != self.ncols:
            if n > self.ncols or self.ncols == 0 or not self.allow_short:
                self._count_error(row, line, lineno)
            self._short = True
        if self._force:
            self._apply_force(row)
        rows.append(row)
        linenos.append(lineno)
        lines.append(line)

    def _count_error(self, row, line, lineno):
        ctx = line_context(self.relname, lineno, line)
        if self.ncols == 0 or len(row) > self.ncols:
            raise _bad_format("extra data after last expected column", ctx)
        raise self.missing_data(row, line, lineno)

    def missing_data(self, row, line, lineno) -> errors.Error:
        """The error for a row with fewer fields than columns (see `allow_short`)."""
        return _bad_format(f'missing data for column "{self.names[len(row)]}"',
                           line_context(self.relname, lineno, line))

    def _apply_force(self, row) -> None:
        """FORCE_NOT_NULL: a NULL becomes the null string (so the empty string by default);
        FORCE_NULL: a (quoted) value equal to the null string becomes NULL."""
        null = self.null
        n = len(row)
        for i, not_null, to_null in self._force:
            if i >= n:
                break
            v = row[i]
            if v is None:
                if not_null:
                    row[i] = null
            elif to_null and v == null:
                row[i] = None

    def _read_line(self, s: str, pos: int, final: bool):
        """CopyReadLineText from `pos`: (kind, line, next position, extra line count) or
        None when the line is not complete and more data may come. kind _END: end of
        data (the `\\.` marker, or the end of the last chunk); `line` is the text before
        it. Raises the line-level errors (newline style, corrupt end marker)."""
        n = len(s)
        csv = self.csv
        quote = self.quote
        esc = self.escape if self.escape != self.quote else None
        in_quote = last_esc = False
        extra = 0
        eol = self.eol
        counted = "\n" if eol == _NL else "\r"
        search = self._special.search
        i = pos
        while True:
            m = search(s, i)
            if m is None:
                if final:
                    return _END, s[pos:], n, extra
                return self._need_more(extra)
            j = m.start()
            if j > i:
                last_esc = False
            c = s[j]
            i = j + 1
            if csv:
                if (c == "\\" or c == "\r") and i >= n and not final:
                    return self._need_more(extra)
                if in_quote and c == esc:
                    last_esc = not last_esc
                if c == quote and not last_esc:
                    in_quote = not in_quote
                if c != esc:
                    last_esc = False
                if in_quote and c == counted:
                    extra += 1
            if c == "\r" and not (csv and in_quote):
                if eol == _UNKNOWN or eol == _CRNL:
                    if i >= n and not final:
                        return self._need_more(extra)
                    if i < n and s[i] == "\n":
                        i += 1
                        eol = _CRNL
                    else:
                        if eol == _CRNL:
                            raise self._newline_error("\r", extra)
                        eol = _CR
                elif eol == _NL:
                    raise self._newline_error("\r", extra)
                self.eol = eol
                return _LINE, s[pos:j], i, extra
            if c == "\n" and not (csv and in_quote):
                if eol == _CR or eol == _CRNL:
                    raise self._newline_error("\n", extra)
                self.eol = _NL
                return _LINE, s[pos:j], i, extra
            if c == "\\" and (not csv or j == pos):
                if i >= n:
                    if not final:
                        return self._need_more(extra)
                    return _END, s[pos:], n, extra  # a backslash at the very end is data
                if s[i] == ".":
                    i += 1
                    if eol == _CRNL:
                        if i >= n and not final:
                            return self._need_more(extra)
                        c2 = s[i] if i < n else ""
                        i += 1
                        if c2 == "\n":
                            if not csv:
                                raise self._marker_error(True, extra)
                            i = j + 1  # CSV: not an end marker, the backslash is data
                            continue
                        if c2 != "\r":
                            if not csv:
                                raise self._marker_error(False, extra)
                            i = j + 1
                            continue
                    if i >= n and not final:
                        return self._need_more(extra)
                    c2 = s[i] if i < n else ""
                    i += 1
                    if c2 != "\r" and c2 != "\n":
                        if not csv:
                            raise self._marker_error(False, extra)
                        i = j + 1
                        continue
                    if (eol in (_NL, _CRNL) and c2 != "\n") or (eol == _CR and c2 != "\r"):
                        raise self._marker_error(True, extra)
                    return _END, s[pos:j], i, extra
                if not csv:
                    i += 1  # the escaped character is data, whatever it is

    def _need_more(self, extra: int) -> None:
        self._partial_extra = extra  # for an invalid-UTF-8 error inside this line
        return None

    def _newline_error(self, c: str, extra: int):
        ctx = line_context(self.relname, self.lineno + 1 + extra)
        if c == "\r":
            if self.csv:
                return _bad_format("unquoted carriage return found in data", ctx,
                                   "Use quoted CSV field to represent carriage return.")
            return _bad_format("literal carriage return found in data", ctx,
                               'Use "\\r" to represent carriage return.')
        if self.csv:
            return _bad_format("unquoted newline found in data", ctx,
                               "Use quoted CSV field to represent newline.")
        return _bad_format("literal newline found in data", ctx,
                           'Use "\\n" to represent newline.')

    def _marker_error(self, style: bool, extra: int):
        ctx = line_context(self.relname, self.lineno + 1 + extra)
        if style:
            return _bad_format("end-of-copy marker does not match previous newline style",
                               ctx)
        return _bad_format("end-of-copy marker corrupt", ctx)

    def _match_header(self, line: str) -> None:
        fields = (self._csv_fields if self.csv else self._text_fields)(line, self.lineno)
        ctx = line_context(self.relname, self.lineno, line)
        if len(fields) != self.ncols:
            raise _bad_format(f"wrong number of fields in header line: got {len(fields)}, "
                              f"expected {self.ncols}", ctx)
        for i, (got, want) in enumerate(zip(fields, self.names), 1):
            if got is None:
                raise _bad_format(f"column name mismatch in header line field {i}: got null "
                                  f'value ("{self.null}"), expected "{want}"', ctx)
            if got != want:
                raise _bad_format(f'column name mismatch in header line field {i}: got '
                                  f'"{got}", expected "{want}"', ctx)

    # ---------------------------------------------------------------- fast paths -----
    def _fast_text(self, text, pos, final, rows, linenos, lines) -> int:
        """Text format without \\r and `\\.`: lines are split by str.split."""
        seg = text[pos:] if pos else text
        if not seg:
            return pos
        phys = seg.split("\n")
        tail = phys.pop()
        if "\\\n" in seg:  # a backslash may escape a line end: join such lines
            phys, tail = _join_escaped_newlines(phys, tail)
        if phys:
            self.eol = _NL  # a line has ended with \n: the newline style is fixed
        if final and tail:
            phys.append(tail)
            tail = ""
            self.done = True
        if not phys:
            return len(text) - len(tail)
        delim, null = self.delim, self.null
        plain_null = not self._null_has_backslash
        if "\\" not in seg:
            out = [ln.split(delim) for ln in phys]
            if plain_null:
                out = [r if null not in r else [None if f == null else f for f in r]
                       for r in out]
        else:
            out = []
            first = self.lineno + 1
            for k, ln in enumerate(phys):
                if "\\" in ln:
                    try:
                        out.append(self._text_fields(ln, first + k))
                    except errors.Error:
                        self._take(out, phys[:k], rows, linenos, lines)
                        raise
                else:
                    r = ln.split(delim)
                    if plain_null and null in r:
                        r = [None if f == null else f for f in r]
                    out.append(r)
        self._take(out, phys, rows, linenos, lines)
        return len(text) - len(tail)

    def _take(self, out, phys, rows, linenos, lines) -> None:
        """Append fast-path rows (one line each), checking field counts; an error in a
        row leaves the rows before it taken."""
        ncols = self.ncols
        bad = None
        if ncols == 0:
            bad = next((k for k, ln in enumerate(phys) if ln), None)
            out = [[] for _ in phys]
        elif out and set(map(len, out)) != {ncols}:
            if self.allow_short:
                bad = next((k for k, r in enumerate(out) if len(r) > ncols), None)
                self._short = True
            else:
                bad = next(k for k, r in enumerate(out) if len(r) != ncols)
        if bad is not None:
            bad_row = out[bad] if ncols else [phys[bad]]
            bad_line = phys[bad]
            out, phys = out[:bad], phys[:bad]
        if self._force:
            for r in out:
                self._apply_force(r)
        first = self.lineno + 1
        rows.extend(out)
        lines.extend(phys)
        linenos.extend(range(first, first + len(out)))
        self.lineno += len(out)
        if bad is not None:
            self.lineno += 1
            self._count_error(bad_row, bad_line, self.lineno)

    def _fast_csv(self, text, pos, final, rows, linenos, lines) -> int:
        seg = text[pos:] if pos else text
        if not seg:
            return pos
        phys = seg.split("\n")
        tail = phys.pop()
        quote, delim, null = self.quote, self.delim, self.null
        if quote not in seg:
            if phys:
                self.eol = _NL
            if final and tail:
                phys.append(tail)
                tail = ""
                self.done = True
            out = [ln.split(delim) for ln in phys]
            out = [r if null not in r else [None if f == null else f for f in r] for r in out]
            self._take(out, phys, rows, linenos, lines)
            return len(text) - len(tail)
        # quoted fields may hold line ends: join physical lines while inside quotes
        fields_of = self._csv_fields
        same = self.quote == self.escape
        k = 0
        n = len(phys)
        consumed = 0  # characters of seg in complete logical lines
        while k < n:
            ln = phys[k]
            if quote not in ln:
                logical, used = ln, 1
            else:
                state = self._quote_state(ln, False, False, same)
                used = 1
                while state[0] and k + used < n:
                    nxt = phys[k + used]
                    state = self._quote_state(nxt, *state, same) if quote in nxt or \
                        not same else (state[0], False)
                    used += 1
                if state[0]:  # still inside quotes at the last complete physical line
                    break
                logical = "\n".join(phys[k:k + used])
            extra = used - 1 if self.eol == _NL else 0
            self.eol = _NL
            self.lineno += 1 + extra
            row = fields_of(logical, self.lineno) if quote in logical else \
                [None if f == null else f for f in logical.split(delim)]
            consumed += len(logical) + 1
            self._add_row(row, logical, self.lineno, rows, linenos, lines)
            k += used
        rest = seg[consumed:]
        if final and rest:
            # the last line has no line end (or an unterminated quote): the port's job
            return pos + consumed + (self._slow(rest, 0, True, rows, linenos, lines))
        return pos + consumed

    def _quote_state(self, ln, in_quote, last_esc, same):
        """CopyReadLineText's CSV quote state after the characters of `ln` plus a line end."""
        if same:
            return (in_quote ^ bool(ln.count(self.quote) & 1), False)
        quote, esc = self.quote, self.escape
        pos = 0
        for m in self._csv_qe.finditer(ln):
            if m.start() > pos:
                last_esc = False
            c = m.group()
            if in_quote and c == esc:
                last_esc = not last_esc
            if c == quote and not last_esc:
                in_quote = not in_quote
            if c != esc:
                last_esc = False
            pos = m.end()
        if pos < len(ln):
            last_esc = False
        return in_quote, False  # the line end itself resets last_esc

    # ---------------------------------------------------------------- fields ---------
    def _text_fields(self, line: str, lineno: int) -> list:
        """CopyReadAttributesText: split at unescaped delimiters, NULL when the raw field
        is the null string, then de-escape."""
        if self.ncols == 0:
            return [] if line == "" else [line]
        delim = self.delim
        parts = line.split(delim)
        if "\\" in line:
            merged = []
            pending = None
            for p in parts:
                if pending is not None:
                    p = pending + delim + p
                    pending = None
                if p.endswith("\\") and (len(p) - len(p.rstrip("\\"))) & 1:
                    pending = p
                    continue
                merged.append(p)
            if pending is not None:
                merged.append(pending)
            parts = merged
        null = self.null
        out = []
        for p in parts:
            if p == null:
                out.append(None)
            elif "\\" in p:
                out.append(self._unescape(p, line, lineno))
            else:
                out.append(p)
        return out

    def _unescape(self, raw: str, line: str, lineno: int) -> str:
        high = []
        value = _TEXT_ESCAPE.sub(lambda m: _text_escape(m, high), raw)
        if not high:
            return value
        data = _escape_bytes(raw)
        bad = first_invalid_utf8(data)
        if bad is not None:
            raise _with_context(invalid_utf8(data, bad),
                                line_context(self.relname, lineno, line))
        return data.decode("utf-8")

    def _csv_fields(self, line: str, lineno: int) -> list:
        """CopyReadAttributesCSV."""
        if self.ncols == 0:
            return [] if line == "" else [line]
        match = self._csv_field.match
        delim, quote, null = self.delim, self.quote, self.null
        n = len(line)
        out = []
        pos = 0
        while True:
            end = match(line, pos).end()
            raw = line[pos:end]
            if quote not in raw:
                out.append(None if raw == null else raw)
            else:
                out.append(self._csv_quoted.sub(
                    lambda m: self._unescape_quoted(m.group(1)), raw))
            if end >= n:
                return out
            if line[end] != delim:
                raise _bad_format("unterminated CSV quoted field",
                                  line_context(self.relname, lineno, line))
            pos = end + 1


def _join_escaped_newlines(phys: list, tail: str):
    """Text format: a line ending in an odd run of backslashes continues on the next."""
    out = []
    pending = None
    for ln in phys:
        if pending is not None:
            ln = pending + "\n" + ln
            pending = None
        if ln.endswith("\\") and (len(ln) - len(ln.rstrip("\\"))) & 1:
            pending = ln
            continue
        out.append(ln)
    if pending is not None:
        tail = pending + "\n" + tail
    return out, tail


_TEXT_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.)|\Z)", re.S)
_CONTROL = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _text_escape(m, high: list) -> str:
    octal, hexa, other = m.groups()
    if octal is not None or hexa is not None:
        v = (int(octal, 8) if octal is not None else int(hexa, 16)) & 0xFF
        if v == 0 or v >= 0x80:
            high.append(v)
        return chr(v)
    if other is None:
        return ""  # a backslash at the end of the line is dropped
    return _CONTROL.get(other, other)


def _escape_bytes(raw: str) -> bytes:
    """De-escape into bytes (numeric escapes are bytes, the rest UTF-8)."""
    out = bytearray()
    pos = 0
    for m in _TEXT_ESCAPE.finditer(raw):
        out += raw[pos:m.start()].encode()
        octal, hexa, other = m.groups()
        if octal is not None or hexa is not None:
            out.append((int(octal, 8) if octal is not None else int(hexa, 16)) & 0xFF)
        elif other is not None:
            out += _CONTROL.get(other, other).encode()
        pos = m.end()
    out += raw[pos:].encode()
    return bytes(out)


# ------------------------------------------------------------------------- output -----

class CopyFormatter:
    """One row of text values (str | None) to the bytes of one COPY line, as PostgreSQL's
    CopyOneRowTo (a line ends with \\n; NULL is the null string, never escaped).

    force_quote: '*' or the positions of the columns to quote always (CSV)."""

    def __init__(self, opts: CopyOptions, ncols: int, force_quote=()):
        self.csv = opts.csv
        self.delim = d = opts.delimiter
        self.null = opts.null
        self.quote = opts.quote
        self.escape = opts.escape
        self.ncols = ncols
        self.single = ncols == 1
        if force_quote == "*":
            force_quote = range(ncols)
        self.force = frozenset(force_quote)
        if self.csv:
            chars = {d, self.quote, "\n", "\r"}
            self._needs_quote = re.compile(
                "[" + "".join(re.escape(c) for c in sorted(chars)) + "]").search
            self._esc = self.escape
            specials = {self.quote, self.escape}
            self._escape_re = re.compile(
                "[" + "".join(re.escape(c) for c in sorted(specials)) + "]")
        else:
            # what CopyAttributeOutText escapes: backslash, the delimiter, and control
            # characters (as \b \f \n \r \t \v; other controls only if the delimiter)
            table = {"\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                     "\t": "\\t", "\v": "\\v"}
            if d not in table:
                table[d] = "\\" + d
            self._table = str.maketrans(table)
            chars = "".join(re.escape(c) for c in sorted(table) if c != d)
            self._special = re.compile(f"[{chars}]").search

    def header(self, names) -> bytes:
        if self.csv:
            parts = [self._csv_value(n, False) for n in names]
        else:
            parts = [n.translate(self._table) for n in names]
        return (self.delim.join(parts) + "\n").encode()

    def row(self, fields) -> bytes:
        if self.csv:
            return self._csv_row(fields)
        d = self.delim
        if None not in fields:
            line = d.join(fields)
            if self._special(line) is None and line.count(d) == len(fields) - 1:
                return (line + "\n").encode()
            return (d.join([f.translate(self._table) for f in fields]) + "\n").encode()
        null = self.null
        return (d.join([null if f is None else f.translate(self._table) for f in fields])
                + "\n").encode()

    def _csv_row(self, fields) -> bytes:
        force = self.force
        null = self.null
        out = []
        for i, f in enumerate(fields):
            if f is None:
                out.append(null)
            else:
                out.append(self._csv_value(f, i in force))
        return (self.delim.join(out) + "\n").encode()

    def _csv_value(self, s: str, quote: bool) -> str:
        """CopyAttributeOutCSV."""
        if not quote:
            if s == self.null:
                quote = True
            elif self.single and s == "\\.":
                quote = True
            elif self._needs_quote(s) is not None:
                quote = True
            else:
                return s
        q = self.quote
        if self._escape_re.search(s) is not None:
            s = self._escape_re.sub(lambda m: self._esc + m.group(), s)
        return q + s + q


# ------------------------------------------------------------------------- binary -----

BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
BINARY_HEADER = BINARY_SIGNATURE + b"\x00\x00\x00\x00\x00\x00\x00\x00"
BINARY_TRAILER = b"\xff\xff"
_I16 = struct.Struct("!h")
_I32 = struct.Struct("!i")


def binary_row(fields) -> bytes:
    """One tuple of the binary format: field count, then (length, bytes) or -1 per field."""
    parts = [_I16.pack(len(fields))]
    for f in fields:
        if f is None:
            parts.append(b"\xff\xff\xff\xff")
        else:
            parts.append(_I32.pack(len(f)))
            parts.append(f)
    return b"".join(parts)


class BinaryParser:
    """PostgreSQL's binary COPY input (framing only), fed incrementally. Rows are lists of
    bytes | None; messages name the tuple as a "line", as PostgreSQL does."""

    def __init__(self, names, relname: str):
        self.names = list(names)
        self.ncols = len(self.names)
        self.relname = relname
        self.lineno = 0
        self.done = False
        self._buf = bytearray()
        self._pos = 0
        self._header_done = False
        self._trailer_seen = False

    def feed(self, data: bytes) -> Iterator[Batch]:
        if self.done and not self._trailer_seen:
            return
        self._buf += data
        yield from self._parse(final=False)

    def finish(self) -> Iterator[Batch]:
        if self.done and not self._trailer_seen:
            return
        yield from self._parse(final=True)
        self.done = True

    def _parse(self, final: bool) -> Iterator[Batch]:
        buf = self._buf
        if self._trailer_seen:
            if len(buf) > self._pos:
                self._trailer_seen = False
                self.done = True
                raise _bad_format("received copy data after EOF marker",
                                  line_context(self.relname, self.lineno))
            return
        if not self._header_done:
            if not self._header(final):
                return
        rows, linenos = [], []
        err = None
        pos = self._pos
        n = len(buf)
        ncols = self.ncols
        unpack16, unpack32 = _I16.unpack_from, _I32.unpack_from
        try:
            while True:
                if n - pos < 2:
                    if final:
                        self.done = True  # end of data at a tuple boundary (or a stray byte)
                    break
                count = unpack16(buf, pos)[0]
                if count == -1:
                    pos += 2
                    self.lineno += 1
                    self._trailer_seen = True
                    self.done = True
                    if n > pos:
                        self._trailer_seen = False
                        raise _bad_format("received copy data after EOF marker",
                                          line_context(self.relname, self.lineno))
                    break
                if count != ncols:
                    self.lineno += 1
                    raise _bad_format(f"row field count is {count}, expected {ncols}",
                                      line_context(self.relname, self.lineno))
                p = pos + 2
                row = []
                complete = True
                for _ in range(count):
                    if n - p < 4:
                        complete = False
                        break
                    size = unpack32(buf, p)[0]
                    p += 4
                    if size == -1:
                        row.append(None)
                        continue
                    if size < 0:
                        self.lineno += 1
                        raise _bad_format("invalid field size", self._column(len(row)))
                    if n - p < size:
                        complete = False
                        break
                    row.append(bytes(buf[p:p + size]))
                    p += size
                if not complete:
                    if final:
                        self.lineno += 1
                        raise _bad_format("unexpected EOF in COPY data",
                                          self._column(len(row)))
                    break
                pos = p
                self.lineno += 1
                rows.append(row)
                linenos.append(self.lineno)
        except errors.Error as e:
            self.done = True
            err = e
        del buf[:pos]
        self._pos = 0
        if rows:
            yield Batch(rows, linenos, None)
        if err is not None:
            raise err

    def _column(self, i: int) -> str:
        return column_context(self.relname, self.lineno, self.names[i], None, binary=True)

    def _header(self, final: bool) -> bool:
        buf = self._buf
        n = len(buf)
        if n < 11:
            if final or BINARY_SIGNATURE[:n] != bytes(buf):
                raise self._header_error("COPY file signature not recognized")
            return False
        if bytes(buf[:11]) != BINARY_SIGNATURE:
            raise self._header_error("COPY file signature not recognized")
        if n < 15:
            if final:
                raise self._header_error("invalid COPY file header (missing flags)")
            return False
        flags = _I32.unpack_from(buf, 11)[0]
        if flags & (1 << 16):
            raise self._header_error("invalid COPY file header (WITH OIDS)")
        if (flags & ~(1 << 16)) >> 16:
            raise self._header_error("unrecognized critical flags in COPY file header")
        if n < 19:
            if final:
                raise self._header_error("invalid COPY file header (missing length)")
            return False
        ext = _I32.unpack_from(buf, 15)[0]
        if ext < 0:
            raise self._header_error("invalid COPY file header (missing length)")
        if n < 19 + ext:
            if final:
                raise self._header_error("invalid COPY file header (wrong length)")
            return False
        del buf[:19 + ext]
        self._header_done = True
        return True

    def _header_error(self, message: str):
        self.done = True
        return _bad_format(message)
