"""Queries: SELECT cores, VALUES, set operations, WITH, ORDER BY/LIMIT/OFFSET/FETCH, FROM
items and joins, and immudb's time travel on table references.

A parenthesised query that adds nothing (no WITH, ORDER BY, LIMIT, OFFSET or FOR UPDATE)
is unwrapped, so `(SELECT 1) UNION (SELECT 2)` is a SetOp of two Selects; one that does add
something stays a nested Query, which QueryBody allows.
"""

from __future__ import annotations

from typing import NamedTuple

from .. import errors
from .ast import (
    CTE,
    AsOf,
    FunctionRef,
    Join,
    Literal,
    Name,
    OrderItem,
    Query,
    Select,
    SelectItem,
    SetOp,
    Star,
    SubqueryRef,
    TableRef,
    UnaryOp,
    Values,
    ValuesRef,
)
from .common import Rel, Tagged, TokenError, check_chain, dotted, name_of, pos_of
from .exprs import negate_literal


class _With(NamedTuple):
    ctes: tuple
    recursive: bool
    pos: int


def unwrap(query):
    """The body of a parenthesised query that adds no clause of its own."""
    if (query.__class__ is Query and not query.with_ and not query.order_by
            and query.limit is None and query.offset is None and not query.for_update):
        return query.body
    return query


class _Ties(NamedTuple):
    """The row count of FETCH FIRST n ROWS WITH TIES."""

    count: object


class _Tail(NamedTuple):
    fields: dict  # Query field -> value
    tokens: dict  # Query field -> the token that introduced it (for error positions)


def _tail(items) -> _Tail:
    """Query fields from ORDER BY / LIMIT / OFFSET / FETCH / FOR ... clauses, checked the way
    PostgreSQL's grammar orders them: ORDER BY first, then at most one LIMIT (or FETCH) and
    one OFFSET in either order, and the locking clauses before or after those two. Anything
    else is a syntax error at the clause that breaks the order."""
    fields, tokens = {}, {}
    limits_done = locks_done = False
    for i, item in enumerate(items):
        kind, tok = item.kind, item.token
        if kind == "order_by":
            if i:
                raise TokenError(tok.start_pos)
        elif kind == "for_update":
            if locks_done:
                raise TokenError(tok.start_pos)
            limits_done = limits_done or "limit" in fields or "offset" in fields
        else:
            if limits_done or kind in fields:
                raise TokenError(tok.start_pos)
            locks_done = "for_update" in fields
        value = item.value
        if isinstance(value, _Ties):
            value, fields["with_ties"] = value.count, True
        fields[kind] = value
        tokens.setdefault(kind, tok)
    return _Tail(fields, tokens)


def _merge(query: Query, tail: _Tail | None, with_: _With | None) -> Query:
    """Clauses written after a parenthesised query go into that query, as PostgreSQL's
    insertSelectOptions() does: `(SELECT .. LIMIT 1) ORDER BY x` sorts, then limits."""
    fields = dict(order_by=query.order_by, limit=query.limit, offset=query.offset,
                  with_=query.with_, recursive=query.recursive, for_update=query.for_update,
                  with_ties=query.with_ties)
    if with_ is not None:
        if query.with_:
            raise TokenError(with_.pos, message="multiple WITH clauses not allowed")
        fields.update(with_=with_.ctes, recursive=with_.recursive)
    for kind, value in (tail.fields.items() if tail else ()):
        if kind == "for_update":
            fields[kind] = True
            continue
        if kind == "with_ties":
            fields[kind] = value
            continue
        if fields[kind] not in (None, ()):
            word = "ORDER BY" if kind == "order_by" else kind.upper()
            where = value[0].expr if kind == "order_by" else value
            pos = pos_of(where) if where is not None else tail.tokens[kind].start_pos
            raise TokenError(pos, message=f"multiple {word} clauses not allowed")
        fields[kind] = value
    pos = with_.pos if with_ is not None else query.pos
    return _check_ties(Query(query.body, pos=pos, **fields), tail)


def _check_ties(query: Query, tail: _Tail | None) -> Query:
    """PostgreSQL's insertSelectOptions(): WITH TIES needs an ORDER BY."""
    if query.with_ties and not query.order_by:
        raise TokenError(tail.tokens["limit"].start_pos if tail else query.pos,
                         message="WITH TIES cannot be specified without ORDER BY clause")
    return query


class QueryRules:
    """Transformer callbacks for queries and FROM clauses."""

    # --- whole queries
    def query_plain(self, c):
        body = c[0]
        return Query(body, pos=body.pos)

    def query_with_tail(self, c):
        body, tail = c
        if body.__class__ is Query:
            return _merge(body, tail, None)
        return _check_ties(Query(body, pos=body.pos, **tail.fields), tail)

    def query_with(self, c):
        with_, body, tail = c
        if body.__class__ is Query:
            return _merge(body, tail, with_)
        return _check_ties(Query(body, with_=with_.ctes, recursive=with_.recursive,
                                 pos=with_.pos, **(tail.fields if tail else {})), tail)

    def query_tail(self, c):
        return _tail(c)

    def union(self, c):
        return self._setop("union", c)

    def except_(self, c):
        return self._setop("except", c)

    def intersect(self, c):
        return self._setop("intersect", c)

    @staticmethod
    def _setop(op, c):
        left, quantifier, right = c
        node = SetOp(op, quantifier is not None and quantifier.type == "ALL", unwrap(left),
                     unwrap(right), pos=pos_of(left))
        check_chain(node, "left", node.pos, "Set operations")
        return node

    # --- SELECT cores
    def select_core(self, c):
        tok, distinct, targets, from_, where, (group_by, having, windows) = c
        return Select(tuple(targets or ()), tuple(from_ or ()), where, tuple(group_by or ()),
                      having, distinct is True, distinct if type(distinct) is tuple else (),
                      tuple(windows or ()), pos=tok.start_pos)

    def select_grouping(self, c):
        return c

    def distinct_all(self, c):
        return True

    def distinct_on(self, c):
        return tuple(c[0])

    def distinct_none(self, c):
        return False

    def group_clause(self, c):
        return c[1]

    def window_clause(self, c):
        return c

    def window_def(self, c):
        return name_of(c[0]), c[1]

    def values_clause(self, c):
        tok, rows = c[0], c[1:]
        width = len(rows[0])
        for row in rows:
            if len(row) != width:
                raise TokenError(pos_of(row[0]), message="VALUES lists must all be the same "
                                                         "length")
        return Values(tuple(rows), pos=tok.start_pos)

    def values_row(self, c):
        return tuple(c[0])

    def table_cmd(self, c):
        tok, rel = c
        return Select((SelectItem(Star(pos=tok.start_pos)),),
                      (TableRef(rel.name, pos=rel.pos),), pos=tok.start_pos)

    def target_list(self, c):
        return c

    def target_as(self, c):
        return SelectItem(c[0], name_of(c[1]))

    def target_plain(self, c):
        return SelectItem(c[0])

    def target_star(self, c):
        return SelectItem(Star(pos=c[0].start_pos))

    # --- ORDER BY / LIMIT / OFFSET / FETCH / FOR UPDATE
    def sort_clause(self, c):
        return Tagged("order_by", c[0], tuple(c[1:]))

    def sort_item(self, c):
        expr, descending, nulls_first = c
        return OrderItem(expr, bool(descending), nulls_first)

    def sort_asc(self, c):
        return False

    def sort_desc(self, c):
        return True

    def sort_using(self, c):
        op = str(c[0])
        if op in ("<", "<="):
            return False
        if op in (">", ">="):
            return True
        raise TokenError(c[0].start_pos, message=f"operator {op} is not a valid ordering "
                                                 "operator", error_class=errors.WrongObjectType)

    def nulls_first(self, c):
        return True

    def nulls_last(self, c):
        return False

    def limit_expr(self, c):
        return Tagged("limit", c[0], c[1])

    def limit_all(self, c):
        return Tagged("limit", c[0], None)

    def limit_comma(self, c):
        raise TokenError(c[0].start_pos, message="LIMIT #,# syntax is not supported",
                         hint="Use separate LIMIT and OFFSET clauses.")

    def offset_clause(self, c):
        return Tagged("offset", c[0], c[1])

    def fetch_clause(self, c):
        tok, count = c
        return Tagged("limit", tok, count if count is not None else
                      Literal(1, "integer", pos=tok.start_pos))

    def fetch_with_ties(self, c):
        tok, count = c
        return Tagged("limit", tok, _Ties(count if count is not None else
                                          Literal(1, "integer", pos=tok.start_pos)))

    def fetch_count_neg(self, c):
        node = c[0]
        if isinstance(node, Literal):
            negated = negate_literal(node, node.pos)
            if negated is not None:
                return negated
        return UnaryOp("-", node, pos=pos_of(node))

    def locking_clause(self, c):
        return Tagged("for_update", c[0], True)

    # --- WITH
    def with_clause(self, c):
        tok, recursive, ctes = c[0], c[1], c[2:]
        return _With(tuple(ctes), recursive is not None, tok.start_pos)

    def cte(self, c):
        name, columns, materialized, body = c
        return CTE(name_of(name), body, tuple(columns or ()), materialized)

    def materialized(self, c):
        return True

    def not_materialized(self, c):
        return False

    # --- FROM
    def from_list(self, c):
        return tuple(c)

    def table_ref(self, c):
        rel, as_of, alias = c
        alias, columns = alias or (None, ())
        return TableRef(rel.name, alias, columns, as_of, pos=rel.pos)

    def history_ref(self, c):
        tok, rel, as_of, alias = c
        alias, columns = alias or (None, ())
        return TableRef(rel.name, alias, columns, as_of, history=True, pos=tok.start_pos)

    def function_ref(self, c):
        lateral, call, ordinality, alias = c
        alias, columns = alias or (None, ())
        return FunctionRef(call, alias, columns, lateral is not None, ordinality is not None,
                           pos=lateral.start_pos if lateral is not None else call.pos)

    def subquery_ref(self, c):
        lateral, query, alias = c
        alias, columns = alias or (None, ())
        pos = lateral.start_pos if lateral is not None else query.pos
        if lateral is None and query.body.__class__ is Values and unwrap(query) is query.body:
            return ValuesRef(query.body, alias, columns, pos=pos)
        return SubqueryRef(query, alias, columns, lateral is not None, pos=pos)

    def paren_join_ref(self, c):
        join, alias = c
        if alias is None:
            return join
        return Join(join.kind, join.left, join.right, join.on, join.using, join.natural,
                    pos=join.pos, alias=alias[0], column_aliases=alias[1])

    def alias_clause(self, c):
        name, columns = c
        return name_of(name), tuple(columns or ())

    def cross_join(self, c):
        left, right = c
        return _join(Join("cross", left, right, pos=pos_of(left)))

    def qual_join(self, c):
        left, kind, right, (on, using) = c
        return _join(Join(kind or "inner", left, right, on, using, pos=pos_of(left)))

    def natural_join(self, c):
        left, kind, right = c
        return _join(Join(kind or "inner", left, right, natural=True, pos=pos_of(left)))

    def full(self, c):
        return "full"

    def left(self, c):
        return "left"

    def right(self, c):
        return "right"

    def inner(self, c):
        return "inner"

    def join_on(self, c):
        return c[0], ()

    def join_using(self, c):
        return None, tuple(c[0])

    # --- immudb time travel
    def as_of_tx(self, c):
        return AsOf("tx", c[0])

    def as_of_timestamp(self, c):
        return AsOf("timestamp", c[0])

    def before_tx(self, c):
        return AsOf("before_tx", c[0])

    def since_tx(self, c):
        return AsOf("since_tx", c[0], c[1])

    def until_tx(self, c):
        return AsOf("until_tx", c[0])

    # --- names
    def qualified_name(self, c):
        tok, indirection = c
        return Rel(_name(tok, indirection), tok.start_pos)

    def qualified_name_list(self, c):
        return c

    def any_name(self, c):
        tok, indirection = c
        return _name(tok, indirection)

    def name_list(self, c):
        return tuple(name_of(t) for t in c)


def _join(node: Join) -> Join:
    check_chain(node, "left", node.pos, "Joins")
    return node


def _name(tok, indirection):
    if indirection is None:
        return Name((name_of(tok),))
    return Name(dotted(tok, indirection))
