"""immusql.planner: SQL on the verifiable store.

Catalog, types and values, expression compilation, query planning and execution, and the
sessions that run statements. Public surface: `Engine`, `Session`, `Result`.
"""

from .session import Engine, Result, Session

__all__ = ["Engine", "Session", "Result"]
