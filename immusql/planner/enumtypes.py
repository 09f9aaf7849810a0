"""User-defined enum types (CREATE TYPE ... AS ENUM): the type and its values.

Why a type object that carries its labels: row decoding, key encoding, input and output
all need the label table, and they only ever see a column's SqlType. The catalog builds
one `EnumType` per enum from its label table (Catalog.enums) and gives it to every column
that uses the enum, so a changed label table (ALTER TYPE) reaches them all at once.

Values are `EnumValue`s: the label's stable OID (what rows store, like PostgreSQL's
pg_enum row OID, so RENAME VALUE never rewrites rows), its label and its sort order
(PostgreSQL's enumsortorder: comparisons, ORDER BY, MIN/MAX and index keys use it).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import InvalidTextRepresentation
from . import types as T


class EnumValue(str):
    """One enum value: a str (its label, so DB-API users get what psycopg gives them) that
    is equal to another enum value by (type, label OID) and ordered by sort order."""

    def __new__(cls, typid: int, id: int, label: str, order: float):
        self = str.__new__(cls, label)
        self.typid, self.id, self.order = typid, id, order
        return self

    @property
    def label(self) -> str:
        return str.__str__(self)

    def __eq__(self, other):
        if isinstance(other, EnumValue):
            return other.typid == self.typid and other.id == self.id
        return str.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = str.__hash__

    def __lt__(self, other):
        return self.order < other.order if isinstance(other, EnumValue) else \
            str.__lt__(self, other)

    def __le__(self, other):
        return self.order <= other.order if isinstance(other, EnumValue) else \
            str.__le__(self, other)

    def __gt__(self, other):
        return self.order > other.order if isinstance(other, EnumValue) else \
            str.__gt__(self, other)

    def __ge__(self, other):
        return self.order >= other.order if isinstance(other, EnumValue) else \
            str.__ge__(self, other)

    def __repr__(self):
        return f"EnumValue({self.label!r})"

    def __reduce__(self):
        return (EnumValue, (self.typid, self.id, self.label, self.order))


@dataclass(frozen=True)
class EnumType(T.SqlType):
    """An enum type: typcategory 'E'; `labels` is ((label OID, label, sortorder), ...)
    in sort order; `typarray` the OID of its array type."""

    schema: str = "public"
    typarray: int = 0
    labels: tuple = ()
    comment: str | None = None  # COMMENT ON TYPE

    @property
    def array_oid(self) -> int:
        return self.typarray

    def values(self) -> list[EnumValue]:
        return [EnumValue(self.oid, i, lab, o) for i, lab, o in self.labels]

    def by_label(self, label: str) -> EnumValue:
        for i, lab, o in self.labels:
            if lab == label:
                return EnumValue(self.oid, i, lab, o)
        raise InvalidTextRepresentation(
            f'invalid input value for enum {self.name}: "{label}"')

    def by_id(self, label_id: int) -> EnumValue:
        for i, lab, o in self.labels:
            if i == label_id:
                return EnumValue(self.oid, i, lab, o)
        raise InvalidTextRepresentation(f"invalid internal value for enum: {label_id}")


def is_enum(t) -> bool:
    return isinstance(t, EnumType)


def make_enum(oid: int, schema: str, name: str, typarray: int, labels,
              comment: str | None = None) -> EnumType:
    ordered = tuple(sorted((tuple(x) for x in labels), key=lambda x: x[2]))
    return EnumType(name, oid, -1, None, "E", False, schema, typarray, ordered, comment)


def float4(x: float) -> float:
    """x rounded to float4, as pg_enum.enumsortorder (a real) holds it."""
    return struct.unpack(">f", struct.pack(">f", x))[0]


class UserTypes:
    """The enum types a statement sees (its catalog and search_path): what type names and
    OIDs resolve to beyond the built-in types (types.USER_TYPES holds one)."""

    def __init__(self, ctx):
        self.ctx = ctx

    def _enums(self) -> dict:
        return getattr(self.ctx.catalog, "enums", None) or {}

    def by_oid(self, oid: int):
        enums = self._enums()
        t = enums.get(oid)
        if t is not None:
            return t
        for e in enums.values():
            if e.typarray == oid:
                return T.array_of(e)
        return None

    def by_name(self, name: str):
        parts = name.split(".") if not name.startswith('"') else [name.strip('"')]
        enums = self._enums().values()
        if len(parts) == 2:
            schemas = (parts[0],)
        elif len(parts) == 1:
            schemas = tuple(self.ctx.search_path)
        else:
            return None
        for s in schemas:
            for e in enums:
                if e.schema == s and e.name == parts[-1]:
                    return e
        return None
