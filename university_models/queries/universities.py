"""Universities and their headline numbers."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from university_models.models import University, UniversityAgent, User
from university_models.services.universities import university_version

UNIVERSITY_COLUMNS = [
    "id",
    "name",
    "status",
    "owner",
    "agents",
    "max_agents",
    "max_concurrent_competitions",
    "storage_quota_mb",
    "last_activity_at",
]


#: How many universities the selector lists; a university past it is still
#: opened by its link (``?university=<id>``).
UNIVERSITY_LIST_LIMIT = 500


def list_universities(
    session: Session,
    *,
    limit: int = UNIVERSITY_LIST_LIMIT,
    ids: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Every university (up to ``limit``, or only those in ``ids``) with its
    owner and agent count, by name. The only query not scoped to one
    university: it is the list the selector chooses from."""
    agents = (
        select(UniversityAgent.university_id, func.count().label("agents"))
        .where(UniversityAgent.status != "archived")
        .group_by(UniversityAgent.university_id)
        .subquery()
    )
    query = (
        select(
            University.id,
            University.name,
            University.status,
            User.email.label("owner"),
            func.coalesce(agents.c.agents, 0).label("agents"),
            University.max_agents,
            University.max_concurrent_competitions,
            University.storage_quota_mb,
            University.last_activity_at,
        )
        .join(User, User.id == University.owner_user_id)
        .outerjoin(agents, agents.c.university_id == University.id)
        .order_by(University.name, University.id)
        .limit(limit)
    )
    if ids is not None:
        query = query.where(University.id.in_(ids))
    return pd.DataFrame(session.execute(query).all(), columns=UNIVERSITY_COLUMNS)


def count_universities(session: Session) -> int:
    """How many universities there are, for saying when the list is cut."""
    return session.scalar(select(func.count()).select_from(University))


def last_activity(session: Session, university_id: str) -> datetime | None:
    """The university's ``last_activity_at``: every write to a university
    moves it, so it tells whether something prepared earlier (a CSV file, a
    rating) is still current. None when no university has that id."""
    return session.scalar(
        select(University.last_activity_at).where(University.id == university_id)
    )


def university_settings(session: Session, university_id: str) -> dict | None:
    """One university's editable fields (name, description, isolation level,
    quotas, retention period, status and the whole ``settings`` document) as
    a dict, with ``version``, the ``university_version`` the edit form
    passes back; None when no university has that id."""
    university = session.get(University, university_id)
    if university is None:
        return None
    return {
        "id": university.id,
        "name": university.name,
        "description": university.description,
        "status": university.status,
        "isolation_level": university.isolation_level,
        "max_agents": university.max_agents,
        "max_concurrent_competitions": university.max_concurrent_competitions,
        "storage_quota_mb": university.storage_quota_mb,
        "data_retention_days": university.data_retention_days,
        # Plain dicts and lists, not the ORM's change-tracking wrappers.
        "settings": json.loads(json.dumps(university.settings or {})),
        "last_activity_at": university.last_activity_at,
        "version": university_version(university),
    }
