"""Migrations: pytest-alembic's built-in checks, on SQLite and PostgreSQL
(the ``alembic_engine`` fixture in conftest.py runs each on both), and how
the project runs and reads them."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic import command
from pytest_alembic.tests import (  # noqa: F401
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from tests.rows import GRAPH, insert_graph
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


#: A throwaway revision on top of the project's head, run from a temporary
#: version location. On SQLite the batch recreates the table (copy, DROP
#: TABLE, rename) as any batch change beyond SQLite's own ALTER TABLE does;
#: PostgreSQL alters in place, as render_as_batch has it there.
RECREATING_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "probe_recreate"
down_revision = {head!r}


def upgrade():
    sqlite = op.get_context().dialect.name == "sqlite"
    with op.batch_alter_table(
        "universities", recreate="always" if sqlite else "auto"
    ) as batch_op:
        batch_op.add_column(sa.Column("probe", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("universities") as batch_op:
        batch_op.drop_column("probe")
"""

#: A throwaway revision that points every university at a user who does not
#: exist: on SQLite (foreign keys off while migrating) the statement itself
#: succeeds and only the foreign-key check before the commit can catch it.
ORPHANING_REVISION = """
from alembic import op

revision = "probe_orphan"
down_revision = {head!r}


def upgrade():
    op.execute("UPDATE universities SET owner_user_id = 'no-such-user'")


def downgrade():
    pass
"""


def _config_with_revision(engine, tmp_path, source: str):
    versions = tmp_path / "probe_versions"
    versions.mkdir()
    (versions / "probe.py").write_text(source.format(head=migrate.head_revision()))
    return _config_with_versions(engine, versions)


def _config_with_versions(engine, versions: Path):
    """The project's configuration with ``versions`` as a second version
    location next to the project's own."""
    config = migrate.alembic_config(engine)
    project_versions = Path(config.get_main_option("script_location")) / "versions"
    config.set_main_option(
        "version_locations", os.pathsep.join([str(project_versions), str(versions)])
    )
    return config


def _run_upgrade(config, engine, entry: str) -> None:
    """Upgrade as the project does: with the engine (env.py opens the
    connection: the ``alembic`` command and pytest-alembic) or with a
    connection from ``migration_connection`` (``migrate.upgrade``)."""
    if entry == "engine":
        config.attributes["connection"] = engine
        command.upgrade(config, "heads")
        return
    with migrate.migration_connection(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


def _row_counts(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            for table, _ in GRAPH
        }


@pytest.fixture
def migrated_engine(alembic_engine):
    """A database of its own at the project's head, on each engine: the
    throwaway revisions must not reach the database other tests share."""
    migrate.upgrade(alembic_engine)
    return alembic_engine


@pytest.mark.parametrize("entry", ["engine", "migration_connection"])
def test_table_recreating_batch_migration_keeps_every_row(
    migrated_engine, tmp_path, entry
):
    engine = migrated_engine
    with engine.begin() as connection:
        insert_graph(connection)
        insert_graph(connection)
    before = _row_counts(engine)
    assert set(before.values()) == {2}

    _run_upgrade(
        _config_with_revision(engine, tmp_path, RECREATING_REVISION), engine, entry
    )

    assert migrate.current_revision(engine) == "probe_recreate"
    assert _row_counts(engine) == before
    with engine.connect() as connection:
        assert "probe" in {
            c["name"] for c in inspect(connection).get_columns("universities")
        }
        if engine.dialect.name == "sqlite":
            assert migrate.sqlite_foreign_keys_on(connection)


@pytest.mark.parametrize("entry", ["engine", "migration_connection"])
def test_migration_leaving_a_broken_reference_commits_nothing(
    migrated_engine, tmp_path, entry
):
    engine = migrated_engine
    with engine.begin() as connection:
        ids = insert_graph(connection)
    config = _config_with_revision(engine, tmp_path, ORPHANING_REVISION)

    # SQLite only finds out in the foreign-key check before the commit;
    # PostgreSQL refuses the statement itself.
    refusal = (
        migrate.MigrationIntegrityError
        if engine.dialect.name == "sqlite"
        else IntegrityError
    )
    with pytest.raises(refusal, match="universities|foreign key"):
        _run_upgrade(config, engine, entry)

    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as connection:
        owner = connection.execute(text("SELECT owner_user_id FROM universities"))
        assert owner.scalar_one() == ids["users"]
        if engine.dialect.name == "sqlite":
            assert migrate.sqlite_foreign_keys_on(connection)


def test_new_revision_file_is_named_like_the_hand_numbered_ones(tmp_path):
    versions = tmp_path / "new_versions"
    versions.mkdir()
    config = _config_with_versions(None, versions)

    command.revision(
        config, message="Probe change", rev_id="0099", version_path=str(versions)
    )

    assert [path.name for path in versions.glob("*.py")] == ["0099_probe_change.py"]
    project = Path(config.get_main_option("script_location")) / "versions"
    for path in project.glob("*.py"):
        assert re.fullmatch(r"\d{4}_[a-z0-9_]+\.py", path.name), path.name


def _foreign_keys(engine) -> dict[str, set[tuple]]:
    """Each table's foreign keys: name, column, referred table, ON DELETE."""
    with engine.connect() as connection:
        inspector = inspect(connection)
        return {
            table: {
                (
                    fk["name"],
                    *fk["constrained_columns"],
                    fk["referred_table"],
                    fk["options"].get("ondelete"),
                )
                for fk in inspector.get_foreign_keys(table)
            }
            for table in inspector.get_table_names()
        }


def _move(engine, direction: str, revision: str) -> None:
    config = migrate.alembic_config(engine)
    config.attributes["connection"] = engine
    getattr(command, direction)(config, revision)


def test_0003_renames_foreign_keys_both_ways_and_keeps_every_row(alembic_engine):
    engine = alembic_engine
    migrate.upgrade(engine, "0002")
    keys_at_0002 = _foreign_keys(engine)
    with engine.begin() as connection:
        insert_graph(connection)
        insert_graph(connection)
    before = _row_counts(engine)

    migrate.upgrade(engine)
    renamed = _foreign_keys(engine)
    assert renamed["university_agents"] == {
        (
            "fk_university_agents_current_curriculum_level_id",
            "current_curriculum_level_id",
            "curriculum_levels",
            None,
        ),
        (
            "fk_university_agents_current_curriculum_path_id",
            "current_curriculum_path_id",
            "curriculum_paths",
            None,
        ),
        (
            "fk_university_agents_university_id",
            "university_id",
            "universities",
            "CASCADE",
        ),
    }
    # Only the names changed.
    assert {t: {fk[1:] for fk in fks} for t, fks in renamed.items()} == {
        t: {fk[1:] for fk in fks} for t, fks in keys_at_0002.items()
    }
    assert _row_counts(engine) == before

    _move(engine, "downgrade", "0002")
    assert _foreign_keys(engine) == keys_at_0002
    assert _row_counts(engine) == before

    _move(engine, "upgrade", "head")
    assert _foreign_keys(engine) == renamed
    assert _row_counts(engine) == before
