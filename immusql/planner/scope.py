"""Name resolution: which slot of the row a column reference reads.

A `Scope` lists the columns a FROM clause produces, in row order, each with the table
alias that qualifies it. Scopes chain to their enclosing query's scope, so a correlated
subquery can read its outer row; such a reference is compiled to read the outer row the
executor publishes in an `OuterRow` cell before it runs the subquery.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import errors
from .types import SqlType


@dataclass
class ScopeColumn:
    table: str | None  # alias (or table name) that qualifies it; None for derived columns
    name: str
    type: SqlType
    hidden: bool = False  # _tx, _rev and the like: resolvable, not part of `*`
    schema: str | None = None
    table_id: int | None = None  # source table (for RowDescription and catalogs)
    column_id: int | None = None
    using_merged: bool = False  # a USING/NATURAL join column shown once


@dataclass
class OuterRow:
    """The row of an enclosing query, set by the executor before a correlated subquery."""

    row: tuple = ()


@dataclass
class Scope:
    columns: list[ScopeColumn] = field(default_factory=list)
    parent: "Scope | None" = None
    outer: OuterRow = field(default_factory=OuterRow)
    tables: set = field(default_factory=set)  # aliases visible in this scope

    def __post_init__(self):
        # scopes built from a column list (a join's ON clause) know those tables too, so
        # `a.nosuch` there is 42703 "column a.nosuch does not exist", not 42P01
        self.tables.update(c.table for c in self.columns if c.table)

    def add(self, col: ScopeColumn) -> int:
        self.columns.append(col)
        if col.table:
            self.tables.add(col.table)
        return len(self.columns) - 1

    def extend(self, cols) -> None:
        for c in cols:
            self.add(c)

    def resolve(self, parts: tuple[str, ...], pos: int = -1) -> tuple[int, int, SqlType]:
        """(depth, slot, type): depth 0 is this scope, 1 its parent, ..."""
        scope, depth = self, 0
        while scope is not None:
            found = scope._find(parts, pos)
            if found is not None:
                slot, col = found
                return depth, slot, col.type
            scope, depth = scope.parent, depth + 1
        name = ".".join(parts)
        if len(parts) >= 2 and not self._table_known(parts[-2]):
            raise errors.UndefinedTable(
                f'missing FROM-clause entry for table "{parts[-2]}"', position=_p(pos))
        hint = self._fuzzy_hint(parts)
        if len(parts) >= 2:  # PostgreSQL's errorMissingColumn: alias.column, unquoted
            raise errors.UndefinedColumn(f"column {parts[-2]}.{parts[-1]} does not exist",
                                         position=_p(pos), hint=hint)
        raise errors.UndefinedColumn(f'column "{name}" does not exist', position=_p(pos),
                                     hint=hint)

    def _fuzzy_hint(self, parts) -> str | None:
        """PostgreSQL's "Perhaps you meant to reference the column ..." for a missing
        column (parse_relation.c, searchRangeTableForCol): the visible columns closest by
        Levenshtein distance (at most 3, and at most half the typed name), a qualified
        reference paying the distance between the aliases; one best match or two equally
        good ones are suggested, more are not."""
        name, alias = parts[-1], (parts[-2] if len(parts) >= 2 else None)
        best, first, second = _MAX_FUZZY + 1, None, None
        scope = self
        while scope is not None:
            for c in scope.columns:
                if c.table is None or (c.hidden and c.name in _SYSTEM_HIDDEN):
                    continue
                penalty = 0 if alias is None else _levenshtein(alias, c.table)
                if penalty > best:
                    continue
                d = _levenshtein(c.name, name)
                if d > len(name) // 2:
                    continue
                d += penalty
                if d < best:
                    best, first, second = d, c, None
                elif d == best:
                    if second is not None:
                        first = second = None  # too many at this distance
                    elif first is not None:
                        second = c
            scope = scope.parent
        if first is None:
            return None
        if second is None:
            return f'Perhaps you meant to reference the column "{first.table}.{first.name}".'
        return (f'Perhaps you meant to reference the column "{first.table}.{first.name}" '
                f'or the column "{second.table}.{second.name}".')

    def _table_known(self, table: str) -> bool:
        scope = self
        while scope is not None:
            if table in scope.tables:
                return True
            scope = scope.parent
        return False

    def _find(self, parts, pos):
        name = parts[-1]
        table = parts[-2] if len(parts) >= 2 else None
        hits = [(i, c) for i, c in enumerate(self.columns)
                if c.name == name and (table is None or c.table == table)]
        if table is None and len(hits) > 1:
            merged = [h for h in hits if h[1].using_merged]
            if len(merged) == 1:
                return merged[0]
            raise errors.AmbiguousColumn(f'column reference "{name}" is ambiguous',
                                         position=_p(pos))
        if len(hits) > 1:
            raise errors.AmbiguousColumn(f'column reference "{".".join(parts)}" is ambiguous',
                                         position=_p(pos))
        return hits[0] if hits else None

    def star(self, table: str | None, pos: int = -1) -> list[int]:
        """Slots that `*` or `t.*` expand to."""
        if table is not None and table not in self.tables:
            raise errors.UndefinedTable(f'missing FROM-clause entry for table "{table}"',
                                        position=_p(pos))
        out = []
        for i, c in enumerate(self.columns):
            if c.hidden:
                continue
            if table is None:
                if c.using_merged is None:
                    continue
                out.append(i)
            elif c.table == table:
                out.append(i)
        return out


_MAX_FUZZY = 3  # PostgreSQL's MAX_FUZZY_DISTANCE
_SYSTEM_HIDDEN = ("_tx", "_rev", "_deleted", "_key")  # tables.HIDDEN_COLUMNS: never hinted


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _p(pos: int) -> int | None:
    return pos + 1 if pos is not None and pos >= 0 else None
