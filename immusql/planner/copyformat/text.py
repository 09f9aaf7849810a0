"""The text format's fields (a port of CopyReadAttributesText: delimiters, backslash
escapes, the null string) and its fast path, which splits chunks without \\r and
without `\\.` with str.split and produces exactly what the port does (tests compare
them).

A mixin of `CopyParser` (planner/copyformat/parser.py): it uses the parser's options
and row bookkeeping (`_take`, `lineno`).
"""

from __future__ import annotations

import re

from ... import errors
from .lines import _NL
from .messages import _with_context, first_invalid_utf8, invalid_utf8, line_context


class TextFields:
    """Text-format field splitting and the text fast path."""

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
