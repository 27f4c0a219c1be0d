"""Improvement proposals drawn from training data, and the decisions on them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from university_models.db import Base
from university_models.models._columns import (
    created_at_column,
    id_column,
    in_list,
    json_column,
    reference,
    text_choice,
    timestamp_column,
    updated_at_column,
)

if TYPE_CHECKING:
    from university_models.models.tenancy import University
    from university_models.models.training_data import TrainingDataCollection

GENERATORS = ("professor_agent", "human", "system")
PROPOSAL_STATUSES = ("pending", "approved", "rejected", "implemented")
IMPLEMENTATION_STATUSES = ("not_started", "in_progress", "completed", "failed")


class ImprovementProposal(Base):
    __tablename__ = "improvement_proposals"
    __table_args__ = (
        CheckConstraint(in_list("generated_by", GENERATORS), name="generated_by_valid"),
        CheckConstraint(
            in_list("validation_status", PROPOSAL_STATUSES),
            name="validation_status_valid",
        ),
        CheckConstraint(
            in_list("implementation_status", IMPLEMENTATION_STATUSES),
            name="implementation_status_valid",
        ),
        Index("idx_proposals_university", "university_id"),
        Index("idx_proposals_status", "validation_status"),
        Index("idx_proposals_implementation", "implementation_status"),
    )

    id: Mapped[str] = id_column()
    university_id: Mapped[str] = reference("universities.id", ondelete="CASCADE")

    generated_by: Mapped[str] = text_choice(100, "professor_agent")
    source_data_collection_id: Mapped[str | None] = reference(
        "training_data_collections.id", nullable=True
    )

    title: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    implementation_details: Mapped[str | None] = mapped_column(Text)
    expected_improvement: Mapped[float | None] = mapped_column(Float)

    validation_results: Mapped[Any | None] = json_column(nullable=True)
    validation_status: Mapped[str] = text_choice(50, "pending")
    validated_by: Mapped[str | None] = mapped_column(String(255))
    validated_at: Mapped[datetime | None] = timestamp_column()

    implementation_status: Mapped[str] = text_choice(50, "not_started")
    implemented_at: Mapped[datetime | None] = timestamp_column()

    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    university: Mapped[University] = relationship(back_populates="proposals")
    source_record: Mapped[TrainingDataCollection | None] = relationship(
        back_populates="proposals"
    )
