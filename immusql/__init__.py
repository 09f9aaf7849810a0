"""immusql: a tamper-evident SQL database with PostgreSQL's ergonomics.

This release ships the verifiable key-value store (`immusql.kv`); the SQL engine and the
PostgreSQL wire server build on it.
"""

__version__ = "0.1.0"
