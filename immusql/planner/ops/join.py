"""Joins: HashJoin (equi-joins) and NestedLoopJoin (any condition, and LATERAL).

Both read `left` (PostgreSQL's outer side) as a stream and emit, for each left row in
order, its matches in right-side order; right/full joins then emit the unmatched right
rows. Output rows are `left + right`, padded with NULLs for outer rows; semi and anti
joins output left rows only. The hash table is built from `right` when the first row is
requested; if it is empty, inner/semi/right joins never read `left` (as PostgreSQL).
"""

from __future__ import annotations

import operator
from collections import Counter
from itertools import repeat
from typing import Callable, Sequence

from immusql.errors import FeatureNotSupported

from ..interrupts import check as check_interrupt
from .base import Operator, RowFn, explain_node
from .canon import canon_keys, key_fn, raw_key_fn

KINDS = ("inner", "left", "right", "full", "semi", "anti")
_NAMES = {"inner": "", "left": " Left", "right": " Right", "full": " Full",
          "semi": " Semi", "anti": " Anti"}


def _check_kind(kind: str) -> str:
    kind = kind.lower()
    if kind not in KINDS:
        raise ValueError(f"unknown join kind {kind!r}")
    return kind


class HashJoin(Operator):
    """Equi-join on `left_keys[i](l) = right_keys[i](r)`; `residual(l + r)` must also hold.

    NULL keys never match; NaN matches NaN (PostgreSQL's float and numeric equality).
    """

    def __init__(self, left: Operator, right: Operator, left_keys: Sequence[RowFn],
                 right_keys: Sequence[RowFn], kind: str = "inner",
                 residual: RowFn | None = None, label: str | None = None):
        kind = _check_kind(kind)
        if len(left_keys) != len(right_keys):
            raise ValueError("HashJoin needs as many left keys as right keys")
        width = left.columns if kind in ("semi", "anti") else left.columns + right.columns
        super().__init__([left, right], width, label)
        self.kind = kind
        self.left_keys, self.right_keys = list(left_keys), list(right_keys)
        self.residual = residual
        self.name = "Hash" + _NAMES[kind] + " Join"

    def explain_children(self):
        left, right = self.children
        return [left.explain(), explain_node("Hash", [right.explain()])]

    def __iter__(self):
        return self._run()

    def _run(self):
        left, right = self.children
        kind, residual = self.kind, self.residual
        rrows = list(right)
        outer_right = kind in ("right", "full")
        multi = len(self.right_keys) > 1
        raw_keys = list(map(raw_key_fn(self.right_keys), rrows))
        keys = canon_keys(raw_keys, multi)
        table = build_table(keys, range(len(rrows)) if outer_right else rrows, multi)
        lpad = (None,) * left.columns
        rpad = (None,) * right.columns
        if not table and kind in ("inner", "semi", "right"):
            if kind == "right":
                yield from map(lpad.__add__, rrows)
            return
        get = table.get
        canon_key = key_fn(self.left_keys)
        # Build keys all of plain types: probe with the raw key (a C itemgetter); a probe
        # value whose canonical form differs (NaN, an array) can match none of them anyway.
        probe = raw_key_fn(self.left_keys) if keys is raw_keys else canon_key
        if kind == "inner" and residual is None:
            for lrow in left:
                try:
                    m = get(probe(lrow))
                except TypeError:  # an unhashable raw value (an array)
                    m = get(canon_key(lrow))
                if m is not None:
                    if type(m) is list:
                        yield from map(lrow.__add__, m)
                    else:
                        yield lrow + m
            return
        full = kind == "full"
        semi = kind == "semi"
        matched = bytearray(len(rrows)) if outer_right else None
        for lrow in left:
            try:
                m = get(probe(lrow))
            except TypeError:
                m = get(canon_key(lrow))
            ms = () if m is None else m if type(m) is list else (m,)
            if kind in ("semi", "anti"):
                hit = bool(ms) and (residual is None
                                    or any(map(residual, map(lrow.__add__, ms))))
                if hit is semi:
                    yield lrow
            elif outer_right:
                hit = False
                for j in ms:
                    row = lrow + rrows[j]
                    if residual is None or residual(row):
                        matched[j] = hit = True
                        yield row
                if full and not hit:
                    yield lrow + rpad
            else:  # inner with residual, left
                joined = map(lrow.__add__, ms)
                if residual is not None:
                    joined = filter(residual, joined)
                if kind == "inner":
                    yield from joined
                else:
                    hit = False
                    for row in joined:
                        hit = True
                        yield row
                    if not hit:
                        yield lrow + rpad
        if outer_right:
            for j, rrow in enumerate(rrows):
                if not matched[j]:
                    yield lpad + rrow


def build_table(keys: list, items, multi: bool) -> dict:
    """Canonical key -> item, or list of items (in input order) for a repeated key; NULL
    keys (any NULL in a composite key) are left out since they match nothing."""
    table = dict(zip(keys, items))
    if multi:
        nulls = sum(map(operator.contains, keys, repeat(None)))
        if nulls:
            for k in [k for k in table if None in k]:
                del table[k]
    else:
        nulls = keys.count(None)
        table.pop(None, None)
    if len(table) < len(keys) - nulls:  # repeated keys
        repeated = {k: [] for k, n in Counter(keys).items() if n > 1 and k in table}
        get = repeated.get
        for k, item in zip(keys, items):
            group = get(k)
            if group is not None:
                group.append(item)
        table.update(repeated)
    return table


class NestedLoopJoin(Operator):
    """Joins every left row with every right row satisfying `predicate(l + r)` (None:
    always, a cross join).

    `right` is run once and kept in memory. With `lateral=True`, `right` is instead a
    factory `right(left_row) -> Operator` run for each left row (LATERAL, correlated
    EXISTS as a semi join); give its width as `right_columns` unless the kind is semi or
    anti. LATERAL allows inner, left, semi and anti joins only (as PostgreSQL).
    """

    def __init__(self, left: Operator, right: Operator | Callable[[tuple], Operator],
                 predicate: RowFn | None = None, kind: str = "inner", lateral: bool = False,
                 right_columns: int | None = None, label: str | None = None):
        kind = _check_kind(kind)
        if lateral:
            if kind in ("right", "full"):
                raise FeatureNotSupported(
                    "the combining JOIN type must be INNER or LEFT for a LATERAL reference")
            if right_columns is None and kind not in ("semi", "anti"):
                raise ValueError("a LATERAL NestedLoopJoin needs right_columns")
            children = [left]
        else:
            right_columns = right.columns
            children = [left, right]
        width = left.columns if kind in ("semi", "anti") else left.columns + right_columns
        super().__init__(children, width, label)
        self.left, self.right = left, right
        self.predicate, self.kind, self.lateral = predicate, kind, lateral
        self.right_columns = right_columns or 0
        self.name = "Nested Loop" + (_NAMES[kind] + " Join" if kind != "inner" else "")

    def explain_children(self):
        if not self.lateral:
            return super().explain_children()
        try:  # the factory only builds a plan; show it for a row of NULLs
            sub = self.right((None,) * self.left.columns).explain()
        except Exception:  # noqa: BLE001 - EXPLAIN must not fail on a display detail
            sub = ["Lateral Subquery"]
        return [self.left.explain(), sub]

    def __iter__(self):
        return self._run()

    def _run(self):
        kind, pred, lateral = self.kind, self.predicate, self.lateral
        rpad = (None,) * self.right_columns
        rrows = None
        if kind in ("right", "full"):
            yield from self._run_outer_right(kind == "full", rpad)
            return
        for lrow in self.left:
            check_interrupt()  # the inner side may be long: look once per outer row
            if lateral:
                rrows = self.right(lrow)
            elif rrows is None:
                rrows = list(self.right)
            joined = map(lrow.__add__, rrows)
            if pred is not None:
                joined = filter(pred, joined)
            if kind == "inner":
                yield from joined
            elif kind == "left":
                n = 0
                for n, row in enumerate(joined, 1):  # noqa: B007
                    yield row
                if not n:
                    yield lrow + rpad
            elif kind == "semi":
                if next(joined, None) is not None:
                    yield lrow
            elif next(joined, None) is None:  # anti
                yield lrow

    def _run_outer_right(self, full: bool, rpad: tuple):
        pred = self.predicate
        rrows = list(self.right)
        matched = bytearray(len(rrows))
        for lrow in self.left:
            check_interrupt()
            hit = False
            for j, rrow in enumerate(rrows):
                row = lrow + rrow
                if pred is None or pred(row):
                    matched[j] = hit = True
                    yield row
            if full and not hit:
                yield lrow + rpad
        lpad = (None,) * self.left.columns
        for j, rrow in enumerate(rrows):
            if not matched[j]:
                yield lpad + rrow
