"""The CSV format's fields (a port of CopyReadAttributesCSV: quotes, escapes, when a field
is NULL) and its fast path, which splits chunks without \\r and without a `\\.` line
with str.split, joining physical lines inside quotes. Named csvformat so that it does
not shadow the standard library's csv.

A mixin of `CopyParser` (planner/copyformat/parser.py): it uses the parser's options
and row bookkeeping (`_add_row`, `_take`, `_slow`, `lineno`).
"""

from __future__ import annotations

import re

from .lines import _NL
from .messages import _bad_format, line_context


class CsvFields:
    """CSV field splitting, the CSV fast path, and the patterns both use."""

    def _compile_csv(self) -> None:
        """The CSV patterns for these options (quote, escape, delimiter)."""
        d = re.escape(self.delim)
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
