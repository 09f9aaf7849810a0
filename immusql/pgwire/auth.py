"""Server-side password authentication: SCRAM-SHA-256, md5 and cleartext, as PostgreSQL.

No I/O here: the connection feeds the client's SASL messages to a `ScramExchange` and
sends back what it returns, so the protocol logic is testable without sockets. Secrets
use PostgreSQL's exact formats, so a `rolpassword` taken from PostgreSQL works here and
ours work there. Failures are `errors.Error`s with the SQLSTATE PostgreSQL sends: 28P01
for a wrong password (an unknown role runs the whole exchange too, so a client cannot
probe role names), 08P01 for a malformed message, 0A000 for SCRAM features PostgreSQL
does not implement either (authorization identity, mandatory extensions).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import stringprep
import unicodedata
from dataclasses import dataclass

from .. import errors

MECHANISM = "SCRAM-SHA-256"
MECHANISMS = (MECHANISM,)  # what AuthenticationSASL advertises: no -PLUS (no TLS binding)
DEFAULT_ITERATIONS = 4096  # PostgreSQL 15's fixed scram_iterations
SALT_LEN = 16  # SCRAM_DEFAULT_SALT_LEN
NONCE_LEN = 18  # SCRAM_RAW_NONCE_LEN
KEY_LEN = 32  # SHA-256
MAX_SASLPREP_CHARS = 1024  # pg_saslprep's MAX_PASSWORD_LENGTH
_MD5_LEN = 35  # "md5" + 32 hex digits

# A process-wide secret for mock salts when the caller passes none (the cluster passes
# its persisted one so an unknown role's salt is stable across restarts, as in PG).
_PROCESS_MOCK_NONCE = secrets.token_bytes(32)


def auth_failed(user: str) -> errors.InvalidPassword:
    """PostgreSQL's one answer to every failed password check (no hint of the reason)."""
    return errors.InvalidPassword(f'password authentication failed for user "{user}"')


# ---------------------------------------------------------------------- SASLprep -------


def _text_bytes(value: str | bytes) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return bytes(value)


def saslprep(password: str | bytes) -> bytes:
    """The password as PostgreSQL hashes it (pg_saslprep, RFC 4013): ASCII unchanged,
    otherwise mapped, NFKC-normalised and checked; input SASLprep rejects (invalid UTF-8,
    prohibited or unassigned characters, bad bidi, empty after mapping, too long) is used
    as-is, exactly as PostgreSQL does, so verifiers match PostgreSQL's."""
    raw = _text_bytes(password)
    if raw.isascii():
        return raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw
    if len(text) > MAX_SASLPREP_CHARS:
        return raw
    mapped = "".join(" " if stringprep.in_table_c12(c) else
                     "" if stringprep.in_table_b1(c) else c for c in text)
    if not mapped:
        return raw
    out = unicodedata.normalize("NFKC", mapped)
    for c in out:
        if (stringprep.in_table_c12(c) or stringprep.in_table_c21_c22(c)
                or stringprep.in_table_c3(c) or stringprep.in_table_c4(c)
                or stringprep.in_table_c5(c) or stringprep.in_table_c6(c)
                or stringprep.in_table_c7(c) or stringprep.in_table_c8(c)
                or stringprep.in_table_c9(c) or stringprep.in_table_a1(c)):
            return raw
    if any(stringprep.in_table_d1(c) for c in out):
        if any(stringprep.in_table_d2(c) for c in out):
            return raw
        if not (stringprep.in_table_d1(out[0]) and stringprep.in_table_d1(out[-1])):
            return raw
    return out.encode("utf-8")


# ---------------------------------------------------------------------- verifiers ------


@dataclass(frozen=True)
class ScramVerifier:
    """A parsed `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>` secret."""

    iterations: int
    salt: bytes
    stored_key: bytes
    server_key: bytes

    def __str__(self) -> str:
        return (f"{MECHANISM}${self.iterations}:{_b64(self.salt)}"
                f"${_b64(self.stored_key)}:{_b64(self.server_key)}")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None


def _salted_password(password: str | bytes, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", saslprep(password), salt, iterations)


def _keys(salted: bytes) -> tuple[bytes, bytes, bytes]:
    """(ClientKey, StoredKey, ServerKey) of RFC 5802 section 3."""
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    return (client_key, hashlib.sha256(client_key).digest(),
            hmac.digest(salted, b"Server Key", "sha256"))


def make_scram_verifier(password: str | bytes, iterations: int = DEFAULT_ITERATIONS,
                        salt: bytes | None = None) -> str:
    """PostgreSQL's stored form of a password (pg_be_scram_build_secret): portable both
    ways between PostgreSQL and immusql. A fresh random 16-byte salt unless given."""
    if not isinstance(iterations, int) or iterations < 1:
        raise errors.InvalidParameterValue("SCRAM iteration count must be at least 1")
    if salt is None:
        salt = secrets.token_bytes(SALT_LEN)
    _, stored, server = _keys(_salted_password(password, salt, iterations))
    return str(ScramVerifier(iterations, bytes(salt), stored, server))


def parse_scram_verifier(secret: str | None) -> ScramVerifier | None:
    """The verifier's parts, or None if `secret` is not a SCRAM-SHA-256 verifier (as
    PostgreSQL's parse_scram_secret, which makes such a secret unusable for SCRAM)."""
    if not isinstance(secret, str):
        return None
    parts = secret.split("$")
    if len(parts) != 3 or parts[0] != MECHANISM:
        return None
    head, keys = parts[1].split(":"), parts[2].split(":")
    if len(head) != 2 or len(keys) != 2:
        return None
    iterations_text, salt_text = head
    if not iterations_text.isascii() or not iterations_text.isdigit():
        return None
    iterations = int(iterations_text)
    salt, stored, server = _unb64(salt_text), _unb64(keys[0]), _unb64(keys[1])
    if iterations < 1 or salt is None or stored is None or server is None:
        return None
    if len(stored) != KEY_LEN or len(server) != KEY_LEN:
        return None
    return ScramVerifier(iterations, salt, stored, server)


def is_md5_secret(secret: str | None) -> bool:
    """True for `md5` + 32 lower-case hex digits (PostgreSQL's get_password_type)."""
    return (isinstance(secret, str) and len(secret) == _MD5_LEN and secret.startswith("md5")
            and all(c in "0123456789abcdef" for c in secret[3:]))


def password_type(secret: str | None) -> str:
    """'scram-sha-256', 'md5' or 'plain': how PostgreSQL classifies a PASSWORD value."""
    if is_md5_secret(secret):
        return "md5"
    if parse_scram_verifier(secret) is not None:
        return "scram-sha-256"
    return "plain"


def md5_secret(password: str | bytes, user: str | bytes) -> str:
    """PostgreSQL's md5 stored form: "md5" + hex md5(password || user) (no SASLprep)."""
    return "md5" + hashlib.md5(_text_bytes(password) + _text_bytes(user)).hexdigest()


def md5_check(secret: str, salt: bytes, client_response: str | bytes) -> bool:
    """Check an AuthenticationMD5Password answer: "md5" + hex md5(secret[3:] || salt)."""
    if not is_md5_secret(secret) or len(salt) != 4:
        return False
    expected = "md5" + hashlib.md5(secret[3:].encode("ascii") + bytes(salt)).hexdigest()
    response = _text_bytes(client_response).rstrip(b"\0")
    return hmac.compare_digest(expected.encode("ascii"), response)


def scram_check_password(verifier: str, password: str | bytes) -> bool:
    """Cleartext `password` against a verifier, recomputed with its salt and iterations
    (scram_verify_plain_password); False if `verifier` is not a SCRAM verifier."""
    v = parse_scram_verifier(verifier)
    if v is None:
        return False
    _, _, server_key = _keys(_salted_password(password, v.salt, v.iterations))
    return hmac.compare_digest(server_key, v.server_key)


def check_cleartext(secret: str | None, password: str | bytes, user: str = "") -> bool:
    """Cleartext (AuthenticationCleartextPassword) check against either stored form; an
    md5 secret needs the role name it was made with (`user`)."""
    if is_md5_secret(secret):
        return hmac.compare_digest(md5_secret(password, user).encode(), secret.encode())
    return scram_check_password(secret, password) if secret else False


def password_secrets(password: str, user: str) -> tuple[str | None, str | None]:
    """(SCRAM verifier, md5 secret) to store for a PASSWORD value: a value that already
    is a verifier or md5 secret is kept as given (as PostgreSQL does), so only that one
    form exists; otherwise both are derived and the cleartext is dropped."""
    kind = password_type(password)
    if kind == "scram-sha-256":
        return password, None
    if kind == "md5":
        return None, password
    return make_scram_verifier(password), md5_secret(password, user)


# ---------------------------------------------------------------------- SCRAM exchange --


def check_mechanism(name: str) -> None:
    """The mechanism of a SASLInitialResponse must be one we advertised."""
    if name not in MECHANISMS:
        raise errors.ProtocolViolation(
            "client selected an invalid SASL authentication mechanism")


def mock_verifier(user: str, mock_nonce: bytes | None = None) -> str:
    """A verifier no password matches, salted per `user` and `mock_nonce` so an unknown
    role shows the same salt every time (what ScramExchange(None, user) uses)."""
    key = mock_nonce if mock_nonce is not None else _PROCESS_MOCK_NONCE
    salt = hmac.digest(key, user.encode("utf-8", "surrogatepass"), "sha256")[:SALT_LEN]
    return str(ScramVerifier(DEFAULT_ITERATIONS, salt, secrets.token_bytes(KEY_LEN),
                             secrets.token_bytes(KEY_LEN)))


def _malformed(detail: str) -> errors.ProtocolViolation:
    return errors.ProtocolViolation("malformed SCRAM message", detail=detail)


def _sanitize(c: str) -> str:
    """A character for an error message, as PostgreSQL's sanitize_char."""
    if not c:
        return ""
    return c if 0x20 <= ord(c) < 0x7F else f"0x{ord(c):02x}"


def _printable(value: str) -> bool:
    """is_scram_printable: 0x21-0x7E except ','."""
    return all(0x21 <= ord(c) <= 0x7E and c != "," for c in value)


class _Reader:
    """A cursor over one SCRAM message, with PostgreSQL's error details."""

    def __init__(self, text: str):
        self.s, self.pos = text, 0

    def peek(self) -> str:
        return self.s[self.pos:self.pos + 1]

    def at_end(self) -> bool:
        return self.pos >= len(self.s)

    def _value(self, attr: str) -> str:
        if self.peek() != "=":
            raise _malformed(f'Expected character "=" for attribute "{attr}".')
        end = self.s.find(",", self.pos + 1)
        if end < 0:
            end = len(self.s)
        value = self.s[self.pos + 1:end]
        self.pos = end + 1 if end < len(self.s) else end
        return value

    def attr(self, attr: str) -> str:
        """read_attr_value: `attr=value` followed by ',' or the end."""
        c = self.peek()
        if c != attr:
            raise _malformed(f'Expected attribute "{attr}" but found "{_sanitize(c)}".')
        self.pos += 1
        return self._value(attr)

    def any_attr(self) -> tuple[str, str]:
        """read_any_attr: some `x=value`."""
        c = self.peek()
        if not c:
            raise _malformed("Attribute expected, but found end of string.")
        if not ("A" <= c <= "Z" or "a" <= c <= "z"):
            raise _malformed(f'Attribute expected, but found invalid character '
                             f'"{_sanitize(c)}".')
        self.pos += 1
        return c, self._value(c)


def _message_text(data: bytes) -> str:
    data = bytes(data)
    if not data:
        raise _malformed("The message is empty.")
    if b"\0" in data:
        raise _malformed("Message length does not match input length.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed("The message is not valid UTF-8.") from None


class ScramExchange:
    """The server side of one SCRAM-SHA-256 exchange (RFC 5802/7677 as PostgreSQL runs it).

    `verifier` is the role's stored SCRAM verifier; None (no such role, no password, an
    md5-only password, an expired one) gives a *doomed* exchange: it answers with a mock
    salt derived from `user` and `mock_nonce`, like PostgreSQL, and fails at the end
    exactly as a wrong password does. `user` only names the role in the 28P01 message
    (PostgreSQL ignores the SCRAM user name; the startup packet's is authoritative).
    `server_nonce` is for tests (RFC 7677's vector); otherwise 18 random bytes.
    """

    def __init__(self, verifier: str | None, user: str = "", *,
                 mock_nonce: bytes | None = None, server_nonce: str | None = None):
        self.user = user
        parsed = parse_scram_verifier(verifier) if verifier else None
        self.doomed = parsed is None
        self._v = parsed or parse_scram_verifier(mock_verifier(user, mock_nonce))
        self._server_nonce = server_nonce or _b64(secrets.token_bytes(NONCE_LEN))
        self._state = "start"
        self._cbind_flag = ""
        self._client_nonce = ""
        self._client_first_bare = ""
        self._server_first = ""

    @property
    def succeeded(self) -> bool:
        """True once server_final accepted the client's proof."""
        return self._state == "done"

    def _expect(self, state: str) -> None:
        if self._state != state:
            self._state = "failed"
            raise errors.ProtocolViolation("unexpected SCRAM message for the exchange's state")

    def server_first(self, client_first: bytes) -> bytes:
        """server-first-message for the client-first-message (SASLInitialResponse data)."""
        self._expect("start")
        self._state = "failed"  # until this message is accepted
        r = _Reader(_message_text(client_first))
        flag = r.peek()
        if flag in ("n", "y"):
            r.pos += 1
            if r.peek() != ",":
                raise _malformed(f'Comma expected, but found character "{_sanitize(r.peek())}".')
            r.pos += 1
        elif flag == "p":
            raise _malformed("The client selected SCRAM-SHA-256 without channel binding, but "
                             "the SCRAM message includes channel binding data.")
        else:
            raise _malformed(f'Unexpected channel-binding flag "{_sanitize(flag)}".')
        if r.peek() == "a":
            raise errors.FeatureNotSupported(
                "client uses authorization identity, but it is not supported")
        if r.peek() != ",":
            raise _malformed(f'Unexpected attribute "0x{ord(r.peek() or chr(0)):02x}" in '
                             "client-first-message.")
        r.pos += 1
        bare = r.s[r.pos:]
        if r.peek() == "m":
            raise errors.FeatureNotSupported("client requires an unsupported SCRAM extension")
        r.attr("n")  # ignored, as PostgreSQL: the startup packet names the role
        nonce = r.attr("r")
        if not _printable(nonce):
            raise errors.ProtocolViolation("non-printable characters in SCRAM nonce")
        while not r.at_end():
            r.any_attr()  # optional extensions: none supported, all ignored
        self._cbind_flag, self._client_nonce, self._client_first_bare = flag, nonce, bare
        self._server_first = (f"r={nonce}{self._server_nonce},s={_b64(self._v.salt)},"
                              f"i={self._v.iterations}")
        self._state = "first_sent"
        return self._server_first.encode("ascii")

    def server_final(self, client_final: bytes) -> bytes:
        """server-final-message (`v=<signature>`) if the client's proof is right; raises
        28P01 for a wrong password or doomed exchange, 08P01 for a malformed message."""
        self._expect("first_sent")
        self._state = "failed"
        r = _Reader(_message_text(client_final))
        binding = r.attr("c")
        if not ((binding == "biws" and self._cbind_flag == "n")
                or (binding == "eSws" and self._cbind_flag == "y")):
            raise errors.ProtocolViolation(
                "unexpected SCRAM channel-binding attribute in client-final-message")
        nonce = r.attr("r")
        while True:  # optional extensions, then the proof
            proof_at = r.pos - 1  # the ',' before the attribute
            name, value = r.any_attr()
            if name == "p":
                break
        proof = _unb64(value)
        if proof is None or len(proof) != KEY_LEN:
            raise _malformed("Malformed proof in client-final-message.")
        if not r.at_end():
            raise _malformed("Garbage found at the end of client-final-message.")
        if not hmac.compare_digest(nonce.encode(),
                                   (self._client_nonce + self._server_nonce).encode()):
            raise errors.ProtocolViolation("invalid SCRAM response",
                                           detail="Nonce does not match.")
        auth_message = ",".join((self._client_first_bare, self._server_first,
                                 r.s[:proof_at])).encode("utf-8")
        signature = hmac.digest(self._v.stored_key, auth_message, "sha256")
        client_key = bytes(a ^ b for a, b in zip(proof, signature))
        ok = hmac.compare_digest(hashlib.sha256(client_key).digest(), self._v.stored_key)
        if not ok or self.doomed:
            raise auth_failed(self.user)
        self._state = "done"
        server_signature = hmac.digest(self._v.server_key, auth_message, "sha256")
        return f"v={_b64(server_signature)}".encode("ascii")
