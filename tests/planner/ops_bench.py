"""Throughput of the physical operators over 1,000,000 simple rows.

    python tests/planner/ops_bench.py [rows]

Rows are (id int, grp int, x float, s str); each figure is input rows per second of the
whole pipeline (the Values scan is free: its rows already exist).
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ops_specs import COUNT_STAR, MAX, SUM  # noqa: E402

from immusql.planner.ops import (  # noqa: E402
    AggCall,
    Distinct,
    Filter,
    HashAggregate,
    HashJoin,
    Project,
    Sort,
    SortKey,
    Values,
    Window,
    WindowCall,
    col,
)


def timed(name, n, op):
    t = time.perf_counter()
    out = 0
    for _ in op:
        out += 1
    dt = time.perf_counter() - t
    print(f"{name:<52} {dt:6.2f} s  {n / dt / 1e6:5.2f} M rows/s  ({out} out)")


def main(n=1_000_000):
    rnd = random.Random(1)
    rows = [(i, rnd.randrange(1000), rnd.random(), f"s{rnd.randrange(n)}") for i in range(n)]
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    t = Values(rows, 4)
    x = col(2)
    timed("filter (x > 0.5) + project (id, x, x * 2)", n,
          Project(Filter(t, lambda r: r[2] > 0.5), [col(0), x, lambda r: r[2] * 2]))
    timed("sort by x (float)", n, Sort(t, [SortKey(x)]))
    timed("sort by s (text)", n, Sort(t, [SortKey(col(3))]))
    timed("sort by grp, x desc", n, Sort(t, [SortKey(col(1)), SortKey(x, True)]))
    timed("top-10 by x desc (Sort with limit)", n, Sort(t, [SortKey(x, True)], limit=10))
    timed("hash join 1M x 1M on id (inner, rows in = 2M)", 2 * n,
          HashJoin(t, Values(shuffled, 4), [col(0)], [col(0)], "inner"))
    small = Values(rows[:1000], 4)
    timed("hash join 1M probe x 1k build on grp = id", n,
          HashJoin(t, small, [col(1)], [col(0)], "inner"))
    timed("hash aggregate by grp: count(*), sum(x), max(s)", n,
          HashAggregate(t, [col(1)], [AggCall(COUNT_STAR, [], star=True),
                                      AggCall(SUM, [x]), AggCall(MAX, [col(3)])]))
    timed("hash aggregate by id (1M groups): count(*)", n,
          HashAggregate(t, [col(0)], [AggCall(COUNT_STAR, [], star=True)]))
    timed("distinct grp (1k distinct)", n, Distinct(Project(t, [col(1)])))
    timed("distinct whole rows (all distinct)", n, Distinct(t))
    timed("window row_number() over (partition by grp order by x)", n,
          Window(t, [col(1)], [SortKey(x)], [WindowCall("row_number")]))
    timed("window sum(x) over (partition by grp order by x)", n,
          Window(t, [col(1)], [SortKey(x)], [WindowCall("sum", [x], spec=SUM)]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
