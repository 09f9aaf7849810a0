"""immusql: a tamper-evident SQL database with PostgreSQL's ergonomics.

`immusql.connect(path)` opens an embedded database through PEP 249 (DB-API 2.0);
`immusql.kv` is the verifiable key-value store underneath, usable on its own.
"""

__version__ = "0.1.0"


def connect(path, autocommit: bool = False, **options):
    """A PEP 249 connection to the embedded database at `path` (created if missing)."""
    from .dbapi import connect as _connect
    return _connect(path, autocommit=autocommit, **options)


# PEP 249's module attributes (apilevel, paramstyle, the exception classes, type objects
# and constructors) are dbapi's, loaded on first use so `import immusql.kv` stays light.
_DBAPI_NAMES = frozenset({
    "apilevel", "threadsafety", "paramstyle", "Warning", "Error", "InterfaceError",
    "DatabaseError", "DataError", "OperationalError", "IntegrityError", "InternalError",
    "ProgrammingError", "NotSupportedError", "Date", "Time", "Timestamp", "DateFromTicks",
    "TimeFromTicks", "TimestampFromTicks", "Binary", "STRING", "BINARY", "NUMBER",
    "DATETIME", "ROWID", "Connection", "Cursor"})


def __getattr__(name: str):
    if name in _DBAPI_NAMES:
        from . import dbapi
        return getattr(dbapi, name)
    raise AttributeError(f"module 'immusql' has no attribute {name!r}")


__all__ = ["connect", "__version__", *sorted(_DBAPI_NAMES)]
