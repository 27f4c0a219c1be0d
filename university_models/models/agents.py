"""AI agents that live in a university: students, instructors, researchers and
specialists."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from university_models.db import Base
from university_models.models._columns import (
    created_at_column,
    dependents,
    float_column,
    id_column,
    in_list,
    integer_column,
    json_column,
    reference,
    text_choice,
    timestamp_column,
    updated_at_column,
)

if TYPE_CHECKING:
    from university_models.models.competitions import (
        Competition,
        CompetitionParticipant,
    )
    from university_models.models.curriculum import (
        AgentProgress,
        CurriculumLevel,
        CurriculumPath,
    )
    from university_models.models.tenancy import University
    from university_models.models.training_data import TrainingDataCollection

AGENT_TYPES = ("student", "instructor", "researcher", "specialist")
AGENT_STATUSES = ("active", "training", "competing", "idle", "archived")


class UniversityAgent(Base):
    __tablename__ = "university_agents"
    __table_args__ = (
        CheckConstraint(in_list("agent_type", AGENT_TYPES), name="agent_type_valid"),
        CheckConstraint(
            "competency_score >= 0.0 AND competency_score <= 1.0",
            name="competency_score_range",
        ),
        CheckConstraint(in_list("status", AGENT_STATUSES), name="status_valid"),
        Index("idx_agents_university", "university_id"),
        Index("idx_agents_type", "agent_type"),
        Index("idx_agents_competency", "competency_score"),
        Index("idx_agents_status", "status"),
    )

    id: Mapped[str] = id_column()
    university_id: Mapped[str] = reference("universities.id", ondelete="CASCADE")
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)

    agent_type: Mapped[str] = mapped_column(String(100), nullable=False)
    configuration: Mapped[dict[str, Any]] = json_column()
    specialization: Mapped[str | None] = mapped_column(String(100))

    current_curriculum_path_id: Mapped[str | None] = reference(
        "curriculum_paths.id", nullable=True
    )
    current_curriculum_level_id: Mapped[str | None] = reference(
        "curriculum_levels.id", nullable=True
    )
    current_challenge_index: Mapped[int] = integer_column(0)

    competency_score: Mapped[float] = float_column(0.0)
    training_hours: Mapped[float] = float_column(0.0)
    training_data_collected: Mapped[int] = integer_column(0)

    competition_wins: Mapped[int] = integer_column(0)
    competition_losses: Mapped[int] = integer_column(0)
    competition_draws: Mapped[int] = integer_column(0)
    average_score: Mapped[float] = float_column(0.0)
    highest_score: Mapped[float] = float_column(0.0)

    status: Mapped[str] = text_choice(50, "active")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    last_trained_at: Mapped[datetime | None] = timestamp_column()
    last_competed_at: Mapped[datetime | None] = timestamp_column()

    university: Mapped[University] = relationship(back_populates="agents")
    current_curriculum_path: Mapped[CurriculumPath | None] = relationship(
        back_populates="current_agents"
    )
    current_curriculum_level: Mapped[CurriculumLevel | None] = relationship(
        back_populates="current_agents"
    )
    progress_records: Mapped[list[AgentProgress]] = dependents("agent")
    participations: Mapped[list[CompetitionParticipant]] = dependents("agent")
    training_records: Mapped[list[TrainingDataCollection]] = dependents("agent")
    # No ON DELETE: an agent that won a competition cannot be deleted.
    competitions_won: Mapped[list[Competition]] = dependents("winner")
