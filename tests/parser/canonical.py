"""A canonical printer for parser tests: AST -> SQL with every operator parenthesised.

`canonical(stmt)` makes fixture expectations readable (`(a + (b * c))` shows precedence at a
glance) and is itself SQL, so tests also check that parsing the canonical text gives back
an equal AST (positions are not compared). Names are printed as written, quoted when they
are not plain lower-case identifiers or would read as a reserved word.
"""

from __future__ import annotations

import re

from immusql.parser import ast as A

_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*\Z")
# Keywords that cannot name a column or table unquoted (reserved, type_func_name and the
# two col_name keywords the grammar keeps from bare use), and those that cannot name a
# function (reserved).
_RESERVED = frozenset("""
all analyse analyze and any array as asc asymmetric between both case cast check collate
column constraint create current_catalog current_date current_role current_time
current_timestamp current_user default deferrable desc distinct do else end except false
fetch for foreign from grant group having in initially intersect into lateral leading limit
localtime localtimestamp not null offset on only or order placing primary references
returning select session_user some symmetric table then to trailing true union unique user
using variadic when where window with""".split())
_QUOTE = _RESERVED | frozenset("""authorization concurrently cross current_schema freeze
full ilike inner is isnull join left like natural notnull outer right similar verbose""".split())
_SPECIAL_FUNCS = frozenset({"coalesce", "greatest", "least", "nullif", "overlay", "substring"})
_COL_NAME_KW = frozenset("""between bigint bit boolean char character coalesce dec decimal exists
extract float greatest int integer interval least none nullif numeric overlay position real
row smallint substring time timestamp trim values varchar operator precision""".split())
_SQL_VALUE_FUNCS = frozenset({"current_date", "current_time", "current_timestamp",
                              "localtime", "localtimestamp", "current_role", "current_user",
                              "session_user", "user", "current_catalog", "current_schema"})


def ident(name: str) -> str:
    if _PLAIN.match(name) and name not in _QUOTE:
        return name
    return '"' + name.replace('"', '""') + '"'


def func_name(parts) -> str:
    if len(parts) == 1 and parts[0] in _SPECIAL_FUNCS:
        return parts[0]
    if len(parts) == 1 and (parts[0] in _RESERVED or parts[0] in _COL_NAME_KW):
        return '"' + parts[0] + '"'
    return ".".join(p if _PLAIN.match(p) else ident(p) for p in parts)


def dotted(parts) -> str:
    return ".".join(ident(p) for p in parts)


_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "'": "''"}


def string(value: str) -> str:
    """A string constant; E'...' when it has a backslash or a control character."""
    if "\\" in value or any(ord(ch) < 32 for ch in value):
        return "E'" + "".join(_ESCAPES.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 32
                                                   else ch) for ch in value) + "'"
    return "'" + value.replace("'", "''") + "'"


def commas(items, fn=None) -> str:
    return ", ".join((fn or expr)(i) for i in items)


def typename(t: A.TypeName) -> str:
    if t.name == "char":
        out = '"char"'
    elif "." in t.name:
        out = dotted(t.name.split("."))
    elif _PLAIN.match(t.name.replace(" ", "_")):
        out = t.name  # canonical names may be several words: double precision ...
    else:
        out = ident(t.name)
    if t.name == "interval" and t.fields:
        out += " " + t.fields
        if t.modifiers:
            out += f"({t.modifiers[0]})"
    elif t.modifiers:
        if t.name.startswith(("timestamp", "time ")):
            head, _, zone = t.name.partition(" ")
            out = f"{head}({t.modifiers[0]}) {zone}"
        else:
            out += "(" + ", ".join(str(m) for m in t.modifiers) + ")"
    return out + "[]" * t.array_dims


def literal(lit: A.Literal) -> str:
    kind, value = lit.kind, lit.value
    if kind == "integer":
        return str(value)
    if kind in ("numeric", "float"):
        return value  # a numeric without a point is an integer too big for bigint
    if kind == "string":
        return string(value)
    if kind == "boolean":
        return "TRUE" if value else "FALSE"
    if kind == "null":
        return "NULL"
    if kind == "bytes":
        return f"X'{value.hex()}'"
    if kind == "bitstring":
        return f"B'{value}'"
    raise ValueError(kind)


def order_item(o: A.OrderItem) -> str:
    out = expr(o.expr) + (" DESC" if o.descending else "")
    if o.nulls_first is not None:
        out += " NULLS FIRST" if o.nulls_first else " NULLS LAST"
    return out


def frame_bound(b: A.FrameBound) -> str:
    if b.kind in ("preceding", "following"):
        return f"{expr(b.offset)} {b.kind.upper()}"
    return b.kind.replace("_", " ").upper()


def window(w: A.WindowSpec) -> str:
    parts = []
    if w.name and not (w.partition_by or w.order_by or w.frame_mode):
        return ident(w.name)
    if w.name:
        parts.append(ident(w.name))
    if w.partition_by:
        parts.append("PARTITION BY " + commas(w.partition_by))
    if w.order_by:
        parts.append("ORDER BY " + commas(w.order_by, order_item))
    if w.frame_mode:
        frame = w.frame_mode.upper() + " "
        if w.frame_end:
            frame += f"BETWEEN {frame_bound(w.frame_start)} AND {frame_bound(w.frame_end)}"
        else:
            frame += frame_bound(w.frame_start)
        if w.frame_exclusion:
            frame += " EXCLUDE " + w.frame_exclusion.replace("_", " ").upper()
        parts.append(frame)
    return "(" + " ".join(parts) + ")"


def func(f: A.FuncCall) -> str:
    name = f.name.parts
    if len(name) == 1 and name[0] in _SQL_VALUE_FUNCS:
        out = name[0].upper() + (f"({commas(f.args)})" if f.args else "")
    elif name == ("extract",) and len(f.args) == 2 and type(f.args[0]) is A.Literal:
        out = f"EXTRACT({expr(f.args[0])} FROM {expr(f.args[1])})"
    elif name == ("position",) and len(f.args) == 2:
        out = f"position({expr(f.args[1])} IN {expr(f.args[0])})"
    else:
        args = "*" if f.star else commas(f.args)
        if f.distinct:
            args = "DISTINCT " + args
        if f.order_by:
            args += " ORDER BY " + commas(f.order_by, order_item)
        out = f"{func_name(name)}({args})"
    if f.within_group:
        out += f" WITHIN GROUP (ORDER BY {commas(f.within_group, order_item)})"
    if f.filter is not None:
        out += f" FILTER (WHERE {expr(f.filter)})"
    if f.over is not None:
        out += " OVER " + window(f.over)
    return out


def expr(e) -> str:  # noqa: C901 - one branch per node type is the clearest form
    t = type(e)
    if t is A.Literal:
        return literal(e)
    if t is A.Param:
        return f"${e.index}"
    if t is A.ColumnRef:
        return dotted(e.parts)
    if t is A.Star:
        return dotted(e.table) + ".*" if e.table else "*"
    if t is A.UnaryOp:
        return f"({e.op} {expr(e.operand)})"
    if t is A.BinaryOp:
        return f"({expr(e.left)} {e.op} {expr(e.right)})"
    if t is A.BoolOp:
        return "(" + f" {e.op.upper()} ".join(expr(o) for o in e.operands) + ")"
    if t is A.Not:
        return f"(NOT {expr(e.operand)})"
    if t is A.IsNull:
        return f"({expr(e.operand)} IS {'NOT ' if e.negated else ''}NULL)"
    if t is A.IsBool:
        value = {True: "TRUE", False: "FALSE", None: "UNKNOWN"}[e.value]
        return f"({expr(e.operand)} IS {'NOT ' if e.negated else ''}{value})"
    if t is A.IsDistinctFrom:
        return f"({expr(e.left)} IS {'NOT ' if e.negated else ''}DISTINCT FROM {expr(e.right)})"
    if t is A.Between:
        return (f"({expr(e.operand)} {'NOT ' if e.negated else ''}BETWEEN "
                f"{'SYMMETRIC ' if e.symmetric else ''}{expr(e.low)} AND {expr(e.high)})")
    if t is A.InList:
        return f"({expr(e.operand)} {'NOT ' if e.negated else ''}IN ({commas(e.items)}))"
    if t is A.InSubquery:
        return f"({expr(e.operand)} {'NOT ' if e.negated else ''}IN ({query(e.query)}))"
    if t is A.Exists:
        return f"EXISTS ({query(e.query)})"
    if t is A.SubqueryExpr:
        return f"({query(e.query)})"
    if t is A.Quantified:
        right = query(e.right) if type(e.right) is A.Query else expr(e.right)
        return f"({expr(e.left)} {e.op} {e.quantifier.upper()} ({right}))"
    if t is A.Like:
        op = "SIMILAR TO" if e.similar else "ILIKE" if e.case_insensitive else "LIKE"
        out = f"({expr(e.operand)} {'NOT ' if e.negated else ''}{op} {expr(e.pattern)}"
        return out + (f" ESCAPE {expr(e.escape)})" if e.escape is not None else ")")
    if t is A.Case:
        out = "CASE" + (f" {expr(e.operand)}" if e.operand is not None else "")
        for cond, result in e.whens:
            out += f" WHEN {expr(cond)} THEN {expr(result)}"
        if e.default is not None:
            out += f" ELSE {expr(e.default)}"
        return out + " END"
    if t is A.Cast:
        return f"CAST({expr(e.operand)} AS {typename(e.type)})"
    if t is A.Collate:
        return f"({expr(e.operand)} COLLATE {dotted(e.collation.parts)})"
    if t is A.FuncCall:
        return func(e)
    if t is A.ArrayLiteral:
        return f"ARRAY[{commas(e.items)}]"
    if t is A.ArraySubquery:
        return f"ARRAY({query(e.query)})"
    if t is A.Subscript:
        base = expr(e.operand)
        if type(e.operand) not in (A.ColumnRef, A.Param, A.Subscript):
            base = f"({base})"
        if e.slice:
            lower = expr(e.lower) if e.lower is not None else ""
            upper = expr(e.upper) if e.upper is not None else ""
            return f"{base}[{lower}:{upper}]"
        return f"{base}[{expr(e.lower)}]"
    if t is A.FieldAccess:
        base = expr(e.operand)
        if type(e.operand) is not A.FieldAccess:
            base = f"({base})"
        return f"{base}.{'*' if e.field == '*' else ident(e.field)}"
    if t is A.RowExpr:
        return f"ROW({commas(e.items)})"
    if t is A.Default:
        return "DEFAULT"
    raise TypeError(f"not an expression: {e!r}")


# ------------------------------------------------------------------------ queries --------

def alias(name, columns) -> str:
    out = f" AS {ident(name)}" if name else ""
    return out + (f"({commas(columns, ident)})" if columns else "")


def as_of(a: A.AsOf) -> str:
    words = {"tx": "AS OF TX", "timestamp": "AS OF TIMESTAMP", "before_tx": "BEFORE TX",
             "since_tx": "SINCE TX", "until_tx": "UNTIL TX"}
    out = f" {words[a.kind]} {expr(a.value)}"
    return out + (f" UNTIL TX {expr(a.until)}" if a.until is not None else "")


def from_item(f) -> str:
    t = type(f)
    if t is A.TableRef:
        out = ("HISTORY OF " if f.history else "") + dotted(f.name.parts)
        if f.as_of:
            out += as_of(f.as_of)
        return out + alias(f.alias, f.column_aliases)
    if t is A.SubqueryRef:
        return (f"{'LATERAL ' if f.lateral else ''}({query(f.query)})"
                + alias(f.alias, f.column_aliases))
    if t is A.ValuesRef:
        return f"({values(f.values)})" + alias(f.alias, f.column_aliases)
    if t is A.FunctionRef:
        out = ("LATERAL " if f.lateral else "") + func(f.call)
        out += " WITH ORDINALITY" if f.with_ordinality else ""
        return out + alias(f.alias, f.column_aliases)
    if t is A.Join:
        if f.kind == "cross":
            out = f"{from_item(f.left)} CROSS JOIN {from_item(f.right)}"
        else:
            natural = "NATURAL " if f.natural else ""
            out = f"{from_item(f.left)} {natural}{f.kind.upper()} JOIN {from_item(f.right)}"
            if f.on is not None:
                out += f" ON {expr(f.on)}"
            elif f.using:
                out += f" USING ({commas(f.using, ident)})"
        return f"({out})" + alias(f.alias, f.column_aliases)
    raise TypeError(f"not a FROM item: {f!r}")


def select_item(i: A.SelectItem) -> str:
    return expr(i.expr) + (f" AS {ident(i.alias)}" if i.alias is not None else "")


def values(v: A.Values) -> str:
    return "VALUES " + ", ".join(f"({commas(row)})" for row in v.rows)


def select(s: A.Select) -> str:
    out = "SELECT"
    if s.distinct_on:
        out += f" DISTINCT ON ({commas(s.distinct_on)})"
    elif s.distinct:
        out += " DISTINCT"
    if s.items:
        out += " " + commas(s.items, select_item)
    if s.from_:
        out += " FROM " + commas(s.from_, from_item)
    if s.where is not None:
        out += f" WHERE {expr(s.where)}"
    if s.group_by:
        out += f" GROUP BY {commas(s.group_by)}"
    if s.having is not None:
        out += f" HAVING {expr(s.having)}"
    if s.windows:
        out += " WINDOW " + ", ".join(f"{ident(n)} AS {window(w)}" for n, w in s.windows)
    return out


def body(b) -> str:
    t = type(b)
    if t is A.Select:
        return select(b)
    if t is A.Values:
        return values(b)
    if t is A.SetOp:
        op = b.op.upper() + (" ALL" if b.all else "")
        return f"{operand_body(b.left)} {op} {operand_body(b.right)}"
    if t is A.Query:
        return f"({query(b)})"
    raise TypeError(f"not a query body: {b!r}")


def operand_body(b) -> str:
    return f"({body(b)})" if type(b) is A.SetOp else body(b)


def with_clause(ctes, recursive) -> str:
    def cte(c: A.CTE) -> str:
        mat = {None: "", True: "MATERIALIZED ", False: "NOT MATERIALIZED "}[c.materialized]
        cols = f"({commas(c.column_aliases, ident)})" if c.column_aliases else ""
        return f"{ident(c.name)}{cols} AS {mat}({statement(c.query)})"
    return "WITH " + ("RECURSIVE " if recursive else "") + ", ".join(cte(c) for c in ctes) + " "


def query(q: A.Query) -> str:
    out = with_clause(q.with_, q.recursive) if q.with_ else ""
    out += body(q.body)
    if q.order_by:
        out += " ORDER BY " + commas(q.order_by, order_item)
    if q.limit is not None:
        out += f" LIMIT {expr(q.limit)}"
    if q.offset is not None:
        out += f" OFFSET {expr(q.offset)}"
    if q.for_update:
        out += " FOR UPDATE"
    return out


# --------------------------------------------------------------------- statements --------

def column_constraint(c: A.ColumnConstraint) -> str:
    out = f"CONSTRAINT {ident(c.name)} " if c.name else ""
    kind = c.kind
    if kind in ("not_null", "null", "primary_key", "unique"):
        out += kind.replace("_", " ").upper()
        out += " NULLS NOT DISTINCT" if c.nulls_not_distinct else ""
    elif kind == "default":
        out += f"DEFAULT {expr(c.expr)}"
    elif kind == "check":
        out += f"CHECK ({expr(c.expr)})"
    elif kind == "references":
        out += references(c)
    elif kind == "identity":
        out += f"GENERATED {'ALWAYS' if c.always else 'BY DEFAULT'} AS IDENTITY"
        if c.sequence_options:
            out += f" ({seq_options(c.sequence_options)})"
    elif kind == "generated":
        out += f"GENERATED ALWAYS AS ({expr(c.expr)}) STORED"
    else:
        raise ValueError(kind)
    return out + deferral(c)


def deferral(c) -> str:
    out = " DEFERRABLE" if c.deferrable else ""
    return out + (" INITIALLY DEFERRED" if c.initially_deferred else "")


def references(c) -> str:
    out = f"REFERENCES {dotted(c.ref_table.parts)}"
    if c.ref_columns:
        out += f" ({commas(c.ref_columns, ident)})"
    if c.on_delete:
        out += f" ON DELETE {c.on_delete.upper()}"
    if c.on_update:
        out += f" ON UPDATE {c.on_update.upper()}"
    return out


def seq_options(options) -> str:
    words = {"start": "START WITH", "increment": "INCREMENT BY", "min_value": "MINVALUE",
             "max_value": "MAXVALUE", "cache": "CACHE"}
    out = []
    for key, value in options:
        if key == "cycle":
            out.append("CYCLE" if value else "NO CYCLE")
        elif key in ("min_value", "max_value") and value is None:
            out.append("NO " + words[key])
        elif key == "as":
            out.append(f"AS {typename(value)}")
        elif key == "owned_by":
            out.append(f"OWNED BY {dotted(value.parts)}")
        else:
            out.append(f"{words[key]} {value}")
    return " ".join(out)


def column_def(c: A.ColumnDef) -> str:
    out = f"{ident(c.name)} {typename(c.type)}"
    if c.collation:
        out += f" COLLATE {dotted(c.collation.parts)}"
    for con in c.constraints:
        out += " " + column_constraint(con)
    return out


def table_constraint(c: A.TableConstraint) -> str:
    out = f"CONSTRAINT {ident(c.name)} " if c.name else ""
    if c.kind == "check":
        out += f"CHECK ({expr(c.expr)})"
    elif c.kind == "foreign_key":
        out += f"FOREIGN KEY ({commas(c.columns, ident)}) {references(c)}"
    else:
        nulls = " NULLS NOT DISTINCT" if c.nulls_not_distinct else ""
        out += f"{c.kind.replace('_', ' ').upper()}{nulls} ({commas(c.columns, ident)})"
    return out + deferral(c)


def options(opts) -> str:
    return " WITH (" + ", ".join(f"{name} = {expr(v)}" for name, v in opts) + ")"


def returning(items) -> str:
    return f" RETURNING {commas(items, select_item)}" if items else ""


def assignment(a) -> str:
    cols, value = a
    if len(cols) == 1:
        return f"{ident(cols[0])} = {expr(value)}"
    return f"({commas(cols, ident)}) = {expr(value)}"


def on_conflict(c: A.OnConflict) -> str:
    out = " ON CONFLICT"
    if c.constraint:
        out += f" ON CONSTRAINT {ident(c.constraint)}"
    elif c.target:
        out += f" ({commas(c.target, ident)})"
        if c.target_where is not None:
            out += f" WHERE {expr(c.target_where)}"
    if c.action == "nothing":
        return out + " DO NOTHING"
    out += " DO UPDATE SET " + ", ".join(f"{ident(n)} = {expr(v)}" for n, v in c.assignments)
    return out + (f" WHERE {expr(c.where)}" if c.where is not None else "")


def dml_prefix(node) -> str:
    return with_clause(node.with_, node.recursive) if node.with_ else ""


def alter_action(a: A.AlterAction) -> str:
    k = a.kind
    if k == "add_column":
        return f"ADD COLUMN {'IF NOT EXISTS ' if a.if_not_exists else ''}{column_def(a.column)}"
    if k == "add_constraint":
        return f"ADD {table_constraint(a.constraint)}"
    if k in ("drop_column", "drop_constraint"):
        what = "COLUMN" if k == "drop_column" else "CONSTRAINT"
        return (f"DROP {what} {'IF EXISTS ' if a.if_exists else ''}{ident(a.name)}"
                + (" CASCADE" if a.cascade else ""))
    if k == "alter_column_type":
        using = f" USING {expr(a.expr)}" if a.expr is not None else ""
        return f"ALTER COLUMN {ident(a.name)} TYPE {typename(a.type)}{using}"
    if k == "set_default":
        return f"ALTER COLUMN {ident(a.name)} SET DEFAULT {expr(a.expr)}"
    if k in ("drop_default", "set_not_null", "drop_not_null"):
        verb, _, what = k.partition("_")
        return f"ALTER COLUMN {ident(a.name)} {verb.upper()} {what.replace('_', ' ').upper()}"
    if k == "rename_column":
        return f"RENAME COLUMN {ident(a.name)} TO {ident(a.new_name)}"
    if k == "rename_table":
        return f"RENAME TO {ident(a.new_name)}"
    if k == "rename_constraint":
        return f"RENAME CONSTRAINT {ident(a.name)} TO {ident(a.new_name)}"
    if k == "owner":
        return f"OWNER TO {ident(a.name)}"
    raise ValueError(k)


def statement(s) -> str:  # noqa: C901 - one branch per statement type
    t = type(s)
    if t is A.Query:
        return query(s)
    if t is A.Insert:
        out = dml_prefix(s) + f"INSERT INTO {dotted(s.table.parts)}"
        out += f" AS {ident(s.alias)}" if s.alias else ""
        out += f" ({commas(s.columns, ident)})" if s.columns else ""
        out += " DEFAULT VALUES" if s.default_values else f" {query(s.source)}"
        out += on_conflict(s.on_conflict) if s.on_conflict else ""
        return out + returning(s.returning)
    if t is A.Update:
        out = dml_prefix(s) + f"UPDATE {dotted(s.table.parts)}"
        out += f" AS {ident(s.alias)}" if s.alias else ""
        out += " SET " + ", ".join(assignment(a) for a in s.assignments)
        out += (" FROM " + commas(s.from_, from_item)) if s.from_ else ""
        out += f" WHERE {expr(s.where)}" if s.where is not None else ""
        return out + returning(s.returning)
    if t is A.Delete:
        out = dml_prefix(s) + f"DELETE FROM {dotted(s.table.parts)}"
        out += f" AS {ident(s.alias)}" if s.alias else ""
        out += (" USING " + commas(s.using, from_item)) if s.using else ""
        out += f" WHERE {expr(s.where)}" if s.where is not None else ""
        return out + returning(s.returning)
    if t is A.Truncate:
        return (f"TRUNCATE {', '.join(dotted(n.parts) for n in s.tables)}"
                + (" RESTART IDENTITY" if s.restart_identity else "")
                + (" CASCADE" if s.cascade else ""))
    if t is A.CreateTable:
        out = "CREATE " + ("TEMP " if s.temporary else "") + "TABLE "
        out += ("IF NOT EXISTS " if s.if_not_exists else "") + dotted(s.name.parts)
        if s.as_query is not None:
            out += f" ({commas(s.as_columns, ident)})" if s.as_columns else ""
            out += options(s.options) if s.options else ""
            out += f" AS {query(s.as_query)}"
            return out + ("" if s.with_data else " WITH NO DATA")
        elements = [column_def(c) for c in s.columns] + [table_constraint(c)
                                                         for c in s.constraints]
        out += " (" + ", ".join(elements) + ")"
        return out + (options(s.options) if s.options else "")
    if t is A.Drop:
        return (f"DROP {s.kind.upper()} {'IF EXISTS ' if s.if_exists else ''}"
                + ", ".join(dotted(n.parts) for n in s.names) + (" CASCADE" if s.cascade else ""))
    if t is A.CreateIndex:
        out = "CREATE " + ("UNIQUE " if s.unique else "") + "INDEX "
        if s.name:
            out += ("IF NOT EXISTS " if s.if_not_exists else "") + ident(s.name) + " "
        out += f"ON {dotted(s.table.parts)}"
        out += f" USING {s.method}" if s.method else ""

        def index_column(c):
            out = expr(c.expr)
            if type(c.expr) not in (A.ColumnRef, A.FuncCall):
                out = f"({out})"
            out += " DESC" if c.descending else ""
            if c.nulls_first is not None:
                out += " NULLS FIRST" if c.nulls_first else " NULLS LAST"
            return out
        out += " (" + ", ".join(index_column(c) for c in s.columns) + ")"
        out += f" INCLUDE ({commas(s.include, ident)})" if s.include else ""
        out += " NULLS NOT DISTINCT" if s.nulls_not_distinct else ""
        return out + (f" WHERE {expr(s.where)}" if s.where is not None else "")
    if t is A.AlterTable:
        return (f"ALTER {s.kind.upper()} {'IF EXISTS ' if s.if_exists else ''}"
                f"{dotted(s.name.parts)} " + ", ".join(alter_action(a) for a in s.actions))
    if t is A.Comment:
        target = dotted(s.name.parts)
        if s.kind == "column":
            target = dotted(s.name.parts + (s.column,))
        elif s.kind == "constraint":
            target = f"{ident(s.constraint)} ON {target}"
        text = "NULL" if s.text is None else string(s.text)
        return f"COMMENT ON {s.kind.upper()} {target} IS {text}"
    if t is A.CreateView:
        out = "CREATE " + ("OR REPLACE " if s.or_replace else "")
        out += ("TEMP " if s.temporary else "") + f"VIEW {dotted(s.name.parts)}"
        out += f" ({commas(s.column_aliases, ident)})" if s.column_aliases else ""
        check = f" WITH {s.check_option.upper()} CHECK OPTION" if s.check_option else ""
        return out + f" AS {query(s.query)}" + check
    if t is A.CreateSequence:
        out = f"CREATE SEQUENCE {'IF NOT EXISTS ' if s.if_not_exists else ''}"
        out += dotted(s.name.parts)
        opts = [(k, v) for k, v in (("start", s.start), ("increment", s.increment))
                if v is not None]
        opts += [(k, v) for k, v in (("min_value", s.min_value), ("max_value", s.max_value))
                 if v is not None]
        opts += [("cycle", True)] if s.cycle else []
        opts += [("as", s.data_type)] if s.data_type else []
        opts += [("owned_by", s.owned_by)] if s.owned_by else []
        return out + (" " + seq_options(opts) if opts else "")
    if t is A.CreateSchema:
        auth = s.authorization
        role = None if auth is None else (auth if auth in ("CURRENT_USER", "CURRENT_ROLE",
                                                           "SESSION_USER") else ident(auth))
        return (f"CREATE SCHEMA {'IF NOT EXISTS ' if s.if_not_exists else ''}"
                + (ident(s.name) if s.name else "")
                + (("" if not s.name else " ") + f"AUTHORIZATION {role}" if role else ""))
    if t is A.AlterSchema:
        if s.new_name is not None:
            return f"ALTER SCHEMA {ident(s.name)} RENAME TO {ident(s.new_name)}"
        owner = s.owner if s.owner in ("CURRENT_USER", "CURRENT_ROLE", "SESSION_USER") \
            else ident(s.owner)
        return f"ALTER SCHEMA {ident(s.name)} OWNER TO {owner}"
    if t is A.CreateEnum:
        return (f"CREATE TYPE {dotted(s.name.parts)} AS ENUM ("
                + ", ".join(string(x) for x in s.labels) + ")")
    if t is A.AlterType:
        head = f"ALTER TYPE {dotted(s.name.parts)} "
        if s.action == "add_value":
            where = f" {s.neighbor[0].upper()} {string(s.neighbor[1])}" if s.neighbor else ""
            return (head + "ADD VALUE " + ("IF NOT EXISTS " if s.if_not_exists else "")
                    + string(s.value) + where)
        if s.action == "rename_value":
            return head + f"RENAME VALUE {string(s.value)} TO {string(s.new_value)}"
        if s.action == "rename":
            return head + f"RENAME TO {ident(s.new_value)}"
        return head + "OWNER TO CURRENT_USER"
    if t is A.Transaction:
        k = s.kind
        if k == "begin":
            return "BEGIN" + (" " + ", ".join(m.upper() for m in s.modes) if s.modes else "")
        if k in ("commit", "rollback"):
            return k.upper() + (" AND CHAIN" if s.modes else "")
        words = {"savepoint": "SAVEPOINT", "release": "RELEASE SAVEPOINT",
                 "rollback_to": "ROLLBACK TO SAVEPOINT"}
        return f"{words[k]} {ident(s.savepoint)}"
    if t is A.SetVar:
        name = ".".join(ident(p) for p in s.name.split("."))
        head = "SET LOCAL " if s.local else "SET "
        if not s.values:
            return f"{head}{name} TO DEFAULT"
        return f"{head}{name} = {commas(s.values)}"
    if t is A.ShowVar:
        return f"SHOW {s.name.upper() if s.name == 'all' else s.name}"
    if t is A.ResetVar:
        return f"RESET {s.name.upper() if s.name == 'all' else s.name}"
    if t is A.Explain:
        if s.options:
            opts = ", ".join(n.upper() + ("" if v is None else " " + expr(v))
                             for n, v in s.options)
            return f"EXPLAIN ({opts}) {statement(s.statement)}"
        flags = ("ANALYZE " if s.analyze else "") + ("VERBOSE " if s.verbose else "")
        return f"EXPLAIN {flags}{statement(s.statement)}"
    if t is A.Noop:
        return f"-- noop {s.tag}"
    raise TypeError(f"not a statement: {s!r}")


def canonical(statements) -> str:
    """Canonical text of one statement or of a list of them (joined by "; ")."""
    if isinstance(statements, list):
        return "; ".join(statement(s) for s in statements)
    return statement(statements)
