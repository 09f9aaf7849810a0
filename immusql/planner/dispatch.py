"""Statement kind -> the module that runs it (a table, not an if/elif chain)."""

from __future__ import annotations

from .. import errors
from ..parser import ast
from . import alter_table, cursors, ddl, dml, enums, modifying_cte, settings, verify
from .select import QueryPlanner


def run_query(ctx, q: ast.Query):
    from .session import Result
    if modifying_cte.has_modifying(q):
        return modifying_cte.run_query(ctx, q)
    if ctx.describing:
        return Result("SELECT", QueryPlanner(ctx).plan_query(q).columns)
    plan = cached_plan(ctx, q)
    rows = plan.rows()
    return Result(f"SELECT {len(rows)}", plan.columns, rows, len(rows))


PLAN_CACHE_SIZE = 256


def cached_plan(ctx, q: ast.Query):
    """The plan of `q`, reused when the same simple query runs again in this session with
    the same catalog and parameter types (its parameters are read when it runs).

    Only queries whose plans hold no per-execution state are cached: one table or none,
    no subqueries, CTEs, time travel, or parameters in LIMIT/OFFSET.
    """
    key = _cache_key(ctx, q)
    cache = ctx.session.plans
    hit = cache.get(key) if key is not None else None
    if hit is not None and hit[0] is q:  # the key holds id(q): check it is still q
        _, pctx, plan = hit
        pctx.rebind(ctx)
        return plan
    plan = QueryPlanner(ctx).plan_query(q)
    if key is not None:
        if len(cache) >= PLAN_CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[key] = (q, ctx, plan)
    return plan


_CACHEABLE: dict = {}  # id(query) -> (query, plan may be cached): the AST never changes


def _cache_key(ctx, q: ast.Query):
    hit = _CACHEABLE.get(id(q))
    if hit is None or hit[0] is not q:
        if len(_CACHEABLE) > 4096:
            _CACHEABLE.clear()
        hit = _CACHEABLE[id(q)] = (q, _cacheable(q))
    if not hit[1]:
        return None
    try:
        types_ = tuple(ctx.param_type(i) for i in range(len(ctx.params)))
    except errors.Error:
        return None
    # the query by identity: parse_cached hands out one AST per text, and hashing the
    # whole tree on every execution cost more than planning's other checks; search_path
    # decides what names mean, TimeZone what literals and casts to timestamptz give
    return (id(q), ctx.catalog.version, id(ctx.catalog), types_, ctx.track_reads,
            ctx.search_path, ctx.timezone)


def _cacheable(q: ast.Query) -> bool:
    body = q.body
    if q.with_ or not isinstance(body, ast.Select) or len(body.from_) > 1:
        return False
    if body.from_ and not (isinstance(body.from_[0], ast.TableRef)
                           and body.from_[0].as_of is None and not body.from_[0].history):
        return False
    if any(isinstance(e, ast.Param) or _has(e, ast.Param) for e in (q.limit, q.offset)) \
            or _has(q, _SUBQUERIES) or _frame_param(q):  # $n read when planning
        return False
    return True


_SUBQUERIES = (ast.SubqueryExpr, ast.Exists, ast.InSubquery, ast.ArraySubquery, ast.Query,
               ast.SubqueryRef, ast.FunctionRef)


def _frame_param(node) -> bool:
    """A window frame offset holding a parameter (ROWS $1 PRECEDING): planning reads it."""
    from .walk import children
    for c in children(node):
        if isinstance(c, ast.FrameBound) and c.offset is not None and (
                isinstance(c.offset, ast.Param) or _has(c.offset, ast.Param)):
            return True
        if _frame_param(c):
            return True
    return False


def _has(node, kinds) -> bool:
    from .walk import children
    if node is None:
        return False
    for c in children(node):
        if isinstance(c, kinds) or _has(c, kinds):
            return True
    return False


def max_param(node) -> int:
    """The highest $n anywhere in a statement (0: none)."""
    from .walk import children
    if isinstance(node, ast.Param):
        return node.index
    return max((max_param(c) for c in children(node)), default=0)


def run_explain(ctx, e: ast.Explain):
    from .select import OutputColumn
    from .session import Result
    from .types import TEXT
    stmt = e.statement
    if not isinstance(stmt, ast.Query) or modifying_cte.has_modifying(stmt):
        raise errors.FeatureNotSupported("EXPLAIN of data-modifying statements is not "
                                         "supported yet")
    plan = QueryPlanner(ctx).plan_query(stmt)
    if ctx.describing:
        return Result("EXPLAIN", [OutputColumn("QUERY PLAN", TEXT)])
    lines = plan.op.explain()
    if e.analyze:
        import time
        t0 = time.perf_counter()
        n = len(plan.rows())
        lines.append(f"Execution Time: {(time.perf_counter() - t0) * 1000:.3f} ms ({n} rows)")
    return Result("EXPLAIN", [OutputColumn("QUERY PLAN", TEXT)], [(ln,) for ln in lines],
                  len(lines))


def run_cluster_statement(ctx, stmt):
    """Roles and databases live outside this database: the session's cluster runs them."""
    return ctx.session.cluster.execute(stmt, ctx.session)


def run_noop(ctx, n: ast.Noop):
    from .session import Result
    return Result(n.tag)


HANDLERS = {
    ast.Query: run_query,
    ast.Explain: run_explain,
    ast.Insert: dml.run_insert,
    ast.Update: dml.run_update,
    ast.Delete: dml.run_delete,
    ast.Truncate: dml.run_truncate,
    ast.CreateTable: ddl.create_table,
    ast.Drop: ddl.drop,
    ast.CreateIndex: ddl.create_index,
    ast.AlterTable: alter_table.alter_table,
    ast.Comment: ddl.comment,
    ast.CreateView: ddl.create_view,
    ast.CreateSequence: ddl.create_sequence,
    ast.CreateSchema: ddl.create_schema,
    ast.CreateEnum: enums.create_enum,
    ast.AlterType: enums.alter_type,
    ast.AlterSchema: ddl.alter_schema,
    ast.SetVar: settings.set_var,
    ast.ShowVar: settings.show_var,
    ast.ResetVar: settings.reset_var,
    ast.Noop: run_noop,
    ast.RoleStmt: run_cluster_statement,
    ast.DatabaseStmt: run_cluster_statement,
    ast.DatabaseGrant: run_cluster_statement,
    ast.DeclareCursor: cursors.declare,
    ast.FetchCursor: cursors.fetch,
    ast.CloseCursor: cursors.close,
    ast.VerifyRow: verify.run_verify_row,
    ast.VerifyTx: verify.run_verify_tx,
}


def run_statement(ctx, stmt):
    handler = HANDLERS.get(type(stmt))
    if handler is None:
        raise errors.FeatureNotSupported(f"{type(stmt).__name__} is not supported")
    return handler(ctx, stmt)
