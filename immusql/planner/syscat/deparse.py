"""SQL text of stored expressions and queries, as PostgreSQL's ruleutils prints them.

pg_get_expr (column defaults), pg_get_constraintdef (CHECK), pg_get_indexdef and
pg_get_viewdef print what the catalog stores. PostgreSQL prints the *analysed* expression,
so its text shows the types the parser chose: `CHECK (balance >= 0::numeric)` for
`balance >= 0` on a numeric column, `c::text <> ''::text` on a varchar column,
`'0'::numeric` for `DEFAULT '0'`, `nextval('t_id_seq'::regclass)` for a serial column.
This module reproduces that from the AST with the engine's own operator and function
resolution: where an argument's type differs from the parameter type the chosen
operator or function takes, the implicit cast is printed.

Two styles, as ruleutils: pretty (psql, SQLAlchemy: `a > 0 AND a < 100`) and not
(`((a > 0) AND (a < 100))`, every operator expression in parentheses).

Known differences from PostgreSQL: view definitions are printed from the stored query
without qualifying column names; rarely used syntax falls back to a plain rendering.
"""

from __future__ import annotations

from ...parser import ast
from .. import types as T
from ..fn_text import quote_ident

# precedence levels for pretty printing (higher binds tighter)
_OR, _AND, _NOT, _IS, _CMP, _OTHER, _ADD, _MUL, _EXP, _UNARY, _CAST, _ATOM = range(1, 13)
_BINARY_PREC = {"or": _OR, "and": _AND, "=": _CMP, "<>": _CMP, "<": _CMP, ">": _CMP,
                "<=": _CMP, ">=": _CMP, "+": _ADD, "-": _ADD, "*": _MUL, "/": _MUL,
                "%": _MUL, "^": _EXP}
_SQL_VALUE_FUNCTIONS = {"current_date", "current_time", "current_timestamp", "localtime",
                        "localtimestamp", "current_role", "current_user", "user",
                        "session_user", "current_catalog", "current_schema"}
_KEYWORD_CALLS = {"coalesce": "COALESCE", "nullif": "NULLIF", "greatest": "GREATEST",
                  "least": "LEAST"}
_QUOTED_FUNCS = {"substring", "position", "overlay", "trim", "extract", "left", "right",
                 "char_length", "character_length"}


def quote_literal(s: str) -> str:
    if "\\" in s:
        return "E'" + s.replace("\\", "\\\\").replace("'", "''") + "'"
    return "'" + s.replace("'", "''") + "'"


def type_label(t: T.SqlType) -> str:
    return T.format_type(t)


def _is_poly(t) -> bool:
    return t is None or t.category == "P"


class Deparser:
    """Prints expressions of one relation's scope (its columns typed from `rel`)."""

    def __init__(self, rel=None, pretty: bool = True, columns: dict | None = None,
                 qualify: dict | None = None):
        self.pretty = pretty
        self.cols = dict(columns or {})
        if rel is not None:
            self.cols.update({c.name: c.type for c in rel.columns})
        self.qualify = qualify or {}  # column name -> the FROM item that has it (views)

    # ------------------------------------------------------------------ typing ------
    def type_of(self, n) -> T.SqlType | None:
        try:
            return self._type(n)
        except Exception:  # a type we cannot infer only costs a cast label
            return None

    def _type(self, n):
        from .. import functions, operators
        if isinstance(n, ast.Literal):
            if n.kind == "integer":
                if -(1 << 31) <= n.value < (1 << 31):
                    return T.INT4
                return T.INT8 if -(1 << 63) <= n.value < (1 << 63) else T.NUMERIC
            if n.kind in ("numeric", "float"):
                return T.NUMERIC
            if n.kind == "boolean":
                return T.BOOL
            if n.kind in ("bytes", "bitstring"):
                return T.BYTEA
            return T.UNKNOWN
        if isinstance(n, ast.ColumnRef):
            t = self.cols.get(n.parts[-1])
            return t.base if t is not None else None
        if isinstance(n, ast.Cast):
            return T.type_from_name(n.type).base
        if isinstance(n, (ast.BoolOp, ast.Not, ast.IsNull, ast.IsBool, ast.IsDistinctFrom,
                          ast.Between, ast.InList, ast.Like, ast.Exists, ast.InSubquery,
                          ast.Quantified)):
            return T.BOOL
        if isinstance(n, ast.BinaryOp):
            _, rt = operators.resolve_binary(n.op, self._type(n.left) or T.UNKNOWN,
                                             self._type(n.right) or T.UNKNOWN)
            return rt
        if isinstance(n, ast.UnaryOp):
            _, rt = operators.resolve_unary(n.op, self._type(n.operand))
            return rt
        if isinstance(n, ast.FuncCall):
            name = n.name.last
            if name in ("nextval", "currval", "setval", "lastval"):
                return T.INT8
            args = [self._type(a) or T.UNKNOWN for a in n.args]
            if name in _KEYWORD_CALLS:
                from ..casts import common_type
                known = [a for a in args if a.oid != T.UNKNOWN.oid]
                return common_type(known) if known else T.TEXT
            _, rt = functions.lookup_function(name, args)
            return rt
        if isinstance(n, ast.ArrayLiteral):
            from ..casts import common_type
            known = [t for t in (self._type(i) for i in n.items) if t is not None
                     and t.oid != T.UNKNOWN.oid]
            elem = common_type(known) if known else T.TEXT
            return elem if elem.element is not None else T.array_of(elem)
        if isinstance(n, ast.Case):
            from ..casts import common_type
            known = [t for t in (self._type(r) for _, r in n.whens) if t is not None
                     and t.oid != T.UNKNOWN.oid]
            if n.default is not None:
                d = self._type(n.default)
                if d is not None and d.oid != T.UNKNOWN.oid:
                    known.insert(0, d)
            return common_type(known) if known else T.TEXT
        if isinstance(n, ast.Collate):
            return self._type(n.operand)
        if isinstance(n, ast.Subscript):
            t = self._type(n.operand)
            return t if n.slice else (t.element if t is not None else None)
        return None

    # ------------------------------------------------------------------ printing ----
    def sql(self, n, want: T.SqlType | None = None) -> str:
        return self.emit(n, want)[0]

    def paren(self, text_prec, min_prec) -> str:
        text, prec = text_prec
        if self.pretty and prec < min_prec:
            return f"({text})"
        return text

    def _wrap(self, text: str, prec: int):
        """An operator expression: parenthesised in the non-pretty style."""
        if not self.pretty:
            return f"({text})", _ATOM
        return text, prec

    def const(self, text: str, t: T.SqlType, quoted_source: bool = True):
        """A constant of type t (a literal the parser typed), as get_const_expr."""
        oid = t.oid
        if oid == T.BOOL.oid:
            v = text.strip().lower()
            return ("true" if v in ("t", "true", "y", "yes", "on", "1") else "false"), _ATOM
        if oid == T.INT4.oid and text.lstrip("+").isdigit():
            return str(int(text)), _ATOM
        if oid == T.NUMERIC.oid and text[:1].isdigit() and any(c in text for c in ".eE"):
            return text, _ATOM
        if oid == T.UNKNOWN.oid:
            return quote_literal(text), _ATOM
        return f"{quote_literal(text)}::{type_label(t)}", _CAST

    def _cast_label(self, text_prec, t: T.SqlType):
        text, prec = text_prec
        if self.pretty:
            return f"{text if prec >= _CAST else '(' + text + ')'}::{type_label(t)}", _CAST
        return f"({text})::{type_label(t)}", _CAST

    def emit(self, n, want: T.SqlType | None = None):
        """(text, precedence) of n coerced to `want` (None: as it is)."""
        if isinstance(n, ast.Literal):
            return self._literal(n, want)
        got = self._emit(n)
        if want is None or _is_poly(want):
            return got
        nt = self.type_of(n)
        if nt is None or nt.oid == want.oid or nt.oid == T.UNKNOWN.oid:
            return got
        return self._cast_label(got, want.base)

    def _literal(self, n: ast.Literal, want):
        k, v = n.kind, n.value
        if k == "null":
            if want is None or _is_poly(want):
                return "NULL", _ATOM
            return f"NULL::{type_label(want.base)}", _CAST
        if k == "boolean":
            return ("true" if v else "false"), _ATOM
        if k == "string":
            if want is None or _is_poly(want):
                return quote_literal(v), _ATOM
            return self.const(v, want.base)
        if k == "integer":
            natural = self._type(n)
            if v < 0:
                got = (f"'{v}'::{type_label(natural)}", _CAST)
            elif natural.oid == T.INT4.oid:
                got = (str(v), _ATOM)
            else:
                got = self.const(str(v), natural)
            if want is not None and not _is_poly(want) and want.oid != natural.oid:
                return self._cast_label(got, want.base)
            return got
        if k in ("numeric", "float"):
            got = self.const(str(v), T.NUMERIC)
            if want is not None and not _is_poly(want) and want.oid != T.NUMERIC.oid:
                return self._cast_label(got, want.base)
            return got
        if k == "bytes":
            return f"'\\x{bytes(v).hex()}'::bytea", _CAST
        return quote_literal(str(v)), _ATOM

    def _emit(self, n):
        method = getattr(self, "_" + type(n).__name__, None)
        if method is None:
            return f"/* {type(n).__name__} */", _ATOM
        return method(n)

    # ------------------------------------------------------------------ nodes -------
    def _ColumnRef(self, n):
        parts = n.parts
        if len(parts) == 3:  # schema.table.column: PostgreSQL prints the table's refname
            parts = parts[1:]
        if len(parts) == 1 and parts[0] in self.qualify:
            parts = (self.qualify[parts[0]],) + parts
        return ".".join(quote_ident(p) for p in parts), _ATOM

    def _Param(self, n):
        return f"${n.index}", _ATOM

    def _Star(self, n):
        return ("*" if not n.table else ".".join(quote_ident(p) for p in n.table) + ".*"), \
            _ATOM

    def _arg_types(self, op, left, right):
        from .. import operators
        lt, rt = self.type_of(left), self.type_of(right)
        try:
            impl, _ = operators.resolve_binary(op, lt or T.UNKNOWN, rt or T.UNKNOWN)
            return getattr(impl, "arg_types", (None, None))
        except Exception:
            return (None, None)

    def _BinaryOp(self, n):
        op = {"!=": "<>"}.get(n.op, n.op)
        lw, rw = self._arg_types(op, n.left, n.right)
        prec = _BINARY_PREC.get(op, _OTHER)
        left = self.paren(self.emit(n.left, lw), prec)
        right = self.paren(self.emit(n.right, rw), prec + 1)
        return self._wrap(f"{left} {op} {right}", prec)

    def _UnaryOp(self, n):
        inner = self.paren(self._emit(n.operand), _UNARY)
        return self._wrap(f"{n.op}{inner}", _UNARY)

    def _BoolOp(self, n):
        prec = _AND if n.op == "and" else _OR
        parts = [self.paren(self.emit(o), prec) for o in n.operands]
        return self._wrap(f" {n.op.upper()} ".join(parts), prec)

    def _Not(self, n):
        return self._wrap(f"NOT {self.paren(self.emit(n.operand), _NOT)}", _NOT)

    def _IsNull(self, n):
        inner = self.paren(self.emit(n.operand), _IS + 1)
        return self._wrap(f"{inner} IS {'NOT ' if n.negated else ''}NULL", _IS)

    def _IsBool(self, n):
        word = {True: "TRUE", False: "FALSE", None: "UNKNOWN"}[n.value]
        inner = self.paren(self.emit(n.operand), _IS + 1)
        return self._wrap(f"{inner} IS {'NOT ' if n.negated else ''}{word}", _IS)

    def _IsDistinctFrom(self, n):
        lw, rw = self._arg_types("=", n.left, n.right)
        left = self.paren(self.emit(n.left, lw), _IS + 1)
        right = self.paren(self.emit(n.right, rw), _IS + 1)
        return self._wrap(f"{left} IS {'NOT ' if n.negated else ''}DISTINCT FROM {right}", _IS)

    def _Between(self, n):
        # PostgreSQL stores BETWEEN as its expansion
        expr = ast.BoolOp("and", (ast.BinaryOp(">=", n.operand, n.low),
                                  ast.BinaryOp("<=", n.operand, n.high)))
        if n.negated:
            expr = ast.Not(expr)
        return self._emit(expr)

    def _InList(self, n):
        from ..casts import common_type
        known = [t for t in (self.type_of(x) for x in (n.operand,) + tuple(n.items))
                 if t is not None and t.oid != T.UNKNOWN.oid]
        try:
            elem = common_type(known) if known else T.TEXT
        except Exception:
            elem = None
        op = "<>" if n.negated else "="
        quant = "ALL" if n.negated else "ANY"
        if elem is None:
            items = ", ".join(self.sql(i) for i in n.items)
            return self._wrap(f"{self.sql(n.operand)} {op} {quant} (ARRAY[{items}])", _CMP)
        from .. import operators
        try:
            impl, _ = operators.resolve_binary(op, elem, elem)
            lw, rw = getattr(impl, "arg_types", (None, None))
        except Exception:
            lw = rw = None
        items = ", ".join(self.sql(i, elem) for i in n.items)
        array = (f"ARRAY[{items}]", _ATOM)
        if rw is not None and not _is_poly(rw) and rw.oid != elem.oid:
            array = self._cast_label(array, T.array_of(rw.base))
        left = self.paren(self.emit(n.operand, lw), _CMP + 1)
        return self._wrap(f"{left} {op} {quant} ({array[0]})", _CMP)

    def _Quantified(self, n):
        if isinstance(n.right, ast.Query):
            right = query_sql(n.right, self.pretty)
        else:
            right = self.sql(n.right)
        left = self.paren(self.emit(n.left), _CMP + 1)
        return self._wrap(f"{left} {n.op} {n.quantifier.upper()} ({right})", _CMP)

    def _Like(self, n):
        op = ("!" if n.negated else "") + ("~~*" if n.case_insensitive else "~~")
        if n.similar:
            op = ("!" if n.negated else "") + "~"
        left = self.paren(self.emit(n.operand, T.TEXT if self._stringy(n.operand)
                                    else None), _CMP + 1)
        right = self.paren(self.emit(n.pattern, T.TEXT), _CMP + 1)
        return self._wrap(f"{left} {op} {right}", _CMP)

    def _stringy(self, node) -> bool:
        t = self.type_of(node)
        return t is not None and t.oid in (T.VARCHAR.oid, T.BPCHAR.oid, T.NAME.oid,
                                           T.UNKNOWN.oid)

    def _Case(self, n):
        parts = ["CASE"]
        if n.operand is not None:
            parts.append(self.sql(n.operand))
        for cond, res in n.whens:
            parts.append(f"WHEN {self.sql(cond)} THEN {self.sql(res)}")
        if n.default is not None:
            parts.append(f"ELSE {self.sql(n.default)}")
        parts.append("END")
        return " ".join(parts), _ATOM

    def _Cast(self, n):
        target = T.type_from_name(n.type)
        if isinstance(n.operand, ast.Literal) and n.operand.kind == "string":
            return self.const(n.operand.value, target)
        return self._cast_label(self._emit(n.operand), target)

    def _Collate(self, n):
        inner = self.paren(self._emit(n.operand), _CAST)
        coll = ".".join(quote_ident(p) for p in n.collation.parts)
        return f"{inner} COLLATE {coll}", _CAST

    def _FuncCall(self, n):
        from .. import functions
        name = n.name.last
        if name in _SQL_VALUE_FUNCTIONS and not n.args:
            return name.upper(), _ATOM
        if name in _KEYWORD_CALLS:
            args = ", ".join(self.sql(a) for a in n.args)
            return f"{_KEYWORD_CALLS[name]}({args})", _ATOM
        if n.star:
            call = f"{name}(*)"
        else:
            wants = [None] * len(n.args)
            if name in ("nextval", "currval", "setval"):
                wants[0] = T.REGCLASS
            else:
                try:
                    types_ = [self.type_of(a) or T.UNKNOWN for a in n.args]
                    impl, _ = functions.lookup_function(name, types_)
                    wants = list(getattr(impl, "arg_types", wants))
                except Exception:
                    pass
            args = ", ".join(self.sql(a, w) for a, w in zip(n.args, wants))
            if n.distinct:
                args = "DISTINCT " + args
            if n.order_by:
                args += " ORDER BY " + ", ".join(self._order_item(o) for o in n.order_by)
            fname = f'"{name}"' if name in _QUOTED_FUNCS else quote_ident(name)
            if len(n.name.parts) > 1:
                fname = ".".join(quote_ident(p) for p in n.name.parts[:-1]) + "." + fname
            call = f"{fname}({args})"
        if n.filter is not None:
            call += f" FILTER (WHERE {self.sql(n.filter)})"
        if n.over is not None:
            call += f" OVER ({self._window(n.over)})"
        return call, _ATOM

    def _window(self, w) -> str:
        parts = []
        if w.name:
            parts.append(quote_ident(w.name))
        if w.partition_by:
            parts.append("PARTITION BY " + ", ".join(self.sql(e) for e in w.partition_by))
        if w.order_by:
            parts.append("ORDER BY " + ", ".join(self._order_item(o) for o in w.order_by))
        return " ".join(parts)

    def _order_item(self, o) -> str:
        s = self.sql(o.expr)
        if o.descending:
            s += " DESC"
        if o.nulls_first is not None and o.nulls_first != o.descending:
            s += " NULLS FIRST" if o.nulls_first else " NULLS LAST"
        return s

    def _ArrayLiteral(self, n):
        t = self.type_of(n)
        elem = t.element if t is not None else None
        return "ARRAY[" + ", ".join(self.sql(i, elem) for i in n.items) + "]", _ATOM

    def _Subscript(self, n):
        base = self.paren(self._emit(n.operand), _ATOM)
        if n.slice:
            lo = self.sql(n.lower) if n.lower is not None else ""
            hi = self.sql(n.upper) if n.upper is not None else ""
            return f"{base}[{lo}:{hi}]", _ATOM
        return f"{base}[{self.sql(n.lower)}]", _ATOM

    def _FieldAccess(self, n):
        return f"({self.sql(n.operand)}).{quote_ident(n.field)}", _ATOM

    def _RowExpr(self, n):
        return "ROW(" + ", ".join(self.sql(i) for i in n.items) + ")", _ATOM

    def _SubqueryExpr(self, n):
        return f"({query_sql(n.query, self.pretty)})", _ATOM

    def _ArraySubquery(self, n):
        return f"ARRAY({query_sql(n.query, self.pretty)})", _ATOM

    def _Exists(self, n):
        return f"(EXISTS ({query_sql(n.query, self.pretty)}))" if not self.pretty else \
            f"EXISTS ({query_sql(n.query, self.pretty)})", _ATOM

    def _InSubquery(self, n):
        left = self.paren(self.emit(n.operand), _CMP + 1)
        op = "<> ALL" if n.negated else "= ANY"
        return self._wrap(f"{left} {op} ({query_sql(n.query, self.pretty)})", _CMP)


# ---------------------------------------------------------------------- entry points --

def expr_sql(node, rel=None, pretty: bool = True) -> str:
    return Deparser(rel, pretty).sql(node)


def check_sql(rel, check, pretty: bool = True) -> str:
    """pg_get_constraintdef of a CHECK constraint."""
    return f"CHECK ({Deparser(rel, pretty).sql(check.expr)})"


def default_sql(rel, col, pretty: bool = True) -> str | None:
    """pg_get_expr of a column default (None: the column has none)."""
    if col.default is None:
        return None
    d = Deparser(None, pretty)
    e = col.default
    if isinstance(e, ast.Literal) and e.kind == "string":
        return d.const(e.value, col.type.base)[0]
    return d.sql(e)


def regclass_text(rel, search_path=("public",)) -> str:
    name = quote_ident(rel.name)
    return name if rel.schema in search_path else f"{quote_ident(rel.schema)}.{name}"


def default_text(catalog, rel, col, pretty: bool = True) -> str | None:
    """The stored default of a column as pg_get_expr prints it: its DEFAULT, or for a
    serial column the nextval() of its sequence (identity columns have none)."""
    if col.default is not None:
        try:
            return default_sql(rel, col, pretty)
        except Exception:  # never let printing break the catalog
            return "NULL"
    if col.sequence is not None and col.identity is None:
        seq = catalog.relations.get(col.sequence)
        if seq is not None:
            return f"nextval({quote_literal(regclass_text(seq))}::regclass)"
    return None


# ---------------------------------------------------------------------- queries --------

def query_sql(q, pretty: bool = True, lookup=None) -> str:
    """A query's text (view definitions) in PostgreSQL's layout. `lookup(ast.Name)` gives
    the relation a FROM item names: its columns are then qualified and typed as
    PostgreSQL prints them (`accounts.balance > 1000::numeric`)."""
    d = Deparser(None, pretty)
    d.lookup = lookup
    parts = []
    if q.with_:
        ctes = []
        for c in q.with_:
            cols = f"({', '.join(quote_ident(a) for a in c.column_aliases)})" \
                if c.column_aliases else ""
            ctes.append(f"{quote_ident(c.name)}{cols} AS (\n"
                        f"{query_sql(c.query, pretty, lookup)}\n)")
        parts.append(("WITH RECURSIVE " if q.recursive else "WITH ") + ", ".join(ctes))
    parts.append(_body_sql(q.body, d))
    if q.order_by:
        parts.append("  ORDER BY " + ", ".join(d._order_item(o) for o in q.order_by))
    if q.with_ties:  # as ruleutils.c: OFFSET first, then the FETCH clause
        if q.offset is not None:
            parts.append(" OFFSET " + d.sql(q.offset))
        parts.append(" FETCH FIRST " + d.sql(q.limit) + " ROWS WITH TIES")
        return "\n".join(parts)
    if q.limit is not None:
        parts.append(" LIMIT " + d.sql(q.limit))
    if q.offset is not None:
        parts.append(" OFFSET " + d.sql(q.offset))
    return "\n".join(parts)


def _body_sql(body, d: Deparser) -> str:
    if isinstance(body, ast.SetOp):
        op = body.op.upper() + (" ALL" if body.all else "")
        return f"{_body_sql(body.left, d)}\n{op}\n{_body_sql(body.right, d)}"
    if isinstance(body, ast.Values):
        rows = ", ".join("(" + ", ".join(d.sql(e) for e in row) + ")" for row in body.rows)
        return f" VALUES {rows}"
    if isinstance(body, ast.Query):
        return "(" + query_sql(body, d.pretty, getattr(d, "lookup", None)) + ")"
    lookup = getattr(d, "lookup", None)
    if lookup is not None:  # qualify and type this SELECT's columns by its FROM items
        cols, qualify = {}, {}
        for alias, rel in _from_relations(body.from_, lookup):
            for c in rel.columns:
                cols.setdefault(c.name, c.type)
                qualify.setdefault(c.name, alias)
        d = Deparser(None, d.pretty, cols, qualify)
        d.lookup = lookup
    items = []
    for it in body.items:
        s = d.sql(it.expr)
        if it.alias and not (isinstance(it.expr, ast.ColumnRef) and
                             it.expr.parts[-1] == it.alias):
            s += f" AS {quote_ident(it.alias)}"
        items.append(s)
    head = " SELECT " + ("DISTINCT " if body.distinct else "")
    out = [head + ",\n    ".join(items)]
    if body.from_:
        out.append("   FROM " + ",\n    ".join(_from_sql(f, d) for f in body.from_))
    if body.where is not None:
        out.append("  WHERE " + d.sql(body.where))
    if body.group_by:
        out.append("  GROUP BY " + ", ".join(d.sql(e) for e in body.group_by))
    if body.having is not None:
        out.append(" HAVING " + d.sql(body.having))
    return "\n".join(out)


def _from_relations(items, lookup):
    out = []
    for f in items:
        if isinstance(f, ast.TableRef):
            try:
                rel = lookup(f.name)
            except Exception:
                rel = None
            if rel is not None:
                out.append((f.alias or f.name.last, rel))
        elif isinstance(f, ast.Join):
            out += _from_relations((f.left, f.right), lookup)
    return out


def _visible(name: ast.Name, lookup) -> bool:
    """Whether the unqualified name finds the relation the qualified one names."""
    if lookup is None:  # a subquery's FROM: the default search path
        return name.parts[0] == "public"
    try:
        rel = lookup(name)
        return rel is not None and lookup(ast.Name(name.parts[1:])) is rel
    except Exception:  # printing never fails on a lookup
        return False


def _from_sql(f, d: Deparser) -> str:
    if isinstance(f, ast.TableRef):
        parts = f.name.parts
        if len(parts) == 2 and _visible(f.name, getattr(d, "lookup", None)):
            parts = parts[1:]  # as ruleutils.c: the schema only when the path would miss
        s = ".".join(quote_ident(p) for p in parts)
        if f.alias and f.alias != f.name.last:
            s += f" {quote_ident(f.alias)}"
        return s
    if isinstance(f, ast.SubqueryRef):
        return f"({query_sql(f.query, d.pretty)}) {quote_ident(f.alias or 'sub')}"
    if isinstance(f, ast.FunctionRef):
        s = d.sql(f.call)
        return s + (f" {quote_ident(f.alias)}" if f.alias else "")
    if isinstance(f, ast.Join):
        kind = {"inner": "JOIN", "left": "LEFT JOIN", "right": "RIGHT JOIN",
                "full": "FULL JOIN", "cross": "CROSS JOIN"}[f.kind]
        s = f"{_from_sql(f.left, d)}\n     {kind} {_from_sql(f.right, d)}"
        if f.using:
            s += " USING (" + ", ".join(quote_ident(c) for c in f.using) + ")"
        elif f.on is not None:
            s += f" ON {d.sql(f.on)}"
        return s
    if isinstance(f, ast.ValuesRef):
        return "(" + _body_sql(f.values, d) + f") {quote_ident(f.alias or 'v')}"
    return f"/* {type(f).__name__} */"
