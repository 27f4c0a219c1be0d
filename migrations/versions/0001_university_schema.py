"""create the university schema

Revision ID: 0001
Revises:
Create Date: 2026-12-03

Creates every table, index, check and foreign key of
../shared/spec/university-schema.md, plus users, organizations,
client_applications and the two archive tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_SETTINGS = sa.text(
    '\'{"max_agents": 100, "max_concurrent_competitions": 10, '
    '"data_retention_days": 365, "privacy_level": "strict"}\''
)


def upgrade() -> None:
    op.create_table(
        "client_applications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_applications")),
    )
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("name", name=op.f("uq_organizations_name")),
    )
    op.create_table(
        "universities_archive",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("owner_user_id", sa.String(length=255), nullable=False),
        sa.Column("client_app_id", sa.String(length=255), nullable=True),
        sa.Column("tenant_id", sa.String(length=255), nullable=True),
        sa.Column("organization_id", sa.String(length=255), nullable=True),
        sa.Column(
            "settings",
            sa.JSON(none_as_null=True),
            server_default=DEFAULT_SETTINGS,
            nullable=False,
        ),
        sa.Column(
            "isolation_level",
            sa.String(length=50),
            server_default="strict",
            nullable=False,
        ),
        sa.Column(
            "max_agents", sa.Integer(), server_default=sa.text("100"), nullable=False
        ),
        sa.Column(
            "max_concurrent_competitions",
            sa.Integer(),
            server_default=sa.text("10"),
            nullable=False,
        ),
        sa.Column(
            "storage_quota_mb",
            sa.Integer(),
            server_default=sa.text("1024"),
            nullable=False,
        ),
        sa.Column(
            "status", sa.String(length=50), server_default="active", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "last_activity_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "archived_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_universities_archive")),
    )
    op.create_table(
        "university_agents_archive",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("university_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("agent_type", sa.String(length=100), nullable=False),
        sa.Column("configuration", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("specialization", sa.String(length=100), nullable=True),
        sa.Column("current_curriculum_path_id", sa.String(length=36), nullable=True),
        sa.Column("current_curriculum_level_id", sa.String(length=36), nullable=True),
        sa.Column(
            "current_challenge_index",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "competency_score",
            sa.Float(),
            server_default=sa.text("0.0"),
            nullable=False,
        ),
        sa.Column(
            "training_hours",
            sa.Float(),
            server_default=sa.text("0.0"),
            nullable=False,
        ),
        sa.Column(
            "training_data_collected",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "competition_wins",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "competition_losses",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "competition_draws",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "average_score", sa.Float(), server_default=sa.text("0.0"), nullable=False
        ),
        sa.Column(
            "highest_score", sa.Float(), server_default=sa.text("0.0"), nullable=False
        ),
        sa.Column(
            "status", sa.String(length=50), server_default="active", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "last_trained_at",
            sa.DateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "last_competed_at",
            sa.DateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "archived_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_university_agents_archive")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("organization_id", sa.String(length=36), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_users_organization_id_organizations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "universities",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("owner_user_id", sa.String(length=255), nullable=False),
        sa.Column("client_app_id", sa.String(length=255), nullable=True),
        sa.Column("tenant_id", sa.String(length=255), nullable=True),
        sa.Column("organization_id", sa.String(length=255), nullable=True),
        sa.Column(
            "settings",
            sa.JSON(none_as_null=True),
            server_default=DEFAULT_SETTINGS,
            nullable=False,
        ),
        sa.Column(
            "isolation_level",
            sa.String(length=50),
            server_default="strict",
            nullable=False,
        ),
        sa.Column(
            "max_agents", sa.Integer(), server_default=sa.text("100"), nullable=False
        ),
        sa.Column(
            "max_concurrent_competitions",
            sa.Integer(),
            server_default=sa.text("10"),
            nullable=False,
        ),
        sa.Column(
            "storage_quota_mb",
            sa.Integer(),
            server_default=sa.text("1024"),
            nullable=False,
        ),
        sa.Column(
            "status", sa.String(length=50), server_default="active", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "last_activity_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "isolation_level IN ('strict', 'shared', 'collaborative')",
            name=op.f("ck_universities_isolation_level_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'suspended', 'archived')",
            name=op.f("ck_universities_status_valid"),
        ),
        sa.CheckConstraint(
            "max_agents > 0", name=op.f("ck_universities_max_agents_positive")
        ),
        sa.CheckConstraint(
            "max_concurrent_competitions > 0",
            name=op.f("ck_universities_max_concurrent_competitions_positive"),
        ),
        sa.CheckConstraint(
            "storage_quota_mb > 0",
            name=op.f("ck_universities_storage_quota_mb_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["client_app_id"],
            ["client_applications.id"],
            name=op.f("fk_universities_client_app_id_client_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_universities_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_user_id"],
            ["users.id"],
            name=op.f("fk_universities_owner_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_universities")),
    )
    with op.batch_alter_table("universities", schema=None) as batch_op:
        batch_op.create_index("idx_universities_org", ["organization_id"], unique=False)
        batch_op.create_index("idx_universities_owner", ["owner_user_id"], unique=False)
        batch_op.create_index("idx_universities_status", ["status"], unique=False)
        batch_op.create_index("idx_universities_tenant", ["tenant_id"], unique=False)

    op.create_table(
        "curriculum_paths",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("university_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "difficulty_level",
            sa.String(length=50),
            server_default="beginner",
            nullable=False,
        ),
        sa.Column(
            "estimated_duration_hours",
            sa.Integer(),
            server_default=sa.text("40"),
            nullable=False,
        ),
        sa.Column(
            "prerequisites",
            sa.JSON(none_as_null=True),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
        sa.Column(
            "version", sa.String(length=20), server_default="1.0.0", nullable=False
        ),
        sa.Column(
            "tags",
            sa.JSON(none_as_null=True),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
        sa.Column("is_public", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "status", sa.String(length=50), server_default="active", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "difficulty_level IN ('beginner', 'intermediate', 'advanced', 'expert')",
            name=op.f("ck_curriculum_paths_difficulty_level_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'draft', 'archived')",
            name=op.f("ck_curriculum_paths_status_valid"),
        ),
        sa.CheckConstraint(
            "estimated_duration_hours > 0",
            name=op.f("ck_curriculum_paths_estimated_duration_hours_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_curriculum_paths_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_curriculum_paths")),
    )
    with op.batch_alter_table("curriculum_paths", schema=None) as batch_op:
        batch_op.create_index(
            "idx_paths_difficulty", ["difficulty_level"], unique=False
        )
        batch_op.create_index("idx_paths_university", ["university_id"], unique=False)

    op.create_table(
        "curriculum_levels",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("curriculum_path_id", sa.String(length=36), nullable=False),
        sa.Column("level_number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("learning_objectives", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("theoretical_content", sa.Text(), nullable=True),
        sa.Column("practical_exercises", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("challenges", sa.JSON(none_as_null=True), nullable=False),
        sa.Column(
            "challenge_count", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column(
            "passing_score", sa.Float(), server_default=sa.text("0.7"), nullable=False
        ),
        sa.Column(
            "time_limit_minutes",
            sa.Integer(),
            server_default=sa.text("60"),
            nullable=False,
        ),
        sa.Column(
            "required_competency_score",
            sa.Float(),
            server_default=sa.text("0.0"),
            nullable=False,
        ),
        sa.Column(
            "prerequisite_level_ids",
            sa.JSON(none_as_null=True),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
        sa.Column(
            "tags",
            sa.JSON(none_as_null=True),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "level_number > 0", name=op.f("ck_curriculum_levels_level_number_positive")
        ),
        sa.CheckConstraint(
            "passing_score >= 0.0 AND passing_score <= 1.0",
            name=op.f("ck_curriculum_levels_passing_score_range"),
        ),
        sa.CheckConstraint(
            "time_limit_minutes > 0",
            name=op.f("ck_curriculum_levels_time_limit_minutes_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["curriculum_path_id"],
            ["curriculum_paths.id"],
            name=op.f("fk_curriculum_levels_curriculum_path_id_curriculum_paths"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_curriculum_levels")),
        sa.UniqueConstraint(
            "curriculum_path_id",
            "level_number",
            name=op.f("uq_curriculum_levels_curriculum_path_id_level_number"),
        ),
    )
    with op.batch_alter_table("curriculum_levels", schema=None) as batch_op:
        batch_op.create_index("idx_levels_number", ["level_number"], unique=False)
        batch_op.create_index("idx_levels_path", ["curriculum_path_id"], unique=False)

    op.create_table(
        "university_agents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("university_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("agent_type", sa.String(length=100), nullable=False),
        sa.Column("configuration", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("specialization", sa.String(length=100), nullable=True),
        sa.Column("current_curriculum_path_id", sa.String(length=36), nullable=True),
        sa.Column("current_curriculum_level_id", sa.String(length=36), nullable=True),
        sa.Column(
            "current_challenge_index",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "competency_score",
            sa.Float(),
            server_default=sa.text("0.0"),
            nullable=False,
        ),
        sa.Column(
            "training_hours",
            sa.Float(),
            server_default=sa.text("0.0"),
            nullable=False,
        ),
        sa.Column(
            "training_data_collected",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "competition_wins",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "competition_losses",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "competition_draws",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "average_score", sa.Float(), server_default=sa.text("0.0"), nullable=False
        ),
        sa.Column(
            "highest_score", sa.Float(), server_default=sa.text("0.0"), nullable=False
        ),
        sa.Column(
            "status", sa.String(length=50), server_default="active", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "last_trained_at",
            sa.DateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "last_competed_at",
            sa.DateTime(timezone=True),
            nullable=True,
        ),
        sa.CheckConstraint(
            "agent_type IN ('student', 'instructor', 'researcher', 'specialist')",
            name=op.f("ck_university_agents_agent_type_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'training', 'competing', 'idle', 'archived')",
            name=op.f("ck_university_agents_status_valid"),
        ),
        sa.CheckConstraint(
            "competency_score >= 0.0 AND competency_score <= 1.0",
            name=op.f("ck_university_agents_competency_score_range"),
        ),
        sa.ForeignKeyConstraint(
            ["current_curriculum_level_id"],
            ["curriculum_levels.id"],
            name=op.f(
                "fk_university_agents_current_curriculum_level_id_curriculum_levels"
            ),
        ),
        sa.ForeignKeyConstraint(
            ["current_curriculum_path_id"],
            ["curriculum_paths.id"],
            name=op.f(
                "fk_university_agents_current_curriculum_path_id_curriculum_paths"
            ),
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_university_agents_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_university_agents")),
    )
    with op.batch_alter_table("university_agents", schema=None) as batch_op:
        batch_op.create_index(
            "idx_agents_competency", ["competency_score"], unique=False
        )
        batch_op.create_index("idx_agents_status", ["status"], unique=False)
        batch_op.create_index("idx_agents_type", ["agent_type"], unique=False)
        batch_op.create_index("idx_agents_university", ["university_id"], unique=False)

    op.create_table(
        "agent_progress",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("curriculum_level_id", sa.String(length=36), nullable=False),
        sa.Column(
            "current_challenge_index",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "challenges_completed",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("total_challenges", sa.Integer(), nullable=False),
        sa.Column(
            "current_score", sa.Float(), server_default=sa.text("0.0"), nullable=False
        ),
        sa.Column(
            "best_score", sa.Float(), server_default=sa.text("0.0"), nullable=False
        ),
        sa.Column(
            "average_score", sa.Float(), server_default=sa.text("0.0"), nullable=False
        ),
        sa.Column(
            "time_spent_minutes",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "status", sa.String(length=50), server_default="not_started", nullable=False
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "completed_at",
            sa.DateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "last_activity_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "challenge_results",
            sa.JSON(none_as_null=True),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('not_started', 'in_progress', 'completed', 'failed')",
            name=op.f("ck_agent_progress_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["university_agents.id"],
            name=op.f("fk_agent_progress_agent_id_university_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["curriculum_level_id"],
            ["curriculum_levels.id"],
            name=op.f("fk_agent_progress_curriculum_level_id_curriculum_levels"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_progress")),
        sa.UniqueConstraint(
            "agent_id",
            "curriculum_level_id",
            name=op.f("uq_agent_progress_agent_id_curriculum_level_id"),
        ),
    )
    with op.batch_alter_table("agent_progress", schema=None) as batch_op:
        batch_op.create_index("idx_progress_agent", ["agent_id"], unique=False)
        batch_op.create_index(
            "idx_progress_level", ["curriculum_level_id"], unique=False
        )
        batch_op.create_index("idx_progress_status", ["status"], unique=False)

    op.create_table(
        "competitions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("university_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("competition_type", sa.String(length=100), nullable=False),
        sa.Column("rules", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("benchmark_id", sa.String(length=255), nullable=True),
        sa.Column("evaluation_config", sa.JSON(none_as_null=True), nullable=False),
        sa.Column(
            "scheduled_start",
            sa.DateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "scheduled_end",
            sa.DateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "actual_start",
            sa.DateTime(timezone=True),
            nullable=True,
        ),
        sa.Column("actual_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "status", sa.String(length=50), server_default="scheduled", nullable=False
        ),
        sa.Column(
            "max_participants",
            sa.Integer(),
            server_default=sa.text("10"),
            nullable=False,
        ),
        sa.Column("winner_agent_id", sa.String(length=36), nullable=True),
        sa.Column(
            "results_published",
            sa.Boolean(),
            server_default=sa.false(),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "competition_type IN ('solo', 'head_to_head', 'tournament', 'challenge')",
            name=op.f("ck_competitions_competition_type_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('scheduled', 'active', 'completed', 'cancelled')",
            name=op.f("ck_competitions_status_valid"),
        ),
        sa.CheckConstraint(
            "max_participants > 0",
            name=op.f("ck_competitions_max_participants_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_competitions_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["winner_agent_id"],
            ["university_agents.id"],
            name=op.f("fk_competitions_winner_agent_id_university_agents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitions")),
    )
    with op.batch_alter_table("competitions", schema=None) as batch_op:
        batch_op.create_index(
            "idx_competitions_schedule", ["scheduled_start"], unique=False
        )
        batch_op.create_index("idx_competitions_status", ["status"], unique=False)
        batch_op.create_index(
            "idx_competitions_university", ["university_id"], unique=False
        )

    op.create_table(
        "training_data_collections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("university_id", sa.String(length=36), nullable=False),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("source_type", sa.String(length=100), nullable=False),
        sa.Column("source_id", sa.String(length=36), nullable=True),
        sa.Column("data_type", sa.String(length=100), nullable=False),
        sa.Column("raw_data", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("processed_data", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("metadata", sa.JSON(none_as_null=True), nullable=True),
        sa.Column(
            "quality_score", sa.Float(), server_default=sa.text("0.0"), nullable=False
        ),
        sa.Column(
            "validation_status",
            sa.String(length=50),
            server_default="pending",
            nullable=False,
        ),
        sa.Column(
            "privacy_level",
            sa.String(length=50),
            server_default="private",
            nullable=False,
        ),
        sa.Column(
            "anonymized", sa.Boolean(), server_default=sa.false(), nullable=False
        ),
        sa.Column(
            "collected_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "validated_at",
            sa.DateTime(timezone=True),
            nullable=True,
        ),
        sa.CheckConstraint(
            "data_type IN ('conversation', 'reasoning', 'tool_use', 'problem_solving')",
            name=op.f("ck_training_data_collections_data_type_valid"),
        ),
        sa.CheckConstraint(
            "privacy_level IN ('private', 'shared', 'public')",
            name=op.f("ck_training_data_collections_privacy_level_valid"),
        ),
        sa.CheckConstraint(
            "source_type IN ('competition', 'training', 'evaluation', 'interaction')",
            name=op.f("ck_training_data_collections_source_type_valid"),
        ),
        sa.CheckConstraint(
            "validation_status IN ('pending', 'validated', 'rejected', 'anonymized')",
            name=op.f("ck_training_data_collections_validation_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["university_agents.id"],
            name=op.f("fk_training_data_collections_agent_id_university_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_training_data_collections_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_data_collections")),
    )
    with op.batch_alter_table("training_data_collections", schema=None) as batch_op:
        batch_op.create_index("idx_training_agent", ["agent_id"], unique=False)
        batch_op.create_index(
            "idx_training_source", ["source_type", "source_id"], unique=False
        )
        batch_op.create_index(
            "idx_training_university", ["university_id"], unique=False
        )
        batch_op.create_index(
            "idx_training_validation", ["validation_status"], unique=False
        )

    op.create_table(
        "competition_participants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("competition_id", sa.String(length=36), nullable=False),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column(
            "participant_type",
            sa.String(length=50),
            server_default="competitor",
            nullable=False,
        ),
        sa.Column("seed_ranking", sa.Integer(), nullable=True),
        sa.Column("final_score", sa.Float(), nullable=True),
        sa.Column("ranking", sa.Integer(), nullable=True),
        sa.Column("execution_time_ms", sa.Integer(), nullable=True),
        sa.Column(
            "status", sa.String(length=50), server_default="registered", nullable=False
        ),
        sa.Column(
            "joined_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "completed_at",
            sa.DateTime(timezone=True),
            nullable=True,
        ),
        sa.CheckConstraint(
            "participant_type IN ('competitor', 'observer', 'judge')",
            name=op.f("ck_competition_participants_participant_type_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('registered', 'active', 'completed', 'disqualified')",
            name=op.f("ck_competition_participants_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["university_agents.id"],
            name=op.f("fk_competition_participants_agent_id_university_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["competition_id"],
            ["competitions.id"],
            name=op.f("fk_competition_participants_competition_id_competitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competition_participants")),
        sa.UniqueConstraint(
            "competition_id",
            "agent_id",
            name=op.f("uq_competition_participants_competition_id_agent_id"),
        ),
    )
    with op.batch_alter_table("competition_participants", schema=None) as batch_op:
        batch_op.create_index("idx_participants_agent", ["agent_id"], unique=False)
        batch_op.create_index(
            "idx_participants_competition", ["competition_id"], unique=False
        )

    op.create_table(
        "improvement_proposals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("university_id", sa.String(length=36), nullable=False),
        sa.Column(
            "generated_by",
            sa.String(length=100),
            server_default="professor_agent",
            nullable=False,
        ),
        sa.Column("source_data_collection_id", sa.String(length=36), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("implementation_details", sa.Text(), nullable=True),
        sa.Column("expected_improvement", sa.Float(), nullable=True),
        sa.Column("validation_results", sa.JSON(none_as_null=True), nullable=True),
        sa.Column(
            "validation_status",
            sa.String(length=50),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("validated_by", sa.String(length=255), nullable=True),
        sa.Column(
            "validated_at",
            sa.DateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "implementation_status",
            sa.String(length=50),
            server_default="not_started",
            nullable=False,
        ),
        sa.Column(
            "implemented_at",
            sa.DateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "generated_by IN ('professor_agent', 'human', 'system')",
            name=op.f("ck_improvement_proposals_generated_by_valid"),
        ),
        sa.CheckConstraint(
            "implementation_status IN ('not_started', 'in_progress', 'completed', 'failed')",
            name=op.f("ck_improvement_proposals_implementation_status_valid"),
        ),
        sa.CheckConstraint(
            "validation_status IN ('pending', 'approved', 'rejected', 'implemented')",
            name=op.f("ck_improvement_proposals_validation_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["source_data_collection_id"],
            ["training_data_collections.id"],
            name=op.f(
                "fk_improvement_proposals_source_data_collection_id_training_data_collections"
            ),
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_improvement_proposals_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_improvement_proposals")),
    )
    with op.batch_alter_table("improvement_proposals", schema=None) as batch_op:
        batch_op.create_index(
            "idx_proposals_implementation", ["implementation_status"], unique=False
        )
        batch_op.create_index(
            "idx_proposals_status", ["validation_status"], unique=False
        )
        batch_op.create_index(
            "idx_proposals_university", ["university_id"], unique=False
        )

    op.create_table(
        "competition_matches",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("competition_id", sa.String(length=36), nullable=False),
        sa.Column("match_number", sa.Integer(), nullable=False),
        sa.Column("participant1_id", sa.String(length=36), nullable=False),
        sa.Column("participant2_id", sa.String(length=36), nullable=True),
        sa.Column("match_config", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "completed_at",
            sa.DateTime(timezone=True),
            nullable=True,
        ),
        sa.Column("participant1_score", sa.Float(), nullable=True),
        sa.Column("participant2_score", sa.Float(), nullable=True),
        sa.Column("winner_participant_id", sa.String(length=36), nullable=True),
        sa.Column(
            "status", sa.String(length=50), server_default="scheduled", nullable=False
        ),
        sa.Column("evaluation_run_id", sa.String(length=255), nullable=True),
        sa.Column("detailed_results", sa.JSON(none_as_null=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('scheduled', 'active', 'completed', 'cancelled')",
            name=op.f("ck_competition_matches_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["competition_id"],
            ["competitions.id"],
            name=op.f("fk_competition_matches_competition_id_competitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant1_id"],
            ["competition_participants.id"],
            name=op.f(
                "fk_competition_matches_participant1_id_competition_participants"
            ),
        ),
        sa.ForeignKeyConstraint(
            ["participant2_id"],
            ["competition_participants.id"],
            name=op.f(
                "fk_competition_matches_participant2_id_competition_participants"
            ),
        ),
        sa.ForeignKeyConstraint(
            ["winner_participant_id"],
            ["competition_participants.id"],
            name=op.f(
                "fk_competition_matches_winner_participant_id_competition_participants"
            ),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competition_matches")),
    )
    with op.batch_alter_table("competition_matches", schema=None) as batch_op:
        batch_op.create_index(
            "idx_matches_competition", ["competition_id"], unique=False
        )
        batch_op.create_index(
            "idx_matches_participants",
            ["participant1_id", "participant2_id"],
            unique=False,
        )
        batch_op.create_index("idx_matches_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("competition_matches", schema=None) as batch_op:
        batch_op.drop_index("idx_matches_status")
        batch_op.drop_index("idx_matches_participants")
        batch_op.drop_index("idx_matches_competition")

    op.drop_table("competition_matches")
    with op.batch_alter_table("improvement_proposals", schema=None) as batch_op:
        batch_op.drop_index("idx_proposals_university")
        batch_op.drop_index("idx_proposals_status")
        batch_op.drop_index("idx_proposals_implementation")

    op.drop_table("improvement_proposals")
    with op.batch_alter_table("competition_participants", schema=None) as batch_op:
        batch_op.drop_index("idx_participants_competition")
        batch_op.drop_index("idx_participants_agent")

    op.drop_table("competition_participants")
    with op.batch_alter_table("training_data_collections", schema=None) as batch_op:
        batch_op.drop_index("idx_training_validation")
        batch_op.drop_index("idx_training_university")
        batch_op.drop_index("idx_training_source")
        batch_op.drop_index("idx_training_agent")

    op.drop_table("training_data_collections")
    with op.batch_alter_table("competitions", schema=None) as batch_op:
        batch_op.drop_index("idx_competitions_university")
        batch_op.drop_index("idx_competitions_status")
        batch_op.drop_index("idx_competitions_schedule")

    op.drop_table("competitions")
    with op.batch_alter_table("agent_progress", schema=None) as batch_op:
        batch_op.drop_index("idx_progress_status")
        batch_op.drop_index("idx_progress_level")
        batch_op.drop_index("idx_progress_agent")

    op.drop_table("agent_progress")
    with op.batch_alter_table("university_agents", schema=None) as batch_op:
        batch_op.drop_index("idx_agents_university")
        batch_op.drop_index("idx_agents_type")
        batch_op.drop_index("idx_agents_status")
        batch_op.drop_index("idx_agents_competency")

    op.drop_table("university_agents")
    with op.batch_alter_table("curriculum_levels", schema=None) as batch_op:
        batch_op.drop_index("idx_levels_path")
        batch_op.drop_index("idx_levels_number")

    op.drop_table("curriculum_levels")
    with op.batch_alter_table("curriculum_paths", schema=None) as batch_op:
        batch_op.drop_index("idx_paths_university")
        batch_op.drop_index("idx_paths_difficulty")

    op.drop_table("curriculum_paths")
    with op.batch_alter_table("universities", schema=None) as batch_op:
        batch_op.drop_index("idx_universities_tenant")
        batch_op.drop_index("idx_universities_status")
        batch_op.drop_index("idx_universities_owner")
        batch_op.drop_index("idx_universities_org")

    op.drop_table("universities")
    op.drop_table("users")
    op.drop_table("university_agents_archive")
    op.drop_table("universities_archive")
    op.drop_table("organizations")
    op.drop_table("client_applications")
