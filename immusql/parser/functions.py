"""Function calls: plain calls with DISTINCT / ORDER BY / FILTER / OVER / WITHIN GROUP,
window specifications, and the SQL-standard functions with special syntax.

The special forms become ordinary calls with PostgreSQL 15's names and argument order, as
gram.y builds them: EXTRACT(f FROM x) -> extract('f', x), POSITION(a IN b) -> position(b, a),
SUBSTRING(x FROM a FOR b) -> substring(x, a, b), TRIM(LEADING c FROM x) -> ltrim(x, c),
OVERLAY(x PLACING y FROM a FOR b) -> overlay(x, y, a, b); CURRENT_DATE, CURRENT_TIMESTAMP(3),
USER ... become calls without arguments (or with the precision) named by the keyword.
"""

from __future__ import annotations

from .ast import FrameBound, FuncCall, Literal, Name, NamedArg, SimilarEscape, WindowSpec
from .common import FuncName, TokenError, dotted, name_of, pos_of

_TRIM_FUNCTIONS = {None: "btrim", "BOTH": "btrim", "LEADING": "ltrim", "TRAILING": "rtrim"}


def _call(name: str, args, pos: int) -> FuncCall:
    return FuncCall(Name((name,)), tuple(args), pos=pos)


class FunctionRules:
    """Transformer callbacks for function calls and window clauses."""

    def func_name(self, c):
        tok = c[0]
        if len(c) == 1:
            return FuncName(Name((name_of(tok),)), tok.start_pos, tok.type == "QIDENT")
        return FuncName(Name(dotted(tok, c[1])), tok.start_pos, False)

    def call_noargs(self, c):
        fname = c[0]
        return FuncCall(fname.name, pos=fname.pos)

    def call_star(self, c):
        fname = c[0]
        return FuncCall(fname.name, star=True, pos=fname.pos)

    def func_arg_list(self, c):
        """Arguments; named ones (`x => 1`) may only follow the positional ones."""
        seen_named = False
        for a in c:
            if a.__class__ is NamedArg:
                seen_named = True
            elif seen_named:
                raise TokenError(pos_of(a),
                                 message="positional argument cannot follow named argument")
        return c

    def named_arg(self, c):
        name, _, value = c
        return NamedArg(name_of(name), value, pos=name.start_pos)

    def call_args(self, c):
        fname, quantifier, args, order = c
        distinct = quantifier is not None and quantifier.type == "DISTINCT"
        return FuncCall(fname.name, tuple(args), distinct=distinct,
                        order_by=order.value if order else (), pos=fname.pos)

    def func_call(self, c):
        call, within, filter_, over = c
        if within is None and filter_ is None and over is None:
            return call
        if within is not None and (call.order_by or call.distinct or call.star):
            what = ("multiple ORDER BY clauses" if call.order_by
                    else "DISTINCT" if call.distinct else "*")
            raise TokenError(call.pos, message=f"cannot use {what} with WITHIN GROUP")
        return FuncCall(call.name, call.args, call.star, call.distinct, call.order_by,
                        filter_, over, within.value if within else (), pos=call.pos)

    # --- windows
    def over_spec(self, c):
        return c[0]

    def over_name(self, c):
        return WindowSpec(name=name_of(c[0]))

    def window_spec(self, c):
        ref, partition, order, frame = c
        mode = start = end = exclusion = None
        if frame is not None:
            mode, start, end, exclusion = frame
        return WindowSpec(name_of(ref) if ref is not None else None,
                          tuple(partition or ()), order.value if order else (),
                          mode, start, end, exclusion)

    def frame_single(self, c):
        mode, start, exclusion = c
        return name_of(mode), start, None, exclusion

    def frame_between(self, c):
        mode, start, end, exclusion = c
        return name_of(mode), start, end, exclusion

    def unbounded_preceding(self, c):
        return FrameBound("unbounded_preceding")

    def unbounded_following(self, c):
        return FrameBound("unbounded_following")

    def current_row(self, c):
        return FrameBound("current_row")

    def offset_preceding(self, c):
        return FrameBound("preceding", c[0])

    def offset_following(self, c):
        return FrameBound("following", c[0])

    def exclude_current_row(self, c):
        return "current_row"

    def exclude_group(self, c):
        return "group"

    def exclude_ties(self, c):
        return "ties"

    def exclude_no_others(self, c):
        return "no_others"

    # --- SQL-standard syntax
    def sql_value_func(self, c):
        """CURRENT_DATE, CURRENT_TIMESTAMP(p), LOCALTIME, USER, CURRENT_SCHEMA ...: a call
        named by the keyword, with the precision as its argument when one is given."""
        tok = c[0]
        precision = c[1] if len(c) > 1 else None
        args = () if precision is None else (Literal(int(precision), "integer",
                                                     pos=precision.start_pos),)
        return _call(name_of(tok), args, tok.start_pos)

    def extract_func(self, c):
        tok, field, source = c
        return _call("extract", (Literal(str(field), "string", pos=field.start_pos), source),
                     tok.start_pos)

    def overlay_func(self, c):
        tok, string, placing, start, length = c
        args = (string, placing, start) if length is None else (string, placing, start, length)
        return _call("overlay", args, tok.start_pos)

    def plain_special_func(self, c):
        """COALESCE, GREATEST, LEAST, NULLIF, and OVERLAY/SUBSTRING with plain arguments."""
        tok, args = c
        if args and len(args) == 1 and args[0].__class__ is SimilarEscape and \
                name_of(tok) == "substring":
            a = args[0]
            args = (a.operand, a.pattern, a.escape)
        return _call(name_of(tok), args or (), tok.start_pos)

    def position_func(self, c):
        tok, needle, haystack = c
        return _call("position", (haystack, needle), tok.start_pos)

    def substring_from(self, c):
        tok, string, start, length = c
        args = (string, start) if length is None else (string, start, length)
        return _call("substring", args, tok.start_pos)

    def substring_for(self, c):
        tok, string, length, start = c
        if start is None:
            start = Literal(1, "integer", pos=pos_of(length))
        return _call("substring", (string, start, length), tok.start_pos)

    def trim_func(self, c):
        tok, side, (chars, args) = c
        name = _TRIM_FUNCTIONS[side.type if side is not None else None]
        return _call(name, (*args, chars) if chars is not None else args, tok.start_pos)

    def trim_chars_from(self, c):
        return c[0], tuple(c[1])

    def trim_from(self, c):
        return None, tuple(c[0])

    def trim_plain(self, c):
        return None, tuple(c[0])
