"""The wire server's data directory: the cluster's roles and databases.

PostgreSQL keeps roles and the database list outside every database; so does this. A
verifiable store of its own (`system/`) holds them as KV entries, so every role, password
and database change lands in a tamper-evident log like the data itself. Each database is
an ordinary planner `Engine` in `base/<oid>/`. docs/server.md, "Data directory", has the
layout.

This module owns the directory: its flock, the system store and its bootstrap, the
engines, login checks and connection counts, and the dispatch of statements. The
statements themselves are in roles.py (roles) and databases.py (databases, their grants
and drops); system.py has the store's keys and records. Role, database, GRANT and
COMMENT ON DATABASE | ROLE statements take effect in the system store at once, outside
the session's transaction: a ROLLBACK does not undo them (PostgreSQL's would). All state
is guarded by one lock; the directory by an flock so only one server uses it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import threading
from collections import Counter

from .. import errors
from ..kv import ImmuSQLError, Store
from ..kv.options import META_FILE as STORE_META_FILE
from ..planner.cluster import (
    BOOTSTRAP_SUPERUSER_OID,
    DEFAULT_DATABASE,
    DEFAULT_USER,
    Cluster,
    DatabaseInfo,
    RoleInfo,
    directory_size,
)
from ..planner.session import Engine, Result
from . import auth
from .databases import DatabaseStatements
from .roles import RoleStatements
from .system import (
    DB_PREFIX,
    DROPPED_PREFIX,
    K_LAYOUT,
    K_MOCK,
    K_NEXT_OID,
    PUBLIC,
    ROLE_PREFIX,
    database_acl,
    db_key,
    expired,
    new_db,
    new_role,
    pack,
    role_key,
    unpack,
    valid_until_value,
)

log = logging.getLogger("immusql.server")

LAYOUT_VERSION = 1
SYSTEM_DIR, BASE_DIR, LOCK_FILE = "system", "base", "immusql.lock"
DEFAULT_DATABASE_OID = 5  # PostgreSQL's "postgres" database
FIRST_NORMAL_OID = 16384  # PostgreSQL's FirstNormalObjectId
DEFAULT_PASSWORD = "immusql"


class ServerCluster(RoleStatements, DatabaseStatements, Cluster):
    """Roles and databases of one data directory, shared by all the server's connections.

    Thread-safe. `terminate_backends(dbname)`, if given (or set later as an attribute),
    is called by DROP DATABASE ... WITH (FORCE) without the cluster's lock held; it must
    return once those connections are gone, i.e. have called `connection_closed`.
    `engine_options` are passed to every `Engine.open` (store options).
    """

    @classmethod
    def open(cls, path, admin_password: str | None = None, *, terminate_backends=None,
             engine_options: dict | None = None) -> "ServerCluster":
        """Open the data directory, creating it on first start (database `immusql`,
        superuser `immusql` with `admin_password`, default "immusql"; ignored for an
        existing directory). Raises ObjectInUse (55006) if another server holds it."""
        return cls(path, admin_password, terminate_backends=terminate_backends,
                   engine_options=engine_options)

    def __init__(self, path, admin_password: str | None = None, *, terminate_backends=None,
                 engine_options: dict | None = None):
        super().__init__(DEFAULT_DATABASE, DEFAULT_USER)
        self.path = os.path.abspath(os.fspath(path))
        self.terminate_backends = terminate_backends
        self._engine_options = dict(engine_options or {})
        self._lock = threading.RLock()
        self._roles: dict[int, dict] = {}
        self._dbs: dict[int, dict] = {}
        self._dropped: dict[int, dict] = {}
        self._next_oid = FIRST_NORMAL_OID
        self._mock = b""
        self._engines: dict[int, Engine] = {}
        self._dropping: set[int] = set()  # databases being dropped: refuse new users
        self._open: dict[tuple[str, str], list[tuple[int, int]]] = {}  # names at open
        self._role_conns: Counter[int] = Counter()
        self._db_conns: Counter[int] = Counter()
        self._default_pw: tuple = (object(), False)  # (secrets checked, verdict)
        self._system: Store | None = None
        self._lock_fd: int | None = None
        self._closed = False
        _check_is_data_directory(self.path)
        self._lock_fd = _lock_directory(self.path)
        try:
            self._system = Store.open(os.path.join(self.path, SYSTEM_DIR))
            self._bootstrap(admin_password)
            os.makedirs(os.path.join(self.path, BASE_DIR), exist_ok=True)
            self._remove_dropped_dirs()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ lifecycle ------
    def close(self) -> None:
        """Close every open engine and the system store, then release the directory."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            engines, self._engines = list(self._engines.values()), {}
            for eng in engines:
                try:
                    eng.close()
                except Exception:  # close the rest and unlock whatever happens
                    log.exception("error closing a database")
            if self._system is not None:
                try:
                    self._system.close()
                except Exception:
                    log.exception("error closing the system store")
            if self._lock_fd is not None:
                try:
                    os.ftruncate(self._lock_fd, 0)
                finally:
                    os.close(self._lock_fd)  # releases the flock
                    self._lock_fd = None

    def __enter__(self) -> "ServerCluster":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise errors.OperationalError(f'data directory "{self.path}" is closed')

    def _bootstrap(self, admin_password: str | None) -> None:
        """First start: everything in one system transaction, so a crash leaves either a
        complete directory or one that bootstraps again."""
        try:
            layout = unpack(self._system.get(K_LAYOUT).value)
        except KeyError:
            layout = None
        if layout is None:
            password = DEFAULT_PASSWORD if admin_password is None else admin_password
            if not isinstance(password, str) or not password:
                raise errors.InvalidParameterValue("the admin password must not be empty")
            scram, md5 = auth.password_secrets(password, DEFAULT_USER)
            role = new_role(BOOTSTRAP_SUPERUSER_OID, DEFAULT_USER, superuser=True,
                             createrole=True, createdb=True, login=True, replication=True,
                             bypassrls=True, scram=scram, md5=md5)
            db = new_db(DEFAULT_DATABASE_OID, DEFAULT_DATABASE, BOOTSTRAP_SUPERUSER_OID)
            self._write({K_LAYOUT: LAYOUT_VERSION, K_NEXT_OID: FIRST_NORMAL_OID,
                         K_MOCK: secrets.token_bytes(32), role_key(role["oid"]): role,
                         db_key(db["oid"]): db})
            return
        if layout != LAYOUT_VERSION:
            raise errors.OperationalError(
                f'data directory "{self.path}" has layout version {layout}; this immusql '
                f"reads version {LAYOUT_VERSION}")
        if admin_password is not None:
            log.info("data directory %s exists: the admin password given is ignored "
                     "(change it with ALTER ROLE)", self.path)
        self._load()

    def _load(self) -> None:
        """Re-read the (small) system catalog after every change: one source of truth."""
        s = self._system
        roles = {r["oid"]: r for r in (unpack(e.value) for e in s.scan(ROLE_PREFIX))}
        dbs = {d["oid"]: d for d in (unpack(e.value) for e in s.scan(DB_PREFIX))}
        dropped = {d["oid"]: d for d in (unpack(e.value) for e in s.scan(DROPPED_PREFIX))}
        with self._lock:
            self._roles, self._dbs, self._dropped = roles, dbs, dropped
            self._next_oid = unpack(s.get(K_NEXT_OID).value)
            self._mock = unpack(s.get(K_MOCK).value)

    def _write(self, sets: dict, deletes=()) -> None:
        """One atomic system-store transaction, then reload."""
        try:
            with self._system.transaction() as tx:
                for k, v in sets.items():
                    tx.set(k, pack(v))
                for k in deletes:
                    tx.delete(k)
        except ImmuSQLError as e:
            raise errors.from_store_error(e) from e
        self._load()

    def _db_dir(self, oid: int) -> str:
        return os.path.join(self.path, BASE_DIR, str(oid))

    # ------------------------------------------------------------------ the interface --
    def roles(self) -> list[RoleInfo]:
        with self._lock:
            return [self._info(r) for r in sorted(self._roles.values(),
                                                  key=lambda r: r["oid"])]

    def databases(self) -> list[DatabaseInfo]:
        with self._lock:
            return [DatabaseInfo(d["oid"], d["name"], d["owner"], d["allow_connections"],
                                 d["connection_limit"], d.get("comment"))
                    for d in sorted(self._dbs.values(), key=lambda d: d["oid"])
                    if d["oid"] not in self._dropping]

    def role(self, name: str) -> RoleInfo | None:
        with self._lock:
            r = self._role_rec(name)
            return None if r is None else self._info(r)

    def database_info(self, name: str) -> DatabaseInfo | None:
        return next((d for d in self.databases() if d.name == name), None)

    def database_size(self, oid: int) -> int | None:
        """pg_database_size: the bytes of the database's directory, base/<oid>/."""
        with self._lock:
            if oid not in self._dbs or oid in self._dropping:
                return None
        return directory_size(self._db_dir(oid))

    def _info(self, r: dict) -> RoleInfo:
        return RoleInfo(r["oid"], r["name"], r["superuser"], r["inherit"], r["createrole"],
                        r["createdb"], r["login"], r["replication"], r["bypassrls"],
                        r["connection_limit"], valid_until_value(r["valid_until"]),
                        tuple(self._roles[o]["name"] for o in r["member_of"]
                              if o in self._roles), r.get("comment"))

    def _role_rec(self, name: str) -> dict | None:
        return next((r for r in self._roles.values() if r["name"] == name), None)

    def _db_rec(self, name: str) -> dict | None:
        return next((d for d in self._dbs.values()
                     if d["name"] == name and d["oid"] not in self._dropping), None)

    @property
    def mock_auth_nonce(self) -> bytes:
        """Persisted secret for `auth.ScramExchange(mock_nonce=)`: an unknown role gets
        the same fake salt on every attempt and restart (PostgreSQL's mock_auth_nonce)."""
        return self._mock

    @property
    def default_password_in_force(self) -> bool:
        """True while the bootstrap superuser's password is still "immusql"."""
        with self._lock:
            r = self._roles.get(BOOTSTRAP_SUPERUSER_OID)
            if r is None:
                return False
            checked = (r["scram"], r["md5"], r["name"])
            if self._default_pw[0] != checked:  # one PBKDF2 per password change
                in_force = (auth.scram_check_password(r["scram"], DEFAULT_PASSWORD)
                            if r["scram"] else
                            auth.check_cleartext(r["md5"], DEFAULT_PASSWORD, r["name"]))
                self._default_pw = (checked, in_force)
            return self._default_pw[1]

    # ------------------------------------------------------------------ engines --------
    def engine(self, dbname: str) -> Engine:
        """The database's Engine, opened on first use and shared by all connections."""
        with self._lock:
            self._check_open()
            d = self._db_rec(dbname)
            if d is None:
                raise errors.InvalidCatalogName(f'database "{dbname}" does not exist')
            return self._engine_for(d["oid"])

    def _engine_for(self, oid: int) -> Engine:
        eng = self._engines.get(oid)
        if eng is None:
            path, options = self._db_dir(oid), dict(self._engine_options)
            rec = self._dbs.get(oid)
            if rec is not None and 0 < len(rec["name"].encode()) <= 255 \
                    and not os.path.exists(os.path.join(path, STORE_META_FILE)):
                # a new store is named after its database, so the states it signs say which
                # database they are of (docs/verify.md section 5); an existing store keeps
                # the name it was created with (fixed for its life, "defaultdb" before)
                options.setdefault("db", rec["name"])
            try:
                eng = Engine.open(path, **options)
            except ImmuSQLError as e:
                raise errors.from_store_error(e) from e
            self._engines[oid] = eng
        return eng

    # ------------------------------------------------------------------ logging in -----
    def role_secret(self, name: str) -> tuple[str | None, str | None] | None:
        """(SCRAM verifier, md5 secret) for password authentication; None when the role
        cannot authenticate by password (no such role, no password, VALID UNTIL passed),
        like PostgreSQL's get_role_password: run a doomed exchange then."""
        with self._lock:
            r = self._role_rec(name)
            if r is None or (r["scram"] is None and r["md5"] is None) or expired(r):
                return None
            return r["scram"], r["md5"]

    def can_login(self, role: str, dbname: str) -> RoleInfo:
        """Raise PostgreSQL's error if `role` may not connect to `dbname` now, in
        PostgreSQL's order; else the role. Call after authentication, then call
        `connection_opened` (which re-checks the limits atomically)."""
        with self._lock:
            self._check_open()
            r = self._role_rec(role)
            if r is None:
                raise errors.InvalidAuthorizationSpecification(f'role "{role}" does not exist')
            if expired(r):
                raise auth.auth_failed(role)
            if not r["login"]:
                raise errors.InvalidAuthorizationSpecification(
                    f'role "{role}" is not permitted to log in')
            self._check_role_limit(r)
            d = self._db_rec(dbname)
            if d is None:
                raise errors.InvalidCatalogName(f'database "{dbname}" does not exist')
            if not d["allow_connections"]:
                raise errors.ObjectNotInPrerequisiteState(
                    f'database "{dbname}" is not currently accepting connections')
            if not r["superuser"] and "c" not in self._db_privileges(r["oid"], d):
                raise errors.InsufficientPrivilege(
                    f'permission denied for database "{dbname}"',
                    detail="User does not have CONNECT privilege.")
            self._check_db_limit(r, d)
            return self._info(r)

    def _check_role_limit(self, r: dict) -> None:
        limit = r["connection_limit"]
        if not r["superuser"] and 0 <= limit <= self._role_conns[r["oid"]]:
            raise errors.TooManyConnections(f'too many connections for role "{r["name"]}"')

    def _check_db_limit(self, r: dict, d: dict) -> None:
        limit = d["connection_limit"]
        if not r["superuser"] and 0 <= limit <= self._db_conns[d["oid"]]:
            raise errors.TooManyConnections(
                f'too many connections for database "{d["name"]}"')

    def connection_opened(self, role: str, dbname: str) -> None:
        """Count a connection (after can_login). Raises 53300 if it would exceed a
        limit, so concurrent logins cannot overshoot; then do not call connection_closed."""
        with self._lock:
            self._check_open()
            r, d = self._role_rec(role), self._db_rec(dbname)
            if r is None:
                raise errors.InvalidAuthorizationSpecification(f'role "{role}" does not exist')
            if d is None:
                raise errors.InvalidCatalogName(f'database "{dbname}" does not exist')
            self._check_role_limit(r)
            self._check_db_limit(r, d)
            self._role_conns[r["oid"]] += 1
            self._db_conns[d["oid"]] += 1
            self._open.setdefault((role, dbname), []).append((r["oid"], d["oid"]))

    def connection_closed(self, role: str, dbname: str) -> None:
        """Uncount a connection; pass the names given to connection_opened (a rename or
        drop since then does not matter)."""
        with self._lock:
            opened = self._open.get((role, dbname))
            if not opened:
                log.warning("connection_closed(%r, %r) without connection_opened", role, dbname)
                return
            role_oid, db_oid = opened.pop()
            if not opened:
                del self._open[(role, dbname)]
            for counter, oid in ((self._role_conns, role_oid), (self._db_conns, db_oid)):
                counter[oid] -= 1
                if counter[oid] <= 0:
                    del counter[oid]

    def connection_count(self, dbname: str) -> int:
        """Connections currently counted for the database."""
        with self._lock:
            d = self._db_rec(dbname)
            return 0 if d is None else self._db_conns[d["oid"]]

    # ------------------------------------------------------------------ privileges -----
    def _closure(self, oid: int, inherit_only: bool) -> set[int]:
        """The role and every role it is (transitively) a member of; with inherit_only,
        only through roles that inherit (PostgreSQL's ROLERECURSE_PRIVS)."""
        seen, todo = {oid}, [oid]
        while todo:
            r = self._roles.get(todo.pop())
            if r is None or (inherit_only and not r["inherit"]):
                continue
            for o in r["member_of"]:
                if o not in seen:
                    seen.add(o)
                    todo.append(o)
        return seen

    def _is_super(self, oid: int) -> bool:
        r = self._roles.get(oid)
        return r is not None and r["superuser"]

    def _has_privs_of(self, member: int, role: int) -> bool:
        return self._is_super(member) or role in self._closure(member, True)

    def _is_member_of(self, member: int, role: int) -> bool:
        return self._is_super(member) or role in self._closure(member, False)

    def _db_privileges(self, role_oid: int, d: dict) -> set[str]:
        """Privilege letters the ACL gives the role (superuser bypass not included)."""
        mine = self._closure(role_oid, True)
        out: set[str] = set()
        for grantee, letters in database_acl(d):
            if grantee == PUBLIC or grantee in mine:
                out.update(letters)
        return out

    def _me(self, session) -> dict:
        """The session's role; a role dropped meanwhile has no privileges at all."""
        return self._role_rec(session.user) or new_role(-1, session.user)

    def _need_role(self, name: str) -> dict:
        r = self._role_rec(name)
        if r is None:
            raise errors.UndefinedObject(f'role "{name}" does not exist')
        return r

    def _need_db(self, name: str) -> dict:
        d = self._db_rec(name)
        if d is None:
            raise errors.InvalidCatalogName(f'database "{name}" does not exist')
        return d

    def _check_owner(self, me: dict, d: dict) -> None:
        if not self._has_privs_of(me["oid"], d["owner"]):
            raise errors.InsufficientPrivilege(f"must be owner of database {d['name']}")

    # ------------------------------------------------------------------ statements -----
    def execute(self, stmt, session) -> Result:
        """Run a RoleStmt, DatabaseStmt or DatabaseGrant for `session`."""
        from ..parser import ast
        self._check_open()
        kind = type(stmt)
        tag = {ast.RoleStmt: "ROLE", ast.DatabaseStmt: "DATABASE"}.get(kind)
        if session.in_block and session.read_only:
            verb = (f"{stmt.action.upper()} {tag}" if tag else stmt.action.upper())
            raise errors.ReadOnlySqlTransaction(
                f"cannot execute {verb} in a read-only transaction")
        if kind is ast.RoleStmt:
            handler = {"create": self._create_role, "alter": self._alter_role,
                       "drop": self._drop_role}.get(stmt.action)
        elif kind is ast.DatabaseStmt:
            handler = {"create": self._create_database, "alter": self._alter_database,
                       "drop": self._drop_database}.get(stmt.action)
        elif kind is ast.DatabaseGrant:
            handler = self._grant
        elif kind is ast.Comment:
            handler = self.comment
        else:
            handler = None
        if handler is None:
            raise errors.FeatureNotSupported(f"{kind.__name__} {getattr(stmt, 'action', '')}"
                                             " is not supported")
        return handler(stmt, session)


    # -- comments --------------------------------------------------------------------------
    def comment(self, stmt, session) -> Result:
        """COMMENT ON DATABASE | ROLE: kept in the database's or role's record (an optional
        "comment" key), at once like the other statements here."""
        with self._lock:
            if stmt.kind == "database":
                return self._comment_database(stmt, session)
            return self._comment_role(stmt, session)

    def _write_comment(self, key: bytes, rec: dict, text: str | None) -> Result:
        new = dict(rec)
        if text is None:
            new.pop("comment", None)
        else:
            new["comment"] = text
        self._write({key: new})
        return Result("COMMENT")


# ---------------------------------------------------------------------- helpers --------


def _check_is_data_directory(path: str) -> None:
    """Refuse to take over a non-empty directory that is not ours (as initdb does)."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise errors.OperationalError(f'"{path}" exists and is not a directory')
    if os.path.isdir(path) and not os.path.isdir(os.path.join(path, SYSTEM_DIR)):
        if set(os.listdir(path)) - {LOCK_FILE}:
            raise errors.OperationalError(
                f'directory "{path}" exists, is not empty and is not an immusql data '
                "directory")


def _lock_directory(path: str) -> int:
    """flock `<dir>/immusql.lock` and write our pid into it; a second server (or a second
    open in this process) gets ObjectInUse naming the directory and the holder's pid."""
    os.makedirs(path, exist_ok=True)
    fd = os.open(os.path.join(path, LOCK_FILE), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        finally:
            os.close(fd)
        who = f" (pid {holder})" if holder else ""
        raise errors.ObjectInUse(
            f'data directory "{path}" is in use by another immusql server{who}',
            hint="Stop that server first, or give this one another directory.") from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return fd
