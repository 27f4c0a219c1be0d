"""Curriculum paths, their numbered levels, and each agent's progress on a
level."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from university_models.db import Base
from university_models.models._columns import (
    boolean_column,
    created_at_column,
    dependents,
    float_column,
    id_column,
    in_list,
    integer_column,
    json_column,
    last_activity_at_column,
    reference,
    text_choice,
    timestamp_column,
    updated_at_column,
)

if TYPE_CHECKING:
    from university_models.models.agents import UniversityAgent
    from university_models.models.tenancy import University

DIFFICULTY_LEVELS = ("beginner", "intermediate", "advanced", "expert")
PATH_STATUSES = ("active", "draft", "archived")
PROGRESS_STATUSES = ("not_started", "in_progress", "completed", "failed")


class CurriculumPath(Base):
    __tablename__ = "curriculum_paths"
    __table_args__ = (
        CheckConstraint(
            in_list("difficulty_level", DIFFICULTY_LEVELS),
            name="difficulty_level_valid",
        ),
        CheckConstraint(
            "estimated_duration_hours > 0", name="estimated_duration_hours_positive"
        ),
        CheckConstraint(in_list("status", PATH_STATUSES), name="status_valid"),
        Index("idx_paths_university", "university_id"),
        Index("idx_paths_difficulty", "difficulty_level"),
    )

    id: Mapped[str] = id_column()
    university_id: Mapped[str] = reference("universities.id", ondelete="CASCADE")
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)

    difficulty_level: Mapped[str] = text_choice(50, "beginner")
    estimated_duration_hours: Mapped[int] = integer_column(40)
    prerequisites: Mapped[list[Any]] = json_column([])

    version: Mapped[str] = text_choice(20, "1.0.0")
    tags: Mapped[list[Any]] = json_column([])
    is_public: Mapped[bool] = boolean_column()

    status: Mapped[str] = text_choice(50, "active")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    university: Mapped[University] = relationship(back_populates="curriculum_paths")
    levels: Mapped[list[CurriculumLevel]] = dependents(
        "path", order_by="CurriculumLevel.level_number"
    )
    # No ON DELETE: a path that agents stand on cannot be deleted.
    current_agents: Mapped[list[UniversityAgent]] = dependents(
        "current_curriculum_path"
    )


class CurriculumLevel(Base):
    __tablename__ = "curriculum_levels"
    __table_args__ = (
        CheckConstraint("level_number > 0", name="level_number_positive"),
        CheckConstraint(
            "passing_score >= 0.0 AND passing_score <= 1.0", name="passing_score_range"
        ),
        CheckConstraint("time_limit_minutes > 0", name="time_limit_minutes_positive"),
        UniqueConstraint("curriculum_path_id", "level_number"),
        Index("idx_levels_path", "curriculum_path_id"),
        Index("idx_levels_number", "level_number"),
    )

    id: Mapped[str] = id_column()
    curriculum_path_id: Mapped[str] = reference(
        "curriculum_paths.id", ondelete="CASCADE"
    )
    level_number: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)

    learning_objectives: Mapped[list[Any]] = json_column()
    theoretical_content: Mapped[str | None] = mapped_column(Text)
    practical_exercises: Mapped[list[Any] | None] = json_column(nullable=True)

    challenges: Mapped[list[Any]] = json_column()
    challenge_count: Mapped[int] = integer_column(0)
    passing_score: Mapped[float] = float_column(0.7)
    time_limit_minutes: Mapped[int] = integer_column(60)

    required_competency_score: Mapped[float] = float_column(0.0)
    prerequisite_level_ids: Mapped[list[str]] = json_column([])

    tags: Mapped[list[Any]] = json_column([])
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    path: Mapped[CurriculumPath] = relationship(back_populates="levels")
    # No ON DELETE: a level with progress records cannot be deleted.
    progress_records: Mapped[list[AgentProgress]] = dependents("level")
    # No ON DELETE: a level that agents stand on cannot be deleted.
    current_agents: Mapped[list[UniversityAgent]] = dependents(
        "current_curriculum_level"
    )


class AgentProgress(Base):
    __tablename__ = "agent_progress"
    __table_args__ = (
        CheckConstraint(in_list("status", PROGRESS_STATUSES), name="status_valid"),
        UniqueConstraint("agent_id", "curriculum_level_id"),
        Index("idx_progress_agent", "agent_id"),
        Index("idx_progress_level", "curriculum_level_id"),
        Index("idx_progress_status", "status"),
    )

    id: Mapped[str] = id_column()
    agent_id: Mapped[str] = reference("university_agents.id", ondelete="CASCADE")
    curriculum_level_id: Mapped[str] = reference("curriculum_levels.id")

    current_challenge_index: Mapped[int] = integer_column(0)
    challenges_completed: Mapped[int] = integer_column(0)
    total_challenges: Mapped[int] = mapped_column(Integer, nullable=False)

    current_score: Mapped[float] = float_column(0.0)
    best_score: Mapped[float] = float_column(0.0)
    average_score: Mapped[float] = float_column(0.0)
    time_spent_minutes: Mapped[int] = integer_column(0)

    status: Mapped[str] = text_choice(50, "not_started")
    started_at: Mapped[datetime | None] = timestamp_column()
    completed_at: Mapped[datetime | None] = timestamp_column()
    last_activity_at: Mapped[datetime] = last_activity_at_column()

    challenge_results: Mapped[list[dict[str, Any]]] = json_column([])

    agent: Mapped[UniversityAgent] = relationship(back_populates="progress_records")
    level: Mapped[CurriculumLevel] = relationship(back_populates="progress_records")
