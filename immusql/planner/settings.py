"""SET / SHOW / RESET of session settings, with PostgreSQL's names and answers.

Settings that change results (search_path, TimeZone, DateStyle, IntervalStyle,
extra_float_digits, bytea_output) are honoured by the code that reads them; the rest are
remembered and shown back, as PostgreSQL does for settings a client merely reports.
"""

from __future__ import annotations

from .. import errors
from ..parser import ast
from .types import TEXT

READ_ONLY = {"server_version", "server_version_num", "server_encoding", "lc_collate",
             "lc_ctype", "max_identifier_length", "integer_datetimes", "is_superuser"}
ALIASES = {"time zone": "timezone", "names": "client_encoding",
           "transaction isolation level": "transaction_isolation",
           "session authorization": "session_authorization"}
DISPLAY = {"timezone": "TimeZone", "datestyle": "DateStyle", "intervalstyle": "IntervalStyle"}
ENCODINGS = {"utf8", "utf-8", "unicode"}


def _name(raw: str) -> str:
    n = raw.lower()
    return ALIASES.get(n, n)


def _value_text(ctx, values) -> str:
    parts = []
    for v in values:
        if isinstance(v, ast.Literal):
            parts.append(str(v.value) if v.kind != "boolean" else ("on" if v.value else "off"))
        elif isinstance(v, ast.ColumnRef):
            parts.append(".".join(v.parts))
        elif isinstance(v, ast.UnaryOp) and isinstance(v.operand, ast.Literal):
            parts.append(f"{v.op}{v.operand.value}")
        else:
            raise errors.SyntaxError("unsupported value in SET")
    return ", ".join(parts)


def set_var(ctx, s: ast.SetVar):
    from .session import DEFAULT_SETTINGS, Result
    name = _name(s.name)
    if name in READ_ONLY:
        raise errors.CantChangeRuntimeParam(f'parameter "{name}" cannot be changed')
    if name not in ctx.session.settings and not is_known_setting(name):
        raise errors.UndefinedObject(f'unrecognized configuration parameter "{s.name}"')
    if not s.values:
        value = DEFAULT_SETTINGS.get(name, "")
    else:
        value = _value_text(ctx, s.values)
    if name == "client_encoding" and value.lower().replace("'", "") not in ENCODINGS:
        raise errors.FeatureNotSupported(
            f'conversion between {value} and UTF8 is not supported')
    if name == "timezone":
        value = _check_timezone(value)
    ctx.session.settings[name] = value
    return Result("SET")


def is_known_setting(name: str) -> bool:
    """PostgreSQL 15's settings (as pg_settings lists them) and custom `prefix.name` ones
    are accepted by SET; any other name is a typo PostgreSQL refuses (42704)."""
    global _KNOWN
    if _KNOWN is None:
        from .session import DEFAULT_SETTINGS
        from .syscat.pgdata import SETTINGS
        _KNOWN = frozenset(row[0].lower() for row in SETTINGS) | frozenset(DEFAULT_SETTINGS)
    return name in _KNOWN or "." in name.strip(".")


_KNOWN: frozenset | None = None


def _check_timezone(value: str) -> str:
    import zoneinfo
    v = value.strip("'")
    if v.upper() in ("UTC", "GMT", "Z", "LOCAL", "DEFAULT"):
        return "UTC" if v.upper() != "GMT" else "GMT"
    try:
        zoneinfo.ZoneInfo(v)
        return v
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        try:
            float(v)
            return v
        except ValueError:
            raise errors.InvalidParameterValue(
                f'invalid value for parameter "TimeZone": "{v}"') from None


def show_var(ctx, s: ast.ShowVar):
    from .select import OutputColumn
    from .session import Result
    name = _name(s.name)
    settings = ctx.session.settings
    if name == "all":
        rows = [(DISPLAY.get(k, k), v, "") for k, v in sorted(settings.items())]
        cols = [OutputColumn("name", TEXT), OutputColumn("setting", TEXT),
                OutputColumn("description", TEXT)]
        return Result("SHOW", cols, rows, len(rows))
    if name not in settings:
        raise errors.UndefinedObject(f'unrecognized configuration parameter "{s.name}"')
    return Result("SHOW", [OutputColumn(DISPLAY.get(name, name), TEXT)], [(settings[name],)], 1)


def reset_var(ctx, s: ast.ResetVar):
    from .session import DEFAULT_SETTINGS, Result
    name = _name(s.name)
    if name == "all":
        ctx.session.settings.update({k: v for k, v in DEFAULT_SETTINGS.items()
                                     if k not in READ_ONLY})
    elif name in DEFAULT_SETTINGS:
        ctx.session.settings[name] = DEFAULT_SETTINGS[name]
    elif name in ctx.session.settings and "." in name:
        del ctx.session.settings[name]
    elif not is_known_setting(name):
        raise errors.UndefinedObject(f'unrecognized configuration parameter "{s.name}"')
    return Result("RESET")
