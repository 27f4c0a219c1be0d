"""Bringing a database to the newest schema revision with Alembic."""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from university_models.config import PROJECT_ROOT
from university_models.db import read_connection

log = logging.getLogger(__name__)


def alembic_config(engine: Engine | None = None) -> Config:
    """The project's Alembic configuration, bound to ``engine`` if given."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["skip_logging_config"] = True
    if engine is not None:
        config.attributes["url"] = engine.url.render_as_string(hide_password=False)
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``revision``."""
    with engine.begin() as connection:
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
