"""Named arguments in function calls: make_interval(days => 3), the older `days := 3`.

Why: PostgreSQL matches `name => value` against the parameter names in pg_proc and
fills omitted parameters from their defaults. The registry (functions.py) only knows
positional signatures, so a call with named arguments is rewritten here, before overload
resolution, into a positional one for the built-ins that have parameter names.
"""

from __future__ import annotations

from ..errors import UndefinedFunction
from ..parser import ast

_ZERO = ast.Literal(0, "integer")
_ZERO_F = ast.Literal("0.0", "numeric")

# function -> ((parameter name, default expression or None), ...), as in pg_proc
PARAMETERS = {
    "make_interval": (("years", _ZERO), ("months", _ZERO), ("weeks", _ZERO),
                      ("days", _ZERO), ("hours", _ZERO), ("mins", _ZERO),
                      ("secs", _ZERO_F)),
    "make_date": (("year", None), ("month", None), ("day", None)),
    "make_time": (("hour", None), ("min", None), ("sec", None)),
    "make_timestamp": (("year", None), ("month", None), ("mday", None), ("hour", None),
                       ("min", None), ("sec", None)),
    "make_timestamptz": (("year", None), ("month", None), ("mday", None), ("hour", None),
                         ("min", None), ("sec", None), ("timezone", None)),
    "jsonb_set": (("jsonb_in", None), ("path", None), ("replacement", None),
                  ("create_if_missing", None)),
}


def positional(name: str, args, describe) -> tuple:
    """`args` (some ast.NamedArg) in parameter order; trailing omitted parameters are
    left out when they have defaults (the positional signatures cover them).
    `describe()` gives the call's signature text for the error when nothing matches."""
    params = PARAMETERS.get(name)
    if params is None:
        raise _undefined(name, describe)
    names = [p for p, _ in params]
    slots: list = [None] * len(params)
    for i, a in enumerate(args):
        if a.__class__ is not ast.NamedArg:
            if i >= len(params):
                raise _undefined(name, describe)
            slots[i] = a
            continue
        if a.name not in names or slots[names.index(a.name)] is not None:
            raise _undefined(name, describe)
        slots[names.index(a.name)] = a.value
    last = max(i for i, s in enumerate(slots) if s is not None)
    out = []
    for i in range(last + 1):
        if slots[i] is None:
            if params[i][1] is None:
                raise _undefined(name, describe)
            out.append(params[i][1])
        else:
            out.append(slots[i])
    return tuple(out)


def _undefined(name, describe):
    return UndefinedFunction(
        f"function {name}({describe()}) does not exist",
        hint="No function matches the given name and argument types. You might need to add "
             "explicit type casts.")
