"""Curriculum authoring: creating paths and adding levels the way people and
scripts do it, by name, from the Curriculum page and the ``curriculum``
command.

The curriculum service (``services/curriculum.py``) owns every rule of a
path and a level; this module adds the one rule that authoring by name
needs on top of it (see docs/domain.md, "Curriculum", *Authoring*):

* a path's name is unique in its university and a level's name is unique in
  its path, in any case and ignoring surrounding spaces, because the
  command finds a path by its name and people tell levels apart by theirs.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from university_models.errors import Conflict, NotFound
from university_models.models import CurriculumLevel, CurriculumPath
from university_models.services import curriculum
from university_models.services.universities import lock_university_for_write

log = logging.getLogger(__name__)

# TODO: the unique-name rule belongs in services/curriculum.py itself, so
# that the demo and other direct callers of create_path/add_level obey it
# too; it lives here because that file was being changed by another
# engineer while this was built.


def _folded(name: Any) -> str | None:
    # Only a text can collide; anything else is refused by the service with
    # its own message.
    return name.strip().lower() if isinstance(name, str) else None


def create_path(
    session: Session, university_id: str, *, name: str, **fields: Any
) -> CurriculumPath:
    """Create a path with ``curriculum.create_path`` (same keyword fields).

    Rule: refused (``Conflict``) when the university already has a path of
    that name (any case, trimmed); checked under the university lock, so
    two people creating the same name at once cannot both succeed."""
    lock_university_for_write(session, university_id)

    wanted = _folded(name)
    taken = session.scalar(
        select(CurriculumPath.name).where(
            CurriculumPath.university_id == university_id,
            func.lower(CurriculumPath.name) == wanted,
        )
    )
    if wanted and taken is not None:
        raise Conflict(
            f"This university already has a path named {taken!r}: give the new "
            "path another name, or add levels to that one."
        )

    return curriculum.create_path(session, university_id, name=name, **fields)


def add_level(
    session: Session, path_id: str, *, name: str, **fields: Any
) -> CurriculumLevel:
    """Append a level with ``curriculum.add_level`` (same keyword fields).

    Rule: refused (``Conflict``) when the path already has a level of that
    name (any case, trimmed), naming that level's number; checked under the
    university lock."""
    path = session.get(CurriculumPath, path_id)
    if path is None:
        raise NotFound(f"No curriculum path has the id {path_id!r}.")
    lock_university_for_write(session, path.university_id)

    wanted = _folded(name)
    taken = session.execute(
        select(CurriculumLevel.level_number, CurriculumLevel.name).where(
            CurriculumLevel.curriculum_path_id == path_id,
            func.lower(CurriculumLevel.name) == wanted,
        )
    ).first()
    if wanted and taken is not None:
        raise Conflict(
            f"Path {path.name!r} already has level {taken[0]} named {taken[1]!r}: "
            "give the new level another name."
        )

    return curriculum.add_level(session, path_id, name=name, **fields)
