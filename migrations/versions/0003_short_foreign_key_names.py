"""foreign key names without the referred table

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

0001 named foreign keys fk_<table>_<column>_<referred table>. Four of those
names are longer than PostgreSQL's 63-character identifiers, so PostgreSQL
holds them cut and hashed (fk_university_agents_current_curriculum_level_id_
curric_7e74) while SQLite holds them whole: the engines disagreed. The
naming convention is now fk_<table>_<column>, which fits everywhere; this
revision renames every foreign key to it. PostgreSQL renames in place;
SQLite cannot rename a constraint, so each table is recreated in batch mode
(safe: migrations run with foreign keys off and are checked before the
commit, see university_models/migrate.py).
"""

import hashlib
from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: PostgreSQL's longest identifier.
MAX_IDENTIFIER = 63

#: Every foreign key, by table: (column, referred table, ON DELETE).
FOREIGN_KEYS: dict[str, list[tuple[str, str, str | None]]] = {
    "users": [("organization_id", "organizations", "SET NULL")],
    "universities": [
        ("client_app_id", "client_applications", None),
        ("organization_id", "organizations", None),
        ("owner_user_id", "users", "CASCADE"),
    ],
    "curriculum_paths": [("university_id", "universities", "CASCADE")],
    "curriculum_levels": [("curriculum_path_id", "curriculum_paths", "CASCADE")],
    "university_agents": [
        ("current_curriculum_level_id", "curriculum_levels", None),
        ("current_curriculum_path_id", "curriculum_paths", None),
        ("university_id", "universities", "CASCADE"),
    ],
    "agent_progress": [
        ("agent_id", "university_agents", "CASCADE"),
        ("curriculum_level_id", "curriculum_levels", None),
    ],
    "competitions": [
        ("university_id", "universities", "CASCADE"),
        ("winner_agent_id", "university_agents", None),
    ],
    "competition_participants": [
        ("agent_id", "university_agents", "CASCADE"),
        ("competition_id", "competitions", "CASCADE"),
    ],
    "competition_matches": [
        ("competition_id", "competitions", "CASCADE"),
        ("participant1_id", "competition_participants", None),
        ("participant2_id", "competition_participants", None),
        ("winner_participant_id", "competition_participants", None),
    ],
    "training_data_collections": [
        ("agent_id", "university_agents", "CASCADE"),
        ("university_id", "universities", "CASCADE"),
    ],
    "improvement_proposals": [
        ("source_data_collection_id", "training_data_collections", None),
        ("university_id", "universities", "CASCADE"),
    ],
}


def _old_name(table: str, column: str, referred: str, dialect: str) -> str:
    """The name 0001 gave the foreign key on ``dialect``. SQLAlchemy cuts a
    name longer than PostgreSQL's identifiers to 55 characters and appends
    ``_`` and the last 4 hex digits of the full name's MD5."""
    name = f"fk_{table}_{column}_{referred}"
    if dialect != "postgresql" or len(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.md5(name.encode()).hexdigest()[-4:]
    return f"{name[: MAX_IDENTIFIER - 8]}_{digest}"


def _new_name(table: str, column: str, referred: str, dialect: str) -> str:
    return f"fk_{table}_{column}"


def _rename(from_name, to_name) -> None:
    dialect = op.get_context().dialect.name
    for table, keys in FOREIGN_KEYS.items():
        if dialect == "sqlite":
            with op.batch_alter_table(table, recreate="always") as batch_op:
                for column, referred, ondelete in keys:
                    batch_op.drop_constraint(
                        from_name(table, column, referred, dialect),
                        type_="foreignkey",
                    )
                    batch_op.create_foreign_key(
                        to_name(table, column, referred, dialect),
                        referred,
                        [column],
                        ["id"],
                        ondelete=ondelete,
                    )
            continue
        for column, referred, _ in keys:
            old = from_name(table, column, referred, dialect)
            new = to_name(table, column, referred, dialect)
            op.execute(f'ALTER TABLE {table} RENAME CONSTRAINT "{old}" TO "{new}"')


def upgrade() -> None:
    _rename(_old_name, _new_name)


def downgrade() -> None:
    _rename(_new_name, _old_name)
