"""Helpers shared by the transformer modules: token/name conversions, positions, and the
internal exception that points a syntax error at a token.

The transformer runs inside Lark's LALR loop (an "inline" transformer: no parse tree is
built), so it never sees the SQL text. Errors it detects are raised as `TokenError` with the
offset of the offending token; `immusql.parser` turns them into PostgreSQL's
`syntax error at or near "..."` with the token's text as written.
"""

from __future__ import annotations

from typing import NamedTuple

from lark import Token

from .ast import Name, TypeName

# Deepest AST accepted (nodes from the statement down to a leaf). Deeper statements raise
# StatementTooComplex (54001), so code walking the AST recursively stays far from Python's
# recursion limit.
MAX_DEPTH = 200


class TokenError(Exception):
    """A syntax error at the token starting at offset `start`. Without `message` the caller
    writes PostgreSQL's `syntax error at or near "<token>"`."""

    def __init__(self, start: int, *, message: str | None = None, hint: str | None = None,
                 detail: str | None = None, error_class=None):
        super().__init__(message or "syntax error")
        self.start = start
        self.message, self.hint, self.detail = message, hint, detail
        self.error_class = error_class


class Rel(NamedTuple):
    """A qualified name with the offset of its first token (Name itself has no position)."""

    name: Name
    pos: int


class FuncName(NamedTuple):
    """A function (or generic type) name as written; `quoted` tells `"char"` from CHAR."""

    name: Name
    pos: int
    quoted: bool


class PosType(NamedTuple):
    """A type name with the offset of its first token, until `typename` unwraps it."""

    type: TypeName
    pos: int


class Tagged(NamedTuple):
    """A clause of a list written in any order (the query tail): what it is, its leading
    token and its value."""

    kind: str
    token: Token
    value: object


class Ind(NamedTuple):
    """One indirection element after a name or (expr): kind 'field', 'star', 'index' or
    'slice', its value(s) and the offset where it starts (best effort)."""

    kind: str
    value: object
    upper: object
    pos: int


def too_deep(pos: int, what: str = "Expressions") -> TokenError:
    """StatementTooComplex (54001) at `pos`, as PostgreSQL's "stack depth limit exceeded"."""
    from .. import errors
    return TokenError(pos, message="stack depth limit exceeded", hint="Simplify the statement.",
                      detail=f"{what} are nested more than {MAX_DEPTH} levels deep.",
                      error_class=errors.StatementTooComplex)


def check_chain(node, child: str, pos: int, what: str = "Expressions") -> None:
    """Raise too_deep if following `child` from `node` through nodes of its class goes more
    than MAX_DEPTH deep: left-deep chains (x::a::b, UNION after UNION, JOIN after JOIN) are
    refused as they are built, not after the whole statement is read. At most MAX_DEPTH
    steps, so the check costs little even on long inputs."""
    cls, depth = node.__class__, 0
    while node.__class__ is cls:
        depth += 1
        if depth > MAX_DEPTH:
            raise too_deep(pos, what)
        node = getattr(node, child)


def name_of(token: Token) -> str:
    """An identifier's name as a plain str (not the Token subclass)."""
    return str(token)


def pos_of(node) -> int:
    """The 0-based offset of a token or of an AST node that has one."""
    if isinstance(node, Token):
        return node.start_pos
    return getattr(node, "pos", -1)


def dotted(first: Token, indirection, max_parts: int = 3) -> tuple[str, ...]:
    """The parts of `a.b.c` (a col_id plus `.name` indirection) for a relation, function or
    type name: a subscript or `*` there is a syntax error, as is a name of more than
    `max_parts` parts (PostgreSQL's "improper qualified name")."""
    parts = [name_of(first)]
    for el in indirection or ():
        if el.kind != "field":
            raise TokenError(el.pos)
        parts.append(el.value)
    if len(parts) > max_parts:
        raise TokenError(first.start_pos, message="improper qualified name (too many dotted "
                                                  f"names): {'.'.join(parts)}")
    return tuple(parts)
