"""Role statements of the wire server: CREATE, ALTER and DROP ROLE (and USER), and
COMMENT ON ROLE.

A mixin of `ServerCluster` (cluster.py): the handlers run under its lock, check
privileges with its helpers and write the role records (system.py) to its system store
at once, outside the session's transaction. Permission checks and messages follow
PostgreSQL's user.c.
"""

from __future__ import annotations

from .. import errors
from ..planner.cluster import BOOTSTRAP_SUPERUSER_OID
from ..planner.session import Result
from . import auth
from .options import bool_option, connection_limit, parse_options
from .system import K_NEXT_OID, new_role, parse_valid_until, role_key

_ROLE_BOOLS = ("superuser", "createdb", "createrole", "login", "inherit", "replication",
               "bypassrls")
_ROLE_ALIASES = {"connlimit": "connection_limit", "ingroup": "in_role",
                 "in_group": "in_role", "user": "role", "rolemembers": "role",
                 "adminmembers": "admin", "validuntil": "valid_until",
                 "encrypted_password": "password", "createuser": "createrole"}
_CREATE_ROLE_OPTIONS = {*_ROLE_BOOLS, "password", "connection_limit", "valid_until",
                        "in_role", "role", "admin", "sysid"}
_ALTER_ROLE_OPTIONS = {*_ROLE_BOOLS, "password", "connection_limit", "valid_until"}
SPECIAL_ROLES = {"current_user", "current_role", "session_user"}


class RoleStatements:
    """CREATE / ALTER / DROP ROLE and COMMENT ON ROLE, mixed into ServerCluster."""

    def _comment_role(self, stmt, session) -> Result:
        """COMMENT ON ROLE (lock held): a superuser's needs a superuser, others CREATEROLE."""
        me = self._me(session)
        r = self._need_role(stmt.name.last)
        if r["superuser"]:
            if not me["superuser"]:
                raise errors.InsufficientPrivilege("must be superuser")
        elif not (me["superuser"] or me["createrole"]):
            raise errors.InsufficientPrivilege("must have CREATEROLE privilege")
        return self._write_comment(role_key(r["oid"]), r, stmt.text or None)

    def _create_role(self, stmt, session) -> Result:
        opts = parse_options(stmt.options, _ROLE_ALIASES, _CREATE_ROLE_OPTIONS)
        name = stmt.names[0]
        notices = []
        with self._lock:
            me = self._me(session)
            attrs = {b: bool_option(opts, b) for b in _ROLE_BOOLS if b in opts}
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
            rec = new_role(oid, name, **attrs)
            rec["connection_limit"] = connection_limit(opts, -1)
            if "password" in opts:
                rec["scram"], rec["md5"] = _password(opts["password"], name, notices)
            if "valid_until" in opts:
                rec["valid_until"] = parse_valid_until(opts["valid_until"], session)
            roles = {oid: rec}  # every role this statement changes, by oid
            for parent_name in _names(opts.get("in_role", ())):  # IN ROLE: rec joins them
                self._add_member(roles, self._need_role(parent_name), rec, me)
            for member_name in (*_names(opts.get("role", ())), *_names(opts.get("admin", ()))):
                self._add_member(roles, rec, self._need_role(member_name), me)
            sets = {role_key(o): r for o, r in roles.items()}
            sets[K_NEXT_OID] = oid + 1
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
        if name in SPECIAL_ROLES:
            name = session.user
        notices = []
        with self._lock:
            r = self._need_role(name)
            me = self._me(session)
            if stmt.new_name is not None:
                return self._rename_role(r, stmt.new_name, me, session)
            opts = parse_options(stmt.options, _ROLE_ALIASES, _ALTER_ROLE_OPTIONS)
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
                    new[b] = bool_option(opts, b)
            if r["oid"] == BOOTSTRAP_SUPERUSER_OID and not new["superuser"]:
                raise errors.InsufficientPrivilege(
                    "permission denied: bootstrap user must be superuser")
            new["connection_limit"] = connection_limit(opts, r["connection_limit"])
            if "password" in opts:
                new["scram"], new["md5"] = _password(opts["password"], r["name"], notices)
            if "valid_until" in opts:
                new["valid_until"] = parse_valid_until(opts["valid_until"], session)
            self._write({role_key(r["oid"]): new})
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
        self._write({role_key(r["oid"]): new})
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
                        sets[role_key(r["oid"])] = dict(
                            r, member_of=[o for o in r["member_of"] if o not in targets])
                self._write(sets, [role_key(o) for o in targets])
        return Result("DROP ROLE", notices=notices)


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

