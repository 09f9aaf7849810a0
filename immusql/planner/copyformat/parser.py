"""`CopyParser`: PostgreSQL's text and CSV COPY input, fed incrementally (a port of
copyfromparse.c). It owns the state between chunks (undecoded bytes, the unfinished
line, the line count, the end-of-data marker), decoding and invalid UTF-8, the header
line, field counts and FORCE_(NOT_)NULL; where a line ends (lines.py) and how a line
splits into fields (text.py, csvformat.py) are mixins of their own.
"""

from __future__ import annotations

import re
from typing import Iterator

from ... import errors
from .batch import Batch
from .csvformat import CsvFields
from .lines import _END, _NL, _UNKNOWN, LineReader
from .messages import _bad_format, first_invalid_utf8, invalid_utf8, line_context
from .options import CopyOptions
from .text import TextFields


class CopyParser(LineReader, TextFields, CsvFields):
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
        if self.csv:
            self._compile_csv()
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
