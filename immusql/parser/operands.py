"""Operands: constants, parameters, column references, subscripts and field selection,
casts, CASE, ARRAY, ROW and the other primary expressions."""

from __future__ import annotations

from .. import errors
from .ast import (
    ArrayLiteral,
    ArraySubquery,
    Case,
    Cast,
    ColumnRef,
    Default,
    Exists,
    FieldAccess,
    Literal,
    Param,
    RowExpr,
    Star,
    SubqueryExpr,
    Subscript,
)
from .common import MAX_DEPTH, Ind, TokenError, check_chain, name_of, pos_of, too_deep
from .exprs import integer_literal

MAX_PARAM = 65535  # PostgreSQL's protocol limit on the number of parameters
_MAX_COLUMNREF_PARTS = 4  # database.schema.table.column


def apply_indirection(node, elements):
    """Subscripts and field selections after an expression: x[1], x[1:2], (x).f, (x).*."""
    if len(elements) > MAX_DEPTH:
        raise too_deep(pos_of(node))
    for el in elements:
        pos = pos_of(node)
        if el.kind == "field":
            node = FieldAccess(node, el.value, pos=pos)
        elif el.kind == "star":
            node = FieldAccess(node, "*", pos=pos)
        elif el.kind == "index":
            node = Subscript(node, el.value, pos=pos)
        else:
            node = Subscript(node, el.value, el.upper, slice=True, pos=pos)
    return node


class OperandRules:
    """Transformer callbacks for operands (everything an operator applies to)."""

    # --- constants
    def int_literal(self, c):
        return integer_literal(c[0])

    def num_literal(self, c):
        text = str(c[0])
        kind = "float" if "e" in text or "E" in text else "numeric"
        return Literal(text, kind, pos=c[0].start_pos)

    def str_literal(self, c):
        return Literal(str(c[0]), "string", pos=c[0].start_pos)

    def bit_literal(self, c):
        return Literal(str(c[0]), "bitstring", pos=c[0].start_pos)

    def hex_literal(self, c):
        """X'..': bytes for an even number of digits, else (like PostgreSQL, which reads
        X'..' as a bit string) the bits as a 'bitstring'."""
        text = str(c[0])
        if len(text) % 2 == 0:
            return Literal(bytes.fromhex(text), "bytes", pos=c[0].start_pos)
        bits = "".join(f"{int(ch, 16):04b}" for ch in text)
        return Literal(bits, "bitstring", pos=c[0].start_pos)

    def bool_literal(self, c):
        return Literal(c[0].type == "TRUE", "boolean", pos=c[0].start_pos)

    def null_literal(self, c):
        return Literal(None, "null", pos=c[0].start_pos)

    def default_expr(self, c):
        return Default(pos=c[0].start_pos)

    # --- names, parameters and indirection
    def param(self, c):
        tok, indirection = c
        index = int(tok)
        if not 1 <= index <= MAX_PARAM:
            raise TokenError(tok.start_pos, message=f"there is no parameter ${index}",
                             error_class=errors.UndefinedParameter)
        node = Param(index, pos=tok.start_pos)
        return apply_indirection(node, indirection) if indirection else node

    def columnref(self, c):
        """a, t.a, s.t.a, t.*, a.b[1].c (fields after a subscript select from the value)."""
        tok, indirection = c
        pos = tok.start_pos
        if indirection is None:
            return ColumnRef((name_of(tok),), pos=pos)
        parts, rest = [name_of(tok)], ()
        for i, el in enumerate(indirection):
            if el.kind == "field":
                parts.append(el.value)
            elif el.kind == "star":
                if i != len(indirection) - 1:
                    raise TokenError(indirection[i + 1].pos, message='improper use of "*"')
                return Star(tuple(parts), pos=pos)
            else:
                rest = indirection[i:]
                break
        if len(parts) > _MAX_COLUMNREF_PARTS:
            raise TokenError(pos, message="improper qualified name (too many dotted names): "
                                          + ".".join(parts))
        node = ColumnRef(tuple(parts), pos=pos)
        return apply_indirection(node, rest) if rest else node

    def indirection(self, c):
        """.name, .*, [i] and [lo:hi] in a row, counted as they are read."""
        if len(c) == 1:
            return c
        elements = c[0]
        elements.append(c[1])
        if len(elements) > MAX_DEPTH:
            raise too_deep(elements[0].pos)
        return elements

    def ind_field(self, c):
        return Ind("field", name_of(c[0]), None, c[0].start_pos)

    def ind_star(self, c):
        return Ind("star", None, None, -1)

    def ind_index(self, c):
        return Ind("index", c[0], None, pos_of(c[0]))

    def ind_slice(self, c):
        return Ind("slice", c[0], c[1], pos_of(c[0] or c[1]))

    # --- parenthesised forms
    def paren_expr(self, c):
        expr, indirection = c
        return apply_indirection(expr, indirection) if indirection else expr

    def scalar_subquery(self, c):
        query, indirection = c
        node = SubqueryExpr(query, pos=query.pos)
        return apply_indirection(node, indirection) if indirection else node

    def implicit_row(self, c):
        first, rest = c
        return RowExpr((first, *rest), pos=pos_of(first))

    def row_expr(self, c):
        return RowExpr(tuple(c[1] or ()), pos=c[0].start_pos)

    def exists_expr(self, c):
        return Exists(c[1], pos=c[0].start_pos)

    def array_subquery(self, c):
        return ArraySubquery(c[1], pos=c[0].start_pos)

    def array_expr(self, c):
        return ArrayLiteral(c[1].items, pos=c[0].start_pos)

    def array_brackets(self, c):
        return ArrayLiteral(tuple(c[1:]), pos=c[0].start_pos)

    # --- casts and CASE
    def typecast(self, c):
        operand, typ = c
        node = Cast(operand, typ, pos=pos_of(operand))
        check_chain(node, "operand", node.pos)
        return node

    def cast_expr(self, c):
        return Cast(c[1], c[2], pos=c[0].start_pos)

    def case_expr(self, c):
        operand, default = c[1], c[-1]
        return Case(operand, tuple(c[2:-1]), default, pos=c[0].start_pos)

    def when_clause(self, c):
        return (c[0], c[1])
