"""Statements for the server and its clients: COPY, roles, databases and their grants,
PREPARE / EXECUTE / DEALLOCATE, LOCK (accepted and ignored), and immusql's VERIFY.

Options are checked here, where PostgreSQL's grammar and option processing check them: an
unknown name, a value of the wrong kind or an option given twice is an error at the option,
and the AST gets each value in its one documented type (see the nodes in ast.py)."""

from __future__ import annotations

from typing import NamedTuple

from .. import errors
from .ast import (
    Copy,
    DatabaseGrant,
    DatabaseStmt,
    Deallocate,
    Delete,
    ExecutePrepared,
    Insert,
    Literal,
    Noop,
    Prepare,
    RoleStmt,
    Update,
    VerifyRow,
    VerifyTx,
)
from .common import TokenError, name_of, pos_of


class _Opt(NamedTuple):
    """An option as written: its name, its argument (None when bare; a Literal, a Token
    (`*`, DEFAULT), a tuple of names or a plain value) and the offset of its name."""

    name: str
    arg: object
    pos: int


_STAR = "*"
_BOOL_WORDS = {"true": True, "on": True, "false": False, "off": False}
_COPY_FORMATS = frozenset({"text", "csv", "binary"})
_COPY_STRINGS = frozenset({"delimiter", "null", "quote", "escape", "encoding"})
_COPY_LISTS = frozenset({"force_quote", "force_not_null", "force_null"})
_COPY_OPTIONS = frozenset({"format", "freeze", "header"}) | _COPY_STRINGS | _COPY_LISTS
_ROLE_FLAGS = {word: (word.removeprefix("no"), not word.startswith("no")) for word in (
    "superuser", "nosuperuser", "createdb", "nocreatedb", "createrole", "nocreaterole",
    "login", "nologin", "inherit", "noinherit", "replication", "noreplication", "bypassrls",
    "nobypassrls")}
# createdb's options (PostgreSQL 15); ALTER DATABASE takes the last three.
_DATABASE_OPTIONS = frozenset({
    "owner", "template", "encoding", "strategy", "locale", "lc_collate", "lc_ctype",
    "icu_locale", "locale_provider", "collation_version", "tablespace", "oid",
    "allow_connections", "connection_limit", "is_template"})
_ALTER_DATABASE_OPTIONS = frozenset({"allow_connections", "connection_limit", "is_template"})
_DATABASE_BOOLS = frozenset({"allow_connections", "is_template"})
_DATABASE_INTS = frozenset({"connection_limit", "oid"})
_DATABASE_PRIVILEGES = {"connect": "connect", "create": "create", "temporary": "temporary",
                        "temp": "temporary"}


def _syntax(pos: int, message: str, cls=None) -> TokenError:
    return TokenError(pos, message=message, error_class=cls)


def _invalid_grant_error(message: str, **kw) -> errors.Error:
    """PostgreSQL's invalid_grant_operation (0LP01), where immusql.errors has no class."""
    err = errors.ProgrammingError(message, **kw)
    err.sqlstate = "0LP01"
    return err


_invalid_grant = getattr(errors, "InvalidGrantOperation", None) or _invalid_grant_error


def _unique(opts) -> tuple[tuple[str, object], ...]:
    """(name, value) pairs in the order written; a name given twice is PostgreSQL's
    "conflicting or redundant options", at the second one."""
    opts, seen = tuple(opts), set()
    for opt in opts:
        if opt.name in seen:
            raise _syntax(opt.pos, "conflicting or redundant options")
        seen.add(opt.name)
    return tuple((opt.name, opt.arg) for opt in opts)


def _scalar(arg):
    """A Literal's Python value; tokens (`*`, words) as their text."""
    if arg.__class__ is Literal:
        return arg.value
    return str(arg)


def _string(opt: _Opt) -> str:
    """defGetString(): any scalar as text."""
    if opt.arg is None:
        raise _syntax(opt.pos, f"{opt.name} requires a parameter")
    if opt.arg.__class__ is tuple:
        raise _syntax(opt.pos, f"{opt.name} requires a string value")
    value = _scalar(opt.arg)
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def _boolean(opt: _Opt, extra: str = "") -> bool:
    """defGetBoolean(): bare means true; 1/0, true/false, on/off (any case)."""
    if opt.arg is None:
        return True
    value = _scalar(opt.arg) if opt.arg.__class__ is not tuple else None
    if value is True or value is False:
        return value
    if value.__class__ is int and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in _BOOL_WORDS:
        return _BOOL_WORDS[value.lower()]
    raise _syntax(opt.pos, f"{opt.name} requires a Boolean value{extra}")


def _integer(opt: _Opt) -> int:
    value = _scalar(opt.arg) if opt.arg is not None and opt.arg.__class__ is not tuple else None
    if value.__class__ is not int:
        raise _syntax(opt.pos, f"{opt.name} requires an integer value")
    return value


def _copy_option(opt: _Opt, is_from: bool) -> _Opt:
    """One COPY option with its value normalised (PostgreSQL's ProcessCopyOptions)."""
    name = opt.name
    if name not in _COPY_OPTIONS:
        raise _syntax(opt.pos, f'option "{name}" not recognized')
    if name == "format":
        value = _string(opt)
        if value not in _COPY_FORMATS:
            raise _syntax(opt.pos, f'COPY format "{value}" not recognized',
                          errors.InvalidParameterValue)
    elif name == "freeze":
        value = _boolean(opt)
    elif name == "header":
        word = _scalar(opt.arg) if opt.arg is not None and opt.arg.__class__ is not tuple \
            else None
        if isinstance(word, str) and word.lower() == "match":
            if not is_from:
                raise _syntax(opt.pos, f'cannot use "{word}" with HEADER in COPY TO',
                              errors.InvalidParameterValue)
            value = "match"
        else:
            value = _boolean(opt, ' or "match"')
    elif name in _COPY_STRINGS:
        value = _string(opt)
    elif opt.arg.__class__ is tuple:
        value = opt.arg
    elif name == "force_quote" and getattr(opt.arg, "type", None) == "STAR":
        value = _STAR
    else:
        raise _syntax(opt.pos, f'argument to option "{name}" must be a list of column names')
    return _Opt(name, value, opt.pos)


def _names(items) -> tuple[str, ...]:
    """A parenthesised list of option values, as names (FORCE_QUOTE (a, "B"))."""
    return tuple(str(_scalar(item)) for item in items)


def _database_options(opts, allowed: frozenset[str]) -> tuple[tuple[str, object], ...]:
    """CREATE/ALTER DATABASE options; `name DEFAULT` is checked, then left out, since it
    means what leaving the option out means (PostgreSQL's createdb ignores it too)."""
    return tuple((name, value) for name, value in _unique(
        _database_option(o, allowed) for o in opts) if value is not None)


def _database_option(opt: _Opt, allowed: frozenset[str]) -> _Opt:
    """One CREATE/ALTER DATABASE option, its value as a str, int, bool or None (DEFAULT)."""
    if opt.name not in allowed:
        raise _syntax(opt.pos, f'option "{opt.name}" not recognized')
    arg = opt.arg
    if getattr(arg, "type", None) == "DEFAULT":
        return _Opt(opt.name, None, opt.pos)
    if opt.name in _DATABASE_BOOLS:
        return _Opt(opt.name, _boolean(opt), opt.pos)
    if opt.name in _DATABASE_INTS:
        return _Opt(opt.name, _integer(opt), opt.pos)
    value = _scalar(arg)
    return _Opt(opt.name, value if value.__class__ is int else _string(opt), opt.pos)


def _not_supported(pos: int, what: str, hint: str | None = None) -> TokenError:
    return TokenError(pos, message=f"{what} is not supported", hint=hint,
                      error_class=errors.FeatureNotSupported)


class ServerRules:
    """Transformer callbacks for COPY, roles, databases, grants, prepared statements, LOCK
    and VERIFY."""

    # --- COPY
    def copy_table(self, c):
        tok, binary, rel, columns, direction, (filename, program), opts, where = c
        is_from = direction.type == "FROM"
        if binary is not None:  # COPY BINARY t: the pre-7.3 spelling of FORMAT binary
            opts = (_Opt("format", Literal("binary", "string", pos=binary.start_pos),
                         binary.start_pos), *opts)
        if where is not None and not is_from:
            raise _syntax(pos_of(where), "WHERE clause not allowed with COPY TO",
                          errors.FeatureNotSupported)
        return Copy("from" if is_from else "to", rel.name, tuple(columns or ()),
                    filename=filename, program=program,
                    options=_unique(_copy_option(o, is_from) for o in opts), where=where,
                    pos=tok.start_pos)

    def copy_query(self, c):
        tok, query, _to, (filename, program), opts = c
        if query.__class__ in (Insert, Update, Delete) and not query.returning:
            raise _syntax(query.pos, "COPY query must have a RETURNING clause",
                          errors.FeatureNotSupported)
        return Copy("to", query=query, filename=filename, program=program,
                    options=_unique(_copy_option(o, False) for o in opts), pos=tok.start_pos)

    def copy_target(self, c):
        """(filename, program): both None for STDIN/STDOUT, the client's end."""
        program, target = c
        if target.type != "SCONST":
            if program is not None:
                raise _syntax(target.start_pos, "STDIN/STDOUT not allowed with PROGRAM")
            return None, None
        return (None, str(target)) if program is not None else (str(target), None)

    def copy_options(self, c):
        return c

    def copy_opt_flag(self, c):
        tok = c[0]
        if tok.type in ("BINARY", "CSV"):
            return _Opt("format", Literal(tok.value, "string", pos=tok.start_pos),
                        tok.start_pos)
        return _Opt(tok.value, None, tok.start_pos)

    def copy_opt_string(self, c):
        tok, value = c
        return _Opt(tok.value, Literal(str(value), "string", pos=value.start_pos),
                    tok.start_pos)

    def copy_opt_force(self, c):
        tok, what, arg = c[0], c[1], c[-1]
        if what.type == "QUOTE":
            name = "force_quote"
        else:
            name = "force_not_null" if what.type == "NOT" else "force_null"
        return _Opt(name, arg, tok.start_pos)

    def copy_generic_option(self, c):
        tok, arg = c
        return _Opt(name_of(tok), arg, tok.start_pos)

    def copy_arg_list(self, c):
        return _names(c)

    # --- roles
    def create_role(self, c):
        tok, kind, name, opts = c[0], c[1], c[2], c[3:]
        options = _unique(opts)
        if kind.type == "USER" and not any(n == "login" for n, _ in options):
            options += (("login", True),)  # CREATE USER is CREATE ROLE ... LOGIN
        return RoleStmt("create", (name_of(name),), kind.value, options, pos=tok.start_pos)

    def alter_role(self, c):
        tok, kind, role, with_, opts = c[0], c[1], c[2], c[3], c[4:]
        if kind.type == "GROUP":  # ALTER GROUP only renames here (and ADD/DROP USER in PG)
            after = with_ or (opts[0] if opts else None)
            raise TokenError(pos_of(after) if after is not None else -1)
        return RoleStmt("alter", (name_of(role),), kind.value, _unique(opts),
                        pos=tok.start_pos)

    def rename_role(self, c):
        tok, kind, role, _rename, new = c
        return RoleStmt("alter", (name_of(role),), kind.value, new_name=name_of(new),
                        pos=tok.start_pos)

    def alter_role_set(self, c):
        raise _not_supported(c[4].start_pos, f"ALTER {c[1].value.upper()} ... {c[4].type}",
                             "Set the parameter in the session, with SET.")

    def drop_role(self, c):
        tok, kind, if_exists, names = c
        return RoleStmt("drop", names, kind.value, if_exists=bool(if_exists),
                        pos=tok.start_pos)

    def role_flag(self, c):
        tok = c[0]
        flag = _ROLE_FLAGS.get(tok.value)
        if flag is None:
            raise _syntax(tok.start_pos, f'unrecognized role option "{tok.value}"')
        return _Opt(flag[0], flag[1], tok.start_pos)

    def role_password(self, c):
        tok, value = c
        return _Opt("password", None if value.type == "NULL" else str(value), tok.start_pos)

    def role_connection_limit(self, c):
        return _Opt("connection_limit", c[1], c[0].start_pos)

    def role_valid_until(self, c):
        return _Opt("valid_until", str(c[1]), c[0].start_pos)

    def role_member_option(self, c):
        tok, names = c[0], c[-1]
        name = "in_role" if tok.type == "IN" else "admin" if tok.type == "ADMIN" else "role"
        return _Opt(name, names, tok.start_pos)

    def role_list(self, c):
        return tuple(name_of(t) for t in c)

    # --- databases
    def create_database(self, c):
        tok, name, opts = c[0], c[2], c[3:]
        return DatabaseStmt("create", name_of(name), _database_options(opts, _DATABASE_OPTIONS),
                            pos=tok.start_pos)

    def drop_database(self, c):
        tok, _database, if_exists, name, force = c
        return DatabaseStmt("drop", name_of(name), if_exists=bool(if_exists),
                            force=bool(force), pos=tok.start_pos)

    def drop_database_options(self, c):
        return True

    def alter_database(self, c):
        tok, name, opts = c[0], c[2], c[3:]
        return DatabaseStmt("alter", name_of(name),
                            _database_options(opts, _ALTER_DATABASE_OPTIONS), pos=tok.start_pos)

    def rename_database(self, c):
        tok, _database, name, _rename, new = c
        return DatabaseStmt("alter", name_of(name), new_name=name_of(new), pos=tok.start_pos)

    def alter_database_owner(self, c):
        tok, _database, name, _owner, role = c
        return DatabaseStmt("alter", name_of(name), (("owner", name_of(role)),),
                            pos=tok.start_pos)

    def alter_database_set(self, c):
        raise _not_supported(c[3].start_pos, f"ALTER DATABASE ... {c[3].type}",
                             "Set the parameter in the session, with SET.")

    def database_option(self, c):
        tok, value = c
        name = "connection_limit" if tok.type == "CONNECTION" else tok.value
        return _Opt(name, value, tok.start_pos)

    # --- GRANT / REVOKE ... ON DATABASE
    def database_grant(self, c):
        tok, privileges, databases, grantees, grant_option = c
        if grant_option is not None:
            raise _not_supported(grant_option.start_pos, "WITH GRANT OPTION on databases")
        return DatabaseGrant("grant", _database_privileges(privileges), databases, grantees,
                             pos=tok.start_pos)

    def database_revoke(self, c):
        tok, revoke_option, privileges, databases, grantees, _cascade = c
        if revoke_option is not None:
            raise _not_supported(revoke_option.start_pos,
                                 f"REVOKE {revoke_option.type} OPTION FOR on databases")
        return DatabaseGrant("revoke", _database_privileges(privileges), databases, grantees,
                             pos=tok.start_pos)

    def privileges(self, c):
        return tuple(c)

    def all_privileges(self, c):
        return ((c[0], c[1]),)

    def privilege(self, c):
        return c[0], c[1]

    def grantee_list(self, c):
        return tuple(name_of(t) for t in c)

    # --- prepared statements
    def prepare_stmt(self, c):
        tok, name, types, stmt = c[0], c[1], c[2:-1], c[-1]
        return Prepare(name_of(name), stmt, tuple(types), pos=tok.start_pos)

    def execute_stmt(self, c):
        tok, name, params = c
        return ExecutePrepared(name_of(name), tuple(params or ()), pos=tok.start_pos)

    def deallocate(self, c):
        return Deallocate(name_of(c[1]), pos=c[0].start_pos)

    def deallocate_all(self, c):
        return Deallocate(None, pos=c[0].start_pos)

    # --- LOCK: one writer at a time already, so table locks have nothing to add
    def noop_lock(self, c):
        return Noop("LOCK TABLE", pos=c[0].start_pos)

    # --- VERIFY
    def verify_row(self, c):
        tok, history, rel, where, clauses = c[0], c[2], c[3], c[4], c[5:]
        found: dict[str, object] = {}
        for kind, clause_tok, value in clauses:
            if kind in found:
                raise TokenError(clause_tok.start_pos)
            found[kind] = value
        return VerifyRow(rel.name, where, found.get("since"), found.get("as_of"),
                         history is not None, pos=tok.start_pos)

    def verify_since(self, c):
        return "since", c[0], c[1]

    def verify_as_of(self, c):
        return "as_of", c[0], c[1]

    def verify_tx(self, c):
        tok, tx, _since, since = c
        return VerifyTx(tx, since, pos=tok.start_pos)


def _database_privileges(privileges) -> tuple[str, ...]:
    """CONNECT, CREATE, TEMP[ORARY] or ALL, lower case; others are PostgreSQL's error."""
    out = []
    for tok, columns in privileges:
        word = "all" if tok.type == "ALL" else _DATABASE_PRIVILEGES.get(tok.value)
        if columns is not None:
            raise TokenError(tok.start_pos, message="column privileges are only valid for "
                             "relations", error_class=_invalid_grant)
        if word is None:
            raise TokenError(tok.start_pos, message=f"invalid privilege type "
                             f"{tok.value.upper()} for database", error_class=_invalid_grant)
        out.append(word)
    return tuple(out)
