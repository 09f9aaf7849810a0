"""The server's state-signing key: making one (`immusql keygen`), loading it (`immusql
serve --signing-key`), and the forms its public half is shown in.

The key is ECDSA P-256 (PROOFS.md section 5). Its public half travels in two forms: the
65-byte uncompressed SEC1 point (hex), which is what signed states and
`immusql_public_key()` carry, and a PEM "PUBLIC KEY" (X.509 SubjectPublicKeyInfo), which
is what `immusql keygen` writes next to the private key for clients to pin. For P-256 the
DER of that PEM is always `SPKI_P256_PREFIX || point`, so a client without an ASN.1 parser
can read it (docs/verify.md).
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.hazmat.primitives import serialization

from .kv.errors import InvalidArgumentError
from .kv.state import generate_signing_key, load_private_key_pem, public_key_bytes

__all__ = ["SPKI_P256_PREFIX", "load_signing_key", "write_key_pair", "public_key_pem",
           "public_key_from_pem", "fingerprint", "public_key_path"]

# DER SubjectPublicKeyInfo of an id-ecPublicKey on prime256v1, up to the BIT STRING's
# contents; the 65-byte uncompressed point follows.
SPKI_P256_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")


def fingerprint(public_key: bytes) -> str:
    """SHA-256 of the 65-byte public point, hex: short enough to compare by eye."""
    return hashlib.sha256(public_key).hexdigest()


def public_key_pem(public_key: bytes) -> str:
    """The PEM "PUBLIC KEY" of a 65-byte P-256 point."""
    der = base64.encodebytes(SPKI_P256_PREFIX + public_key).decode("ascii").replace("\n", "")
    lines = [der[i:i + 64] for i in range(0, len(der), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


def public_key_from_pem(pem: bytes | str) -> bytes:
    """The 65-byte point of a PEM "PUBLIC KEY" (P-256 only)."""
    text = pem.decode("ascii") if isinstance(pem, bytes) else pem
    body = "".join(line.strip() for line in text.strip().splitlines()
                   if line.strip() and not line.startswith("-----"))
    try:
        der = base64.b64decode(body, validate=True)
    except ValueError as e:
        raise InvalidArgumentError(f"not a PEM public key: {e}") from None
    if len(der) != len(SPKI_P256_PREFIX) + 65 or not der.startswith(SPKI_P256_PREFIX) \
            or der[len(SPKI_P256_PREFIX)] != 0x04:
        raise InvalidArgumentError("not an uncompressed ECDSA P-256 public key")
    return der[len(SPKI_P256_PREFIX):]


def public_key_path(private_path: str) -> str:
    """Where keygen puts the public key: key.pem -> key.pub.pem."""
    root, ext = os.path.splitext(private_path)
    return f"{root}.pub{ext or '.pem'}"


def load_signing_key(path: str) -> tuple[bytes, bytes]:
    """(PEM bytes, 65-byte public key) of the private key file at `path`; a clear
    InvalidArgumentError when it cannot be read or is not an ECDSA P-256 key."""
    try:
        with open(path, "rb") as f:
            pem = f.read()
    except OSError as e:
        raise InvalidArgumentError(f"cannot read the signing key {path}: {e}") from e
    try:
        key = load_private_key_pem(pem)
    except (ValueError, TypeError) as e:
        raise InvalidArgumentError(f"the signing key {path} is not an unencrypted PEM "
                                   f"ECDSA P-256 private key: {e}") from e
    return pem, public_key_bytes(key)


def write_key_pair(path: str, force: bool = False) -> tuple[str, bytes]:
    """Write a new P-256 private key (PKCS#8 PEM, mode 0600) to `path` and its public key
    PEM next to it; returns (public key path, 65-byte public key)."""
    pub_path = public_key_path(path)
    if not force:
        for p in (path, pub_path):
            if os.path.exists(p):
                raise InvalidArgumentError(f"{p} already exists (use --force to replace it)")
    key = generate_signing_key()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)  # also when replacing a file that had wider permissions
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    public = public_key_bytes(key)
    with open(pub_path, "w", encoding="ascii") as f:
        f.write(public_key_pem(public))
    return pub_path, public
