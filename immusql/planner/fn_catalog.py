"""System information and catalog functions: what clients call next to pg_catalog queries.

Why: psql, SQLAlchemy, pgJDBC and asyncpg wrap their catalog queries in functions that
read the catalog (pg_get_indexdef, format_type, pg_table_is_visible, pg_get_serial_sequence
...), the session (current_setting, current_schemas, pg_backend_pid) or privileges
(has_table_privilege). They read the running statement's catalog snapshot and session
through the session's reg* resolver (planner/syscat/resolver.py), which follows the
current statement.

Privileges: immusql grants by database, not by object; every has_*_privilege answers
true for an object that exists (NULL for an OID that names nothing, an error for a name
that names nothing, as PostgreSQL). Sizes (pg_relation_size & co.) count the bytes of the
relation's current rows or index entries as stored (keys and values); the store's log
keeps every older version too, which no size function counts.
"""

from __future__ import annotations

import datetime as dt
import os

from .. import errors
from ..parser import ast
from . import types as T
from .functions import register
from .overload import ANY, ANYARRAY, ANYELEMENT

TXT, NAME, OID, BOOL, I4, I8 = T.TEXT, T.NAME, T.OID, T.BOOL, T.INT4, T.INT8
REGCLASS = T.REGCLASS
_STARTED = dt.datetime.now(dt.timezone.utc)


def _stmt(fctx):
    """The running statement's context (its catalog, session and search path)."""
    from .syscat.resolver import Resolver
    r = fctx.resolver if fctx is not None else None
    if not isinstance(r, Resolver):
        raise errors.FeatureNotSupported("catalog functions need a running statement")
    return r.statement()


def _with_stmt(fn):
    """A needs_ctx factory: fn(stmt, *args) called with the running statement."""
    def factory(fctx, params, elem):
        return lambda *args: fn(_stmt(fctx), *args)
    return factory


def _model(stmt):
    from .syscat.model import model_of
    return model_of(stmt.catalog)


# ------------------------------------------------------------------ settings --------

def _setting_row(name: str):
    from .syscat import pgdata
    low = name.lower()
    for row in pgdata.SETTINGS:
        if row[0].lower() == low:
            return row
    return None


def current_setting(stmt, name, missing_ok=False):
    settings = stmt.session.settings
    low = name.lower()
    from .settings import ALIASES
    low = ALIASES.get(low, low)
    if low in settings:
        return settings[low]
    row = _setting_row(low)
    if row is not None:
        return row[9]
    if missing_ok or "." in name:
        return None
    raise errors.UndefinedObject(f'unrecognized configuration parameter "{name}"')


def set_config(stmt, name, value, is_local):
    from .settings import ALIASES, READ_ONLY
    low = name.lower()
    low = ALIASES.get(low, low)
    if low in READ_ONLY:
        raise errors.CantChangeRuntimeParam(f'parameter "{name}" cannot be changed')
    if low not in stmt.session.settings and _setting_row(low) is None and "." not in name:
        raise errors.UndefinedObject(f'unrecognized configuration parameter "{name}"')
    stmt.session.settings[low] = "" if value is None else value
    return value


def current_schemas(stmt, implicit):
    m = _model(stmt)
    path = list(stmt.search_path)
    if implicit and "pg_catalog" not in path:
        path.insert(0, "pg_catalog")
    return [s for s in path if s in m.ns_oid]


# ------------------------------------------------------------------ visibility ------

def table_is_visible(stmt, oid):
    from .syscat import registry
    from .syscat.resolver import find_relation_oid
    rel = registry.by_oid(oid)
    if rel is not None:
        schema, name = rel.schema, rel.name
    else:
        got = _model(stmt).relation(oid)
        if got is None:
            return None
        rel, idx = got
        schema, name = rel.schema, (idx.name if idx is not None else rel.name)
    if schema not in registry.effective_path(stmt.search_path):
        return False
    return find_relation_oid(stmt, (name,)) == oid


def type_is_visible(stmt, oid):
    from .syscat.resolver import rowtype_relation
    try:
        T.type_by_oid(oid)
        return True
    except errors.Error:
        pass
    rel = rowtype_relation(stmt, oid)
    if rel is None:
        return None
    return table_is_visible(stmt, rel.id)


def function_is_visible(stmt, oid):
    from .syscat.resolver import proc_by_oid
    return True if proc_by_oid(oid) is not None else None


def collation_is_visible(stmt, oid):
    return True if oid in (100, 950, 951) else None


def get_userbyid(stmt, oid):
    from .syscat.resolver import role_name
    name = role_name(stmt, oid)
    return name if name is not None else f"unknown (OID={oid})"


# ------------------------------------------------------------------ format_type -----

def format_type(stmt, oid, typmod):
    if oid is None:
        return None
    tm = -1 if typmod is None else typmod
    try:
        t = T.type_by_oid(oid)
    except errors.Error:
        from .syscat.resolver import name_of
        if oid in (2276, 2277, 2283, 2776, 5077, 5078):
            return {2276: '"any"', 2277: "anyarray", 2283: "anyelement",
                    2776: "anynonarray", 5077: "anycompatible",
                    5078: "anycompatiblearray"}[oid]
        name = name_of(stmt, "regtype", oid)
        return name if name is not None else "???"
    if tm >= 0 and t.element is None:
        t = t.with_typmod(tm)
    elif tm >= 0 and t.oid not in T.VECTOR_OIDS:
        t = T.array_of(t.element.with_typmod(tm))
    if t.oid == T.BPCHAR.oid and typmod is None:
        return "character"  # format_type(1042, NULL); with -1 it is bpchar
    return T.format_type(t)


# ------------------------------------------------------------------ definitions -----

def get_expr(stmt, text, relid, pretty=False):
    if not pretty:
        return text
    return _model(stmt).pretty_of.get((relid, text), text)


def constraint_def(stmt, oid, pretty=False):
    from .fn_text import quote_ident
    from .syscat.deparse import Deparser, regclass_text
    con = _model(stmt).con_by_oid.get(oid)
    if con is None:
        return None
    rel = con.rel

    def cols(r, ids):
        return ", ".join(quote_ident(r.column_by_id(c).name) for c in ids)
    if con.contype == "p":
        return f"PRIMARY KEY ({cols(rel, con.keys)})"
    if con.contype == "u":
        return f"UNIQUE ({cols(rel, con.keys)})"
    if con.contype == "c":
        return f"CHECK ({Deparser(rel, bool(pretty)).sql(con.check.expr)})"
    fk = con.fk
    ref = con.ref_rel
    ref_name = regclass_text(ref, stmt.search_path) if ref is not None else "?"
    out = (f"FOREIGN KEY ({cols(rel, con.keys)}) REFERENCES {ref_name}"
           f"({cols(ref, con.ref_keys) if ref is not None else ''})")
    actions = {"restrict": "RESTRICT", "cascade": "CASCADE", "set null": "SET NULL",
               "set default": "SET DEFAULT"}
    if fk.on_update in actions:
        out += f" ON UPDATE {actions[fk.on_update]}"
    if fk.on_delete in actions:
        out += f" ON DELETE {actions[fk.on_delete]}"
    return out


def index_def(stmt, oid, column=0, pretty=False):
    from .fn_text import quote_ident
    got = _model(stmt).index_by_oid.get(oid)
    if got is None:
        return None
    rel, idx = got
    from .index_exprs import key_sql, predicate_sql
    desc = idx.descending or (False,) * len(idx.columns)
    names = [key_sql(rel, idx, i, pretty) + (" DESC" if d else "")
             for i, d in enumerate(desc)]
    if column:
        if not 1 <= column <= len(idx.columns):
            return ""
        return key_sql(rel, idx, column - 1, pretty)
    where = "" if idx.predicate is None else f" WHERE {predicate_sql(rel, idx, pretty)}"
    # pretty: the table as the search path names it; else always schema-qualified
    from .syscat.resolver import regclass_name
    table = regclass_name(stmt, rel.id) if pretty else \
        f"{quote_ident(rel.schema)}.{quote_ident(rel.name)}"
    return (f"CREATE {'UNIQUE ' if idx.unique else ''}INDEX {quote_ident(idx.name)} ON "
            f"{table} USING btree ({', '.join(names)}){where}")


def serial_sequence(stmt, table, column):
    from .fn_text import quote_ident
    from .syscat.resolver import regclass_oid
    oid = regclass_oid(stmt, table)
    got = _model(stmt).relation(oid)
    rel = got[0] if got is not None and got[1] is None else None
    if rel is None or rel.kind == "sequence":
        return None
    col = rel.column(column)
    if col is None:
        raise errors.UndefinedColumn(
            f'column "{column}" of relation "{rel.name}" does not exist')
    if col.sequence is None:
        return None
    seq = stmt.catalog.relations.get(col.sequence)
    if seq is None:
        return None
    return f"{quote_ident(seq.schema)}.{quote_ident(seq.name)}"


def view_def(stmt, target, pretty=False):
    from .syscat import registry
    from .syscat.deparse import query_sql
    if isinstance(target, str):
        from .syscat.resolver import regclass_oid
        target = regclass_oid(stmt, target)
    rel = registry.by_oid(target)
    if rel is not None:
        return rel.view_sql
    got = _model(stmt).relation(target)
    if got is None or got[1] is not None or got[0].kind != "view":
        return None
    from .syscat.registry import find

    def lookup(name):
        return find(stmt.catalog, name, stmt.search_path, database=stmt.session.database)
    return query_sql(got[0].view_query, bool(pretty), lookup) + ";"


def function_args(stmt, oid, identity=False):
    """pg_get_function_arguments (OUT parameters too) or, identity, the arguments that
    identify the function (pg_get_function_identity_arguments)."""
    from .syscat.resolver import _type_name, proc_by_oid
    p = proc_by_oid(oid)
    if p is None:
        return None
    names = p[22] or ()
    modes = p[21] or ()
    types_ = p[20] or p[19]
    out = []
    for i, t in enumerate(types_):
        mode = modes[i] if i < len(modes) else "i"
        if mode == "t" or (identity and mode == "o"):
            continue
        prefix = {"b": "INOUT ", "v": "VARIADIC ", "o": "OUT "}.get(mode, "")
        name = names[i] if i < len(names) and names[i] else ""
        out.append(prefix + (name + " " if name else "") + _type_name(t))
    return ", ".join(out)


def function_result(stmt, oid):
    from .syscat.resolver import _type_name, proc_by_oid
    p = proc_by_oid(oid)
    if p is None:
        return None
    modes = p[21] or ()
    if p[13] and "t" in modes:
        names, types_ = p[22], p[20]
        cols = [f"{n} {_type_name(t)}" for n, t, m in zip(names, types_, modes) if m == "t"]
        return f"TABLE({', '.join(cols)})"
    return ("SETOF " if p[13] else "") + _type_name(p[18])


# ------------------------------------------------------------------ privileges ------

def _relation_exists(stmt, target) -> bool | None:
    from .syscat import registry
    from .syscat.resolver import regclass_oid
    if isinstance(target, str):
        regclass_oid(stmt, target)  # raises 42P01 for a name that names nothing
        return True
    if registry.by_oid(target) is not None or _model(stmt).relation(target) is not None:
        return True
    return None


def _schema_exists(stmt, target):
    if isinstance(target, str):
        if target not in _model(stmt).ns_oid:
            from .syscat.resolver import InvalidSchemaName
            raise InvalidSchemaName(f'schema "{target}" does not exist')
        return True
    return True if any(o == target for o, _, _ in _model(stmt).namespaces) else None


def _database_exists(stmt, target):
    for d in stmt.session.cluster.databases():
        if d.name == target or d.oid == target:
            return True
    if isinstance(target, str):
        raise errors.InvalidCatalogName(f'database "{target}" does not exist')
    return None


def _function_exists(stmt, target):
    from .syscat.resolver import proc_by_oid, regproc_oid
    if isinstance(target, str):
        regproc_oid(target, "(" in target)
        return True
    return True if proc_by_oid(target) is not None else None


def _column_exists(stmt, table, column):
    if _relation_exists(stmt, table) is None:
        return None
    return True


def _any(stmt, *args):
    return True


def _privilege_family(name, check, kinds):
    """has_X_privilege([user,] object, privilege) in PostgreSQL's overloads."""
    def last2(stmt, obj, priv):
        return check(stmt, obj)

    def last3(stmt, user, obj, priv):
        return check(stmt, obj)
    for kind in kinds:
        register(name, (kind, TXT), BOOL, _with_stmt(last2), needs_ctx=True)
        for user in (NAME, OID):
            register(name, (user, kind, TXT), BOOL, _with_stmt(last3), needs_ctx=True)


# ------------------------------------------------------------------ sizes -----------

def relation_size(stmt, oid, fork="main"):
    from .syscat import registry
    from .tables import index_prefix, row_prefix
    if registry.by_oid(oid) is not None:
        return 0
    got = _model(stmt).relation(oid)
    if got is None:
        return None
    rel, idx = got
    if fork != "main":
        return 0
    if idx is not None:
        prefix = index_prefix(idx.id)
    elif rel.kind == "table":
        prefix = row_prefix(rel.id)
    else:
        return 0
    return sum(len(e.key) + len(e.value or b"")
               for e in stmt.tx.scan(prefix, track=False))


def database_size(stmt, target):
    """pg_database_size(name | oid): the cluster's answer, or for the session's own
    database its store directory. An unknown name is an error, an unknown OID NULL."""
    dbs = stmt.session.cluster.databases()
    if isinstance(target, str):
        db = next((d for d in dbs if d.name == target), None)
        if db is None:
            raise errors.InvalidCatalogName(f'database "{target}" does not exist')
    else:
        db = next((d for d in dbs if d.oid == target), None)
        if db is None:
            return None
    size = stmt.session.cluster.database_size(db.oid)
    if size is None and db.name == stmt.session.database:
        from .cluster import directory_size
        size = directory_size(stmt.session.engine.store.path)
    return size


def indexes_size(stmt, oid):
    got = _model(stmt).relation(oid)
    if got is None or got[1] is not None:
        return 0 if got is not None else None
    return sum(relation_size(stmt, i.id) for i in got[0].indexes)


def total_size(stmt, oid):
    size = relation_size(stmt, oid)
    if size is None:
        return None
    return size + (indexes_size(stmt, oid) or 0)


_SIZE_UNITS = (("bytes", 10 * 1024, False, 0), ("kB", 20 * 1024 - 1, True, 10),
               ("MB", 20 * 1024 - 1, True, 20), ("GB", 20 * 1024 - 1, True, 30),
               ("TB", 20 * 1024 - 1, True, 40), ("PB", 20 * 1024 - 1, True, 50))


def _cdiv(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def size_pretty(size):
    """pg_size_pretty(bigint), PostgreSQL 15's algorithm (half-rounded units)."""
    units = _SIZE_UNITS
    for i, (name, limit, rnd, bits_) in enumerate(units):
        last = i == len(units) - 1
        if last or abs(size) < limit:
            if rnd:
                size = _cdiv(size + (-1 if size < 0 else 1), 2)
            return f"{size} {name}"
        nxt = units[i + 1]
        bits = nxt[3] - bits_ - (1 if nxt[2] else 0) + (1 if rnd else 0)
        size = _cdiv(size, 1 << bits)


def sequence_last_value(stmt, oid):
    from .tables import sequence_key
    rel = stmt.catalog.relations.get(oid)
    if rel is None or rel.kind != "sequence":
        return None
    state = stmt.engine._sequences.get(oid)
    if state is not None:
        return state[0] - rel.sequence.get("increment", 1)
    try:
        return int.from_bytes(stmt.engine.store.get(sequence_key(oid)).value, "big",
                              signed=True)
    except KeyError:
        return None


def _descriptions(stmt) -> dict:
    from .syscat.builders import SysContext, descriptions
    return descriptions(SysContext(stmt))


def _catalog_oid(catalog: str) -> int | None:
    from .syscat.registry import lookup
    rel = lookup("pg_catalog", catalog)
    return rel.id if rel is not None else None


def obj_description(stmt, oid, catalog=None):
    """pg_description's text of an object (objsubid 0); without a catalog name, of any
    object with that OID (PostgreSQL's deprecated form)."""
    d = _descriptions(stmt)
    if catalog is None:
        return next((text for (o, _c, sub), text in sorted(d.items())
                     if o == oid and sub == 0), None)
    return d.get((oid, _catalog_oid(catalog), 0))


def col_description(stmt, oid, attnum):
    from .syscat import oids
    return _descriptions(stmt).get((oid, oids.PG_CLASS, attnum))


def shobj_description(stmt, oid, catalog):
    from .syscat.builders import PG_AUTHID, PG_DATABASE, SysContext, shared_descriptions
    # (pg_authid is not emulated, its OID is still the classoid of role comments)
    classoid = {"pg_authid": PG_AUTHID, "pg_database": PG_DATABASE}.get(catalog) \
        or _catalog_oid(catalog)
    return shared_descriptions(SysContext(stmt)).get((oid, classoid))


def partition_ancestors(stmt, oid):
    return [(oid,)] if _relation_exists(stmt, oid) else []


def _expand_from_columns(params, elem):
    return [("x", elem), ("n", I4)]


def _register():
    r = register
    s = _with_stmt
    r("current_setting", (TXT,), TXT, s(current_setting), needs_ctx=True, volatile=True)
    r("current_setting", (TXT, BOOL), TXT, s(current_setting), needs_ctx=True, volatile=True)
    r("set_config", (TXT, TXT, BOOL), TXT, s(set_config), needs_ctx=True, volatile=True,
      strict=False)
    r("current_schemas", (BOOL,), T.array_of(NAME), s(current_schemas), needs_ctx=True,
      volatile=True)
    r("pg_table_is_visible", (OID,), BOOL, s(table_is_visible), needs_ctx=True)
    r("pg_type_is_visible", (OID,), BOOL, s(type_is_visible), needs_ctx=True)
    r("pg_function_is_visible", (OID,), BOOL, s(function_is_visible), needs_ctx=True)
    r("pg_collation_is_visible", (OID,), BOOL, s(collation_is_visible), needs_ctx=True)
    r("pg_get_userbyid", (OID,), NAME, s(get_userbyid), needs_ctx=True)
    r("format_type", (OID, I4), TXT, s(format_type), needs_ctx=True, strict=False)
    r("pg_get_expr", (T.PG_NODE_TREE, OID), TXT, s(get_expr), needs_ctx=True)
    r("pg_get_expr", (T.PG_NODE_TREE, OID, BOOL), TXT, s(get_expr), needs_ctx=True)
    r("pg_get_constraintdef", (OID,), TXT, s(constraint_def), needs_ctx=True)
    r("pg_get_constraintdef", (OID, BOOL), TXT, s(constraint_def), needs_ctx=True)
    r("pg_get_indexdef", (OID,), TXT, s(index_def), needs_ctx=True)
    r("pg_get_indexdef", (OID, I4, BOOL), TXT, s(index_def), needs_ctx=True)
    r("pg_get_serial_sequence", (TXT, TXT), TXT, s(serial_sequence), needs_ctx=True)
    r("pg_get_viewdef", (OID,), TXT, s(view_def), needs_ctx=True)
    r("pg_get_viewdef", (OID, BOOL), TXT, s(view_def), needs_ctx=True)
    r("pg_get_viewdef", (OID, I4), TXT, s(lambda st, o, w: view_def(st, o, True)),
      needs_ctx=True)
    r("pg_get_viewdef", (TXT,), TXT, s(view_def), needs_ctx=True)
    r("pg_get_viewdef", (TXT, BOOL), TXT, s(view_def), needs_ctx=True)
    r("pg_get_function_identity_arguments", (OID,), TXT,
      s(lambda st, o: function_args(st, o, True)), needs_ctx=True)
    r("pg_get_function_arguments", (OID,), TXT, s(function_args), needs_ctx=True)
    r("pg_get_function_result", (OID,), TXT, s(function_result), needs_ctx=True)
    r("pg_get_triggerdef", (OID,), TXT, lambda o: None)
    r("pg_get_triggerdef", (OID, BOOL), TXT, lambda o, p: None)
    r("pg_get_partkeydef", (OID,), TXT, lambda o: None)
    r("pg_get_statisticsobjdef_columns", (OID,), TXT, lambda o: None)
    r("pg_get_statisticsobjdef", (OID,), TXT, lambda o: None)
    # no rules but views' _RETURN (not in pg_rewrite), no extended statistics and no
    # conversions: no OID names one, NULL as PostgreSQL answers for an unknown OID
    r("pg_get_ruledef", (OID,), TXT, lambda o: None)
    r("pg_get_ruledef", (OID, BOOL), TXT, lambda o, p: None)
    r("pg_statistics_obj_is_visible", (OID,), BOOL, lambda o: None)
    r("pg_conversion_is_visible", (OID,), BOOL, lambda o: None)  # pg_conversion is empty
    r("pg_relation_is_publishable", (REGCLASS,), BOOL,
      s(lambda st, o: _model(st).relation(o) is not None and
        _model(st).relation(o)[0].kind == "table"), needs_ctx=True)
    r("obj_description", (OID,), TXT, s(obj_description), needs_ctx=True)
    r("obj_description", (OID, NAME), TXT, s(obj_description), needs_ctx=True)
    r("col_description", (OID, I4), TXT, s(col_description), needs_ctx=True)
    r("shobj_description", (OID, NAME), TXT, s(shobj_description), needs_ctx=True)
    # encodings
    from .syscat import pgdata
    enc = dict(pgdata.ENCODINGS)
    r("pg_encoding_to_char", (I4,), NAME, lambda i: enc.get(i, ""))
    by_name = {v.lower(): k for k, v in enc.items()}
    r("pg_char_to_encoding", (NAME,), I4, lambda n: by_name.get(n.lower().replace("-", ""),
                                                                  -1))
    # to_reg*: NULL instead of an error
    for fname, kind in (("to_regclass", "regclass"), ("to_regtype", "regtype"),
                        ("to_regnamespace", "regnamespace"), ("to_regproc", "regproc"),
                        ("to_regprocedure", "regprocedure"), ("to_regrole", "regrole")):
        rtype = T.type_from_name(ast.TypeName(kind))
        r(fname, (TXT,), rtype, _to_reg(kind), needs_ctx=True)
    # privileges
    _privilege_family("has_table_privilege", _relation_exists, (TXT, OID))
    _privilege_family("has_sequence_privilege", _relation_exists, (TXT, OID))
    _privilege_family("has_any_column_privilege", _relation_exists, (TXT, OID))
    _privilege_family("has_schema_privilege", _schema_exists, (TXT, OID))
    _privilege_family("has_database_privilege", _database_exists, (TXT, OID))
    _privilege_family("has_function_privilege", _function_exists, (TXT, OID))
    _privilege_family("has_tablespace_privilege", _any, (TXT, OID))
    _privilege_family("has_foreign_data_wrapper_privilege", _any, (TXT, OID))
    _privilege_family("has_server_privilege", _any, (TXT, OID))
    _privilege_family("has_type_privilege", _any, (TXT, OID))
    _privilege_family("has_language_privilege", _any, (TXT, OID))
    for table in (TXT, OID):
        for col in (TXT, T.INT2):
            r("has_column_privilege", (table, col, TXT), BOOL,
              s(lambda st, t, c, p: _column_exists(st, t, c)), needs_ctx=True)
            for user in (NAME, OID):
                r("has_column_privilege", (user, table, col, TXT), BOOL,
                  s(lambda st, u, t, c, p: _column_exists(st, t, c)), needs_ctx=True)
    for user in (NAME, OID):
        r("pg_has_role", (user, TXT), BOOL, lambda u, p: True)
        for role in (NAME, OID):
            r("pg_has_role", (user, role, TXT), BOOL, lambda u, ro, p: True)
    # sizes
    for fname, fn in (("pg_relation_size", relation_size), ("pg_table_size", relation_size),
                      ("pg_total_relation_size", total_size),
                      ("pg_indexes_size", indexes_size)):
        r(fname, (REGCLASS,), I8, s(fn), needs_ctx=True, volatile=True)
    r("pg_relation_size", (REGCLASS, TXT), I8, s(relation_size), needs_ctx=True, volatile=True)
    r("pg_size_pretty", (I8,), TXT, size_pretty)
    r("pg_database_size", (NAME,), I8, s(database_size), needs_ctx=True, volatile=True)
    r("pg_database_size", (OID,), I8, s(database_size), needs_ctx=True, volatile=True)
    r("pg_sequence_last_value", (REGCLASS,), I8, s(sequence_last_value), needs_ctx=True,
      volatile=True)
    # server and session
    r("pg_backend_pid", (), I4, s(lambda st: getattr(st.session, "backend_pid", None)
                                  or os.getpid()), needs_ctx=True)
    r("pg_postmaster_start_time", (), T.TIMESTAMPTZ, lambda: _STARTED)
    r("pg_conf_load_time", (), T.TIMESTAMPTZ, lambda: _STARTED)
    r("pg_is_in_recovery", (), BOOL, lambda: False)
    r("getdatabaseencoding", (), NAME, lambda: "UTF8")
    r("pg_my_temp_schema", (), OID, lambda: 0)
    r("pg_is_other_temp_schema", (OID,), BOOL, lambda o: False)
    r("pg_jit_available", (), BOOL, lambda: False)
    r("pg_trigger_depth", (), I4, lambda: 0)
    r("pg_tablespace_location", (OID,), TXT, lambda o: "")
    # the wire server may set session.server_addr / server_port / client_addr / client_port;
    # embedded use has no socket: NULL, as PostgreSQL over a Unix socket
    for fname, attr, t in (("inet_server_addr", "server_addr", T.INET),
                           ("inet_client_addr", "client_addr", T.INET),
                           ("inet_server_port", "server_port", I4),
                           ("inet_client_port", "client_port", I4)):
        r(fname, (), t, s(lambda st, a=attr: getattr(st.session, a, None)), needs_ctx=True,
          strict=False)
    # set-returning
    r("pg_partition_ancestors", (REGCLASS,), [("relid", REGCLASS)], s(partition_ancestors),
      needs_ctx=True, srf=True)
    r("_pg_expandarray", (ANYARRAY,), _expand_from_columns,
      lambda a: [(x, i + 1) for i, x in enumerate(a)], srf=True)


def _to_reg(kind):
    def factory(fctx, params, elem):
        def fn(text):
            from .syscat.resolver import oid_of
            try:
                return oid_of(_stmt(fctx), kind, text)
            except errors.FeatureNotSupported:
                raise
            except errors.Error:
                return None
        return fn
    return factory


_ = (ANY, ANYELEMENT)
_register()
