"""Migrations: pytest-alembic's built-in checks, on SQLite and PostgreSQL
(the ``alembic_engine`` fixture in conftest.py runs each on both), and how
the project runs and reads them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pytest_alembic.tests import (  # noqa: F401
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import text

from university_models import migrate


def test_current_revision_answers_while_a_writer_holds_the_lock(engine):
    with engine.connect() as writer:
        # A writer in the middle of its transaction: on SQLite it holds the
        # database's write lock (BEGIN IMMEDIATE), on PostgreSQL the row lock.
        writer.execute(text("UPDATE alembic_version SET version_num = version_num"))
        with ThreadPoolExecutor(max_workers=1) as pool:
            answer = pool.submit(migrate.current_revision, engine)
            try:
                # Far below the 30-second busy timeout a waiting reader would
                # sit out before failing.
                assert answer.result(timeout=10) == migrate.head_revision()
            finally:
                writer.rollback()
