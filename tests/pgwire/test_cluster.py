"""The server's data directory: bootstrap, reopen, the directory lock, PostgreSQL's login
and permission rules with their SQLSTATEs, role/database/GRANT statements, DROP DATABASE
crash-safety, and that no password is ever stored in clear."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import msgpack
import pytest

from immusql import errors
from immusql.kv import Store
from immusql.parser import ast
from immusql.pgwire import auth
from immusql.pgwire.cluster import DEFAULT_DATABASE_OID, LOCK_FILE, ServerCluster

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def cluster(data_dir):
    c = ServerCluster.open(data_dir)
    yield c
    c.close()


class Conn:
    """A connection as the server makes one: can_login, counted, a session."""

    def __init__(self, c: ServerCluster, user: str = "immusql", db: str = "immusql"):
        self.c, self.user, self.db = c, user, db
        c.can_login(user, db)
        c.connection_opened(user, db)
        self.session = c.engine(db).session(cluster=c, user=user, database=db)

    def run(self, stmt):
        """Through the session, as a statement from the wire would go."""
        return self.session.execute_statement(stmt)

    def sql(self, text):
        return self.session.execute(text)

    def close(self):
        self.session.close()
        self.c.connection_closed(self.user, self.db)


def session(c, user="immusql", db="immusql"):
    """An uncounted session (for statements only)."""
    return c.engine(db).session(cluster=c, user=user, database=db)


def run(c, stmt, user="immusql", db="immusql"):
    return session(c, user, db).execute_statement(stmt)


def role(action, name, kind="role", **options):
    names = name if isinstance(name, tuple) else (name,)
    new_name = options.pop("new_name", None)
    if_exists = options.pop("if_exists", False)
    return ast.RoleStmt(action, names, kind=kind, options=tuple(options.items()),
                        if_exists=if_exists, new_name=new_name)


def database(action, name, **options):
    extra = {k: options.pop(k) for k in ("if_exists", "new_name", "force") if k in options}
    return ast.DatabaseStmt(action, name, options=tuple(options.items()), **extra)


def grant(action, privileges, dbs, grantees):
    return ast.DatabaseGrant(action, tuple(privileges), tuple(dbs), tuple(grantees))


def raises(exc, sqlstate, match=None):
    class _Check:
        def __enter__(self):
            self.cm = pytest.raises(exc, match=match)
            self.info = self.cm.__enter__()
            return self.info

        def __exit__(self, *a):
            out = self.cm.__exit__(*a)
            assert self.info.value.sqlstate == sqlstate
            return out
    return _Check()


def setup_users(c):
    """alice: CREATEROLE CREATEDB; bob: plain user; both log in."""
    run(c, role("create", "alice", "user", password="alice-pw", createrole=True,
                createdb=True))
    run(c, role("create", "bob", "user", password="bob-pw"))


# ---------------------------------------------------------------------- bootstrap ------


def test_bootstrap_layout(cluster, data_dir):
    assert (data_dir / "system").is_dir() and (data_dir / "base").is_dir()
    assert (data_dir / LOCK_FILE).read_text().strip() == str(os.getpid())
    (r,) = cluster.roles()
    assert (r.oid, r.name, r.superuser, r.login, r.createrole, r.createdb) == \
        (10, "immusql", True, True, True, True)
    (d,) = cluster.databases()
    assert (d.oid, d.name, d.owner) == (DEFAULT_DATABASE_OID, "immusql", 10)
    cluster.engine("immusql")
    assert (data_dir / "base" / str(DEFAULT_DATABASE_OID)).is_dir()
    verifier, md5 = cluster.role_secret("immusql")
    assert auth.scram_check_password(verifier, "immusql")
    assert md5 == auth.md5_secret("immusql", "immusql")
    assert cluster.default_password_in_force
    assert cluster.can_login("immusql", "immusql").superuser


def test_bootstrap_with_admin_password(data_dir):
    with ServerCluster.open(data_dir, admin_password="s3cret") as c:
        assert not c.default_password_in_force
        assert auth.scram_check_password(c.role_secret("immusql")[0], "s3cret")
    with ServerCluster.open(data_dir, admin_password="ignored") as c:  # only on creation
        assert auth.scram_check_password(c.role_secret("immusql")[0], "s3cret")


def test_default_password_flag_follows_alter_role(cluster):
    assert cluster.default_password_in_force
    run(cluster, role("alter", "immusql", password="better"))
    assert not cluster.default_password_in_force
    run(cluster, role("alter", "immusql", password="immusql"))
    assert cluster.default_password_in_force


def test_reopen_keeps_roles_databases_and_data(data_dir):
    with ServerCluster.open(data_dir) as c:
        setup_users(c)
        run(c, database("create", "shop", owner="alice"))
        run(c, grant("revoke", ["connect"], ["shop"], ["public"]))
        run(c, grant("grant", ["connect"], ["shop"], ["bob"]))
        s = session(c, "alice", "shop")
        s.execute("CREATE TABLE t (a int); INSERT INTO t VALUES (42)")
        roles, dbs = c.roles(), c.databases()
    with ServerCluster.open(data_dir) as c:
        assert c.roles() == roles and c.databases() == dbs
        assert auth.scram_check_password(c.role_secret("bob")[0], "bob-pw")
        assert session(c, "alice", "shop").execute("SELECT a FROM t")[0].rows == [(42,)]
        c.can_login("bob", "shop")
        run(c, role("create", "carol"))  # oids keep counting after a restart
        assert len({r.oid for r in c.roles()}) == 4


def test_refuses_a_foreign_non_empty_directory(tmp_path):
    (tmp_path / "precious.txt").write_text("x")
    with pytest.raises(errors.OperationalError, match="not an immusql data directory"):
        ServerCluster.open(tmp_path)


def test_refuses_an_unknown_layout_version(data_dir):
    ServerCluster.open(data_dir).close()
    with Store.open(data_dir / "system") as system:
        system.set([(b"meta/layout", msgpack.packb(2))])
    with pytest.raises(errors.OperationalError, match="layout version 2"):
        ServerCluster.open(data_dir)
    # again, not 55006: the failed open released the directory and its stores
    with pytest.raises(errors.OperationalError, match="layout version 2"):
        ServerCluster.open(data_dir)


# ---------------------------------------------------------------------- the lock -------


def test_second_open_in_process_is_refused(cluster, data_dir):
    with raises(errors.ObjectInUse, "55006") as e:
        ServerCluster.open(data_dir)
    assert str(data_dir) in str(e.value) and f"pid {os.getpid()}" in str(e.value)
    assert (data_dir / LOCK_FILE).read_text().strip() == str(os.getpid())  # untouched


CHILD_HOLDS = """
import sys
from immusql.pgwire.cluster import ServerCluster
c = ServerCluster.open(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
c.close()
"""

CHILD_TRIES = """
import sys
from immusql.pgwire.cluster import ServerCluster
try:
    ServerCluster.open(sys.argv[1]).close()
    print("opened")
except Exception as e:
    print(e.sqlstate, e)
"""


def _python(code, *args, **kw):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], env=env,
                            text=True, stdout=subprocess.PIPE, **kw)


def test_lock_refuses_another_process(data_dir):
    holder = _python(CHILD_HOLDS, data_dir, stdin=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with raises(errors.ObjectInUse, "55006") as e:
            ServerCluster.open(data_dir)
        assert f'"{data_dir}"' in str(e.value) and f"pid {holder.pid}" in str(e.value)
    finally:
        holder.stdin.write("\n")
        holder.stdin.close()
        assert holder.wait(timeout=60) == 0
    ServerCluster.open(data_dir).close()  # released when the holder closed


def test_lock_seen_from_another_process(cluster, data_dir):
    out, _ = _python(CHILD_TRIES, data_dir).communicate(timeout=60)
    assert out.startswith("55006 ") and str(data_dir) in out and f"pid {os.getpid()}" in out
    cluster.close()
    out, _ = _python(CHILD_TRIES, data_dir).communicate(timeout=60)
    assert out.strip() == "opened"


# ---------------------------------------------------------------------- engines --------


def test_engine_is_shared_and_lazy(cluster):
    run(cluster, database("create", "d"))
    got = []
    threads = [threading.Thread(target=lambda: got.append(cluster.engine("d")))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(e) for e in got}) == 1 and got[0] is cluster.engine("d")
    with raises(errors.InvalidCatalogName, "3D000", 'database "nope" does not exist'):
        cluster.engine("nope")


def test_close_closes_engines_and_system_store(data_dir):
    c = ServerCluster.open(data_dir)
    eng = c.engine("immusql")
    c.close()
    with pytest.raises(errors.ImmuSQLError):
        eng.store.get(b"x")
    with pytest.raises(errors.OperationalError, match="closed"):
        c.engine("immusql")
    c.close()  # idempotent
    ServerCluster.open(data_dir).close()


# ---------------------------------------------------------------------- logging in -----


def test_login_unknown_and_nologin_roles(cluster):
    with raises(errors.InvalidAuthorizationSpecification, "28000", 'role "ghost" does not'):
        cluster.can_login("ghost", "immusql")
    assert cluster.role_secret("ghost") is None
    run(cluster, role("create", "grp"))  # CREATE ROLE: no LOGIN
    with raises(errors.InvalidAuthorizationSpecification, "28000",
                'role "grp" is not permitted to log in'):
        cluster.can_login("grp", "immusql")
    run(cluster, role("create", "u", "user"))  # CREATE USER implies LOGIN
    assert cluster.can_login("u", "immusql").login
    assert cluster.role_secret("u") is None  # no password: a doomed exchange


def test_login_valid_until(cluster):
    run(cluster, role("create", "old", "user", password="pw",
                      valid_until="2001-01-01 00:00:00+00"))
    assert cluster.role_secret("old") is None
    with raises(errors.InvalidPassword, "28P01", 'password authentication failed for user'):
        cluster.can_login("old", "immusql")
    run(cluster, role("alter", "old", valid_until="infinity"))
    assert cluster.role_secret("old") is not None
    cluster.can_login("old", "immusql")
    run(cluster, role("alter", "old", valid_until="2999-12-31"))
    assert str(cluster.role("old").valid_until) == "2999-12-31 00:00:00+00:00"
    cluster.can_login("old", "immusql")


def test_login_database_rules(cluster):
    setup_users(cluster)
    with raises(errors.InvalidCatalogName, "3D000", 'database "nope" does not exist'):
        cluster.can_login("bob", "nope")
    run(cluster, database("create", "closed", allow_connections=False))
    for user in ("bob", "immusql"):  # superusers too
        with raises(errors.ObjectNotInPrerequisiteState, "55000",
                    'database "closed" is not currently accepting connections'):
            cluster.can_login(user, "closed")


def test_connect_privilege(cluster):
    setup_users(cluster)
    run(cluster, role("create", "carol", "user", inherit=False))
    run(cluster, role("create", "readers"))
    run(cluster, role("create", "dave", "user", in_role=("readers",)))
    run(cluster, role("alter", "carol", login=True))
    run(cluster, database("create", "d", owner="alice"))
    cluster.can_login("bob", "d")  # PostgreSQL's default: PUBLIC may connect
    assert run(cluster, grant("revoke", ["connect"], ["d"], ["public"])).tag == "REVOKE"
    with raises(errors.InsufficientPrivilege, "42501", 'permission denied for database "d"') \
            as e:
        cluster.can_login("bob", "d")
    assert e.value.detail == "User does not have CONNECT privilege."
    cluster.can_login("alice", "d")  # owner
    cluster.can_login("immusql", "d")  # superuser
    assert run(cluster, grant("grant", ["connect"], ["d"], ["bob", "readers"])).tag == "GRANT"
    cluster.can_login("bob", "d")
    cluster.can_login("dave", "d")  # through membership
    run(cluster, role("create", "erin", "user", in_role=("readers",), inherit=False))
    with raises(errors.InsufficientPrivilege, "42501"):  # NOINHERIT: not through readers
        cluster.can_login("erin", "d")
    run(cluster, grant("revoke", ["all"], ["d"], ["bob"]))
    with raises(errors.InsufficientPrivilege, "42501"):
        cluster.can_login("bob", "d")


def test_connection_limits(cluster):
    setup_users(cluster)
    run(cluster, role("alter", "bob", connection_limit=1))
    first = Conn(cluster, "bob")
    with raises(errors.TooManyConnections, "53300", 'too many connections for role "bob"'):
        cluster.can_login("bob", "immusql")
    with raises(errors.TooManyConnections, "53300"):  # atomic re-check when counting
        cluster.connection_opened("bob", "immusql")
    first.close()
    Conn(cluster, "bob").close()

    run(cluster, database("create", "small", connection_limit=1))
    a = Conn(cluster, "alice", "small")
    with raises(errors.TooManyConnections, "53300",
                'too many connections for database "small"'):
        Conn(cluster, "bob", "small")
    su = Conn(cluster, "immusql", "small")  # superusers are exempt from both limits
    assert cluster.connection_count("small") == 2
    su.close()
    a.close()
    assert cluster.connection_count("small") == 0
    Conn(cluster, "bob", "small").close()


def test_connection_closed_after_rename_uses_the_names_given(cluster):
    setup_users(cluster)
    run(cluster, role("alter", "bob", connection_limit=1))
    conn = Conn(cluster, "bob")
    run(cluster, role("alter", "bob", new_name="robert"))
    with raises(errors.TooManyConnections, "53300"):
        cluster.can_login("robert", "immusql")
    cluster.connection_closed("bob", "immusql")
    cluster.can_login("robert", "immusql")
    conn.session.close()


# ---------------------------------------------------------------------- roles ----------


def test_create_role_permissions(cluster):
    setup_users(cluster)
    with raises(errors.InsufficientPrivilege, "42501", "permission denied to create role"):
        run(cluster, role("create", "x"), user="bob")
    run(cluster, role("create", "x"), user="alice")  # CREATEROLE
    for option, what in (("superuser", "superusers"), ("replication", "replication users"),
                         ("bypassrls", "bypassrls users")):
        with raises(errors.InsufficientPrivilege, "42501",
                    f"must be superuser to create {what}"):
            run(cluster, role("create", "y", **{option: True}), user="alice")
    with raises(errors.DuplicateObject, "42710", 'role "x" already exists'):
        run(cluster, role("create", "x"))
    for name in ("public", "none", "pg_monitor2"):
        with raises(errors.ReservedName, "42939", f'role name "{name}" is reserved'):
            run(cluster, role("create", name))
    with raises(errors.InvalidParameterValue, "22023", "invalid connection limit: -2"):
        run(cluster, role("create", "z", connection_limit=-2))
    with raises(errors.SyntaxError, "42601", 'option "bogus" not recognized'):
        run(cluster, role("create", "z", bogus=True))


def test_create_role_attributes_and_membership(cluster):
    r = run(cluster, role("create", "admins", superuser=False, createdb=True))
    assert r.tag == "CREATE ROLE"
    run(cluster, role("create", "kid", "user", in_role=("admins",), connection_limit=3))
    run(cluster, role("create", "boss", role=("kid",)))  # kid becomes a member of boss
    kid = cluster.role("kid")
    assert kid.login and kid.connection_limit == 3 and set(kid.member_of) == {"admins",
                                                                              "boss"}
    assert cluster.role("admins").createdb and not cluster.role("admins").login
    with raises(errors.InvalidGrantOperation, "0LP01", "is a member of role"):
        run(cluster, role("create", "loop", in_role=("kid",), role=("kid",)))
    assert cluster.role("loop") is None
    setup_users(cluster)
    run(cluster, role("create", "su", superuser=True))
    with raises(errors.InsufficientPrivilege, "42501", "must be superuser to alter superusers"):
        run(cluster, role("create", "sneaky", in_role=("su",)), user="alice")


def test_passwords_stored_as_verifier_and_md5(cluster):
    run(cluster, role("create", "p1", "user", password="pw1"))
    verifier, md5 = cluster.role_secret("p1")
    assert auth.scram_check_password(verifier, "pw1") and md5 == auth.md5_secret("pw1", "p1")
    pg_md5 = auth.md5_secret("pw2", "p2")
    run(cluster, role("create", "p2", "user", password=pg_md5))  # pre-hashed: kept as is
    assert cluster.role_secret("p2") == (None, pg_md5)
    pg_scram = auth.make_scram_verifier("pw3")
    run(cluster, role("create", "p3", "user", password=pg_scram))
    assert cluster.role_secret("p3") == (pg_scram, None)
    run(cluster, role("alter", "p1", password=None))
    assert cluster.role_secret("p1") is None
    r = run(cluster, role("alter", "p3", password=""))
    assert r.notices == ["empty string is not a valid password, clearing password"]
    assert cluster.role_secret("p3") is None


def test_alter_role_permissions(cluster):
    setup_users(cluster)
    assert run(cluster, role("alter", "bob", password="new"), user="bob").tag == "ALTER ROLE"
    assert auth.scram_check_password(cluster.role_secret("bob")[0], "new")
    run(cluster, role("alter", "current_user", password="newer"), user="bob")
    assert auth.scram_check_password(cluster.role_secret("bob")[0], "newer")
    for stmt in (role("alter", "bob", createdb=True), role("alter", "alice", password="x"),
                 role("alter", "bob", password="x", valid_until="infinity")):
        with raises(errors.InsufficientPrivilege, "42501", "^permission denied$"):
            run(cluster, stmt, user="bob")
    run(cluster, role("alter", "bob", createdb=True, connection_limit=5), user="alice")
    assert cluster.role("bob").createdb and cluster.role("bob").connection_limit == 5
    with raises(errors.InsufficientPrivilege, "42501", "must be superuser to alter superuser"):
        run(cluster, role("alter", "immusql", password="x"), user="alice")
    with raises(errors.InsufficientPrivilege, "42501", "must be superuser to alter superuser"):
        run(cluster, role("alter", "bob", superuser=True), user="alice")
    with raises(errors.InsufficientPrivilege, "42501", "must be superuser to change bypassrls"):
        run(cluster, role("alter", "bob", bypassrls=True), user="alice")
    with raises(errors.InsufficientPrivilege, "42501", "bootstrap user must be superuser"):
        run(cluster, role("alter", "immusql", superuser=False))
    with raises(errors.UndefinedObject, "42704", 'role "ghost" does not exist'):
        run(cluster, role("alter", "ghost", login=True))


def test_rename_role(cluster):
    setup_users(cluster)
    r = run(cluster, role("alter", "bob", new_name="robert"), user="alice")
    assert r.tag == "ALTER ROLE" and r.notices == []
    assert cluster.role("bob") is None
    verifier, md5 = cluster.role_secret("robert")
    assert auth.scram_check_password(verifier, "bob-pw") and md5 is None  # md5 hashed the name
    run(cluster, role("create", "m", "user", password=auth.md5_secret("pw", "m")))
    r = run(cluster, role("alter", "m", new_name="m2"))
    assert r.notices == ["MD5 password cleared because of role rename"]
    assert cluster.role_secret("m2") is None
    with raises(errors.FeatureNotSupported, "0A000", "session user cannot be renamed"):
        run(cluster, role("alter", "alice", new_name="alicia"), user="alice")
    with raises(errors.DuplicateObject, "42710", 'role "alice" already exists'):
        run(cluster, role("alter", "robert", new_name="alice"))
    with raises(errors.InsufficientPrivilege, "42501", "permission denied to rename role"):
        run(cluster, role("alter", "alice", new_name="x"), user="robert")
    with raises(errors.InsufficientPrivilege, "42501", "must be superuser to rename superusers"):
        run(cluster, role("alter", "immusql", new_name="root"), user="alice")


def test_drop_role_rules(cluster):
    setup_users(cluster)
    with raises(errors.InsufficientPrivilege, "42501", "permission denied to drop role"):
        run(cluster, role("drop", "alice"), user="bob")
    with raises(errors.ObjectInUse, "55006", "current user cannot be dropped"):
        run(cluster, role("drop", "alice"), user="alice")
    with raises(errors.DependentObjectsStillExist, "2BP01",
                "cannot drop role immusql because it is required by the database system"):
        run(cluster, role("drop", "immusql"), user=_other_superuser(cluster))
    with raises(errors.InsufficientPrivilege, "42501", "must be superuser to drop superusers"):
        run(cluster, role("drop", "immusql"), user="alice")
    run(cluster, database("create", "owned", owner="bob"))
    with raises(errors.DependentObjectsStillExist, "2BP01",
                'role "bob" cannot be dropped because some objects depend on it') as e:
        run(cluster, role("drop", "bob"))
    assert e.value.detail == "owner of database owned"
    run(cluster, database("alter", "owned", owner="alice"))
    run(cluster, grant("grant", ["connect"], ["owned"], ["bob"]))
    with raises(errors.DependentObjectsStillExist, "2BP01") as e:
        run(cluster, role("drop", "bob"))
    assert e.value.detail == "privileges for database owned"
    run(cluster, grant("revoke", ["connect"], ["owned"], ["bob"]))
    with raises(errors.UndefinedObject, "42704", 'role "ghost" does not exist'):
        run(cluster, role("drop", ("bob", "ghost")))
    assert cluster.role("bob") is not None  # all or nothing
    r = run(cluster, role("drop", ("bob", "ghost"), if_exists=True), user="alice")
    assert r.tag == "DROP ROLE" and r.notices == ['role "ghost" does not exist, skipping']
    assert cluster.role("bob") is None


def _other_superuser(c) -> str:
    if c.role("root2") is None:
        run(c, role("create", "root2", "user", superuser=True))
    return "root2"


def test_drop_role_removes_memberships(cluster):
    run(cluster, role("create", "g"))
    run(cluster, role("create", "m", in_role=("g",)))
    run(cluster, role("drop", "g"))
    assert cluster.role("m").member_of == ()


def test_role_statements_refused_in_read_only_block(cluster):
    s = session(cluster)
    s.execute("BEGIN READ ONLY")
    with raises(errors.ReadOnlySqlTransaction, "25006",
                "cannot execute CREATE ROLE in a read-only transaction"):
        s.execute_statement(role("create", "x"))
    s.execute("ROLLBACK")


# ---------------------------------------------------------------------- databases ------


def test_create_database_rules(cluster):
    setup_users(cluster)
    with raises(errors.InsufficientPrivilege, "42501", "permission denied to create database"):
        run(cluster, database("create", "d"), user="bob")
    with raises(errors.InsufficientPrivilege, "42501", 'must be member of role "bob"'):
        run(cluster, database("create", "d", owner="bob"), user="alice")
    assert run(cluster, database("create", "d", template="template0", encoding="UTF8",
                                 lc_collate="C"), user="alice").tag == "CREATE DATABASE"
    assert cluster.database_info("d").owner == cluster.role("alice").oid
    with raises(errors.DuplicateDatabase, "42P04", 'database "d" already exists'):
        run(cluster, database("create", "d"))
    with raises(errors.FeatureNotSupported, "0A000"):
        run(cluster, database("create", "e", template="d"))
    with raises(errors.InvalidCatalogName, "3D000", 'template database "nope" does not exist'):
        run(cluster, database("create", "e", template="nope"))
    with raises(errors.FeatureNotSupported, "0A000", "UTF8"):
        run(cluster, database("create", "e", encoding="LATIN1"))
    with raises(errors.InvalidParameterValue, "22023", "invalid connection limit: -5"):
        run(cluster, database("create", "e", connection_limit=-5))
    with raises(errors.UndefinedObject, "42704", 'role "ghost" does not exist'):
        run(cluster, database("create", "e", owner="ghost"))
    assert cluster.database_info("e") is None


def test_create_and_drop_database_refused_in_a_block(cluster):
    s = session(cluster)
    s.execute("BEGIN")
    with raises(errors.ActiveSqlTransaction, "25001",
                "CREATE DATABASE cannot run inside a transaction block"):
        s.execute_statement(database("create", "d"))
    s.execute("ROLLBACK")
    run(cluster, database("create", "d"))
    s.execute("BEGIN")
    with raises(errors.ActiveSqlTransaction, "25001",
                "DROP DATABASE cannot run inside a transaction block"):
        s.execute_statement(database("drop", "d"))
    s.execute("ROLLBACK")


def test_drop_database_rules(cluster, data_dir):
    setup_users(cluster)
    run(cluster, database("create", "d", owner="alice"))
    oid = cluster.database_info("d").oid
    with raises(errors.InsufficientPrivilege, "42501", "must be owner of database d"):
        run(cluster, database("drop", "d"), user="bob")
    with raises(errors.ObjectInUse, "55006", "cannot drop the currently open database"):
        run(cluster, database("drop", "d"), user="alice", db="d")
    conns = [Conn(cluster, "bob", "d"), Conn(cluster, "bob", "d")]
    with raises(errors.ObjectInUse, "55006", 'database "d" is being accessed by other users') \
            as e:
        run(cluster, database("drop", "d"), user="alice")
    assert e.value.detail == "There are 2 other sessions using the database."
    with raises(errors.ObjectInUse, "55006"):  # FORCE, but the server gave no callback
        run(cluster, database("drop", "d", force=True), user="alice")
    conns.pop().close()
    with raises(errors.ObjectInUse, "55006") as e:
        run(cluster, database("drop", "d"), user="alice")
    assert e.value.detail == "There is 1 other session using the database."
    conns.pop().close()
    assert run(cluster, database("drop", "d"), user="alice").tag == "DROP DATABASE"
    assert cluster.database_info("d") is None and not (data_dir / "base" / str(oid)).exists()
    with raises(errors.InvalidCatalogName, "3D000", 'database "d" does not exist'):
        run(cluster, database("drop", "d"))
    r = run(cluster, database("drop", "d", if_exists=True))
    assert r.notices == ['database "d" does not exist, skipping']


def test_drop_database_force_terminates_through_the_callback(cluster):
    setup_users(cluster)
    run(cluster, database("create", "d", owner="alice"))
    conns = {"d": [Conn(cluster, "bob", "d"), Conn(cluster, "alice", "d")]}
    called = []

    def terminate(dbname):
        called.append(dbname)
        for conn in conns.pop(dbname):
            conn.close()

    cluster.terminate_backends = terminate
    with raises(errors.InsufficientPrivilege, "42501", "must be a member of the role"):
        run(cluster, database("drop", "d", force=True), user="alice")  # bob's session
    assert called == []
    assert run(cluster, database("drop", "d", force=True)).tag == "DROP DATABASE"
    assert called == ["d"] and cluster.database_info("d") is None


def test_new_logins_refused_while_dropping(cluster):
    run(cluster, database("create", "d"))
    oid = cluster.database_info("d").oid
    cluster._dropping.add(oid)
    with raises(errors.InvalidCatalogName, "3D000"):
        cluster.can_login("immusql", "d")
    with raises(errors.InvalidCatalogName, "3D000"):
        cluster.engine("d")
    cluster._dropping.discard(oid)


def test_alter_database(cluster):
    setup_users(cluster)
    run(cluster, database("create", "d", owner="alice"))
    assert run(cluster, database("alter", "d", connection_limit=7,
                                 allow_connections=False), user="alice").tag == "ALTER DATABASE"
    info = cluster.database_info("d")
    assert info.connection_limit == 7 and not info.allow_connections
    with raises(errors.InsufficientPrivilege, "42501", "must be owner of database d"):
        run(cluster, database("alter", "d", connection_limit=1), user="bob")
    with raises(errors.FeatureNotSupported, "0A000",
                "cannot disallow connections for current database"):
        run(cluster, database("alter", "immusql", allow_connections=False))
    run(cluster, database("alter", "d", allow_connections=True))
    # RENAME
    with raises(errors.FeatureNotSupported, "0A000", "current database cannot be renamed"):
        run(cluster, database("alter", "d", new_name="d2"), user="alice", db="d")
    with raises(errors.DuplicateDatabase, "42P04", 'database "immusql" already exists'):
        run(cluster, database("alter", "d", new_name="immusql"))
    conn = Conn(cluster, "bob", "d")
    with raises(errors.ObjectInUse, "55006", "is being accessed by other users"):
        run(cluster, database("alter", "d", new_name="d2"))
    conn.close()
    run(cluster, role("alter", "alice", createdb=False))
    with raises(errors.InsufficientPrivilege, "42501", "permission denied to rename database"):
        run(cluster, database("alter", "d", new_name="d2"), user="alice")
    run(cluster, database("alter", "d", new_name="d2"))
    assert cluster.database_info("d") is None and cluster.database_info("d2").oid == info.oid
    # OWNER TO
    with raises(errors.InsufficientPrivilege, "42501", 'must be member of role "bob"'):
        run(cluster, database("alter", "d2", owner="bob"), user="alice")
    run(cluster, grant("revoke", ["connect"], ["d2"], ["public"]))
    run(cluster, database("alter", "d2", owner="bob"))
    assert cluster.database_info("d2").owner == cluster.role("bob").oid
    cluster.can_login("bob", "d2")  # the old owner's grants passed to the new owner
    with raises(errors.InsufficientPrivilege, "42501"):
        cluster.can_login("alice", "d2")
    with raises(errors.InvalidCatalogName, "3D000"):
        run(cluster, database("alter", "ghost", connection_limit=1))


def test_grant_revoke_rules(cluster):
    setup_users(cluster)
    run(cluster, database("create", "d", owner="alice"))
    r = run(cluster, grant("grant", ["create"], ["d"], ["alice"]), user="bob")
    assert r.tag == "GRANT" and r.notices == ['no privileges were granted for "d"']
    r = run(cluster, grant("revoke", ["connect"], ["d"], ["public"]), user="bob")
    assert r.tag == "REVOKE" and r.notices == ['no privileges could be revoked for "d"']
    run(cluster, grant("revoke", ["connect"], ["d"], ["public"]), user="alice")
    r = run(cluster, grant("grant", ["connect"], ["d"], ["bob"]), user="bob")
    assert r.notices == ['no privileges were granted for "d"']  # PUBLIC still has TEMP
    run(cluster, grant("revoke", ["all"], ["d"], ["public"]), user="alice")
    with raises(errors.InsufficientPrivilege, "42501", "permission denied for database d"):
        run(cluster, grant("grant", ["connect"], ["d"], ["bob"]), user="bob")
    with raises(errors.InvalidGrantOperation, "0LP01", "invalid privilege type SELECT"):
        run(cluster, grant("grant", ["select"], ["d"], ["bob"]))
    with raises(errors.UndefinedObject, "42704", 'role "ghost" does not exist'):
        run(cluster, grant("grant", ["connect"], ["d"], ["ghost"]))
    with raises(errors.InvalidCatalogName, "3D000"):
        run(cluster, grant("grant", ["connect"], ["ghost"], ["bob"]))


def test_through_sql_once_the_parser_has_it(cluster):
    from immusql.parser import parse
    try:
        parsed = parse("CREATE USER a PASSWORD $$x$$")
    except errors.Error:
        parsed = None
    if not parsed or not isinstance(parsed[0], ast.RoleStmt):
        pytest.skip("the parser does not produce RoleStmt yet")
    su = session(cluster)
    su.execute("CREATE USER a PASSWORD $$x$$ CREATEDB; CREATE USER b")
    assert auth.scram_check_password(cluster.role_secret("a")[0], "x")
    a = session(cluster, "a")
    (r,) = a.execute("CREATE DATABASE shop")
    assert r.tag == "CREATE DATABASE"
    assert cluster.database_info("shop").owner == cluster.role("a").oid
    a.execute("REVOKE CONNECT ON DATABASE shop FROM PUBLIC")
    with raises(errors.InsufficientPrivilege, "42501"):
        cluster.can_login("b", "shop")
    a.execute("GRANT CONNECT ON DATABASE shop TO b")
    cluster.can_login("b", "shop")
    su.execute("BEGIN")
    with raises(errors.ActiveSqlTransaction, "25001"):
        su.execute("DROP DATABASE shop")
    su.execute("ROLLBACK")
    with raises(errors.DependentObjectsStillExist, "2BP01"):
        su.execute("DROP USER a")
    assert a.execute("DROP DATABASE shop")[0].tag == "DROP DATABASE"
    su.execute("ALTER ROLE a RENAME TO c; DROP USER b, c")
    assert [r.name for r in cluster.roles()] == ["immusql"]
    assert [d.name for d in cluster.databases()] == ["immusql"]


# ---------------------------------------------------------------------- crash-safety ----


def _db_with_data(c, name="d"):
    run(c, database("create", name))
    session(c, db=name).execute("CREATE TABLE t (a int); INSERT INTO t VALUES (1)")
    return c._dbs[c.database_info(name).oid]


def test_drop_database_crash_after_recording(data_dir):
    """Crash after the drop is recorded, before the directory is removed: the database is
    gone for good and the next start removes the directory."""
    with ServerCluster.open(data_dir) as c:
        rec = _db_with_data(c)
        c._close_engine(rec["oid"])
        c._record_drop(rec)  # ... and the server dies here
        assert c.database_info("d") is None
        assert (data_dir / "base" / str(rec["oid"])).is_dir()
    with ServerCluster.open(data_dir) as c:
        assert not (data_dir / "base" / str(rec["oid"])).exists()
        assert c.database_info("d") is None
        with raises(errors.InvalidCatalogName, "3D000"):
            c.engine("d")
        run(c, database("create", "d"))  # the name is free; a fresh oid and directory
        assert c.database_info("d").oid != rec["oid"]
        with pytest.raises(errors.UndefinedTable):
            session(c, db="d").execute("SELECT * FROM t")


def test_drop_database_crash_before_recording(data_dir):
    """Crash after closing the engine, before recording: nothing happened."""
    with ServerCluster.open(data_dir) as c:
        rec = _db_with_data(c)
        c._close_engine(rec["oid"])
    with ServerCluster.open(data_dir) as c:
        assert session(c, db="d").execute("SELECT a FROM t")[0].rows == [(1,)]


def test_drop_is_recorded_in_the_verifiable_system_store(cluster, data_dir):
    rec = _db_with_data(cluster)
    run(cluster, database("drop", "d"))
    entries = [e.key for e in cluster._system.scan(b"dropped/")]
    assert entries == [b"dropped/" + rec["oid"].to_bytes(4, "big")]
    history = cluster._system.history(b"db/" + rec["oid"].to_bytes(4, "big"))
    assert len(history) == 2  # created, then deleted: the log keeps both


# ---------------------------------------------------------------------- no cleartext ----


def test_passwords_never_stored_in_clear(data_dir):
    secrets_used = ["Admin-Pw-7f3a9c", "Alice-Pw-51be20", "Alice-Pw-2nd-9d1e", "Bob-Pw-c0ffee",
                    "Caf\u00e9-Pw-\u2168"]
    with ServerCluster.open(data_dir, admin_password=secrets_used[0]) as c:
        run(c, role("create", "alice", "user", password=secrets_used[1]))
        run(c, role("alter", "alice", password=secrets_used[2]))
        run(c, role("create", "bob", "user", password=secrets_used[3]))
        run(c, role("create", "carol", "user", password=secrets_used[4]))
        assert auth.scram_check_password(c.role_secret("carol")[0], secrets_used[4])
    blobs = [p.read_bytes() for p in data_dir.rglob("*") if p.is_file()]
    assert blobs and any(b"SCRAM-SHA-256$4096:" in b for b in blobs)  # we did look there
    for secret in secrets_used:
        for encoded in {secret.encode(), auth.saslprep(secret), secret.encode("utf-16-le")}:
            assert not any(encoded in b for b in blobs), secret
