"""Universities: creation, settings, quotas and status."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from university_models.db import utcnow
from university_models.errors import InvalidTransition, NotFound
from university_models.models import University

log = logging.getLogger(__name__)


def get_university(session: Session, university_id: str) -> University:
    """The university with ``university_id``, or ``NotFound``."""
    university = session.get(University, university_id)
    if university is None:
        raise NotFound(f"No university has the id {university_id!r}.")
    return university


def lock_university_for_write(session: Session, university_id: str) -> University:
    """Lock a university for one write, check it accepts writes, and mark the
    activity.

    Rules: every write to a university goes through here first. The row lock
    (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write transactions
    already hold the database lock) serialises writers of one university, so
    a quota check and the insert it guards cannot interleave with another
    session's. A suspended or archived university refuses every write except
    changing its status back (``set_university_status`` does not call this).
    Every write updates ``last_activity_at``.
    """
    university = session.scalars(
        select(University)
        .where(University.id == university_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if university is None:
        raise NotFound(f"No university has the id {university_id!r}.")
    if university.status != "active":
        raise InvalidTransition(
            f"University {university.name!r} is {university.status}: it accepts no "
            "changes until an administrator sets it back to active."
        )
    university.last_activity_at = utcnow()
    return university
