"""Seeded random SELECTs over a small fixed schema, for differential testing.

The queries are built so that PostgreSQL's answer is fully determined, which is what lets
any difference be blamed on immusql:

* every query orders by all of its output columns, so ties are between identical rows;
  expressions whose equal values can print differently (numeric division, whose scale
  depends on the operands; float arithmetic that can give -0.0) appear only next to the
  tables' primary keys and never under DISTINCT, GROUP BY or set operations;
* WHERE / ON / HAVING never raise, so no error depends on evaluation order or short-circuit;
  a query whose select list can raise has no LIMIT, since under a LIMIT PostgreSQL's plan
  decides which rows are ever evaluated;
* expressions that can raise do so in at most one SQLSTATE per query (22003 overflow,
  22012 division by zero, 22P02 bad text-to-int cast), so which bad row is met first does
  not change the error; divisors never hold -1, so division only raises 22012;
* float data are small dyadic fractions (sums are exact in any order), text sorts under
  the C collation, and no function depends on time or randomness.

`queries(seed, n)` is deterministic per (seed, index): raising n keeps earlier queries.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlscript import Statement

INT_MIN, INT_MAX = -2147483648, 2147483647
BIG_MAX = 9223372036854775807
TEXTS = ["a", "ab", "abc", "b", "ba", "B", "", "a_b", "x%y", " a", "é", "12", "-3", "zz"]
FLOATS = [0.5, -1.25, 2.0, 0.0, 3.75, -0.5, 1024.0, 0.125]
NUMERICS = ["1.50", "-2.25", "0.00", "10.00", "999999.99", "3.33", "-0.01", "7.10"]

# table -> {column: type}; type is one of int, big, num, flt, text, bool, date
SCHEMA = {
    "ta": {"id": "int", "i": "int", "j": "int", "big": "big", "n": "num", "r": "flt",
           "s": "text", "b": "bool", "d": "date"},
    "tb": {"id": "int", "a_id": "int", "i": "int", "j": "int", "n": "num", "s": "text",
           "b": "bool", "d": "date"},
    "tc": {"k": "int", "i": "int", "s": "text", "b": "bool"},
}
SQL_TYPES = {"int": "int", "big": "bigint", "num": "numeric(8,2)", "flt": "float8",
             "text": "text", "bool": "boolean", "date": "date"}
KEYS = {"ta": "id", "tb": "id"}     # tc has no key and holds duplicate rows
DIVISORS = {"j"}                    # int columns that hold 0 but never -1


def _data_rng() -> random.Random:
    return random.Random(20240601)  # the data never change with the query seed


def _maybe(rng: random.Random, value, p_null: float = 0.15):
    return None if rng.random() < p_null else value


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def _rows() -> dict[str, list[tuple]]:
    rng = _data_rng()
    ints = [0, 1, 2, 3, 5, 7, 10, -2, -7, 100, INT_MAX, INT_MIN, 1000000]
    divisors = [0, 1, 2, 3, 5, -2, -3]
    dates = [f"2024-01-{d:02d}" for d in (1, 2, 15, 31)] + ["2023-12-31", "2024-02-29",
                                                           "2000-01-01"]
    ta = []
    for id_ in range(1, 41):
        ta.append((id_, _maybe(rng, rng.choice(ints)), _maybe(rng, rng.choice(divisors)),
                   _maybe(rng, rng.choice([1, -5, 10**12, BIG_MAX, -BIG_MAX, 3])),
                   _maybe(rng, rng.choice(NUMERICS)),
                   _maybe(rng, rng.choice(FLOATS + ["NaN"]), 0.1),
                   _maybe(rng, rng.choice(TEXTS)), _maybe(rng, rng.random() < 0.5),
                   _maybe(rng, rng.choice(dates))))
    tb = []
    for id_ in range(1, 31):
        tb.append((id_, _maybe(rng, rng.randint(1, 45)), _maybe(rng, rng.choice(ints)),
                   _maybe(rng, rng.choice(divisors)),
                   _maybe(rng, rng.choice(["1.5", "-2.2", "0.0", "10.0", "3.3"])),
                   _maybe(rng, rng.choice(TEXTS)), _maybe(rng, rng.random() < 0.5),
                   _maybe(rng, rng.choice(dates))))
    tc = []
    for _ in range(15):
        row = (_maybe(rng, rng.randint(0, 4)), _maybe(rng, rng.choice(ints)),
               _maybe(rng, rng.choice(TEXTS)), _maybe(rng, rng.random() < 0.5))
        tc += [row] * rng.choice([1, 1, 2, 3])    # duplicate rows on purpose
    return {"ta": ta, "tb": tb, "tc": tc}


def schema_statements() -> list[Statement]:
    """CREATE TABLE and INSERT statements for the fixed schema and data."""
    out = []
    for table, cols in SCHEMA.items():
        defs = [f"{c} {SQL_TYPES[t]}" + (" PRIMARY KEY" if KEYS.get(table) == c else "")
                for c, t in cols.items()]
        out.append(f"CREATE TABLE {table} ({', '.join(defs)})")
    for table, rows in _rows().items():
        values = ",\n  ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows)
        out.append(f"INSERT INTO {table} VALUES\n  {values}")
    return [Statement(sql=s, line=i + 1, source="generator-schema") for i, s in enumerate(out)]


@dataclass
class Expr:
    sql: str
    type: str
    errors: frozenset = frozenset()   # SQLSTATEs it may raise
    ambiguous: bool = False           # equal values may print differently
    aggregate: bool = False


@dataclass
class Source:
    """The FROM clause in scope: alias -> table."""
    aliases: dict[str, str]
    nullable: set[str] = field(default_factory=set)   # aliases on the outer side of joins

    def columns(self, type_: str | None = None) -> list[tuple[str, str, str]]:
        out = []
        for alias, table in self.aliases.items():
            for col, t in SCHEMA[table].items():
                if type_ is None or t == type_:
                    out.append((alias, col, t))
        return out


class QueryGen:
    def __init__(self, rng: random.Random):
        self.rng = rng

    # -- leaves ----------------------------------------------------------------------------
    def column(self, src: Source, type_: str) -> Expr | None:
        cols = src.columns(type_)
        if not cols:
            return None
        alias, col, t = self.rng.choice(cols)
        return Expr(f"{alias}.{col}", t)

    def literal(self, type_: str) -> Expr:
        r = self.rng
        sql = {
            "int": lambda: str(r.choice([0, 1, 2, 3, 5, 10, -1, 100])),
            "big": lambda: "10000000000",
            "num": lambda: r.choice(["1.5", "0.25", "-2.00", "100"]),
            "flt": lambda: r.choice(["0.5::float8", "2::float8", "-1.5::float8"]),
            "text": lambda: _literal(r.choice(TEXTS)),
            "bool": lambda: r.choice(["true", "false"]),
            "date": lambda: r.choice(["date '2024-01-15'", "date '2023-12-31'"]),
        }[type_]()
        return Expr(sql, type_)

    def leaf(self, src: Source, type_: str) -> Expr:
        if self.rng.random() < 0.8:
            col = self.column(src, type_)
            if col is not None:
                return col
        return self.literal(type_)

    # -- scalar expressions that may raise -------------------------------------------------
    def scalar(self, src: Source, type_: str, depth: int = 0) -> Expr:
        r = self.rng
        if depth >= 2 or r.random() < 0.35:
            return self.leaf(src, type_)
        builder = getattr(self, f"_scalar_{type_}", None)
        if builder is None:
            return self.leaf(src, type_)
        return builder(src, depth + 1)

    def _divisor(self, src: Source) -> Expr:
        cols = [c for c in src.columns("int") if c[1] in DIVISORS]
        if cols and self.rng.random() < 0.7:
            alias, col, _ = self.rng.choice(cols)
            return Expr(f"{alias}.{col}", "int", frozenset({"22012"}))
        return Expr(str(self.rng.choice([2, 3, 7])), "int")

    def _scalar_int(self, src: Source, depth: int) -> Expr:
        r = self.rng
        a, b = self.scalar(src, "int", depth), self.scalar(src, "int", depth)
        kind = r.choice(["+", "-", "*", "/", "%", "neg", "abs", "len", "case", "coalesce",
                         "safe/", "cast", "datediff"])
        over = frozenset({"22003"})
        if kind in ("+", "-", "*"):
            return Expr(f"({a.sql} {kind} {b.sql})", "int", a.errors | b.errors | over)
        if kind in ("/", "%"):
            num, div = self.leaf(src, "int"), self._divisor(src)
            return Expr(f"({num.sql} {kind} {div.sql})", "int", div.errors)
        if kind == "safe/":
            num, div = self.leaf(src, "int"), self._divisor(src)
            if r.random() < 0.5:
                return Expr(f"(CASE WHEN {div.sql} <> 0 THEN {num.sql} / {div.sql} END)", "int")
            return Expr(f"({num.sql} / NULLIF({div.sql}, 0))", "int")
        if kind == "neg":
            return Expr(f"(- {a.sql})", "int", a.errors | over)
        if kind == "abs":
            return Expr(f"abs({a.sql})", "int", a.errors | over)
        if kind == "len":
            s = self.scalar(src, "text", depth)
            return Expr(f"length({s.sql})", "int", s.errors)
        if kind == "case":
            p = self.predicate(src, 1)
            return Expr(f"CASE WHEN {p} THEN {a.sql} ELSE {b.sql} END", "int",
                        a.errors | b.errors)
        if kind == "coalesce":
            return Expr(f"COALESCE({a.sql}, {b.sql})", "int", a.errors | b.errors)
        if kind == "cast":
            # a column, never a literal: PostgreSQL converts a literal while parsing, so it
            # would fail even when no row is read
            s = self.column(src, "text")
            if s is None:
                return a
            return Expr(f"CAST({s.sql} AS int)", "int", frozenset({"22P02"}))
        d = self.column(src, "date")
        if d is None:
            return a
        return Expr(f"({d.sql} - date '2024-01-01')", "int")

    def _scalar_big(self, src: Source, depth: int) -> Expr:
        a = self.leaf(src, "big")
        if self.rng.random() < 0.5:
            i = self.leaf(src, "int")
            return Expr(f"({a.sql} * {i.sql})", "big", frozenset({"22003"}))
        return Expr(f"({a.sql} + {a.sql})", "big", frozenset({"22003"}))

    def _scalar_num(self, src: Source, depth: int) -> Expr:
        r = self.rng
        a = self.leaf(src, "num")
        kind = r.choice(["*", "+", "/", "round", "int/", "abs"])
        if kind == "*":
            i = self.leaf(src, "int")
            # int * numeric is numeric: exact, cannot overflow here
            return Expr(f"({a.sql} * {i.sql})", "num")
        if kind == "+":
            b = self.leaf(src, "num")
            return Expr(f"({a.sql} + {b.sql})", "num")
        if kind == "/":
            div = self._divisor(src)
            return Expr(f"({a.sql} / {div.sql})", "num", div.errors, ambiguous=True)
        if kind == "int/":
            i = self.leaf(src, "int")
            return Expr(f"({i.sql}::numeric / 3)", "num", ambiguous=True)
        if kind == "round":
            return Expr(f"round({a.sql}, {r.choice([0, 1, 3])})", "num")
        return Expr(f"abs({a.sql})", "num")

    def _scalar_flt(self, src: Source, depth: int) -> Expr:
        a = self.leaf(src, "flt")
        if self.rng.random() < 0.5:
            div = self._divisor(src)
            return Expr(f"({a.sql} / {div.sql})", "flt", div.errors, ambiguous=True)
        i = self.leaf(src, "int")
        return Expr(f"({a.sql} * {i.sql})", "flt", ambiguous=True)

    def _scalar_text(self, src: Source, depth: int) -> Expr:
        r = self.rng
        a = self.scalar(src, "text", depth)
        kind = r.choice(["||", "upper", "lower", "substr", "coalesce", "||int", "replace"])
        if kind == "||":
            b = self.scalar(src, "text", depth)
            return Expr(f"({a.sql} || {b.sql})", "text", a.errors | b.errors)
        if kind == "||int":
            i = self.leaf(src, "int")
            return Expr(f"({a.sql} || {i.sql})", "text", a.errors)
        if kind in ("upper", "lower"):
            return Expr(f"{kind}({a.sql})", "text", a.errors)
        if kind == "substr":
            return Expr(f"substr({a.sql}, {r.choice([1, 2])}, {r.choice([1, 2, 3])})", "text",
                        a.errors)
        if kind == "replace":
            return Expr(f"replace({a.sql}, 'a', 'A')", "text", a.errors)
        return Expr(f"COALESCE({a.sql}, 'none')", "text", a.errors)

    def _scalar_date(self, src: Source, depth: int) -> Expr:
        d = self.leaf(src, "date")
        return Expr(f"({d.sql} + {self.rng.choice([1, 7, -30])})", "date")

    def _scalar_bool(self, src: Source, depth: int) -> Expr:
        return Expr(f"({self.predicate(src, 1)})", "bool")

    # -- predicates (never raise) ----------------------------------------------------------
    def predicate(self, src: Source, depth: int = 0) -> str:
        r = self.rng
        if depth < 2 and r.random() < 0.4:
            op = r.choice(["AND", "OR", "NOT"])
            if op == "NOT":
                return f"NOT ({self.predicate(src, depth + 1)})"
            return f"({self.predicate(src, depth + 1)} {op} {self.predicate(src, depth + 1)})"
        type_ = r.choice(["int", "int", "num", "text", "text", "bool", "date", "flt"])
        col = self.column(src, type_)
        if col is None:
            col = self.column(src, "int")
            type_ = "int"
        kind = r.choice(["cmp", "cmp", "null", "between", "in", "like", "distinct", "cmpcol"])
        if kind == "null":
            return f"{col.sql} IS {r.choice(['', 'NOT '])}NULL"
        if type_ == "bool":
            return r.choice([col.sql, f"NOT {col.sql}", f"{col.sql} IS TRUE",
                             f"{col.sql} IS NOT FALSE", f"{col.sql} IS UNKNOWN",
                             f"{col.sql} = {self.literal('bool').sql}"])
        if kind == "like" and type_ == "text":
            pat = r.choice(["a%", "%b", "_", "%a%", "x\\%y", "A%", "%", "__"])
            op = r.choice(["LIKE", "NOT LIKE", "ILIKE"])
            return f"{col.sql} {op} {_literal(pat)}"
        if kind == "between":
            lo, hi = sorted([self.literal(type_).sql, self.literal(type_).sql])
            sym = r.choice(["", "SYMMETRIC "]) if type_ != "text" else ""
            return f"{col.sql} {r.choice(['', 'NOT '])}BETWEEN {sym}{lo} AND {hi}"
        if kind == "in":
            items = [self.literal(type_).sql for _ in range(r.randint(1, 3))]
            if r.random() < 0.3:
                items.append("NULL")
            return f"{col.sql} {r.choice(['', 'NOT '])}IN ({', '.join(items)})"
        if kind == "distinct":
            return f"{col.sql} IS {r.choice(['', 'NOT '])}DISTINCT FROM {self.literal(type_).sql}"
        op = r.choice(["=", "<>", "<", "<=", ">", ">="])
        if kind == "cmpcol":
            other = self.column(src, type_)
            if other is not None:
                return f"{col.sql} {op} {other.sql}"
        return f"{col.sql} {op} {self.literal(type_).sql}"

    def subquery_predicate(self, src: Source) -> str:
        r = self.rng
        outer = self.column(src, "int")
        inner = Source({"q": "tb"})
        kind = r.choice(["in", "exists", "scalar"])
        where = self.predicate(inner, 1)
        if kind == "in":
            return (f"{outer.sql} {r.choice(['', 'NOT '])}IN "
                    f"(SELECT q.{r.choice(['i', 'j', 'a_id'])} FROM tb q WHERE {where})")
        if kind == "exists":
            return (f"{r.choice(['', 'NOT '])}EXISTS (SELECT 1 FROM tb q "
                    f"WHERE q.a_id = {outer.sql} AND {where})")
        agg = r.choice(["max", "min", "count"])
        return f"{outer.sql} {r.choice(['<', '>=', '='])} (SELECT {agg}(q.j) FROM tb q WHERE {where})"

    # -- query shapes ----------------------------------------------------------------------
    def source(self) -> tuple[str, Source, list[str]]:
        """FROM clause, its scope, and the key expressions that make its rows unique (empty
        when rows can repeat)."""
        r = self.rng
        shape = r.choice(["ta", "ta", "tb", "tc", "join", "join"])
        if shape != "join":
            keys = [f"{shape}.{KEYS[shape]}"] if shape in KEYS else []
            return shape, Source({shape: shape}), keys
        kind = r.choice(["JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", "CROSS JOIN"])
        if kind == "CROSS JOIN":
            return "ta x CROSS JOIN tb y", Source({"x": "ta", "y": "tb"}), ["x.id", "y.id"]
        on = r.choice(["x.id = y.a_id", "x.i = y.i", "x.s = y.s", "x.j = y.j AND x.b = y.b"])
        nullable = {"LEFT JOIN": {"y"}, "RIGHT JOIN": {"x"}, "FULL JOIN": {"x", "y"}}
        return (f"ta x {kind} tb y ON {on}", Source({"x": "ta", "y": "tb"},
                                                  nullable.get(kind, set())), ["x.id", "y.id"])

    def select_list(self, src: Source, n: int, allow_ambiguous: bool) -> list[Expr]:
        out: list[Expr] = []
        errors: set = set()
        for _ in range(50):
            if len(out) == n:
                break
            type_ = self.rng.choice(["int", "int", "big", "num", "flt", "text", "text", "bool",
                                     "date"])
            e = self.scalar(src, type_)
            if e.ambiguous and not allow_ambiguous:
                continue
            if len(errors | e.errors) > 1:
                continue
            errors |= e.errors
            out.append(e)
        return out

    def order_by(self, n: int) -> str:
        parts = []
        for k in range(1, n + 1):
            p = str(k)
            if self.rng.random() < 0.3:
                p += " DESC"
            if self.rng.random() < 0.2:
                p += self.rng.choice([" NULLS FIRST", " NULLS LAST"])
            parts.append(p)
        return "ORDER BY " + ", ".join(parts)

    def _where(self, src: Source) -> str:
        r = self.rng
        if r.random() < 0.2:
            return ""
        pred = self.predicate(src)
        if r.random() < 0.15:
            pred = f"{pred} AND {self.subquery_predicate(src)}"
        return f" WHERE {pred}"

    def _aliased(self, exprs: list[Expr]) -> list[str]:
        # Half the time no alias: PostgreSQL's column naming (?column?, sum, upper, ...) is
        # part of what is compared.
        return [e.sql if self.rng.random() < 0.5 else f"{e.sql} AS c{i + 1}"
                for i, e in enumerate(exprs)]

    def plain(self) -> str:
        r = self.rng
        from_, src, keys = self.source()
        distinct = r.random() < 0.2
        allow_amb = bool(keys) and not distinct
        exprs = self.select_list(src, r.randint(1, 4), allow_amb)
        items = self._aliased(exprs)
        if any(e.ambiguous for e in exprs):
            items = keys + items
        limit = ""
        if r.random() < 0.25:
            limit = f" LIMIT {r.randint(0, 10)}"
            if r.random() < 0.5:
                limit += f" OFFSET {r.randint(0, 5)}"
        if any(e.errors for e in exprs):
            # PostgreSQL may stop reading early under a LIMIT (an index scan feeding an
            # incremental sort), so whether a bad row is ever met would depend on the plan.
            limit = ""
        return (f"SELECT {'DISTINCT ' if distinct else ''}{', '.join(items)} FROM {from_}"
                f"{self._where(src)} {self.order_by(len(items))}{limit}")

    def grouped(self) -> str:
        r = self.rng
        from_, src, _ = self.source()
        groups = []
        for _ in range(r.randint(0, 2)):
            # columns only: a literal in GROUP BY would be read as an output ordinal
            e = self.column(src, r.choice(["int", "text", "bool", "date"]))
            if e is not None and e.sql not in [g.sql for g in groups]:
                groups.append(e)
        aggs = []
        errors: set = set()
        for _ in range(r.randint(1, 4)):
            agg = self.aggregate(src)
            if len(errors | agg.errors) > 1:
                continue
            errors |= agg.errors
            aggs.append(agg)
        if not aggs:
            aggs = [Expr("count(*)", "int", aggregate=True)]
        items = [g.sql for g in groups] + self._aliased(aggs)
        group_by = f" GROUP BY {', '.join(g.sql for g in groups)}" if groups else ""
        having = ""
        if groups and r.random() < 0.3:
            col = self.column(src, "int")
            having = r.choice([" HAVING count(*) > 1", f" HAVING sum({col.sql}) > 0",
                               f" HAVING max({col.sql}) IS NOT NULL"])
        return (f"SELECT {', '.join(items)} FROM {from_}{self._where(src)}{group_by}{having} "
                f"{self.order_by(len(items))}")

    def aggregate(self, src: Source) -> Expr:
        r = self.rng
        kind = r.choice(["count*", "count", "countd", "sum", "avg", "min", "max", "bool_and",
                         "bool_or", "string_agg", "array_agg", "sumexpr"])
        if kind == "count*":
            return Expr("count(*)", "big", aggregate=True)
        if kind in ("count", "countd"):
            col = self.column(src, r.choice(["int", "text", "date"])) or \
                self.column(src, "int")
            d = "DISTINCT " if kind == "countd" else ""
            return Expr(f"count({d}{col.sql})", "big", aggregate=True)
        if kind in ("sum", "avg"):
            col = self.column(src, r.choice(["int", "num", "big", "flt"])) or \
                self.column(src, "int")
            return Expr(f"{kind}({col.sql})", "num", aggregate=True)
        if kind in ("min", "max"):
            col = self.column(src, r.choice(["int", "num", "text", "date", "big", "flt"])) or \
                self.column(src, "int")
            return Expr(f"{kind}({col.sql})", col.type, aggregate=True)
        if kind in ("bool_and", "bool_or"):
            col = self.column(src, "bool")
            return Expr(f"{kind}({col.sql})", "bool", aggregate=True)
        if kind == "string_agg":
            col = self.column(src, "text")
            return Expr(f"string_agg({col.sql}, ',' ORDER BY {col.sql})", "text", aggregate=True)
        if kind == "array_agg":
            col = self.column(src, "int")
            return Expr(f"array_agg({col.sql} ORDER BY {col.sql})", "int", aggregate=True)
        e = self.scalar(src, "int", 1)
        return Expr(f"sum({e.sql})", "big", e.errors, aggregate=True)

    def setop(self) -> str:
        r = self.rng
        # no numeric: ta.n (scale 2) and tb.n (scale 1) hold equal values that print
        # differently, and which one a UNION keeps is up to the plan
        types = [r.choice(["int", "text", "bool", "date"]) for _ in range(r.randint(1, 3))]
        branches = []
        errors: set = set()
        for table in r.sample(["ta", "tb", "tc"], 2):
            src = Source({table: table})
            exprs = []
            for t in types:
                e = self.scalar(src, t)
                while e.ambiguous or len(errors | e.errors) > 1:
                    e = self.leaf(src, t)
                errors |= e.errors
                exprs.append(e)
            where = f" WHERE {self.predicate(src)}" if r.random() < 0.7 else ""
            branches.append(f"SELECT {', '.join(e.sql for e in exprs)} FROM {table}{where}")
        op = r.choice(["UNION", "UNION ALL", "INTERSECT", "INTERSECT ALL", "EXCEPT",
                       "EXCEPT ALL"])
        return f"{branches[0]} {op} {branches[1]} {self.order_by(len(types))}"

    def query(self) -> str:
        shape = self.rng.choices(["plain", "grouped", "setop"], weights=[5, 3, 2])[0]
        return getattr(self, shape)()


def queries(seed: int, n: int) -> list[Statement]:
    """`n` generated SELECTs; query k depends only on (seed, k)."""
    out = []
    for k in range(n):
        gen = QueryGen(random.Random(f"{seed}:{k}"))
        out.append(Statement(sql=gen.query(), line=k + 1, ordered=True,
                             source=f"generated[seed={seed}]"))
    return out


if __name__ == "__main__":
    import sys
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    for s in schema_statements():
        print(s.sql + ";")
    for s in queries(seed, n):
        print(s.sql + ";")
