"""The LALR(1) loop over Lark's parse table and callbacks.

Lark compiles grammar/sql.lark, builds the LALR(1) table and wraps the transformer's
callbacks (child filtering, `[optional]` placeholders, `?rule` inlining); this module only
runs the shift/reduce loop, because Lark's generic one costs more than the rest of parsing:
it looks each reduction's callback up by Rule equality (the table and the callback map hold
different, equal Rule objects once loaded from Lark's cache) and calls a wrapper even for
unit reductions (`?rule: other`). Here every table entry is resolved once, when the parser
is built, and unit reductions just change state.

The loop pulls tokens from the lexer and stops at a top-level `;`, so a script is tokenized
and parsed in one pass and an error stops the work where it is found, as in PostgreSQL.
"""

from __future__ import annotations

from lark import Lark
from lark.parsers.lalr_analysis import Shift


class ParseError(Exception):
    """An unexpected token (None: the end of the statement, which `terminator`, a `;`
    token or None at the end of the input, ended) and the terminals the parser expected."""

    def __init__(self, token, expected: frozenset[str], terminator=None):
        super().__init__(token)
        self.token, self.expected, self.terminator = token, expected, terminator


class Driver:
    """Parses one statement at a time with the tables of a Lark LALR parser."""

    def __init__(self, lark: Lark):
        lalr = lark.parser.parser
        table, callbacks = lalr._parse_table, lalr.parser.callbacks
        self.start = table.start_states["start"]
        self.end = table.end_states["start"]
        reductions: dict[int, tuple] = {}
        self.actions: dict[int, dict[str, tuple]] = {}
        for state, row in table.states.items():
            self.actions[state] = {
                term: (True, arg) if action is Shift else
                (False, reductions.get(id(arg)) or reductions.setdefault(
                    id(arg), _reduction(arg, callbacks[arg])))
                for term, (action, arg) in row.items()}

    def expected(self, state: int) -> frozenset[str]:
        return frozenset(t for t in self.actions[state] if t.isupper())

    def parse(self, tokens, seen: list):
        """Parse the tokens of one statement, pulled from the iterator `tokens` up to a
        SEMICOLON token or its end; they are appended to `seen`. Returns (result, the `;`
        token or None); the result is None for an empty statement. Raises ParseError."""
        actions = self.actions
        states = [self.start]
        values: list = []
        terminator = None
        append = seen.append
        for tok in tokens:
            ttype = tok.type
            if ttype == "SEMICOLON":
                terminator = tok
                break
            append(tok)
            while True:
                try:
                    shift, arg = actions[states[-1]][ttype]
                except KeyError:
                    raise ParseError(tok, self.expected(states[-1])) from None
                if shift:
                    states.append(arg)
                    values.append(tok)
                    break
                size, origin, callback, keep = arg
                if callback is None and size == 1:  # unit reduction: only the state changes
                    states[-1] = actions[states[-2]][origin][1]
                    continue
                _reduce(actions, states, values, size, origin, callback, keep)
        if not seen:
            return None, terminator
        end = self.end
        while True:
            try:
                shift, arg = actions[states[-1]]["$END"]
            except KeyError:
                raise ParseError(None, self.expected(states[-1]), terminator) from None
            _reduce(actions, states, values, *arg)
            if states[-1] == end:
                return values[-1], terminator


def _reduce(actions, states: list, values: list, size: int, origin: str, callback,
            keep: int) -> None:
    if callback is None:  # the value of one child passes through
        kept = values[keep - size]
        del states[-size:], values[-size:]
        values.append(kept)
    elif size:
        children = values[-size:]
        del states[-size:], values[-size:]
        values.append(callback(children))
    else:
        values.append(callback([]))
    states.append(actions[states[-1]][origin][1])


def _reduction(rule, callback) -> tuple:
    """(size, origin, callback, index): callback None when the reduction just passes one
    child through (a `?rule` with a single kept, non-inlined symbol), index is that child."""
    size = len(rule.expansion)
    kept = [i for i, sym in enumerate(rule.expansion)
            if not (sym.is_term and sym.filter_out)]
    if (rule.options.expand1 and not rule.alias and len(kept) == 1
            and not any(rule.options.empty_indices or ())
            and not (not rule.expansion[kept[0]].is_term
                     and rule.expansion[kept[0]].name.startswith("_"))):
        return size, rule.origin.name, None, kept[0]
    return size, rule.origin.name, callback, 0
