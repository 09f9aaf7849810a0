"""References and sorted-set members written inside a Transaction (the SQL layer's
kv_set_reference / kv_zadd in a block), and proofs of tombstones."""

from __future__ import annotations

import pytest

from immusql.kv import (
    EntryProof,
    InvalidArgumentError,
    KeyNotFoundError,
    TxNotFoundError,
    verify_entry_proof,
)


def test_reference_written_in_a_transaction(store):
    store.set([(b"a", b"1")])
    with store.transaction() as tx:
        tx.set(b"b", b"2")
        tx.set_reference(b"ra", b"a")
        tx.set_reference(b"rb", b"b")  # to a key written in this transaction
        got = tx.get(b"rb")
        assert (got.key, got.value, got.referenced_by.key) == (b"b", b"2", b"rb")
        assert tx.get(b"ra").value == b"1"
        scanned = [(e.key, e.value, e.referenced_by and e.referenced_by.key)
                   for e in tx.scan(b"")]
        assert scanned == [(b"a", b"1", None), (b"b", b"2", None), (b"a", b"1", b"ra"),
                           (b"b", b"2", b"rb")]
        tx.delete(b"b")
        assert [e.key for e in tx.scan(b"r")] == [b"a"]  # rb's target is gone
        with pytest.raises(KeyNotFoundError):
            tx.get(b"rb")
        tx.set(b"b", b"3")
    e = store.get(b"rb")
    assert (e.value, e.referenced_by.key) == (b"3", b"rb")


def test_reference_rules_in_a_transaction(store):
    h = store.set([(b"a", b"1")])
    store.set([(b"a", b"2")])
    with store.transaction() as tx:
        with pytest.raises(KeyNotFoundError):
            tx.set_reference(b"r", b"missing")
        with pytest.raises(InvalidArgumentError):
            tx.set_reference(b"a", b"a")
        tx.set_reference(b"r", b"a")
        with pytest.raises(InvalidArgumentError):
            tx.set_reference(b"r2", b"r")  # not to a reference
        tx.set_reference(b"old", b"a", at_tx=h.id)
        assert tx.get(b"old").value == b"1"
        with pytest.raises(TxNotFoundError):
            tx.set_reference(b"x", b"a", at_tx=99)
    assert store.get(b"old").value == b"1" and store.get(b"r").value == b"2"


def test_zadd_in_a_transaction(store):
    store.set([(b"m", b"v")])
    tx = store.transaction()
    tx.zadd(b"s", 1.5, b"m")
    tx.set(b"n", b"w")
    tx.zadd(b"s", -2, b"n")
    with pytest.raises(KeyNotFoundError):
        tx.zadd(b"s", 1, b"nope")
    assert [e.key for e in tx.scan(b"")] == [b"m", b"n"]  # members are not plain keys
    tx.commit()
    assert [(z.key, z.score) for z in store.zscan(b"s")] == [(b"n", -2.0), (b"m", 1.5)]
    tx = store.transaction()
    tx.zadd(b"s", 3, b"m")
    tx.rollback()
    assert len(list(store.zscan(b"s"))) == 2


def test_verifiable_get_of_a_tombstone(store):
    store.set([(b"k", b"v")])
    d = store.delete([b"k"])
    with pytest.raises(KeyNotFoundError):
        store.verifiable_get(b"k")
    proof = store.verifiable_get(b"k", include_deleted=True)
    assert proof.tx.id == d.id and proof.md == b"\x00" and proof.value == b""
    verify_entry_proof(EntryProof.from_json(proof.to_json()), None)
    assert store.verifiable_get(b"k", at_tx=d.id - 1, include_deleted=True).md == b""
