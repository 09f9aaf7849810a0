"""Where a text or CSV COPY line ends: a port of copyfromparse.c's CopyReadLineText with
its quirks. The first line fixes the newline style (\\n, \\r\\n or \\r) and a different
one later is an error; `\\.` ends the data (in text mode anywhere in a line, in CSV only
alone on a line) and whatever follows it is ignored; a CSV quoted newline counts as a
line for messages except on the first line.

A mixin of `CopyParser` (planner/copyformat/parser.py), whose state it reads and sets
(`eol`, `lineno`, `_partial_extra`); kept apart because it is the exact port the fast
paths are checked against.
"""

from __future__ import annotations

from .messages import _bad_format, line_context

_UNKNOWN, _NL, _CR, _CRNL = 0, 1, 2, 3
_LINE, _END = 0, 1


class LineReader:
    """CopyReadLineText and the line-level errors it raises."""

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
