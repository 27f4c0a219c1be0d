"""Engine, sessions and the column types every table shares.

Two guarantees live here rather than in each model:

* timestamps are time-zone aware and UTC on every engine (SQLite has no time
  zone type and silently drops the offset, so the offset is normalised on the
  way in and restored on the way out);
* JSON columns track nested in-place changes, so ``agent.configuration["llm"]
  ["temperature"] = 0.2`` followed by a commit is persisted, also through an
  object nobody holds (``session.get(University, id).settings[...] = ...``):
  the sessions made here keep their objects alive.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Engine,
    MetaData,
    String,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator
from sqlalchemy_json import mutable_json_type

from university_models.config import database_url

log = logging.getLogger(__name__)

#: Names of the constraints the models do not name themselves. Every name
#: fits PostgreSQL's 63-character identifiers, so it is the same on both
#: engines (PostgreSQL would cut a longer name and append a hash). A table
#: has one foreign key per column, so the column names it without the
#: referred table.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}

#: How long a SQLite connection waits for another writer before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def new_id() -> str:
    """A 36-character UUID4 string: the id of every row, on every engine."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """The current time, time-zone aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A time-zone aware timestamp stored and returned as UTC.

    Naive datetimes are refused: a time without a zone is ambiguous, and
    guessing would put wrong times into the activity timelines.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {value!r}")
        if value.tzinfo is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} refused: give it a time zone"
            )
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite stores text; keep UTC wall time without an offset so that
            # CURRENT_TIMESTAMP server defaults and ORM writes sort together.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: JSON with nested change tracking; NULL stays SQL NULL.
JsonDocument = mutable_json_type(dbtype=JSON(none_as_null=True), nested=True)

#: Column type for ids and references to ids.
IdType = String(36)


#: Key in ``Session.info`` of the objects a session keeps alive.
HELD_OBJECTS = "held_objects"


class UniversitySession(Session):
    """A session that keeps every object it holds alive until the object
    leaves it (expunged, deleted, rolled back, or the session closes).

    SQLAlchemy's identity map holds unchanged objects weakly. A nested JSON
    change flags its parent through a weak reference too, so in
    ``session.get(University, id).settings["privacy_level"] = "shared"`` the
    university can be garbage collected before the change reaches it, and
    the change is silently lost. This is SQLAlchemy's documented "strong
    reference" recipe (session events filling a collection in
    ``Session.info``). Code that walks very many rows in one session expunges
    each batch, which releases it here too.
    """


def _hold(session: Session, instance: object) -> None:
    session.info.setdefault(HELD_OBJECTS, {})[id(instance)] = instance


def _release(session: Session, instance: object) -> None:
    session.info.get(HELD_OBJECTS, {}).pop(id(instance), None)


for _event in (
    "pending_to_persistent",
    "deleted_to_persistent",
    "detached_to_persistent",
    "loaded_as_persistent",
):
    event.listen(UniversitySession, _event, _hold)
for _event in (
    "persistent_to_detached",
    "persistent_to_deleted",
    "persistent_to_transient",
):
    event.listen(UniversitySession, _event, _release)


def _unicode_lower(value: Any) -> Any:
    """SQLite's ``lower()`` as PostgreSQL's reads it under a UTF-8 locale:
    every letter, not ASCII only."""
    return value.lower() if isinstance(value, str) else value


def _configure_sqlite(engine: Engine) -> None:
    """Foreign keys, WAL, a busy timeout, write-lock-first transactions and
    a ``lower()`` that folds every letter.

    pysqlite's own transaction handling starts transactions lazily, which lets
    two writers both read, then fail with "database is locked" when the second
    one tries to write. Taking over BEGIN lets us start every transaction with
    BEGIN IMMEDIATE, so a writer waits (up to the busy timeout) at the start
    instead of failing halfway through.

    SQLite's built-in ``lower()`` folds ASCII letters only, so "Ärzte" and
    "ärzte" would be two names there and one on PostgreSQL; every name
    comparison and name search uses ``lower()``, and an application function
    of the same name replaces the built-in one on each connection, so the
    engines agree. No index is built on ``lower()``, so none depends on
    which one ran.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create the engine for ``url`` (default: the configured database).

    On SQLite the file's folder is created on first use.
    """
    url = url or database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(url, **kwargs)
    log.debug("engine created for %s", parsed.render_as_string(hide_password=True))
    return engine


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One user action: a session whose work commits together or not at all."""
    with UniversitySession(engine, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for reading only.

    Rule: only writers take SQLite's write lock. Its transactions start with
    a plain (deferred) ``BEGIN``, so under WAL it reads while a writer holds
    the lock instead of queueing behind it. Writing through it is a mistake
    (it could fail with "database is locked" halfway, which is what
    ``BEGIN IMMEDIATE`` prevents for writers).
    """
    with engine.connect() as connection:
        yield connection.execution_options(sqlite_begin="DEFERRED")


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session for reading only, over ``read_connection`` (on SQLite it
    does not take the write lock); whatever it changed is rolled back."""
    with (
        read_connection(engine) as connection,
        UniversitySession(bind=connection, expire_on_commit=False) as session,
    ):
        yield session
        session.rollback()
