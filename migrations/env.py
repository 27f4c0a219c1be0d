"""Alembic environment: the same database setting as the product, the
models' metadata, batch operations for SQLite, and server defaults compared."""

from __future__ import annotations

import json
import logging
from logging.config import fileConfig

from alembic import context
from sqlalchemy import JSON, Connection, Engine

import university_models.models  # noqa: F401  registers every table
from university_models.db import Base, make_engine
from university_models.migrate import migration_connection, sqlite_foreign_keys_on

config = context.config
if config.config_file_name is not None and not config.attributes.get(
    "skip_logging_config"
):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

log = logging.getLogger("alembic.env")
target_metadata = Base.metadata


def _json_literal(default: str | None):
    """The JSON value of a rendered default such as ``'[]'::json``."""
    if default is None:
        return None
    text = default.strip()
    if "::" in text:
        text = text.split("::", 1)[0]
    text = text.strip("()")
    if text.startswith("'") and text.endswith("'"):
        text = text[1:-1].replace("''", "'")
    try:
        return json.loads(text)
    except ValueError:
        return text


def compare_server_default(
    context,
    inspected_column,
    metadata_column,
    inspected_default,
    metadata_default,
    rendered_metadata_default,
):
    """Compare JSON defaults by value: PostgreSQL has no ``json = json``
    operator, so Alembic's own comparison cannot run for them."""
    column_type = getattr(metadata_column.type, "impl", metadata_column.type)
    if isinstance(column_type, JSON):
        return _json_literal(inspected_default) != _json_literal(
            rendered_metadata_default
        )
    return None


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        compare_server_default=compare_server_default,
    )


def run_migrations_offline() -> None:
    from university_models.config import database_url

    context.configure(
        url=config.attributes.get("url") or database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on a connection from ``migration_connection``: on
    SQLite with foreign keys off and a foreign-key check before the commit
    (a table-recreating batch migration would otherwise fire ON DELETE
    CASCADE and empty the table's children)."""
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        # The caller owns the transaction; it must have come from
        # migration_connection (migrate.upgrade does).
        if given.dialect.name == "sqlite" and sqlite_foreign_keys_on(given):
            raise RuntimeError(
                "SQLite migrations need foreign keys off: pass a connection "
                "from university_models.migrate.migration_connection, or an Engine"
            )
        _run(given)
        return

    # pytest-alembic hands over an Engine; otherwise use the configured URL.
    engine = (
        given
        if isinstance(given, Engine)
        else make_engine(config.attributes.get("url"))
    )
    try:
        with migration_connection(engine) as connection:
            _run(connection)
    finally:
        if given is None:
            engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
