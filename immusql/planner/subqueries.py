"""Subqueries inside expressions: scalar, EXISTS, IN, ANY/ALL and ARRAY(...).

A mixin of `ExprCompiler`. A subquery is planned once; each evaluation publishes the
current row in this scope's `OuterRow` cell (for correlated references), runs the plan to
completion and restores the cell, so nested and repeated evaluations stay independent.
"""

from __future__ import annotations

from .. import errors
from ..parser import ast
from . import operators
from . import types as T
from .compiled import Compiled
from .compiled import error_position as _pos


class SubqueryCompiling:
    def _subquery(self, query: ast.Query):
        """(run(row) -> list of rows, column types) for a subquery at this level."""
        plan, types_ = self.ctx.plan_subquery(query, self.scope)
        cell = self.scope.outer

        def run(row):
            saved = cell.row
            cell.row = row
            try:
                return plan.rows()
            finally:
                cell.row = saved
        return run, types_

    def _SubqueryExpr(self, n: ast.SubqueryExpr) -> Compiled:
        run, types_ = self._subquery(n.query)
        if len(types_) != 1:
            raise errors.SyntaxError("subquery must return only one column", position=_pos(n))

        def fn(row):
            rows = run(row)
            if not rows:
                return None
            if len(rows) > 1:
                raise errors.CardinalityViolation(
                    "more than one row returned by a subquery used as an expression")
            return rows[0][0]
        return Compiled(fn, types_[0])

    def _Exists(self, n: ast.Exists) -> Compiled:
        run, _ = self._subquery(n.query)
        return Compiled(lambda row: bool(run(row)), T.BOOL, name="exists")

    def _InSubquery(self, n: ast.InSubquery) -> Compiled:
        return self._quantified_subquery("=", "any", n.operand, n.query, n.negated, n)

    def _Quantified(self, n: ast.Quantified) -> Compiled:
        if isinstance(n.right, ast.Query):
            return self._quantified_subquery(n.op, n.quantifier, n.left, n.right, False, n)
        left = self._compile(n.left)
        arr = self._compile(n.right)
        if arr.type == T.UNKNOWN:
            arr = self.cast(arr, T.array_of(left.type if left.type != T.UNKNOWN else T.TEXT),
                            explicit=False)
        if arr.type.element is None:
            raise errors.DatatypeMismatch("op ANY/ALL (array) requires array on right side",
                                          position=_pos(n))
        if left.type == T.UNKNOWN:
            left = self.cast(left, arr.type.element, explicit=False)
        impl, _ = operators.resolve_binary(n.op, left.type, arr.type.element)
        return self._quantify(left.fn, lambda row, f=arr.fn: f(row), impl,
                              n.quantifier == "all", False)

    def _quantified_subquery(self, op, quantifier, left_node, query, negated, n) -> Compiled:
        if isinstance(left_node, ast.RowExpr):
            return self._row_quantified(op, quantifier, left_node, query, negated, n)
        left = self._compile(left_node)
        run, types_ = self._subquery(query)
        if len(types_) != 1:
            raise errors.SyntaxError("subquery has too many columns", position=_pos(n))
        rtype = types_[0]
        if left.type == T.UNKNOWN:
            left = self.cast(left, rtype, explicit=False)
        impl, _ = operators.resolve_binary(op, left.type, rtype)
        values = lambda row: [r[0] for r in run(row)]  # noqa: E731
        return self._quantify(left.fn, values, impl, quantifier == "all", negated)

    def _row_quantified(self, op, quantifier, row: ast.RowExpr, query, negated, n):
        """(a, b) IN / op ANY|ALL (SELECT x, y ...): each subquery row is compared as a
        row comparison (pairwise for = and <>, lexicographic for the orderings), with
        PostgreSQL's NULL rules."""
        run, types_ = self._subquery(query)
        if len(types_) != len(row.items):
            raise errors.SyntaxError("subquery has too " + (
                "many" if len(types_) > len(row.items) else "few") + " columns",
                position=_pos(n))
        fns, eqs, ops_ = [], [], []
        for item, rtype in zip(row.items, types_):
            c = self._compile(item)
            if c.type == T.UNKNOWN:
                c = self.cast(c, rtype if rtype != T.UNKNOWN else T.TEXT, explicit=False)
            fns.append(c.fn)
            eqs.append(operators.resolve_binary("=", c.type, rtype)[0])
            ops_.append(operators.resolve_binary(op, c.type, rtype)[0])
        compare = _row_comparer(op, eqs, ops_, _pos(n))
        all_ = quantifier == "all"

        def fn(r):
            left = tuple(f(r) for f in fns)
            rows = run(r)
            if quantifier == "single":  # (a, b) = (SELECT ...): at most one row
                if len(rows) > 1:
                    raise errors.CardinalityViolation(
                        "more than one row returned by a subquery used as an expression")
                return compare(left, rows[0]) if rows else None
            result = all_
            for v in rows:
                c = compare(left, v)
                if c is (not all_):
                    result = c
                    break
                if c is None:
                    result = None
            if negated and result is not None:
                return not result
            return result
        return Compiled(fn, T.BOOL)

    def _row_subquery_compare(self, n: ast.BinaryOp) -> Compiled:
        """(a, b) op (SELECT x, y): a row comparison with the subquery's one row (none:
        NULL; more: 21000)."""
        return self._row_quantified(n.op, "single", n.left, n.right.query, False, n)

    @staticmethod
    def _quantify(lf, values_of, impl, all_, negated) -> Compiled:
        def fn(row):
            a = lf(row)
            values = values_of(row)
            if values is None:
                return None
            if not values:
                result = all_
            elif a is None:
                result = None
            else:
                result = all_
                for v in values:
                    r = None if v is None else bool(impl(a, v))
                    if all_:
                        if r is False:
                            result = False
                            break
                        if r is None:
                            result = None
                    else:
                        if r is True:
                            result = True
                            break
                        if r is None:
                            result = None
            if negated and result is not None:
                return not result
            return result
        return Compiled(fn, T.BOOL)

    def _ArraySubquery(self, n: ast.ArraySubquery) -> Compiled:
        run, types_ = self._subquery(n.query)
        return Compiled(lambda row: [r[0] for r in run(row)], T.array_of(types_[0]),
                        name="array")


def _row_comparer(op, eqs, ops_, pos):
    """compare(left tuple, right tuple) -> True / False / None for row `op`."""
    if op == "=" or op == "<>":
        want = op == "="

        def compare(a, b):  # = : AND of the pairs; <> : OR of the pairs
            result = want
            for eq, x, y in zip(eqs, a, b):
                if x is None or y is None:
                    result = None
                elif not eq(x, y):
                    return not want
            return result
        return compare
    if op not in ("<", "<=", ">", ">="):
        raise errors.FeatureNotSupported(f"row comparison with {op}", position=pos)

    def ordered(a, b):  # the first pair not equal decides
        for eq, cmp, x, y in zip(eqs, ops_, a, b):
            if x is None or y is None:
                return None
            if not eq(x, y):
                return bool(cmp(x, y))
        return op in ("<=", ">=")
    return ordered


