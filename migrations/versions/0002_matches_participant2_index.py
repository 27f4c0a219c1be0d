"""index competition_matches.participant2_id

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

The spec's idx_matches_participants (participant1_id, participant2_id) serves
lookups by the first side only. Agent counters and standings look up an
agent's matches by either side; without this index the second side scans
every match of the installation.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("competition_matches") as batch_op:
        batch_op.create_index("idx_matches_participant2", ["participant2_id"])


def downgrade() -> None:
    with op.batch_alter_table("competition_matches") as batch_op:
        batch_op.drop_index("idx_matches_participant2")
