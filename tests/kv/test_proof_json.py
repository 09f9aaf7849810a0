"""Section 8 JSON (exact round trip, exact keys, strict parsing) and section 5 signatures."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immusql.kv.errors import ProofError
from immusql.kv.hashing import EMPTY_HASH
from immusql.kv.proofs import (
    EntryProof,
    TxProof,
    verify_entry_proof,
    verify_state_transition,
    verify_tx_proof,
)
from immusql.kv.state import (
    State,
    generate_signing_key,
    load_private_key_pem,
    public_key_bytes,
)

try:
    from .chain import Chain, flip, rejects, some_bits
except ImportError:  # tests/kv is not a package: pytest put this directory on sys.path
    from chain import Chain, flip, rejects, some_bits

CHAIN = Chain(20, seed=1)


HEADER_KEYS = {"id", "ts", "version", "md", "nentries", "eh", "bl_tx_id", "bl_root", "prev_alh"}
STATE_KEYS = {"db", "tx_id", "alh", "signature", "public_key"}


def _roundtrip(obj):
    text = json.dumps(obj.to_json())
    back = type(obj).from_json(json.loads(text))
    assert back == obj
    assert json.dumps(back.to_json()) == text


def test_json_roundtrip_is_exact_and_keys_are_section_8():
    key = generate_signing_key()
    for tx_id, trusted_id in ((1, 0), (5, 0), (5, 12), (12, 5), (20, 20)):
        proof = CHAIN.entry_proof(tx_id, 0, trusted_id)
        proof = replace(proof, state=proof.state.sign(key))
        _roundtrip(proof)
        _roundtrip(CHAIN.tx_proof(tx_id, trusted_id))
        j = proof.to_json()
        assert set(j) == {"version", "entry", "tx", "inclusion", "dual", "state"}
        assert j["version"] == 1 and set(j["entry"]) == {"key", "value", "md"}
        assert set(j["tx"]) == HEADER_KEYS and set(j["state"]) == STATE_KEYS
        assert set(j["inclusion"]) == {"leaf", "width", "terms"}
        assert (j["dual"] is None) == (trusted_id == 0)
        if j["dual"] is not None:
            assert set(j["dual"]) == {"source", "target", "inclusion", "consistency"}
            assert set(j["dual"]["source"]) == set(j["dual"]["target"]) == HEADER_KEYS
        assert set(CHAIN.tx_proof(tx_id, trusted_id).to_json()) == {
            "version", "tx", "entries", "dual", "state"}
        assert j["state"]["public_key"] == public_key_bytes(key).hex()
        assert j["entry"]["key"] == proof.key.hex() and j["tx"]["eh"] == proof.tx.eh.hex()
    _roundtrip(CHAIN.state(0))
    assert CHAIN.state(0).to_json() == {"db": "defaultdb", "tx_id": 0, "alh": EMPTY_HASH.hex(),
                                        "signature": None, "public_key": None}


def _json_mutations(obj, path=()):
    """(description, mutated copy) for every key: removed, and replaced by wrong values."""
    if isinstance(obj, dict):
        yield path + ("+extra",), {**obj, "extra": 1}
        for k, v in obj.items():
            rest = {kk: vv for kk, vv in obj.items() if kk != k}
            yield path + (k, "missing"), rest
            for desc, bad in _bad_values(v):
                yield path + (k, desc), {**obj, k: bad}
            for desc, sub in _json_mutations(v, path + (k,)):
                yield desc, {**obj, k: sub}
    elif isinstance(obj, list) and obj:
        for desc, sub in _json_mutations(obj[0], path + (0,)):
            yield desc, [sub] + obj[1:]
        for desc, bad in _bad_values(obj[0]):
            yield path + (0, desc), [bad] + obj[1:]
    yield path + ("not-an-object",), "x" if isinstance(obj, (dict, list)) else None


def _bad_values(v):
    if type(v) is int:
        yield "bool", v == 1 or True
        yield "float", float(v)
        yield "str", str(v)
        yield "negative", -1 - v
        yield "too-big", 1 << 64
    elif isinstance(v, str) and all(c in "0123456789abcdef" for c in v):
        if v:
            yield "upper", v.upper() if any(c.isalpha() for c in v) else "AB" + v
            yield "odd", v[:-1]
            yield "short-by-one-byte", v[:-2]
            yield "prefix", "0x" + v
            yield "space", v[:2] + " " + v[2:]
        yield "not-hex", v + "zz"
        yield "int", 5
        yield "long-by-one-byte", v + "00"


@pytest.mark.parametrize("kind", ["entry", "tx"])
def test_from_json_rejects_malformed_input(kind):
    key = generate_signing_key()
    pub = public_key_bytes(key)
    proof = CHAIN.entry_proof(9, 0, 14) if kind == "entry" else CHAIN.tx_proof(9, 14)
    proof = replace(proof, state=proof.state.sign(key))
    cls, verify = (EntryProof, verify_entry_proof) if kind == "entry" else (TxProof,
                                                                          verify_tx_proof)
    good = json.loads(json.dumps(proof.to_json()))
    harmless = {("state", "public_key", "not-an-object")}  # the key field is informational
    tried = 0
    for desc, bad in _json_mutations(good):
        tried += 1
        try:
            parsed = cls.from_json(bad)
        except ProofError:
            continue
        # a strict parser accepts only well-formed values (other lengths of variable-length
        # strings, a null signature, another db name); verification must then fail
        if desc in harmless:
            assert verify(parsed, CHAIN.state(14), pub) == parsed.state == replace(
                proof.state, public_key=None)
        else:
            rejects(verify, parsed, CHAIN.state(14), pub)
    assert tried > 300
    for version in (2, True, "1", None, 1.0):
        rejects(cls.from_json, {**good, "version": version})
    rejects(cls.from_json, None)
    rejects(cls.from_json, [good])
    rejects(cls.from_json, json.dumps(good))  # a string is not parsed here


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=8) | st.binary(max_size=40).map(bytes.hex),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                 max_size=3),
    max_leaves=5)


def _paths(obj, prefix=()):
    yield prefix
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) \
        if isinstance(obj, list) else ()
    for k, v in items:
        yield from _paths(v, prefix + (k,))


def _set_at(obj, path, value):
    if not path:
        return value
    copy = dict(obj) if isinstance(obj, dict) else list(obj)
    copy[path[0]] = _set_at(obj[path[0]], path[1:], value)
    return copy


GOOD_ENTRY_JSON = CHAIN.entry_proof(9, 1, 14).to_json()
GOOD_TX_JSON = CHAIN.tx_proof(9, 14).to_json()


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([(EntryProof, GOOD_ENTRY_JSON, verify_entry_proof),
                        (TxProof, GOOD_TX_JSON, verify_tx_proof)]), st.data())
def test_arbitrary_json_raises_only_proof_error(kind, data):
    cls, good, verify = kind
    path = data.draw(st.sampled_from(list(_paths(good))), label="path")
    bad = _set_at(good, path, data.draw(JSON_VALUES, label="value"))
    try:
        parsed = cls.from_json(bad)
    except ProofError:
        return
    try:
        verify(parsed, CHAIN.state(14))
    except ProofError:
        return
    assert parsed == cls.from_json(good) or path[:2] in (("state", "public_key"),
                                                          ("state", "signature"))


# --- Section 5 signatures -----------------------------------------------------------------

def test_signatures():
    key, other = generate_signing_key(), generate_signing_key()
    pub, other_pub = public_key_bytes(key), public_key_bytes(other)
    assert len(pub) == 65 and pub[0] == 4
    signed = Chain(6, seed=4, signing_key=key)
    proof = signed.entry_proof(6, 0, 2)
    trusted = signed.state(2)
    got = verify_entry_proof(proof, trusted, pub)
    assert got.signature == proof.state.signature and got.tx_id == 6
    verify_tx_proof(signed.tx_proof(3, 2), trusted, pub)
    rejects(verify_entry_proof, proof, trusted, other_pub)
    sig = proof.state.signature
    for bit in some_bits(len(sig) * 8, random.Random(5), 12):
        rejects(verify_entry_proof, replace(proof, state=replace(proof.state,
                                                                 signature=flip(sig, bit))),
                trusted, pub)
    unsigned = replace(proof, state=proof.state.unsigned())
    rejects(verify_entry_proof, unsigned, trusted, pub)
    assert verify_entry_proof(unsigned, trusted) == proof.state.unsigned()  # no key configured
    # a signature over another state does not carry over
    moved = replace(proof, state=replace(signed.state(5), tx_id=6, alh=proof.state.alh))
    rejects(verify_entry_proof, moved, trusted, pub)
    rejects(verify_entry_proof, replace(proof, state=replace(proof.state, db="other")),
            replace(trusted, db="other"), pub)
    for bad_pub in (pub[:64], b"\x04" + bytes(64), b"\x02" + pub[1:33]):
        rejects(proof.state.verify_signature, bad_pub)
    dual = signed.dual(2, 6)
    new = signed.state(6)  # ECDSA signatures are randomized: sign once
    assert verify_state_transition(trusted, dual, new, pub) == new
    rejects(verify_state_transition, trusted, dual, new.unsigned(), pub)
    rejects(verify_state_transition, trusted, dual,
            replace(new, signature=signed.state(5).signature), pub)


def test_signed_message_layout():
    st = State("db1", 0x0102030405060708, bytes(range(32)))
    assert st.signed_message() == (b"\x00\x00\x00\x03db1" + bytes.fromhex("0102030405060708")
                                   + bytes(range(32)))
    assert State("é", 1, EMPTY_HASH).signed_message()[:6] == b"\x00\x00\x00\x02\xc3\xa9"


def test_pem_signing_keys():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    def pem(key):
        return key.private_bytes(serialization.Encoding.PEM,
                                 serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    key = generate_signing_key()
    loaded = load_private_key_pem(pem(key))
    assert public_key_bytes(loaded) == public_key_bytes(key)
    signed = CHAIN.state(3).sign(loaded)
    signed.verify_signature(public_key_bytes(key))
    with pytest.raises(ValueError):
        load_private_key_pem(pem(ec.generate_private_key(ec.SECP384R1())))
