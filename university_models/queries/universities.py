"""Universities and their headline numbers."""

from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from university_models.models import University, UniversityAgent, User

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


def list_universities(session: Session, *, limit: int = 500) -> pd.DataFrame:
    """Every university (up to ``limit``) with its owner and agent count,
    by name. The only query not scoped to one university: it is the list
    the selector chooses from."""
    agents = (
        select(UniversityAgent.university_id, func.count().label("agents"))
        .where(UniversityAgent.status != "archived")
        .group_by(UniversityAgent.university_id)
        .subquery()
    )
    rows = session.execute(
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
    ).all()
    return pd.DataFrame(rows, columns=UNIVERSITY_COLUMNS)


# part 2: the Universities page's settings form reads one university's
# editable fields.
def university_settings(session: Session, university_id: str) -> dict | None:
    """One university's editable fields (name, description, isolation level,
    quotas, retention period, status and the whole ``settings`` document) as
    a dict; None when no university has that id."""
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
    }
