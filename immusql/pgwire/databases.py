"""Database statements of the wire server: CREATE, ALTER and DROP DATABASE, GRANT and
REVOKE ... ON DATABASE, and COMMENT ON DATABASE.

A mixin of `ServerCluster` (cluster.py): the handlers run under its lock, check
privileges with its helpers and write the database records (system.py) to its system
store at once, outside the session's transaction. DROP DATABASE is crash-safe: the
record moves to `dropped/` in one transaction (the commit point), and the directory is
removed afterwards, again at the next start if the server died first.
"""

from __future__ import annotations

import logging
import os
import shutil

from .. import errors
from ..planner.cluster import unknown_database_comment
from ..planner.session import Result
from .options import bool_option, connection_limit, parse_options
from .roles import SPECIAL_ROLES
from .system import K_NEXT_OID, PUBLIC, database_acl, db_key, dropped_key, new_db

log = logging.getLogger("immusql.server")

# aclitem letters of database privileges: CREATE, TEMPORARY, CONNECT
_PRIVILEGES = {"create": "C", "temporary": "T", "temp": "T", "connect": "c",
               "all": "CTc", "all privileges": "CTc"}
_DB_ALIASES = {"connlimit": "connection_limit", "owner_to": "owner",
               "allowconnections": "allow_connections", "istemplate": "is_template"}
_CREATE_DB_OPTIONS = {"owner", "template", "encoding", "locale", "lc_collate", "lc_ctype",
                      "icu_locale", "locale_provider", "collation_version", "tablespace",
                      "allow_connections", "connection_limit", "is_template", "strategy",
                      "oid"}
_ALTER_DB_OPTIONS = {"allow_connections", "connection_limit", "is_template", "owner"}


class DatabaseStatements:
    """CREATE / ALTER / DROP DATABASE, GRANT / REVOKE ON DATABASE and COMMENT ON
    DATABASE, mixed into ServerCluster."""

    def _comment_database(self, stmt, session) -> Result:
        """COMMENT ON DATABASE (lock held): the owner's to set."""
        name = stmt.name.last
        me = self._me(session)
        d = self._db_rec(name)
        if d is None:
            return unknown_database_comment(name)
        self._check_owner(me, d)
        return self._write_comment(db_key(d["oid"]), d, stmt.text or None)

    def _create_database(self, stmt, session) -> Result:
        if session.in_block:
            raise errors.ActiveSqlTransaction(
                "CREATE DATABASE cannot run inside a transaction block")
        opts = parse_options(stmt.options, _DB_ALIASES, _CREATE_DB_OPTIONS)
        with self._lock:
            me = self._me(session)
            allow = bool_option(opts, "allow_connections") if "allow_connections" in opts else True
            limit = connection_limit(opts, -1)
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
            rec = new_db(oid, stmt.name, owner["oid"], allow_connections=allow,
                          connection_limit=limit)
            # listed first, directory second: a crash in between leaves an empty database
            self._write({db_key(oid): rec, K_NEXT_OID: oid + 1})
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
        if "is_template" in opts and bool_option(opts, "is_template"):
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
        self._write({dropped_key(d["oid"]): {"oid": d["oid"], "name": d["name"],
                                                "owner": d["owner"]}},
                    [db_key(d["oid"])])

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
        opts = parse_options(stmt.options, _DB_ALIASES, _ALTER_DB_OPTIONS)
        with self._lock:
            if "connection_limit" in opts:
                connection_limit(opts, -1)
            d = self._need_db(stmt.name)
            me = self._me(session)
            if stmt.new_name is not None:
                return self._rename_database(d, stmt.new_name, me, session)
            if "owner" in opts:
                return self._alter_database_owner(d, str(opts["owner"]), me, session)
            self._check_owner(me, d)
            new = dict(d)
            if "allow_connections" in opts:
                new["allow_connections"] = bool_option(opts, "allow_connections")
                if not new["allow_connections"] and d["name"] == session.database:
                    raise errors.FeatureNotSupported(
                        "cannot disallow connections for current database")
            if "is_template" in opts and bool_option(opts, "is_template"):
                raise errors.FeatureNotSupported("template databases are not supported")
            new["connection_limit"] = connection_limit(opts, d["connection_limit"])
            self._write({db_key(d["oid"]): new})
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
        self._write({db_key(d["oid"]): dict(d, name=new_name)})
        return Result("ALTER DATABASE")

    def _alter_database_owner(self, d: dict, owner_name: str, me: dict, session) -> Result:
        owner = self._need_role(session.user if owner_name in SPECIAL_ROLES else owner_name)
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
            self._write({db_key(d["oid"]): dict(d, owner=owner["oid"], acl=acl)})
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
                acl = {g: set(v) for g, v in database_acl(d)}
                for g in grantees:
                    if grant:
                        acl.setdefault(g, set()).update(letters)
                    elif g in acl:
                        acl[g] -= letters
                new_acl = [[g, "".join(sorted(v))] for g, v in acl.items() if v]
                sets[db_key(d["oid"])] = dict(d, acl=new_acl)
            if sets:
                self._write(sets)
        return Result(tag, notices=notices)



def _busy(name: str, n: int) -> errors.ObjectInUse:
    detail = (f"There is {n} other session using the database." if n == 1 else
              f"There are {n} other sessions using the database.")
    return errors.ObjectInUse(f'database "{name}" is being accessed by other users',
                              detail=detail)

