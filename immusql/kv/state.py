"""A database state (PROOFS.md section 5): what a client trusts, and the server's signature.

A client that holds `(db, tx_id, alh)` holds the whole history up to `tx_id` through one
hash, so this small value is the entire client-side trust. The server may sign it so that a
client can also prove to a third party what the server claimed. Signing needs only ECDSA
P-256 from `cryptography`; this module does no other I/O.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .errors import ProofError
from .hashing import EMPTY_HASH, HASH_SIZE

__all__ = ["State", "empty_state", "generate_signing_key", "load_private_key_pem",
           "public_key_bytes", "PUBLIC_KEY_SIZE"]

PUBLIC_KEY_SIZE = 65  # uncompressed SEC1 point: 0x04 || X || Y

_STATE_KEYS = ("db", "tx_id", "alh", "signature", "public_key")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_HEX_DIGITS = "0123456789abcdef"


@dataclass(frozen=True, slots=True)
class State:
    db: str
    tx_id: int  # 0 for the empty database
    alh: bytes  # Alh of transaction tx_id; H("") when tx_id is 0
    signature: bytes | None = None  # DER ECDSA P-256 signature of signed_message()
    public_key: bytes | None = None  # the signer's key as the server reported it

    def signed_message(self) -> bytes:
        """u32(len(db)) || db || u64(tx_id) || alh, db as UTF-8."""
        db = self.db.encode("utf-8")
        return _U32.pack(len(db)) + db + _U64.pack(self.tx_id) + self.alh

    def unsigned(self) -> "State":
        return replace(self, signature=None, public_key=None)

    def same_point(self, other: "State") -> bool:
        """True if both name the same transaction of the same database (signatures aside)."""
        return (self.db, self.tx_id, self.alh) == (other.db, other.tx_id, other.alh)

    def sign(self, private_key: ec.EllipticCurvePrivateKey) -> "State":
        """A copy carrying a signature by `private_key` and its public key."""
        signature = private_key.sign(self.signed_message(), ec.ECDSA(hashes.SHA256()))
        return replace(self, signature=signature, public_key=public_key_bytes(private_key))

    def verify_signature(self, public_key: bytes) -> None:
        """Raise ProofError unless this state carries a valid signature by `public_key`.

        Only the configured `public_key` counts; the `public_key` field the server sent is
        informational and never trusted.
        """
        if self.signature is None:
            raise ProofError(f"state of {self.db!r} at tx {self.tx_id} is not signed, "
                             "but a server signing key is configured")
        key = _load_public_key(public_key)
        try:
            key.verify(self.signature, self.signed_message(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as e:
            raise ProofError(f"bad signature on state of {self.db!r} at tx {self.tx_id}") from e

    def to_json(self) -> dict:
        return {"db": self.db, "tx_id": self.tx_id, "alh": self.alh.hex(),
                "signature": None if self.signature is None else self.signature.hex(),
                "public_key": None if self.public_key is None else self.public_key.hex()}

    @classmethod
    def from_json(cls, obj) -> "State":
        """Parse section 8's state object; malformed input raises ProofError."""
        check_keys(obj, _STATE_KEYS, "state")
        db = obj["db"]
        if type(db) is not str:
            raise ProofError(f"state.db must be a string, got {db!r}")
        try:
            if len(db.encode("utf-8")) >= 1 << 32:
                raise ProofError("state.db is too long")
        except UnicodeEncodeError as e:
            raise ProofError("state.db is not valid Unicode") from e
        tx_id = json_int(obj["tx_id"], "state.tx_id", bits=64)
        alh = json_hex(obj["alh"], "state.alh", size=HASH_SIZE)
        signature = hex_or_none(obj["signature"], "state.signature")
        public_key = hex_or_none(obj["public_key"], "state.public_key", size=PUBLIC_KEY_SIZE)
        if tx_id == 0 and alh != EMPTY_HASH:
            raise ProofError("state at tx 0 must have alh H('')", expected=EMPTY_HASH,
                             calculated=alh)
        return cls(db, tx_id, alh, signature, public_key)


# Strict parsers for section 8's JSON fields, shared with `proofs`. Hex must be lower-case
# with no prefix or spaces; integers must be real ints (not bool, not float) in range.

def check_keys(obj, keys: tuple[str, ...], what: str) -> None:
    """Raise ProofError unless `obj` is a dict with exactly `keys`."""
    if not isinstance(obj, dict):
        raise ProofError(f"{what} must be a JSON object, got {type(obj).__name__}")
    if set(obj) != set(keys):
        missing = sorted(set(keys) - set(obj))
        extra = sorted(set(obj) - set(keys), key=str)
        raise ProofError(f"{what} keys are wrong (missing {missing}, unexpected {extra})")


def json_int(v, what: str, bits: int = 64) -> int:
    if type(v) is not int or not 0 <= v < 1 << bits:
        raise ProofError(f"{what} must be an integer in [0, 2**{bits}), got {v!r}")
    return v


def json_hex(v, what: str, size: int | None = None, max_size: int | None = None) -> bytes:
    if type(v) is not str or len(v) % 2 or v.strip(_HEX_DIGITS):
        raise ProofError(f"{what} must be a lower-case hex string, got {v!r:.80}")
    data = bytes.fromhex(v)
    if size is not None and len(data) != size:
        raise ProofError(f"{what} must be {size} bytes, got {len(data)}")
    if max_size is not None and len(data) > max_size:
        raise ProofError(f"{what} is longer than {max_size} bytes")
    return data


def hex_or_none(v, what: str, size: int | None = None) -> bytes | None:
    return None if v is None else json_hex(v, what, size)


def json_hex_list(v, what: str) -> list[bytes]:
    """A list of 32-byte hashes."""
    if type(v) is not list:
        raise ProofError(f"{what} must be a list, got {type(v).__name__}")
    return [json_hex(x, f"{what}[{i}]", size=HASH_SIZE) for i, x in enumerate(v)]


def empty_state(db: str) -> State:
    """The state of a database with no transactions: (db, 0, H(''))."""
    return State(db, 0, EMPTY_HASH)


def generate_signing_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def load_private_key_pem(data: bytes) -> ec.EllipticCurvePrivateKey:
    """Load an unencrypted PEM P-256 private key (e.g. `openssl ecparam -name prime256v1`)."""
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve,
                                                                         ec.SECP256R1):
        raise ValueError("the signing key must be an ECDSA P-256 private key")
    return key


def public_key_bytes(private_key: ec.EllipticCurvePrivateKey) -> bytes:
    """The public half as a 65-byte uncompressed SEC1 point."""
    return private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                 serialization.PublicFormat.UncompressedPoint)


def _load_public_key(data: bytes) -> ec.EllipticCurvePublicKey:
    if not isinstance(data, bytes) or len(data) != PUBLIC_KEY_SIZE or data[0] != 0x04:
        raise ProofError("the public key must be a 65-byte uncompressed P-256 point")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data)
    except ValueError as e:
        raise ProofError("the public key is not a point on P-256") from e
