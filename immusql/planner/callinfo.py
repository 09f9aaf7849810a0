"""What the planner needs to know about a function name before resolving its overload."""

from __future__ import annotations

from . import functions

WINDOW_ONLY = frozenset({"row_number", "rank", "dense_rank", "percent_rank", "cume_dist",
                         "ntile", "lag", "lead", "first_value", "last_value", "nth_value"})


def is_aggregate(name: str) -> bool:
    functions._ensure_loaded()
    from .aggregates import _SIGS
    return name.lower() in _SIGS


def is_window_only(name: str) -> bool:
    return name.lower() in WINDOW_ONLY


def is_set_returning(name: str) -> bool:
    """Set-returning (and not also a plain function of the same name)."""
    functions._ensure_loaded()
    n = name.lower()
    return n in functions._SRFS and n not in functions._FUNCS
