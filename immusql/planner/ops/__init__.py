"""Physical query operators: pure, storage-free, pull-based iterators over rows.

A row is a tuple of Python values (NULL is None). Every operator has `columns` (output
width), `children`, `explain() -> list[str]` and an optional `label` for EXPLAIN, and is
iterated to run it (again on every iteration). Row-level expressions are callables
`fn(row) -> value` compiled by the planner; `col(i)` (an itemgetter) is the fast column
reference. One family per module:

    basic      Values, FunctionScan, Filter, Project, Limit, Append, Materialize
    sort       SortKey, Sort (top-N with limit), sort_rows
    join       HashJoin, NestedLoopJoin (also LATERAL)
    aggregate  AggCall, HashAggregate, GroupAggregate
    distinct   Distinct, DistinctOn
    setop      SetOp (UNION / INTERSECT / EXCEPT [ALL])
    window     WindowCall, Window
    frames     Frame (ROWS / RANGE / GROUPS, EXCLUDE), partitions, peer groups, frame bounds
    recursive  RecursiveUnion (WITH RECURSIVE)
    canon      canonical hash keys and sort keys (NaN, -0.0, arrays)
"""

from .aggregate import AggCall, GroupAggregate, HashAggregate
from .base import Operator, col
from .basic import Append, Filter, FunctionScan, Limit, Materialize, Project, Values
from .distinct import Distinct, DistinctOn
from .frames import Frame
from .join import HashJoin, NestedLoopJoin
from .recursive import RecursiveUnion
from .setop import SetOp
from .sort import Sort, SortKey, sort_rows
from .window import Window, WindowCall

__all__ = ["AggCall", "Append", "Distinct", "DistinctOn", "Filter", "Frame", "FunctionScan",
           "GroupAggregate", "HashAggregate", "HashJoin", "Limit", "Materialize",
           "NestedLoopJoin", "Operator", "Project", "RecursiveUnion", "SetOp", "Sort",
           "SortKey", "Values", "Window", "WindowCall", "col", "sort_rows"]
