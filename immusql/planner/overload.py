"""PostgreSQL's operator and function overload resolution (typeconv-oper / typeconv-func).

Why: `1 + 2.5` is numeric, `'1' + 2` is integer, `2 ^ 3` is double precision, and
`length('x')` picks length(text) — all decided by the same candidate-narrowing algorithm
(func_select_candidate in parse_func.c). Operators and functions share it; each
candidate is a tuple of declared argument types. Polymorphic candidates use the markers
ANYELEMENT / ANYARRAY / ANY (resolved per PostgreSQL's rules: an unknown literal next to
an array takes its element type).
"""

from __future__ import annotations

from .casts import IMPLICIT, can_cast
from .types import TEXT, UNKNOWN, SqlType, array_of

# Pseudo-types for polymorphic signatures (never values' types).
ANYELEMENT = SqlType("anyelement", 2283, -1, None, "P")
ANYARRAY = SqlType("anyarray", 2277, -1, None, "P")
ANYNONARRAY = SqlType("anynonarray", 2776, -1, None, "P")
ANY = SqlType('"any"', 2276, -1, None, "P")
ANYCOMPATIBLE = SqlType("anycompatible", 5077, -1, None, "P")
ANYCOMPATIBLEARRAY = SqlType("anycompatiblearray", 5078, -1, None, "P")
POLY = {ANYELEMENT.oid, ANYARRAY.oid, ANYNONARRAY.oid, ANY.oid, ANYCOMPATIBLE.oid,
        ANYCOMPATIBLEARRAY.oid}


def _poly_bind(args: tuple[SqlType, ...], params: tuple[SqlType, ...]):
    """Concrete parameter types for a polymorphic signature, or None if it cannot
    apply (PostgreSQL's enforce_generic_type_consistency, simplified)."""
    elem: SqlType | None = None
    for a, p in zip(args, params):
        if a.oid == UNKNOWN.oid:
            continue
        if p.oid in (ANYELEMENT.oid, ANYNONARRAY.oid, ANYCOMPATIBLE.oid):
            if p.oid == ANYNONARRAY.oid and a.element is not None:
                return None
            cand = a.base
        elif p.oid in (ANYARRAY.oid, ANYCOMPATIBLEARRAY.oid):
            if a.element is None:
                return None
            cand = a.element.base
        else:
            continue
        if elem is None:
            elem = cand
        elif cand != elem:
            if p.oid in (ANYCOMPATIBLE.oid, ANYCOMPATIBLEARRAY.oid) or True:
                if can_cast(cand, elem, IMPLICIT) and not can_cast(elem, cand, IMPLICIT):
                    continue
                if can_cast(elem, cand, IMPLICIT):
                    elem = cand
                    continue
            return None
    if elem is None:
        if any(p.oid in (ANYELEMENT.oid, ANYARRAY.oid, ANYNONARRAY.oid, ANYCOMPATIBLE.oid,
                         ANYCOMPATIBLEARRAY.oid) for p in params):
            # only unknown literals: PostgreSQL resolves anyelement as text
            elem = TEXT
        else:
            elem = None
    if elem is not None and elem.element is not None and any(
            p.oid in (ANYARRAY.oid, ANYCOMPATIBLEARRAY.oid) for p in params):
        return None  # no arrays of arrays
    out = []
    for a, p in zip(args, params):
        if p.oid in (ANYELEMENT.oid, ANYNONARRAY.oid, ANYCOMPATIBLE.oid):
            out.append(elem)
        elif p.oid in (ANYARRAY.oid, ANYCOMPATIBLEARRAY.oid):
            out.append(array_of(elem))
        elif p.oid == ANY.oid:
            out.append(a)
        else:
            out.append(p)
    return tuple(out), elem


def resolve(args: tuple[SqlType, ...], candidates):
    """Choose among `candidates` (list of (param_types, payload)) for argument types
    `args`. Returns (concrete_param_types, payload, poly_elem) or None if nothing fits;
    raises _Ambiguous if several remain."""
    nargs = len(args)
    viable = []
    for params, payload in candidates:
        if len(params) != nargs:
            continue
        concrete = params
        elem = None
        if any(p.oid in POLY for p in params):
            bound = _poly_bind(args, params)
            if bound is None:
                continue
            concrete, elem = bound
        if all(a.oid == UNKNOWN.oid or a.base == p.base or can_cast(a, p, IMPLICIT)
               for a, p in zip(args, concrete)):
            viable.append((concrete, payload, elem, params))
    if not viable:
        return None
    # exact match
    exact = [v for v in viable if all(a.base == p.base for a, p in zip(args, v[3]))]
    if len(exact) == 1:
        return exact[0][:3]
    if len(viable) == 1:
        return viable[0][:3]
    # unknowns treated as the other known argument's type (binary operators)
    known = [a for a in args if a.oid != UNKNOWN.oid]
    if len(args) == 2 and len(known) == 1:
        same = [v for v in viable if all(p.base == known[0].base for p in v[3])]
        if len(same) == 1:
            return same[0][:3]
    # most exact matches on known inputs; like PostgreSQL, against the declared types,
    # so a polymorphic parameter never matches exactly (varchar || varchar is text || text)
    def count(v, pred):
        return sum(1 for a, p in zip(args, v[3]) if a.oid != UNKNOWN.oid and pred(a, p))

    best = _keep_max(viable, lambda v: count(v, lambda a, p: a.base == p.base))
    if len(best) == 1:
        return best[0][:3]
    # most preferred types at positions needing conversion
    best2 = _keep_max(best, lambda v: sum(1 for a, p in zip(args, v[3])
                                          if a.oid != UNKNOWN.oid and a.base != p.base
                                          and p.preferred))
    if len(best2) == 1:
        return best2[0][:3]
    best = best2
    # unknown-typed inputs: prefer string category, else the category all candidates share
    if any(a.oid == UNKNOWN.oid for a in args):
        keep = best
        for i, a in enumerate(args):
            if a.oid != UNKNOWN.oid:
                continue
            cats = {v[3][i].category for v in keep}
            if "S" in cats:
                chosen = "S"
            elif len(cats) == 1:
                chosen = cats.pop()
            else:
                return _maybe_same(args, keep)
            narrowed = [v for v in keep if v[3][i].category == chosen]
            pref = [v for v in narrowed if v[3][i].preferred]
            keep = pref or narrowed
        if len(keep) == 1:
            return keep[0][:3]
        best = keep
    return _maybe_same(args, best)


class Ambiguous(Exception):
    pass


def _maybe_same(args, best):
    # if some unknown and known inputs all share a type, pick candidates taking it there
    known = {a.base for a in args if a.oid != UNKNOWN.oid}
    if len(known) == 1:
        k = known.pop()
        same = [v for v in best if all(p.base == k or a.oid != UNKNOWN.oid
                                       for a, p in zip(args, v[0]))]
        if len(same) == 1:
            return same[0][:3]
    raise Ambiguous()


def _keep_max(items, score):
    scores = [score(v) for v in items]
    top = max(scores)
    return [v for v, s in zip(items, scores) if s == top]
