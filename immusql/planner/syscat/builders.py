"""Row builders of the base system relations: tuples in PostgreSQL 15's column order.

Each builder takes a `SysContext` (the statement's catalog snapshot, its model, the
session) and returns a list of tuples. Builders are grouped by what their rows depend on,
which decides how long rows may be reused (`rows_for`): STATIC ones never change,
CATALOG ones are cached per catalog snapshot (and database owner), SESSION ones (settings,
roles, databases) are built per scan.
"""

from __future__ import annotations

import functools

from .. import types as T
from . import oids, pgdata
from .model import collation_of, default_opclass, model_of, storage_of
from .registry import all_relations, by_oid

_FK_ACTION = {"no action": "a", "restrict": "r", "cascade": "c", "set null": "n",
              "set default": "d", None: "a"}


class SysContext:
    """What a builder reads: the statement context, its catalog and the session."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.catalog = ctx.catalog
        self.session = ctx.session

    @functools.cached_property
    def model(self):
        return model_of(self.catalog)

    @functools.cached_property
    def db_owner(self) -> int:
        """Owner of the current database: the owner of every user object."""
        name = self.session.database
        try:
            for d in self.session.cluster.databases():
                if d.name == name:
                    return d.owner
        except Exception:  # a cluster without databases() still has a superuser
            pass
        return oids.BOOTSTRAP_SUPERUSER


# ------------------------------------------------------------------ pg_class & co --

def _rel_oid_kind(rel) -> str:
    return {"table": "r", "view": "v", "sequence": "S"}.get(rel.kind, "r")


# namespaces initdb gives an ACL: owner USAGE+CREATE, PUBLIC USAGE (pg_toast and schemas
# made later have none, i.e. the default)
_NS_WITH_ACL = {oids.PG_CATALOG_NS, oids.PUBLIC_NS, oids.INFORMATION_SCHEMA_NS}


def pg_namespace(sc):
    names = {oid: name for oid, name, _ in _roles(sc)}
    rows = []
    for oid, name, owner in sc.model.namespaces:
        owner = owner if owner is not None else sc.db_owner
        acl = None
        if oid in _NS_WITH_ACL and owner in names:
            who = names[owner]
            acl = [f"{who}=UC/{who}", f"=U/{who}"]
        rows.append((oid, name, owner, acl))
    return rows


def pg_class(sc):
    m, owner = sc.model, sc.db_owner
    rows = []
    for rel in all_relations():
        rows.append(_class_row(rel.id, rel.name, rel.namespace, rel.reltype, oids.
                               BOOTSTRAP_SUPERUSER, oids.HEAP_AM if rel.relkind == "r" else 0,
                               rel.relkind, len(rel.columns), shared=rel.shared,
                               relhasrules=rel.relkind == "v", replident="n"))
    for rel in m.relations:
        kind = _rel_oid_kind(rel)
        ns = m.namespace_of(rel)
        if kind == "r":
            natts = max((c.id for c in rel.columns), default=0)
            rows.append(_class_row(
                rel.id, rel.name, ns, m.rowtype[rel.id][0], owner, oids.HEAP_AM, "r", natts,
                filenode=rel.id, hasindex=bool(rel.indexes), checks=len(rel.checks),
                triggers=rel.id in m.has_triggers, replident="d"))
            for idx in rel.indexes:
                rows.append(_class_row(idx.id, idx.name, ns, 0, owner, oids.BTREE_AM, "i",
                                       len(idx.columns), filenode=idx.id, tuples=0.0,
                                       replident="n"))
        elif kind == "v":
            rows.append(_class_row(rel.id, rel.name, ns, m.rowtype[rel.id][0], owner, 0, "v",
                                   len(rel.columns), relhasrules=True, replident="n"))
        else:
            rows.append(_class_row(rel.id, rel.name, ns, 0, owner, 0, "S", 3,
                                   filenode=rel.id, tuples=1.0, replident="n"))
    return rows


def _class_row(oid, name, ns, reltype, owner, am, kind, natts, *, filenode=0, tuples=-1.0,
               hasindex=False, shared=False, checks=0, relhasrules=False, triggers=False,
               replident="n"):
    return (oid, name, ns, reltype, 0, owner, am, filenode,
            oids.GLOBAL_TABLESPACE if shared else 0, 0, tuples, 0, 0, hasindex, shared, "p",
            kind, natts, checks, relhasrules, triggers, False, False, False, True, replident,
            False, 0, 0, 0, None, None, None)


def _attr_row(relid, name, t, attnum, notnull=False, hasdef=False, identity="",
              collation=None):
    typlen, byval, align, storage = storage_of(t)
    ndims = 1 if t.element is not None and t.oid not in T.VECTOR_OIDS else 0
    coll = collation_of(t) if collation is None else collation
    return (relid, name, t.oid, -1, typlen, attnum, ndims, -1, t.typmod, byval, align,
            storage, "", notnull, hasdef, False, identity, "", False, True, 0, coll, None,
            None, None, None)


_SEQ_COLUMNS = (("last_value", T.INT8), ("log_cnt", T.INT8), ("is_called", T.BOOL))


def pg_attribute(sc):
    m = sc.model
    rows = list(_system_attributes())
    for rel in m.relations:
        if rel.kind == "sequence":
            for i, (name, t) in enumerate(_SEQ_COLUMNS):
                rows.append(_attr_row(rel.id, name, t, i + 1, notnull=True))
            continue
        for col in rel.columns:
            ident = {"always": "a", "by default": "d"}.get(col.identity, "")
            rows.append(_attr_row(rel.id, col.name, col.type, col.id, col.not_null,
                                  (rel.id, col.id) in m.attrdef_of, ident))
        for idx in rel.indexes:
            if not idx.plain:  # expression keys: named as PostgreSQL names them
                from ..index_exprs import attribute_names
                from ..tables import index_types
                types_ = index_types(idx, sc.ctx.codec(rel))
                for i, (name, t) in enumerate(zip(attribute_names(rel, idx), types_)):
                    rows.append(_attr_row(idx.id, name, t, i + 1))
                continue
            for i, cid in enumerate(idx.columns):
                col = rel.column_by_id(cid)
                rows.append(_attr_row(idx.id, col.name, col.type, i + 1))
    return rows


@functools.lru_cache(maxsize=1)
def _system_attributes():
    rows = []
    for _schema, _name, oid, _k, _t, _a, cols in pgdata.RELATIONS:
        rel = by_oid(oid)
        for col, (_n, _toid, _tm, notnull, coll) in zip(rel.columns, cols):
            rows.append(_attr_row(oid, col.name, col.type, col.id, notnull, collation=coll))
    return tuple(rows)


def pg_attrdef(sc):
    return [(d.oid, d.rel.id, d.column.id, d.bin) for d in sc.model.attrdefs]


def pg_index(sc):
    rows = []
    for rel in sc.model.relations:
        for idx in rel.indexes:
            from ..index_exprs import catalog_texts
            from ..tables import index_types
            types_ = index_types(idx, sc.ctx.codec(rel))
            n = len(idx.columns)
            desc = idx.descending or (False,) * n
            exprs, pred = catalog_texts(rel, idx)
            rows.append((idx.id, rel.id, n, n, idx.unique, False, idx.primary, False, True,
                         False, True, False, True, True, False, list(idx.columns),
                         [collation_of(t) for t in types_],
                         [default_opclass(t) for t in types_],
                         [3 if d else 0 for d in desc], exprs, pred))
    return rows


def pg_constraint(sc):
    m = sc.model
    rows = []
    for con in m.constraints:
        rel = con.rel
        ns = m.namespace_of(rel)
        conindid = con.index.id if con.index is not None else con.ref_index_oid
        conbin = None
        updtype = deltype = matchtype = " "
        confrelid, confkey = 0, None
        pfeq = ppeq = ffeq = None
        if con.contype == "f":
            fk = con.fk
            updtype, deltype, matchtype = _FK_ACTION.get(fk.on_update, "a"), \
                _FK_ACTION.get(fk.on_delete, "a"), "s"
            confrelid = fk.ref_table
            confkey = list(con.ref_keys)
            ref = con.ref_rel
            ref_types = [ref.column_by_id(c).type if ref is not None else T.INT4
                         for c in con.ref_keys]
            own_types = [rel.column_by_id(c).type for c in con.keys]
            pfeq = [_eq_op(t) for t in ref_types]
            ppeq = [_eq_op(t) for t in ref_types]
            ffeq = [_eq_op(t) for t in own_types]
        elif con.contype == "c":
            from .deparse import Deparser
            try:
                conbin = Deparser(rel, False).sql(con.check.expr)
            except Exception:
                conbin = None
        rows.append((con.oid, con.name, ns, con.contype, False, False, True, rel.id, 0,
                     conindid, 0, confrelid, updtype, deltype, matchtype, True, 0,
                     con.contype != "c",  # connoinherit: only checks are inherited
                     list(con.keys) if con.keys else None, confkey, pfeq, ppeq, ffeq, None,
                     None, conbin))
    return rows


def _eq_op(t: T.SqlType) -> int:
    oid = t.base.oid
    if oid == T.VARCHAR.oid:
        oid = T.TEXT.oid
    return pgdata.EQ_OPERATORS.get(oid, 0)


def pg_depend(sc):
    """Only the dependencies clients read: the sequence of a serial column is owned by
    the column (deptype 'a'), an identity column's is internal to it ('i'); psql prints
    them under `\\d seq` as "Owned by" / "Sequence for identity column"."""
    m = sc.model
    rows = []
    for rel in m.relations:
        if rel.kind != "table":
            continue
        for col in rel.columns:
            if col.sequence is not None and col.sequence in m.by_oid:
                rows.append((oids.PG_CLASS, col.sequence, 0, oids.PG_CLASS, rel.id, col.id,
                             "i" if col.identity else "a"))
    return rows


def pg_sequence(sc):
    rows = []
    for rel in sc.model.relations:
        if rel.kind != "sequence":
            continue
        s = rel.sequence
        rows.append((rel.id, s.get("type", T.INT8.oid), s.get("start", 1),
                     s.get("increment", 1), s.get("max", (1 << 63) - 1), s.get("min", 1),
                     s.get("cache", 1), bool(s.get("cycle", False))))
    return rows


# ------------------------------------------------------------------ types ----------

def pg_type(sc):
    rows = list(_builtin_types())
    m = sc.model
    for rel in all_relations():
        if rel.reltype:
            rows += _rowtype_rows(rel.reltype, rel.rowtype_array, rel.name, rel.namespace,
                                  rel.id, oids.BOOTSTRAP_SUPERUSER)
    for rel in m.relations:
        pair = m.rowtype.get(rel.id)
        if pair is not None:
            rows += _rowtype_rows(pair[0], pair[1], rel.name, m.namespace_of(rel), rel.id,
                                  sc.db_owner)
    from .enumrows import enum_type_rows
    return rows + enum_type_rows(m, sc.db_owner)


def pg_enum(sc):
    from .enumrows import pg_enum as enum_rows
    return enum_rows(sc)


@functools.lru_cache(maxsize=1)
def _builtin_types():
    return tuple(pgdata.TYPES)


def _rowtype_rows(typoid, arroid, name, ns, relid, owner):
    comp, arr = pgdata.ROWTYPE_TEMPLATES
    comp = (typoid, name, ns, owner) + comp[4:11] + (relid,) + comp[12:14] + (arroid,) + \
        comp[15:]
    arr = (arroid, "_" + name, ns, owner) + arr[4:13] + (typoid,) + arr[14:]
    return [comp, arr]


def pg_am(sc):
    return list(pgdata.AMS)


def pg_opclass(sc):
    return list(pgdata.OPCLASSES)


def pg_collation(sc):
    return list(pgdata.COLLATIONS)


def pg_proc(sc):
    return _PROCS


def _regproc_oids(rows, column: int) -> list:
    """The dump keeps regproc columns as PostgreSQL prints them: a function's name, or '-'
    for none. regproc values are OIDs here; a name that is not among the rows (PostgreSQL's
    planner support functions) becomes 0, as '-' does."""
    by_name = {r[1]: r[0] for r in rows}

    def oid(v):
        return by_name.get(v, 0) if isinstance(v, str) else v
    return [row[:column] + (oid(row[column]),) + row[column + 1:] for row in rows]


_PROCS = _regproc_oids(pgdata.PROCS, 8)  # prosupport


def pg_language(sc):
    return [row + (None,) for row in pgdata.LANGUAGES]


def pg_extension(sc):
    return [row + (None, None) for row in pgdata.EXTENSIONS]


# PostgreSQL 15's descriptions of the built-in objects immusql has: (objoid, classoid) ->
# description (COMMENT ON SCHEMA may replace or remove a schema's)
BUILTIN_DESCRIPTIONS = {
    (2, 2601): "heap table access method",
    (403, 2601): "b-tree index access method",
    (405, 2601): "hash index access method",
    (12, 2612): "built-in functions",
    (13, 2612): "dynamically-loaded C functions",
    (14, 2612): "SQL-language functions",
    (13563, 2612): "PL/pgSQL procedural language",
    (oids.PG_CATALOG_NS, oids.PG_NAMESPACE): "system catalog schema",
    (oids.PG_TOAST_NS, oids.PG_NAMESPACE): "reserved schema for TOAST tables",
    (oids.PUBLIC_NS, oids.PG_NAMESPACE): "standard public schema",
    (13559, 3079): "PL/pgSQL procedural language",
}


PG_DATABASE, PG_AUTHID = 1262, 1260  # classoids of pg_shdescription rows


def descriptions(sc) -> dict:
    """(objoid, classoid, objsubid) -> description: the built-in objects' and what COMMENT
    ON stored on relations, columns (objsubid: attnum), indexes, constraints and schemas.
    Cached with the catalog snapshot's model."""
    m = sc.model
    hit = m.rows_cache.get("descriptions")
    if hit is not None:
        return hit
    out = {(o, c, 0): text for (o, c), text in BUILTIN_DESCRIPTIONS.items()}
    for name, text in getattr(sc.catalog, "schema_comments", {}).items():
        oid = m.ns_oid.get(name)
        if oid is not None:
            out.pop((oid, oids.PG_NAMESPACE, 0), None)
            if text is not None:
                out[(oid, oids.PG_NAMESPACE, 0)] = text
    for rel in m.relations:
        if rel.comment is not None:
            out[(rel.id, oids.PG_CLASS, 0)] = rel.comment
        for col in rel.columns:
            if col.comment is not None:
                out[(rel.id, oids.PG_CLASS, col.id)] = col.comment
        for idx in rel.indexes:
            if idx.comment is not None:
                out[(idx.id, oids.PG_CLASS, 0)] = idx.comment
    for con in m.constraints:
        obj = con.index if con.index is not None else (con.fk or con.check)
        text = obj.constraint_comment if con.index is not None else obj.comment
        if text is not None:
            out[(con.oid, oids.PG_CONSTRAINT, 0)] = text
    for e in (getattr(sc.catalog, "enums", None) or {}).values():  # COMMENT ON TYPE
        if e.comment is not None:
            out[(e.oid, 1247, 0)] = e.comment  # classoid pg_type
    m.rows_cache["descriptions"] = out
    return out


def pg_description(sc):
    return [key + (text,) for key, text in sorted(descriptions(sc).items())]


def shared_descriptions(sc) -> dict:
    """(objoid, classoid) -> description of databases and roles (COMMENT ON DATABASE |
    ROLE, kept by the cluster)."""
    cluster = sc.session.cluster
    out = {(d.oid, PG_DATABASE): d.comment for d in cluster.databases()
           if getattr(d, "comment", None) is not None}
    out.update({(r.oid, PG_AUTHID): r.comment for r in cluster.roles()
                if getattr(r, "comment", None) is not None})
    return out


def pg_shdescription(sc):
    return [key + (text,) for key, text in sorted(shared_descriptions(sc).items())]


# ------------------------------------------------------------------ cluster -------

def _roles(sc):
    """(oid, name, RoleInfo-or-None): the cluster's roles, then PostgreSQL's predefined
    roles (pg_database_owner owns schema public) unless the cluster has them."""
    out = []
    seen = set()
    for r in sc.session.cluster.roles():
        out.append((r.oid, r.name, r))
        seen.add(r.name)
    for oid, name in pgdata.PREDEFINED_ROLES:
        if name not in seen:
            out.append((oid, name, None))
    return out


def pg_roles(sc):
    rows = []
    for oid, name, r in _roles(sc):
        if r is None:
            rows.append((name, False, True, False, False, False, False, -1, "********", None,
                         False, None, oid))
        else:
            rows.append((name, r.superuser, r.inherit, r.createrole, r.createdb, r.login,
                         r.replication, r.connection_limit, "********", r.valid_until,
                         r.bypassrls, None, oid))
    return rows


def pg_user(sc):
    return [(r.name, r.oid, r.createdb, r.superuser, r.replication, r.bypassrls, "********",
             r.valid_until, None) for oid, name, r in _roles(sc) if r is not None and r.login]


def pg_auth_members(sc):
    by_name = {name: oid for oid, name, _ in _roles(sc)}
    rows = [(role, member, oids.BOOTSTRAP_SUPERUSER, admin)
            for role, member, admin in pgdata.PREDEFINED_MEMBERS]
    for oid, _name, r in _roles(sc):
        if r is None:
            continue
        for parent in r.member_of:
            if parent in by_name:
                rows.append((by_name[parent], oid, oids.BOOTSTRAP_SUPERUSER, False))
    return rows


def pg_database(sc):
    settings = sc.session.settings
    collate = settings.get("lc_collate", "C")
    ctype = settings.get("lc_ctype", "C")
    return [(d.oid, d.name, d.owner, oids.UTF8_ENCODING, "c", False, d.allow_connections,
             d.connection_limit, 0, 1, oids.DEFAULT_TABLESPACE, collate, ctype, None, None,
             None) for d in sc.session.cluster.databases()]


def pg_tablespace(sc):
    return [(oid, name, owner, None, None) for oid, name, owner in pgdata.TABLESPACES]


def pg_settings(sc):
    from ..session import DEFAULT_SETTINGS
    session = sc.session.settings
    rows = []
    for name, unit, cat, desc, context, vartype, lo, hi, enumvals, boot in pgdata.SETTINGS:
        key = name.lower()
        if key in session:
            value = session[key]
            source = "default" if value == DEFAULT_SETTINGS.get(key) else "session"
        else:
            value, source = boot, "default"
        rows.append((name, value, unit, cat, desc, None, context, vartype, source, lo, hi,
                     list(enumvals) if enumvals is not None else None, boot, value, None,
                     None, False))
    return rows


def pg_stat_activity(sc):
    """One row: this session. The wire server may set session.backend_pid, client_addr,
    client_port and backend_start; embedded use has the process id and no socket."""
    import os

    from ..fn_catalog import _STARTED
    s = sc.session
    ctx = sc.ctx
    db = next((d for d in s.cluster.databases() if d.name == s.database), None)
    role = s.cluster.role(s.user)
    return [(db.oid if db else None, s.database, getattr(s, "backend_pid", None) or os.getpid(),
             None, role.oid if role else None, s.user, s.settings.get("application_name", ""),
             getattr(s, "client_addr", None), None, getattr(s, "client_port", None),
             getattr(s, "backend_start", None) or _STARTED, s.tx_started_at,
             ctx.statement_now, ctx.statement_now, None, None, "active", None, None, None,
             None, "client backend")]


def empty(sc):
    return []


STATIC, CATALOG, SESSION = "static", "catalog", "session"

# name -> (builder, what the rows depend on); relations not listed are empty
BUILDERS = {
    "pg_namespace": (pg_namespace, SESSION),  # nspacl names roles
    "pg_class": (pg_class, CATALOG),
    "pg_attribute": (pg_attribute, CATALOG),
    "pg_attrdef": (pg_attrdef, CATALOG),
    "pg_index": (pg_index, CATALOG),
    "pg_constraint": (pg_constraint, CATALOG),
    "pg_sequence": (pg_sequence, CATALOG),
    "pg_depend": (pg_depend, CATALOG),
    "pg_type": (pg_type, CATALOG),
    "pg_enum": (pg_enum, CATALOG),
    "pg_am": (pg_am, STATIC),
    "pg_opclass": (pg_opclass, STATIC),
    "pg_collation": (pg_collation, STATIC),
    "pg_proc": (pg_proc, STATIC),
    "pg_language": (pg_language, STATIC),
    "pg_extension": (pg_extension, STATIC),
    "pg_description": (pg_description, CATALOG),
    "pg_shdescription": (pg_shdescription, SESSION),
    "pg_tablespace": (pg_tablespace, STATIC),
    "pg_roles": (pg_roles, SESSION),
    "pg_user": (pg_user, SESSION),
    "pg_auth_members": (pg_auth_members, SESSION),
    "pg_database": (pg_database, SESSION),
    "pg_settings": (pg_settings, SESSION),
    "pg_stat_activity": (pg_stat_activity, SESSION),
}

_STATIC_ROWS: dict = {}


def rows_for(ctx, rel) -> list[tuple]:
    """The rows of a base system relation for this statement."""
    builder, scope = BUILDERS.get(rel.name, (empty, STATIC)) \
        if rel.schema == "pg_catalog" else (empty, STATIC)
    if scope == STATIC:
        rows = _STATIC_ROWS.get(rel.name)
        if rows is None:
            rows = _STATIC_ROWS[rel.name] = builder(None)
        return rows
    sc = SysContext(ctx)
    if scope == SESSION:
        return builder(sc)
    m = sc.model
    key = (rel.name, sc.db_owner)
    rows = m.rows_cache.get(key)
    if rows is None:
        rows = m.rows_cache[key] = builder(sc)
    return rows

