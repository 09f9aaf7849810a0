"""Data-modifying statements in WITH, and WITH before INSERT / UPDATE / DELETE.

PostgreSQL semantics: each INSERT/UPDATE/DELETE in WITH runs exactly once, to completion,
whether or not anything reads its RETURNING rows; every part of the statement reads the
snapshot taken when it began (the main query sees a CTE's changes only through its
RETURNING rows); only the top-level statement's WITH may hold one (0A000 otherwise). The
session already makes each statement atomic, so a failure anywhere writes nothing.

How: the CTEs run eagerly, in order, as their WITH clause is registered; their RETURNING
rows become a materialised CTE. Meanwhile every table read goes through a frozen view of
the transaction (StatementContext.snapshot_tx) while writes go to the transaction itself.
"""

from __future__ import annotations

import contextlib
import dataclasses

from .. import errors
from ..parser import ast

DML = (ast.Insert, ast.Update, ast.Delete)


def is_modifying(cte: ast.CTE) -> bool:
    return isinstance(cte.query, DML)


def has_modifying(stmt) -> bool:
    """True if `stmt`'s own WITH clause holds an INSERT/UPDATE/DELETE."""
    return any(is_modifying(c) for c in getattr(stmt, "with_", ()))


def first_verb(stmt) -> str:
    """The command of the first data-modifying CTE (for read-only transaction errors)."""
    q = next(c.query for c in stmt.with_ if is_modifying(c))
    return type(q).__name__.upper()


@contextlib.contextmanager
def statement_snapshot(ctx):
    """Reads see the transaction as it is now until the block ends (nested: the outer
    snapshot stays)."""
    if ctx.snapshot_tx is not None or ctx.describing:
        yield
        return
    ctx.snapshot_tx = ctx.tx.frozen()
    try:
        yield
    finally:
        ctx.snapshot_tx = None


def run_query(ctx, q: ast.Query):
    """A SELECT whose WITH holds data-modifying statements."""
    from .select import QueryPlanner
    from .session import Result
    with statement_snapshot(ctx):
        ctx.modifying_with = q
        plan = QueryPlanner(ctx).plan_query(q)
        if ctx.describing:
            return Result("SELECT", plan.columns)
        rows = plan.rows()
    return Result(f"SELECT {len(rows)}", plan.columns, rows, len(rows))


def run_with(ctx, stmt, run):
    """INSERT/UPDATE/DELETE `stmt` with a WITH clause: register its CTEs (running the
    data-modifying ones), then `run` the statement without it."""
    from .select import QueryPlanner
    saved = dict(ctx.ctes)
    try:
        with statement_snapshot(ctx):
            planner = QueryPlanner(ctx)
            for cte in stmt.with_:
                planner._register_cte(cte, stmt.recursive, None, top=True)
            return run(ctx, dataclasses.replace(stmt, with_=()))
    finally:
        ctx.ctes = saved


def run_cte(planner, cte: ast.CTE, top: bool) -> None:
    """Run a data-modifying CTE now; its RETURNING rows are what the CTE name reads."""
    from . import dml, ops
    ctx = planner.ctx
    if not top or has_modifying(cte.query):
        raise errors.FeatureNotSupported("WITH clause containing a data-modifying "
                                          "statement must be at the top level")
    run = {ast.Insert: dml.run_insert, ast.Update: dml.run_update,
           ast.Delete: dml.run_delete}[type(cte.query)]
    with statement_snapshot(ctx):
        result = run(ctx, cte.query)
    if result.columns is None:  # no RETURNING: referencing it fails (select.plan_cte)
        ctx.ctes[cte.name] = ("lazy", cte, (False, None))
        return
    cols = planner._cte_columns(cte, result.columns)
    rows = list(result.rows)
    ctx.ctes[cte.name] = ("plan", cols, ops.FunctionScan(lambda: iter(rows), len(cols)))


def no_returning(cte: ast.CTE):
    return errors.FeatureNotSupported(f'WITH query "{cte.name}" does not have a RETURNING '
                                      "clause")
