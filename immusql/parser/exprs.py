"""Expressions: PostgreSQL's operator precedence, applied as the grammar reads operators.

The grammar reads `a + b * c IS NULL` as a sequence (operand, `+`, operand, `*`, operand,
`IS NULL`) and hands each operator and operand to an `ExprBuilder`, which builds the tree
with an operator stack (shunting-yard), following the table of PostgreSQL 15's
documentation (sql-syntax-lexical, "Operator Precedence") and gram.y's associativity:
comparison, IS and the BETWEEN/IN/LIKE group are non-associative, so `a < b < c` is a syntax
error as in PostgreSQL. It is iterative, and it tracks the depth of what it builds, so a
chain of operators too deep for later (recursive) passes fails at once with
StatementTooComplex instead of after the whole statement is read.

BETWEEN's AND and LIKE's ESCAPE make those operators ternary: an open BETWEEN on the stack
claims the next AND, and ESCAPE attaches to the LIKE on top of the stack. `x op ANY (...)`
arrives as a `Quant` operand and becomes a `Quantified` node when `op` is reduced. AND and
OR chains are collected flat (BoolOp), in linear time.
"""

from __future__ import annotations

from lark import Token

from .ast import (
    Between,
    BinaryOp,
    BoolOp,
    Collate,
    FuncCall,
    InList,
    InSubquery,
    IsBool,
    IsDistinctFrom,
    IsNull,
    Like,
    Literal,
    Name,
    Not,
    Quantified,
    RowExpr,
    SimilarEscape,
    UnaryOp,
)
from .common import MAX_DEPTH, TokenError, pos_of, too_deep

# Binding powers, loosest first (PostgreSQL 15, table 4.2).
OR, AND, NOT, IS, CMP, PRED, ESCAPE, OTHER, ADD, MUL, EXP, AT, COLLATE, UNARY = range(1, 15)
LEFT, NONASSOC = 0, 1
PREFIX, INFIX, POSTFIX = 0, 1, 2

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


class Op:
    """An operator occurrence in a flat expression.

    `build` names how it is applied ('binary', 'bool', 'like', 'between', ...); `arg` holds
    the operator text or the payload of postfix forms (IN list, collation ...).
    """

    __slots__ = ("kind", "bp", "assoc", "build", "arg", "flags", "pos", "state")

    def __init__(self, kind, bp, assoc, build, arg, flags, pos):
        self.kind, self.bp, self.assoc, self.build = kind, bp, assoc, build
        self.arg, self.flags, self.pos = arg, flags, pos
        self.state = 0  # BETWEEN: 0 waiting for AND, 1 complete; LIKE: 1 has ESCAPE


class Quant:
    """`ANY|SOME|ALL (subquery or array)`: only valid as the right operand of an operator."""

    __slots__ = ("quantifier", "value", "pos")

    def __init__(self, quantifier: str, value, pos: int):
        self.quantifier, self.value, self.pos = quantifier, value, pos


class _BoolAcc:
    """An AND/OR chain being collected (flattened in O(n), not O(n^2))."""

    __slots__ = ("op", "items", "pos")

    def __init__(self, op: str, items: list, pos: int):
        self.op, self.items, self.pos = op, items, pos


# key (token types joined by spaces) -> (binding power, associativity, build, arg, flags)
_INFIX = {
    "OR": (OR, LEFT, "bool", "or", None),
    "AND": (AND, LEFT, "bool", "and", None),
    "EQ": (CMP, NONASSOC, "binary", "=", None),
    "LT": (CMP, NONASSOC, "binary", "<", None),
    "GT": (CMP, NONASSOC, "binary", ">", None),
    "LE": (CMP, NONASSOC, "binary", "<=", None),
    "GE": (CMP, NONASSOC, "binary", ">=", None),
    "NE": (CMP, NONASSOC, "binary", "<>", None),
    "PLUS": (ADD, LEFT, "binary", "+", None),
    "MINUS": (ADD, LEFT, "binary", "-", None),
    "STAR": (MUL, LEFT, "binary", "*", None),
    "SLASH": (MUL, LEFT, "binary", "/", None),
    "PERCENT": (MUL, LEFT, "binary", "%", None),
    "CIRCUMFLEX": (EXP, LEFT, "binary", "^", None),
    "OP": (OTHER, LEFT, "binary", None, None),
    # like: (negated, case_insensitive, similar); the operator name is for ANY/ALL
    "LIKE": (PRED, NONASSOC, "like", "~~", (False, False, False)),
    "NOT_LA LIKE": (PRED, NONASSOC, "like", "!~~", (True, False, False)),
    "ILIKE": (PRED, NONASSOC, "like", "~~*", (False, True, False)),
    "NOT_LA ILIKE": (PRED, NONASSOC, "like", "!~~*", (True, True, False)),
    "SIMILAR TO": (PRED, NONASSOC, "like", None, (False, False, True)),
    "NOT_LA SIMILAR TO": (PRED, NONASSOC, "like", None, (True, False, True)),
    "SIMILAR": (PRED, NONASSOC, "like", None, (False, False, "bare")),  # substring(...)
    # between: (negated, symmetric)
    "BETWEEN": (PRED, NONASSOC, "between", None, (False, False)),
    "BETWEEN SYMMETRIC": (PRED, NONASSOC, "between", None, (False, True)),
    "BETWEEN ASYMMETRIC": (PRED, NONASSOC, "between", None, (False, False)),
    "NOT_LA BETWEEN": (PRED, NONASSOC, "between", None, (True, False)),
    "NOT_LA BETWEEN SYMMETRIC": (PRED, NONASSOC, "between", None, (True, True)),
    "NOT_LA BETWEEN ASYMMETRIC": (PRED, NONASSOC, "between", None, (True, False)),
    "ESCAPE": (ESCAPE, LEFT, "escape", None, None),
    "IS DISTINCT FROM": (IS, NONASSOC, "distinct", None, False),
    "IS NOT DISTINCT FROM": (IS, NONASSOC, "distinct", None, True),
    "AT TIME ZONE": (AT, LEFT, "at_time_zone", None, None),
    "OVERLAPS": (PRED, NONASSOC, "overlaps", None, None),
}
_POSTFIX = {
    "IS NULL": ("isnull", False), "ISNULL": ("isnull", False),
    "IS NOT NULL": ("isnull", True), "NOTNULL": ("isnull", True),
    "IS TRUE": ("isbool", (True, False)), "IS NOT TRUE": ("isbool", (True, True)),
    "IS FALSE": ("isbool", (False, False)), "IS NOT FALSE": ("isbool", (False, True)),
    "IS UNKNOWN": ("isbool", (None, False)), "IS NOT UNKNOWN": ("isbool", (None, True)),
}
_PREFIX = {"MINUS": (UNARY, "-"), "PLUS": (UNARY, "+"), "OP": (OTHER, None), "NOT": (NOT, None)}
_QUANTIFIABLE = frozenset({"binary", "like"})


class ExprBuilder:
    """An expression being read: operands (with the depth of the tree each one is), and the
    operators not applied yet."""

    __slots__ = ("operands", "depths", "stack")

    def __init__(self):
        self.operands: list = []
        self.depths: list[int] = []
        self.stack: list[Op] = []

    def operand(self, node) -> None:
        self.operands.append(node)
        self.depths.append(1)

    def prefix(self, op: Op) -> None:
        self.stack.append(op)
        if len(self.stack) > MAX_DEPTH:
            raise too_deep(op.pos)

    def infix(self, op: Op) -> None:
        if self._reduce(op):  # the AND of an open BETWEEN
            self.stack[-1].state = 1
        elif op.build == "escape":
            top = self.stack[-1] if self.stack else None
            if top is None or top.build != "like" or top.state:
                raise TokenError(op.pos)
            top.state = 1
        else:
            self.stack.append(op)
            if len(self.stack) > MAX_DEPTH:
                raise too_deep(op.pos)

    def postfix(self, op: Op) -> None:
        self._reduce(op)
        self.operands[-1] = _postfix(op, _final(self.operands[-1]))
        self._deeper(self.depths[-1] + 1, op.pos)

    def finish(self):
        while self.stack:
            self._apply(self.stack.pop())
        result = _final(self.operands.pop())
        if result.__class__ is Quant:
            raise TokenError(result.pos)
        return result

    def _reduce(self, incoming: Op) -> bool:
        """Apply the stacked operators that bind at least as tightly as `incoming`. True
        when `incoming` is the AND of an open BETWEEN, now on top of the stack."""
        bp, stack = incoming.bp, self.stack
        while stack:
            top = stack[-1]
            if top.build == "between" and top.state == 0:
                if incoming.build == "bool" and incoming.arg == "and":
                    return True
                if bp > AND:
                    return False
                raise TokenError(incoming.pos)
            if top.bp > bp or (top.bp == bp and top.assoc == LEFT):
                self._apply(stack.pop())
            elif top.bp == bp:  # non-associative operators in a row
                raise TokenError(incoming.pos)
            else:
                return False
        return False

    def _deeper(self, depth: int, pos: int) -> None:
        self.depths[-1] = depth
        if depth > MAX_DEPTH:
            raise too_deep(pos)

    def _apply(self, op: Op) -> None:
        operands, depths = self.operands, self.depths
        if op.kind == PREFIX:
            operands[-1] = _prefix(op, _operand(operands[-1], None))
            self._deeper(depths[-1] + 1, op.pos)
            return
        build = op.build
        right, right_depth = operands.pop(), depths.pop()
        if build == "bool":
            left = operands.pop()
            right = _operand(right, None)
            if left.__class__ is _BoolAcc and left.op == op.arg:
                left.items.extend(_bool_items(right, op.arg))
                operands.append(left)
                self._deeper(max(depths[-1], right_depth + 1), op.pos)
                return
            items = _bool_items(_operand(left, op.pos), op.arg) + _bool_items(right, op.arg)
            operands.append(_BoolAcc(op.arg, items, pos_of(items[0])))
            self._deeper(max(depths[-1], right_depth) + 1, op.pos)
            return
        depth = right_depth
        if build == "between":
            if op.state == 0:
                raise TokenError(op.pos, hint="BETWEEN needs AND and an upper bound.")
            low = _operand(operands.pop(), None)
            depth = max(depth, depths.pop())
            left = _operand(operands[-1], op.pos)
            negated, symmetric = op.flags
            operands[-1] = Between(left, low, _operand(right, None), negated, symmetric,
                                   pos=pos_of(left))
            self._deeper(max(depth, depths[-1]) + 1, op.pos)
            return
        escape = None
        if build == "like" and op.state:
            escape, right = _operand(right, None), operands.pop()
            depth = max(depth, depths.pop())
        left = _operand(operands[-1], op.pos)
        right = _final(right)
        if right.__class__ is Quant:
            if build not in _QUANTIFIABLE or escape is not None or op.arg is None:
                raise TokenError(right.pos)
            node = Quantified(op.arg, right.quantifier, left, right.value, pos=pos_of(left))
        elif build == "binary":
            node = BinaryOp(op.arg, left, right, pos=pos_of(left))
        elif build == "like" and op.flags[2] == "bare":
            if escape is None:
                raise TokenError(op.pos)
            node = SimilarEscape(left, right, escape, pos=op.pos)
        elif build == "like":
            negated, insensitive, similar = op.flags
            node = Like(left, right, escape, negated, insensitive, similar, pos=pos_of(left))
        elif build == "distinct":
            node = IsDistinctFrom(left, right, op.flags, pos=pos_of(left))
        elif build == "overlaps":  # (a, b) OVERLAPS (c, d) is overlaps(a, b, c, d)
            for side, row in (("left", left), ("right", right)):
                if row.__class__ is not RowExpr:
                    raise TokenError(op.pos)
                if len(row.items) != 2:
                    raise TokenError(pos_of(row), message="wrong number of parameters on "
                                     f"{side} side of OVERLAPS expression")
            node = FuncCall(Name(("overlaps",)), left.items + right.items, pos=op.pos)
        else:  # at_time_zone: PostgreSQL's timezone(zone, value)
            node = FuncCall(Name(("timezone",)), (right, left), pos=pos_of(left))
        operands[-1] = node
        self._deeper(max(depth, depths[-1]) + 1, op.pos)


def _final(node):
    if node.__class__ is _BoolAcc:
        return BoolOp(node.op, tuple(node.items), pos=node.pos)
    return node


def _operand(node, err_pos: int | None):
    """`node` as an operand: an ANY/ALL operand is a syntax error (at `err_pos`, or at the
    ANY itself when err_pos is None)."""
    node = _final(node)
    if node.__class__ is Quant:
        raise TokenError(node.pos if err_pos is None else err_pos)
    return node


def _bool_items(node, op: str) -> list:
    if node.__class__ is BoolOp and node.op == op:
        return list(node.operands)
    return [node]


def _prefix(op: Op, operand):
    if op.build == "not":
        return Not(operand, pos=op.pos)
    if op.build == "negate" and operand.__class__ is Literal:
        negated = negate_literal(operand, op.pos)
        if negated is not None:
            return negated
    return UnaryOp(op.arg, operand, pos=op.pos)


def _postfix(op: Op, operand):
    if operand.__class__ is Quant:
        raise TokenError(operand.pos)
    build, pos = op.build, pos_of(operand)
    if build == "isnull":
        return IsNull(operand, op.flags, pos=pos)
    if build == "isbool":
        return IsBool(operand, op.flags[0], op.flags[1], pos=pos)
    if build == "collate":
        return Collate(operand, op.arg, pos=pos)
    kind, value = op.arg  # in
    if kind == "query":
        return InSubquery(operand, value, op.flags, pos=pos)
    return InList(operand, value, op.flags, pos=pos)


class _Pending:
    """`a op b` read so far, not yet an ExprBuilder: most expressions stop there."""

    __slots__ = ("left", "op", "right")

    def __init__(self, left, op: Op, right):
        self.left, self.op, self.right = left, op, right


def _builder(seq) -> ExprBuilder:
    """The ExprBuilder for what an expr_seq reduction produced so far."""
    cls = seq.__class__
    if cls is ExprBuilder:
        return seq
    builder = ExprBuilder()
    if cls is _Pending:
        builder.operand(seq.left)
        builder.infix(seq.op)
        builder.operand(seq.right)
    else:
        builder.operand(seq)
    return builder


def negate_literal(lit: Literal, pos: int):
    """-<number constant> folded into a negative constant, as PostgreSQL's doNegate()."""
    kind, value = lit.kind, lit.value
    if kind == "integer":
        return Literal(-value, "integer", pos=pos)
    if kind == "numeric":
        if value.isdigit() and -int(value) >= _INT64_MIN:
            return Literal(-int(value), "integer", pos=pos)
        return Literal(value[1:] if value.startswith("-") else "-" + value, "numeric", pos=pos)
    if kind == "float":
        return Literal(value[1:] if value.startswith("-") else "-" + value, "float", pos=pos)
    return None


def integer_literal(token: Token) -> Literal:
    """An integer constant: int if it fits int8, else numeric (as PostgreSQL types it)."""
    value = int(token)
    if value > _INT64_MAX:
        return Literal(str(token), "numeric", pos=token.start_pos)
    return Literal(value, "integer", pos=token.start_pos)


class ExprRules:
    """Transformer callbacks for expression sequences, operators and operands."""

    # --- operator sequences (see expr_seq in the grammar)
    def expr(self, c):
        seq = c[0]
        cls = seq.__class__
        if cls is ExprBuilder:
            return seq.finish()
        if cls is _Pending:
            return BinaryOp(seq.op.arg, seq.left, seq.right, pos=pos_of(seq.left))
        if cls is Quant:
            raise TokenError(seq.pos)
        return seq

    def prefixes(self, c):
        """Prefix operators in a row, counted as they are read (NOT NOT NOT ...)."""
        if len(c) == 1:
            return c
        ops = c[0]
        ops.append(c[1])
        if len(ops) > MAX_DEPTH:
            raise too_deep(c[1].pos)
        return ops

    b_prefixes = prefixes

    def expr_start(self, c):
        builder = ExprBuilder()
        for op in c[0]:
            builder.prefix(op)
        builder.operand(c[1])
        return builder

    def expr_step(self, c):
        seq, op, right = c[0], c[1], c[-1]
        if (len(c) == 3 and op.build == "binary" and right.__class__ is not Quant
                and seq.__class__ is not ExprBuilder and seq.__class__ is not _Pending):
            return _Pending(seq, op, right)
        builder = _builder(seq)
        builder.infix(op)
        if len(c) == 4:
            for prefix in c[2]:
                builder.prefix(prefix)
        builder.operand(right)
        return builder

    def expr_postfix(self, c):
        builder = _builder(c[0])
        builder.postfix(c[1])
        return builder

    def prefix_op(self, c):
        tok = c[0]
        if tok.__class__ is Op:  # OPERATOR(...)
            tok.kind, tok.bp, tok.build = PREFIX, OTHER, "unary"
            return tok
        bp, arg = _PREFIX[tok.type]
        build = "not" if tok.type == "NOT" else "negate" if tok.type == "MINUS" else "unary"
        return Op(PREFIX, bp, LEFT, build, arg or str(tok), None, tok.start_pos)

    b_prefix_op = prefix_op

    def infix_op(self, c):
        first = c[0]
        if first.__class__ is Op:  # OPERATOR(...)
            return first
        key = first.type if len(c) == 1 else " ".join(t.type for t in c)
        bp, assoc, build, arg, flags = _INFIX[key]
        return Op(INFIX, bp, assoc, build, arg if arg or build != "binary" else str(first),
                  flags, first.start_pos)

    b_infix_op = infix_op

    def postfix_op(self, c):
        build, flags = _POSTFIX[" ".join(t.type for t in c)]
        return Op(POSTFIX, IS, NONASSOC, build, None, flags, c[0].start_pos)

    def postfix_in(self, c):
        return Op(POSTFIX, PRED, NONASSOC, "in", c[-1], len(c) == 3, c[0].start_pos)

    def postfix_collate(self, c):
        return Op(POSTFIX, COLLATE, LEFT, "collate", c[1], None, c[0].start_pos)

    def in_query(self, c):
        return ("query", c[0])

    def in_list(self, c):
        return ("list", tuple(c[0]))

    def operator_ref(self, c):
        """OPERATOR(schema.op): the operator text; the schema is not kept."""
        return Op(INFIX, OTHER, LEFT, "binary", str(c[-1]), None, c[0].start_pos)

    def quantified_query(self, c):
        return Quant("all" if c[0].type == "ALL" else "any", c[1], c[0].start_pos)

    quantified_expr = quantified_query

    def expr_list(self, c):
        return c
