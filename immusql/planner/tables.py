"""Rows and index entries of SQL tables as KV entries, and the scans that read them.

Key layout (inside the store's plain key space; docs/sql-format.md)::

    b"R" + u32(table id) + key(primary key values)            -> row value (rows.py)
    b"R" + u32(table id) + key((row id,))                     -> row value (no primary key)
    b"I" + u32(index id) + key(index values) [+ key(pk)]      -> key(pk)
    b"Q" + u32(sequence or table id)                          -> u64 reserved upper bound

A unique index entry carries the primary key only in its value, so the entry's key alone
decides uniqueness; an index entry of a non-unique index (or a unique one whose columns
hold a NULL, which never conflicts) appends the primary key to its key. Deleting a row
appends tombstones for its row key and every index entry: nothing is ever erased.
"""

from __future__ import annotations

import struct

from . import keys, rows
from .catalog import Relation
from .types import INT8, SqlType

ROW_PREFIX = b"R"
INDEX_PREFIX = b"I"
SEQUENCE_PREFIX = b"Q"
_U32 = struct.Struct(">I")

# pseudo-columns of every row version; _key is the row's KV key (what a proof names)
HIDDEN_COLUMNS = ("_tx", "_rev", "_deleted", "_key")


def row_prefix(table_id: int) -> bytes:
    return ROW_PREFIX + _U32.pack(table_id)


def index_prefix(index_id: int) -> bytes:
    return INDEX_PREFIX + _U32.pack(index_id)


def sequence_key(rel_id: int) -> bytes:
    return SEQUENCE_PREFIX + _U32.pack(rel_id)


class TableCodec:
    """Encodes and decodes one table's rows: tuples in column order <-> KV entries."""

    def __init__(self, rel: Relation):
        self.rel = rel
        self.ids = [c.id for c in rel.columns]
        self.types = {c.id: c.type for c in rel.columns}
        self.type_list = [c.type for c in rel.columns]
        self.prefix = row_prefix(rel.id)
        self.position = {c.id: i for i, c in enumerate(rel.columns)}
        if rel.primary_key:
            self.pk_slots = [self.position[c] for c in rel.primary_key]
            self.pk_types = tuple(self.types[c] for c in rel.primary_key)
        else:
            self.pk_slots = None
            self.pk_types = (INT8,)
        # expression/partial indexes: index -> IndexEval, made by the statement context
        # (compiling expressions needs it); see index_exprs.py
        self.make_eval = None
        self._evals: dict = {}

    def index_eval(self, index):
        ev = self._evals.get(index.id)
        if ev is None:
            ev = self._evals[index.id] = self.make_eval(index)
        return ev

    def pk_values(self, row: tuple, row_id: int | None = None) -> tuple:
        if self.pk_slots is None:
            return (row_id,)
        return tuple(row[i] for i in self.pk_slots)

    def key_of_pk(self, pk: tuple) -> bytes:
        return self.prefix + keys.encode_key(pk, self.pk_types)

    def encode(self, row: tuple) -> bytes:
        return rows.encode_row({cid: v for cid, v in zip(self.ids, row) if v is not None},
                               self.types)

    def decode(self, value: bytes) -> tuple:
        decode = self.__dict__.get("_decode")
        if decode is None:
            decode = self._decode = rows.row_decoder(self.ids, self.types)
        return decode(value)

    def row_id_of(self, key: bytes) -> int | None:
        """The hidden row id in a row key of a table without a primary key."""
        if self.pk_slots is not None:
            return None
        return keys.decode_key(key[len(self.prefix):], self.pk_types)[0]


def index_key(index, codec: TableCodec, row: tuple) -> tuple[tuple, tuple] | None:
    """(values, types) of a row's key in `index`; None when a partial index leaves the
    row out."""
    if index.plain:
        return (tuple(row[codec.position[c]] for c in index.columns),
                tuple(codec.types[c] for c in index.columns))
    ev = codec.index_eval(index)
    if not ev.covers(row):
        return None
    return ev.values(row), ev.types


def index_types(index, codec: TableCodec) -> tuple[SqlType, ...]:
    if index.plain:
        return tuple(codec.types[c] for c in index.columns)
    return codec.index_eval(index).types


def index_entry(rel: Relation, index, codec: TableCodec, row: tuple, pk_key: bytes
                ) -> tuple[bytes, bytes] | None:
    """(key, value) of a row's entry in `index` (None: a partial index leaves it out)."""
    got = index_key(index, codec, row)
    if got is None:
        return None
    values, types_ = got
    desc = index.descending or None
    body = index_prefix(index.id) + keys.encode_key(values, types_, desc)
    if index.unique and not any(v is None for v in values):
        return body, pk_key
    return body + pk_key, pk_key


def unique_probe(index, codec: TableCodec, row: tuple) -> bytes | None:
    """The key whose presence means a uniqueness conflict (None: NULLs never conflict,
    nor rows a partial index leaves out)."""
    got = index_key(index, codec, row)
    if got is None:
        return None
    values, types_ = got
    if any(v is None for v in values):
        return None
    return index_prefix(index.id) + keys.encode_key(values, types_, index.descending or None)
