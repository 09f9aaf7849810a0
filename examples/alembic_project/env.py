"""Alembic environment for the immusql example project.

The database is named by `sqlalchemy.url` when the caller sets it (alembic's Config API),
otherwise by the IMMUSQL_URL environment variable, e.g.

    IMMUSQL_URL=postgresql+psycopg://immusql:secret@127.0.0.1:5432/shop alembic upgrade head

immusql speaks PostgreSQL's wire protocol, so the stock `postgresql+psycopg` dialect is
used unchanged, with transactional DDL: each upgrade runs in one transaction.
"""

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config

# An embedding program (such as the test suite) keeps its own logging set-up.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# What `alembic check` and `alembic revision --autogenerate` compare the database with
# (models.py is found through prepend_sys_path in alembic.ini).
from models import metadata as target_metadata  # noqa: E402


def database_url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("IMMUSQL_URL")
    if not url:
        raise SystemExit("set IMMUSQL_URL (or sqlalchemy.url) to the immusql database, e.g. "
                         "postgresql+psycopg://immusql:<password>@127.0.0.1:5432/<db>")
    return url


def run_migrations_offline() -> None:
    """`alembic upgrade head --sql`: print the SQL instead of running it."""
    context.configure(url=database_url(), target_metadata=target_metadata,
                      literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config({"sqlalchemy.url": database_url()},
                                     prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
