"""The verifying client: psycopg underneath, every answer checked before it is believed.

    from immusql.client import connect, TamperedError
    with connect("host=db.example port=5432 dbname=shop user=app",
                 server_public_key="server.pub.pem") as client:
        row = client.verify_row("accounts", {"id": 7})
        row.values["balance"]      # decoded from the proven bytes, compared with the shown

Every verified call, under the state file's lock (state_store.py): read the trusted state
of this server and database, ask the server with `SINCE TX <trusted tx>`, check the
answer with the store's pure verification functions (`immusql.kv.proofs`), check what
the proof proves against what was asked and shown, and only then save the newer state.
A server that cannot show that its history extends the trusted state gets a
`TamperedError` and changes nothing. docs/verify.md section 9 is the user's guide.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from dataclasses import dataclass

import psycopg
from psycopg import sql

from ..kv import hashing
from ..kv.errors import ProofError
from ..kv.header import TxHeader
from ..kv.proofs import DualProof, EntryProof, TxProof
from ..kv.state import PUBLIC_KEY_SIZE, State
from ..signing import fingerprint, public_key_from_pem
from . import checks, rows
from .errors import ClientError, TamperedError
from .state_store import StateStore, default_state_dir

__all__ = ["connect", "Client", "VerifiedRow", "VerifiedTx", "VerifiedEntry",
           "load_public_key", "state_from_json"]

KV_PREFIX = b"\x00K"  # stored key of user key k: 00 4b || k (verify.md section 6)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def load_public_key(value) -> bytes:
    """The server's 65-byte P-256 point from: bytes, hex text, PEM text, or a PEM file."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value)
        if len(value) == PUBLIC_KEY_SIZE and value[0] == 4:
            return value
        value = value.decode("ascii", "replace")
    text = str(value).strip()
    if "BEGIN PUBLIC KEY" in text:
        return public_key_from_pem(text)
    try:
        raw = bytes.fromhex(text)
        if len(raw) == PUBLIC_KEY_SIZE and raw[0] == 4:
            return raw
    except ValueError:
        pass
    if os.path.exists(text):
        with open(text, encoding="ascii") as f:
            return load_public_key(f.read())
    raise ClientError(f"{text[:40]!r} is not a P-256 public key (65-byte hex, PEM text or "
                      "a PEM file)")


def state_from_json(obj) -> State:
    """A state object (PROOFS.md section 8), or an `immusql_state()` row as a dict."""
    if isinstance(obj, dict) and "state" in obj and isinstance(obj["state"], dict):
        obj = obj["state"]
    if isinstance(obj, dict):
        obj = {"signature": None, "public_key": None, **obj}
    try:
        return State.from_json(obj)
    except ProofError as e:
        raise ClientError(f"not a state: {e}") from e


@dataclass
class VerifiedRow:
    """A row version proven by VERIFY ROW and decoded by the client."""
    table: str
    values: dict  # column -> value decoded from the proven bytes (equal to the shown)
    raw: dict  # column -> stored msgpack value
    deleted: bool  # a tombstone (HISTORY OF): `values` is the deleted row
    tx_id: int  # the transaction that wrote this version
    ts: dt.datetime  # its commit time (bound by the hash chain, not proven true time)
    key: bytes  # the stored row key
    state: State  # the trusted state after this call
    proof: EntryProof
    schema_proof: EntryProof
    definition: rows.TableDef
    unchecked: list  # shown columns the client could not compare (reported, not trusted)

    def to_json(self) -> dict:
        """What `immusql verify row --save` writes and `verify-proof` reads."""
        return {"table": self.table, "proof": self.proof.to_json(),
                "schema_proof": self.schema_proof.to_json()}


@dataclass
class VerifiedTx:
    tx_id: int
    ts: dt.datetime
    entries: list  # (stored key, stored value, md), in transaction order
    state: State
    proof: TxProof


@dataclass
class VerifiedEntry:
    key: bytes
    value: bytes | None  # None for a reference (see `reference`)
    tx_id: int
    reference: tuple[int, bytes] | None  # (at_tx, target key) when the key is a reference
    state: State
    proof: EntryProof


def _ts(header: TxHeader) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=header.ts)


@functools.lru_cache(maxsize=512)
def _verify_row_query(schema, table, names: tuple, history: bool, as_of: bool) -> sql.Composed:
    """VERIFY ROW FROM [HISTORY OF] t WHERE c = %s AND ... SINCE TX %s [AS OF TX %s]."""
    target = sql.Identifier(table) if schema is None else sql.Identifier(schema, table)
    query = sql.SQL("VERIFY ROW FROM {}{} WHERE {} SINCE TX %s").format(
        sql.SQL("HISTORY OF ") if history else sql.SQL(""), target,
        sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(n)) for n in names))
    return query + sql.SQL(" AS OF TX %s") if as_of else query


def connect(dsn: str = "", *, state_dir=None, server_public_key=None, identity=None,
            **kwargs) -> "Client":
    """Open a psycopg connection (autocommit) and wrap it in a verifying client.

    `state_dir`: where trusted states live (default $IMMUSQL_STATE_DIR or
    ~/.immusql/state). `server_public_key`: pin the server's signing key (bytes, hex, PEM
    or a PEM file): every accepted state must then carry its valid signature, and the
    key's fingerprint names the server. `identity`: name the server yourself (default:
    the key fingerprint, else host:port as the connection reports it).
    """
    conn = psycopg.connect(dsn, autocommit=True, **kwargs)
    try:
        return Client(conn, state_dir=state_dir, server_public_key=server_public_key,
                      identity=identity, owns_connection=True)
    except BaseException:
        conn.close()
        raise


class Client:
    def __init__(self, conn: psycopg.Connection, *, state_dir=None, server_public_key=None,
                 identity: str | None = None, owns_connection: bool = False):
        self.conn = conn
        self._owns = owns_connection
        self.public_key = None if server_public_key is None else load_public_key(
            server_public_key)
        if identity is None:
            if self.public_key is not None:
                identity = "key:" + fingerprint(self.public_key)
            else:
                identity = f"{conn.info.host}:{conn.info.port}"
        self.identity = identity
        self.database = conn.info.dbname
        self.store = StateStore(state_dir if state_dir is not None else default_state_dir(),
                                identity)

    # ------------------------------------------------------------------ lifecycle -----
    def close(self) -> None:
        if self._owns:
            self.conn.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ state ---------
    @property
    def state(self) -> State | None:
        """The trusted state of this database (None: nothing trusted yet)."""
        return self._checked(self.store.get(self.database))

    def pin_state(self, state) -> State:
        """Trust `state` (a State, its JSON, or an `immusql_state()` row), obtained out of
        band, instead of trusting the server's first answer. With a pinned key a signed
        state must carry its valid signature; an unsigned one is taken as given."""
        if not isinstance(state, State):
            state = state_from_json(state)
        self._checked(state)
        self.store.put(self.database, state)
        return state

    def forget_state(self) -> None:
        """Drop the trusted state: the next call trusts on first use again."""
        self.store.forget(self.database)

    def _checked(self, state: State | None) -> State | None:
        """A stored or pinned state; a signature on it must verify with the pinned key."""
        if state is not None and self.public_key is not None and state.signature is not None:
            try:
                state.verify_signature(self.public_key)
            except ProofError as e:
                raise TamperedError("signature", f"the trusted state of {self.database} "
                                    f"is not signed by the pinned key: {e}") from e
        return state

    # ------------------------------------------------------------------ calls ---------
    def verify_state(self) -> State:
        """The server's current state, proven to extend the trusted one (the auditor's
        step: `immusql_state(since)` and its dual proof). Returns the new trusted state."""
        with self.store.slot(self.database) as slot:
            trusted = self._checked(slot.state)
            since = trusted.tx_id if trusted else 0
            row, names = self._one("SELECT * FROM immusql_state(%s)", (since,), trusted)
            got = dict(zip(names, row))
            new = self._parse(State.from_json, got.get("state"), "state")
            if got.get("dual") is None:
                if new.tx_id != 0:
                    raise TamperedError("malformed", f"the server sent state tx {new.tx_id} "
                                        "without a dual proof")
                if trusted is not None and trusted.tx_id > 0:
                    raise TamperedError("rollback", f"the server says the database is "
                                        f"empty, the trusted state is at tx {trusted.tx_id}")
                return trusted or new
            dual = self._parse(DualProof.from_json, got["dual"], "dual proof")
            new = checks.check_state_step(trusted, dual, new, self.public_key)
            if (got.get("tx_id"), got.get("alh")) != (new.tx_id, new.alh.hex()):
                raise TamperedError("malformed", "the state row's columns differ from its "
                                    "state object")
            slot.set(new)
            return slot.state

    def verify_row(self, table: str, pk=None, *, key: bytes | None = None,
                   schema: str | None = None, history: bool = False,
                   as_of_tx: int | None = None, rev: int | None = None,
                   tx: int | None = None) -> VerifiedRow:
        """VERIFY ROW, checked: the row of `table` with primary key `pk` (a dict column ->
        value; or a value / tuple in primary-key order), or with the stored `key`
        (bytes without the leading 00, the `_key` pseudo-column). `history` proves the
        newest version including deletions, or the one pinned by `rev` / `tx`."""
        if (pk is None) == (key is None):
            raise ClientError("give either the primary key or key=")
        where: dict | None = None
        if pk is not None:
            where = pk if isinstance(pk, dict) else self._pk_names(schema, table, pk)
        if (rev is not None or tx is not None) and not history:
            raise ClientError("rev= and tx= select a version: use history=True")
        pins = dict(where or {"_key": key})
        for name, value in (("_rev", rev), ("_tx", tx)):
            if value is not None:
                pins[name] = value
        query = _verify_row_query(schema, table, tuple(pins), history, as_of_tx is not None)
        with self.store.slot(self.database) as slot:
            trusted = self._checked(slot.state)
            args = [*pins.values(), trusted.tx_id if trusted else 0]
            if as_of_tx is not None:
                args.append(as_of_tx)
            row, names = self._one(query, args, trusted)
            if len(row) < 2:
                raise TamperedError("malformed", "VERIFY ROW returned no proofs")
            proof = self._parse(EntryProof.from_json, row[-2], "row proof")
            sproof = self._parse(EntryProof.from_json, row[-1], "schema proof")
            s1 = self._check_entry(proof, trusted, "row proof")
            s2 = self._check_entry(sproof, s1, "schema proof")
            if as_of_tx is not None and proof.tx.id > as_of_tx:
                raise TamperedError("row-key", f"the proven version was written by tx "
                                    f"{proof.tx.id}, after AS OF TX {as_of_tx}")
            if tx is not None and proof.tx.id != tx:
                raise TamperedError("row-key", f"the proven version was written by tx "
                                    f"{proof.tx.id}, not tx {tx}")
            checked = rows.check_row(table, schema, where, key, history, names[:-2],
                                     list(row[:-2]), (proof.key, proof.value, proof.md),
                                     (sproof.key, sproof.value, sproof.md), proof.tx.id)
            slot.set(s2)
            return VerifiedRow(table, checked.values, checked.raw, checked.deleted,
                               proof.tx.id, _ts(proof.tx), proof.key, slot.state, proof,
                               sproof, checked.table, checked.unchecked)

    def verify_tx(self, tx_id: int) -> VerifiedTx:
        """VERIFY TX: every entry of transaction `tx_id`, proven (eh recomputed)."""
        with self.store.slot(self.database) as slot:
            trusted = self._checked(slot.state)
            row, _ = self._one("VERIFY TX %s SINCE TX %s",
                            (tx_id, trusted.tx_id if trusted else 0), trusted)
            proof = self._parse(TxProof.from_json, row[-1], "tx proof")
            new = self._check_tx(proof, trusted)
            if proof.tx.id != tx_id:
                raise TamperedError("entry", f"asked for tx {tx_id}, the proof is of tx "
                                    f"{proof.tx.id}", tx_id=proof.tx.id)
            self._check_tx_row(row, proof)
            slot.set(new)
            return VerifiedTx(tx_id, _ts(proof.tx), list(proof.entries), slot.state, proof)

    def verified_get(self, key: bytes | str, at_tx: int | None = None) -> VerifiedEntry:
        """kv_verified_get: the value of a KV API key (as of `at_tx`), proven."""
        k = key.encode() if isinstance(key, str) else bytes(key)
        with self.store.slot(self.database) as slot:
            trusted = self._checked(slot.state)
            since = trusted.tx_id if trusted else 0
            if at_tx is None:
                row, _ = self._one("SELECT key, value, tx_id, proof FROM kv_verified_get(%s, %s)",
                                (k, since), trusted)
            else:
                row, _ = self._one("SELECT key, value, tx_id, proof FROM "
                                "kv_verified_get(%s, %s, %s)", (k, since, at_tx), trusted)
            proof = self._parse(EntryProof.from_json, row[3], "entry proof")
            new = self._check_entry(proof, trusted, "entry proof")
            if proof.key != KV_PREFIX + k:
                raise TamperedError("entry", f"asked for key {k!r}, the proof is of the stored "
                                    f"key {proof.key.hex()}", tx_id=proof.tx.id)
            if hashing.is_deleted(proof.md):
                raise TamperedError("entry", f"the proven version of {k!r} is a deletion",
                                    tx_id=proof.tx.id)
            if at_tx is not None and proof.tx.id > at_tx:
                raise TamperedError("entry", f"the proven version is from tx {proof.tx.id}, "
                                    f"after at_tx {at_tx}", tx_id=proof.tx.id)
            value, ref = self._kv_value(proof)
            shown_value = None if row[1] is None else bytes(row[1])
            if row[0] is None or bytes(row[0]) != k or shown_value != value \
                    or row[2] != proof.tx.id:
                raise TamperedError("entry", f"the server showed {row[:3]!r}, the proof "
                                    f"holds {(k, value, proof.tx.id)!r}", tx_id=proof.tx.id)
            slot.set(new)
            return VerifiedEntry(k, value, proof.tx.id, ref, slot.state, proof)

    def verified_set(self, key: bytes | str, value: bytes | str) -> VerifiedTx:
        """kv_verified_set: write, then check the proof of the new transaction (it must
        be newer than the trusted state and hold exactly this entry)."""
        k = key.encode() if isinstance(key, str) else bytes(key)
        v = value.encode() if isinstance(value, str) else bytes(value)
        with self.store.slot(self.database) as slot:
            trusted = self._checked(slot.state)
            since = trusted.tx_id if trusted else 0
            row, _ = self._one("SELECT tx_id, ts, nentries, proof FROM kv_verified_set(%s, %s, %s)",
                            (k, v, since), trusted)
            proof = self._parse(TxProof.from_json, row[3], "tx proof")
            new = self._check_tx(proof, trusted)
            if proof.tx.id <= since:
                raise TamperedError("entry", f"the write was proven by tx {proof.tx.id}, not "
                                    f"a transaction after the trusted tx {since}",
                                    tx_id=proof.tx.id)
            if list(proof.entries) != [(KV_PREFIX + k, b"\x00" + v, b"")]:
                raise TamperedError("entry", f"the proven tx {proof.tx.id} is not exactly the "
                                    f"write of {k!r}", tx_id=proof.tx.id)
            self._check_tx_row(row, proof)
            slot.set(new)
            return VerifiedTx(proof.tx.id, _ts(proof.tx), list(proof.entries), slot.state,
                              proof)

    # ------------------------------------------------------------------ helpers -------
    def _one(self, query, params, trusted: State | None) -> tuple[tuple, list[str]]:
        """Run a proof query; server-reported corruption and a server that no longer
        has the trusted transaction (rollback) are TamperedErrors."""
        try:
            cur = self.conn.execute(query, params)
            row = cur.fetchone()
        except psycopg.Error as e:
            code = getattr(e, "sqlstate", None)
            if code in ("XX001", "XX002"):
                raise TamperedError("server-corruption", f"the server reports: {e}") from e
            if trusted is not None and trusted.tx_id > 0 and code == "22023":
                self._check_not_rolled_back(trusted)
            raise
        if row is None:
            raise TamperedError("malformed", "the server returned no row")
        return row, [d.name for d in cur.description]

    def _check_not_rolled_back(self, trusted: State) -> None:
        try:
            current = self.conn.execute("SELECT tx_id FROM immusql_state()").fetchone()[0]
        except psycopg.Error:
            return
        if current is not None and current < trusted.tx_id:
            raise TamperedError("rollback", f"the server's last transaction is {current}, "
                                f"but this client already verified tx {trusted.tx_id}: "
                                "history was truncated or an old copy restored",
                                tx_id=current)

    def _pk_names(self, schema, table, pk) -> dict:
        """Primary-key column names from the server's catalog, to build the WHERE; not
        trusted: the proven definition is checked against them afterwards."""
        values = pk if isinstance(pk, (tuple, list)) else (pk,)
        names = [r[0] for r in self.conn.execute(
            "SELECT kcu.column_name FROM information_schema.table_constraints tc "
            "JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = "
            "tc.constraint_name AND kcu.table_schema = tc.table_schema AND kcu.table_name "
            "= tc.table_name WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema "
            "= %s AND tc.table_name = %s ORDER BY kcu.ordinal_position",
            (schema or "public", table)).fetchall()]
        if len(names) != len(values):
            raise ClientError(f"table {table} has primary key ({', '.join(names)}): give "
                              f"{len(names)} value(s), or a dict")
        return dict(zip(names, values))

    def _parse(self, parse_fn, obj, what: str):
        return checks.parse(parse_fn, obj, what)

    def _check_entry(self, proof: EntryProof, trusted: State | None, what: str) -> State:
        return checks.check_entry(proof, trusted, self.public_key, what)

    def _check_tx(self, proof: TxProof, trusted: State | None) -> State:
        return checks.check_tx(proof, trusted, self.public_key)

    @staticmethod
    def _check_tx_row(row, proof: TxProof) -> None:
        tx_id, ts, nentries = row[0], row[1], row[2]
        if (tx_id, nentries) != (proof.tx.id, proof.tx.nentries) or (
                isinstance(ts, dt.datetime) and ts != _ts(proof.tx)):
            raise TamperedError("entry", f"the server showed tx {tx_id} at {ts} with "
                                f"{nentries} entries, the proof tx {proof.tx.id} at "
                                f"{_ts(proof.tx)} with {proof.tx.nentries}", tx_id=proof.tx.id)

    @staticmethod
    def _kv_value(proof: EntryProof) -> tuple[bytes | None, tuple[int, bytes] | None]:
        v = proof.value
        if v[:1] == b"\x00":
            return v[1:], None
        if v[:1] == b"\x01" and len(v) >= 11 and v[9:11] == KV_PREFIX:
            return None, (int.from_bytes(v[1:9], "big"), v[11:])
        raise TamperedError("entry", f"the proven value {v[:12].hex()}... is neither a plain "
                            "value nor a reference", tx_id=proof.tx.id)
