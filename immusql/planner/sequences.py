"""nextval / currval / setval / lastval: expressions that read and move sequences.

Sequences live in the engine (values reserved in blocks, never rolled back, as in
PostgreSQL); currval and lastval are per session.
"""

from __future__ import annotations

from .. import errors
from ..parser import ast
from . import types as T
from .compiled import Compiled
from .compiled import error_position as _pos


def sequence_call(self, n: ast.FuncCall):
    """nextval/currval/setval/lastval: they read and move sequences in the engine."""
    name = n.name.last
    args = [self._compile(a) for a in n.args]
    expected = {"nextval": 1, "currval": 1, "lastval": 0, "setval": (2, 3)}[name]
    if len(args) not in ((expected,) if isinstance(expected, int) else expected):
        types_ = ", ".join(T.format_type(a.type) for a in args)
        raise errors.UndefinedFunction(f"function {name}({types_}) does not exist",
                                       position=_pos(n))
    ctx = self.ctx
    session = ctx.session

    def sequence_of(value):
        if isinstance(value, int):
            rel = ctx.catalog.relations.get(value)
        else:
            parts = tuple(p.strip('"') for p in str(value).split("."))
            rel = ctx.catalog.find(ast.Name(parts), ctx.search_path)
            if rel is None:
                raise errors.UndefinedTable(f'relation "{value}" does not exist')
        if rel is None or rel.kind != "sequence":
            raise errors.WrongObjectType(f'"{getattr(rel, "name", value)}" is not a sequence')
        return rel

    fns = [a.fn for a in args]
    if name == "lastval":
        def fn(row):
            if session.last_sequence_value is None:
                raise errors.ObjectNotInPrerequisiteState("lastval is not yet defined in this session")
            return session.last_sequence_value
    elif name == "nextval":
        def fn(row):
            v = fns[0](row)
            if v is None:
                return None
            seq = sequence_of(v)
            value = ctx.engine.nextval(seq)
            session.sequence_values[seq.id] = session.last_sequence_value = value
            return value
    elif name == "currval":
        def fn(row):
            v = fns[0](row)
            if v is None:
                return None
            seq = sequence_of(v)
            if seq.id not in session.sequence_values:
                raise errors.ObjectNotInPrerequisiteState(
                    f'currval of sequence "{seq.name}" is not yet defined in this session')
            return session.sequence_values[seq.id]
    else:
        def fn(row):
            vals = [f(row) for f in fns]
            if any(v is None for v in vals):
                return None
            seq = sequence_of(vals[0])
            value = int(vals[1])
            called = bool(vals[2]) if len(vals) > 2 else True
            opts = seq.sequence
            if not opts.get("min", 1) <= value <= opts.get("max", (1 << 63) - 1):
                raise errors.NumericValueOutOfRange(
                    f'setval: value {value} is out of bounds for sequence "{seq.name}" '
                    f'({opts.get("min", 1)}..{opts.get("max", (1 << 63) - 1)})')
            inc = opts.get("increment", 1)
            ctx.engine.reset_sequence(seq, value if called else value - inc)
            if called:
                session.sequence_values[seq.id] = session.last_sequence_value = value
            return value
    return Compiled(fn, T.INT8, name=name)


