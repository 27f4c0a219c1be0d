"""Agents: creation, status, and the counters derived from their records."""

from __future__ import annotations

import logging

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from university_models.models import (
    AgentProgress,
    CompetitionMatch,
    CompetitionParticipant,
    CurriculumLevel,
    TrainingDataCollection,
    UniversityAgent,
)

log = logging.getLogger(__name__)


def competency_from_progress(session: Session, agent_id: str) -> float:
    """The agent's competency in [0, 1].

    Rule: the mean of the best scores of the agent's completed levels,
    weighted by level number (a level-3 result counts three times a level-1
    result), over every path; 0.0 when no level is completed. Deterministic
    and recomputed from the progress records alone.
    """
    weighted, weights = session.execute(
        select(
            func.sum(AgentProgress.best_score * CurriculumLevel.level_number),
            func.sum(CurriculumLevel.level_number),
        )
        .join(CurriculumLevel, CurriculumLevel.id == AgentProgress.curriculum_level_id)
        .where(AgentProgress.agent_id == agent_id, AgentProgress.status == "completed")
    ).one()
    if not weights:
        return 0.0
    return min(1.0, max(0.0, float(weighted) / float(weights)))


def refresh_agent_counters(session: Session, agent_id: str) -> UniversityAgent:
    """Recompute every derived counter of one agent from its records.

    Rule: the counters on ``university_agents`` are never incremented; they
    are recomputed here from the matches, progress and training records, so
    that a corrected result corrects them too. Call it after any change to
    those records.

    * wins, losses and draws: completed matches with two participants; a
      draw is a completed pairwise match without a winner. Solo matches have
      no opponent and count in neither.
    * ``average_score`` and ``highest_score``: the agent's own score over all
      of its completed, scored matches (0.0 when it has none).
    * ``last_competed_at``: the latest ``completed_at`` of those matches.
    * ``training_data_collected``: the number of its training records.
    * ``training_hours``: the minutes spent on curriculum levels, in hours.
    * ``last_trained_at``: the latest activity on a level it has started.
    * ``competency_score``: ``competency_from_progress``.
    """
    session.flush()
    agent = session.get(UniversityAgent, agent_id)
    if agent is None:
        return None

    mine = aliased(CompetitionParticipant)
    own_score = case(
        (
            CompetitionMatch.participant1_id == mine.id,
            CompetitionMatch.participant1_score,
        ),
        else_=CompetitionMatch.participant2_score,
    )
    pairwise = CompetitionMatch.participant2_id.is_not(None)
    row = session.execute(
        select(
            func.count().filter(
                and_(pairwise, CompetitionMatch.winner_participant_id == mine.id)
            ),
            func.count().filter(
                and_(
                    pairwise,
                    CompetitionMatch.winner_participant_id.is_not(None),
                    CompetitionMatch.winner_participant_id != mine.id,
                )
            ),
            func.count().filter(
                and_(pairwise, CompetitionMatch.winner_participant_id.is_(None))
            ),
            func.avg(own_score),
            func.max(own_score),
            func.max(CompetitionMatch.completed_at),
        )
        .select_from(CompetitionMatch)
        .join(
            mine,
            or_(
                CompetitionMatch.participant1_id == mine.id,
                CompetitionMatch.participant2_id == mine.id,
            ),
        )
        .where(mine.agent_id == agent_id, CompetitionMatch.status == "completed")
    ).one()
    wins, losses, draws, average, highest, last_competed = row
    agent.competition_wins = wins
    agent.competition_losses = losses
    agent.competition_draws = draws
    agent.average_score = float(average or 0.0)
    agent.highest_score = float(highest or 0.0)
    agent.last_competed_at = last_competed

    agent.training_data_collected = session.scalar(
        select(func.count()).where(TrainingDataCollection.agent_id == agent_id)
    )

    minutes, last_trained = session.execute(
        select(
            func.sum(AgentProgress.time_spent_minutes),
            func.max(AgentProgress.last_activity_at).filter(
                AgentProgress.status != "not_started"
            ),
        ).where(AgentProgress.agent_id == agent_id)
    ).one()
    agent.training_hours = float(minutes or 0) / 60.0
    agent.last_trained_at = last_trained
    agent.competency_score = competency_from_progress(session, agent_id)

    log.debug("refreshed counters of agent %s", agent_id)
    return agent
