"""GROUP BY and aggregates: HashAggregate (any input order) and GroupAggregate (input
sorted on the group keys, streams one group at a time).

An aggregate is a spec with `init() -> state`, `step(state, *args) -> state`,
`final(state) -> value` and `strict`: if true, rows where any argument is NULL are skipped
before `step` (PostgreSQL's rule for strict transition functions); a spec without the
attribute gets every row and applies its own NULL rules (planner.aggregates does). The per-row work of all aggregates of a query is compiled into one Python
function, with column arguments inlined as `r[i]` and no loop over the aggregates, since
that loop is where an interpreted executor spends its time. Aggregates with DISTINCT or
ORDER BY keep their group's rows instead and fold them once at the end: sorted, and for
DISTINCT deduplicated, exactly as PostgreSQL sorts the input of such aggregates (so
`array_agg(DISTINCT x)` comes out in ascending order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby, islice
from typing import Any, Callable, Iterable, Sequence

from .base import Operator, RowFn, deferred, expr_of, tuple_fn
from .canon import canon_keys, canon_tuple, key_fn, raw_key_fn
from .sort import SortKey, sort_rows


@dataclass(eq=False)
class AggCall:
    """One aggregate call: spec(args) [DISTINCT] [ORDER BY ...] [FILTER (WHERE ...)].

    count(*) is `star=True` with no arguments: `step(state)` runs for every row.
    """

    spec: Any
    arg_fns: Sequence[RowFn] = ()
    distinct: bool = False
    filter_fn: RowFn | None = None
    order_by: Sequence[SortKey] = field(default_factory=list)
    star: bool = False

    @property
    def strict(self) -> bool:
        return bool(getattr(self.spec, "strict", False))

    @property
    def buffered(self) -> bool:
        return bool(self.distinct or self.order_by)


def fold_rows(call: AggCall, rows: list[tuple]) -> Any:
    """The aggregate's result over `rows` (already FILTERed): sort, dedupe, step, final."""
    arg_fns = [] if call.star else list(call.arg_fns)
    keys = list(call.order_by)
    if call.distinct:
        keys += [SortKey(f) for f in arg_fns]
    if keys:
        rows = sort_rows(rows, keys)
    args: Iterable[tuple] = map(tuple_fn(arg_fns), rows)
    if call.strict and arg_fns:
        args = [a for a in args if None not in a]
    if call.distinct:
        seen: set = set()
        unique = []
        for a in args:
            k = canon_tuple(a)
            if k not in seen:
                seen.add(k)
                unique.append(a)
        args = unique
    spec = call.spec
    state = spec.init()
    step = spec.step
    for a in args:
        state = step(state, *a)
    return spec.final(state)


class Accumulator:
    """Compiled per-row update of the states of a list of aggregate calls.

    Two layouts. Hash aggregation keeps one list per call (`states[i][group]`, holding the
    state, or the group's rows for a buffered call) and the groups' keys in `keys`, a group
    being an int index: no container object per group, so building a million groups does
    not keep waking the cyclic garbage collector. One group at a time (GroupAggregate, no
    GROUP BY) uses a record: a list of the states then the group's key.
    Keys are as read from the group's first row: a scalar for one GROUP BY expression, a
    tuple for several.
    """

    def __init__(self, calls: Sequence[AggCall], n_keys: int):
        self.calls = list(calls)
        self.n_keys = n_keys
        env: dict[str, Any] = {}
        inits = []
        for i, c in enumerate(self.calls):
            env[f"init{i}"] = c.spec.init
            env[f"step{i}"] = c.spec.step
            inits.append("[]" if c.buffered else f"init{i}()")
        by_index = self._body(env, lambda i: f"s{i}[gi]")
        in_record = self._body(env, lambda i: f"g[{i}]")
        n = len(self.calls)
        src = ["def new(o):", "    return [" + "".join(x + ", " for x in inits) + "o]",
               "",
               "def update_hashed(chunks, table, keys, states):",
               "    get = table.get",
               "    add_key = keys.append"]
        src += [f"    s{i} = states[{i}]" for i in range(n)]
        src += ["    for ckeys, origs, rows in chunks:",
                "        for k, o, r in zip(ckeys, origs, rows):",
                "            gi = get(k)",
                "            if gi is None:",
                "                gi = table[k] = len(keys)",
                "                add_key(o)"]
        src += [f"                s{i}.append({x})" for i, x in enumerate(inits)]
        src += ["            " + x for x in by_index]
        src += ["", "def update_one(rows, g):", "    for r in rows:"]
        src += ["        " + x for x in in_record]
        exec("\n".join(src), env)  # noqa: S102 - our own source text
        self.new: Callable[[Any], list] = env["new"]
        self.update_hashed = env["update_hashed"]
        self.update_one = env["update_one"]

    def _body(self, env: dict, ref: Callable[[int], str]) -> list[str]:
        """Statements updating every call's state (`ref(i)`) with the row `r`."""
        body: list[str] = []
        for i, c in enumerate(self.calls):
            state = ref(i)
            if c.buffered:
                lines = [f"{state}.append(r)"]
            else:
                fns = [] if c.star else list(c.arg_fns)
                names = [f"a{i}_{j}" for j in range(len(fns))]
                lines = [f"{n} = {expr_of(f, env)}" for n, f in zip(names, fns)]
                call = f"{state} = step{i}({state}" + "".join(", " + n for n in names) + ")"
                if c.strict and names:
                    cond = " and ".join(f"{n} is not None" for n in names)
                    lines += [f"if {cond}:", "    " + call]
                else:
                    lines.append(call)
            if c.filter_fn is not None:
                lines = [f"if {expr_of(c.filter_fn, env)}:"] + ["    " + x for x in lines]
            body += lines
        return body or ["pass"]

    def _finals(self, i: int, states: list) -> list:
        c = self.calls[i]
        if c.buffered:
            return [fold_rows(c, rows) for rows in states]
        return list(map(c.spec.final, states))

    def results(self, keys: list, states: list[list]) -> list[tuple]:
        """Output rows of hashed groups: key values, then one value per call."""
        columns = [self._finals(i, st) for i, st in enumerate(states)]
        if self.n_keys == 1:
            return list(zip(keys, *columns))
        if not columns:
            return list(keys)
        return list(map(tuple.__add__, keys, zip(*columns)))

    def result(self, g: list) -> tuple:
        """The output row of a group record."""
        values = tuple(self._finals(i, [g[i]])[0] for i in range(len(self.calls)))
        key = g[-1]
        return ((key,) if self.n_keys == 1 else key) + values

    def empty_group(self) -> list:
        """The record of the single group of an aggregate without GROUP BY."""
        return self.new(())


CHUNK = 65536


def key_chunks(rows: Iterable[tuple], group_fns: Sequence[RowFn]):
    """(canonical keys, raw keys, rows) per chunk of input: keys computed at C speed and
    canonicalised only for chunks holding non-plain values (NaN, arrays)."""
    raw = raw_key_fn(group_fns)
    multi = len(group_fns) > 1
    it = iter(rows)
    while True:
        chunk = list(islice(it, CHUNK))
        if not chunk:
            return
        keys = list(map(raw, chunk))
        yield canon_keys(keys, multi), keys, chunk


def _recanonised(chunks, key_canon: Sequence, multi: bool):
    """key_chunks with the per-key `key_canon` functions applied to the hash keys."""
    if not multi:
        f = key_canon[0]
        for canon, raw, chunk in chunks:
            yield [k if k is None else f(k) for k in canon], raw, chunk
        return
    pairs = list(enumerate(key_canon))
    for canon, raw, chunk in chunks:
        yield [tuple(v if f is None or v is None else f(v) for (_, f), v in zip(pairs, k))
               for k in canon], raw, chunk


class HashAggregate(Operator):
    """Groups rows by `group_fns` in a hash table; output: group values + aggregates.

    Groups come out in order of first appearance, each showing its first row's key
    values. With no `group_fns` it is a plain aggregate: exactly one row, even over no
    input. `key_canon`: per group key, None or a function mapping values the SQL type
    calls equal to one hash key (char(n) ignores trailing blanks).
    """

    def __init__(self, child: Operator, group_fns: Sequence[RowFn],
                 aggregates: Sequence[AggCall], label: str | None = None,
                 key_canon: Sequence | None = None):
        super().__init__([child], len(group_fns) + len(aggregates), label)
        self.key_canon = key_canon if key_canon and any(key_canon) else None
        self.group_fns = list(group_fns)
        self.aggregates = list(aggregates)
        self.name = "HashAggregate" if self.group_fns else "Aggregate"
        self._acc = Accumulator(self.aggregates, len(self.group_fns))

    def __iter__(self):
        return deferred(self._run)

    def _run(self) -> list[tuple]:
        acc = self._acc
        rows = iter(self.children[0])
        if not self.group_fns:
            g = acc.empty_group()
            acc.update_one(rows, g)
            return [acc.result(g)]
        keys: list = []
        states: list[list] = [[] for _ in self.aggregates]
        chunks = key_chunks(rows, self.group_fns)
        if self.key_canon is not None:
            chunks = _recanonised(chunks, self.key_canon, len(self.group_fns) > 1)
        acc.update_hashed(chunks, {}, keys, states)
        return acc.results(keys, states)


class GroupAggregate(Operator):
    """Like HashAggregate for input already sorted on the group keys: groups are runs of
    equal keys, each emitted as soon as the next begins (streaming, O(1 group) memory)."""

    name = "GroupAggregate"

    def __init__(self, child: Operator, group_fns: Sequence[RowFn],
                 aggregates: Sequence[AggCall], label: str | None = None):
        super().__init__([child], len(group_fns) + len(aggregates), label)
        self.group_fns = list(group_fns)
        self.aggregates = list(aggregates)
        if not self.group_fns:
            self.name = "Aggregate"
        self._acc = Accumulator(self.aggregates, len(self.group_fns))

    def __iter__(self):
        return self._run()

    def _run(self):
        acc = self._acc
        rows = iter(self.children[0])
        if not self.group_fns:
            g = acc.empty_group()
            acc.update_one(rows, g)
            yield acc.result(g)
            return
        raw = raw_key_fn(self.group_fns)
        for _, group in groupby(rows, key_fn(self.group_fns)):
            members = iter(group)
            first = next(members)
            g = acc.new(raw(first))
            acc.update_one((first,), g)
            acc.update_one(members, g)
            yield acc.result(g)
