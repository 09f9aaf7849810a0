"""VERIFY ROW and VERIFY TX: a row or a transaction together with the proofs that let a
client check it against the state it trusts (docs/verify.md is the contract).

VERIFY ROW FROM [HISTORY OF] t WHERE <pk = value AND ...> [SINCE TX n] [AS OF TX m]
returns the row's columns, then `proof` (the PROOFS.md section 8 `entry_proof` of the row's
KV entry) and `schema_proof` (the `entry_proof` of the table's catalog entry
`"C" || u32(table id)`, the definition the row was decoded with). The schema proof is made
from the state the row proof leads to, so a client checks `proof` and then `schema_proof`
with one advancing trusted state.

Which version is proven: without HISTORY OF, the live version as of AS OF TX m or, by
default, the statement's snapshot; a deleted row is an error that points to HISTORY OF.
With HISTORY OF, the newest version (tombstones included) as of that point, or the one
pinned by `_rev = r` or `_tx = n`. Proofs are of committed data: the block's own
uncommitted writes are not what is proven.

VERIFY TX n [SINCE TX m] returns the transaction's id, time and size, and `proof`, its
`tx_proof` (every entry, so the client recomputes the entries root itself).
"""

from __future__ import annotations

import datetime as dt
import json

from .. import errors
from ..kv import KeyNotFoundError
from ..kv.hashing import is_deleted
from ..parser import ast
from . import access, syscat
from . import types as T
from .catalog import Relation, relation_key
from .compiled import error_position as _pos
from .expr import ExprCompiler
from .scope import Scope
from .tables import TableCodec

__all__ = ["run_verify_row", "run_verify_tx", "NoDataFound", "proof_text"]


class NoDataFound(errors.ProgrammingError, sqlstate="P0002"):
    """No row (or key) to prove: absent, or deleted at the asked point."""


_PINS = ("_key", "_rev", "_tx")  # pseudo-columns a VERIFY ROW may pin besides the key
_PIN_TYPES = {"_key": T.BYTEA, "_rev": T.INT8, "_tx": T.INT8}


def proof_text(proof) -> str:
    """A proof object as the compact JSON text of its section 8 form."""
    return json.dumps(proof.to_json(), separators=(",", ":"))


def ts_of(header) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(
        microseconds=header.ts)


def _result(columns, rows):
    from .session import Result
    return Result(f"SELECT {len(rows)}", columns, rows, len(rows))


def _output_columns(rel):
    from .select import OutputColumn
    return [OutputColumn(c.name, c.type, rel.id, c.id) for c in rel.columns] + [
        OutputColumn("proof", T.JSON), OutputColumn("schema_proof", T.JSON)]


# ---------------------------------------------------------------------- VERIFY ROW ----

def run_verify_row(ctx, stmt: ast.VerifyRow):
    rel = ctx.find_relation(stmt.table, stmt.pos)
    if syscat.is_system(rel) or rel.kind != "table":
        raise errors.WrongObjectType(f'"{stmt.table}" is not a table: VERIFY ROW proves '
                                     "rows of tables")
    comp = ExprCompiler(Scope(), ctx, clause="VERIFY")
    pins = _pins(comp, rel, stmt)
    since = _tx_number(comp, stmt.since_tx, "SINCE TX")
    as_of = _tx_number(comp, stmt.as_of_tx, "AS OF TX")
    columns = _output_columns(rel)
    if ctx.describing:
        return _result(columns, [])
    values = {name: fn() for name, fn in pins.items()}
    since, as_of = since(), as_of()
    store = ctx.engine.store
    snapshot = ctx.tx.snapshot
    at = snapshot if as_of is None else ctx._check_tx(as_of)
    codec = ctx.codec(rel)
    key = _row_key(rel, codec, values)
    if key is None:
        raise NoDataFound(f'no row of "{rel.name}" can match: a key value is NULL or cannot '
                          "be a value of its column")
    what = _describe_row(rel, values)
    proof = _prove_version(store, key, at, since, values, stmt.history, what, rel)
    schema_proof, proven = _schema_proof(store, rel, snapshot, proof.state.tx_id)
    row = TableCodec(proven).decode(proof.value[1:])
    return _result(columns, [row + (proof_text(proof), proof_text(schema_proof))])


def _pins(comp, rel, stmt) -> dict:
    """name -> zero-argument function giving the pinned value (access._NO_MATCH when no
    key can equal it), for each `column = value` of the WHERE clause."""
    pins: dict = {}
    for c in _conjuncts(stmt.where):
        col, value_node = _equality(c, rel)
        name = col.parts[-1]
        if name in _PINS:
            if name != "_key" and not stmt.history:
                raise errors.InvalidColumnReference(
                    f"{name} selects a version of the row: use VERIFY ROW FROM HISTORY OF "
                    f"{rel.name}", position=_pos(c))
            t = _PIN_TYPES[name]
        else:
            column = rel.column(name)
            if column is None:
                raise errors.UndefinedColumn(f'column "{name}" does not exist',
                                             position=_pos(col))
            if column.id not in rel.primary_key:
                raise errors.InvalidColumnReference(
                    f'column "{name}" is not part of the primary key of "{rel.name}": '
                    "VERIFY ROW selects one row by its primary key", position=_pos(col))
            t = column.type
        if name in pins:
            raise errors.InvalidColumnReference(f'column "{name}" is given twice',
                                                position=_pos(col))
        compiled = comp.compile(value_node)
        comp._infer(compiled, t)
        try:
            pins[name] = access._key_value(compiled, t)
        except access._NotConstant:
            raise errors.UndefinedFunction(
                f"operator does not exist: {T.format_type(t)} = "
                f"{T.format_type(compiled.type)}", position=_pos(c),
                hint="No operator matches the given name and argument types. You might "
                     "need to add explicit type casts.") from None
    by_pk = [rel.column_by_id(c).name for c in rel.primary_key]
    if "_key" in pins:
        if any(n in pins for n in by_pk):
            raise errors.InvalidColumnReference(
                "give either the primary key or _key, not both", position=_pos(stmt.where))
    elif not by_pk:
        raise errors.InvalidColumnReference(
            f'table "{rel.name}" has no primary key: select the row by its _key',
            hint=f"SELECT _key FROM {rel.name} WHERE ... gives it",
            position=_pos(stmt.where))
    else:
        missing = [n for n in by_pk if n not in pins]
        if missing:
            raise errors.InvalidColumnReference(
                f"VERIFY ROW needs an equality on every primary key column of "
                f'"{rel.name}" (missing: {", ".join(missing)})', position=_pos(stmt.where))
    return pins


def _conjuncts(e) -> list:
    if isinstance(e, ast.BoolOp) and e.op == "and":
        return [c for o in e.operands for c in _conjuncts(o)]
    return [e]


def _equality(c, rel):
    """(column reference, value expression) of `column = value` (either way round)."""
    if isinstance(c, ast.BinaryOp) and c.op == "=":
        for a, b in ((c.left, c.right), (c.right, c.left)):
            if isinstance(a, ast.ColumnRef) and access._row_free(b):
                if len(a.parts) >= 2 and a.parts[-2] != rel.name:
                    raise errors.UndefinedTable(
                        f'missing FROM-clause entry for table "{a.parts[-2]}"',
                        position=_pos(a))
                return a, b
    raise errors.InvalidColumnReference(
        "VERIFY ROW needs WHERE to be equalities between primary key columns (or _key, "
        "_rev, _tx) and constants or parameters, joined by AND", position=_pos(c))


def _tx_number(comp, node, what: str):
    """A zero-argument function: the transaction number of SINCE TX / AS OF TX (None
    when absent; NULL is 0 for SINCE TX, an error for AS OF TX)."""
    if node is None:
        return lambda: None
    c = comp.compile(node)
    if c.type != T.INT8:
        c = comp.coerce(c, T.INT8, node, "assignment")
    fn = c.fn

    def value():
        v = fn(())
        if v is None:
            if what == "SINCE TX":
                return 0
            raise errors.NullValueNotAllowed(f"{what} needs a transaction number")
        if v < 0:
            raise errors.InvalidParameterValue(f"{what} {v} is not a transaction number")
        return v
    return value


def _row_key(rel, codec, values) -> bytes | None:
    """The row's KV key (None: no row can match, e.g. a NULL key value)."""
    if any(v is access._NO_MATCH for v in values.values()):
        return None
    if "_key" in values:
        key = bytes(values["_key"])
        return key if key.startswith(codec.prefix) and len(key) > len(codec.prefix) else None
    return codec.key_of_pk(tuple(values[rel.column_by_id(c).name] for c in rel.primary_key))


def _describe_row(rel, values) -> str:
    shown = []
    for name, v in values.items():
        if name == "_key" and isinstance(v, (bytes, bytearray)):
            v = "\\x" + bytes(v).hex()
        shown.append(f"{name} = {v}")
    return f'row of "{rel.name}" with {" and ".join(shown)}'


def _prove_version(store, key, at, since, values, history: bool, what: str, rel):
    """The entry_proof of the version VERIFY ROW selects (module docstring)."""
    at_tx = at
    if "_rev" in values or "_tx" in values:  # HISTORY OF only: find the pinned version
        versions = [v for v in store.history(key) if v.tx_id <= at]
        if "_rev" in values:
            versions = [v for v in versions if v.revision == values["_rev"]]
        if "_tx" in values:
            versions = [v for v in versions if v.tx_id == values["_tx"]]
        if not versions:
            raise NoDataFound(f"{what} has no such version")
        at_tx = versions[-1].tx_id  # a key is written at most once per transaction
    try:
        proof = store.verifiable_get(key, since_tx=since or None, at_tx=at_tx,
                                     include_deleted=True)
    except KeyNotFoundError:
        raise NoDataFound(f"{what} not found") from None
    if is_deleted(proof.md):
        if not history:
            raise NoDataFound(
                f"{what} is deleted (tombstone written in tx {proof.tx.id})",
                hint=f"VERIFY ROW FROM HISTORY OF {rel.name} WHERE ... proves the deletion "
                     "or an earlier version")
        if len(proof.value) <= 1:
            raise NoDataFound(f"{what}: the tombstone of tx {proof.tx.id} holds no row")
    if proof.key[1:] != key or proof.value[:1] != b"\x00":  # defensive: a row is plain
        raise errors.DataCorrupted(f"the entry proven for {what} is not a row")
    return proof


def _schema_proof(store, rel, snapshot: int, since: int):
    """The entry_proof of the table's catalog entry as of the statement's snapshot (the
    definition the row is decoded with), proven from `since`; and that definition."""
    try:
        proof = store.verifiable_get(relation_key(rel.id), since_tx=since or None,
                                     at_tx=snapshot)
    except KeyNotFoundError:
        raise errors.ObjectNotInPrerequisiteState(
            f'table "{rel.name}" is not committed yet: VERIFY ROW proves committed data'
        ) from None
    proven = Relation.from_msgpack(proof.value[1:])
    if proven.to_msgpack() != rel.to_msgpack():
        raise errors.ObjectNotInPrerequisiteState(
            f'the definition of table "{rel.name}" has uncommitted changes in this '
            "transaction: VERIFY ROW proves committed data", hint="COMMIT first")
    return proof, proven


# ---------------------------------------------------------------------- VERIFY TX -----

def tx_columns():
    from .select import OutputColumn
    return [OutputColumn("tx_id", T.INT8), OutputColumn("ts", T.TIMESTAMPTZ),
            OutputColumn("nentries", T.INT4), OutputColumn("proof", T.JSON)]


def tx_row(proof) -> tuple:
    return (proof.tx.id, ts_of(proof.tx), proof.tx.nentries, proof_text(proof))


def run_verify_tx(ctx, stmt: ast.VerifyTx):
    comp = ExprCompiler(Scope(), ctx, clause="VERIFY")
    tx = _tx_number(comp, stmt.tx, "VERIFY TX")
    since = _tx_number(comp, stmt.since_tx, "SINCE TX")
    columns = tx_columns()
    if ctx.describing:
        return _result(columns, [])
    n, since = tx(), since()
    last = ctx.engine.store.last_committed
    if not 1 <= n <= last:
        raise errors.InvalidParameterValue(
            f"transaction {n} does not exist (last committed transaction is {last})")
    proof = ctx.engine.store.verifiable_tx_by_id(n, since_tx=since or None)
    return _result(columns, [tx_row(proof)])


