"""VERIFY ROW / VERIFY TX, immusql_state() and the kv_* functions in the engine.

Every proof the engine returns is checked here the way docs/verify.md tells a client to:
with the pure verifier (`immusql.kv.proofs` / `Verifier`) against a trusted state, then
decoded from the proven bytes alone (row key, row value, relation descriptor) and compared
with the row the statement showed.
"""

from __future__ import annotations

import datetime as dt
import json
import struct
from decimal import Decimal

import msgpack
import pytest
from cryptography.hazmat.primitives import serialization

import immusql
from immusql import errors
from immusql.kv import (
    EntryProof,
    ProofError,
    State,
    TxProof,
    Verifier,
    generate_signing_key,
    public_key_bytes,
    verify_entry_proof,
    verify_state_transition,
    verify_tx_proof,
)
from immusql.kv.hashing import EMPTY_HASH
from immusql.kv.proofs import DualProof
from immusql.planner import keys as keycodec
from immusql.planner import rows as rowcodec
from immusql.planner.catalog import type_from_oid

U32 = struct.Struct(">I")


@pytest.fixture
def session(engine):
    s = engine.session()
    yield s
    s.close()


def run(session, sql, params=()):
    return session.execute(sql, params)[-1]


def one(session, sql, params=()):
    r = run(session, sql, params)
    assert len(r.rows) == 1, r.rows
    return dict(zip([c.name for c in r.columns], r.rows[0]))


def sqlstate(session, sql, params=()) -> str:
    with pytest.raises(errors.Error) as info:
        session.execute(sql, params)
    return info.value.sqlstate


def fails(session, sql, params=()):
    with pytest.raises(errors.Error) as info:
        session.execute(sql, params)
    return info.value


# ------------------------------------------------------------------ a client's decoder --
# Only the documents: docs/verify.md, docs/sql-format.md. The type codecs of the planner
# are used for the per-type value rules, which test_rows/test_keys check separately.

def descriptor(schema_proof: EntryProof) -> dict:
    key, value = schema_proof.key, schema_proof.value
    assert key[:2] == b"\x00C" and value[:1] == b"\x00"
    d = msgpack.unpackb(value[1:], raw=False, strict_map_key=False)
    assert U32.unpack(key[2:6])[0] == d["id"]
    return d


def decode_row(proof: EntryProof, d: dict) -> dict:
    """column name -> value of the proven row, decoded with the proven descriptor."""
    key, value = proof.key, proof.value
    assert key[:1] == b"\x00" and value[:1] == b"\x00"
    assert key[1:2] == b"R" and U32.unpack(key[2:6])[0] == d["id"]
    types = {cid: type_from_oid(oid, typmod) for cid, _, oid, typmod, *_ in d["columns"]}
    by_id = rowcodec.decode_row(value[1:], types)
    names = {cid: name for cid, name, *_ in d["columns"]}
    out = {names[cid]: v for cid, v in by_id.items()}
    if d["pk"]:  # the key must hold the primary key the value holds
        pk = keycodec.decode_key(key[6:], tuple(types[c] for c in d["pk"]))
        assert pk == tuple(by_id[c] for c in d["pk"])
    return out


def check_row(result_row: dict, trusted: State | None = None, public_key=None):
    """Verify `proof` then `schema_proof` (chained), decode, compare with the shown row.
    Returns (row proof, schema proof, the state reached)."""
    proof = EntryProof.from_json(json.loads(result_row["proof"]))
    state = verify_entry_proof(proof, trusted, public_key)
    schema = EntryProof.from_json(json.loads(result_row["schema_proof"]))
    state = verify_entry_proof(schema, state, public_key)
    d = descriptor(schema)
    shown = {k: v for k, v in result_row.items() if k not in ("proof", "schema_proof")}
    assert [c[1] for c in d["columns"]] == list(shown)
    assert decode_row(proof, d) == shown
    return proof, schema, state


# ------------------------------------------------------------------ VERIFY ROW ----------

def test_row_proof_verifies_and_decodes_to_the_row(session):
    run(session, "CREATE TABLE acct (id bigint PRIMARY KEY, owner text NOT NULL, "
                 "balance numeric(12,2), opened timestamptz, tags text[], doc jsonb, "
                 "raw bytea, flag boolean, d date)")
    run(session, "INSERT INTO acct VALUES (7, 'alice', 100.50, '2024-01-02 03:04:05+00', "
                 "'{a,b}', '{\"k\": [1, 2]}', '\\x00ff', true, '2024-02-29'), "
                 "(8, 'bob', NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
    row = one(session, "VERIFY ROW FROM acct WHERE id = 7")
    assert row["owner"] == "alice" and row["balance"] == Decimal("100.50")
    proof, schema, state = check_row(row)
    assert proof.dual is None and proof.md == b""  # trust on first use
    assert state.tx_id == proof.tx.id
    assert descriptor(schema)["name"] == "acct"
    row = one(session, "VERIFY ROW FROM acct WHERE id = 8")
    assert row["balance"] is None
    check_row(row)


def test_proofs_chain_through_one_verifier(session, engine, tmp_path):
    run(session, "CREATE TABLE t (id int PRIMARY KEY, v text)")
    run(session, "INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    verifier = Verifier(engine.store.db, path=tmp_path / "state.json")
    row = one(session, "VERIFY ROW FROM t WHERE id = 1")
    verifier.verify_entry(row["proof"])
    verifier.verify_entry(row["schema_proof"])
    trusted = verifier.state.tx_id
    run(session, "UPDATE t SET v = 'a2' WHERE id = 1")
    run(session, "INSERT INTO t VALUES (3, 'c')")
    row = one(session, f"VERIFY ROW FROM t WHERE id = 1 SINCE TX {trusted}")
    assert row["v"] == "a2"
    proof = EntryProof.from_json(json.loads(row["proof"]))
    assert proof.dual.source.id == trusted and proof.dual.target.id == proof.tx.id
    verifier.verify_entry(row["proof"])
    verifier.verify_entry(row["schema_proof"])
    assert verifier.state.tx_id == proof.tx.id
    # a proof made from another trusted state is refused
    stale = one(session, "VERIFY ROW FROM t WHERE id = 3 SINCE TX 1")
    with pytest.raises(ProofError):
        verifier.verify_entry(stale["proof"])
    # restarted client: the persisted state goes on
    again = Verifier(engine.store.db, path=tmp_path / "state.json")
    row = one(session, f"VERIFY ROW FROM t WHERE id = 3 SINCE TX {again.state.tx_id}")
    again.verify_entry(row["proof"])
    again.verify_entry(row["schema_proof"])


def test_since_newer_than_the_row(session):
    run(session, "CREATE TABLE t (id int PRIMARY KEY, v text)")
    run(session, "INSERT INTO t VALUES (1, 'a')")
    for i in range(3):
        run(session, f"INSERT INTO t VALUES ({i + 10}, 'x')")
    last = session.engine.store.last_committed
    trusted = session.engine.store.state()
    row = one(session, f"VERIFY ROW FROM t WHERE id = 1 SINCE TX {last}")
    proof, schema, state = check_row(row, trusted)
    assert proof.tx.id < last and proof.dual.target.id == last
    assert state.tx_id == last  # never moves back


def test_as_of_proves_the_older_version(session):
    run(session, "CREATE TABLE t (id int PRIMARY KEY, v text)")
    run(session, "INSERT INTO t VALUES (1, 'first')")
    at = session.engine.store.last_committed
    run(session, "UPDATE t SET v = 'second' WHERE id = 1")
    old = one(session, f"VERIFY ROW FROM t WHERE id = 1 AS OF TX {at}")
    assert old["v"] == "first"
    proof, _, _ = check_row(old)
    assert proof.tx.id == at
    new = one(session, "VERIFY ROW FROM t WHERE id = 1")
    assert new["v"] == "second"
    assert check_row(new)[0].tx.id == at + 1
    # before the row existed
    assert sqlstate(session, f"VERIFY ROW FROM t WHERE id = 1 AS OF TX {at - 1}") == "P0002"


def test_deleted_row_is_proven_through_its_tombstone(session):
    run(session, "CREATE TABLE t (id int PRIMARY KEY, v text)")
    run(session, "INSERT INTO t VALUES (1, 'a')")
    run(session, "UPDATE t SET v = 'b' WHERE id = 1")
    run(session, "DELETE FROM t WHERE id = 1")
    err = fails(session, "VERIFY ROW FROM t WHERE id = 1")
    assert err.sqlstate == "P0002" and "deleted" in err.message and "HISTORY OF" in err.hint
    row = one(session, "VERIFY ROW FROM HISTORY OF t WHERE id = 1")
    assert row["v"] == "b"  # the tombstone keeps the deleted row
    proof, _, _ = check_row(row)
    assert proof.md == b"\x00"  # deleted
    first = one(session, "VERIFY ROW FROM HISTORY OF t WHERE id = 1 AND _rev = 1")
    assert first["v"] == "a" and check_row(first)[0].md == b""
    tx2 = check_row(one(session, "VERIFY ROW FROM HISTORY OF t WHERE _rev = 2 AND id = 1"))
    by_tx = one(session, f"VERIFY ROW FROM HISTORY OF t WHERE id = 1 AND _tx = "
                         f"{tx2[0].tx.id}")
    assert by_tx["v"] == "b" and check_row(by_tx)[0].md == b""
    assert sqlstate(session, "VERIFY ROW FROM HISTORY OF t WHERE id = 1 AND _rev = 9") \
        == "P0002"
    assert sqlstate(session, "VERIFY ROW FROM HISTORY OF t WHERE id = 2") == "P0002"
    # AS OF before the delete, without HISTORY OF, proves the live version
    at = tx2[0].tx.id
    assert one(session, f"VERIFY ROW FROM t WHERE id = 1 AS OF TX {at}")["v"] == "b"


def test_schema_proof_follows_alter_table(session):
    run(session, "CREATE TABLE t (id int PRIMARY KEY, v text, gone int)")
    run(session, "INSERT INTO t VALUES (1, 'a', 5)")
    run(session, "ALTER TABLE t RENAME COLUMN v TO w")
    run(session, "ALTER TABLE t DROP COLUMN gone")
    run(session, "ALTER TABLE t ADD COLUMN extra int")
    row = one(session, "VERIFY ROW FROM t WHERE id = 1")
    assert row == {**row, "id": 1, "w": "a", "extra": None}
    proof, schema, _ = check_row(row)
    assert schema.tx.id > proof.tx.id  # the definition the row was shown with
    assert [c[1] for c in descriptor(schema)["columns"]] == ["id", "w", "extra"]


def test_composite_key_and_table_without_primary_key(session):
    run(session, "CREATE TABLE c (a text, b int, v text, PRIMARY KEY (a, b))")
    run(session, "INSERT INTO c VALUES ('x', 1, 'one'), ('x', 2, 'two')")
    row = one(session, "VERIFY ROW FROM c WHERE b = 2 AND c.a = 'x'")
    assert row["v"] == "two"
    check_row(row)
    assert sqlstate(session, "VERIFY ROW FROM c WHERE a = 'x'") == "42P10"
    run(session, "CREATE TABLE h (v text)")
    run(session, "INSERT INTO h VALUES ('p'), ('q')")
    key = run(session, "SELECT _key FROM h WHERE v = 'q'").rows[0][0]
    assert sqlstate(session, "VERIFY ROW FROM h WHERE v = 'q'") == "42P10"
    row = one(session, "VERIFY ROW FROM h WHERE _key = $1", (key,))
    assert row["v"] == "q"
    proof, _, _ = check_row(row)
    assert proof.key == b"\x00" + key
    # _key also works on a table with a primary key, but not together with it
    ckey = run(session, "SELECT _key FROM c WHERE a = 'x' AND b = 1").rows[0][0]
    assert one(session, "VERIFY ROW FROM c WHERE _key = $1", (ckey,))["v"] == "one"
    assert sqlstate(session, "VERIFY ROW FROM c WHERE _key = $1 AND a = 'x' AND b = 1",
                    (ckey,)) == "42P10"
    assert sqlstate(session, "VERIFY ROW FROM c WHERE _key = $1", (key,)) == "P0002"


def test_parameters_and_describe(session):
    run(session, "CREATE TABLE t (id int PRIMARY KEY, v text)")
    run(session, "INSERT INTO t VALUES (1, 'a')")
    d = session.describe("VERIFY ROW FROM t WHERE id = $1 SINCE TX $2")
    assert [t.name for t in d.param_types] == ["integer", "bigint"]
    assert [c.name for c in d.columns] == ["id", "v", "proof", "schema_proof"]
    assert d.columns[2].type.name == "json"
    row = one(session, "VERIFY ROW FROM t WHERE id = $1 SINCE TX $2", (1, 1))
    check_row(row, State(session.engine.store.db, 1, session.engine.store.alh(1)))
    d = session.describe("VERIFY TX $1")
    assert [c.name for c in d.columns] == ["tx_id", "ts", "nentries", "proof"]


def test_verify_row_errors(session):
    run(session, "CREATE TABLE t (id int PRIMARY KEY, v text)")
    run(session, "CREATE VIEW w AS SELECT * FROM t")
    run(session, "INSERT INTO t VALUES (1, 'a')")
    cases = {
        "VERIFY ROW FROM t WHERE id = 2": "P0002",
        "VERIFY ROW FROM t WHERE id = NULL": "P0002",
        "VERIFY ROW FROM t WHERE id = 1.5": "P0002",
        "VERIFY ROW FROM t WHERE id = 'x'": "22P02",
        "VERIFY ROW FROM t WHERE id = 1 AND v = 'a'": "42P10",
        "VERIFY ROW FROM t WHERE id > 0": "42P10",
        "VERIFY ROW FROM t WHERE id = 1 OR id = 2": "42P10",
        "VERIFY ROW FROM t WHERE id = 1 AND id = 1": "42P10",
        "VERIFY ROW FROM t WHERE v = 'a'": "42P10",
        "VERIFY ROW FROM t WHERE id = 1 AND _rev = 1": "42P10",
        "VERIFY ROW FROM t WHERE nope = 1": "42703",
        "VERIFY ROW FROM t WHERE x.id = 1": "42P01",
        "VERIFY ROW FROM missing WHERE id = 1": "42P01",
        "VERIFY ROW FROM w WHERE id = 1": "42809",
        "VERIFY ROW FROM pg_class WHERE oid = 1": "42809",
        "VERIFY ROW FROM t WHERE id = 1 AS OF TX 999": "22023",
        "VERIFY ROW FROM t WHERE id = 1 SINCE TX 999": "22023",
        "VERIFY ROW FROM t WHERE id = 1 SINCE TX -1": "22023",
    }
    got = {sql: sqlstate(session, sql) for sql in cases}
    assert got == cases


def test_verify_row_in_a_block_proves_committed_data(session):
    run(session, "CREATE TABLE t (id int PRIMARY KEY, v text)")
    run(session, "INSERT INTO t VALUES (1, 'committed')")
    run(session, "BEGIN")
    run(session, "UPDATE t SET v = 'mine' WHERE id = 1")
    assert one(session, "VERIFY ROW FROM t WHERE id = 1")["v"] == "committed"
    run(session, "ALTER TABLE t ADD COLUMN w int")
    assert sqlstate(session, "VERIFY ROW FROM t WHERE id = 1") == "55000"
    run(session, "ROLLBACK")
    run(session, "BEGIN")
    run(session, "CREATE TABLE n (id int PRIMARY KEY)")
    run(session, "INSERT INTO n VALUES (1)")
    assert sqlstate(session, "VERIFY ROW FROM n WHERE id = 1") == "P0002"
    run(session, "ROLLBACK")


# ------------------------------------------------------------------ VERIFY TX -----------

def test_verify_tx_returns_every_entry(session, engine):
    run(session, "CREATE TABLE t (id int PRIMARY KEY, v text UNIQUE)")
    run(session, "INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    n = engine.store.last_committed
    row = one(session, f"VERIFY TX {n}")
    assert row["tx_id"] == n and row["nentries"] == 4  # 2 rows + 2 unique index entries
    assert isinstance(row["ts"], dt.datetime)
    proof = TxProof.from_json(json.loads(row["proof"]))
    state = verify_tx_proof(proof, None)
    assert proof.dual is None and state.tx_id == n
    keys = sorted(k for k, _, _ in proof.entries)
    assert [k[:2] for k in keys] == [b"\x00I", b"\x00I", b"\x00R", b"\x00R"]
    assert dt.datetime.fromtimestamp(proof.tx.ts / 1e6, dt.timezone.utc) == row["ts"]
    row = one(session, f"VERIFY TX 1 SINCE TX {n}")
    proof = TxProof.from_json(json.loads(row["proof"]))
    trusted = State(engine.store.db, n, engine.store.alh(n))
    assert verify_tx_proof(proof, trusted).tx_id == n
    assert proof.dual.source.id == 1 and proof.dual.target.id == n
    for sql, code in {"VERIFY TX 0": "22023", f"VERIFY TX {n + 1}": "22023",
                      "VERIFY TX NULL": "22004", "VERIFY TX 'x'": "22P02",
                      f"VERIFY TX 1 SINCE TX {n + 1}": "22023"}.items():
        assert sqlstate(session, sql) == code, sql


# ------------------------------------------------------------------ state and signing ---

def test_immusql_state(session, engine):
    empty = one(session, "SELECT * FROM immusql_state()")
    assert (empty["tx_id"], empty["alh"], empty["signature"]) == (0, EMPTY_HASH.hex(), None)
    run(session, "CREATE TABLE t (id int PRIMARY KEY)")
    run(session, "INSERT INTO t VALUES (1)")
    s = one(session, "SELECT * FROM immusql_state()")
    state = State.from_json(json.loads(s["state"]))
    assert state == engine.store.state() and s["dual"] is None
    assert (s["db"], s["tx_id"], s["alh"]) == (state.db, state.tx_id, state.alh.hex())
    assert one(session, "SELECT immusql_public_key()") == {"immusql_public_key": None}
    # the auditor's step: from a trusted tx to the current state
    run(session, "INSERT INTO t VALUES (2)")
    s = one(session, "SELECT * FROM immusql_state(1)")
    trusted = State(engine.store.db, 1, engine.store.alh(1))
    new = verify_state_transition(trusted, DualProof.from_json(json.loads(s["dual"])),
                                  State.from_json(json.loads(s["state"])))
    assert new.tx_id == engine.store.last_committed
    first = one(session, "SELECT * FROM immusql_state(0)")  # trust on first use
    v = Verifier(engine.store.db)
    v.advance(first["dual"], first["state"])
    assert v.state.tx_id == engine.store.last_committed


def _pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def test_signed_states(tmp_path):
    key = generate_signing_key()
    public = public_key_bytes(key)
    conn = immusql.connect(tmp_path / "signed", autocommit=True, signing_key=_pem(key))
    try:
        cur = conn.cursor()
        cur.execute("SELECT immusql_public_key()")
        assert cur.fetchone()[0] == public.hex()
        cur.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        cur.execute("INSERT INTO t VALUES (1, 'a')")
        cur.execute("SELECT state, signature, public_key FROM immusql_state()")
        state_json, signature, pub = cur.fetchone()
        state = State.from_json(json.loads(state_json))
        assert signature == state.signature.hex() and pub == public.hex()
        state.verify_signature(public)
        with pytest.raises(ProofError):
            state.verify_signature(public_key_bytes(generate_signing_key()))
        cur.execute("VERIFY ROW FROM t WHERE id = 1")
        names = [d[0] for d in cur.description]
        row = dict(zip(names, cur.fetchone()))
        check_row(row, public_key=public)  # every state on the way is signed
        with pytest.raises(ProofError):
            check_row(row, public_key=public_key_bytes(generate_signing_key()))
        verifier = Verifier(state.db, public_key=public)
        verifier.verify_entry(row["proof"])
        cur.execute(f"VERIFY TX 1 SINCE TX {verifier.state.tx_id}")
        verifier.verify_tx(cur.fetchone()[3])
    finally:
        conn.close()


# ------------------------------------------------------------------ KV functions --------

def test_kv_set_get_history_scan(session, engine):
    assert one(session, "SELECT * FROM kv_set('a', 'one')")["tx_id"] == 1
    assert one(session, "SELECT kv_set('\\x00ff'::bytea, '\\x01'::bytea)")["kv_set"] == 2
    assert one(session, "SELECT * FROM kv_set('a', 'two')")["tx_id"] == 3
    got = one(session, "SELECT * FROM kv_get('a')")
    assert got == {"key": b"a", "value": b"two", "tx_id": 3, "revision": 2, "ref_key": None}
    assert one(session, "SELECT value FROM kv_get('a', 1)")["value"] == b"one"
    assert run(session, "SELECT * FROM kv_get('missing')").rows == []
    assert one(session, "SELECT value FROM kv_get($1)", (b"\x00\xff",))["value"] == b"\x01"
    hist = run(session, "SELECT value, tx_id, revision, deleted FROM kv_history('a')").rows
    assert hist == [(b"one", 1, 1, False), (b"two", 3, 2, False)]
    assert one(session, "SELECT * FROM kv_delete('a')")["tx_id"] == 4
    assert run(session, "SELECT * FROM kv_get('a')").rows == []
    assert run(session, "SELECT value, deleted FROM kv_history('a')").rows[-1] == (None, True)
    assert sqlstate(session, "SELECT * FROM kv_delete('a')") == "P0002"
    for k in ("p1", "p2", "q1"):
        run(session, f"SELECT kv_set('{k}', 'v')")
    assert [r[0] for r in run(session, "SELECT key FROM kv_scan('p')").rows] == [b"p1", b"p2"]
    assert [r[0] for r in run(session, "SELECT key FROM kv_scan('', 2)").rows] == \
        [b"\x00\xff", b"p1"]
    assert sqlstate(session, "SELECT * FROM kv_set('', 'x')") == "22023"
    assert sqlstate(session, "SELECT * FROM kv_set('k', NULL)") == "22004"
    assert sqlstate(session, "SELECT * FROM kv_get('a', 999)") == "22023"


def test_kv_references_and_sorted_sets(session):
    run(session, "SELECT kv_set('target', 'v1')")
    run(session, "SELECT kv_set_reference('ref', 'target')")
    at = one(session, "SELECT * FROM kv_set('target', 'v2')")["tx_id"]
    pinned = one(session, f"SELECT * FROM kv_set_reference('old', 'target', {at - 2})")[
        "tx_id"]
    got = one(session, "SELECT * FROM kv_get('ref')")
    assert (got["key"], got["value"], got["ref_key"]) == (b"target", b"v2", b"ref")
    assert one(session, "SELECT value FROM kv_get('old')")["value"] == b"v1"
    assert pinned > at
    assert sqlstate(session, "SELECT kv_set_reference('r2', 'nothing')") == "P0002"
    assert sqlstate(session, "SELECT kv_set_reference('r2', 'ref')") == "22023"
    run(session, "SELECT kv_set('m1', 'x'), kv_set('m2', 'y')")
    run(session, "SELECT kv_zadd('set', 2.5, 'm1')")
    run(session, "SELECT kv_zadd('set', -1, 'm2')")
    rows = run(session, "SELECT key, score, value FROM kv_zscan('set')").rows
    assert rows == [(b"m2", -1.0, b"y"), (b"m1", 2.5, b"x")]
    assert sqlstate(session, "SELECT kv_zadd('set', 1, 'nope')") == "P0002"


def test_kv_tx_and_tx_scan(session, engine):
    run(session, "SELECT kv_set('a', 'x')")
    run(session, "CREATE TABLE t (id int PRIMARY KEY)")
    rows = run(session, "SELECT * FROM kv_tx(1)").rows
    assert [(r[0], r[2], r[3], r[4], r[5]) for r in rows] == [(1, 0, b"\x00Ka", b"\x00x", b"")]
    assert isinstance(rows[0][1], dt.datetime)
    scanned = run(session, "SELECT tx_id, key FROM kv_tx_scan(1, 2)").rows
    assert scanned[0] == (1, b"\x00Ka") and {r[0] for r in scanned} == {1, 2}
    assert any(k.startswith(b"\x00C") for _, k in scanned)  # the catalog is entries too
    assert sqlstate(session, "SELECT * FROM kv_tx(99)") == "22023"


def test_kv_key_space_is_isolated_from_sql(session, engine):
    run(session, "CREATE TABLE t (id int PRIMARY KEY, v text)")
    run(session, "INSERT INTO t VALUES (1, 'row')")
    row_key = run(session, "SELECT _key FROM t").rows[0][0]
    # a KV key equal to the SQL row's key lands elsewhere
    run(session, "SELECT kv_set($1, 'not a row')", (row_key,))
    run(session, "SELECT kv_set('C', 'x'), kv_set('V', 'y')")
    assert run(session, "SELECT id, v FROM t").rows == [(1, "row")]
    assert one(session, "SELECT value FROM kv_get($1)", (row_key,))["value"] == b"not a row"
    keys = [r[0] for r in run(session, "SELECT key FROM kv_scan('')").rows]
    assert keys == [b"C", row_key, b"V"]
    assert engine.store.get(b"K" + row_key).value == b"not a row"
    assert engine.store.get(row_key).value != b"not a row"
    # and the catalog still loads in a new session
    s2 = engine.session()
    assert run(s2, "SELECT v FROM t").rows == [("row",)]
    s2.close()


def test_kv_writes_follow_transaction_blocks(session, engine):
    run(session, "BEGIN")
    assert one(session, "SELECT * FROM kv_set('a', '1')")["tx_id"] is None
    assert one(session, "SELECT value, tx_id FROM kv_get('a')") == {"value": b"1",
                                                                    "tx_id": None}
    run(session, "SELECT kv_set_reference('r', 'a')")
    assert one(session, "SELECT key, value, ref_key FROM kv_get('r')") == {
        "key": b"a", "value": b"1", "ref_key": b"r"}
    run(session, "SELECT kv_zadd('s', 1, 'a')")
    assert [r[0] for r in run(session, "SELECT key FROM kv_scan('')").rows] == [b"a", b"a"]
    run(session, "ROLLBACK")
    assert run(session, "SELECT * FROM kv_get('a')").rows == []
    assert run(session, "SELECT * FROM kv_zscan('s')").rows == []
    before = engine.store.last_committed
    run(session, "BEGIN")
    run(session, "SELECT kv_set('a', '1')")
    run(session, "SELECT kv_set_reference('r', 'a')")
    run(session, "SELECT kv_zadd('s', 1, 'r')")
    run(session, "COMMIT")
    assert engine.store.last_committed == before + 1  # one transaction
    assert one(session, "SELECT value, tx_id FROM kv_get('r')") == {"value": b"1",
                                                                    "tx_id": before + 1}
    assert run(session, "SELECT key, value FROM kv_zscan('s')").rows == [(b"r", b"1")]
    # read-only blocks refuse writes; the verifiable write commits at once
    run(session, "BEGIN READ ONLY")
    assert sqlstate(session, "SELECT kv_set('b', '2')") == "25006"
    run(session, "ROLLBACK")
    run(session, "BEGIN")
    tx = one(session, "SELECT tx_id FROM kv_verified_set('b', '2', 0)")["tx_id"]
    run(session, "ROLLBACK")
    assert one(session, "SELECT tx_id FROM kv_get('b')")["tx_id"] == tx


def test_kv_verified_forms(session, engine):
    run(session, "SELECT kv_set('a', 'x')")
    got = one(session, "SELECT * FROM kv_verified_get('a', 0)")
    assert (got["key"], got["value"], got["tx_id"]) == (b"a", b"x", 1)
    proof = EntryProof.from_json(json.loads(got["proof"]))
    state = verify_entry_proof(proof, None)
    assert (proof.key, proof.value) == (b"\x00Ka", b"\x00x")
    setp = one(session, f"SELECT * FROM kv_verified_set('b', 'y', {state.tx_id})")
    tp = TxProof.from_json(json.loads(setp["proof"]))
    state = verify_tx_proof(tp, state)
    assert tp.entries == [(b"\x00Kb", b"\x00y", b"")] and state.tx_id == setp["tx_id"] == 2
    run(session, "SELECT kv_set('a', 'z')")
    old = one(session, f"SELECT * FROM kv_verified_get('a', {state.tx_id}, 1)")
    assert old["value"] == b"x"
    assert verify_entry_proof(EntryProof.from_json(json.loads(old["proof"])), state) == state
    txp = one(session, "SELECT * FROM kv_verified_tx(3, 2)")
    assert verify_tx_proof(TxProof.from_json(json.loads(txp["proof"])), state).tx_id == 3
    run(session, "SELECT kv_set_reference('r', 'a')")
    ref = one(session, "SELECT * FROM kv_verified_get('r', 0)")
    assert ref["value"] is None  # the proven entry is the reference itself
    assert EntryProof.from_json(json.loads(ref["proof"])).value[:1] == b"\x01"
    assert sqlstate(session, "SELECT * FROM kv_verified_get('nope', 0)") == "P0002"
    assert sqlstate(session, "SELECT * FROM kv_verified_tx(99, 0)") == "22023"
