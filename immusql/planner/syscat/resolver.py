"""The reg* types' catalog lookups: 'accounts'::regclass -> OID and back.

textio calls `resolver(kind, value)` for regclass, regtype, regnamespace, regproc,
regprocedure and regrole input (a str: the OID, or PostgreSQL's error) and output (an int:
the name to print, schema-qualified when the search path would not find it, or None to
print the number). One Resolver per session follows its current statement (`bind`), so
names resolve against that statement's catalog snapshot and search path (and results are
printed, after the statement, with the catalog it ran against).
"""

from __future__ import annotations

from ... import errors
from ...parser import ast
from .. import types as T
from ..fn_text import quote_ident
from . import pgdata, registry
from .model import model_of

InvalidSchemaName = errors.InvalidSchemaName  # raised here before errors.py had it


def split_name(text: str) -> tuple[str, ...]:
    """An identifier chain as SQL reads it: unquoted parts fold to lower case,
    "quoted" parts keep case and may contain dots."""
    parts, buf, i, n = [], [], 0, len(text)
    quoted_part = False
    while i < n:
        c = text[i]
        if c == '"':
            quoted_part = True
            i += 1
            while i < n:
                if text[i] == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        buf.append('"')
                        i += 2
                        continue
                    break
                buf.append(text[i])
                i += 1
            else:
                raise errors.InvalidTextRepresentation("invalid name syntax")
            i += 1
        elif c == ".":
            parts.append("".join(buf) if quoted_part else "".join(buf).strip().lower())
            buf, quoted_part = [], False
            i += 1
        else:
            buf.append(c)
            i += 1
    parts.append("".join(buf) if quoted_part else "".join(buf).strip().lower())
    if any(p == "" for p in parts):
        raise errors.InvalidTextRepresentation("invalid name syntax")
    return tuple(parts)


_PROC_BY_NAME: dict[str, list] = {}
_PROC_BY_OID: dict[int, tuple] = {}
for _p in pgdata.PROCS:
    _PROC_BY_NAME.setdefault(_p[1], []).append(_p)
    _PROC_BY_OID[_p[0]] = _p


def proc_by_oid(oid: int):
    return _PROC_BY_OID.get(oid)


def procs_named(name: str) -> list:
    return _PROC_BY_NAME.get(name, [])


class Resolver:
    """resolver(kind, value) for textio, bound to the session's current statement."""

    def __init__(self):
        self._ctx = None

    def bind(self, ctx) -> None:
        # a strong reference: results are formatted (regclass -> name) after the
        # statement ran, with the catalog it ran against
        self._ctx = ctx

    def statement(self):
        ctx = self._ctx
        if ctx is None:
            raise errors.FeatureNotSupported("catalog lookups need a running statement")
        return ctx

    def __call__(self, kind: str, value):
        ctx = self.statement()
        if isinstance(value, int):
            return name_of(ctx, kind, value)
        return oid_of(ctx, kind, value)


# ---------------------------------------------------------------------- name -> OID --

def oid_of(ctx, kind: str, text: str) -> int:
    if kind == "regclass":
        return regclass_oid(ctx, text)
    if kind == "regtype":
        return regtype_oid(ctx, text)
    if kind == "regnamespace":
        parts = split_name(text)
        if len(parts) != 1:
            raise errors.InvalidTextRepresentation("invalid name syntax")
        oid = model_of(ctx.catalog).ns_oid.get(parts[0])
        if oid is None:
            raise InvalidSchemaName(f'schema "{parts[0]}" does not exist')
        return oid
    if kind in ("regproc", "regprocedure"):
        return regproc_oid(text, kind == "regprocedure")
    if kind == "regrole":
        parts = split_name(text)
        oid = role_oid(ctx, parts[-1])
        if oid is None or len(parts) != 1:
            raise errors.UndefinedObject(f'role "{parts[-1]}" does not exist')
        return oid
    raise errors.FeatureNotSupported(f"{kind} input is not supported")


def find_relation_oid(ctx, parts: tuple[str, ...]) -> int | None:
    rel = registry.find(ctx.catalog, ast.Name(parts), ctx.search_path,
                        database=ctx.session.database)
    if rel is not None:
        return rel.id
    if len(parts) > 2:
        return None
    path = (parts[0],) if len(parts) == 2 else registry.effective_path(ctx.search_path)
    got = ctx.catalog.find_index(ast.Name((parts[-1],)), path)
    return got[1].id if got is not None else None


def regclass_oid(ctx, text: str) -> int:
    parts = split_name(text)
    oid = find_relation_oid(ctx, parts)
    if oid is None:
        raise errors.UndefinedTable(f'relation "{text.strip()}" does not exist')
    return oid


def regtype_oid(ctx, text: str) -> int:
    try:
        return T.parse_type_string(text).oid
    except errors.UndefinedObject:
        pass
    s = text.strip()
    array = s.endswith("[]")
    parts = split_name(s[:-2] if array else s)
    rel = registry.find(ctx.catalog, ast.Name(parts), ctx.search_path,
                        database=ctx.session.database)
    if rel is not None:
        if isinstance(rel, registry.SystemRelation):
            return rel.rowtype_array if array else rel.reltype
        pair = model_of(ctx.catalog).rowtype.get(rel.id)
        if pair is not None:
            return pair[1] if array else pair[0]
    raise errors.UndefinedObject(f'type "{s}" does not exist')


def regproc_oid(text: str, with_args: bool) -> int:
    s = text.strip()
    args = None
    if "(" in s:
        s, _, rest = s.partition("(")
        inner = rest.rsplit(")", 1)[0].strip()
        args = tuple(T.parse_type_string(a).oid for a in inner.split(",")) if inner else ()
    elif with_args:
        raise errors.InvalidTextRepresentation("expected a left parenthesis")
    parts = split_name(s)
    if len(parts) == 2 and parts[0] not in ("pg_catalog", "information_schema"):
        raise errors.UndefinedFunction(f'function "{text.strip()}" does not exist')
    cands = procs_named(parts[-1])
    if args is not None:
        cands = [p for p in cands if tuple(p[19]) == args]
    if not cands:
        raise errors.UndefinedFunction(f'function "{text.strip()}" does not exist')
    if len(cands) > 1:
        raise errors.AmbiguousFunction(f'more than one function named "{text.strip()}"')
    return cands[0][0]


def roles_of(ctx) -> list[tuple[int, str]]:
    out = [(r.oid, r.name) for r in ctx.session.cluster.roles()]
    names = {n for _, n in out}
    out += [(oid, name) for oid, name in pgdata.PREDEFINED_ROLES if name not in names]
    return out


def role_oid(ctx, name: str) -> int | None:
    for oid, n in roles_of(ctx):
        if n == name:
            return oid
    return None


def role_name(ctx, oid: int) -> str | None:
    for o, n in roles_of(ctx):
        if o == oid:
            return n
    return None


# ---------------------------------------------------------------------- OID -> name --

def name_of(ctx, kind: str, oid: int) -> str | None:
    if kind == "regclass":
        return regclass_name(ctx, oid)
    if kind == "regtype":
        rel = rowtype_relation(ctx, oid)
        if rel is None:
            name = _type_name(oid)
            return None if name == str(oid) else name
        name = _visible_name(ctx, rel)
        array = (rel.rowtype_array == oid if isinstance(rel, registry.SystemRelation)
                 else model_of(ctx.catalog).rowtype[rel.id][1] == oid)
        return name + ("[]" if array else "")
    if kind == "regnamespace":
        for ns_oid, name, _ in model_of(ctx.catalog).namespaces:
            if ns_oid == oid:
                return quote_ident(name)
        return None
    if kind in ("regproc", "regprocedure"):
        p = _PROC_BY_OID.get(oid)
        if p is None:
            name = pgdata.REGPROC_NAMES.get(oid)
            return name
        if kind == "regproc":
            return p[1]
        return f"{p[1]}({','.join(_type_name(t) for t in p[19])})"
    if kind == "regrole":
        name = role_name(ctx, oid)
        return quote_ident(name) if name is not None else None
    return None


_PSEUDO = {2249: "record", 2276: '"any"', 2277: "anyarray", 2278: "void", 2283: "anyelement",
           2776: "anynonarray", 5077: "anycompatible", 5078: "anycompatiblearray",
           705: "unknown"}


def _type_name(oid: int) -> str:
    """format_type(oid, NULL): the names of types functions take, pseudo-types too."""
    name = pgdata.TYPE_NAMES.get(oid) or _PSEUDO.get(oid)
    if name is not None:
        return name
    try:
        return T.regtype_name(T.type_by_oid(oid))
    except errors.Error:
        return str(oid)


def rowtype_relation(ctx, oid: int):
    for rel in registry.all_relations():
        if rel.reltype == oid or (rel.rowtype_array and rel.rowtype_array == oid):
            return rel
    return model_of(ctx.catalog).rowtype_rel.get(oid)


def regclass_name(ctx, oid: int) -> str | None:
    rel = registry.by_oid(oid)
    if rel is None:
        got = model_of(ctx.catalog).relation(oid)
        if got is None:
            return None
        rel, idx = got
        if idx is not None:
            return _qualified(ctx, rel.schema, idx.name)
    return _visible_name(ctx, rel)


def _visible_name(ctx, rel) -> str:
    return _qualified(ctx, rel.schema, rel.name)


def _qualified(ctx, schema: str, name: str) -> str:
    """Quoted name, schema-qualified unless the search path finds this object first."""
    for s in registry.effective_path(ctx.search_path):
        if s == schema:
            return quote_ident(name)
        if s in registry.SYSTEM_SCHEMAS:
            if registry.lookup(s, name) is not None:
                break
        elif ctx.catalog.find(ast.Name((s, name)), (s,)) is not None or \
                ctx.catalog.find_index(ast.Name((s, name)), (s,)) is not None:
            break
    return f"{quote_ident(schema)}.{quote_ident(name)}"
