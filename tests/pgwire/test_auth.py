"""Password authentication: SCRAM-SHA-256 against RFC 7677's vector, against verifiers
made by a real PostgreSQL 15 and against an independent client (scramp); md5 and
cleartext checks; every malformed-message path with PostgreSQL's SQLSTATE."""

from __future__ import annotations

import base64
import hashlib
import hmac
import sys
from pathlib import Path

import pytest
import scramp
from scramp.utils import saslprep as scramp_saslprep

from immusql import errors
from immusql.pgwire import auth
from immusql.pgwire.auth import ScramExchange

# RFC 7677 section 3
RFC_CLIENT_FIRST = b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
RFC_SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
RFC_SALT = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
RFC_SERVER_FIRST = (b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
RFC_CLIENT_FINAL = (b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
RFC_SERVER_FINAL = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

# Passwords that exercise every branch of SASLprep as PostgreSQL applies it.
SASLPREP_PASSWORDS = [
    "p",
    "pencil with spaces",
    "a\tb\x01",  # pure ASCII: used as is, control characters included
    "I\u00adX",  # soft hyphen maps to nothing -> "IX"
    "\u2168",  # ROMAN NUMERAL NINE, NFKC -> "IX"
    "\u00a0caf\u00e9\u2003",  # non-ASCII spaces map to " "
    "\ufb01x",  # ligature fi -> "fix"
    "a\u0007\u00e9",  # prohibited control in non-ASCII text: PostgreSQL uses it raw
    "\u05d0a",  # RandALCat with LCat: bidi violation, used raw
    "\u05d0\u05d1",  # RandALCat only: fine
    "\u00ad",  # empty after mapping: used raw
    "\u0221x",  # unassigned in Unicode 3.2: used raw
]


# ---------------------------------------------------------------------- helpers --------


def run_scramp(exchange: ScramExchange, password: str) -> ScramExchange:
    """A whole exchange driven by scramp's client (an implementation independent of ours)."""
    client = scramp.ScramClient([auth.MECHANISM], "ignored", password)
    first = exchange.server_first(client.get_client_first().encode())
    client.set_server_first(first.decode())
    final = exchange.server_final(client.get_client_final().encode())
    client.set_server_final(final.decode())  # raises if our server signature is wrong
    return exchange


def client_final(password: str, client_first_bare: str, server_first: bytes, gs2: str,
                 extensions: str = "", nonce: str | None = None) -> bytes:
    """RFC 5802 client math, for the cases scramp cannot produce (gs2 'y', extensions)."""
    attrs = dict(a.split("=", 1) for a in server_first.decode().split(","))
    salted = hashlib.pbkdf2_hmac("sha256", auth.saslprep(password),
                                 base64.b64decode(attrs["s"]), int(attrs["i"]))
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored = hashlib.sha256(client_key).digest()
    without_proof = (f"c={base64.b64encode(gs2.encode()).decode()},"
                     f"r={nonce or attrs['r']}{extensions}")
    message = f"{client_first_bare},{server_first.decode()},{without_proof}".encode()
    signature = hmac.digest(stored, message, "sha256")
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()


def started(password: str = "pencil", first: bytes = b"n,,n=,r=abc") -> ScramExchange:
    x = ScramExchange(auth.make_scram_verifier(password), "alice")
    x.server_first(first)
    return x


# ---------------------------------------------------------------------- RFC 7677 -------


def test_rfc7677_vector():
    verifier = auth.make_scram_verifier("pencil", 4096, RFC_SALT)
    x = ScramExchange(verifier, "user", server_nonce=RFC_SERVER_NONCE)
    assert x.server_first(RFC_CLIENT_FIRST) == RFC_SERVER_FIRST
    assert x.server_final(RFC_CLIENT_FINAL) == RFC_SERVER_FINAL
    assert x.succeeded


def test_rfc7677_vector_wrong_password_is_28P01():
    verifier = auth.make_scram_verifier("pencils", 4096, RFC_SALT)
    x = ScramExchange(verifier, "user", server_nonce=RFC_SERVER_NONCE)
    x.server_first(RFC_CLIENT_FIRST)
    with pytest.raises(errors.InvalidPassword) as e:
        x.server_final(RFC_CLIENT_FINAL)
    assert e.value.sqlstate == "28P01"
    assert str(e.value) == 'password authentication failed for user "user"'
    assert not x.succeeded


def test_verifier_format_and_parse():
    v = auth.make_scram_verifier("pencil", 4096, RFC_SALT)
    method, head, keys = v.split("$")
    assert method == "SCRAM-SHA-256" and head == "4096:W22ZaJ0SNY7soEsUEjb6gQ=="
    parsed = auth.parse_scram_verifier(v)
    assert parsed.iterations == 4096 and parsed.salt == RFC_SALT
    assert len(parsed.stored_key) == len(parsed.server_key) == 32
    assert str(parsed) == v
    fresh = auth.parse_scram_verifier(auth.make_scram_verifier("x"))
    assert fresh.iterations == 4096 and len(fresh.salt) == 16
    assert auth.make_scram_verifier("x") != auth.make_scram_verifier("x")  # random salts


@pytest.mark.parametrize("bad", [
    None, "", "pencil", "md5" + "0" * 32, "SCRAM-SHA-256$4096:c2FsdA==$AAAA:AAAA",
    "SCRAM-SHA-1$4096:c2FsdA==$" + "A" * 43 + "=:" + "A" * 43 + "=",
    "SCRAM-SHA-256$0:c2FsdA==$" + "A" * 43 + "=:" + "A" * 43 + "=",
    "SCRAM-SHA-256$-1:c2FsdA==$" + "A" * 43 + "=:" + "A" * 43 + "=",
    "SCRAM-SHA-256$x:c2FsdA==$" + "A" * 43 + "=:" + "A" * 43 + "=",
    "SCRAM-SHA-256$4096:c2F!dA==$" + "A" * 43 + "=:" + "A" * 43 + "=",
    "SCRAM-SHA-256$4096$" + "A" * 43 + "=:" + "A" * 43 + "=",
])
def test_parse_rejects_non_verifiers(bad):
    assert auth.parse_scram_verifier(bad) is None
    assert auth.password_type(bad) in ("plain", "md5")


def test_password_type():
    assert auth.password_type("md5" + "a" * 32) == "md5"
    assert auth.password_type("md5" + "A" * 32) == "plain"  # PostgreSQL wants lower case
    assert auth.password_type("md5" + "a" * 31) == "plain"
    assert auth.password_type(auth.make_scram_verifier("x")) == "scram-sha-256"


# ---------------------------------------------------------------------- SASLprep -------


@pytest.mark.parametrize("password, prepared", [
    ("pencil", b"pencil"),
    ("a\tb\x01", b"a\tb\x01"),
    ("I\u00adX", b"IX"),
    ("\u2168", b"IX"),
    ("\u00a0caf\u00e9\u2003", " caf\u00e9 ".encode()),
    ("a\u0007\u00e9", "a\u0007\u00e9".encode()),
    ("\u05d0a", "\u05d0a".encode()),
    ("\u05d0\u05d1", "\u05d0\u05d1".encode()),
    ("\u00ad", "\u00ad".encode()),
    (b"\xff\xfe", b"\xff\xfe"),  # not UTF-8: as is
    ("\u00e9" * 1025, ("\u00e9" * 1025).encode()),  # over PostgreSQL's limit: as is
])
def test_saslprep(password, prepared):
    assert auth.saslprep(password) == prepared


# ---------------------------------------------------------------------- real PostgreSQL -


@pytest.fixture(scope="module")
def pg():
    """A private PostgreSQL 15 (tests/sql/pg.py) with one autocommit connection."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sql"))
    from pg import PostgresError, PostgresServer
    try:
        server = PostgresServer().start()
    except PostgresError as e:
        pytest.skip(f"no PostgreSQL 15: {e}")
    import psycopg
    try:
        with psycopg.connect(server.conninfo(), autocommit=True) as conn:
            yield conn
    finally:
        server.stop()


def pg_secret(conn, role: str, password: str, method: str) -> str:
    conn.execute(f"SET password_encryption = '{method}'")
    conn.execute(f'CREATE ROLE "{role}" PASSWORD {_literal(password)}')
    return conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s",
                        (role,)).fetchone()[0]


def _literal(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def test_postgres_scram_verifier_accepted(pg):
    verifier = pg_secret(pg, "x", "p", "scram-sha-256")
    parsed = auth.parse_scram_verifier(verifier)
    assert parsed is not None and parsed.iterations == 4096 and len(parsed.salt) == 16
    assert auth.scram_check_password(verifier, "p")
    assert not auth.scram_check_password(verifier, "q")
    assert auth.check_cleartext(verifier, "p") and not auth.check_cleartext(verifier, "P")
    assert auth.check_cleartext(verifier, b"p")  # as the PasswordMessage carries it
    run_scramp(ScramExchange(verifier, "x"), "p")
    with pytest.raises(errors.InvalidPassword):
        run_scramp(ScramExchange(verifier, "x"), "q")


@pytest.mark.parametrize("i", range(len(SASLPREP_PASSWORDS)))
def test_postgres_verifiers_reproduced_exactly(pg, i):
    """Same salt and iterations give PostgreSQL's verifier byte for byte, so SASLprep and
    the encoding agree with PostgreSQL's for mapped, normalised and rejected input."""
    password = SASLPREP_PASSWORDS[i]
    verifier = pg_secret(pg, f"sasl{i}", password, "scram-sha-256")
    parsed = auth.parse_scram_verifier(verifier)
    assert auth.make_scram_verifier(password, parsed.iterations, parsed.salt) == verifier
    assert auth.scram_check_password(verifier, password)
    x = ScramExchange(verifier, f"sasl{i}")
    try:
        agrees = scramp_saslprep(password).encode() == auth.saslprep(password)
    except scramp.ScramException:
        agrees = False
    if agrees:
        run_scramp(x, password)
    else:
        # scramp's strict SASLprep refuses (or empties) what PostgreSQL and libpq use raw:
        # drive the exchange as libpq would instead
        first = x.server_first(b"n,,n=,r=abc")
        assert x.server_final(client_final(password, "n=,r=abc", first, "n,,"))
    assert x.succeeded

def test_postgres_md5_secret(pg):
    secret = pg_secret(pg, "y", "p", "md5")
    assert secret == auth.md5_secret("p", "y")
    assert auth.check_cleartext(secret, "p", "y") and not auth.check_cleartext(secret, "p", "z")


# ---------------------------------------------------------------------- exchanges ------


@pytest.mark.parametrize("password", ["pencil", "", "I\u00adX", "\u2168 caf\u00e9"])
def test_scramp_client_full_exchange(password):
    x = run_scramp(ScramExchange(auth.make_scram_verifier(password), "alice"), password)
    assert x.succeeded and not x.doomed


def test_scramp_client_wrong_password():
    x = ScramExchange(auth.make_scram_verifier("right"), "alice")
    with pytest.raises(errors.InvalidPassword, match='for user "alice"'):
        run_scramp(x, "wrong")
    assert not x.succeeded
    with pytest.raises(errors.ProtocolViolation):  # a failed exchange stays failed
        x.server_final(b"c=biws,r=x,p=AAAA")


def test_gs2_y_flag_accepted():
    """'y': the client could bind but thinks we cannot (true: we offer no -PLUS)."""
    x = ScramExchange(auth.make_scram_verifier("pw"), "alice")
    first = x.server_first(b"y,,n=alice,r=clientnonce")
    assert x.server_final(client_final("pw", "n=alice,r=clientnonce", first, "y,,"))
    assert x.succeeded


def test_extensions_are_ignored_but_signed():
    x = ScramExchange(auth.make_scram_verifier("pw"), "alice")
    first = x.server_first(b"n,,n=alice,r=cn,x=ext")
    final = client_final("pw", "n=alice,r=cn,x=ext", first, "n,,", extensions=",z=more")
    assert x.server_final(final).startswith(b"v=")


def test_doomed_exchange_looks_real_and_fails():
    nonce = b"k" * 32
    a1 = ScramExchange(None, "ghost", mock_nonce=nonce).server_first(b"n,,n=,r=abc")
    a2 = ScramExchange(None, "ghost", mock_nonce=nonce).server_first(b"n,,n=,r=abc")
    b = ScramExchange(None, "other", mock_nonce=nonce).server_first(b"n,,n=,r=abc")
    salt = lambda m: dict(p.split("=", 1) for p in m.decode().split(","))["s"]
    assert salt(a1) == salt(a2) != salt(b)  # stable per role: cannot tell it is fake
    assert len(base64.b64decode(salt(a1))) == 16 and a1.endswith(b",i=4096")
    via_mock = ScramExchange(auth.mock_verifier("ghost", nonce)).server_first(b"n,,n=,r=abc")
    assert salt(via_mock) == salt(a1)
    with pytest.raises(errors.InvalidPassword):
        run_scramp(ScramExchange(auth.mock_verifier("ghost")), "")
    x = ScramExchange("md5" + "0" * 32, "md5only")  # md5-only role: doomed too
    assert x.doomed
    with pytest.raises(errors.InvalidPassword, match='for user "md5only"'):
        run_scramp(x, "anything")


@pytest.mark.parametrize("first, exc, text", [
    (b"p=tls-server-end-point,,n=,r=abc", errors.ProtocolViolation,
     "without channel binding, but the SCRAM message includes channel binding data"),
    (b"x,,n=,r=abc", errors.ProtocolViolation, 'Unexpected channel-binding flag "x"'),
    (b"n;,n=,r=abc", errors.ProtocolViolation, 'Comma expected, but found character ";"'),
    (b"n,a=bob,n=,r=abc", errors.FeatureNotSupported, "authorization identity"),
    (b"n,,m=ext,n=,r=abc", errors.FeatureNotSupported, "unsupported SCRAM extension"),
    (b"n,,r=abc", errors.ProtocolViolation, 'Expected attribute "n" but found "r"'),
    (b"n,,n=", errors.ProtocolViolation, 'Expected attribute "r" but found ""'),
    (b"n,,n=,r", errors.ProtocolViolation, 'Expected character "=" for attribute "r"'),
    (b"n,,n=,r=a\x01b", errors.ProtocolViolation, "non-printable characters in SCRAM nonce"),
    (b"n,,n=,r=abc,1=x", errors.ProtocolViolation, "Attribute expected, but found invalid"),
    (b"", errors.ProtocolViolation, "The message is empty."),
    (b"n,,n=,r=abc\0", errors.ProtocolViolation, "Message length does not match"),
    (b"n,,n=\xff,r=abc", errors.ProtocolViolation, "not valid UTF-8"),
])
def test_bad_client_first(first, exc, text):
    x = ScramExchange(auth.make_scram_verifier("pw"), "alice")
    with pytest.raises(exc) as e:
        x.server_first(first)
    assert text in f"{e.value} {e.value.detail}"
    if exc is errors.ProtocolViolation:
        assert e.value.sqlstate == "08P01"


def _final_parts(x: ScramExchange, first: bytes) -> tuple[bytes, str]:
    server_first = x.server_first(first)
    return server_first, dict(p.split("=", 1) for p in server_first.decode().split(","))["r"]


def test_bad_client_final_nonce():
    x = ScramExchange(auth.make_scram_verifier("pw"), "alice")
    sf, _ = _final_parts(x, b"n,,n=,r=abc")
    final = client_final("pw", "n=,r=abc", sf, "n,,", nonce="abcFORGED")
    with pytest.raises(errors.ProtocolViolation) as e:
        x.server_final(final)
    assert str(e.value) == "invalid SCRAM response" and e.value.detail == "Nonce does not match."


def test_bad_client_final_channel_binding_flag_changed():
    x = ScramExchange(auth.make_scram_verifier("pw"), "alice")
    sf, _ = _final_parts(x, b"n,,n=,r=abc")
    with pytest.raises(errors.ProtocolViolation, match="unexpected SCRAM channel-binding"):
        x.server_final(client_final("pw", "n=,r=abc", sf, "y,,"))


@pytest.mark.parametrize("tail, text", [
    (",p=AAAA", "Malformed proof"),
    (",p=" + "A" * 43 + "=,x=1", "Garbage found at the end"),
    ("", "Attribute expected, but found end of string."),
    (",x=1", "Attribute expected, but found end of string."),
])
def test_bad_client_final_format(tail, text):
    x = ScramExchange(auth.make_scram_verifier("pw"), "alice")
    _, nonce = _final_parts(x, b"n,,n=,r=abc")
    with pytest.raises(errors.ProtocolViolation) as e:
        x.server_final(f"c=biws,r={nonce}{tail}".encode())
    assert text in e.value.detail


def test_out_of_order_calls():
    x = ScramExchange(auth.make_scram_verifier("pw"), "alice")
    with pytest.raises(errors.ProtocolViolation):
        x.server_final(b"c=biws,r=abc,p=AAAA")
    x = started()
    with pytest.raises(errors.ProtocolViolation):
        x.server_first(b"n,,n=,r=abc")


def test_check_mechanism():
    auth.check_mechanism("SCRAM-SHA-256")
    for bad in ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-1", ""):
        with pytest.raises(errors.ProtocolViolation, match="invalid SASL authentication"):
            auth.check_mechanism(bad)


# ---------------------------------------------------------------------- md5 / cleartext -


def test_md5_secret_and_challenge():
    secret = auth.md5_secret("secret", "alice")
    assert secret == "md5" + hashlib.md5(b"secretalice").hexdigest()
    salt = b"\x01\x02\x03\x04"
    response = "md5" + hashlib.md5(secret[3:].encode() + salt).hexdigest()
    assert auth.md5_check(secret, salt, response)
    assert auth.md5_check(secret, salt, response.encode() + b"\0")  # as sent on the wire
    assert not auth.md5_check(secret, b"\x01\x02\x03\x05", response)
    assert not auth.md5_check(auth.md5_secret("other", "alice"), salt, response)
    assert not auth.md5_check(auth.make_scram_verifier("secret"), salt, response)


def test_cleartext_against_both_forms():
    v = auth.make_scram_verifier("s3cret", iterations=16)
    assert auth.check_cleartext(v, "s3cret", "bob") and not auth.check_cleartext(v, "x", "bob")
    m = auth.md5_secret("s3cret", "bob")
    assert auth.check_cleartext(m, "s3cret", "bob") and not auth.check_cleartext(m, "x", "bob")
    assert not auth.check_cleartext(None, "s3cret", "bob")
    assert not auth.check_cleartext("s3cret", "s3cret", "bob")  # never a cleartext compare


def test_password_secrets():
    v, m = auth.password_secrets("s3cret", "bob")
    assert auth.scram_check_password(v, "s3cret") and m == auth.md5_secret("s3cret", "bob")
    assert "s3cret" not in v + m
    assert auth.password_secrets(v, "bob") == (v, None)  # pre-hashed: kept as given
    assert auth.password_secrets(m, "bob") == (None, m)
