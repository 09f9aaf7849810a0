"""Type names, normalised to PostgreSQL's canonical spelling, and typed literals.

`int4`, `INT` and `integer` all become TypeName('integer'); `timestamptz` becomes
'timestamp with time zone', `varchar(10)` 'character varying' with modifiers (10,), and so
on (PostgreSQL's format_type() names). serial, bigserial and smallserial are kept as written
so the planner can create their sequences. A quoted "char" is PostgreSQL's one-byte type
'char', distinct from CHAR, which is character(1). Interval qualifiers (`INTERVAL '1' DAY`,
`interval day to second`) are kept in TypeName.fields, since they change how the literal is
read.
"""

from __future__ import annotations

from .. import errors
from .ast import Cast, Literal, TypeName
from .common import PosType, TokenError, name_of

# Canonical names of PostgreSQL's built-in type aliases (as format_type() prints them).
_CANONICAL = {
    "int": "integer", "int4": "integer", "integer": "integer",
    "int2": "smallint", "smallint": "smallint",
    "int8": "bigint", "bigint": "bigint",
    "float4": "real", "real": "real",
    "float8": "double precision", "float": "double precision",
    "double precision": "double precision",
    "numeric": "numeric", "decimal": "numeric", "dec": "numeric",
    "bool": "boolean", "boolean": "boolean",
    "varchar": "character varying", "character varying": "character varying",
    "character": "character",
    "timestamp": "timestamp without time zone",
    "timestamptz": "timestamp with time zone",
    "time": "time without time zone",
    "timetz": "time with time zone",
    "varbit": "bit varying",
    "serial4": "serial", "serial8": "bigserial", "serial2": "smallserial",
}
_KEYWORD_TYPES = {"INT": "integer", "INTEGER": "integer", "SMALLINT": "smallint",
                  "BIGINT": "bigint", "REAL": "real", "BOOLEAN": "boolean"}


def canonical_type_name(name: str) -> str:
    """PostgreSQL's canonical name for a (lower-case, unqualified) type name."""
    return _CANONICAL.get(name, name)


def _generic(parts: tuple[str, ...], quoted: bool, modifiers: tuple[int, ...]) -> TypeName:
    """A type named by identifiers: pg_catalog.x and x are the same built-in type."""
    if len(parts) == 2 and parts[0] == "pg_catalog":
        parts = parts[1:]
    if len(parts) > 1:
        return TypeName(".".join(parts), modifiers)
    name = parts[0]
    if quoted and name == "char":
        return TypeName("char", modifiers)
    return TypeName(canonical_type_name(name), modifiers)


def _one(token) -> tuple[int, ...]:
    return () if token is None else (int(token),)


class TypeRules:
    """Transformer callbacks for type names and typed literals (`DATE '2024-01-01'`).

    The rules under `typename` return PosType (the type and where it starts), so that a
    typed literal can start where its type does; `typename` returns the TypeName alone."""

    def typename(self, c):
        (base, _), bounds = c
        if bounds is None:
            return base
        return TypeName(base.name, base.modifiers, bounds, base.fields)

    def typename_array_kw(self, c):
        base = c[0].type
        return TypeName(base.name, base.modifiers, 1, base.fields)

    def array_bounds(self, c):
        return sum(1 for t in c if t.type == "LSQB")

    def generic_type(self, c):
        tok, modifiers = c
        return PosType(_generic((name_of(tok),), tok.type == "QIDENT", modifiers or ()),
                       tok.start_pos)

    def qualified_type(self, c):
        tok, attrs, modifiers = c
        return PosType(_generic((name_of(tok), *attrs), False, modifiers or ()), tok.start_pos)

    def attrs(self, c):
        return [name_of(t) for t in c]

    def type_modifiers(self, c):
        return tuple(c)

    def modifier(self, c):
        return int(c[0])

    def neg_modifier(self, c):
        return -int(c[0])

    def numeric_type(self, c):
        return PosType(TypeName(_KEYWORD_TYPES[c[0].type]), c[0].start_pos)

    def float_type(self, c):
        tok, precision = c
        if precision is None:
            return PosType(TypeName("double precision"), tok.start_pos)
        bits = int(precision)
        if bits < 1:
            raise TokenError(precision.start_pos,
                             message="precision for type float must be at least 1 bit",
                             error_class=errors.InvalidParameterValue)
        if bits > 53:
            raise TokenError(precision.start_pos,
                             message="precision for type float must be less than 54 bits",
                             error_class=errors.InvalidParameterValue)
        return PosType(TypeName("real" if bits <= 24 else "double precision"), tok.start_pos)

    def double_type(self, c):
        return PosType(TypeName("double precision"), c[0].start_pos)

    def decimal_type(self, c):
        return PosType(TypeName("numeric", c[1] or ()), c[0].start_pos)

    def bit_type(self, c):
        tok, varying, length = c
        return PosType(TypeName("bit varying" if varying else "bit", _one(length)),
                       tok.start_pos)

    def character_type(self, c):
        tok, varying, length = c
        name = "character varying" if varying else "character"
        return PosType(TypeName(name, _one(length)), tok.start_pos)

    def varchar_type(self, c):
        return PosType(TypeName("character varying", _one(c[1])), c[0].start_pos)

    def datetime_type(self, c):
        tok, precision, with_zone = c
        zone = "with time zone" if with_zone else "without time zone"
        return PosType(TypeName(f"{name_of(tok)} {zone}", _one(precision)), tok.start_pos)

    def with_time_zone(self, c):
        return True

    def without_time_zone(self, c):
        return False

    def interval_type(self, c):
        tok, fields = c
        if fields is None:
            return PosType(TypeName("interval"), tok.start_pos)
        text, precision = fields
        return PosType(TypeName("interval", _one(precision), fields=text), tok.start_pos)

    def interval_p_type(self, c):
        return PosType(TypeName("interval", _one(c[1])), c[0].start_pos)

    def interval_fields(self, c):
        """(qualifier text such as 'day to second', seconds precision or None)."""
        words = [name_of(t) for t in c if t is not None and t.type != "ICONST"]
        precision = c[-1] if c[-1] is not None and c[-1].type == "ICONST" else None
        return " to ".join(words), precision

    # --- typed literals: a type name followed by a string constant
    def generic_typed_literal(self, c):
        fname, string = c
        typ = _generic(fname.name.parts, fname.quoted, ())
        return Cast(Literal(str(string), "string", pos=string.start_pos), typ, pos=fname.pos)

    def const_typed_literal(self, c):
        (typ, pos), string = c
        return Cast(Literal(str(string), "string", pos=string.start_pos), typ, pos=pos)

    def interval_literal(self, c):
        tok, string, fields = c
        typ = self.interval_type([tok, fields]).type
        return Cast(Literal(str(string), "string", pos=string.start_pos), typ,
                    pos=tok.start_pos)

    def interval_p_literal(self, c):
        tok, precision, string = c
        return Cast(Literal(str(string), "string", pos=string.start_pos),
                    TypeName("interval", _one(precision)), pos=tok.start_pos)
