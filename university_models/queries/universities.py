"""Universities and their headline numbers."""

from __future__ import annotations

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
