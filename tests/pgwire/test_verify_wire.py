"""VERIFY ROW / VERIFY TX, immusql_state() and kv_* over the wire, checked by a client the
way docs/verify.md describes: psycopg receives the proofs as json, the pure verifier
checks them, and (with `--signing-key`) every state is signed by the key the server
printed and `immusql_public_key()` returns."""

from __future__ import annotations

import json

import psycopg
import pytest
from harness import InProcessServer, ServerProcess
from psycopg import errors as pgerrors

from immusql.kv import EntryProof, ProofError, State, Verifier, verify_entry_proof
from immusql.signing import load_signing_key, public_key_from_pem, write_key_pair


def _rows(cur) -> list[dict]:
    names = [d.name for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def test_verify_row_with_parameters(conn):
    conn.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
    conn.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    cur = conn.execute("VERIFY ROW FROM t WHERE id = %s", (1,))  # extended protocol
    (row,) = _rows(cur)
    assert [d.type_code for d in cur.description][-2:] == [114, 114]  # json
    assert isinstance(row["proof"], dict)  # psycopg parsed the json
    db = row["proof"]["state"]["db"]
    verifier = Verifier(db)
    proof = verifier.verify_entry(row["proof"])
    verifier.verify_entry(row["schema_proof"])
    assert proof.key.startswith(b"\x00R")
    trusted = verifier.state.tx_id
    conn.execute("UPDATE t SET v = 'b2' WHERE id = 2")
    (row,) = _rows(conn.execute("VERIFY ROW FROM t WHERE id = %s SINCE TX %s", (2, trusted)))
    assert row["v"] == "b2"
    verifier.verify_entry(row["proof"])
    verifier.verify_entry(row["schema_proof"])
    # simple protocol, HISTORY OF a deleted row
    conn.execute("DELETE FROM t WHERE id = 1")
    with pytest.raises(pgerrors.NoDataFound) as info:
        conn.execute("VERIFY ROW FROM t WHERE id = 1")
    assert "HISTORY OF" in info.value.diag.message_hint
    (row,) = _rows(conn.execute("VERIFY ROW FROM HISTORY OF t WHERE id = 1"))
    assert row["v"] == "a" and row["proof"]["entry"]["md"] == "00"
    with pytest.raises(pgerrors.InvalidColumnReference):
        conn.execute("VERIFY ROW FROM t WHERE v = 'a'")


def test_verify_tx_and_state(conn):
    conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
    conn.execute("INSERT INTO t VALUES (1)")
    (state,) = _rows(conn.execute("SELECT * FROM immusql_state()"))
    assert state["signature"] is None  # this server has no signing key
    n = state["tx_id"]
    (tx,) = _rows(conn.execute("VERIFY TX %s", (n,)))
    assert tx["tx_id"] == n and tx["nentries"] == 1
    verifier = Verifier(state["db"])
    verifier.verify_tx(tx["proof"])
    assert verifier.state.alh.hex() == state["alh"]
    (tx,) = _rows(conn.execute(f"VERIFY TX 1 SINCE TX {n}"))
    verifier.verify_tx(tx["proof"])
    assert conn.execute("SELECT immusql_public_key()").fetchone() == (None,)


def test_kv_over_the_wire(conn):
    # autocommit over the extended protocol (psycopg's implicit transaction): committed
    tx = conn.execute("SELECT * FROM kv_set(%s, %s)", (b"k", b"v1")).fetchone()[0]
    assert isinstance(tx, int)
    assert conn.execute("SELECT kv_set('k', 'v2')").fetchone()[0] == tx + 1  # simple
    got = conn.execute("SELECT key, value, tx_id FROM kv_get(%s)", (b"k",)).fetchone()
    assert got == (b"k", b"v2", tx + 1)
    conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
    assert conn.execute("SELECT key FROM kv_scan('')").fetchall() == [(b"k",)]
    (row,) = _rows(conn.execute("SELECT * FROM kv_verified_get(%s, %s)", (b"k", 0)))
    proof = EntryProof.from_json(row["proof"])
    verify_entry_proof(proof, None)
    assert (proof.key, proof.value) == (b"\x00Kk", b"\x00v2")
    # an explicit block: the write joins it, and a rollback undoes it
    with conn.transaction(force_rollback=True):
        assert conn.execute("SELECT * FROM kv_set('k', 'v3')").fetchone() == (None,)
        assert conn.execute("SELECT value FROM kv_get('k')").fetchone() == (b"v3",)
    assert conn.execute("SELECT value FROM kv_get('k')").fetchone() == (b"v2",)


@pytest.fixture(scope="module")
def signed_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("signed")
    key_path = str(base / "signing.pem")
    write_key_pair(key_path)
    with InProcessServer(base / "data", signing_key=key_path) as s:
        yield s, key_path


def test_signed_server(signed_server):
    server, key_path = signed_server
    public = load_signing_key(key_path)[1]
    assert public_key_from_pem(open(key_path.replace(".pem", ".pub.pem")).read()) == public
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        assert c.execute("SELECT immusql_public_key()").fetchone()[0] == public.hex()
        c.execute("CREATE TABLE s (id int PRIMARY KEY, v text)")
        c.execute("INSERT INTO s VALUES (1, 'x')")
        (st,) = _rows(c.execute("SELECT * FROM immusql_state()"))
        state = State.from_json(st["state"])
        state.verify_signature(public)
        assert st["public_key"] == public.hex()
        (row,) = _rows(c.execute("VERIFY ROW FROM s WHERE id = 1"))
        verifier = Verifier(state.db, public_key=public)
        verifier.verify_entry(row["proof"])
        verifier.verify_entry(row["schema_proof"])
        intruder = Verifier(state.db, public_key=bytes.fromhex("04" + "11" * 64))
        with pytest.raises(ProofError):
            intruder.verify_entry(row["proof"])
        (auditor,) = _rows(c.execute("SELECT * FROM immusql_state(%s)",
                                     (verifier.state.tx_id,)))
        verifier.advance(auditor["dual"], auditor["state"])
        assert verifier.state.signature is not None
        json.dumps(auditor["state"])  # plain JSON values


def test_bad_signing_key_is_refused_at_start(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    with pytest.raises(Exception) as info:
        InProcessServer(tmp_path / "data", signing_key=str(bad)).start()
    assert "signing key" in str(info.value)


def test_keygen_then_serve_prints_the_public_key(tmp_path, capsys):
    from immusql.cli import main
    key = tmp_path / "k.pem"
    assert main(["keygen", "--out", str(key)]) == 0
    assert key.stat().st_mode & 0o777 == 0o600
    public = load_signing_key(str(key))[1]
    assert public.hex() in capsys.readouterr().out
    assert main(["keygen", "--out", str(key)]) == 1  # no silent overwrite
    with ServerProcess(tmp_path / "data", "--signing-key", str(key)) as srv:
        assert public.hex() in "".join(srv.log)
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            assert c.execute("SELECT immusql_public_key()").fetchone()[0] == public.hex()
