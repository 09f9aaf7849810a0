"""`CopyFormatter`: COPY TO's text and CSV output, one row of str | None (already the
type's text output) to the bytes of one line, as copyto.c's CopyAttributeOutText /
CopyAttributeOutCSV.
"""

from __future__ import annotations

import re

from .options import CopyOptions


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
