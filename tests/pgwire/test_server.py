"""`immusql serve` as a deployment sees it: authentication, TLS, databases, limits, config,
kill -9 and SIGTERM, and a second server on the same directory."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading

import psycopg
import pytest
from harness import ADMIN_PASSWORD, InProcessServer, ServerProcess
from psycopg import errors as pgerrors

from immusql import errors
from immusql.pgwire import config as server_config

# ---------------------------------------------------------------------- auth -----------


def login_error(server, dbname="immusql", user="immusql", password=ADMIN_PASSWORD,
                ssl=False):
    """(SQLSTATE, message) of a failed login, or None. libpq does not hand the SQLSTATE of a
    startup failure to psycopg, so this logs in with asyncpg, which does."""
    import asyncio

    import asyncpg

    async def attempt():
        try:
            conn = await asyncpg.connect(host="127.0.0.1", port=server.port, user=user,
                                         password=password, database=dbname, ssl=ssl)
        except asyncpg.PostgresError as e:
            return e.sqlstate, str(e)
        await conn.close()
        return None
    return asyncio.run(attempt())


def test_wrong_password_and_unknown_user_are_28P01(server):
    state, message = login_error(server, password="wrong")
    assert state == "28P01"
    assert 'password authentication failed for user "immusql"' in message
    # the same answer for a role that does not exist: no hint that it is missing
    assert login_error(server, user="nobody", password="x") == (
        "28P01", 'password authentication failed for user "nobody"')


def test_roles_login_and_connect_privilege(server, admin):
    admin.execute("CREATE ROLE alice LOGIN PASSWORD 'alice-pw'")
    admin.execute("CREATE ROLE nologin PASSWORD 'x'")
    admin.execute("CREATE DATABASE private_db")
    try:
        with psycopg.connect(server.dsn(user="alice", password="alice-pw")) as c:
            assert c.execute("SELECT current_user").fetchone() == ("alice",)
            assert c.info.parameter_status("is_superuser") == "off"
        state, message = login_error(server, user="nologin", password="x")
        assert state == "28000" and "not permitted to log in" in message
        admin.execute("REVOKE CONNECT ON DATABASE private_db FROM PUBLIC")
        state, _ = login_error(server, "private_db", user="alice", password="alice-pw")
        assert state == "42501"
        admin.execute("GRANT CONNECT ON DATABASE private_db TO alice")
        psycopg.connect(server.dsn("private_db", user="alice", password="alice-pw")).close()
        admin.execute("ALTER ROLE alice PASSWORD 'new-pw'")
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(server.dsn(user="alice", password="alice-pw"))
        psycopg.connect(server.dsn(user="alice", password="new-pw")).close()
        roles = dict(admin.execute("SELECT rolname, rolcanlogin FROM pg_roles").fetchall())
        assert roles["alice"] is True and roles["nologin"] is False
    finally:
        admin.execute("DROP DATABASE private_db")
        admin.execute("DROP ROLE alice")
        admin.execute("DROP ROLE nologin")


def test_md5_and_cleartext_methods(tmp_path):
    with InProcessServer(tmp_path / "md5", auth_method="md5") as s:
        with psycopg.connect(s.dsn()) as c:
            c.execute("CREATE ROLE bob LOGIN PASSWORD 'bob-pw'")
        psycopg.connect(s.dsn(user="bob", password="bob-pw")).close()
        assert login_error(s, user="bob", password="nope")[0] == "28P01"
    with InProcessServer(tmp_path / "clear", auth_method="password") as s:
        assert login_error(s)[0] == "28000"  # cleartext only over TLS


def test_passwords_are_never_stored_in_clear(server, admin):
    admin.execute("CREATE ROLE carol LOGIN PASSWORD 'Very-Distinct-Password-42'")
    try:
        data_dir = server.config.dir
        from pathlib import Path
        for f in Path(data_dir).rglob("*"):
            if f.is_file():
                assert b"Very-Distinct-Password-42" not in f.read_bytes(), f
    finally:
        admin.execute("DROP ROLE carol")


# ---------------------------------------------------------------------- TLS ------------


def _self_signed(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "server.crt", tmp_path / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


def test_tls_and_cleartext_over_tls(tmp_path):
    cert, key = _self_signed(tmp_path)
    with InProcessServer(tmp_path / "tls", tls_cert=cert, tls_key=key, require_tls=True,
                         auth_method="password") as s:
        base = s.dsn().replace("sslmode=disable", "sslmode=require")
        with psycopg.connect(base) as c:
            assert c.pgconn.ssl_in_use
            assert c.execute("SELECT 1").fetchone() == (1,)
        assert login_error(s)[0] == "28000"  # without TLS: refused


# ---------------------------------------------------------------------- databases ------


def test_databases_are_separate_stores(server, admin):
    admin.execute("CREATE DATABASE d_one")
    admin.execute("CREATE DATABASE d_two")
    try:
        with psycopg.connect(server.dsn("d_one"), autocommit=True) as one, \
                psycopg.connect(server.dsn("d_two"), autocommit=True) as two:
            one.execute("CREATE TABLE t (a int)")
            one.execute("INSERT INTO t VALUES (1)")
            with pytest.raises(pgerrors.UndefinedTable):
                two.execute("SELECT * FROM t")
            assert one.execute("SELECT current_database()").fetchone() == ("d_one",)
            names = {r[0] for r in one.execute("SELECT datname FROM pg_database")}
            assert {"immusql", "d_one", "d_two"} <= names
            with pytest.raises(pgerrors.ObjectInUse):
                admin.execute("DROP DATABASE d_one")  # someone is connected
        with pytest.raises(pgerrors.ActiveSqlTransaction):
            with admin.transaction():
                admin.execute("CREATE DATABASE in_block")
    finally:
        admin.execute("DROP DATABASE IF EXISTS d_one")
        admin.execute("DROP DATABASE IF EXISTS d_two")
    assert login_error(server, "d_one")[0] == "3D000"


def test_drop_database_force_disconnects_others(server, admin):
    admin.execute("CREATE DATABASE forced")
    victim = psycopg.connect(server.dsn("forced"), autocommit=True)
    admin.execute("DROP DATABASE forced WITH (FORCE)")
    with pytest.raises(psycopg.OperationalError):
        victim.execute("SELECT 1")
    victim.close()


def test_max_connections(tmp_path):
    with InProcessServer(tmp_path / "few", max_connections=2) as s:
        a, b = psycopg.connect(s.dsn()), psycopg.connect(s.dsn())
        try:
            assert login_error(s)[0] == "53300"
        finally:
            a.close()
            b.close()
        psycopg.connect(s.dsn()).close()  # a slot is free again


# ---------------------------------------------------------------------- config ---------


def test_config_precedence(tmp_path):
    cfg = tmp_path / "immusql.toml"
    cfg.write_text('port = 6001\nmax-connections = 7\nlog_level = "debug"\n')
    parser = __import__("argparse").ArgumentParser()
    server_config.add_arguments(parser)
    args = parser.parse_args(["--config", str(cfg), "--port", "6003"])
    c = server_config.load(args, environ={"IMMUSQL_PORT": "6002", "IMMUSQL_MAX_CONNECTIONS":
                                          "9"})
    assert (c.port, c.max_connections, c.log_level) == (6003, 9, "debug")
    with pytest.raises(errors.InvalidParameterValue):
        cfg.write_text("no_such_setting = 1\n")
        server_config.load(parser.parse_args(["--config", str(cfg)]), environ={})
    with pytest.raises(errors.InvalidParameterValue):
        server_config.load(parser.parse_args(["--auth-method", "kerberos"]), environ={})


# ---------------------------------------------------------------------- process --------


def test_kill_9_keeps_every_acknowledged_commit(tmp_path):
    acknowledged = []
    with ServerProcess(tmp_path / "data") as srv:
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            c.execute("CREATE TABLE log (id int PRIMARY KEY, payload text)")
        stop = threading.Event()

        def writer(offset):
            try:
                with psycopg.connect(srv.dsn(), autocommit=True) as c:
                    i = offset
                    while not stop.is_set():
                        c.execute("INSERT INTO log VALUES (%s, %s)", (i, "x" * 50))
                        acknowledged.append(i)
                        i += 4
            except psycopg.OperationalError:
                pass  # the server was killed under us

        threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        while len(acknowledged) < 200:
            threads[0].join(0.01)
        srv.kill()
        stop.set()
        for t in threads:
            t.join()
    with ServerProcess(tmp_path / "data") as srv:
        with psycopg.connect(srv.dsn()) as c:
            stored = {r[0] for r in c.execute("SELECT id FROM log")}
    assert set(acknowledged) <= stored


def test_sigterm_finishes_and_restarts_cleanly(tmp_path):
    srv = ServerProcess(tmp_path / "data").start()
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            c.execute("CREATE TABLE kept (a int)")
            c.execute("INSERT INTO kept VALUES (1), (2)")
        open_block = psycopg.connect(srv.dsn())
        open_block.execute("INSERT INTO kept VALUES (3)")  # never committed
        assert srv.terminate() == 0
        assert "shut down cleanly" in srv.output()
        open_block.close()
    finally:
        if srv.proc.poll() is None:
            srv.kill()
    with ServerProcess(tmp_path / "data") as srv2:
        with psycopg.connect(srv2.dsn()) as c:
            assert c.execute("SELECT a FROM kept ORDER BY a").fetchall() == [(1,), (2,)]


def test_second_server_on_same_dir_refuses(tmp_path):
    with ServerProcess(tmp_path / "data"):
        second = ServerProcess(tmp_path / "data").start(expect_ready=False)
        rc = second.wait_exit()
        out = second.output()
        assert rc != 0 and "data" in out and ("lock" in out or "in use" in out), out


def test_default_password_refuses_non_loopback(tmp_path):
    env = {"IMMUSQL_ADMIN_PASSWORD": ""}
    proc = subprocess.run(
        [sys.executable, "-m", "immusql", "serve", "--dir", str(tmp_path / "d"), "--host",
         "0.0.0.0", "--port", "0"], capture_output=True, text=True, timeout=120,
        env={**__import__("os").environ, **env})
    assert proc.returncode != 0
    assert "default password" in proc.stderr


__all__ = ["ADMIN_PASSWORD"]
