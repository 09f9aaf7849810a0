"""Arrays and rows inside expressions: ARRAY[...], subscripts and slices, SET a[i] = v,
(composite).field and ROW(...).

A mixin of `ExprCompiler` (like subqueries.py), kept apart because array semantics
(multidimensional shapes, NULL elements, 1-based bounds) are their own subject.
"""

from __future__ import annotations

from .. import errors
from ..parser import ast
from . import casts
from . import types as T
from .compiled import Compiled, constant
from .compiled import error_position as _pos


class ArrayRowCompiling:
    def _ArrayLiteral(self, n: ast.ArrayLiteral) -> Compiled:
        if not n.items:  # ARRAY[]::int[] is typed by its cast (_Cast)
            raise errors.IndeterminateDatatype(
                "cannot determine type of empty array", position=_pos(n),
                hint="Explicitly cast to the desired type, for example ARRAY[]::integer[].")
        items = [self._compile(i) for i in n.items]
        known = [c.type for c in items if c.type != T.UNKNOWN]
        if not known:
            elem = T.TEXT
        else:
            elem = casts.common_type(known, "ARRAY")
        if elem.element is not None:  # ARRAY[ARRAY[..]]: nested lists, same array type
            atype = elem
        else:
            atype = T.array_of(elem)
        fns = [self.coerce(c, elem, node).fn for c, node in zip(items, n.items)]
        build = (lambda row: [f(row) for f in fns]) if elem.element is None else \
            (lambda row: _sub_arrays([f(row) for f in fns]))
        if all(c.const for c in items):
            return constant(build(()), atype, "array")
        return Compiled(build, atype, name="array")

    def _Subscript(self, n: ast.Subscript) -> Compiled:
        if not n.slice and isinstance(n.operand, ast.Subscript) and not n.operand.slice:
            return self._subscripts(n)
        base = self._compile(n.operand)
        if base.type.element is None:
            raise errors.DatatypeMismatch(
                f"cannot subscript type {T.format_type(base.type)} because it is not an array",
                position=_pos(n))
        lo = self.coerce(self._compile(n.lower), T.INT4, n.lower) if n.lower is not None \
            else None
        hi = self.coerce(self._compile(n.upper), T.INT4, n.upper) if n.upper is not None \
            else None
        bf = base.fn
        if not n.slice:
            lf = lo.fn

            def fn(row):
                arr, i = bf(row), lf(row)
                if arr is None or i is None or not 1 <= i <= len(arr):
                    return None
                v = arr[i - 1]
                return None if isinstance(v, list) else v  # one subscript of a 2-D array
            return Compiled(fn, base.type.element, name=base.name)
        lf = lo.fn if lo else (lambda row: None)
        hf = hi.fn if hi else (lambda row: None)

        def fn(row):
            arr = bf(row)
            if arr is None:
                return None
            a, b = lf(row), hf(row)
            a = 1 if a is None else max(a, 1)
            b = len(arr) if b is None else min(b, len(arr))
            return arr[a - 1:b] if a <= b else []
        return Compiled(fn, base.type, name=base.name)

    def _ArrayAssign(self, n: ast.ArrayAssign) -> Compiled:
        """SET a[i] = v: replace element i; past the end the array grows, NULL-padded (a
        NULL array becomes [v] for i = 1). Other lower bounds are not representable."""
        base = self._compile(n.array)
        if base.type.element is None:
            raise errors.DatatypeMismatch(
                f"cannot subscript type {T.format_type(base.type)} because it does not "
                "support subscripting", position=_pos(n))
        idx = self.coerce(self._compile(n.index), T.INT4, n.index).fn
        value = self._compile(n.value)
        if value.type != base.type.element:
            value = self.coerce(value, base.type.element, n.value, "assignment")
        bf, vf = base.fn, value.fn

        def fn(row):
            arr, i, v = bf(row), idx(row), vf(row)
            if i is None:
                raise errors.NullValueNotAllowed("array subscript in assignment must not be "
                                                 "null")
            arr = [] if arr is None else list(arr)
            if arr and isinstance(arr[0], list):
                raise errors.FeatureNotSupported("assignment to an element of a "
                                                 "multidimensional array")
            if i < 1 or (not arr and i != 1):
                raise errors.FeatureNotSupported("array lower bounds other than 1")
            arr.extend([None] * (i - len(arr)))
            arr[i - 1] = v
            return arr
        return Compiled(fn, base.type)

    def _subscripts(self, n: ast.Subscript) -> Compiled:
        """a[i][j]...: one element of a multidimensional array; NULL when out of range or
        when the number of subscripts is not the array's number of dimensions."""
        indexes = []
        while isinstance(n, ast.Subscript) and not n.slice:
            indexes.append(n.lower)
            n = n.operand
        base = self._compile(n)
        if base.type.element is None:
            raise errors.DatatypeMismatch(
                f"cannot subscript type {T.format_type(base.type)} because it is not an array",
                position=_pos(n))
        fns = [self.coerce(self._compile(i), T.INT4, i).fn for i in reversed(indexes)]
        bf = base.fn

        def fn(row):
            v = bf(row)
            for f in fns:
                i = f(row)
                if not isinstance(v, list) or i is None or not 1 <= i <= len(v):
                    return None
                v = v[i - 1]
            return None if isinstance(v, list) else v
        return Compiled(fn, base.type.element, name=base.name)

    def _FieldAccess(self, n: ast.FieldAccess) -> Compiled:
        """(value).field of a composite value (a record whose fields are known)."""
        base = self._compile(n.operand)
        t = base.type
        if not isinstance(t, T.RecordType):
            if t.oid == T.RECORD.oid:
                raise errors.UndefinedColumn(
                    f'could not identify column "{n.field}" in record data type',
                    position=_pos(n))
            raise errors.WrongObjectType(
                f"column notation .{n.field} applied to type {T.format_type(t)}, which is "
                "not a composite type", position=_pos(n))
        i = t.field_index(n.field)
        if i is None:
            raise errors.UndefinedColumn(f'column "{n.field}" not found in data type record',
                                         position=_pos(n))
        f = base.fn
        return Compiled(lambda row: None if (v := f(row)) is None else v[i], t.fields[i][1],
                        name=n.field)

    def _RowExpr(self, n: ast.RowExpr) -> Compiled:
        items = [self._compile(i) for i in n.items]
        fns = [c.fn for c in items]
        return Compiled(lambda row: tuple(f(row) for f in fns), T.RECORD, name="row")


def _sub_arrays(values: list) -> list:
    """ARRAY[ARRAY[..], ARRAY[..]]: the sub-arrays must all have the same dimensions
    (2202E; a NULL one counts as empty); all empty gives an empty array."""
    subs = [[] if v is None else v for v in values]
    shapes = {T.array_shape(v) for v in subs}
    if len(shapes) > 1:
        raise errors.ArraySubscriptError("multidimensional arrays must have array "
                                         "expressions with matching dimensions")
    return subs if subs and subs[0] else []
