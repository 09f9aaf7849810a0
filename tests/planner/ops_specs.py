"""Stand-in aggregate specs for the operator tests and benchmark (init/step/final/strict),
so those do not depend on the planner's functions module."""

from __future__ import annotations


class Spec:
    """An aggregate spec from three functions."""

    def __init__(self, name, init, step, final=lambda s: s, strict=True, inverse=None):
        self.name, self.init, self.step, self.final = name, init, step, final
        self.strict = strict
        if inverse is not None:
            self.inverse = inverse

    def __repr__(self):
        return f"<spec {self.name}>"


def _min(s, x):
    return x if s is None or x < s else s


def _max(s, x):
    return x if s is None or x > s else s


def _sum(s, x):
    return x if s is None else s + x


def _append(s, x):
    s.append(x)  # mutates its state in place, like a real array_agg may
    return s


COUNT_STAR = Spec("count(*)", lambda: 0, lambda s: s + 1, strict=False)
COUNT = Spec("count", lambda: 0, lambda s, x: s + 1)
SUM = Spec("sum", lambda: None, _sum)
MIN = Spec("min", lambda: None, _min)
MAX = Spec("max", lambda: None, _max)
# array_agg is not strict: NULL inputs are collected; no rows -> NULL
ARRAY_AGG = Spec("array_agg", list, _append, final=lambda s: s or None, strict=False)
# sum with an inverse transition (PostgreSQL's moving-aggregate support); state (sum, n)
MSUM = Spec("msum", lambda: (0, 0), lambda s, x: (s[0] + x, s[1] + 1),
            final=lambda s: s[0] if s[1] else None,
            inverse=lambda s, x: (s[0] - x, s[1] - 1))
