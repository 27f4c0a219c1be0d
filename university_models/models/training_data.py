"""Training data that agents produce, with its quality and privacy state."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from university_models.db import Base
from university_models.models._columns import (
    boolean_column,
    created_at_column,
    dependents,
    float_column,
    id_column,
    in_list,
    json_column,
    reference,
    text_choice,
    timestamp_column,
)

if TYPE_CHECKING:
    from university_models.models.agents import UniversityAgent
    from university_models.models.proposals import ImprovementProposal
    from university_models.models.tenancy import University

SOURCE_TYPES = ("competition", "training", "evaluation", "interaction")
DATA_TYPES = ("conversation", "reasoning", "tool_use", "problem_solving")
VALIDATION_STATUSES = ("pending", "validated", "rejected", "anonymized")
PRIVACY_LEVELS = ("private", "shared", "public")


class TrainingDataCollection(Base):
    """One training record. ``metadata`` is a reserved name on declarative
    classes, so the ``metadata`` column is mapped as ``record_metadata``."""

    __tablename__ = "training_data_collections"
    __table_args__ = (
        CheckConstraint(in_list("source_type", SOURCE_TYPES), name="source_type_valid"),
        CheckConstraint(in_list("data_type", DATA_TYPES), name="data_type_valid"),
        CheckConstraint(
            in_list("validation_status", VALIDATION_STATUSES),
            name="validation_status_valid",
        ),
        CheckConstraint(
            in_list("privacy_level", PRIVACY_LEVELS), name="privacy_level_valid"
        ),
        Index("idx_training_university", "university_id"),
        Index("idx_training_agent", "agent_id"),
        Index("idx_training_source", "source_type", "source_id"),
        Index("idx_training_validation", "validation_status"),
        # Not in the spec (migration 0004): at a million records the review
        # queue, its every-status variant and the export's keyset pages
        # would otherwise sort all of a university's records for each page.
        Index(
            "idx_training_queue_by_status",
            "university_id",
            "validation_status",
            "quality_score",
            "collected_at",
            "id",
        ),
        Index(
            "idx_training_queue",
            "university_id",
            "quality_score",
            "collected_at",
            "id",
        ),
        Index("idx_training_collected", "university_id", "collected_at", "id"),
    )

    id: Mapped[str] = id_column()
    university_id: Mapped[str] = reference("universities.id", ondelete="CASCADE")
    agent_id: Mapped[str] = reference("university_agents.id", ondelete="CASCADE")

    source_type: Mapped[str] = mapped_column(String(100), nullable=False)
    source_id: Mapped[str | None] = mapped_column(String(36))

    data_type: Mapped[str] = mapped_column(String(100), nullable=False)
    raw_data: Mapped[Any] = json_column()
    processed_data: Mapped[Any | None] = json_column(nullable=True)
    record_metadata: Mapped[dict[str, Any] | None] = json_column(
        nullable=True, name="metadata"
    )

    quality_score: Mapped[float] = float_column(0.0)
    validation_status: Mapped[str] = text_choice(50, "pending")

    privacy_level: Mapped[str] = text_choice(50, "private")
    anonymized: Mapped[bool] = boolean_column()

    collected_at: Mapped[datetime] = created_at_column()
    validated_at: Mapped[datetime | None] = timestamp_column()

    university: Mapped[University] = relationship(back_populates="training_records")
    agent: Mapped[UniversityAgent] = relationship(back_populates="training_records")
    # No ON DELETE: a record that proposals cite cannot be deleted.
    proposals: Mapped[list[ImprovementProposal]] = dependents("source_record")
