"""What a session knows of the world beyond its own database: the roles and the databases.

PostgreSQL keeps roles and databases cluster-wide, outside any one database. The engine
only sees them through this interface: `pg_roles`, `pg_database`, `current_user` and the
role and database statements ask it. Embedded use (`immusql.connect`) has one database and
one superuser; the wire server supplies a cluster backed by its data directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import errors

BOOTSTRAP_SUPERUSER_OID = 10  # PostgreSQL's BOOTSTRAP_SUPERUSERID
DEFAULT_DATABASE = "immusql"
DEFAULT_USER = "immusql"


@dataclass(frozen=True)
class RoleInfo:
    """One role, with pg_authid's columns (minus the password)."""

    oid: int
    name: str
    superuser: bool = False
    inherit: bool = True
    createrole: bool = False
    createdb: bool = False
    login: bool = False
    replication: bool = False
    bypassrls: bool = False
    connection_limit: int = -1
    valid_until: object = None  # datetime.datetime (aware) or None
    member_of: tuple[str, ...] = field(default=())
    comment: str | None = None  # COMMENT ON ROLE (pg_shdescription)


@dataclass(frozen=True)
class DatabaseInfo:
    oid: int
    name: str
    owner: int  # role oid
    allow_connections: bool = True
    connection_limit: int = -1
    comment: str | None = None  # COMMENT ON DATABASE (pg_shdescription)


class Cluster:
    """The embedded cluster: one database, one superuser, no role or database DDL."""

    def __init__(self, database: str = DEFAULT_DATABASE, user: str = DEFAULT_USER):
        self.database = database
        self.user = user

    def roles(self) -> list[RoleInfo]:
        return [RoleInfo(BOOTSTRAP_SUPERUSER_OID, self.user, superuser=True, createrole=True,
                         createdb=True, login=True, replication=True, bypassrls=True)]

    def databases(self) -> list[DatabaseInfo]:
        return [DatabaseInfo(1, self.database, BOOTSTRAP_SUPERUSER_OID)]

    def database_size(self, oid: int) -> int | None:
        """Bytes a database takes on disk (pg_database_size); None if unknown here."""
        return None

    def role(self, name: str) -> RoleInfo | None:
        for r in self.roles():
            if r.name == name:
                return r
        return None

    def execute(self, stmt, session):
        """Run a RoleStmt or DatabaseStmt for `session`; returns a session Result."""
        from ..parser import ast
        if isinstance(stmt, ast.Comment):
            return self.comment(stmt, session)
        raise errors.FeatureNotSupported(
            "roles and databases are managed by the server: run this through immusql serve")


    def comment(self, stmt, session):
        """COMMENT ON DATABASE | ROLE. The embedded cluster has nowhere to keep them (its
        one database and user are not stored): checked and accepted, not stored."""
        from .session import Result
        if stmt.kind == "database":
            if stmt.name.last not in {d.name for d in self.databases()}:
                return unknown_database_comment(stmt.name.last)
        elif self.role(stmt.name.last) is None:
            raise errors.UndefinedObject(f'role "{stmt.name.last}" does not exist')
        return Result("COMMENT")


def unknown_database_comment(name: str):
    """COMMENT ON DATABASE of a database that does not exist: PostgreSQL warns (3D000)
    and does nothing, so that a dump restores into a database of another name."""
    from .session import Result
    return Result("COMMENT", notices=[("WARNING", "3D000",
                                       f'database "{name}" does not exist')])


def directory_size(path) -> int:
    """Total size of the regular files under `path` (files vanishing meanwhile count 0)."""
    import os
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total
