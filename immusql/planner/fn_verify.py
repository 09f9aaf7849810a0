"""immusql's own functions: the signed state, the signing key, and the store's key-value
API for users who want it without tables (docs/verify.md is the contract).

The KV functions work in their own key space: user key `k` is the store key `"K" || k`,
so no KV key can collide with SQL rows, index entries or the catalog (whose keys start
with `R`, `I`, `Q`, `V` or `C`; docs/sql-format.md). Sorted sets use the store's sorted-set
space with the set name and member key both prefixed with `K` as well.

Writes (kv_set, kv_delete, kv_set_reference, kv_zadd) follow the session's transaction:
inside a transaction block the client opened they join the block (committed or rolled
back with it, and their `tx_id` is NULL because the transaction has no id before it
commits); outside one (autocommit, or the wire server's implicit transaction around a
statement) they commit their own store transaction before returning and give its id. The
verifiable write (kv_verified_set) needs a committed transaction to prove, so it always
commits its own transaction at once, even inside a block (like nextval, a ROLLBACK does
not undo it).

All of them are set-returning functions: `SELECT * FROM kv_get('k')` gives columns,
`SELECT kv_set('k', 'v')` works in a select list too.
"""

from __future__ import annotations

import json

from .. import errors
from ..kv import KeyNotFoundError
from . import types as T
from .functions import register
from .verify import NoDataFound, proof_text, ts_of, tx_row

KV_PREFIX = b"K"

I4, I8, F8, TXT, BYTEA, JSON, BOOL = T.INT4, T.INT8, T.FLOAT8, T.TEXT, T.BYTEA, T.JSON, T.BOOL
TSTZ = T.TIMESTAMPTZ


def _statement(fctx):
    """The running statement's context (session, transaction, engine)."""
    resolver = getattr(fctx, "resolver", None)
    statement = getattr(resolver, "statement", None)
    if statement is None:
        raise errors.FeatureNotSupported("this function needs a running statement")
    return statement()


def _fn(impl):
    """A needs_ctx factory calling impl(statement, *args) at run time."""
    def factory(fctx, params, elem):
        return lambda *args: impl(_statement(fctx), *args)
    return factory


def _srf(name, params, columns, impl):
    register(name, params, columns, _fn(impl), strict=False, volatile=True, needs_ctx=True,
             srf=True)


# ------------------------------------------------------------------ values ----------

def _bytes(v, what: str, nullable: bool = False) -> bytes | None:
    if v is None:
        if nullable:
            return None
        raise errors.NullValueNotAllowed(f"{what} cannot be NULL")
    return v.encode("utf-8") if isinstance(v, str) else bytes(v)


def _key(v, what: str = "key") -> bytes:
    k = _bytes(v, what)
    if not k:
        raise errors.InvalidParameterValue(f"{what} cannot be empty")
    return KV_PREFIX + k


def _user_key(stored: bytes) -> bytes:
    """A store key of the KV space (without the store's own prefix) -> the user's key."""
    if not stored.startswith(KV_PREFIX):
        raise errors.DataCorrupted("a KV entry leads outside the KV key space")
    return stored[len(KV_PREFIX):]


def _tx_arg(v, what: str) -> int | None:
    """A transaction number argument; NULL or 0: none."""
    if v is None or v == 0:
        return None
    if v < 0:
        raise errors.InvalidParameterValue(f"{what} {v} is not a transaction number")
    return v


def _entry_row(e) -> tuple:
    ref = e.referenced_by
    return (_user_key(e.key), e.value, e.tx_id or None, e.revision or None,
            _user_key(ref.key) if ref is not None else None)


ENTRY_COLUMNS = [("key", BYTEA), ("value", BYTEA), ("tx_id", I8), ("revision", I8),
                 ("ref_key", BYTEA)]
TX_ID_COLUMNS = [("tx_id", I8)]


# ------------------------------------------------------------------ state -----------

STATE_COLUMNS = [("db", TXT), ("tx_id", I8), ("alh", TXT), ("signature", TXT),
                 ("public_key", TXT), ("state", JSON), ("dual", JSON)]


def _state_row(state, dual) -> tuple:
    j = state.to_json()
    return (j["db"], j["tx_id"], j["alh"], j["signature"], j["public_key"],
            _json(j), None if dual is None else proof_text(dual))


def _json(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


def immusql_state(stmt):
    return [_state_row(stmt.engine.store.state(), None)]


def immusql_state_since(stmt, since_tx):
    store = stmt.engine.store
    since = _tx_arg(since_tx, "since_tx")
    if store.last_committed == 0 and since is None:
        return [_state_row(store.state(), None)]  # nothing to link: the empty database
    dual, state = store.verifiable_state(since)
    return [_state_row(state, dual)]


def immusql_public_key(stmt):
    key = stmt.engine.store.public_key
    return [(None if key is None else key.hex(),)]


# ------------------------------------------------------------------ writes ----------

def _explicit_block(session) -> bool:
    """Inside a transaction block the client opened (BEGIN), not the wire server's
    implicit one around a statement (pgwire/statements.py ImplicitBlock)."""
    implicit = getattr(session, "implicit_block", None)
    return session.in_block and not (implicit is not None and implicit.active)


def _write(stmt, name: str, in_block, alone):
    """Run a write in the client's block (tx id unknown yet: NULL) or, outside one, as
    its own committed store transaction (its id)."""
    session = stmt.session
    if session.read_only:
        raise errors.ReadOnlySqlTransaction(f"cannot execute {name}() in a read-only "
                                            "transaction")
    try:
        if _explicit_block(session):
            in_block(stmt.tx)
            return [(None,)]
        return [(alone(stmt.engine.store).id,)]
    except KeyNotFoundError as e:
        raise NoDataFound(str(e)) from None


def kv_set(stmt, key, value):
    k, v = _key(key), _bytes(value, "value")
    return _write(stmt, "kv_set", lambda tx: tx.set(k, v), lambda s: s.set([(k, v)]))


def kv_delete(stmt, key):
    k = _key(key)
    return _write(stmt, "kv_delete", lambda tx: tx.delete(k), lambda s: s.delete([k]))


def kv_set_reference(stmt, key, target, at_tx=None):
    k, t = _key(key), _key(target, "target")
    at = _tx_arg(at_tx, "at_tx")
    return _write(stmt, "kv_set_reference", lambda tx: tx.set_reference(k, t, at),
                  lambda s: s.set_reference(k, t, at))


def kv_zadd(stmt, set_key, score, key, at_tx=None):
    z, k = _key(set_key, "set"), _key(key)
    if score is None:
        raise errors.NullValueNotAllowed("score cannot be NULL")
    at = _tx_arg(at_tx, "at_tx")
    return _write(stmt, "kv_zadd", lambda tx: tx.zadd(z, score, k, at),
                  lambda s: s.zadd(z, score, k, at))


# ------------------------------------------------------------------ reads -----------

def kv_get(stmt, key, at_tx=None):
    if key is None:
        return []
    k = _key(key)
    at = _tx_arg(at_tx, "at_tx")
    try:
        e = stmt.tx.get(k) if at is None else stmt.engine.store.get(k, at_tx=at)
    except KeyNotFoundError:
        return []
    return [_entry_row(e)]


def kv_history(stmt, key):
    if key is None:
        return []
    k = _key(key)
    snapshot = stmt.tx.snapshot
    return [(_user_key(e.key), None if e.deleted else e.value, e.tx_id, e.revision,
             e.deleted) for e in stmt.engine.store.history(k) if e.tx_id <= snapshot]


def kv_scan(stmt, prefix, limit=None):
    if prefix is None:
        return []
    if limit is not None and limit < 0:
        raise errors.InvalidParameterValue("limit must not be negative")
    p = KV_PREFIX + _bytes(prefix, "prefix")
    return [_entry_row(e) for e in stmt.tx.scan(p, limit=limit, track=stmt.track_reads)]


def kv_zscan(stmt, set_key):
    if set_key is None:
        return []
    z = _key(set_key, "set")
    out = []
    for m in stmt.engine.store.zscan(z, at_tx=stmt.tx.snapshot):
        e = m.entry
        out.append((_user_key(m.key), m.score, e.value, e.tx_id, e.revision,
                    m.at_tx or None))
    return out


TX_ENTRY_COLUMNS = [("tx_id", I8), ("ts", TSTZ), ("position", I4), ("key", BYTEA),
                    ("value", BYTEA), ("md", BYTEA)]


def _tx_rows(tx) -> list[tuple]:
    ts = ts_of(tx.header)
    return [(tx.header.id, ts, i, e.key, e.value, e.md) for i, e in enumerate(tx.entries)]


def kv_tx(stmt, tx_id):
    if tx_id is None:
        return []
    store = stmt.engine.store
    _check_tx(store, tx_id)
    return _tx_rows(store.tx_by_id(tx_id))


def kv_tx_scan(stmt, start_tx, limit):
    if start_tx is None:
        return []
    if start_tx < 1:
        raise errors.InvalidParameterValue("the first transaction is 1")
    if limit is not None and limit < 0:
        raise errors.InvalidParameterValue("limit must not be negative")
    out = []
    for tx in stmt.engine.store.tx_scan(start_tx, limit=limit):
        out += _tx_rows(tx)
    return out


def _check_tx(store, n: int) -> None:
    last = store.last_committed
    if not 1 <= n <= last:
        raise errors.InvalidParameterValue(
            f"transaction {n} does not exist (last committed transaction is {last})")


# ------------------------------------------------------------------ verifiable ------

VERIFIED_GET_COLUMNS = [("key", BYTEA), ("value", BYTEA), ("tx_id", I8), ("proof", JSON)]
TX_PROOF_COLUMNS = [("tx_id", I8), ("ts", TSTZ), ("nentries", I4), ("proof", JSON)]


def kv_verified_get(stmt, key, since_tx, at_tx=None):
    k = _key(key)
    since, at = _tx_arg(since_tx, "since_tx"), _tx_arg(at_tx, "at_tx")
    try:
        proof = stmt.engine.store.verifiable_get(k, since_tx=since, at_tx=at)
    except KeyNotFoundError:
        raise NoDataFound(f"key {_bytes(key, 'key')!r} not found (absence cannot be "
                          "proven)") from None
    value = proof.value[1:] if proof.value[:1] == b"\x00" else None  # None: a reference
    return [(k[len(KV_PREFIX):], value, proof.tx.id, proof_text(proof))]


def kv_verified_set(stmt, key, value, since_tx):
    k, v = _key(key), _bytes(value, "value")
    since = _tx_arg(since_tx, "since_tx")
    if stmt.session.read_only:
        raise errors.ReadOnlySqlTransaction("cannot execute kv_verified_set() in a "
                                            "read-only transaction")
    return [tx_row(stmt.engine.store.verifiable_set([(k, v)], since_tx=since))]


def kv_verified_tx(stmt, tx_id, since_tx):
    if tx_id is None:
        raise errors.NullValueNotAllowed("tx_id cannot be NULL")
    store = stmt.engine.store
    _check_tx(store, tx_id)
    return [tx_row(store.verifiable_tx_by_id(tx_id, since_tx=_tx_arg(since_tx, "since_tx")))]


# ------------------------------------------------------------------ registry --------

def _register() -> None:
    r = _srf
    r("immusql_state", (), STATE_COLUMNS, immusql_state)
    r("immusql_state", (I8,), STATE_COLUMNS, immusql_state_since)
    r("immusql_public_key", (), [("immusql_public_key", TXT)], immusql_public_key)
    for k in (BYTEA, TXT):  # keys and values as bytes, or text stored as UTF-8
        r("kv_set", (k, k), TX_ID_COLUMNS, kv_set)
        r("kv_delete", (k,), TX_ID_COLUMNS, kv_delete)
        r("kv_set_reference", (k, k), TX_ID_COLUMNS, kv_set_reference)
        r("kv_set_reference", (k, k, I8), TX_ID_COLUMNS, kv_set_reference)
        r("kv_zadd", (k, F8, k), TX_ID_COLUMNS, kv_zadd)
        r("kv_zadd", (k, F8, k, I8), TX_ID_COLUMNS, kv_zadd)
        r("kv_get", (k,), ENTRY_COLUMNS, kv_get)
        r("kv_get", (k, I8), ENTRY_COLUMNS, kv_get)
        r("kv_history", (k,), [("key", BYTEA), ("value", BYTEA), ("tx_id", I8),
                               ("revision", I8), ("deleted", BOOL)], kv_history)
        r("kv_scan", (k,), ENTRY_COLUMNS, kv_scan)
        r("kv_scan", (k, I8), ENTRY_COLUMNS, kv_scan)
        r("kv_zscan", (k,), [("key", BYTEA), ("score", F8), ("value", BYTEA), ("tx_id", I8),
                             ("revision", I8), ("at_tx", I8)], kv_zscan)
        r("kv_verified_get", (k, I8), VERIFIED_GET_COLUMNS, kv_verified_get)
        r("kv_verified_get", (k, I8, I8), VERIFIED_GET_COLUMNS, kv_verified_get)
        r("kv_verified_set", (k, k, I8), TX_PROOF_COLUMNS, kv_verified_set)
    r("kv_tx", (I8,), TX_ENTRY_COLUMNS, kv_tx)
    r("kv_tx_scan", (I8, I8), TX_ENTRY_COLUMNS, kv_tx_scan)
    r("kv_verified_tx", (I8, I8), TX_PROOF_COLUMNS, kv_verified_tx)


_register()
