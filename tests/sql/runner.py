"""Running statements on PostgreSQL and immusql side by side and comparing the outcomes.

Each statement is executed on both connections (DB-API, psycopg-style parameters) and its
outcome captured: for a result set the column names, type OIDs and rows; for a command its
rowcount; for an error its SQLSTATE (and message, kept for reports but never compared,
since immusql's wording need not match). Rows are compared in order when the statement
orders them (see sqlscript.is_ordered and the `-- ordered` / `-- unordered` directives),
else as multisets. Comparison goes on after an error, also inside a failed transaction:
both sides must then answer 25P02 until the transaction ends.

`Comparator` is what the tests use; it only needs objects with `cursor()` whose cursors have
`execute`, `description`, `rowcount`, `fetchall`, so tests can feed it fakes.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlscript
from pgvalues import normalise_row, show_row
from sqlscript import Statement

MAX_DIFF_ROWS = 40

# Names of the built-in type OIDs, only to make diffs readable.
TYPE_NAMES = {
    16: "bool", 17: "bytea", 18: "char", 19: "name", 20: "int8", 21: "int2", 23: "int4",
    25: "text", 26: "oid", 114: "json", 199: "json[]", 700: "float4", 701: "float8",
    705: "unknown", 1000: "bool[]", 1001: "bytea[]", 1005: "int2[]", 1007: "int4[]",
    1009: "text[]", 1014: "bpchar[]", 1015: "varchar[]", 1016: "int8[]", 1021: "float4[]",
    1022: "float8[]", 1042: "bpchar", 1043: "varchar", 1082: "date", 1083: "time",
    1114: "timestamp", 1115: "timestamp[]", 1182: "date[]", 1183: "time[]",
    1184: "timestamptz", 1185: "timestamptz[]", 1186: "interval", 1187: "interval[]",
    1231: "numeric[]", 1266: "timetz", 1700: "numeric", 2249: "record", 2950: "uuid",
    2951: "uuid[]", 3802: "jsonb", 3807: "jsonb[]",
}


def type_name(oid) -> str:
    return f"{TYPE_NAMES[oid]}({oid})" if oid in TYPE_NAMES else str(oid)


@dataclass
class Outcome:
    """What one engine did with one statement."""
    columns: list[str] | None = None
    type_oids: list[int] | None = None
    rows: list[tuple] | None = None
    rowcount: int | None = None
    sqlstate: str | None = None
    error: str | None = None       # "ClassName: message", for reports only

    @property
    def failed(self) -> bool:
        return self.error is not None

    def describe(self) -> str:
        if self.failed:
            return f"ERROR {self.sqlstate or '(no sqlstate)'}  [{self.error}]"
        if self.columns is None:
            return f"command, rowcount={self.rowcount}"
        cols = ", ".join(f"{c} {type_name(o)}" for c, o in zip(self.columns, self.type_oids))
        return f"{len(self.rows)} row(s), columns ({cols}), rowcount={self.rowcount}"


def execute(conn, stmt: Statement) -> Outcome:
    """Run `stmt` on a DB-API connection and capture the outcome. Any exception counts as a
    statement error; one without `.sqlstate` (an engine bug, not a SQL error) is kept with
    sqlstate None so it never matches PostgreSQL."""
    cur = None
    try:
        cur = conn.cursor()
        if stmt.params is None:
            cur.execute(stmt.sql)
        else:
            cur.execute(stmt.sql, stmt.params)
        out = Outcome(rowcount=cur.rowcount)
        if cur.description is not None:
            out.columns = [d[0] for d in cur.description]
            out.type_oids = [d[1] for d in cur.description]
            out.rows = [tuple(r) for r in cur.fetchall()]
        return out
    except Exception as e:  # noqa: BLE001 - every failure is an outcome to compare
        sqlstate = getattr(e, "sqlstate", None)
        message = str(e).strip().splitlines()[0] if str(e).strip() else ""
        return Outcome(sqlstate=sqlstate, error=f"{type(e).__name__}: {message}")
    finally:
        try:
            if cur is not None:
                cur.close()
        except Exception:  # noqa: BLE001 - a cursor that cannot close changes no outcome
            pass


_DML = ("insert", "update", "delete", "merge")


def _is_dml(sql: str) -> bool:
    head = sqlscript.mask(sql).lstrip().lower()
    return head.startswith(_DML)


def differences(stmt: Statement, pg: Outcome, immu: Outcome) -> list[str]:
    """Human-readable reasons why the two outcomes differ; empty when they agree."""
    if pg.failed and pg.sqlstate is None:
        return [f"fixture error: PostgreSQL's side failed in the client ({pg.error})"]
    if pg.failed or immu.failed:
        if pg.failed and immu.failed:
            if pg.sqlstate != immu.sqlstate:
                return [f"SQLSTATE differs: postgresql {pg.sqlstate}, immusql {immu.sqlstate}"]
            return []
        return ["only one side raised an error"]
    problems = []
    if (pg.columns is None) != (immu.columns is None):
        return ["one side returned rows, the other did not"]
    if pg.columns is not None:
        if pg.columns != immu.columns:
            problems.append(f"column names differ: {pg.columns} vs {immu.columns}")
        if pg.type_oids != immu.type_oids:
            problems.append("type OIDs differ: [{}] vs [{}]".format(
                ", ".join(map(type_name, pg.type_oids)), ", ".join(map(type_name, immu.type_oids))))
        ordered = stmt.rows_ordered()
        left = [normalise_row(r) for r in pg.rows]
        right = [normalise_row(r) for r in immu.rows]
        if ordered and left != right:
            problems.append("rows differ (compared in order)")
        elif not ordered and Counter(left) != Counter(right):
            problems.append("rows differ (compared as a multiset)")
    if (pg.columns is None or _is_dml(stmt.sql)) and pg.rowcount != immu.rowcount:
        problems.append(f"rowcount differs: postgresql {pg.rowcount}, immusql {immu.rowcount}")
    return problems


def render_diff(stmt: Statement, pg: Outcome, immu: Outcome, problems: list[str]) -> str:
    """The statement, where it is, why it differs and both results (rows as a diff)."""
    lines = [f"{stmt.where}: " + "; ".join(problems)]
    lines += ["    " + line for line in stmt.sql.splitlines()]
    if stmt.params is not None:
        lines.append(f"    params: {stmt.params!r}")
    lines.append(f"  postgresql: {pg.describe()}")
    lines.append(f"  immusql:    {immu.describe()}")
    if pg.rows is not None and immu.rows is not None:
        ordered = stmt.rows_ordered()
        cols = _differing_columns(pg, immu, ordered)
        if cols:
            lines.append(f"  columns that differ: {', '.join(cols)}")
        a, b = _rendered(pg.rows, ordered), _rendered(immu.rows, ordered)
        diff = list(difflib.unified_diff(a, b, "postgresql", "immusql", lineterm="", n=2))
        if len(diff) > MAX_DIFF_ROWS:
            diff = diff[:MAX_DIFF_ROWS] + [f"... ({len(diff) - MAX_DIFF_ROWS} more lines)"]
        lines += ["    " + d for d in diff]
    return "\n".join(lines)


def _differing_columns(pg: Outcome, immu: Outcome, ordered: bool) -> list[str]:
    """Names of the columns whose values differ between rows at the same position, when
    rows can be paired up (same shape, ordered or a single row each)."""
    if (len(pg.rows) != len(immu.rows) or len(pg.columns) != len(immu.columns)
            or not (ordered or len(pg.rows) == 1)):
        return []
    out = []
    for k, name in enumerate(pg.columns):
        if any(normalise_row((a[k],)) != normalise_row((b[k],))
               for a, b in zip(pg.rows, immu.rows)):
            out.append(name)
    return out


def _rendered(rows: list[tuple], ordered: bool) -> list[str]:
    if ordered:
        return [show_row(r) for r in rows]
    keyed = sorted(((repr(normalise_row(r)), show_row(r)) for r in rows))
    return [text for _, text in keyed]


@dataclass
class Record:
    """One compared statement, kept for reports (messages included)."""
    stmt: Statement
    pg: Outcome
    immu: Outcome | None        # None when skipped on immusql
    problems: list[str]


@dataclass
class Result:
    name: str
    records: list[Record] = field(default_factory=list)

    @property
    def mismatches(self) -> list[Record]:
        return [r for r in self.records if r.problems]

    @property
    def sqlstates(self) -> Counter:
        """SQLSTATEs PostgreSQL raised in this script (what the script exercises)."""
        return Counter(r.pg.sqlstate for r in self.records if r.pg.failed)

    def report(self, limit: int = 15) -> str:
        bad = self.mismatches
        head = (f"{self.name}: {len(bad)} of {len(self.records)} statement(s) differ "
                f"between PostgreSQL and immusql")
        parts = [head]
        for r in bad[:limit]:
            immu = r.immu if r.immu is not None else Outcome()
            parts.append(render_diff(r.stmt, r.pg, immu, r.problems))
        if len(bad) > limit:
            parts.append(f"... and {len(bad) - limit} more")
        return "\n\n".join(parts)

    def transcript(self) -> str:
        """Every statement with both outcomes, error messages included (for engine
        authors reading what PostgreSQL said)."""
        out = []
        for r in self.records:
            mark = "DIFF" if r.problems else "ok"
            out.append(f"[{mark}] {r.stmt.where}: {r.stmt.sql.splitlines()[0][:100]}")
            out.append(f"    postgresql: {r.pg.describe()}")
            out.append(f"    immusql:    {r.immu.describe() if r.immu else '(skipped)'}")
            out += [f"    ! {p}" for p in r.problems]
        return "\n".join(out)


class Comparator:
    """Runs statements on `pg` (the reference) and `immu` and records the differences.

    `self_mode` means `immu` is really a second PostgreSQL connection (harness validation):
    `-- skip-immusql` statements then run on it too, since it is PostgreSQL.
    """

    def __init__(self, pg, immu, *, self_mode: bool = False):
        self.pg = pg
        self.immu = immu
        self.self_mode = self_mode

    def statement(self, stmt: Statement) -> Record:
        pg = execute(self.pg, stmt)
        if stmt.skip_immusql and not self.self_mode:
            problems = []
            if pg.failed:
                problems = [f"fixture error: skip-immusql statement failed on PostgreSQL "
                            f"({pg.error})"]
            return Record(stmt, pg, None, problems)
        immu = execute(self.immu, stmt)
        return Record(stmt, pg, immu, differences(stmt, pg, immu))

    def run(self, statements: list[Statement], name: str = "<script>") -> Result:
        result = Result(name)
        for stmt in statements:
            result.records.append(self.statement(stmt))
        return result

    def script(self, path: Path) -> Result:
        return self.run(sqlscript.load(path), name=path.name)

    def sql(self, text: str, name: str = "<sql>") -> Result:
        return self.run(sqlscript.split(text, source=name), name=name)

    def query(self, sql: str, params: Any = None, *, ordered: bool | None = None) -> Record:
        """Compare one statement and raise AssertionError with the diff if they differ."""
        stmt = Statement(sql=sql, line=1, ordered=ordered, params=params, source="<query>")
        record = self.statement(stmt)
        if record.problems:
            immu = record.immu if record.immu is not None else Outcome()
            raise AssertionError(render_diff(stmt, record.pg, immu, record.problems))
        return record
