"""composite indexes for the screens that page or chart a large university

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

Measured on PostgreSQL 15 with one university of 1,000,000 training records
and 500,000 matches (docs/schema.md, "Performance at scale"): without these
the review queue, the training-data export and the Overview's activity
timeline sort or scan every record of the university for each page.

- idx_training_queue_by_status: the review queue filtered by validation
  status (the page's default, pending), in its order (quality, collected,
  id), so a page reads its 50 rows instead of sorting the university's.
- idx_training_queue: the same queue with every status.
- idx_training_collected: the training-data export's keyset pages
  (collected_at, id) and the last-30-days charts of Overview and Training
  data.
- idx_matches_completed: completed matches of a competition by completion
  time: the Overview's matches-completed timeline reads it without the
  table.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRAINING_INDEXES = {
    "idx_training_queue_by_status": [
        "university_id",
        "validation_status",
        "quality_score",
        "collected_at",
        "id",
    ],
    "idx_training_queue": ["university_id", "quality_score", "collected_at", "id"],
    "idx_training_collected": ["university_id", "collected_at", "id"],
}

MATCH_INDEXES = {
    "idx_matches_completed": ["competition_id", "status", "completed_at"],
}


def upgrade() -> None:
    with op.batch_alter_table("training_data_collections") as batch_op:
        for name, columns in TRAINING_INDEXES.items():
            batch_op.create_index(name, columns)
    with op.batch_alter_table("competition_matches") as batch_op:
        for name, columns in MATCH_INDEXES.items():
            batch_op.create_index(name, columns)


def downgrade() -> None:
    with op.batch_alter_table("competition_matches") as batch_op:
        for name in MATCH_INDEXES:
            batch_op.drop_index(name)
    with op.batch_alter_table("training_data_collections") as batch_op:
        for name in TRAINING_INDEXES:
            batch_op.drop_index(name)
