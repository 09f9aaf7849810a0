"""immusql: a tamper-evident SQL database with PostgreSQL's ergonomics.

`immusql.connect(path)` opens an embedded database through PEP 249 (DB-API 2.0);
`immusql.kv` is the verifiable key-value store underneath, usable on its own.
"""

__version__ = "0.1.0"


def connect(path, autocommit: bool = False, **options):
    """A PEP 249 connection to the embedded database at `path` (created if missing)."""
    from .dbapi import connect as _connect
    return _connect(path, autocommit=autocommit, **options)


__all__ = ["connect", "__version__"]
