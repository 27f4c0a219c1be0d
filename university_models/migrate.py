"""Bringing a database to the newest schema revision with Alembic.

Rule (SQLite): migrations run with foreign keys off and commit only when
``PRAGMA foreign_key_check`` finds every reference intact. SQLite cannot
alter most of a table in place, so a batch migration recreates the table
(copy, ``DROP TABLE``, rename); with foreign keys on, that ``DROP TABLE``
fires every ``ON DELETE CASCADE`` below the table and empties its children.
This is SQLite's own procedure for schema changes
(https://www.sqlite.org/lang_altertable.html#otheralter).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from university_models.config import PROJECT_ROOT
from university_models.db import read_connection

log = logging.getLogger(__name__)

#: How many broken references a failed ``foreign_key_check`` names.
SHOWN_VIOLATIONS = 10


class MigrationIntegrityError(RuntimeError):
    """A migration left rows whose foreign key points at no row."""


def sqlite_foreign_keys_on(connection: Connection) -> bool:
    """Whether SQLite enforces foreign keys on ``connection``."""
    return bool(connection.exec_driver_sql("PRAGMA foreign_keys").scalar())


def _set_sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    # Straight on the driver's connection: SQLAlchemy would first begin a
    # transaction, and inside one SQLite ignores this pragma.
    connection.connection.driver_connection.execute(
        f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}"
    )


def _refuse_broken_references(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        shown = "; ".join(
            f"{table} row {rowid} -> {parent}"
            for table, rowid, parent, _ in broken[:SHOWN_VIOLATIONS]
        )
        raise MigrationIntegrityError(
            f"the migration left {len(broken)} row(s) whose foreign key points "
            f"at no row ({shown}); nothing was committed. Change the migration "
            "so that it keeps every reference (or deletes the rows it orphans)."
        )


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction for running migrations, committed at
    the end of the block.

    On SQLite it enforces the module's rule: foreign keys are off for the
    whole transaction (set before it begins: SQLite ignores the pragma inside
    one), ``PRAGMA foreign_key_check`` runs before the commit and raises
    ``MigrationIntegrityError`` (rolling everything back) when it finds a
    broken reference, and foreign keys are on again before the connection
    returns to the pool.
    """
    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            with connection.begin():
                yield connection
            return

        _set_sqlite_foreign_keys(connection, False)
        try:
            with connection.begin():
                yield connection
                _refuse_broken_references(connection)
        finally:
            try:
                _set_sqlite_foreign_keys(connection, True)
            except Exception:
                # A pooled connection without foreign keys would let every
                # later user action leave orphans: never hand it out again.
                connection.invalidate()
                raise


def alembic_config(engine: Engine | None = None) -> Config:
    """The project's Alembic configuration, bound to ``engine`` if given."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["skip_logging_config"] = True
    if engine is not None:
        config.attributes["url"] = engine.url.render_as_string(hide_password=False)
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``revision``, in one
    transaction (on SQLite: foreign keys off, checked before the commit)."""
    with migration_connection(engine) as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    log.info("upgraded %s to %s", engine.url.render_as_string(), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database stands at, or None when it has none.

    Reads through ``read_connection``: on SQLite it does not wait for a
    writer (a running upgrade or a user action) to release the write lock.
    """
    with read_connection(engine) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
