"""Fixtures shared by the whole suite.

``engine`` runs a test once on SQLite and once on PostgreSQL, each with the
schema migrated by Alembic and no rows. PostgreSQL comes from
``UNIVERSITY_TEST_POSTGRES_URL`` (any database on the server; the tests
create their own database with a unique name and drop it at the end).
Without that variable the PostgreSQL runs are skipped with the reason; with
``UNIVERSITY_TEST_STRICT=1`` (set by ``.ci/run``) a skip fails the run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

import university_models.models  # noqa: F401
from university_models import migrate
from university_models.db import Base, make_engine

POSTGRES_URL_VARIABLE = "UNIVERSITY_TEST_POSTGRES_URL"
STRICT = os.environ.get("UNIVERSITY_TEST_STRICT") == "1"
ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
]


def unavailable(reason: str) -> None:
    """Skip for a missing facility, or fail when every test must run."""
    if STRICT:
        pytest.fail(f"{reason} (UNIVERSITY_TEST_STRICT=1: every test must run)")
    pytest.skip(reason)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # A failed browser test adds what its page showed to the report, for a
    # failure seen only in CI's log (tests/browser_support.py).
    report = yield
    page = item.funcargs.get("page") if report.when == "call" else None
    if report.failed and page is not None:
        from tests.browser_support import describe_failed_page

        report.sections.append(
            ("page at the failure", describe_failed_page(page, item.name))
        )
    return report


def pytest_sessionfinish(session, exitstatus) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if STRICT and reporter is not None and reporter.stats.get("skipped"):
        reporter.write_line(
            "UNIVERSITY_TEST_STRICT=1 and some tests were skipped: failing the run",
            red=True,
        )
        session.exitstatus = 1


class PostgresServer:
    """Creates and drops uniquely named databases on the test server."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.admin = make_engine(
            self.url.set(database="postgres").render_as_string(hide_password=False),
            isolation_level="AUTOCOMMIT",
        )
        self.created: list[str] = []

    def create_database(self) -> str:
        name = f"university_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as connection:
            for name in self.created:
                connection.exec_driver_sql(
                    f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
                )
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        unavailable(f"PostgreSQL tests need {POSTGRES_URL_VARIABLE}")
    server = PostgresServer(url)
    try:
        with server.admin.connect():
            pass
    except Exception as error:  # noqa: BLE001  the reason goes to the report
        unavailable(f"PostgreSQL at {POSTGRES_URL_VARIABLE} is not reachable: {error}")
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def postgres_migrated_url(postgres_server: PostgresServer) -> str:
    url = postgres_server.create_database()
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("template") / "university.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return str(path)


def _empty_tables(engine: Engine) -> None:
    names = ", ".join(table.name for table in reversed(Base.metadata.sorted_tables))
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture(params=ENGINES)
def engine(request, tmp_path) -> Iterator[Engine]:
    """A migrated, empty database on each engine."""
    if request.param == "sqlite":
        path = tmp_path / "university.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        engine = make_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return

    url = request.getfixturevalue("postgres_migrated_url")
    engine = make_engine(url)
    try:
        yield engine
    finally:
        _empty_tables(engine)
        engine.dispose()


@pytest.fixture(params=ENGINES)
def alembic_engine(request, tmp_path) -> Iterator[Engine]:
    """An empty database without a schema, for pytest-alembic's tests."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'alembic.db'}")
    else:
        url = request.getfixturevalue("postgres_server").create_database()
        engine = make_engine(url)
    yield engine
    engine.dispose()
