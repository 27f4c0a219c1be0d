"""Agents: the filterable table of the Agents page and one agent's profile.

Every function is scoped to one university: an agent id from another
university finds nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from sqlalchemy import ScalarSelect, Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from university_models.models import (
    AgentProgress,
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    CurriculumLevel,
    CurriculumPath,
    ImprovementProposal,
    TrainingDataCollection,
    UniversityAgent,
)
from university_models.services.agents import agent_version

log = logging.getLogger(__name__)

#: The most rows a table on screen shows at once; paging fetches the rest.
PAGE_SIZE = 50

AGENT_COLUMNS = [
    "id",
    "name",
    "agent_type",
    "specialization",
    "status",
    "competency_score",
    "curriculum_path",
    "level_number",
    "competition_wins",
    "competition_draws",
    "competition_losses",
    "average_score",
    "training_data_collected",
    "last_competed_at",
    "created_at",
]


def _agent_filters(
    university_id: str,
    *,
    agent_type: str | None,
    status: str | None,
    specialization: str | None,
    name_contains: str | None,
) -> list[Any]:
    conditions: list[Any] = [UniversityAgent.university_id == university_id]
    if agent_type:
        conditions.append(UniversityAgent.agent_type == agent_type)
    if status:
        conditions.append(UniversityAgent.status == status)
    if specialization:
        conditions.append(UniversityAgent.specialization == specialization)
    if name_contains and name_contains.strip():
        # Case-insensitive on both engines; % and _ typed by a person are
        # literal characters, not wildcards.
        conditions.append(
            func.lower(UniversityAgent.name).contains(
                name_contains.strip().lower(), autoescape=True
            )
        )
    return conditions


def list_agents(
    session: Session,
    university_id: str,
    *,
    agent_type: str | None = None,
    status: str | None = None,
    specialization: str | None = None,
    name_contains: str | None = None,
    limit: int = PAGE_SIZE,
    offset: int = 0,
) -> pd.DataFrame:
    """One page of the university's agents matching the filters, by name
    ignoring case (the same order on both engines, whatever the collation).

    A filter left as None (or an empty search) does not filter. The name
    search is a case-insensitive substring match.
    """
    conditions = _agent_filters(
        university_id,
        agent_type=agent_type,
        status=status,
        specialization=specialization,
        name_contains=name_contains,
    )
    rows = session.execute(
        select(
            UniversityAgent.id,
            UniversityAgent.name,
            UniversityAgent.agent_type,
            UniversityAgent.specialization,
            UniversityAgent.status,
            UniversityAgent.competency_score,
            CurriculumPath.name,
            CurriculumLevel.level_number,
            UniversityAgent.competition_wins,
            UniversityAgent.competition_draws,
            UniversityAgent.competition_losses,
            UniversityAgent.average_score,
            UniversityAgent.training_data_collected,
            UniversityAgent.last_competed_at,
            UniversityAgent.created_at,
        )
        .outerjoin(
            CurriculumPath,
            CurriculumPath.id == UniversityAgent.current_curriculum_path_id,
        )
        .outerjoin(
            CurriculumLevel,
            CurriculumLevel.id == UniversityAgent.current_curriculum_level_id,
        )
        .where(*conditions)
        .order_by(
            func.lower(UniversityAgent.name), UniversityAgent.name, UniversityAgent.id
        )
        .limit(limit)
        .offset(offset)
    ).all()
    return pd.DataFrame(rows, columns=AGENT_COLUMNS)


def count_agents(
    session: Session,
    university_id: str,
    *,
    agent_type: str | None = None,
    status: str | None = None,
    specialization: str | None = None,
    name_contains: str | None = None,
) -> int:
    """How many of the university's agents match the filters (for paging)."""
    conditions = _agent_filters(
        university_id,
        agent_type=agent_type,
        status=status,
        specialization=specialization,
        name_contains=name_contains,
    )
    return int(
        session.scalar(
            select(func.count()).select_from(UniversityAgent).where(*conditions)
        )
    )


def agent_specializations(session: Session, university_id: str) -> list[str]:
    """The distinct specializations in use in the university, sorted, for the
    filter's choices."""
    return list(
        session.scalars(
            select(UniversityAgent.specialization)
            .where(
                UniversityAgent.university_id == university_id,
                UniversityAgent.specialization.is_not(None),
            )
            .distinct()
            .order_by(UniversityAgent.specialization)
        )
    )


def agent_choices(
    session: Session, university_id: str, *, include_archived: bool = False
) -> pd.DataFrame:
    """The university's agents as ``id, name, agent_type, status`` for pickers
    (participants, profile selector), by name. Archived agents are left out
    unless asked for: nothing new can involve them."""
    query = select(
        UniversityAgent.id,
        UniversityAgent.name,
        UniversityAgent.agent_type,
        UniversityAgent.status,
    ).where(UniversityAgent.university_id == university_id)
    if not include_archived:
        query = query.where(UniversityAgent.status != "archived")
    rows = session.execute(
        query.order_by(
            func.lower(UniversityAgent.name), UniversityAgent.name, UniversityAgent.id
        )
    )
    return pd.DataFrame(rows.all(), columns=["id", "name", "agent_type", "status"])


def curriculum_path_choices(session: Session, university_id: str) -> pd.DataFrame:
    """The university's active curriculum paths an agent can be enrolled in,
    with their number of levels, by name."""
    levels = (
        select(
            CurriculumLevel.curriculum_path_id.label("path_id"),
            func.count().label("levels"),
        )
        .group_by(CurriculumLevel.curriculum_path_id)
        .subquery()
    )
    rows = session.execute(
        select(
            CurriculumPath.id,
            CurriculumPath.name,
            CurriculumPath.difficulty_level,
            func.coalesce(levels.c.levels, 0),
        )
        .outerjoin(levels, levels.c.path_id == CurriculumPath.id)
        .where(
            CurriculumPath.university_id == university_id,
            CurriculumPath.status == "active",
        )
        .order_by(CurriculumPath.name, CurriculumPath.id)
    ).all()
    return pd.DataFrame(rows, columns=["id", "name", "difficulty_level", "levels"])


def agent_profile(
    session: Session, university_id: str, agent_id: str
) -> dict[str, Any] | None:
    """The agent's own row with its current path and level names,
    ``scored_matches``, how many completed matches gave it a score, and
    ``version``, the ``agent_version`` its Settings form passes back, as a
    dict; None when the agent is not in this university."""
    mine = select(CompetitionParticipant.id).where(
        CompetitionParticipant.agent_id == agent_id
    )

    def scored_as(side, score) -> ScalarSelect:
        return (
            select(func.count())
            .where(
                CompetitionMatch.status == "completed",
                side.in_(mine),
                score.is_not(None),
            )
            .scalar_subquery()
        )

    # One count per side, added: an agent is one participant of a
    # competition, so it never holds both sides of a match, and each count
    # reads the index of its side instead of a scan for "either side".
    scored = scored_as(
        CompetitionMatch.participant1_id, CompetitionMatch.participant1_score
    ) + scored_as(CompetitionMatch.participant2_id, CompetitionMatch.participant2_score)
    row = (
        session.execute(
            select(
                UniversityAgent.id,
                UniversityAgent.name,
                UniversityAgent.description,
                UniversityAgent.agent_type,
                UniversityAgent.specialization,
                UniversityAgent.status,
                UniversityAgent.configuration,
                UniversityAgent.competency_score,
                UniversityAgent.training_hours,
                UniversityAgent.training_data_collected,
                UniversityAgent.competition_wins,
                UniversityAgent.competition_draws,
                UniversityAgent.competition_losses,
                scored.label("scored_matches"),
                UniversityAgent.average_score,
                UniversityAgent.highest_score,
                UniversityAgent.current_challenge_index,
                UniversityAgent.created_at,
                UniversityAgent.last_trained_at,
                UniversityAgent.last_competed_at,
                UniversityAgent.current_curriculum_path_id.label("curriculum_path_id"),
                CurriculumPath.name.label("curriculum_path"),
                CurriculumLevel.level_number,
                CurriculumLevel.name.label("level_name"),
            )
            .outerjoin(
                CurriculumPath,
                CurriculumPath.id == UniversityAgent.current_curriculum_path_id,
            )
            .outerjoin(
                CurriculumLevel,
                CurriculumLevel.id == UniversityAgent.current_curriculum_level_id,
            )
            .where(
                UniversityAgent.university_id == university_id,
                UniversityAgent.id == agent_id,
            )
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        return None
    return {**row, "version": agent_version(row)}


def agent_level_progress(
    session: Session, university_id: str, agent_id: str
) -> pd.DataFrame:
    """Every level the agent has a progress record on, by path and level
    number: status, best score against the passing score, challenges done
    and time spent."""
    rows = session.execute(
        select(
            CurriculumPath.name,
            CurriculumLevel.level_number,
            CurriculumLevel.name,
            AgentProgress.status,
            AgentProgress.best_score,
            CurriculumLevel.passing_score,
            AgentProgress.challenges_completed,
            AgentProgress.total_challenges,
            AgentProgress.time_spent_minutes,
            AgentProgress.started_at,
            AgentProgress.completed_at,
        )
        .join(CurriculumLevel, CurriculumLevel.id == AgentProgress.curriculum_level_id)
        .join(CurriculumPath, CurriculumPath.id == CurriculumLevel.curriculum_path_id)
        .join(UniversityAgent, UniversityAgent.id == AgentProgress.agent_id)
        .where(
            UniversityAgent.university_id == university_id,
            AgentProgress.agent_id == agent_id,
        )
        .order_by(CurriculumPath.name, CurriculumLevel.level_number)
    ).all()
    return pd.DataFrame(
        rows,
        columns=[
            "curriculum_path",
            "level_number",
            "level_name",
            "status",
            "best_score",
            "passing_score",
            "challenges_completed",
            "total_challenges",
            "time_spent_minutes",
            "started_at",
            "completed_at",
        ],
    )


def agent_training_summary(
    session: Session, university_id: str, agent_id: str
) -> pd.DataFrame:
    """The volume and quality of the agent's training data: one row per data
    type and validation status with the record count and the mean and lowest
    quality score."""
    rows = session.execute(
        select(
            TrainingDataCollection.data_type,
            TrainingDataCollection.validation_status,
            func.count(),
            func.avg(TrainingDataCollection.quality_score),
            func.min(TrainingDataCollection.quality_score),
        )
        .where(
            TrainingDataCollection.university_id == university_id,
            TrainingDataCollection.agent_id == agent_id,
        )
        .group_by(
            TrainingDataCollection.data_type, TrainingDataCollection.validation_status
        )
        .order_by(
            TrainingDataCollection.data_type, TrainingDataCollection.validation_status
        )
    ).all()
    frame = pd.DataFrame(
        rows,
        columns=[
            "data_type",
            "validation_status",
            "records",
            "mean_quality",
            "lowest_quality",
        ],
    )
    frame["mean_quality"] = frame["mean_quality"].astype(float)
    return frame


def agent_proposals(
    session: Session, university_id: str, agent_id: str, *, limit: int = PAGE_SIZE
) -> pd.DataFrame:
    """The proposals drawn from the agent's training records, newest first."""
    rows = session.execute(
        select(
            ImprovementProposal.id,
            ImprovementProposal.title,
            ImprovementProposal.validation_status,
            ImprovementProposal.implementation_status,
            ImprovementProposal.expected_improvement,
            TrainingDataCollection.data_type,
            ImprovementProposal.created_at,
        )
        .join(
            TrainingDataCollection,
            TrainingDataCollection.id == ImprovementProposal.source_data_collection_id,
        )
        .where(
            ImprovementProposal.university_id == university_id,
            TrainingDataCollection.agent_id == agent_id,
        )
        .order_by(ImprovementProposal.created_at.desc(), ImprovementProposal.id)
        .limit(limit)
    ).all()
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "title",
            "validation_status",
            "implementation_status",
            "expected_improvement",
            "source_data_type",
            "created_at",
        ],
    )


def agent_recent_matches(
    session: Session, university_id: str, agent_id: str, *, limit: int = 20
) -> pd.DataFrame:
    """The agent's latest completed matches, newest first: competition,
    opponent (empty for solo), own and opponent score, and the outcome
    (``win``, ``loss``, ``draw`` or ``solo``)."""
    me = aliased(CompetitionParticipant)
    other = aliased(CompetitionParticipant)
    opponent = aliased(UniversityAgent)
    i_am_first = CompetitionMatch.participant1_id == me.id
    query: Select = (
        select(
            Competition.name,
            CompetitionMatch.match_number,
            opponent.name,
            CompetitionMatch.participant1_score,
            CompetitionMatch.participant2_score,
            i_am_first,
            CompetitionMatch.participant2_id.is_(None),
            CompetitionMatch.winner_participant_id == me.id,
            CompetitionMatch.winner_participant_id.is_(None),
            CompetitionMatch.completed_at,
        )
        .select_from(CompetitionMatch)
        .join(Competition, Competition.id == CompetitionMatch.competition_id)
        .join(
            me,
            or_(
                CompetitionMatch.participant1_id == me.id,
                CompetitionMatch.participant2_id == me.id,
            ),
        )
        .outerjoin(
            other,
            and_(
                other.id != me.id,
                or_(
                    CompetitionMatch.participant1_id == other.id,
                    CompetitionMatch.participant2_id == other.id,
                ),
            ),
        )
        .outerjoin(opponent, opponent.id == other.agent_id)
        .where(
            Competition.university_id == university_id,
            me.agent_id == agent_id,
            CompetitionMatch.status == "completed",
        )
        .order_by(CompetitionMatch.completed_at.desc(), CompetitionMatch.id)
        .limit(limit)
    )
    records = []
    for row in session.execute(query):
        name, number, opponent_name, score1, score2 = row[:5]
        first, solo, won, no_winner, completed_at = row[5:]
        own, theirs = (score1, score2) if first else (score2, score1)
        if solo:
            outcome = "solo"
        elif won:
            outcome = "win"
        elif no_winner:
            outcome = "draw"
        else:
            outcome = "loss"
        records.append(
            (name, number, opponent_name, own, theirs, outcome, completed_at)
        )
    return pd.DataFrame(
        records,
        columns=[
            "competition",
            "match_number",
            "opponent",
            "own_score",
            "opponent_score",
            "outcome",
            "completed_at",
        ],
    )


def agent_curriculum_position(
    session: Session, university_id: str, agent_id: str
) -> dict[str, Any] | None:
    """Where the agent stands in its curriculum (the curriculum service's
    ``agent_position``: path, level, status, attempt, challenges and the
    reason it is stuck, if any); None when the agent is not in this
    university."""
    from university_models.services.curriculum import agent_position

    in_university = session.scalar(
        select(UniversityAgent.id).where(
            UniversityAgent.university_id == university_id,
            UniversityAgent.id == agent_id,
        )
    )
    if in_university is None:
        return None
    return agent_position(session, agent_id)
