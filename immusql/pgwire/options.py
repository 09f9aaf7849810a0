"""Options of the role and database statements: CREATE ROLE ... WITH LOGIN, ALTER
DATABASE ... CONNECTION LIMIT 5 and the like, checked and read as PostgreSQL does."""

from __future__ import annotations

from .. import errors


def parse_options(pairs, aliases: dict, allowed: set) -> dict:
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


def bool_option(opts: dict, name: str) -> bool:
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


def connection_limit(opts: dict, default: int) -> int:
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

