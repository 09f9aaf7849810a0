"""The wire server's data directory: the cluster's roles and databases.

PostgreSQL keeps roles and the database list outside every database; so does this. A
verifiable store of its own (`system/`) holds them as KV entries, so every role, password
and database change lands in a tamper-evident log like the data itself. Each database is
an ordinary planner `Engine` in `base/<oid>/`. docs/server.md, "Data directory", has the
layout.

Role, database, GRANT and COMMENT ON DATABASE | ROLE statements take effect in the system
store at once, outside the session's transaction: a ROLLBACK does not undo them
(PostgreSQL's would). All state is guarded by one lock; the directory by an flock so only
one server uses it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import secrets
import shutil
import threading
from collections import Counter

import msgpack

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
    unknown_database_comment,
)
from ..planner.session import Engine, Result
from . import auth

log = logging.getLogger("immusql.server")

LAYOUT_VERSION = 1
SYSTEM_DIR, BASE_DIR, LOCK_FILE = "system", "base", "immusql.lock"
DEFAULT_DATABASE_OID = 5  # PostgreSQL's "postgres" database
FIRST_NORMAL_OID = 16384  # PostgreSQL's FirstNormalObjectId
DEFAULT_PASSWORD = "immusql"
PUBLIC = 0  # ACL grantee of PUBLIC (PostgreSQL's ACL_ID_PUBLIC)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

# system store keys: fixed-width big-endian oids keep scans in oid order
_K_LAYOUT, _K_NEXT_OID, _K_MOCK = b"meta/layout", b"meta/next_oid", b"meta/mock_auth_nonce"
_ROLE, _DB, _DROPPED = b"role/", b"db/", b"dropped/"

# aclitem letters of database privileges: CREATE, TEMPORARY, CONNECT
_PRIVILEGES = {"create": "C", "temporary": "T", "temp": "T", "connect": "c",
               "all": "CTc", "all privileges": "CTc"}
_ROLE_BOOLS = ("superuser", "createdb", "createrole", "login", "inherit", "replication",
               "bypassrls")
_ROLE_ALIASES = {"connlimit": "connection_limit", "ingroup": "in_role",
                 "in_group": "in_role", "user": "role", "rolemembers": "role",
                 "adminmembers": "admin", "validuntil": "valid_until",
                 "encrypted_password": "password", "createuser": "createrole"}
_CREATE_ROLE_OPTIONS = {*_ROLE_BOOLS, "password", "connection_limit", "valid_until",
                        "in_role", "role", "admin", "sysid"}
_ALTER_ROLE_OPTIONS = {*_ROLE_BOOLS, "password", "connection_limit", "valid_until"}
_DB_ALIASES = {"connlimit": "connection_limit", "owner_to": "owner",
               "allowconnections": "allow_connections", "istemplate": "is_template"}
_CREATE_DB_OPTIONS = {"owner", "template", "encoding", "locale", "lc_collate", "lc_ctype",
                      "icu_locale", "locale_provider", "collation_version", "tablespace",
                      "allow_connections", "connection_limit", "is_template", "strategy",
                      "oid"}
_ALTER_DB_OPTIONS = {"allow_connections", "connection_limit", "is_template", "owner"}
_SPECIAL_ROLES = {"current_user", "current_role", "session_user"}


def _pack(value) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


def _unpack(raw: bytes):
    return msgpack.unpackb(raw, raw=False, strict_map_key=False)


def _key(prefix: bytes, oid: int) -> bytes:
    return prefix + oid.to_bytes(4, "big")


def _new_role(oid: int, name: str, **attrs) -> dict:
    rec = {"oid": oid, "name": name, "superuser": False, "inherit": True,
           "createrole": False, "createdb": False, "login": False, "replication": False,
           "bypassrls": False, "connection_limit": -1, "valid_until": None,
           "member_of": [], "scram": None, "md5": None}
    rec.update(attrs)
    return rec


def _new_db(oid: int, name: str, owner: int, **attrs) -> dict:
    rec = {"oid": oid, "name": name, "owner": owner, "allow_connections": True,
           "connection_limit": -1, "acl": None}
    rec.update(attrs)
    return rec


class ServerCluster(Cluster):
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
            layout = _unpack(self._system.get(_K_LAYOUT).value)
        except KeyError:
            layout = None
        if layout is None:
            password = DEFAULT_PASSWORD if admin_password is None else admin_password
            if not isinstance(password, str) or not password:
                raise errors.InvalidParameterValue("the admin password must not be empty")
            scram, md5 = auth.password_secrets(password, DEFAULT_USER)
            role = _new_role(BOOTSTRAP_SUPERUSER_OID, DEFAULT_USER, superuser=True,
                             createrole=True, createdb=True, login=True, replication=True,
                             bypassrls=True, scram=scram, md5=md5)
            db = _new_db(DEFAULT_DATABASE_OID, DEFAULT_DATABASE, BOOTSTRAP_SUPERUSER_OID)
            self._write({_K_LAYOUT: LAYOUT_VERSION, _K_NEXT_OID: FIRST_NORMAL_OID,
                         _K_MOCK: secrets.token_bytes(32), _key(_ROLE, role["oid"]): role,
                         _key(_DB, db["oid"]): db})
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
        roles = {r["oid"]: r for r in (_unpack(e.value) for e in s.scan(_ROLE))}
        dbs = {d["oid"]: d for d in (_unpack(e.value) for e in s.scan(_DB))}
        dropped = {d["oid"]: d for d in (_unpack(e.value) for e in s.scan(_DROPPED))}
        with self._lock:
            self._roles, self._dbs, self._dropped = roles, dbs, dropped
            self._next_oid = _unpack(s.get(_K_NEXT_OID).value)
            self._mock = _unpack(s.get(_K_MOCK).value)

    def _write(self, sets: dict, deletes=()) -> None:
        """One atomic system-store transaction, then reload."""
        try:
            with self._system.transaction() as tx:
                for k, v in sets.items():
                    tx.set(k, _pack(v))
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
                        r["connection_limit"], _valid_until_value(r["valid_until"]),
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
            if r is None or (r["scram"] is None and r["md5"] is None) or _expired(r):
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
            if _expired(r):
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
        for grantee, letters in _acl(d):
            if grantee == PUBLIC or grantee in mine:
                out.update(letters)
        return out

    def _me(self, session) -> dict:
        """The session's role; a role dropped meanwhile has no privileges at all."""
        return self._role_rec(session.user) or _new_role(-1, session.user)

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
        name, text = stmt.name.last, stmt.text or None
        with self._lock:
            me = self._me(session)
            if stmt.kind == "database":
                d = self._db_rec(name)
                if d is None:
                    return unknown_database_comment(name)
                self._check_owner(me, d)
                key, rec = _key(_DB, d["oid"]), d
            else:
                r = self._need_role(name)
                if r["superuser"]:
                    if not me["superuser"]:
                        raise errors.InsufficientPrivilege("must be superuser")
                elif not (me["superuser"] or me["createrole"]):
                    raise errors.InsufficientPrivilege("must have CREATEROLE privilege")
                key, rec = _key(_ROLE, r["oid"]), r
            new = dict(rec)
            if text is None:
                new.pop("comment", None)
            else:
                new["comment"] = text
            self._write({key: new})
        return Result("COMMENT")

    # -- roles -----------------------------------------------------------------------------
    def _create_role(self, stmt, session) -> Result:
        opts = _options(stmt.options, _ROLE_ALIASES, _CREATE_ROLE_OPTIONS)
        name = stmt.names[0]
        notices = []
        with self._lock:
            me = self._me(session)
            attrs = {b: _bool(opts, b) for b in _ROLE_BOOLS if b in opts}
            attrs.setdefault("login", stmt.kind == "user")
            for flag, what in (("superuser", "superusers"), ("replication", "replication users"),
                               ("bypassrls", "bypassrls users")):
                if attrs.get(flag):
                    if not me["superuser"]:
                        raise errors.InsufficientPrivilege(f"must be superuser to create {what}")
                    break
            else:
                if not (me["superuser"] or me["createrole"]):
                    raise errors.InsufficientPrivilege("permission denied to create role")
            _check_role_name(name)
            if self._role_rec(name) is not None:
                raise errors.DuplicateObject(f'role "{name}" already exists')
            if "sysid" in opts:
                notices.append("SYSID can no longer be specified")
            oid = self._next_oid
            rec = _new_role(oid, name, **attrs)
            rec["connection_limit"] = _connection_limit(opts, -1)
            if "password" in opts:
                rec["scram"], rec["md5"] = _password(opts["password"], name, notices)
            if "valid_until" in opts:
                rec["valid_until"] = _parse_valid_until(opts["valid_until"], session)
            roles = {oid: rec}  # every role this statement changes, by oid
            for parent_name in _names(opts.get("in_role", ())):  # IN ROLE: rec joins them
                self._add_member(roles, self._need_role(parent_name), rec, me)
            for member_name in (*_names(opts.get("role", ())), *_names(opts.get("admin", ()))):
                self._add_member(roles, rec, self._need_role(member_name), me)
            sets = {_key(_ROLE, o): r for o, r in roles.items()}
            sets[_K_NEXT_OID] = oid + 1
            self._write(sets)
        return Result("CREATE ROLE", notices=notices)

    def _add_member(self, roles: dict, parent: dict, member: dict, me: dict) -> None:
        """Make `member` a member of `parent` (AddRoleMems), recording it in `roles`."""
        if parent["superuser"] and not me["superuser"]:
            raise errors.InsufficientPrivilege("must be superuser to alter superusers")
        member = roles.setdefault(member["oid"],
                                  dict(member, member_of=list(member["member_of"])))
        view = {**self._roles, **roles}
        seen, todo = {parent["oid"]}, [parent["oid"]]  # is parent already under member?
        while todo:
            r = view.get(todo.pop())
            for o in (r["member_of"] if r else ()):
                if o not in seen:
                    seen.add(o)
                    todo.append(o)
        if member["oid"] in seen:
            raise errors.InvalidGrantOperation(
                f'role "{parent["name"]}" is a member of role "{member["name"]}"')
        if parent["oid"] not in member["member_of"]:
            member["member_of"].append(parent["oid"])

    def _alter_role(self, stmt, session) -> Result:
        name = stmt.names[0]
        if name in _SPECIAL_ROLES:
            name = session.user
        notices = []
        with self._lock:
            r = self._need_role(name)
            me = self._me(session)
            if stmt.new_name is not None:
                return self._rename_role(r, stmt.new_name, me, session)
            opts = _options(stmt.options, _ROLE_ALIASES, _ALTER_ROLE_OPTIONS)
            if r["superuser"] or "superuser" in opts:
                if not me["superuser"]:
                    raise errors.InsufficientPrivilege(
                        "must be superuser to alter superuser roles or change superuser "
                        "attribute")
            elif r["replication"] or "replication" in opts:
                if not me["superuser"]:
                    raise errors.InsufficientPrivilege(
                        "must be superuser to alter replication roles or change replication "
                        "attribute")
            elif "bypassrls" in opts:
                if not me["superuser"]:
                    raise errors.InsufficientPrivilege(
                        "must be superuser to change bypassrls attribute")
            elif not (me["superuser"] or me["createrole"]):
                if set(opts) != {"password"} or r["oid"] != me["oid"]:
                    raise errors.InsufficientPrivilege("permission denied")
            new = dict(r)
            for b in _ROLE_BOOLS:
                if b in opts:
                    new[b] = _bool(opts, b)
            if r["oid"] == BOOTSTRAP_SUPERUSER_OID and not new["superuser"]:
                raise errors.InsufficientPrivilege(
                    "permission denied: bootstrap user must be superuser")
            new["connection_limit"] = _connection_limit(opts, r["connection_limit"])
            if "password" in opts:
                new["scram"], new["md5"] = _password(opts["password"], r["name"], notices)
            if "valid_until" in opts:
                new["valid_until"] = _parse_valid_until(opts["valid_until"], session)
            self._write({_key(_ROLE, r["oid"]): new})
        return Result("ALTER ROLE", notices=notices)

    def _rename_role(self, r: dict, new_name: str, me: dict, session) -> Result:
        if r["oid"] == me["oid"] or r["name"] == session.user:
            raise errors.FeatureNotSupported("session user cannot be renamed")
        if self._role_rec(new_name) is not None:
            raise errors.DuplicateObject(f'role "{new_name}" already exists')
        _check_role_name(new_name)
        if r["superuser"]:
            if not me["superuser"]:
                raise errors.InsufficientPrivilege("must be superuser to rename superusers")
        elif not (me["superuser"] or me["createrole"]):
            raise errors.InsufficientPrivilege("permission denied to rename role")
        notices = []
        new = dict(r, name=new_name, md5=None)  # md5 hashes the name in: it cannot survive
        if r["md5"] is not None and r["scram"] is None:
            notices.append("MD5 password cleared because of role rename")
        self._write({_key(_ROLE, r["oid"]): new})
        return Result("ALTER ROLE", notices=notices)

    def _drop_role(self, stmt, session) -> Result:
        notices = []
        with self._lock:
            me = self._me(session)
            if not (me["superuser"] or me["createrole"]):
                raise errors.InsufficientPrivilege("permission denied to drop role")
            targets: dict[int, dict] = {}
            for name in stmt.names:
                r = self._role_rec(name)
                if r is None or r["oid"] in targets:
                    if stmt.if_exists:
                        notices.append(f'role "{name}" does not exist, skipping')
                        continue
                    raise errors.UndefinedObject(f'role "{name}" does not exist')
                if r["oid"] == me["oid"] or name == session.user:
                    raise errors.ObjectInUse("current user cannot be dropped")
                if r["superuser"] and not me["superuser"]:
                    raise errors.InsufficientPrivilege("must be superuser to drop superusers")
                if r["oid"] == BOOTSTRAP_SUPERUSER_OID:
                    raise errors.DependentObjectsStillExist(
                        f"cannot drop role {name} because it is required by the database "
                        "system")
                deps = [f"owner of database {d['name']}" for d in self._dbs.values()
                        if d["owner"] == r["oid"]]
                deps += [f"privileges for database {d['name']}" for d in self._dbs.values()
                         if d["acl"] is not None and any(g == r["oid"] for g, _ in d["acl"])]
                if deps:
                    raise errors.DependentObjectsStillExist(
                        f'role "{name}" cannot be dropped because some objects depend on it',
                        detail="\n".join(deps))
                targets[r["oid"]] = r
            if targets:
                sets = {}
                for r in self._roles.values():  # memberships in the dropped roles go too
                    if r["oid"] not in targets and set(r["member_of"]) & set(targets):
                        sets[_key(_ROLE, r["oid"])] = dict(
                            r, member_of=[o for o in r["member_of"] if o not in targets])
                self._write(sets, [_key(_ROLE, o) for o in targets])
        return Result("DROP ROLE", notices=notices)

    # -- databases -------------------------------------------------------------------------
    def _create_database(self, stmt, session) -> Result:
        if session.in_block:
            raise errors.ActiveSqlTransaction(
                "CREATE DATABASE cannot run inside a transaction block")
        opts = _options(stmt.options, _DB_ALIASES, _CREATE_DB_OPTIONS)
        with self._lock:
            me = self._me(session)
            allow = _bool(opts, "allow_connections") if "allow_connections" in opts else True
            limit = _connection_limit(opts, -1)
            if not (me["superuser"] or me["createdb"]):
                raise errors.InsufficientPrivilege("permission denied to create database")
            owner = me
            if opts.get("owner") is not None and str(opts["owner"]).lower() != "default":
                owner = self._need_role(str(opts["owner"]))
            if not self._is_member_of(me["oid"], owner["oid"]):
                raise errors.InsufficientPrivilege(f'must be member of role "{owner["name"]}"')
            self._check_create_options(opts)
            if self._db_rec(stmt.name) is not None or any(
                    d["name"] == stmt.name for d in self._dbs.values()):
                raise errors.DuplicateDatabase(f'database "{stmt.name}" already exists')
            oid = self._next_oid
            rec = _new_db(oid, stmt.name, owner["oid"], allow_connections=allow,
                          connection_limit=limit)
            # listed first, directory second: a crash in between leaves an empty database
            self._write({_key(_DB, oid): rec, _K_NEXT_OID: oid + 1})
            try:
                self._engine_for(oid)
            except BaseException:
                self._record_drop(rec)
                self._remove_dropped_dirs()
                raise
        return Result("CREATE DATABASE")

    def _check_create_options(self, opts: dict) -> None:
        template = opts.get("template")
        if template is not None and str(template).lower() not in ("template0", "template1",
                                                                  "default"):
            if self._db_rec(str(template)) is None:
                raise errors.InvalidCatalogName(
                    f'template database "{template}" does not exist')
            raise errors.FeatureNotSupported(
                "copying a database (TEMPLATE) is not supported: only template0 and "
                "template1, which are empty, can be templates")
        encoding = opts.get("encoding")
        if encoding is not None and str(encoding).lower() not in ("utf8", "utf-8", "unicode",
                                                                  "6", "default"):
            raise errors.FeatureNotSupported(
                f'encoding "{encoding}" is not supported: immusql databases are UTF8')
        for name in ("locale", "lc_collate", "lc_ctype"):
            value = opts.get(name)
            if value is not None and str(value).lower() not in ("c", "posix", "c.utf8",
                                                                "c.utf-8", "default"):
                raise errors.FeatureNotSupported(
                    f'{name} "{value}" is not supported: immusql databases use the C locale')
        provider = opts.get("locale_provider")
        if provider is not None and str(provider).lower() != "libc":
            raise errors.FeatureNotSupported("only the libc locale provider is supported")
        space = opts.get("tablespace")
        if space is not None and str(space).lower() not in ("pg_default", "default"):
            raise errors.UndefinedObject(f'tablespace "{space}" does not exist')
        if "is_template" in opts and _bool(opts, "is_template"):
            raise errors.FeatureNotSupported("template databases are not supported")
        strategy = opts.get("strategy")
        if strategy is not None and str(strategy).lower() not in ("wal_log", "file_copy"):
            raise errors.InvalidParameterValue(
                f'invalid create database strategy "{strategy}"',
                hint="Valid strategies are \"wal_log\", and \"file_copy\".")
        if opts.get("oid") is not None:
            raise errors.FeatureNotSupported("CREATE DATABASE ... OID is not supported")

    def _drop_database(self, stmt, session) -> Result:
        if session.in_block:
            raise errors.ActiveSqlTransaction(
                "DROP DATABASE cannot run inside a transaction block")
        with self._lock:
            d = self._db_rec(stmt.name)
            if d is None:
                if stmt.if_exists:
                    return Result("DROP DATABASE", notices=[
                        f'database "{stmt.name}" does not exist, skipping'])
                raise errors.InvalidCatalogName(f'database "{stmt.name}" does not exist')
            me = self._me(session)
            self._check_owner(me, d)
            if d["name"] == session.database:
                raise errors.ObjectInUse("cannot drop the currently open database")
            others = [ro for ro, do in self._connections() if do == d["oid"]]
            terminate = self.terminate_backends if stmt.force and others else None
            if terminate is not None:
                for ro in others:  # PostgreSQL's TerminateOtherDBBackends checks
                    if self._is_super(ro) and not me["superuser"]:
                        raise errors.InsufficientPrivilege(
                            "must be a superuser to terminate superuser process")
                    if not self._has_privs_of(me["oid"], ro):
                        raise errors.InsufficientPrivilege(
                            "must be a member of the role whose process is being terminated "
                            "or member of pg_signal_backend")
        if terminate is not None:
            terminate(d["name"])  # without our lock: the victims call connection_closed
        with self._lock:
            if self._dbs.get(d["oid"]) is None or d["oid"] in self._dropping:
                raise errors.InvalidCatalogName(f'database "{stmt.name}" does not exist')
            busy = self._db_conns[d["oid"]]
            if busy:
                raise _busy(d["name"], busy)
            self._dropping.add(d["oid"])
            try:
                self._close_engine(d["oid"])
                self._record_drop(d)
            finally:
                self._dropping.discard(d["oid"])
            self._remove_dropped_dirs()
        return Result("DROP DATABASE")

    def _connections(self) -> list[tuple[int, int]]:
        return [c for conns in self._open.values() for c in conns]

    # The three steps of DROP DATABASE, separate so tests can stop between them.
    def _close_engine(self, oid: int) -> None:
        eng = self._engines.pop(oid, None)
        if eng is not None:
            eng.close()

    def _record_drop(self, d: dict) -> None:
        """The drop's commit point: unlisted and marked for removal in one transaction."""
        self._write({_key(_DROPPED, d["oid"]): {"oid": d["oid"], "name": d["name"],
                                                "owner": d["owner"]}},
                    [_key(_DB, d["oid"])])

    def _remove_dropped_dirs(self) -> None:
        """Delete the directories of recorded drops (again after a crash: idempotent)."""
        for oid in self._dropped:
            path = self._db_dir(oid)
            if oid not in self._engines and os.path.exists(path):
                try:
                    shutil.rmtree(path)
                except OSError:
                    log.exception("cannot remove %s of a dropped database; the next start "
                                  "tries again", path)

    def _alter_database(self, stmt, session) -> Result:
        opts = _options(stmt.options, _DB_ALIASES, _ALTER_DB_OPTIONS)
        with self._lock:
            if "connection_limit" in opts:
                _connection_limit(opts, -1)
            d = self._need_db(stmt.name)
            me = self._me(session)
            if stmt.new_name is not None:
                return self._rename_database(d, stmt.new_name, me, session)
            if "owner" in opts:
                return self._alter_database_owner(d, str(opts["owner"]), me, session)
            self._check_owner(me, d)
            new = dict(d)
            if "allow_connections" in opts:
                new["allow_connections"] = _bool(opts, "allow_connections")
                if not new["allow_connections"] and d["name"] == session.database:
                    raise errors.FeatureNotSupported(
                        "cannot disallow connections for current database")
            if "is_template" in opts and _bool(opts, "is_template"):
                raise errors.FeatureNotSupported("template databases are not supported")
            new["connection_limit"] = _connection_limit(opts, d["connection_limit"])
            self._write({_key(_DB, d["oid"]): new})
        return Result("ALTER DATABASE")

    def _rename_database(self, d: dict, new_name: str, me: dict, session) -> Result:
        self._check_owner(me, d)
        if not (me["superuser"] or me["createdb"]):
            raise errors.InsufficientPrivilege("permission denied to rename database")
        if any(x["name"] == new_name for x in self._dbs.values()):
            raise errors.DuplicateDatabase(f'database "{new_name}" already exists')
        if d["name"] == session.database:
            raise errors.FeatureNotSupported("current database cannot be renamed")
        busy = self._db_conns[d["oid"]]
        if busy:
            raise _busy(d["name"], busy)
        self._write({_key(_DB, d["oid"]): dict(d, name=new_name)})
        return Result("ALTER DATABASE")

    def _alter_database_owner(self, d: dict, owner_name: str, me: dict, session) -> Result:
        owner = self._need_role(session.user if owner_name in _SPECIAL_ROLES else owner_name)
        if owner["oid"] != d["owner"]:
            self._check_owner(me, d)
            if not self._is_member_of(me["oid"], owner["oid"]):
                raise errors.InsufficientPrivilege(f'must be member of role "{owner["name"]}"')
            if not (me["superuser"] or me["createdb"]):
                raise errors.InsufficientPrivilege(
                    "permission denied to change owner of database")
            acl = d["acl"]
            if acl is not None:  # aclnewowner: the old owner's grants pass to the new one
                merged: dict[int, set] = {}
                for g, letters in acl:
                    merged.setdefault(owner["oid"] if g == d["owner"] else g,
                                      set()).update(letters)
                acl = [[g, "".join(sorted(v))] for g, v in merged.items()]
            self._write({_key(_DB, d["oid"]): dict(d, owner=owner["oid"], acl=acl)})
        return Result("ALTER DATABASE")

    # -- GRANT / REVOKE ... ON DATABASE -----------------------------------------------------
    def _grant(self, stmt, session) -> Result:
        letters = set()
        for p in stmt.privileges:
            got = _PRIVILEGES.get(p.lower())
            if got is None:
                raise errors.InvalidGrantOperation(
                    f"invalid privilege type {p.upper()} for database")
            letters.update(got)
        grant = stmt.action == "grant"
        tag, notices = ("GRANT" if grant else "REVOKE"), []
        with self._lock:
            me = self._me(session)
            dbs = [self._need_db(n) for n in stmt.databases]
            grantees = [PUBLIC if g.lower() == "public" else self._need_role(g)["oid"]
                        for g in stmt.grantees]
            sets = {}
            for d in dbs:
                if not self._has_privs_of(me["oid"], d["owner"]):
                    if not self._db_privileges(me["oid"], d):
                        raise errors.InsufficientPrivilege(
                            f"permission denied for database {d['name']}")
                    notices.append(f'no privileges were granted for "{d["name"]}"' if grant
                                   else f'no privileges could be revoked for "{d["name"]}"')
                    continue
                acl = {g: set(v) for g, v in _acl(d)}
                for g in grantees:
                    if grant:
                        acl.setdefault(g, set()).update(letters)
                    elif g in acl:
                        acl[g] -= letters
                new_acl = [[g, "".join(sorted(v))] for g, v in acl.items() if v]
                sets[_key(_DB, d["oid"])] = dict(d, acl=new_acl)
            if sets:
                self._write(sets)
        return Result(tag, notices=notices)


# ---------------------------------------------------------------------- helpers --------


def _acl(d: dict) -> list:
    """The database's ACL; NULL means PostgreSQL's default: owner all, PUBLIC CONNECT and
    TEMPORARY."""
    if d["acl"] is not None:
        return d["acl"]
    return [[d["owner"], "CTc"], [PUBLIC, "Tc"]]


def _busy(name: str, n: int) -> errors.ObjectInUse:
    detail = (f"There is {n} other session using the database." if n == 1 else
              f"There are {n} other sessions using the database.")
    return errors.ObjectInUse(f'database "{name}" is being accessed by other users',
                              detail=detail)


def _options(pairs, aliases: dict, allowed: set) -> dict:
    """Statement options by canonical name; unknown or repeated ones are errors."""
    out = {}
    for name, value in pairs:
        key = name.lower().replace(" ", "_").replace("-", "_")
        key = aliases.get(key, key)
        if key not in allowed:
            raise errors.SyntaxError(f'option "{name}" not recognized')
        if key in out:
            raise errors.SyntaxError("conflicting or redundant options")
        out[key] = value
    return out


def _bool(opts: dict, name: str) -> bool:
    value = opts[name]
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "on", "yes", "1", "t", "y"):
        return True
    if text in ("false", "off", "no", "0", "f", "n"):
        return False
    raise errors.SyntaxError(f"{name} requires a Boolean value")


def _connection_limit(opts: dict, default: int) -> int:
    if "connection_limit" not in opts:
        return default
    value = opts["connection_limit"]
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise errors.SyntaxError("connection_limit requires an integer value") from None
    if isinstance(value, bool) or not -2 ** 31 <= limit < 2 ** 31:
        raise errors.SyntaxError("connection_limit requires an integer value")
    if limit < -1:
        raise errors.InvalidParameterValue(f"invalid connection limit: {limit}")
    return limit


def _names(value) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value or ())


def _check_role_name(name: str) -> None:
    if name in ("public", "none"):
        raise errors.ReservedName(f'role name "{name}" is reserved')
    if name.startswith("pg_"):
        raise errors.ReservedName(f'role name "{name}" is reserved',
                                  detail='Role names starting with "pg_" are reserved.')


def _password(value, user: str, notices: list) -> tuple[str | None, str | None]:
    """What to store for PASSWORD: never the cleartext (see auth.password_secrets)."""
    if value is None:
        return None, None
    if not isinstance(value, str):
        raise errors.InvalidParameterValue("a password must be a string")
    if value == "":
        notices.append("empty string is not a valid password, clearing password")
        return None, None
    return auth.password_secrets(value, user)


def _parse_valid_until(value, session):
    """VALID UNTIL text in the session's time zone -> stored form: "infinity",
    "-infinity" or microseconds since the Unix epoch (UTC)."""
    from ..planner.datetimes import parse_timestamp, resolve_zone
    from ..planner.types import InfiniteDatetime
    tz = resolve_zone(session.settings.get("timezone", "UTC"))
    v = parse_timestamp(str(value), tz=tz, with_tz=True)
    if isinstance(v, InfiniteDatetime):
        return "infinity" if v.sign > 0 else "-infinity"
    return (v - _EPOCH) // dt.timedelta(microseconds=1)


def _valid_until_value(stored):
    from ..planner.types import NEG_INFINITY, POS_INFINITY
    if stored is None:
        return None
    if stored == "infinity":
        return POS_INFINITY
    if stored == "-infinity":
        return NEG_INFINITY
    return _EPOCH + dt.timedelta(microseconds=stored)


def _expired(r: dict) -> bool:
    vu = r["valid_until"]
    if vu is None or vu == "infinity":
        return False
    if vu == "-infinity":
        return True
    return _EPOCH + dt.timedelta(microseconds=vu) < dt.datetime.now(dt.timezone.utc)


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
