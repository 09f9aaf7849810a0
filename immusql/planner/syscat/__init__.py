"""PostgreSQL's system catalogs (pg_catalog, information_schema) as relations the SQL engine
runs queries over, generated live from the statement's catalog snapshot and the cluster.

Clients (psql, SQLAlchemy, pgJDBC, asyncpg ...) learn about a database by querying these
relations with joins, subqueries, regclass casts and catalog functions; the engine plans
and runs those queries like any other, so they work unchanged. The pieces:

    registry   which system relations exist, their columns (PostgreSQL 15's, pgdata.py),
               and name resolution (pg_catalog first, as PostgreSQL searches it)
    model      what the catalogs hold for one catalog snapshot: OIDs, constraints, defaults
    builders   the rows of the base relations (pg_class, pg_attribute, pg_type ...)
    views      relations defined as SQL over the base ones (pg_tables, information_schema)
    deparse    SQL text of defaults, checks, indexes and views (pg_get_expr & co.)
    resolver   regclass / regtype / regproc / regnamespace / regrole lookups

The planner calls three functions: `find_relation` (name resolution), `attach` (at the
start of a statement: the reg* resolver follows it) and `plan_scan` (FROM a system
relation). Catalog functions (pg_get_indexdef, has_table_privilege ...) live in
planner/fn_catalog.py.
"""

from __future__ import annotations

from ... import errors
from .. import casts, textio
from .. import types as T


def _register_casts() -> None:
    """pg_cast rows of the reg* types the catalog added (regrole, regprocedure, regoper,
    regoperator), as PostgreSQL 15 has them: from oid and the integers implicitly, back to
    oid implicitly, to int4 / int8 on assignment."""
    for t in (T.REGROLE, T.REGPROCEDURE, T.REGOPER, T.REGOPERATOR):
        for src in (T.OID, T.INT2, T.INT4, T.INT8):
            casts.CAST_CONTEXT.setdefault((src.oid, t.oid), 0)
        casts.CAST_CONTEXT.setdefault((t.oid, T.OID.oid), 0)
        casts.CAST_CONTEXT.setdefault((t.oid, T.INT4.oid), 1)
        casts.CAST_CONTEXT.setdefault((t.oid, T.INT8.oid), 1)
    casts.CAST_CONTEXT.setdefault((T.PG_NODE_TREE.oid, T.TEXT.oid), 0)  # binary coercible


_register_casts()


def find_relation(ctx, name, kinds=None):
    """The relation (user or system) `name` denotes for this statement, or None."""
    from .registry import find
    return find(ctx.catalog, name, ctx.search_path, kinds, ctx.session.database)


def attach(ctx) -> None:
    """Point the session's reg* resolver at this statement (its catalog and path)."""
    from .resolver import Resolver
    fctx = ctx.fctx
    resolver = fctx.resolver
    if not isinstance(resolver, Resolver):
        resolver = fctx.resolver = Resolver()
    resolver.bind(ctx)
    textio.CURRENT_RESOLVER.set(resolver)


def is_system(rel) -> bool:
    from .registry import SystemRelation
    return isinstance(rel, SystemRelation)


_PARSED: dict = {}


def view_query(rel):
    """The parsed query of a system view (parsed once per process)."""
    q = _PARSED.get(rel.id)
    if q is None:
        from ...parser import parse
        (q,) = parse(rel.view_sql)
        _PARSED[rel.id] = q
    return q


def plan_scan(fplanner, ref, rel, outer):
    """(operator, scope columns) for a system relation in FROM."""
    from .. import casts, ops
    from ..scope import ScopeColumn
    from .builders import rows_for
    if ref.as_of is not None or ref.history:
        raise errors.FeatureNotSupported(
            f'time travel on system catalog "{rel.name}": catalogs have no history')
    alias = ref.alias or rel.name
    names = [c.name for c in rel.columns]
    for i, new in enumerate(ref.column_aliases[:len(names)]):
        names[i] = new
    types_ = [c.type for c in rel.columns]
    ctx = fplanner.ctx
    label = f"System Scan on {rel.name}" + (f" {alias}" if alias != rel.name else "")
    if rel.view_sql is not None:
        plan = fplanner.qp.plan_query(view_query(rel), None)
        op = plan.op
        got = [c.type for c in plan.columns]
        if got != types_:  # the declared (PostgreSQL's) column types win
            fns = []
            for i, (g, want) in enumerate(zip(got, types_)):
                if g == want:
                    fns.append(lambda row, i=i: row[i])
                else:
                    fns.append(lambda row, i=i, g=g, w=want:
                               None if row[i] is None else casts.cast(row[i], g, w))
            op = ops.Project(op, fns)
        op = ops.FunctionScan(lambda op=op: iter(op), len(types_), label)
        op.children = [plan.op]
    else:
        op = ops.FunctionScan(lambda: iter(rows_for(ctx, rel)), len(types_), label)
    cols = [ScopeColumn(alias, n, t, schema=rel.schema, table_id=rel.id, column_id=c.id)
            for n, t, c in zip(names, types_, rel.columns)]
    return op, cols
