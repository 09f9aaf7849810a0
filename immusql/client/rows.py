"""Decoding what a VERIFY ROW proof proves, with nothing but docs/sql-format.md.

The client never takes the server's word for a row: it decodes the table definition from
the schema proof's catalog entry and the row from the row proof's entry, re-encodes the
primary key from the row's own values and compares it with the proven key, and compares
every column the server showed with the value decoded from the proven bytes
(docs/verify.md section 3, steps 3-5). Nothing here imports the SQL layer: the encodings
are re-implemented from the format documents, so a bug on one side shows up as a
mismatch instead of being shared.

Decoded values follow psycopg's conventions (int, Decimal, str, bytes, datetime, ...), so
they compare with what psycopg returns for the shown columns; `raw` keeps the exact
msgpack value of each column.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import struct
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import msgpack

from ..kv.hashing import is_deleted
from .errors import ClientError, TamperedError

__all__ = ["Column", "TableDef", "decode_definition", "decode_row", "row_key",
           "check_row", "RowCheck", "describe_entry", "TYPE_NAMES", "ARRAY_ELEMENT"]

CATALOG_PREFIX = b"\x00C"  # plain key space || "C" (sql-format.md, "Where SQL lives")
ROW_PREFIX = b"\x00R"
PLAIN = b"\x00"
ROW_FORMAT_VERSION = 0x01
_U32 = struct.Struct(">I")

# verify.md section 7
TYPE_NAMES = {16: "boolean", 17: "bytea", 18: '"char"', 19: "name", 20: "bigint",
              21: "smallint", 23: "integer", 24: "regproc", 25: "text", 26: "oid",
              114: "json", 700: "real", 701: "double precision", 1042: "character",
              1043: "character varying", 1082: "date", 1083: "time", 1114: "timestamp",
              1184: "timestamp with time zone", 1186: "interval",
              1266: "time with time zone", 1700: "numeric", 2205: "regclass",
              2206: "regtype", 2950: "uuid", 3802: "jsonb", 4089: "regnamespace"}
ARRAY_ELEMENT = {1000: 16, 1001: 17, 1002: 18, 1003: 19, 1005: 21, 1007: 23, 1016: 20,
                 1009: 25, 1015: 1043, 1014: 1042, 1021: 700, 1022: 701, 1231: 1700,
                 1182: 1082, 1115: 1114, 1185: 1184, 1183: 1083, 1187: 1186, 1270: 1266,
                 2951: 2950, 199: 114, 3807: 3802, 1028: 26}
_INTS = {20, 21, 23}
_OID_LIKE = {24, 26, 2205, 2206, 4089}
_REG = {24, 2205, 2206, 4089}  # shown by name over the wire: compared only as numbers
_TEXTS = {25, 1043, 1042, 19, 18}
_FLOATS = {700, 701}
_DATE_INF = {(1 << 31) - 1: "infinity", -(1 << 31): "-infinity"}
_TS_INF = {(1 << 63) - 1: "infinity", -(1 << 63): "-infinity"}
_EPOCH_DATE = dt.date(2000, 1, 1)
_EPOCH_TS = dt.datetime(1970, 1, 1)
_UTC = dt.timezone.utc


class _Unsupported(Exception):
    """A type this client cannot decode: its columns are reported as unchecked."""


# --------------------------------------------------------------------- definitions ----

@dataclass(frozen=True)
class Column:
    id: int
    name: str
    type_oid: int
    typmod: int

    @property
    def type_name(self) -> str:
        if self.type_oid in ARRAY_ELEMENT:
            return TYPE_NAMES.get(ARRAY_ELEMENT[self.type_oid], "?") + "[]"
        return TYPE_NAMES.get(self.type_oid, f"type {self.type_oid}")


@dataclass(frozen=True)
class TableDef:
    id: int
    schema: str
    name: str
    kind: str
    columns: tuple[Column, ...]
    pk: tuple[int, ...]  # column ids in key order; empty: hidden row id

    def column(self, cid: int) -> Column | None:
        return next((c for c in self.columns if c.id == cid), None)

    @property
    def pk_columns(self) -> tuple[Column, ...]:
        return tuple(self.column(c) for c in self.pk)


def _tampered(check: str, msg: str, tx_id=None) -> TamperedError:
    return TamperedError(check, msg, tx_id=tx_id)


def _unpack(data: bytes, what: str, check: str):
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as e:  # msgpack raises several unrelated classes
        raise _tampered(check, f"{what} is not one msgpack value: {e}") from None


@functools.lru_cache(maxsize=256)  # by the proven bytes: a definition decodes one way
def decode_definition(key: bytes, value: bytes, md: bytes) -> TableDef:
    """A relation descriptor from its proven catalog entry (sql-format.md "Catalog
    entries"): key `00 43 u32(id)`, value `00 || msgpack map`, not a tombstone."""
    if len(key) != 6 or not key.startswith(CATALOG_PREFIX):
        raise _tampered("schema", f"the schema proof's key {key.hex()} is not a catalog key")
    (rid,) = _U32.unpack(key[2:])
    if is_deleted(md):
        raise _tampered("schema", f"the schema proof proves that relation {rid} was dropped")
    if md:
        raise _tampered("schema", f"the catalog entry of relation {rid} has metadata "
                                  f"{md.hex()}")
    if value[:1] != PLAIN:
        raise _tampered("schema", f"the catalog entry of relation {rid} is not a plain value")
    m = _unpack(value[1:], "the catalog entry", "schema")
    try:
        if not isinstance(m, dict) or m["id"] != rid or type(m["id"]) is not int:
            raise ValueError(f"its id is not {rid}")
        cols = []
        for c in m["columns"]:
            cid, name, oid, typmod = c[0], c[1], c[2], c[3]
            if not (type(cid) is int and type(name) is str and type(oid) is int
                    and type(typmod) is int):
                raise ValueError(f"column {c!r:.60} is malformed")
            cols.append(Column(cid, name, oid, typmod))
        pk = tuple(m["pk"])
        if any(type(p) is not int for p in pk):
            raise ValueError("its primary key is not a list of column ids")
        table = TableDef(rid, m["schema"], m["name"], m["kind"], tuple(cols), pk)
        if not (type(table.schema) is str and type(table.name) is str
                and type(table.kind) is str):
            raise ValueError("schema, name or kind is not a string")
        if len({c.id for c in cols}) != len(cols):
            raise ValueError("two columns have the same id")
        if any(table.column(p) is None for p in pk):
            raise ValueError("its primary key names a column it does not have")
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise _tampered("schema", f"the catalog entry of relation {rid} is not a relation "
                                  f"descriptor: {e}") from None
    return table


# ---------------------------------------------------------------------- row values ----

def decode_row(value: bytes, table: TableDef) -> dict[int, object]:
    """The raw msgpack value of every column of `table` (None for absent: NULL) from a
    proven row entry's stored value `00 || 01 || msgpack map`."""
    if value[:1] != PLAIN or value[1:2] != bytes([ROW_FORMAT_VERSION]):
        raise _tampered("row-value", f"the proven row value starts with {value[:2].hex()}, "
                                     "not 00 01 (plain value, row format 1)")
    m = _unpack(value[2:], "the proven row value", "row-value")
    if not isinstance(m, dict) or any(type(k) is not int for k in m):
        raise _tampered("row-value", "the proven row value is not a map of column ids")
    if None in m.values():
        raise _tampered("row-value", "the proven row value holds a nil (NULLs are omitted)")
    return {c.id: m.get(c.id) for c in table.columns}


def _time(us: int, tz=None) -> dt.time:
    secs, micro = divmod(us, 1_000_000)
    return dt.time(secs // 3600, secs // 60 % 60, secs % 60, micro, tzinfo=tz)


def _need(x, types, oid):
    if type(x) not in types:
        raise ValueError(f"a {TYPE_NAMES.get(oid, oid)} value cannot be {type(x).__name__}")
    return x


def to_python(x, oid: int):
    """A stored (msgpack) value as psycopg would return the column (sql-format.md "Row
    values"). Raises ValueError for a value the type cannot hold, _Unsupported for a type
    this client does not know."""
    if x is None:
        return None
    if oid in ARRAY_ELEMENT:
        _need(x, (list,), oid)
        return [to_python(e, oid) if isinstance(e, list) else
                to_python(e, ARRAY_ELEMENT[oid]) for e in x]
    if oid in _INTS or oid in _OID_LIKE:
        return _need(x, (int,), oid)
    if oid == 16:
        return _need(x, (bool,), oid)
    if oid in _FLOATS:
        return float(_need(x, (float,), oid))
    if oid == 1700:
        try:
            return Decimal(_need(x, (str,), oid))
        except InvalidOperation:
            raise ValueError(f"{x!r:.40} is not a numeric") from None
    if oid in _TEXTS:
        return _need(x, (str,), oid)
    if oid == 17:
        return _need(x, (bytes,), oid)
    if oid in (114, 3802):
        return json.loads(_need(x, (str,), oid))
    if oid == 1082:
        _need(x, (int,), oid)
        return _DATE_INF.get(x) or _EPOCH_DATE + dt.timedelta(days=x)
    if oid in (1114, 1184):
        _need(x, (int,), oid)
        if x in _TS_INF:
            return _TS_INF[x]
        v = _EPOCH_TS + dt.timedelta(microseconds=x)
        return v.replace(tzinfo=_UTC) if oid == 1184 else v
    if oid == 1083:
        return _time(_need(x, (int,), oid))
    if oid == 1266:
        us, off = _need(x, (list,), oid)
        return _time(us, dt.timezone(dt.timedelta(seconds=off)))
    if oid == 1186:
        months, days, us = _need(x, (list,), oid)
        years = int(months / 12)  # psycopg: PostgreSQL's "y years m mons", 365 and 30 days
        return dt.timedelta(days=365 * years + 30 * (months - 12 * years) + days,
                            microseconds=us)
    if oid == 2950:
        b = _need(x, (bytes,), oid)
        if len(b) != 16:
            raise ValueError("a uuid is 16 bytes")
        return uuid.UUID(bytes=b)
    raise _Unsupported(oid)


def same(shown, decoded, oid: int) -> bool:
    """Does the value the server showed equal the one decoded from the proven bytes?"""
    if shown is None or decoded is None:
        return shown is None and decoded is None
    if oid >= FIRST_USER_OID and oid not in ARRAY_ELEMENT:
        raise _Unsupported(oid)  # an enum: a label shown, its label OID proven
    if oid in ARRAY_ELEMENT:
        if not isinstance(shown, list) or len(shown) != len(decoded):
            return False
        return all(same(s, d, oid if isinstance(d, list) else ARRAY_ELEMENT[oid])
                   for s, d in zip(shown, decoded))
    if isinstance(shown, str) and oid not in _TEXTS and oid not in (114, 3802):
        return _same_text(shown, decoded, oid)
    if oid in _FLOATS:
        if not isinstance(shown, float):
            return False
        if math.isnan(shown) or math.isnan(decoded):
            return math.isnan(shown) and math.isnan(decoded)
        fmt = ">f" if oid == 700 else ">d"  # a real is shown with float4 precision
        return struct.pack(fmt, shown) == struct.pack(fmt, decoded)
    if oid == 1700:
        if not isinstance(shown, Decimal):
            return False
        if shown.is_nan() or decoded.is_nan():
            return shown.is_nan() and decoded.is_nan()
        return shown.compare_total(decoded) == 0  # 1.50 is not 1.5: the scale is data
    if oid == 1266:
        return (isinstance(shown, dt.time) and shown.replace(tzinfo=None)
                == decoded.replace(tzinfo=None) and shown.utcoffset() == decoded.utcoffset())
    if oid == 16 or oid in _INTS or oid in _OID_LIKE:
        return type(shown) is type(decoded) and shown == decoded
    if oid == 17:
        return isinstance(shown, (bytes, bytearray, memoryview)) and bytes(shown) == decoded
    return type(shown) is type(decoded) and shown == decoded


def key_equal(asked, decoded, oid: int) -> bool:
    """Does a value the caller asked for select the decoded key value? SQL equality, as
    the server's WHERE applies it: 10.5 selects 10.50, 'ab' selects char(4) 'ab  '."""
    if asked is None or decoded is None:
        return False
    if oid >= FIRST_USER_OID and oid not in ARRAY_ELEMENT:  # an enum: its label's OID
        raise ClientError("an enum primary-key column cannot be checked against a label "
                          "(the proofs hold its label OID): ask by key= (the row's _key)")
    try:
        if isinstance(asked, str) and oid not in _TEXTS:
            return _same_text(asked, decoded, oid)
        if oid == 1700 and not isinstance(asked, bool):
            a = asked if isinstance(asked, Decimal) else Decimal(str(asked))
            return (a.is_nan() and decoded.is_nan()) or (not a.is_nan() and a == decoded)
        if oid in _FLOATS and isinstance(asked, (int, float)) and not isinstance(asked, bool):
            return (math.isnan(asked) and math.isnan(decoded)) or float(asked) == decoded
        if oid == 1042 and isinstance(asked, str):
            return asked.rstrip(" ") == decoded.rstrip(" ")
    except (ValueError, TypeError, InvalidOperation):
        return False
    return same(asked, decoded, oid)


def _same_text(text: str, decoded, oid: int) -> bool:
    """A value given as text (the CLI's WHERE values, a reg* name) against a decoded one."""
    if isinstance(decoded, str):  # infinities
        return text.strip().lower() == decoded
    try:
        if oid in _INTS or oid in _OID_LIKE:
            return int(text) == decoded
        if oid == 16:
            return text.strip().lower() in (("t", "true", "yes", "on", "1") if decoded
                                             else ("f", "false", "no", "off", "0"))
        if oid in _FLOATS:
            return same(float(text), decoded, oid)
        if oid == 1700:
            return Decimal(text) == decoded
        if oid == 17:
            return text.startswith("\\x") and bytes.fromhex(text[2:]) == decoded
        if oid == 2950:
            return uuid.UUID(text) == decoded
        if oid == 1082:
            return dt.date.fromisoformat(text) == decoded
        if oid in (1114, 1184):
            v = dt.datetime.fromisoformat(text)
            if oid == 1184 and v.tzinfo is None:
                return False
            return v == decoded
        if oid == 1083:
            return dt.time.fromisoformat(text) == decoded
    except ValueError:
        return False
    return text == str(decoded)


# -------------------------------------------------------------------- key encoding ----

def _u64(v: int) -> bytes:
    return (v + (1 << 63)).to_bytes(8, "big")


def _escape(b: bytes) -> bytes:
    return b.replace(b"\x00", b"\x00\xff") + b"\x00\x01"


def _key_float(v: float) -> bytes:
    bits = 0x7FF8000000000000 if v != v else struct.unpack(">Q", struct.pack(">d", v + 0.0))[0]
    bits = bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | 1 << 63
    return bits.to_bytes(8, "big")


def _key_numeric(text: str) -> bytes:
    d = Decimal(text)
    if d.is_nan():
        return b"\x05"
    if d.is_infinite():
        return b"\x04" if d > 0 else b"\x00"
    if d.is_zero():
        return b"\x02"
    sign, digits, _ = d.as_tuple()
    digs = list(digits)
    while digs[0] == 0:
        digs.pop(0)
    while digs[-1] == 0:
        digs.pop()
    body = (d.adjusted() + (1 << 31)).to_bytes(4, "big") + bytes(x + 1 for x in digs) + b"\0"
    return b"\x01" + bytes(0xFF - x for x in body) if sign else b"\x03" + body


def _key_value(x, oid: int) -> bytes:
    """sql-format.md "Keys", one value (without its tag) from its stored (msgpack) form."""
    if oid in ARRAY_ELEMENT:
        flat, dims = [], []

        def walk(a, depth):
            if len(dims) <= depth:
                dims.append(len(a))
            for e in a:
                walk(e, depth + 1) if isinstance(e, list) else flat.append(e)
        walk(x, 0)
        if not x:
            dims = []
        out = bytearray()
        for e in flat:
            out += b"\x02" if e is None else b"\x01" + _key_value(e, ARRAY_ELEMENT[oid])
        return bytes(out) + b"\x00" + bytes([len(dims)]) + b"".join(
            n.to_bytes(4, "big") for n in dims)
    if oid in _INTS or oid in _OID_LIKE or oid in (1082, 1114, 1184, 1083):
        return _u64(x)
    if oid in _FLOATS:
        return _key_float(x)
    if oid == 1700:
        return _key_numeric(x)
    if oid == 1042:
        return _escape(x.rstrip(" ").encode())
    if oid in _TEXTS:
        return _escape(x.encode())
    if oid == 17:
        return _escape(x)
    if oid == 16:
        return b"\x01" if x else b"\x00"
    if oid == 1186:
        months, days, us = x
        span = months * 30 * 86_400_000_000 + days * 86_400_000_000 + us
        return ((span + (1 << 127)).to_bytes(16, "big") + (months + (1 << 31)).to_bytes(
            4, "big") + (days + (1 << 31)).to_bytes(4, "big") + _u64(us))
    if oid == 2950:
        return x
    raise _Unsupported(oid)


FIRST_USER_OID = 16384  # type OIDs from here on are enum types (sql-format.md)


def row_key(table: TableDef, raw: dict[int, object], proven: bytes | None = None) -> bytes:
    """The stored key of the row whose primary-key columns hold these stored values.

    An enum column's key part is its label's sort order and then its label OID; the sort
    order lives in the catalog's version entry, which the schema proof does not cover, so
    it is taken from the `proven` key and only the label OID is checked."""
    parts = [ROW_PREFIX, _U32.pack(table.id)]
    for c in table.pk_columns:
        x = raw[c.id]
        if c.type_oid >= FIRST_USER_OID and c.type_oid not in ARRAY_ELEMENT \
                and type(x) is int and proven is not None:
            at = sum(map(len, parts)) + 1
            parts += [b"\x01", proven[at:at + 8], _u64(x)]
            continue
        parts += [b"\x01", _key_value(x, c.type_oid)]
    return b"".join(parts)


# ------------------------------------------------------------------------ the check ---

@dataclass
class RowCheck:
    """What `check_row` established from the proven bytes."""
    table: TableDef
    values: dict[str, object]  # column name -> decoded value (psycopg's conventions)
    raw: dict[str, object]  # column name -> the stored msgpack value
    deleted: bool  # the proven version is a tombstone (its value: the deleted row)
    unchecked: list[str] = field(default_factory=list)  # shown but not comparable


def check_row(table: str, schema: str | None, where: dict | None, key: bytes | None,
              history: bool, shown_names: list[str] | None, shown_values: list | None,
              entry: tuple[bytes, bytes, bytes], definition: tuple[bytes, bytes, bytes],
              tx_id: int | None = None) -> RowCheck:
    """docs/verify.md section 3 steps 3-6 on already verified proofs.

    `entry` / `definition` are the (key, value, md) of the row proof and schema proof;
    `where` the primary-key values the caller asked for (column name -> value) or `key`
    the stored key without its 00 prefix (`_key`); `shown_*` the columns the server
    returned before `proof` and `schema_proof` (None: nothing to compare). `table` None
    takes the name the definition has (offline checks of a saved proof).
    """
    tdef = decode_definition(*definition)
    want_schema = "public" if schema is None else schema
    if table is None:
        table, want_schema = tdef.name, tdef.schema
    if tdef.kind != "table" or tdef.name != table or tdef.schema != want_schema:
        raise _tampered("schema", f"the schema proof is the {tdef.kind} "
                        f"{tdef.schema}.{tdef.name} (id {tdef.id}), not the table "
                        f"{want_schema}.{table}", tx_id)
    rkey, rvalue, md = entry
    if not rkey.startswith(ROW_PREFIX + _U32.pack(tdef.id)):
        raise _tampered("row-key", f"the proven key {rkey.hex()} is not a row of table "
                        f"{tdef.name} (id {tdef.id})", tx_id)
    deleted = is_deleted(md)
    if md and md != b"\x00":
        raise _tampered("row-value", f"the proven row has entry metadata {md.hex()}", tx_id)
    if deleted and not history:
        raise _tampered("row-value", "the server proved a deleted version (a tombstone) "
                        "as the live row", tx_id)
    raw = decode_row(rvalue, tdef)
    # the key: re-encoded from the row's own primary-key values, then against the ask
    try:
        if tdef.pk:
            expect = row_key(tdef, raw, rkey)
        else:  # hidden row id: key((row id,)) with a bigint
            body = rkey[6:]
            if len(body) != 9 or body[0] != 1:
                raise _tampered("row-key", f"the proven key {rkey.hex()} has no row id", tx_id)
            expect = rkey
    except (_Unsupported, TypeError, ValueError, AttributeError) as e:
        raise _tampered("row-value", f"the primary key of the proven row cannot be "
                        f"encoded: {e!r}", tx_id) from None
    if expect != rkey:
        raise _tampered("row-key", f"the proven key {rkey.hex()} is not the key of the "
                        f"proven row's primary key ({expect.hex()})", tx_id)
    if key is not None and PLAIN + key != rkey:
        raise _tampered("row-key", f"the proven key {rkey.hex()} is not the asked "
                        f"_key {(PLAIN + key).hex()}", tx_id)
    values, unchecked = {}, []
    for c in tdef.columns:
        try:
            values[c.name] = to_python(raw[c.id], c.type_oid)
        except _Unsupported:
            values[c.name] = raw[c.id]
        except (ValueError, TypeError, OverflowError) as e:
            raise _tampered("row-value", f"column {c.name} ({c.type_name}) of the proven "
                            f"row does not decode: {e}", tx_id) from None
    if where is not None:
        names = {c.name for c in tdef.pk_columns}
        if set(where) != names:
            raise _tampered("schema", f"the proven definition's primary key is "
                            f"({', '.join(sorted(names))}), not ({', '.join(sorted(where))})",
                            tx_id)
        for c in tdef.pk_columns:
            if not key_equal(where[c.name], values[c.name], c.type_oid):
                raise _tampered("row-key", f"the proven row has {c.name} = "
                                f"{values[c.name]!r}, the asked row {where[c.name]!r}", tx_id)
    names = [c.name for c in tdef.columns]
    if shown_names is None:  # offline (verify-proof): nothing was shown
        return RowCheck(tdef, values, {c.name: raw[c.id] for c in tdef.columns}, deleted)
    if list(shown_names) != names:
        raise _tampered("schema", f"the server showed the columns ({', '.join(shown_names)}),"
                        f" the proven definition has ({', '.join(names)})", tx_id)
    for c, shown in zip(tdef.columns, shown_values):
        if c.type_oid in _REG and isinstance(shown, str) and not shown.isdigit():
            unchecked.append(c.name)  # shown as a name: the proven value is the number
            continue
        try:
            ok = same(shown, values[c.name], c.type_oid)
        except (_Unsupported, TypeError, ValueError, AttributeError):
            unchecked.append(c.name)
            continue
        if not ok:
            raise _tampered("row-value", f"the server showed {c.name} = {shown!r}, the "
                            f"proven bytes hold {values[c.name]!r}", tx_id)
    return RowCheck(tdef, values, {c.name: raw[c.id] for c in tdef.columns}, deleted,
                    unchecked)


# -------------------------------------------------------------------- attribution -----

def describe_entry(key: bytes, value: bytes, md: bytes) -> str:
    """What a stored entry is (docs/verify.md section 4), for people reading a tx."""
    dead = " (deleted)" if is_deleted(md) else ""
    if key[:1] == b"\x01":
        return "KV sorted-set member"
    if key[:1] != PLAIN or len(key) < 2:
        return "unknown entry"
    space, rest = key[1:2], key[2:]
    if space in (b"R", b"I", b"C", b"Q") and len(rest) >= 4:
        (rid,) = _U32.unpack(rest[:4])
        return {b"R": f"row of table {rid}", b"I": f"entry of index {rid}",
                b"C": f"definition of relation {rid}",
                b"Q": f"reservation of sequence {rid}"}[space] + dead
    if space == b"V" and not rest:
        return "catalog version"
    if space == b"K":
        shown = rest.decode("utf-8", "backslashreplace")
        ref = " (reference)" if value[:1] == b"\x01" else ""
        return f"KV key {shown!r}{ref}{dead}"
    return "unknown entry"
