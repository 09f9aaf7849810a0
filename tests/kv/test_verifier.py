"""immusql.kv.verifier: the trusted state moves only forward, survives restarts, catches forks."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest

from immusql.kv.errors import ProofError
from immusql.kv.hashing import EMPTY_HASH
from immusql.kv.state import State, generate_signing_key, public_key_bytes
from immusql.kv.verifier import Verifier

try:
    from .chain import Chain
except ImportError:  # tests/kv is not a package: pytest put this directory on sys.path
    from chain import Chain

CHAIN = Chain(12, seed=7)


def test_starts_empty_and_advances_forward_only():
    v = Verifier("defaultdb")
    assert v.state == State("defaultdb", 0, EMPTY_HASH)
    v.verify_entry(CHAIN.entry_proof(3, 0, None))  # trust on first use
    assert v.state == CHAIN.state(3)
    v.verify_entry(CHAIN.entry_proof(8, 0, 3))
    assert v.state == CHAIN.state(8)
    # an older entry, honestly linked to the trusted state: accepted, state unchanged
    proof = v.verify_entry(CHAIN.entry_proof(2, 0, 8))
    assert proof.tx.id == 2 and v.state == CHAIN.state(8)
    # a proof built for an older trusted state no longer links to what we trust
    with pytest.raises(ProofError):
        v.verify_entry(CHAIN.entry_proof(5, 0, 3))
    assert v.state == CHAIN.state(8)
    v.verify_tx(CHAIN.tx_proof(12, 8))
    assert v.state == CHAIN.state(12)
    with pytest.raises(ProofError):  # trust on first use is only for the first proof
        v.verify_entry(CHAIN.entry_proof(12, 0, None))
    assert v.state == CHAIN.state(12)


def test_accepts_objects_dicts_and_json_strings():
    v = Verifier("defaultdb")
    proof = CHAIN.entry_proof(4, 0, None)
    assert v.verify_entry(proof.to_json()) == proof
    proof = CHAIN.entry_proof(6, 0, 4)
    assert v.verify_entry(json.dumps(proof.to_json())) == proof
    assert v.verify_tx(json.dumps(CHAIN.tx_proof(7, 6).to_json())) == CHAIN.tx_proof(7, 6)
    assert v.state == CHAIN.state(7)
    with pytest.raises(ProofError):
        v.verify_entry("{not json")
    with pytest.raises(ProofError):
        v.verify_entry({"version": 1})
    assert v.state == CHAIN.state(7)


def test_proofs_for_another_database_are_rejected():
    v = Verifier("otherdb")
    with pytest.raises(ProofError):
        v.verify_entry(CHAIN.entry_proof(3, 0, None))
    with pytest.raises(ProofError):
        v.advance(CHAIN.dual(3, 3), CHAIN.state(3))
    assert v.state == State("otherdb", 0, EMPTY_HASH)


def test_advance_through_dual_proofs():
    v = Verifier("defaultdb")
    v.advance(CHAIN.dual(2, 2), CHAIN.state(2))
    assert v.advance(CHAIN.dual(2, 9).to_json(), json.dumps(CHAIN.state(9).to_json())) \
        == CHAIN.state(9)
    with pytest.raises(ProofError):  # backwards
        v.advance(CHAIN.dual(5, 9), CHAIN.state(5))
    with pytest.raises(ProofError):  # not from the trusted state
        v.advance(CHAIN.dual(5, 11), CHAIN.state(11))
    assert v.state == CHAIN.state(9)
    v.advance(CHAIN.dual(9, 9), CHAIN.state(9))
    assert v.state == CHAIN.state(9)


def test_persistence_survives_reload(tmp_path):
    path = tmp_path / "state.json"
    v = Verifier("defaultdb", path)
    assert not path.exists()  # nothing trusted yet, nothing written
    v.verify_entry(CHAIN.entry_proof(5, 0, None))
    assert json.loads(path.read_text()) == CHAIN.state(5).to_json()
    v.verify_entry(CHAIN.entry_proof(1, 0, 5))  # older: no rewrite needed, same state
    reloaded = Verifier("defaultdb", path)
    assert reloaded.state == CHAIN.state(5)
    reloaded.verify_entry(CHAIN.entry_proof(10, 0, 5))
    assert Verifier("defaultdb", path).state == CHAIN.state(10)
    # a restarted client still refuses proofs that do not link to what it trusted
    with pytest.raises(ProofError):
        Verifier("defaultdb", path).verify_entry(CHAIN.entry_proof(11, 0, None))
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temp files left


def test_state_file_must_be_valid_and_for_this_db(tmp_path):
    path = tmp_path / "state.json"
    Verifier("defaultdb", path).verify_entry(CHAIN.entry_proof(5, 0, None))
    with pytest.raises(ProofError):
        Verifier("otherdb", path)
    obj = json.loads(path.read_text())
    path.write_text(json.dumps({**obj, "alh": obj["alh"][:-2]}))
    with pytest.raises(ProofError):
        Verifier("defaultdb", path)
    path.write_text("garbage")
    with pytest.raises(ProofError):
        Verifier("defaultdb", path)


def test_fork_is_caught(tmp_path):
    path = tmp_path / "state.json"
    v = Verifier("defaultdb", path)
    v.verify_entry(CHAIN.entry_proof(9, 0, None))
    fork = CHAIN.fork(6, seed=1234)  # the server rewrote history from tx 6 on
    for tx_id in range(1, 13):
        with pytest.raises(ProofError):
            v.verify_entry(fork.entry_proof(tx_id, 0, 9))
        with pytest.raises(ProofError):
            v.verify_tx(fork.tx_proof(tx_id, 9))
    with pytest.raises(ProofError):
        v.advance(fork.dual(9, 12), fork.state(12))
    assert v.state == CHAIN.state(9)
    assert Verifier("defaultdb", path).state == CHAIN.state(9)
    # the untouched prefix still verifies
    v.verify_entry(replace(fork.entry_proof(3, 0, 9), dual=CHAIN.dual(3, 9),
                           state=CHAIN.state(9)))


def test_signed_states(tmp_path):
    key = generate_signing_key()
    pub = public_key_bytes(key)
    chain = Chain(6, seed=3, signing_key=key)
    path = tmp_path / "state.json"
    v = Verifier("defaultdb", path, public_key=pub)
    v.verify_entry(chain.entry_proof(2, 0, None))
    proof = chain.entry_proof(4, 0, 2)
    with pytest.raises(ProofError):
        v.verify_entry(replace(proof, state=proof.state.unsigned()))
    v.verify_entry(proof)
    assert v.state.signature == proof.state.signature
    assert Verifier("defaultdb", path, public_key=pub).state == proof.state
    # an older entry comes with a fresh signature of the same state: nothing changes
    before = path.read_bytes()
    older = chain.entry_proof(1, 0, 4)
    assert older.state.same_point(proof.state) and older.state.signature != proof.state.signature
    v.verify_entry(older)
    assert v.state == proof.state and path.read_bytes() == before
    with pytest.raises(ProofError):  # a state file signed by someone else
        Verifier("defaultdb", path, public_key=public_key_bytes(generate_signing_key()))
    with pytest.raises(ProofError):
        Verifier("defaultdb", public_key=public_key_bytes(generate_signing_key())).verify_entry(
            chain.entry_proof(2, 0, None))


def test_threads_share_one_verifier(tmp_path):
    chain = Chain(40, seed=11, max_entries=2)
    v = Verifier("defaultdb", tmp_path / "state.json")
    v.verify_entry(chain.entry_proof(1, 0, None))
    errors = []

    def worker(offset):
        for tx_id in range(2 + offset, 41, 4):
            for _ in range(1000):  # another thread may advance between reading and verifying
                try:
                    v.verify_entry(chain.entry_proof(tx_id, 0, v.state.tx_id))
                    break
                except ProofError as e:
                    last = e
            else:
                errors.append(last)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert v.state == chain.state(40)
    assert Verifier("defaultdb", tmp_path / "state.json").state == chain.state(40)
