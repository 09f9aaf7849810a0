"""Compile AST expressions into Python closures over a row, with PostgreSQL typing.

Every operator and function is resolved once, at plan time, from the argument types
(`operators`, `functions`, `casts`); what runs per row is a closure that reads slots of a
tuple and calls the resolved implementation. NULL propagation and three-valued logic are
handled here, so the implementations only ever see non-NULL values. Subexpressions whose
inputs are all constants are folded at compile time (so `'1'::int + 1` costs nothing per
row, and its errors surface when the statement is planned, as PostgreSQL's do).

Aggregates and window calls are not compiled here: the select planner computes them and
passes `replacements` mapping each such AST node (and each GROUP BY expression) to the
slot that holds its value.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import uuid
from dataclasses import dataclass
from typing import Callable

from .. import errors
from ..parser import ast
from . import casts, functions, named_args, numerics, operators, overload, patterns
from . import types as T
from .callinfo import is_aggregate, is_window_only
from .compiled import Compiled, constant
from .compiled import error_position as _pos
from .expr_arrays import ArrayRowCompiling
from .scope import Scope
from .sequences import sequence_call
from .subqueries import SubqueryCompiling

INT4_MIN, INT4_MAX = -(1 << 31), (1 << 31) - 1
INT8_MIN, INT8_MAX = -(1 << 63), (1 << 63) - 1


def _typmod_error(value, src, target, explicit) -> bool:
    """Whether converting `value` failed only at the length/precision check (varchar(3),
    numeric(5,2)): PostgreSQL reports that one without the literal's position."""
    if target.typmod < 0 or target.element is not None:
        return False
    try:
        casts.cast(value, src, target.with_typmod(-1), explicit)
    except errors.Error:
        return False
    return True


class ExprCompiler(ArrayRowCompiling, SubqueryCompiling):
    """Compiles expressions of one query level.

    ctx: the statement context (session settings, now(), subquery planning callback).
    replacements: AST node -> (slot, type) for aggregates / group keys / window calls.
    """

    def __init__(self, scope: Scope, ctx, replacements: dict | None = None,
                 allow_aggregates: bool = False, clause: str = "WHERE"):
        self.scope = scope
        self.ctx = ctx
        self.replacements = replacements or {}
        self.allow_aggregates = allow_aggregates
        self.clause = clause

    # ------------------------------------------------------------------ entry points ----
    def compile(self, node: ast.Expr, expected: T.SqlType | None = None) -> Compiled:
        c = self._compile(node)
        if expected is not None and c.type != expected:
            c = self.coerce(c, expected, node)
        return c

    def predicate(self, node: ast.Expr) -> Callable[[tuple], object]:
        c = self._compile(node)
        if c.type not in (T.BOOL, T.UNKNOWN):
            raise errors.DatatypeMismatch(
                f"argument of {self.clause} must be type boolean, not type {c.type.name}",
                position=_pos(node))
        if c.type == T.UNKNOWN:
            c = self.coerce(c, T.BOOL, node)
        return c.fn

    def coerce(self, c: Compiled, target: T.SqlType, node=None, context: str = "implicit"
               ) -> Compiled:
        """Convert to `target` as PostgreSQL's implicit/assignment coercion would."""
        if c.type == target:
            return c
        if c.type != T.UNKNOWN and not casts.can_cast(c.type, target, context):
            raise errors.DatatypeMismatch(
                f"cannot cast type {T.format_type(c.type)} to {T.format_type(target)}",
                position=_pos(node))
        return self.cast(c, target, explicit=(context == "explicit"))

    def cast(self, c: Compiled, target: T.SqlType, explicit: bool = True) -> Compiled:
        src = c.type
        if isinstance(c, _UnknownParam):
            self.ctx.infer_param(c.index, target)
        tz = getattr(self.ctx, "timezone", None)  # text <-> timestamptz reads the session's
        if c.const:
            try:
                value = None if c.value is None else casts.cast(c.value, src, target,
                                                                explicit, tz=tz)
            except errors.Error as e:
                if e.position is None and c.pos is not None and \
                        not _typmod_error(c.value, src, target, explicit):
                    e.position = c.pos
                raise
            return Compiled(lambda row, v=value: v, target, True, value, c.name)
        inner = c.fn
        if isinstance(c, _Param):
            return _Param(_memo_cast(inner, src, target, explicit, tz), target, name=c.name,
                          index=c.index)
        do_cast = casts.cast

        def fn(row):
            v = inner(row)
            return None if v is None else do_cast(v, src, target, explicit, tz=tz)
        return Compiled(fn, target, name=c.name)

    # ------------------------------------------------------------------ dispatch --------
    def _compile(self, node) -> Compiled:
        hit = self.replacements.get(node)
        if hit is not None:
            slot, type_ = hit
            return Compiled(lambda row, i=slot: row[i], type_, name=_default_name(node))
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise errors.FeatureNotSupported(
                f"expression {type(node).__name__} is not supported here", position=_pos(node))
        return method(node)

    # ------------------------------------------------------------------ leaves ----------
    def _Literal(self, n: ast.Literal) -> Compiled:
        k, v = n.kind, n.value
        if k == "integer":
            if INT4_MIN <= v <= INT4_MAX:
                return constant(v, T.INT4)
            if INT8_MIN <= v <= INT8_MAX:
                return constant(v, T.INT8)
            return constant(decimal.Decimal(v), T.NUMERIC)
        if k in ("numeric", "float"):
            return constant(numerics.parse_numeric(str(v)), T.NUMERIC)
        if k == "string":
            c = constant(v, T.UNKNOWN)
            c.pos = _pos(n)  # PostgreSQL reports a bad literal at the literal
            return c
        if k == "boolean":
            return constant(v, T.BOOL)
        if k == "null":
            return constant(None, T.UNKNOWN)
        if k in ("bytes", "bitstring"):
            return constant(v, T.BYTEA)
        raise errors.FeatureNotSupported(f"literal of kind {k}", position=_pos(n))

    def _Param(self, n: ast.Param) -> Compiled:
        params = self.ctx.params
        if not 1 <= n.index <= len(params):
            raise errors.UndefinedParameter(f"there is no parameter ${n.index}",
                                            position=_pos(n))
        i = n.index - 1
        type_ = self.ctx.param_type(i)  # declared, else inferred (describe), else by value
        # read at run time, not folded: a cached plan runs again with other values
        fn = lambda row, p=params, i=i: p[i]  # noqa: E731
        if type_.oid == T.UNKNOWN.oid:  # typed by its context, like an unknown literal
            return _UnknownParam(fn, type_, index=i)
        return _Param(fn, type_, index=i)

    def _infer(self, c: Compiled, t: T.SqlType) -> None:
        """Describe: an unknown parameter passed where `t` is taken is of type `t`."""
        if isinstance(c, _UnknownParam):
            self.ctx.infer_param(c.index, t)

    def output_text(self, c: Compiled) -> Compiled:
        """An untyped select-list output, resolved to text. A parameter typed only by this
        is typed softly: a UNION or INSERT ... SELECT around it may still type it
        (PostgreSQL leaves those unresolved: `SELECT $1 UNION SELECT 1` makes $1 int4)."""
        if isinstance(c, _UnknownParam):
            self.ctx.infer_param(c.index, T.TEXT, soft=True)
            c = Compiled(c.fn, c.type, name=c.name)
        return self.cast(c, T.TEXT, explicit=False)

    def _ColumnRef(self, n: ast.ColumnRef) -> Compiled:
        try:
            depth, slot, type_ = self.scope.resolve(n.parts, n.pos)
        except errors.UndefinedColumn:
            whole = self._whole_row(n) if len(n.parts) == 1 else None
            if whole is None:
                raise
            return whole
        name = n.parts[-1]
        record = getattr(self.ctx, "ref_recorder", None)  # views.py: what names resolve to
        if record is not None:
            target = self.scope
            for _ in range(depth):
                target = target.parent
            record(n, target.columns[slot])
        if depth == 0:
            return Compiled(lambda row, i=slot: row[i], type_, name=name)
        target = self.scope
        for _ in range(depth):
            target = target.parent
        cell = target.outer
        return Compiled(lambda row, i=slot, c=cell: c.row[i], type_, name=name)

    def _whole_row(self, n: ast.ColumnRef) -> Compiled | None:
        """A bare FROM alias that is no column (row_to_json(t)) denotes t's whole row: a
        record of its visible columns, as in PostgreSQL."""
        alias, scope, depth = n.parts[0], self.scope, 0
        while scope is not None and alias not in scope.tables:
            scope, depth = scope.parent, depth + 1
        if scope is None:
            return None
        cols = [(i, c) for i, c in enumerate(scope.columns)
                if c.table == alias and not c.hidden]
        slots = [i for i, _ in cols]
        rtype = T.record_of([(c.name, c.type) for _, c in cols])
        if depth == 0:
            return Compiled(lambda row: tuple(row[i] for i in slots), rtype, name=alias)
        cell = scope.outer
        return Compiled(lambda row: tuple(cell.row[i] for i in slots), rtype, name=alias)

    def _Star(self, n: ast.Star) -> Compiled:
        raise errors.SyntaxError("* is only allowed in a select list or count(*)",
                                 position=_pos(n))

    def _Default(self, n: ast.Default) -> Compiled:
        raise errors.SyntaxError("DEFAULT is not allowed in this context", position=_pos(n))

    # ------------------------------------------------------------------ operators -------
    def _unify_unknown(self, left: Compiled, right: Compiled, node) -> tuple[Compiled, Compiled]:
        """PostgreSQL types an unknown literal from the other operand."""
        if left.type == T.UNKNOWN and right.type != T.UNKNOWN:
            left = self.cast(left, right.type, explicit=False)
        elif right.type == T.UNKNOWN and left.type != T.UNKNOWN:
            right = self.cast(right, left.type, explicit=False)
        elif left.type == T.UNKNOWN and right.type == T.UNKNOWN:
            left = self.cast(left, T.TEXT, explicit=False)
            right = self.cast(right, T.TEXT, explicit=False)
        return left, right

    def binary(self, op: str, left: Compiled, right: Compiled, node) -> Compiled:
        # unknown-typed literals are typed by operator resolution (json -> 'key' is text)
        cache = self.ctx.session.resolved
        key = (op, left.type, right.type)
        hit = cache.get(key)
        if hit is None:
            try:
                hit = operators.resolve_binary(op, left.type, right.type, self.ctx.fctx)
            except errors.Error as e:
                if e.position is None:
                    e.position = _pos(node)
                raise
            if len(cache) < 4096:
                cache[key] = hit
        impl, rtype = hit
        if getattr(self.ctx, "inferred", None) is not None:  # describing
            for c, t in zip((left, right), getattr(impl, "arg_types", ())):
                self._infer(c, t)
        converted = self._convert_fixed_operands(impl, left, right)
        if converted is not None:
            return self.binary(op, *converted, node)
        lf, rf = left.fn, right.fn
        if getattr(impl, "nonstrict", False):  # array || NULL
            if left.const and right.const:
                return constant(impl(left.value, right.value), rtype)
            return Compiled(lambda row: impl(lf(row), rf(row)), rtype)
        if left.const and right.const:
            value = (None if left.value is None or right.value is None
                     else impl(left.value, right.value))
            return constant(value, rtype)

        def fn(row):
            # Both operands first, as PostgreSQL does: an error in the right one is
            # raised even when the left one is NULL.
            a = lf(row)
            b = rf(row)
            if a is None or b is None:
                return None
            return impl(a, b)
        return Compiled(fn, rtype)

    def _convert_fixed_operands(self, impl, left: Compiled, right: Compiled):
        """An operand that is the same for every row (a constant, a parameter) converted
        to the operator's input type here, once, instead of inside the operator on every
        row (`col = $1` with an untyped $1). None when there is nothing to convert."""
        types = getattr(impl, "arg_types", ())
        if len(types) != 2:
            return None
        out, changed = [], False
        for c, t in zip((left, right), types):
            if (c.const or isinstance(c, _Param)) and c.type.oid != t.oid \
                    and t.oid not in overload.POLY and t.oid != T.UNKNOWN.oid:
                c, changed = self.cast(c, t, explicit=False), True
            out.append(c)
        return out if changed else None

    def _BinaryOp(self, n: ast.BinaryOp) -> Compiled:
        if isinstance(n.left, ast.RowExpr) and isinstance(n.right, ast.RowExpr):
            return self._compile(_row_comparison(n))
        if isinstance(n.left, ast.RowExpr) and isinstance(n.right, ast.SubqueryExpr):
            return self._row_subquery_compare(n)
        return self.binary(n.op, self._compile(n.left), self._compile(n.right), n)

    def _UnaryOp(self, n: ast.UnaryOp) -> Compiled:
        c = self._compile(n.operand)
        if c.type == T.UNKNOWN:
            c = self.cast(c, T.NUMERIC if n.op in "+-" else T.TEXT, explicit=False)
        if n.op == "-" and c.const and isinstance(n.operand, ast.Literal) \
                and n.operand.kind == "integer":
            return self._Literal(ast.Literal(-n.operand.value, "integer"))
        impl, rtype = operators.resolve_unary(n.op, c.type, self.ctx.fctx)
        if c.const:
            return constant(None if c.value is None else impl(c.value), rtype)
        f = c.fn
        return Compiled(lambda row: (None if (v := f(row)) is None else impl(v)), rtype)

    def _BoolOp(self, n: ast.BoolOp) -> Compiled:
        fns = [self._bool(o) for o in n.operands]
        if n.op == "and":
            def fn(row):
                result = True
                for f in fns:
                    v = f(row)
                    if v is False:
                        return False
                    if v is None:
                        result = None
                return result
        else:
            def fn(row):
                result = False
                for f in fns:
                    v = f(row)
                    if v is True:
                        return True
                    if v is None:
                        result = None
                return result
        return Compiled(fn, T.BOOL)

    def _bool(self, node, what: str = "AND") -> Callable:
        c = self._compile(node)
        if c.type == T.UNKNOWN:
            c = self.cast(c, T.BOOL, explicit=False)
        elif c.type != T.BOOL:
            raise errors.DatatypeMismatch(
                f"argument of {what} must be type boolean, not type {c.type.name}",
                position=_pos(node))
        return c.fn

    def _Not(self, n: ast.Not) -> Compiled:
        f = self._bool(n.operand, "NOT")
        return Compiled(lambda row: None if (v := f(row)) is None else not v, T.BOOL)

    def _IsNull(self, n: ast.IsNull) -> Compiled:
        f = self._compile(n.operand).fn
        if n.negated:
            return Compiled(lambda row: f(row) is not None, T.BOOL)
        return Compiled(lambda row: f(row) is None, T.BOOL)

    def _IsBool(self, n: ast.IsBool) -> Compiled:
        f, want, neg = self._bool(n.operand), n.value, n.negated
        return Compiled(lambda row: (f(row) is want) != neg, T.BOOL)

    def _IsDistinctFrom(self, n: ast.IsDistinctFrom) -> Compiled:
        left, right = self._unify_unknown(self._compile(n.left), self._compile(n.right), n)
        impl, _ = operators.resolve_binary("=", left.type, right.type)
        lf, rf, neg = left.fn, right.fn, n.negated

        def fn(row):
            a, b = lf(row), rf(row)
            if a is None or b is None:
                same = a is None and b is None
            else:
                same = bool(impl(a, b))
            return same if neg else not same
        return Compiled(fn, T.BOOL)

    def _Between(self, n: ast.Between) -> Compiled:
        x = n.operand
        lo = ast.BinaryOp(">=", x, n.low)
        hi = ast.BinaryOp("<=", x, n.high)
        expr: ast.Expr = ast.BoolOp("and", (lo, hi))
        if n.symmetric:
            lo2 = ast.BinaryOp(">=", x, n.high)
            hi2 = ast.BinaryOp("<=", x, n.low)
            expr = ast.BoolOp("or", (expr, ast.BoolOp("and", (lo2, hi2))))
        c = self._compile(expr)
        if n.negated:
            f = c.fn
            return Compiled(lambda row: None if (v := f(row)) is None else not v, T.BOOL)
        return c

    def _InList(self, n: ast.InList) -> Compiled:
        left = self._compile(n.operand)
        items = [self._compile(i) for i in n.items]
        known = [c.type for c in [left] + items if c.type != T.UNKNOWN]
        target = casts.common_type(known) if known else T.TEXT
        left = self.coerce(left, target, n.operand) if left.type != target else left
        items = [self.coerce(c, target, i) if c.type != target else c
                 for c, i in zip(items, n.items)]
        impl, _ = operators.resolve_binary("=", target, target)
        lf, neg = left.fn, n.negated
        if all(c.const for c in items):
            values = [c.value for c in items]
            has_null = any(v is None for v in values)
            present = [v for v in values if v is not None]
            try:
                lookup = frozenset(present)
            except TypeError:
                lookup = None

            def fn(row):
                a = lf(row)
                if a is None:
                    return None
                if lookup is not None and a in lookup:
                    hit = True
                else:
                    hit = any(impl(a, v) for v in present)
                if hit:
                    return not neg
                return None if has_null else neg
            return Compiled(fn, T.BOOL)
        fns = [c.fn for c in items]

        def fn(row):
            a = lf(row)
            if a is None:
                return None
            saw_null = False
            for f in fns:
                v = f(row)
                if v is None:
                    saw_null = True
                elif impl(a, v):
                    return not neg
            return None if saw_null else neg
        return Compiled(fn, T.BOOL)

    def _Like(self, n: ast.Like) -> Compiled:
        subject = self._compile(n.operand)
        pattern = self._compile(n.pattern)
        if subject.type == T.UNKNOWN:
            subject = self.cast(subject, T.TEXT, explicit=False)
        if pattern.type == T.UNKNOWN:
            pattern = self.cast(pattern, T.TEXT, explicit=False)
        escape = self._compile(n.escape) if n.escape is not None else None
        make = _similar_matcher if n.similar else patterns.compile_like
        sf, pf, neg, ci = subject.fn, pattern.fn, n.negated, n.case_insensitive
        if pattern.const and (escape is None or escape.const):
            if pattern.value is None or (escape is not None and escape.value is None):
                return constant(None, T.BOOL)
            match = make(pattern.value, None if escape is None else escape.value, ci)

            def fn(row):
                s = sf(row)
                return None if s is None else match(s) != neg
            return Compiled(fn, T.BOOL)
        ef = escape.fn if escape is not None else (lambda row: None)

        def fn(row):
            s, p, e = sf(row), pf(row), ef(row)
            if s is None or p is None or (escape is not None and e is None):
                return None
            return make(p, e, ci)(s) != neg
        return Compiled(fn, T.BOOL)

    def _Case(self, n: ast.Case) -> Compiled:
        if n.operand is not None:
            whens = [(ast.BinaryOp("=", n.operand, cond), res) for cond, res in n.whens]
        else:
            whens = list(n.whens)
        conds = [self._bool(c) for c, _ in whens]
        results = [self._compile(r) for _, r in whens]
        default = self._compile(n.default) if n.default is not None else constant(None, T.UNKNOWN)
        # PostgreSQL resolves the ELSE branch first (transformCaseExpr puts it in front)
        target = casts.resolve_common_type([c.type for c in [default] + results], "CASE")
        results = [self.coerce(c, target, r) for c, (_, r) in zip(results, whens)]
        default = self.coerce(default, target, n.default)
        pairs = [(c, r.fn) for c, r in zip(conds, results)]
        df = default.fn

        def fn(row):
            for cond, res in pairs:
                if cond(row) is True:
                    return res(row)
            return df(row)
        return Compiled(fn, target, name="case")

    def _Cast(self, n: ast.Cast) -> Compiled:
        target = T.type_from_name(n.type)
        if isinstance(n.operand, ast.ArrayLiteral) and not n.operand.items \
                and target.element is not None:
            out = constant([], target, "array")
            out.name = _type_column_name(target)
            return out
        c = self._compile(n.operand)
        if c.type != T.UNKNOWN and c.type != target and not casts.can_cast(c.type, target,
                                                                          "explicit"):
            raise errors.CannotCoerce(
                f"cannot cast type {T.format_type(c.type)} to {T.format_type(target)}",
                position=_pos(n))
        out = self.cast(c, target, explicit=True)
        out.name = c.name if isinstance(n.operand, ast.ColumnRef) else _type_column_name(target)
        if isinstance(n.operand, (ast.FuncCall,)):
            out.name = c.name
        return out

    def _SimilarEscape(self, n: ast.SimilarEscape) -> Compiled:
        raise errors.SyntaxError('syntax error at or near "SIMILAR"', position=_pos(n))

    def _Collate(self, n: ast.Collate) -> Compiled:
        return self._compile(n.operand)  # every collation compares by code point ("C")

    # ------------------------------------------------------------------ functions -------
    def _FuncCall(self, n: ast.FuncCall) -> Compiled:
        name = n.name.last
        if len(n.name.parts) > 1 and n.name.parts[0] not in ("pg_catalog",):
            raise errors.UndefinedFunction(f"function {n.name}() does not exist",
                                           position=_pos(n))
        special = _SPECIAL.get(name)
        if special is not None and n.over is None:
            return special(self, n)
        if n.over is None and is_window_only(name):
            raise errors.WrongObjectType(f"window function {name} requires an OVER clause",
                                         position=_pos(n))
        if n.over is not None or is_aggregate(name):
            if n.over is not None:
                if self.clause == "window functions":
                    raise errors.WindowingError("window function calls cannot be nested",
                                                position=_pos(n))
                raise errors.WindowingError(
                    f"window functions are not allowed in {self.clause}", position=_pos(n))
            raise errors.GroupingError(f"aggregate functions are not allowed in {self.clause}",
                                       position=_pos(n))
        if any(a.__class__ is ast.NamedArg for a in n.args):
            n = self._named_call(n, name)
        args = [self._compile(a) for a in n.args]
        cache = self.ctx.session.resolved
        key = ("()", name, tuple(a.type for a in args))
        hit = cache.get(key)
        if hit is None:
            try:
                hit = functions.lookup_function(name, [a.type for a in args], self.ctx.fctx)
            except errors.Error as e:
                if e.position is None:
                    e.position = _pos(n)
                raise
            if len(cache) < 4096:
                cache[key] = hit
        impl, rtype = hit
        if getattr(self.ctx, "inferred", None) is not None:  # describing
            for c, t in zip(args, getattr(impl, "arg_types", ())):
                self._infer(c, t)
        fns = [a.fn for a in args]
        # fold calls on constants; not now() and friends: they read the statement time
        if args and not getattr(impl, "volatile", False) and all(a.const for a in args):
            return constant(impl(*[a.value for a in args]), rtype, name)
        if len(fns) == 1:
            f0 = fns[0]
            return Compiled(lambda row: impl(f0(row)), rtype, name=name)
        return Compiled(lambda row: impl(*[f(row) for f in fns]), rtype, name=name)

    def _named_call(self, n: ast.FuncCall, name: str) -> ast.FuncCall:
        """The call with its `name => value` arguments put in parameter order."""
        def describe():
            return ", ".join(
                (f"{a.name} => " if a.__class__ is ast.NamedArg else "") +
                self._type_label(self._compile(a.value if a.__class__ is ast.NamedArg else a))
                for a in n.args)
        try:
            args = named_args.positional(name, n.args, describe)
        except errors.Error as e:
            e.position = _pos(n)
            raise
        return dataclasses.replace(n, args=args)

    @staticmethod
    def _type_label(c: Compiled) -> str:
        return "unknown" if c.type == T.UNKNOWN else T.format_type(c.type)

    def _NamedArg(self, n: ast.NamedArg) -> Compiled:
        raise errors.SyntaxError(f'syntax error at or near "{n.name}"', position=_pos(n))

    def _coalesce(self, n: ast.FuncCall) -> Compiled:
        args = [self._compile(a) for a in n.args]
        target = casts.resolve_common_type([a.type for a in args], "COALESCE")
        fns = [self.coerce(a, target, node).fn for a, node in zip(args, n.args)]

        def fn(row):
            for f in fns:
                v = f(row)
                if v is not None:
                    return v
            return None
        return Compiled(fn, target, name="coalesce")

    def _nullif(self, n: ast.FuncCall) -> Compiled:
        if len(n.args) != 2:
            raise errors.UndefinedFunction("function nullif requires two arguments",
                                           position=_pos(n))
        left, right = self._unify_unknown(self._compile(n.args[0]), self._compile(n.args[1]), n)
        impl, _ = operators.resolve_binary("=", left.type, right.type)
        declared = getattr(impl, "arg_types", (left.type,))[0]
        if declared != left.type and declared.oid not in (2283, 2277, 2776):
            left = self.cast(left, declared, explicit=False)  # NULLIF(1, 1.0) is numeric
        lf, rf = left.fn, right.fn

        def fn(row):
            a = lf(row)
            if a is None:
                return None
            b = rf(row)
            return None if b is not None and impl(a, b) else a
        return Compiled(fn, left.type, name="nullif")

    def _extreme(self, n: ast.FuncCall, greatest: bool) -> Compiled:
        args = [self._compile(a) for a in n.args]
        target = casts.resolve_common_type([a.type for a in args], n.name.last.upper())
        fns = [self.coerce(a, target, node).fn for a, node in zip(args, n.args)]
        better, _ = operators.resolve_binary(">" if greatest else "<", target, target)

        def fn(row):
            best = None
            for f in fns:
                v = f(row)
                if v is not None and (best is None or better(v, best)):
                    best = v
            return best
        return Compiled(fn, target, name=n.name.last)


@dataclass
class _Param(Compiled):
    """$n: the same value for every row of one execution."""

    index: int = -1


@dataclass
class _UnknownParam(_Param):
    """A parameter with no type yet (undeclared, its value a str or None): typed by its
    context like an unknown literal; describing, that context's type is recorded."""


_NOTHING = object()


def _memo_cast(inner, src: T.SqlType, target: T.SqlType, explicit: bool, tz):
    """A parameter's conversion, redone only when the value object changes (the next
    execution of a cached plan), not for every row."""
    last = [_NOTHING, None]
    do_cast = casts.cast

    def fn(row):
        v = inner(row)
        if v is None:
            return None
        if v is not last[0]:
            last[1] = do_cast(v, src, target, explicit, tz=tz)
            last[0] = v
        return last[1]
    return fn


def _row_comparison(n: ast.BinaryOp) -> ast.Expr:
    """(a, b) op (x, y) as PostgreSQL defines it: pairwise for = and <>, lexicographic
    for the orderings."""
    left, right = n.left.items, n.right.items
    if len(left) != len(right):
        raise errors.SyntaxError("unequal number of entries in row expressions",
                                 position=_pos(n))
    pairs = list(zip(left, right))
    if n.op == "=":
        return ast.BoolOp("and", tuple(ast.BinaryOp("=", a, b) for a, b in pairs))
    if n.op == "<>":
        return ast.BoolOp("or", tuple(ast.BinaryOp("<>", a, b) for a, b in pairs))
    if n.op in ("<", "<=", ">", ">="):
        strict = n.op[0]
        a, b = pairs[-1]
        expr: ast.Expr = ast.BinaryOp(n.op, a, b)
        for a, b in reversed(pairs[:-1]):
            expr = ast.BoolOp("or", (ast.BinaryOp(strict, a, b),
                                     ast.BoolOp("and", (ast.BinaryOp("=", a, b), expr))))
        return expr
    raise errors.FeatureNotSupported(f"row comparison with {n.op}", position=_pos(n))


def _similar_matcher(pattern: str, escape, ci: bool):
    return patterns.compile_similar(pattern, escape, ci)


_SPECIAL = {
    "nextval": sequence_call,
    "currval": sequence_call,
    "setval": sequence_call,
    "lastval": sequence_call,
    "coalesce": ExprCompiler._coalesce,
    "nullif": ExprCompiler._nullif,
    "greatest": lambda self, n: self._extreme(n, True),
    "least": lambda self, n: self._extreme(n, False),
}


def _type_column_name(t: T.SqlType) -> str:
    """PostgreSQL names a cast column after the type (`SELECT '1'::int` -> int4)."""
    return T.typname(t)


def _default_name(node) -> str:
    if isinstance(node, ast.ColumnRef):
        return node.parts[-1]
    if isinstance(node, ast.FuncCall):
        return node.name.last
    return "?column?"


def output_name(node, compiled: Compiled | None = None) -> str:
    """The column name PostgreSQL gives a select-list expression without an alias."""
    if isinstance(node, ast.ColumnRef):
        return node.parts[-1]
    if isinstance(node, ast.FuncCall):
        return node.name.last
    if isinstance(node, ast.Cast):
        inner = node.operand
        while isinstance(inner, ast.Cast):  # a::text::int is a, $1::text::int int4
            inner = inner.operand
        base = inner
        while isinstance(base, ast.Subscript):  # a[1]::text is named a
            base = base.operand
        if isinstance(base, (ast.ColumnRef, ast.FuncCall)):
            return output_name(base)
        t = T.type_from_name(node.type)
        return T.typname(t.element if t.element is not None else t)  # ::int[] is int4
    if isinstance(node, ast.Case):
        # named after its ELSE result when that has a name of its own (FigureColname)
        d = node.default
        while isinstance(d, ast.Cast):
            d = d.operand
        if isinstance(d, (ast.ColumnRef, ast.FuncCall)):
            return output_name(d)
        return "case"
    if isinstance(node, (ast.ArrayLiteral, ast.ArraySubquery)):
        return "array"
    if isinstance(node, ast.Exists):
        return "exists"
    if isinstance(node, ast.SubqueryExpr):
        body = node.query.body
        if isinstance(body, ast.Select) and len(body.items) == 1:
            item = body.items[0]
            return item.alias or output_name(item.expr)
    if isinstance(node, ast.Collate):
        return output_name(node.operand)
    if isinstance(node, ast.RowExpr):
        return "row"
    if isinstance(node, ast.FieldAccess):
        return node.field
    if isinstance(node, ast.Subscript):  # a[1], a[1:2]: named after the array
        return output_name(node.operand)
    return "?column?"


def param_type(value) -> T.SqlType:
    """The type a Python parameter value binds as (psycopg's choices)."""
    if value is None:
        return T.UNKNOWN
    if isinstance(value, bool):
        return T.BOOL
    if isinstance(value, int):
        if -32768 <= value <= 32767:
            return T.INT2
        if INT4_MIN <= value <= INT4_MAX:
            return T.INT4
        if INT8_MIN <= value <= INT8_MAX:
            return T.INT8
        return T.NUMERIC
    if isinstance(value, float):
        return T.FLOAT8
    if isinstance(value, decimal.Decimal):
        return T.NUMERIC
    if isinstance(value, str):
        return T.UNKNOWN
    if isinstance(value, (bytes, bytearray, memoryview)):
        return T.BYTEA
    if isinstance(value, datetime.datetime):
        return T.TIMESTAMPTZ if value.tzinfo is not None else T.TIMESTAMP
    if isinstance(value, datetime.date):
        return T.DATE
    if isinstance(value, datetime.time):
        return T.TIME
    if isinstance(value, uuid.UUID):
        return T.UUID
    if isinstance(value, T.Interval):
        return T.INTERVAL
    if isinstance(value, datetime.timedelta):
        return T.INTERVAL
    if isinstance(value, (list, tuple)):
        inner = [param_type(v) for v in value if v is not None]
        return T.array_of(inner[0] if inner and inner[0] != T.UNKNOWN else T.TEXT)
    if isinstance(value, dict):
        return T.JSONB
    raise errors.ProgrammingError(f"cannot adapt type {type(value).__name__}")
