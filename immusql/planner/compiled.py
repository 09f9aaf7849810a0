"""A compiled expression: the closure a row is evaluated with, and what it produces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import types as T


@dataclass
class Compiled:
    fn: Callable[[tuple], object]
    type: T.SqlType
    const: bool = False
    value: object = None
    name: str = "?column?"  # the output column name PostgreSQL would give it
    pos: int | None = None  # a string literal's position: errors converting it point there


def constant(value, type_: T.SqlType, name: str = "?column?") -> Compiled:
    return Compiled(lambda row, v=value: v, type_, True, value, name)


def error_position(node) -> int | None:
    """The 1-based statement offset an error about `node` points at (PostgreSQL's
    ErrorResponse P field), or None when the node has no position."""
    p = getattr(node, "pos", -1)
    return p + 1 if p is not None and p >= 0 else None
