"""Statement kind -> the module that runs it (a table, not an if/elif chain)."""

from __future__ import annotations

from .. import errors
from ..parser import ast
from . import ddl, dml, settings
from .select import QueryPlanner


def run_query(ctx, q: ast.Query):
    from .session import Result
    plan = QueryPlanner(ctx).plan_query(q)
    rows = plan.rows()
    return Result(f"SELECT {len(rows)}", plan.columns, rows, len(rows))


def run_explain(ctx, e: ast.Explain):
    from .select import OutputColumn
    from .session import Result
    from .types import TEXT
    stmt = e.statement
    if not isinstance(stmt, ast.Query):
        raise errors.FeatureNotSupported("EXPLAIN of data-modifying statements is not "
                                         "supported yet")
    plan = QueryPlanner(ctx).plan_query(stmt)
    lines = plan.op.explain()
    if e.analyze:
        import time
        t0 = time.perf_counter()
        n = len(plan.rows())
        lines.append(f"Execution Time: {(time.perf_counter() - t0) * 1000:.3f} ms ({n} rows)")
    return Result("EXPLAIN", [OutputColumn("QUERY PLAN", TEXT)], [(ln,) for ln in lines],
                  len(lines))


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
    ast.AlterTable: ddl.alter_table,
    ast.CreateView: ddl.create_view,
    ast.CreateSequence: ddl.create_sequence,
    ast.CreateSchema: ddl.create_schema,
    ast.SetVar: settings.set_var,
    ast.ShowVar: settings.show_var,
    ast.ResetVar: settings.reset_var,
    ast.Noop: run_noop,
}


def run_statement(ctx, stmt):
    handler = HANDLERS.get(type(stmt))
    if handler is None:
        raise errors.FeatureNotSupported(f"{type(stmt).__name__} is not supported")
    return handler(ctx, stmt)
