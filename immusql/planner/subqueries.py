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




def _pos(node) -> int | None:
    p = getattr(node, "pos", -1)
    return p + 1 if p is not None and p >= 0 else None
