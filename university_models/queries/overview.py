"""The Overview page: headline numbers with their change over seven days,
the activity timeline and quota usage of one university.

Rule (the schema keeps no history of statuses): a number "seven days ago"
is rebuilt from the timestamps the rows carry, and only where they are
enough to rebuild it honestly:

* agents: those created by then and not archived now (an agent archived
  since is not counted then either: archiving keeps no date);
* active competitions: started by then (``actual_start``) and not ended by
  then (``actual_end``);
* pending proposals: created by then and not decided by then
  (``validated_at``);
* validated share: of the records collected by then, those validated (or
  anonymized) by then (``validated_at``);
* mean competency: the competency formula of ``competency_from_progress``
  over the levels completed by then (``completed_at``), averaged over the
  agents that existed then.

Agents by status have no history, so they are shown without a delta.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from university_models.db import utcnow
from university_models.errors import NotFound
from university_models.models import (
    AGENT_STATUSES,
    AgentProgress,
    Competition,
    CompetitionMatch,
    CurriculumLevel,
    ImprovementProposal,
    TrainingDataCollection,
    University,
    UniversityAgent,
)
from university_models.queries.time_buckets import all_days, day_bucket
from university_models.services.universities import storage_used_bytes

log = logging.getLogger(__name__)

#: How far back the deltas of the Overview look.
DELTA_DAYS = 7

#: Validation statuses that count as "validated" in the validated share: an
#: anonymized record was reviewed and kept, with personal data replaced.
VALIDATED_STATUSES = ("validated", "anonymized")


@dataclass(frozen=True)
class Metric:
    """One headline number now and ``DELTA_DAYS`` ago (``None`` when the
    past value cannot be rebuilt)."""

    value: float
    previous: float | None

    @property
    def delta(self) -> float | None:
        return None if self.previous is None else self.value - self.previous


def _university(session: Session, university_id: str) -> University:
    university = session.get(University, university_id)
    if university is None:
        raise NotFound(f"No university has the id {university_id!r}.")
    return university


def agents_by_status(session: Session, university_id: str) -> pd.DataFrame:
    """The number of agents in each status (every status listed, zeros
    included), in the schema's order."""
    counts = dict(
        session.execute(
            select(UniversityAgent.status, func.count())
            .where(UniversityAgent.university_id == university_id)
            .group_by(UniversityAgent.status)
        ).all()
    )
    return pd.DataFrame(
        {
            "status": list(AGENT_STATUSES),
            "agents": [int(counts.get(status, 0)) for status in AGENT_STATUSES],
        }
    )


def _agents_at(session: Session, university_id: str, moment: datetime) -> int:
    return session.scalar(
        select(func.count()).where(
            UniversityAgent.university_id == university_id,
            UniversityAgent.status != "archived",
            UniversityAgent.created_at <= moment,
        )
    )


def _active_competitions_at(
    session: Session, university_id: str, moment: datetime | None
) -> int:
    if moment is None:
        condition = Competition.status == "active"
    else:
        condition = and_(
            Competition.actual_start <= moment,
            Competition.status != "cancelled",
            or_(Competition.actual_end.is_(None), Competition.actual_end > moment),
        )
    return session.scalar(
        select(func.count()).where(
            Competition.university_id == university_id, condition
        )
    )


def _pending_proposals_at(
    session: Session, university_id: str, moment: datetime | None
) -> int:
    if moment is None:
        condition = ImprovementProposal.validation_status == "pending"
    else:
        condition = and_(
            ImprovementProposal.created_at <= moment,
            or_(
                ImprovementProposal.validated_at.is_(None),
                ImprovementProposal.validated_at > moment,
            ),
        )
    return session.scalar(
        select(func.count()).where(
            ImprovementProposal.university_id == university_id, condition
        )
    )


def _validated_share_at(
    session: Session, university_id: str, moment: datetime | None
) -> float | None:
    record = TrainingDataCollection
    if moment is None:
        validated = record.validation_status.in_(VALIDATED_STATUSES)
        scope = record.university_id == university_id
    else:
        validated = and_(
            record.validation_status.in_(VALIDATED_STATUSES),
            record.validated_at <= moment,
        )
        scope = and_(
            record.university_id == university_id, record.collected_at <= moment
        )
    total, kept = session.execute(
        select(func.count(), func.count().filter(validated)).where(scope)
    ).one()
    return None if not total else kept / total


def _mean_competency_at(
    session: Session, university_id: str, moment: datetime | None
) -> float | None:
    if moment is None:
        value = session.scalar(
            select(func.avg(UniversityAgent.competency_score)).where(
                UniversityAgent.university_id == university_id,
                UniversityAgent.status != "archived",
            )
        )
        return None if value is None else float(value)

    # The same weighted mean as competency_from_progress, restricted to the
    # levels completed by then; an agent with none scores 0.0 as it would.
    per_agent = (
        select(
            AgentProgress.agent_id.label("agent_id"),
            (
                func.sum(AgentProgress.average_score * CurriculumLevel.level_number)
                / func.sum(CurriculumLevel.level_number)
            ).label("competency"),
        )
        .join(CurriculumLevel, CurriculumLevel.id == AgentProgress.curriculum_level_id)
        .where(
            AgentProgress.status == "completed",
            AgentProgress.completed_at <= moment,
        )
        .group_by(AgentProgress.agent_id)
        .subquery()
    )
    value = session.scalar(
        select(func.avg(func.coalesce(per_agent.c.competency, 0.0)))
        .select_from(UniversityAgent)
        .outerjoin(per_agent, per_agent.c.agent_id == UniversityAgent.id)
        .where(
            UniversityAgent.university_id == university_id,
            UniversityAgent.status != "archived",
            UniversityAgent.created_at <= moment,
        )
    )
    return None if value is None else float(value)


def overview_metrics(
    session: Session, university_id: str, *, now: datetime | None = None
) -> dict[str, Metric]:
    """The Overview's headline numbers now and ``DELTA_DAYS`` days before
    ``now``: ``agents`` (not archived), ``active_competitions``,
    ``pending_proposals``, ``validated_share`` (0..1, ``nan`` without
    records) and ``mean_competency`` (0..1, ``nan`` without agents).

    Rules: see the module docstring for how the past values are rebuilt."""
    _university(session, university_id)
    now = now or utcnow()
    then = now - timedelta(days=DELTA_DAYS)

    agents_now = session.scalar(
        select(func.count()).where(
            UniversityAgent.university_id == university_id,
            UniversityAgent.status != "archived",
        )
    )

    def number(value: float | None) -> float:
        return float("nan") if value is None else float(value)

    share_now = _validated_share_at(session, university_id, None)
    share_then = _validated_share_at(session, university_id, then)
    competency_now = _mean_competency_at(session, university_id, None)
    competency_then = _mean_competency_at(session, university_id, then)
    return {
        "agents": Metric(agents_now, _agents_at(session, university_id, then)),
        "active_competitions": Metric(
            _active_competitions_at(session, university_id, None),
            _active_competitions_at(session, university_id, then),
        ),
        "pending_proposals": Metric(
            _pending_proposals_at(session, university_id, None),
            _pending_proposals_at(session, university_id, then),
        ),
        "validated_share": Metric(
            number(share_now), None if share_then is None else share_then
        ),
        "mean_competency": Metric(number(competency_now), competency_then),
    }


def activity_timeline(
    session: Session,
    university_id: str,
    *,
    days: int = 30,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Per UTC day of the last ``days`` days (today included): training
    records collected and matches completed, zeros on quiet days.

    Columns: day (``datetime.date``), training_records, matches_completed.
    Rule: counted in SQL, grouped by ``day_bucket``."""
    now = now or utcnow()
    last = now.date()
    first = last - timedelta(days=days - 1)
    since = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=days - 1
    )

    record_day = day_bucket(session, TrainingDataCollection.collected_at)
    records = dict(
        session.execute(
            select(record_day, func.count())
            .where(
                TrainingDataCollection.university_id == university_id,
                TrainingDataCollection.collected_at >= since,
            )
            .group_by(record_day)
        ).all()
    )
    match_day = day_bucket(session, CompetitionMatch.completed_at)
    matches = dict(
        session.execute(
            select(match_day, func.count())
            .join(Competition, Competition.id == CompetitionMatch.competition_id)
            .where(
                Competition.university_id == university_id,
                CompetitionMatch.status == "completed",
                CompetitionMatch.completed_at >= since,
            )
            .group_by(match_day)
        ).all()
    )

    timeline = pd.DataFrame({"day": all_days(first, last)})
    keys = timeline["day"].map(lambda d: d.isoformat())
    timeline["training_records"] = keys.map(lambda k: int(records.get(k, 0)))
    timeline["matches_completed"] = keys.map(lambda k: int(matches.get(k, 0)))
    return timeline


def quota_usage(session: Session, university_id: str) -> pd.DataFrame:
    """How much of each quota the university uses.

    One row per quota (agents, concurrent competitions, storage in MB) with
    used, limit and share (used / limit). Rules: agents count every agent
    but archived ones; concurrent competitions are the active ones;
    storage is the JSON text of the training records."""
    university = _university(session, university_id)
    agents = session.scalar(
        select(func.count()).where(
            UniversityAgent.university_id == university_id,
            UniversityAgent.status != "archived",
        )
    )
    competitions = _active_competitions_at(session, university_id, None)
    storage_mb = storage_used_bytes(session, university_id) / (1024 * 1024)

    usage = pd.DataFrame(
        {
            "quota": ["agents", "concurrent competitions", "storage (MB)"],
            "used": [float(agents), float(competitions), storage_mb],
            "limit": [
                float(university.max_agents),
                float(university.max_concurrent_competitions),
                float(university.storage_quota_mb),
            ],
        }
    )
    usage["share"] = usage["used"] / usage["limit"]
    return usage
