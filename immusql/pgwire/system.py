"""The system store's contents: key layout and record shapes of roles and databases.

The wire server keeps its roles and database list in a store of its own (`system/`, see
cluster.py) as msgpack-encoded dicts, one per key. This module says what those keys and
records look like, so that cluster.py, roles.py and databases.py agree on them.
"""

from __future__ import annotations

import datetime as dt

import msgpack

PUBLIC = 0  # ACL grantee of PUBLIC (PostgreSQL's ACL_ID_PUBLIC)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

# fixed-width big-endian oids keep scans in oid order
K_LAYOUT, K_NEXT_OID, K_MOCK = b"meta/layout", b"meta/next_oid", b"meta/mock_auth_nonce"
ROLE_PREFIX, DB_PREFIX, DROPPED_PREFIX = b"role/", b"db/", b"dropped/"


def pack(value) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


def unpack(raw: bytes):
    return msgpack.unpackb(raw, raw=False, strict_map_key=False)


def _key(prefix: bytes, oid: int) -> bytes:
    return prefix + oid.to_bytes(4, "big")


def role_key(oid: int) -> bytes:
    return _key(ROLE_PREFIX, oid)


def db_key(oid: int) -> bytes:
    return _key(DB_PREFIX, oid)


def dropped_key(oid: int) -> bytes:
    """A drop not yet cleaned up: its directory base/<oid>/ is still to be removed."""
    return _key(DROPPED_PREFIX, oid)


def new_role(oid: int, name: str, **attrs) -> dict:
    rec = {"oid": oid, "name": name, "superuser": False, "inherit": True,
           "createrole": False, "createdb": False, "login": False, "replication": False,
           "bypassrls": False, "connection_limit": -1, "valid_until": None,
           "member_of": [], "scram": None, "md5": None}
    rec.update(attrs)
    return rec


def new_db(oid: int, name: str, owner: int, **attrs) -> dict:
    rec = {"oid": oid, "name": name, "owner": owner, "allow_connections": True,
           "connection_limit": -1, "acl": None}
    rec.update(attrs)
    return rec



def database_acl(d: dict) -> list:
    """The database's ACL; NULL means PostgreSQL's default: owner all, PUBLIC CONNECT and
    TEMPORARY."""
    if d["acl"] is not None:
        return d["acl"]
    return [[d["owner"], "CTc"], [PUBLIC, "Tc"]]



def parse_valid_until(value, session):
    """VALID UNTIL text in the session's time zone -> stored form: "infinity",
    "-infinity" or microseconds since the Unix epoch (UTC)."""
    from ..planner.datetimes import parse_timestamp, resolve_zone
    from ..planner.types import InfiniteDatetime
    tz = resolve_zone(session.settings.get("timezone", "UTC"))
    v = parse_timestamp(str(value), tz=tz, with_tz=True)
    if isinstance(v, InfiniteDatetime):
        return "infinity" if v.sign > 0 else "-infinity"
    return (v - _EPOCH) // dt.timedelta(microseconds=1)


def valid_until_value(stored):
    from ..planner.types import NEG_INFINITY, POS_INFINITY
    if stored is None:
        return None
    if stored == "infinity":
        return POS_INFINITY
    if stored == "-infinity":
        return NEG_INFINITY
    return _EPOCH + dt.timedelta(microseconds=stored)


def expired(r: dict) -> bool:
    vu = r["valid_until"]
    if vu is None or vu == "infinity":
        return False
    if vu == "-infinity":
        return True
    return _EPOCH + dt.timedelta(microseconds=vu) < dt.datetime.now(dt.timezone.utc)

