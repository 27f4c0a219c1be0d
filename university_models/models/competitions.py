"""Competitions, the agents taking part, and the matches between them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    CheckConstraint,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from university_models.db import Base
from university_models.models._columns import (
    boolean_column,
    created_at_column,
    dependents,
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
    from university_models.models.agents import UniversityAgent
    from university_models.models.tenancy import University

COMPETITION_TYPES = ("solo", "head_to_head", "tournament", "challenge")
COMPETITION_STATUSES = ("scheduled", "active", "completed", "cancelled")
PARTICIPANT_TYPES = ("competitor", "observer", "judge")
PARTICIPANT_STATUSES = ("registered", "active", "completed", "disqualified")
MATCH_STATUSES = ("scheduled", "active", "completed", "cancelled")


class Competition(Base):
    __tablename__ = "competitions"
    __table_args__ = (
        CheckConstraint(
            in_list("competition_type", COMPETITION_TYPES),
            name="competition_type_valid",
        ),
        CheckConstraint(in_list("status", COMPETITION_STATUSES), name="status_valid"),
        CheckConstraint("max_participants > 0", name="max_participants_positive"),
        Index("idx_competitions_university", "university_id"),
        Index("idx_competitions_status", "status"),
        Index("idx_competitions_schedule", "scheduled_start"),
    )

    id: Mapped[str] = id_column()
    university_id: Mapped[str] = reference("universities.id", ondelete="CASCADE")
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)

    competition_type: Mapped[str] = mapped_column(String(100), nullable=False)
    rules: Mapped[dict[str, Any]] = json_column()
    benchmark_id: Mapped[str | None] = mapped_column(String(255))
    evaluation_config: Mapped[dict[str, Any]] = json_column()

    scheduled_start: Mapped[datetime | None] = timestamp_column()
    scheduled_end: Mapped[datetime | None] = timestamp_column()
    actual_start: Mapped[datetime | None] = timestamp_column()
    actual_end: Mapped[datetime | None] = timestamp_column()

    status: Mapped[str] = text_choice(50, "scheduled")
    max_participants: Mapped[int] = integer_column(10)

    winner_agent_id: Mapped[str | None] = reference(
        "university_agents.id", nullable=True
    )
    results_published: Mapped[bool] = boolean_column()

    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    university: Mapped[University] = relationship(back_populates="competitions")
    winner: Mapped[UniversityAgent | None] = relationship(
        back_populates="competitions_won"
    )
    participants: Mapped[list[CompetitionParticipant]] = dependents("competition")
    matches: Mapped[list[CompetitionMatch]] = dependents(
        "competition", order_by="CompetitionMatch.match_number"
    )


class CompetitionParticipant(Base):
    __tablename__ = "competition_participants"
    __table_args__ = (
        CheckConstraint(
            in_list("participant_type", PARTICIPANT_TYPES),
            name="participant_type_valid",
        ),
        CheckConstraint(in_list("status", PARTICIPANT_STATUSES), name="status_valid"),
        UniqueConstraint("competition_id", "agent_id"),
        Index("idx_participants_competition", "competition_id"),
        Index("idx_participants_agent", "agent_id"),
    )

    id: Mapped[str] = id_column()
    competition_id: Mapped[str] = reference("competitions.id", ondelete="CASCADE")
    agent_id: Mapped[str] = reference("university_agents.id", ondelete="CASCADE")

    participant_type: Mapped[str] = text_choice(50, "competitor")
    seed_ranking: Mapped[int | None] = mapped_column(Integer)

    final_score: Mapped[float | None] = mapped_column(Float)
    ranking: Mapped[int | None] = mapped_column(Integer)
    execution_time_ms: Mapped[int | None] = mapped_column(Integer)

    status: Mapped[str] = text_choice(50, "registered")
    joined_at: Mapped[datetime] = created_at_column()
    completed_at: Mapped[datetime | None] = timestamp_column()

    competition: Mapped[Competition] = relationship(back_populates="participants")
    agent: Mapped[UniversityAgent] = relationship(back_populates="participations")
    # A participant plays a match on either side, two foreign keys: one
    # collection over both can only be read, so it is view-only (it shows
    # what was loaded, not matches added in this session before a flush).
    # Deleting a participant that played is refused by the database.
    matches: Mapped[list[CompetitionMatch]] = relationship(
        primaryjoin="or_("
        "CompetitionParticipant.id == foreign(CompetitionMatch.participant1_id), "
        "CompetitionParticipant.id == foreign(CompetitionMatch.participant2_id))",
        viewonly=True,
        order_by="CompetitionMatch.match_number",
    )
    # No ON DELETE: a participant that won a match cannot be deleted.
    matches_won: Mapped[list[CompetitionMatch]] = dependents(
        "winner", foreign_keys="CompetitionMatch.winner_participant_id"
    )


class CompetitionMatch(Base):
    __tablename__ = "competition_matches"
    __table_args__ = (
        CheckConstraint(in_list("status", MATCH_STATUSES), name="status_valid"),
        Index("idx_matches_competition", "competition_id"),
        Index("idx_matches_participants", "participant1_id", "participant2_id"),
        # Not in the spec: finds a participant's matches as the second side
        # (agent counters, standings) without scanning every match.
        Index("idx_matches_participant2", "participant2_id"),
        Index("idx_matches_status", "status"),
        # Not in the spec (migration 0004): a competition's completed matches
        # by completion time, read without the table by the Overview's
        # matches-completed timeline.
        Index("idx_matches_completed", "competition_id", "status", "completed_at"),
    )

    id: Mapped[str] = id_column()
    competition_id: Mapped[str] = reference("competitions.id", ondelete="CASCADE")
    match_number: Mapped[int] = mapped_column(Integer, nullable=False)

    participant1_id: Mapped[str] = reference("competition_participants.id")
    participant2_id: Mapped[str | None] = reference(
        "competition_participants.id", nullable=True
    )

    match_config: Mapped[dict[str, Any]] = json_column()
    started_at: Mapped[datetime | None] = timestamp_column()
    completed_at: Mapped[datetime | None] = timestamp_column()

    participant1_score: Mapped[float | None] = mapped_column(Float)
    participant2_score: Mapped[float | None] = mapped_column(Float)
    winner_participant_id: Mapped[str | None] = reference(
        "competition_participants.id", nullable=True
    )

    status: Mapped[str] = text_choice(50, "scheduled")

    evaluation_run_id: Mapped[str | None] = mapped_column(String(255))
    detailed_results: Mapped[dict[str, Any] | None] = json_column(nullable=True)

    competition: Mapped[Competition] = relationship(back_populates="matches")
    participant1: Mapped[CompetitionParticipant] = relationship(
        foreign_keys=[participant1_id]
    )
    participant2: Mapped[CompetitionParticipant | None] = relationship(
        foreign_keys=[participant2_id]
    )
    winner: Mapped[CompetitionParticipant | None] = relationship(
        foreign_keys=[winner_participant_id], back_populates="matches_won"
    )

    #: Not stored: the later matches whose results (or play) the
    #: ``record_match_result`` that returned this object discarded, as
    #: ``services.competitions.ReopenedMatch``. The class holds the empty
    #: default; that call sets it on the one object it returns.
    reopened: ClassVar[tuple[Any, ...]] = ()
