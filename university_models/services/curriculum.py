"""Curriculum: paths, their numbered levels, enrolment, challenge results,
retries and the advancement of an agent from one level to the next.

The rules this module enforces are written down in ``docs/domain.md`` under
"Curriculum"; each public function's docstring names the ones it owns.

Words used below:

* an *attempt* is one go at a level; the first attempt is number 1 and each
  ``retry_level`` starts the next one. Every entry of
  ``agent_progress.challenge_results`` carries its attempt number, so the
  whole history stays in the list;
* the *current attempt* of a progress record is the latest attempt, or the
  next one when the latest has ended in failure and the level was retried;
* a level's *gates* are its ``required_competency_score`` and its
  ``prerequisite_level_ids``, checked when an agent arrives at the level.
"""

from __future__ import annotations

import logging
import math
import numbers
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from university_models.db import utcnow
from university_models.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
)
from university_models.models import (
    DIFFICULTY_LEVELS,
    PATH_STATUSES,
    AgentProgress,
    CurriculumLevel,
    CurriculumPath,
    UniversityAgent,
)
from university_models.services.agents import (
    competency_from_progress,
    refresh_agent_counters,
)
from university_models.services.training_data import CLOCK_SKEW
from university_models.services.universities import (
    clean_name,
    lock_university_for_write,
    refuse_control_characters,
    storable_json,
)
from university_models.services.validation import (
    INTEGER_MAX,
    shown_time,
    whole_number,
)
from university_models.wording import in_words

log = logging.getLogger(__name__)

#: Floating-point slack for "reaches": 0.7 + 0.7 + 0.7 over 3 is 0.6999...98
#: in binary floating point, and an agent that scored exactly the passing
#: score must pass.
SCORE_TOLERANCE = 1e-9

NAME_MAX_LENGTH = 255
VERSION_MAX_LENGTH = 20


# --------------------------------------------------------------------------
# Validation helpers: each refuses with a message naming the value.


def _name(value: Any, what: str) -> str:
    return clean_name(value, what=f"{what} name")


def _fraction(value: Any, what: str) -> float:
    """A number in [0, 1]; bools, NaN and infinities are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInput(f"The {what} {value!r} is not a number: give 0 to 1.")
    value = float(value)
    if not math.isfinite(value):
        raise InvalidInput(
            f"The {what} {value!r} is not a finite number: give a number from 0 to 1."
        )
    if not 0.0 <= value <= 1.0:
        raise InvalidInput(
            f"The {what} {value!r} is outside [0, 1]: give a number from 0 to 1."
        )
    return value


def _whole_number(value: Any, what: str, *, minimum: int) -> int:
    """Rule: a whole number from ``minimum`` to 2,147,483,647, the largest
    the database's INTEGER holds (``validation.whole_number``)."""
    return whole_number(value, what=what, minimum=minimum)


def _json_list(value: Any, what: str, *, allow_none: bool = True) -> list | None:
    """A list that JSON can store on every engine (PostgreSQL refuses NaN)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, list):
        raise InvalidInput(
            f"The {what} must be a JSON list, got {type(value).__name__} "
            f"{value!r}: give a list."
        )
    storable_json(value, what=what)
    return value


def _optional_text(value: Any, what: str) -> str | None:
    """Free text kept as written (a level's content may start with an
    indented block), refused unless text without control characters other
    than tabs and line breaks (NUL above all: PostgreSQL cannot store it)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"The {what} {value!r} is not a text: give a text.")
    return refuse_control_characters(value, what=f"The {what}", single_line=False)


def _tags(value: Any) -> list[str]:
    """Rule: a list of non-empty one-line texts (no control character),
    each trimmed."""
    tags = _json_list(value, "tags") or []
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise InvalidInput(f"The tag {tag!r} is not a non-empty text: fix it.")
        refuse_control_characters(tag.strip(), what="The tag", single_line=True)
    return [tag.strip() for tag in tags]


def _version(value: Any) -> str:
    """Rule: one line of 1 to 20 characters without control characters,
    trimmed."""
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value.strip()) > VERSION_MAX_LENGTH
    ):
        raise InvalidInput(
            f"The version {value!r} must be a text of 1 to "
            f"{VERSION_MAX_LENGTH} characters, such as '1.0.0'."
        )
    return refuse_control_characters(
        value.strip(), what="The version", single_line=True
    )


def _aware(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(f"The {what} {value!r} is not a date and time.")
    if value.tzinfo is None:
        raise InvalidInput(
            f"The {what} {shown_time(value)} has no time zone: give it in UTC."
        )
    return value.astimezone(UTC)


# --------------------------------------------------------------------------
# Loading rows. Every write loads its rows again after the university lock,
# so that it decides on what the other writers committed before it.


def _fresh(session: Session, model, row_id: str):
    return session.scalars(
        select(model)
        .where(model.id == row_id)
        .execution_options(populate_existing=True)
    ).one_or_none()


def _agent(session: Session, agent_id: str) -> UniversityAgent:
    agent = _fresh(session, UniversityAgent, agent_id)
    if agent is None:
        raise NotFound(f"No agent has the id {agent_id!r}.")
    return agent


def _path(session: Session, path_id: str) -> CurriculumPath:
    path = _fresh(session, CurriculumPath, path_id)
    if path is None:
        raise NotFound(f"No curriculum path has the id {path_id!r}.")
    return path


def _level(session: Session, level_id: str) -> CurriculumLevel:
    level = _fresh(session, CurriculumLevel, level_id)
    if level is None:
        raise NotFound(f"No curriculum level has the id {level_id!r}.")
    return level


def _progress(session: Session, agent_id: str, level_id: str) -> AgentProgress | None:
    return session.scalars(
        select(AgentProgress)
        .where(
            AgentProgress.agent_id == agent_id,
            AgentProgress.curriculum_level_id == level_id,
        )
        .execution_options(populate_existing=True)
    ).one_or_none()


def _level_at(session: Session, path_id: str, number: int) -> CurriculumLevel | None:
    return session.scalars(
        select(CurriculumLevel).where(
            CurriculumLevel.curriculum_path_id == path_id,
            CurriculumLevel.level_number == number,
        )
    ).one_or_none()


def _level_count(session: Session, path_id: str) -> int:
    return session.scalar(
        select(func.count()).where(CurriculumLevel.curriculum_path_id == path_id)
    )


def _describe_level(session: Session, level: CurriculumLevel) -> str:
    path = session.get(CurriculumPath, level.curriculum_path_id)
    return f"level {level.level_number} {level.name!r} of path {path.name!r}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lock_agent_for_write(session: Session, agent_id: str) -> UniversityAgent:
    """Lock the agent's university, then read the agent as committed."""
    agent = session.get(UniversityAgent, agent_id)
    if agent is None:
        raise NotFound(f"No agent has the id {agent_id!r}.")
    lock_university_for_write(session, agent.university_id)
    agent = _agent(session, agent_id)
    if agent.status == "archived":
        raise InvalidTransition(
            f"Agent {agent.name!r} is archived: restore it to a working status "
            "before it studies."
        )
    return agent


# --------------------------------------------------------------------------
# Paths and levels.


def _validate_path_prerequisites(
    session: Session, university_id: str, prerequisites: Any
) -> list[dict[str, Any]]:
    """Rule: path ``prerequisites`` is a JSON list whose items are either
    ``{"path_id": "<id>"}`` (that path of the same university must be
    completed: every one of its levels completed by the agent) or
    ``{"min_competency": x}`` with x in [0, 1] (the agent's competency,
    recomputed, must reach x). Any other shape is refused."""
    items = _json_list(prerequisites, "path prerequisites") or []
    cleaned: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict) or len(item) != 1:
            raise InvalidInput(
                f"The path prerequisite {item!r} is not understood: give "
                '{"path_id": "<id>"} or {"min_competency": 0.6}.'
            )
        if "path_id" in item:
            required_id = item["path_id"]
            required = (
                session.get(CurriculumPath, required_id)
                if isinstance(required_id, str)
                else None
            )
            if required is None or required.university_id != university_id:
                raise InvalidInput(
                    f"The prerequisite path {required_id!r} is not a path of this "
                    "university: pick one of its paths."
                )
            cleaned.append({"path_id": required_id})
        elif "min_competency" in item:
            minimum = _fraction(item["min_competency"], "minimum competency")
            cleaned.append({"min_competency": minimum})
        else:
            raise InvalidInput(
                f"The path prerequisite {item!r} is not understood: give "
                '{"path_id": "<id>"} or {"min_competency": 0.6}.'
            )
    return cleaned


def create_path(
    session: Session,
    university_id: str,
    *,
    name: str,
    description: str | None = None,
    difficulty_level: str = "beginner",
    estimated_duration_hours: int = 40,
    prerequisites: list[dict[str, Any]] | None = None,
    tags: list[str] | None = None,
    status: str = "active",
    version: str = "1.0.0",
    is_public: bool = False,
) -> CurriculumPath:
    """Create a curriculum path (without levels) in a university.

    Rules: the name is trimmed, non-empty, at most 255 characters; the
    difficulty is one of the spec's four; the estimated duration is a whole
    number of hours above 0; the status is ``active``, ``draft`` or
    ``archived``; the version is one line of 1 to 20 characters; tags are
    a list of non-empty one-line texts; the description is free text (tabs
    and line breaks are its only control characters: NUL and the others
    are refused); ``prerequisites`` follows the format of
    ``_validate_path_prerequisites`` and may only name paths of the same
    university; the name is unique in the university, in any case
    (``Conflict``), because people and the ``curriculum`` command find a path
    by its name.
    """
    lock_university_for_write(session, university_id)

    name = _name(name, "path")
    taken = session.scalar(
        select(CurriculumPath.name).where(
            CurriculumPath.university_id == university_id,
            func.lower(CurriculumPath.name) == name.lower(),
        )
    )
    if taken is not None:
        raise Conflict(
            f"This university already has a path named {taken!r}: give the new "
            "path another name, or add levels to that one."
        )
    if difficulty_level not in DIFFICULTY_LEVELS:
        raise InvalidInput(
            f"The difficulty {difficulty_level!r} is unknown: choose one of "
            f"{', '.join(DIFFICULTY_LEVELS)}."
        )
    hours = _whole_number(
        estimated_duration_hours, "estimated duration in hours", minimum=1
    )
    if status not in PATH_STATUSES:
        raise InvalidInput(
            f"The path status {status!r} is unknown: choose one of "
            f"{', '.join(PATH_STATUSES)}."
        )
    version = _version(version)
    if not isinstance(is_public, bool):
        raise InvalidInput(f"is_public {is_public!r} must be true or false.")
    cleaned = _validate_path_prerequisites(session, university_id, prerequisites)

    path = CurriculumPath(
        university_id=university_id,
        name=name,
        description=_optional_text(description, "description"),
        difficulty_level=difficulty_level,
        estimated_duration_hours=hours,
        prerequisites=cleaned,
        tags=_tags(tags),
        status=status,
        version=version,
        is_public=is_public,
    )
    session.add(path)
    session.flush()
    log.info("created curriculum path %s in university %s", path.id, university_id)
    return path


def _validate_challenges(challenges: Any) -> list:
    challenges = _json_list(challenges, "challenges", allow_none=False)
    if not challenges:
        raise InvalidInput(
            "The level has no challenges: give a non-empty list of challenges."
        )
    return challenges


def _validate_prerequisite_levels(
    session: Session, university_id: str, level_ids: Any
) -> list[str]:
    """Rule: ``prerequisite_level_ids`` is a list of distinct ids of levels
    that already exist in a path of the same university (any path)."""
    ids = _json_list(level_ids, "prerequisite level ids") or []
    seen: list[str] = []
    for level_id in ids:
        level = (
            session.get(CurriculumLevel, level_id)
            if isinstance(level_id, str)
            else None
        )
        path = session.get(CurriculumPath, level.curriculum_path_id) if level else None
        if path is None or path.university_id != university_id:
            raise InvalidInput(
                f"The prerequisite level {level_id!r} is not a level of this "
                "university: pick one of its levels."
            )
        if level_id in seen:
            raise InvalidInput(
                f"The prerequisite level {level_id!r} is listed twice: list it once."
            )
        seen.append(level_id)
    return seen


def add_level(
    session: Session,
    path_id: str,
    *,
    name: str,
    challenges: list[Any],
    learning_objectives: list[Any] | None = None,
    description: str | None = None,
    theoretical_content: str | None = None,
    practical_exercises: list[Any] | None = None,
    passing_score: float = 0.7,
    time_limit_minutes: int = 60,
    required_competency_score: float = 0.0,
    prerequisite_level_ids: list[str] | None = None,
    tags: list[str] | None = None,
) -> CurriculumLevel:
    """Append a level to a path; it gets the number n + 1.

    Rules: levels of a path are numbered 1..n without gaps (the university
    lock serialises two people adding a level to one path, and the unique
    constraint on (path, number) backs it up); an archived path takes no new
    levels; ``challenges`` is a non-empty JSON list and ``challenge_count`` is
    its length; ``learning_objectives`` and ``practical_exercises`` are lists
    (objectives default to an empty list); ``passing_score`` and
    ``required_competency_score`` are in [0, 1]; ``time_limit_minutes`` is a
    whole number from 1 to 2,147,483,647 (shown to people, not enforced on
    results: a result reports the time actually spent); the description and
    theoretical content are free text whose only control characters are
    tabs and line breaks; tags are non-empty one-line texts; prerequisite
    levels exist in the same university; the level's name is unique in its
    path, in any case (``Conflict``), because people tell levels apart by
    their names.
    """
    path = session.get(CurriculumPath, path_id)
    if path is None:
        raise NotFound(f"No curriculum path has the id {path_id!r}.")
    lock_university_for_write(session, path.university_id)
    path = _path(session, path_id)

    if path.status == "archived":
        raise InvalidTransition(
            f"Path {path.name!r} is archived: set it back to draft or active "
            "before adding levels."
        )
    name = _name(name, "level")
    taken = session.execute(
        select(CurriculumLevel.level_number, CurriculumLevel.name).where(
            CurriculumLevel.curriculum_path_id == path_id,
            func.lower(CurriculumLevel.name) == name.lower(),
        )
    ).first()
    if taken is not None:
        raise Conflict(
            f"Path {path.name!r} already has level {taken[0]} named {taken[1]!r}: "
            "give the new level another name."
        )
    challenges = _validate_challenges(challenges)
    objectives = _json_list(learning_objectives, "learning objectives") or []
    exercises = _json_list(practical_exercises, "practical exercises")
    passing = _fraction(passing_score, "passing score")
    limit = _whole_number(time_limit_minutes, "time limit in minutes", minimum=1)
    required = _fraction(required_competency_score, "required competency score")
    prerequisite_ids = _validate_prerequisite_levels(
        session, path.university_id, prerequisite_level_ids
    )

    level = CurriculumLevel(
        curriculum_path_id=path.id,
        level_number=_level_count(session, path.id) + 1,
        name=name,
        description=_optional_text(description, "description"),
        learning_objectives=objectives,
        theoretical_content=_optional_text(theoretical_content, "theoretical content"),
        practical_exercises=exercises,
        challenges=challenges,
        challenge_count=len(challenges),
        passing_score=passing,
        time_limit_minutes=limit,
        required_competency_score=required,
        prerequisite_level_ids=prerequisite_ids,
        tags=_tags(tags),
    )
    session.add(level)
    session.flush()
    log.info("added level %s to path %s", level.level_number, path.id)
    return level


def _refuse_when_studied(session: Session, level: CurriculumLevel, action: str) -> None:
    studied = session.scalar(
        select(func.count()).where(AgentProgress.curriculum_level_id == level.id)
    )
    if studied:
        raise InvalidTransition(
            f"{_sentence(_describe_level(session, level))} has progress records "
            f"of {studied} agent(s): it cannot {action}. Add a new level instead."
        )


def update_level_challenges(
    session: Session, level_id: str, *, challenges: list[Any]
) -> CurriculumLevel:
    """Replace a level's challenges and keep ``challenge_count`` equal to
    their number.

    Rule: refused once any agent has a progress record on the level, because
    its results are indexed into the old list and its completion was judged
    on the old count.
    """
    level = session.get(CurriculumLevel, level_id)
    if level is None:
        raise NotFound(f"No curriculum level has the id {level_id!r}.")
    path = session.get(CurriculumPath, level.curriculum_path_id)
    lock_university_for_write(session, path.university_id)
    level = _level(session, level_id)

    challenges = _validate_challenges(challenges)
    _refuse_when_studied(session, level, "change its challenges")

    level.challenges = challenges
    level.challenge_count = len(challenges)
    session.flush()
    return level


def remove_last_level(session: Session, path_id: str) -> None:
    """Delete the highest-numbered level of a path, keeping 1..n gap-free.

    Rules: only the last level can go (numbers stay without gaps); refused
    when any agent has a progress record on it, or when another level names
    it as a prerequisite.
    """
    path = session.get(CurriculumPath, path_id)
    if path is None:
        raise NotFound(f"No curriculum path has the id {path_id!r}.")
    lock_university_for_write(session, path.university_id)
    path = _path(session, path_id)

    level = _level_at(session, path.id, _level_count(session, path.id))
    if level is None:
        raise InvalidTransition(f"Path {path.name!r} has no level to remove.")
    _refuse_when_studied(session, level, "be removed")

    # Levels of any path of the university may name this one as a
    # prerequisite. JSON containment is written differently on each engine;
    # the list's text holding the id is a test both share, and it only
    # narrows the levels read: the lists themselves decide.
    dependants = session.scalars(
        select(CurriculumLevel)
        .join(CurriculumPath, CurriculumPath.id == CurriculumLevel.curriculum_path_id)
        .where(
            CurriculumPath.university_id == path.university_id,
            CurriculumLevel.id != level.id,
            cast(CurriculumLevel.prerequisite_level_ids, Text).contains(
                level.id, autoescape=True
            ),
        )
    ).all()
    for other in dependants:
        if level.id in (other.prerequisite_level_ids or []):
            raise InvalidTransition(
                f"{_sentence(_describe_level(session, other))} requires the level "
                "to remove: take it out of that level's prerequisites first."
            )

    session.delete(level)
    session.flush()
    log.info("removed level %s of path %s", level.level_number, path.id)


def set_path_status(session: Session, path_id: str, status: str) -> CurriculumPath:
    """Set a path's status to ``active``, ``draft`` or ``archived``.

    Rule: any status may follow any other. Only an active path takes
    enrolments and only an archived one refuses new levels; agents already
    on a path that becomes draft or archived keep studying it.
    """
    path = session.get(CurriculumPath, path_id)
    if path is None:
        raise NotFound(f"No curriculum path has the id {path_id!r}.")
    lock_university_for_write(session, path.university_id)
    path = _path(session, path_id)

    if status not in PATH_STATUSES:
        raise InvalidInput(
            f"The path status {status!r} is unknown: choose one of "
            f"{', '.join(PATH_STATUSES)}."
        )
    path.status = status
    session.flush()
    log.info("path %s is now %s", path.id, status)
    return path


# --------------------------------------------------------------------------
# Gates: what an agent must have before it may enter a path or a level.


def _path_completion(session: Session, agent_id: str, path_id: str) -> tuple[int, int]:
    """(levels of the path completed by the agent, levels of the path)."""
    completed, total = session.execute(
        select(
            func.count(AgentProgress.id),
            func.count(CurriculumLevel.id),
        )
        .select_from(CurriculumLevel)
        .outerjoin(
            AgentProgress,
            (AgentProgress.curriculum_level_id == CurriculumLevel.id)
            & (AgentProgress.agent_id == agent_id)
            & (AgentProgress.status == "completed"),
        )
        .where(CurriculumLevel.curriculum_path_id == path_id)
    ).one()
    return int(completed), int(total)


def _path_prerequisite_gaps(
    session: Session, agent: UniversityAgent, path: CurriculumPath
) -> list[str]:
    gaps: list[str] = []
    competency = None
    for item in path.prerequisites or []:
        if "path_id" in item:
            required = session.get(CurriculumPath, item["path_id"])
            if required is None:
                gaps.append(f"path {item['path_id']!r} completed (it no longer exists)")
                continue
            completed, total = _path_completion(session, agent.id, required.id)
            if total == 0 or completed < total:
                gaps.append(
                    f"path {required.name!r} completed (agent {agent.name!r} has "
                    f"completed {completed} of its {total} levels)"
                )
        elif "min_competency" in item:
            if competency is None:
                competency = competency_from_progress(session, agent.id)
            if competency + SCORE_TOLERANCE < item["min_competency"]:
                gaps.append(
                    f"competency {item['min_competency']:.2f} (agent {agent.name!r} "
                    f"has {competency:.2f})"
                )
    return gaps


def _level_gate_gaps(
    session: Session, agent: UniversityAgent, level: CurriculumLevel
) -> list[str]:
    gaps: list[str] = []
    competency = competency_from_progress(session, agent.id)
    if competency + SCORE_TOLERANCE < level.required_competency_score:
        gaps.append(
            f"competency {level.required_competency_score:.2f} (agent "
            f"{agent.name!r} has {competency:.2f})"
        )
    gaps.extend(_unfinished_prerequisite_levels(session, agent, level))
    return gaps


def _unfinished_prerequisite_levels(
    session: Session, agent: UniversityAgent, level: CurriculumLevel
) -> list[str]:
    required_ids = list(level.prerequisite_level_ids or [])
    if not required_ids:
        return []
    statuses = dict(
        session.execute(
            select(AgentProgress.curriculum_level_id, AgentProgress.status).where(
                AgentProgress.agent_id == agent.id,
                AgentProgress.curriculum_level_id.in_(required_ids),
            )
        ).all()
    )
    gaps = []
    for required_id in required_ids:
        status = statuses.get(required_id, "not reached")
        if status == "completed":
            continue
        required = session.get(CurriculumLevel, required_id)
        described = (
            _describe_level(session, required) if required else repr(required_id)
        )
        gaps.append(f"{described} completed (it is {in_words(status)})")
    return gaps


def _refusal(subject: str, gaps: list[str]) -> str:
    return f"{subject} requires " + "; ".join(gaps) + "."


# --------------------------------------------------------------------------
# Deriving the progress fields from challenge_results.


def _attempt_ended(results: list[dict], attempt: int, challenge_count: int) -> bool:
    covered = {r["challenge_index"] for r in results if r["attempt"] == attempt}
    return len(covered) >= challenge_count


def current_attempt(progress: AgentProgress, challenge_count: int) -> int:
    """The number of the progress record's current attempt (1 for the first).

    Rule: the latest attempt in ``challenge_results``, or the one after it
    when that attempt has a result for every challenge but the record is no
    longer ``completed`` or ``failed`` (the level was retried).
    """
    results = progress.challenge_results or []
    latest = max((r["attempt"] for r in results), default=1)
    if progress.status in ("completed", "failed"):
        return latest
    if results and _attempt_ended(results, latest, challenge_count):
        return latest + 1
    return latest


def _derive_progress(
    progress: AgentProgress, level: CurriculumLevel, attempt: int
) -> None:
    """Set every field of ``progress`` from ``challenge_results``.

    Rules (the same as in docs/domain.md):

    * ``time_spent_minutes``: the minutes of every result of every attempt
      (time spent on a failed attempt was still spent training);
    * the other fields describe the current attempt only: ``current_score``
      is the latest result's score, ``best_score`` the highest score
      recorded, ``average_score`` the mean of the latest result of each
      challenge that has one, ``challenges_completed`` the number of
      challenges with a result, ``current_challenge_index`` the lowest
      challenge index without a result (``challenge_count`` when all have
      one); all 0 when the attempt has no result yet;
    * status: ``not_started`` without a result, ``in_progress`` until every
      challenge has a result, then ``completed`` when the average reaches
      ``passing_score`` and ``failed`` otherwise; ``started_at`` is the time
      of the attempt's first result and ``completed_at`` the time of the
      result that completed the level (none for a failed attempt).
    """
    results = progress.challenge_results or []
    progress.time_spent_minutes = sum(r["minutes"] for r in results)

    mine = [r for r in results if r["attempt"] == attempt]
    latest_by_challenge: dict[int, float] = {}
    for result in mine:
        latest_by_challenge[result["challenge_index"]] = result["score"]
    progress.total_challenges = level.challenge_count
    progress.challenges_completed = len(latest_by_challenge)
    progress.current_challenge_index = next(
        (i for i in range(level.challenge_count) if i not in latest_by_challenge),
        level.challenge_count,
    )
    if not mine:
        progress.current_score = 0.0
        progress.best_score = 0.0
        progress.average_score = 0.0
        progress.status = "not_started"
        progress.started_at = None
        progress.completed_at = None
        return

    progress.current_score = mine[-1]["score"]
    progress.best_score = max(r["score"] for r in mine)
    progress.average_score = math.fsum(latest_by_challenge.values()) / len(
        latest_by_challenge
    )
    progress.started_at = datetime.fromisoformat(mine[0]["recorded_at"])
    progress.completed_at = None
    if len(latest_by_challenge) < level.challenge_count:
        progress.status = "in_progress"
    elif progress.average_score + SCORE_TOLERANCE >= level.passing_score:
        progress.status = "completed"
        progress.completed_at = datetime.fromisoformat(mine[-1]["recorded_at"])
    else:
        progress.status = "failed"


# --------------------------------------------------------------------------
# Enrolment, results, retries and advancement.


def _place_agent(
    agent: UniversityAgent, level: CurriculumLevel, progress: AgentProgress
) -> None:
    agent.current_curriculum_path_id = level.curriculum_path_id
    agent.current_curriculum_level_id = level.id
    agent.current_challenge_index = progress.current_challenge_index


def _open_progress(
    session: Session, agent: UniversityAgent, level: CurriculumLevel
) -> AgentProgress:
    """The agent's progress record on ``level``, created ``not_started``."""
    progress = _progress(session, agent.id, level.id)
    if progress is None:
        progress = AgentProgress(
            agent_id=agent.id,
            curriculum_level_id=level.id,
            total_challenges=level.challenge_count,
            challenge_results=[],
            last_activity_at=utcnow(),
        )
        session.add(progress)
        session.flush()
    return progress


def _next_level_blocker(
    session: Session, agent: UniversityAgent, level: CurriculumLevel
) -> tuple[CurriculumLevel | None, str | None]:
    """(the level after ``level``, why the agent may not enter it or None)."""
    following = _level_at(session, level.curriculum_path_id, level.level_number + 1)
    if following is None:
        return None, None
    gaps = _level_gate_gaps(session, agent, following)
    if not gaps:
        return following, None
    return following, _refusal(
        f"Level {following.level_number} {following.name!r}", gaps
    )


def _advance_if_allowed(
    session: Session, agent: UniversityAgent, level: CurriculumLevel
) -> str | None:
    """After ``level`` is completed: move the agent on, or say why not.

    Rule: the agent enters the next level of the path when its competency,
    recomputed now, reaches the next level's ``required_competency_score``
    and every level in the next level's ``prerequisite_level_ids`` is
    completed; its progress record there is created ``not_started``.
    Otherwise it stays on the completed level and the reason is returned
    (and ``advancement_blocker`` gives it again later). After the last level
    the path is done: the agent keeps the path and its last level as current,
    with ``current_challenge_index`` equal to that level's challenge count.
    """
    refresh_agent_counters(session, agent.id)
    following, blocker = _next_level_blocker(session, agent, level)
    if following is None or blocker is not None:
        if blocker:
            log.info("agent %s stays on level %s: %s", agent.id, level.id, blocker)
        return blocker

    progress = _open_progress(session, agent, following)
    _place_agent(agent, following, progress)
    log.info("agent %s advanced to level %s", agent.id, following.level_number)
    return None


def enrol_agent(session: Session, agent_id: str, path_id: str) -> AgentProgress:
    """Enrol an agent in a path and return its progress record on the level
    where it now stands.

    Rules:

    * the agent and the path are in the same university; the agent is not
      archived; the path is ``active`` (draft and archived paths take no
      enrolments) and has at least one level;
    * the path's prerequisites are met (each required path completed,
      competency recomputed now reaching each minimum), and so are level 1's
      gates; otherwise the refusal names every unmet one and what the agent
      has;
    * an agent already on this path is refused; an agent has one current
      path, so enrolling elsewhere moves it and keeps its old progress;
    * a first enrolment places the agent on level 1 with a new
      ``not_started`` progress record and challenge index 0. Enrolling again
      in a path it studied before resumes at the highest level it reached
      (and tries to advance from it when that level is completed); a path
      whose every level it completed is refused.
    """
    agent = _lock_agent_for_write(session, agent_id)
    path = session.get(CurriculumPath, path_id)
    if path is None or path.university_id != agent.university_id:
        raise NotFound(
            f"No curriculum path with the id {path_id!r} exists in the university "
            f"of agent {agent.name!r}."
        )
    path = _path(session, path_id)

    if path.status != "active":
        raise InvalidTransition(
            f"Path {path.name!r} is {path.status}: only active paths take "
            "enrolments; activate it first."
        )
    if agent.current_curriculum_path_id == path.id:
        raise InvalidTransition(
            f"Agent {agent.name!r} is already enrolled in path {path.name!r}."
        )
    first = _level_at(session, path.id, 1)
    if first is None:
        raise InvalidTransition(
            f"Path {path.name!r} has no levels yet: add a level before enrolling."
        )
    gaps = _path_prerequisite_gaps(session, agent, path)
    if gaps:
        raise InvalidTransition(_refusal(f"Path {path.name!r}", gaps))

    reached = session.scalars(
        select(CurriculumLevel)
        .join(AgentProgress, AgentProgress.curriculum_level_id == CurriculumLevel.id)
        .where(
            CurriculumLevel.curriculum_path_id == path.id,
            AgentProgress.agent_id == agent.id,
        )
        .order_by(CurriculumLevel.level_number.desc())
        .limit(1)
    ).one_or_none()

    if reached is None:
        gaps = _level_gate_gaps(session, agent, first)
        if gaps:
            raise InvalidTransition(_refusal(f"Level 1 {first.name!r}", gaps))
        progress = _open_progress(session, agent, first)
        _place_agent(agent, first, progress)
        refresh_agent_counters(session, agent.id)
        log.info("agent %s enrolled in path %s", agent.id, path.id)
        return progress

    progress = _progress(session, agent.id, reached.id)
    completed, total = _path_completion(session, agent.id, path.id)
    if completed == total:
        raise InvalidTransition(
            f"Agent {agent.name!r} has already completed every level of path "
            f"{path.name!r}."
        )
    _place_agent(agent, reached, progress)
    if progress.status == "completed":
        _advance_if_allowed(session, agent, reached)
        progress = _progress(session, agent.id, agent.current_curriculum_level_id)
    refresh_agent_counters(session, agent.id)
    log.info("agent %s resumed path %s", agent.id, path.id)
    return progress


def _refuse_unless_reached(
    session: Session, agent: UniversityAgent, level: CurriculumLevel
) -> AgentProgress:
    """Rule: an agent has reached a level when the level belongs to its
    current path, its number is at most the agent's current level number,
    every level in its ``prerequisite_level_ids`` is completed, and the agent
    has a progress record on it. Refused otherwise, naming what is missing.
    """
    path = session.get(CurriculumPath, level.curriculum_path_id)
    if path.university_id != agent.university_id:
        raise NotFound(
            f"No curriculum level with the id {level.id!r} exists in the university "
            f"of agent {agent.name!r}."
        )
    if agent.current_curriculum_path_id != path.id:
        raise InvalidTransition(
            f"Agent {agent.name!r} is not enrolled in path {path.name!r}: enrol it "
            "first."
        )
    current = session.get(CurriculumLevel, agent.current_curriculum_level_id)
    if current is None or level.level_number > current.level_number:
        at = current.level_number if current else 0
        raise InvalidTransition(
            f"Agent {agent.name!r} has not reached level {level.level_number} "
            f"{level.name!r}: it is at level {at} of path {path.name!r}."
        )
    gaps = _unfinished_prerequisite_levels(session, agent, level)
    if gaps:
        raise InvalidTransition(
            _refusal(f"Level {level.level_number} {level.name!r}", gaps)
        )
    progress = _progress(session, agent.id, level.id)
    if progress is None:
        raise InvalidTransition(
            f"Agent {agent.name!r} has not reached level {level.level_number} "
            f"{level.name!r} of path {path.name!r}."
        )
    return progress


def record_challenge_result(
    session: Session,
    agent_id: str,
    level_id: str,
    *,
    challenge_index: int,
    score: float,
    minutes: int,
    recorded_at: datetime | None = None,
) -> AgentProgress:
    """Record one challenge result of an agent on a level.

    Rules:

    * ``score`` is a number in [0, 1] (bools, NaN and infinities refused);
      ``minutes`` a whole number from 0 to 2,147,483,647, and the level's
      ``time_spent_minutes`` (every result's minutes) may not pass that
      either; ``challenge_index`` in 0..challenge_count-1; ``recorded_at``
      (default now) is time-zone aware, at most ``CLOCK_SKEW`` (five
      minutes, the rule of collecting training data) ahead of now, since a
      future time would refuse every real result until then, and not
      earlier than the level's previous result, so the list stays in time
      order and "latest" means "last";
    * the agent is not archived and has reached the level (see
      ``_refuse_unless_reached``); a completed level takes no more results,
      and a failed one none until it is retried;
    * the result is appended to ``challenge_results`` as ``{"challenge_index",
      "score", "minutes", "recorded_at" (ISO 8601 UTC), "attempt"}``; a
      challenge may be taken again within an attempt, and its latest result
      counts;
    * every progress field is then derived from the list (see
      ``_derive_progress``); on completion the agent advances when allowed
      (see ``_advance_if_allowed``); the agent's counters are recomputed.
    """
    agent = _lock_agent_for_write(session, agent_id)
    level = session.get(CurriculumLevel, level_id)
    if level is None:
        raise NotFound(f"No curriculum level has the id {level_id!r}.")
    level = _level(session, level_id)
    progress = _refuse_unless_reached(session, agent, level)

    index = _whole_number(challenge_index, "challenge index", minimum=0)
    if index >= level.challenge_count:
        raise InvalidInput(
            f"The challenge index {index} is beyond level {level.level_number}'s "
            f"{level.challenge_count} challenges: give 0 to "
            f"{level.challenge_count - 1}."
        )
    score = _fraction(score, "score")
    minutes = _whole_number(minutes, "minutes spent", minimum=0)
    when = utcnow() if recorded_at is None else _aware(recorded_at, "result time")
    if when > utcnow() + CLOCK_SKEW:
        raise InvalidInput(
            f"The result time {shown_time(when)} is in the future (more than "
            f"{CLOCK_SKEW.total_seconds() / 60:g} minutes after now, "
            f"{shown_time(utcnow())}): give the time the result was recorded."
        )
    results = list(progress.challenge_results or [])
    if results:
        previous = datetime.fromisoformat(results[-1]["recorded_at"])
        if when < previous:
            raise InvalidInput(
                f"The result time {shown_time(when)} is before the level's "
                f"previous result at {shown_time(previous)}: record results in "
                "time order."
            )
    spent = sum(result["minutes"] for result in results)
    if spent + minutes > INTEGER_MAX:
        # time_spent_minutes is an INTEGER column too.
        raise InvalidInput(
            f"The minutes spent {minutes} would bring agent {agent.name!r}'s "
            f"time on level {level.level_number} to {spent + minutes} minutes, "
            f"above {INTEGER_MAX:,} (the largest whole number the database "
            f"stores): give at most {INTEGER_MAX - spent:,}."
        )
    if progress.status == "completed":
        raise InvalidTransition(
            f"Level {level.level_number} {level.name!r} is already completed by "
            f"agent {agent.name!r}: it takes no more results."
        )
    if progress.status == "failed":
        raise InvalidTransition(
            f"Level {level.level_number} {level.name!r} was failed by agent "
            f"{agent.name!r}: retry the level before recording new results."
        )

    attempt = current_attempt(progress, level.challenge_count)
    results.append(
        {
            "challenge_index": index,
            "score": score,
            "minutes": minutes,
            "recorded_at": when.isoformat(),
            "attempt": attempt,
        }
    )
    progress.challenge_results = results
    _derive_progress(progress, level, attempt)
    progress.last_activity_at = when
    if agent.current_curriculum_level_id == level.id:
        agent.current_challenge_index = progress.current_challenge_index
    session.flush()

    if progress.status == "completed":
        _advance_if_allowed(session, agent, level)
    refresh_agent_counters(session, agent.id)
    log.debug("agent %s recorded %s on level %s", agent.id, score, level.id)
    return progress


def retry_level(session: Session, agent_id: str, level_id: str) -> AgentProgress:
    """Start a new attempt at a failed level.

    Rules: only a ``failed`` level on the agent's current path can be
    retried, by an agent that is not archived. The new attempt resets the
    progress fields (status ``not_started``, scores, challenges completed,
    challenge index, start and completion times) while ``challenge_results``
    keeps every earlier result with its attempt number;
    ``time_spent_minutes`` keeps counting the time of every attempt, and the
    agent's ``last_trained_at`` (its latest result's time) stays.
    """
    agent = _lock_agent_for_write(session, agent_id)
    level = session.get(CurriculumLevel, level_id)
    if level is None:
        raise NotFound(f"No curriculum level has the id {level_id!r}.")
    level = _level(session, level_id)
    progress = _refuse_unless_reached(session, agent, level)

    if progress.status != "failed":
        raise InvalidTransition(
            f"Level {level.level_number} {level.name!r} is "
            f"{in_words(progress.status)} for agent {agent.name!r}: only a "
            "failed level can be retried."
        )

    attempt = current_attempt(progress, level.challenge_count) + 1
    progress.status = "not_started"
    _derive_progress(progress, level, attempt)
    progress.last_activity_at = utcnow()
    if agent.current_curriculum_level_id == level.id:
        agent.current_challenge_index = progress.current_challenge_index
    session.flush()

    refresh_agent_counters(session, agent.id)
    log.info("agent %s retries level %s (attempt %s)", agent.id, level.id, attempt)
    return progress


def advance_agent(session: Session, agent_id: str) -> AgentProgress:
    """Move an agent whose current level is completed on to the next level.

    Rule: the same gates as on completion (``_advance_if_allowed``); refused
    with the reason when the agent's level is not completed, when the path
    is done, or when a gate is still unmet. Needed only when a gate became
    met after the level was completed.
    """
    agent = _lock_agent_for_write(session, agent_id)
    if agent.current_curriculum_level_id is None:
        raise InvalidTransition(f"Agent {agent.name!r} is not enrolled in any path.")
    level = _level(session, agent.current_curriculum_level_id)
    progress = _progress(session, agent.id, level.id)
    if progress is None or progress.status != "completed":
        status = progress.status if progress else "not reached"
        raise InvalidTransition(
            f"Agent {agent.name!r} has not completed level {level.level_number} "
            f"{level.name!r} (it is {in_words(status)}): finish it first."
        )
    blocker = _advance_if_allowed(session, agent, level)
    if blocker:
        raise InvalidTransition(blocker)
    if agent.current_curriculum_level_id == level.id:
        raise InvalidTransition(
            f"Agent {agent.name!r} has completed the last level of its path."
        )
    return _progress(session, agent.id, agent.current_curriculum_level_id)


# --------------------------------------------------------------------------
# Read helpers for the dashboard.


def _scoped_agent(
    session: Session, agent_id: str, university_id: str | None
) -> UniversityAgent:
    agent = session.get(UniversityAgent, agent_id)
    if agent is None or university_id not in (None, agent.university_id):
        raise NotFound(f"No agent has the id {agent_id!r} in this university.")
    return agent


def advancement_blocker(
    session: Session, agent_id: str, *, university_id: str | None = None
) -> str | None:
    """Why the agent stays on its completed level, recomputed now; ``None``
    when it is not enrolled, still working on its level, has finished the
    path, or nothing stops it. With ``university_id`` an agent of another
    university is not found (pages pass the university they show).
    """
    agent = _scoped_agent(session, agent_id, university_id)
    if agent.current_curriculum_level_id is None:
        return None
    level = session.get(CurriculumLevel, agent.current_curriculum_level_id)
    progress = _progress(session, agent.id, level.id)
    if progress is None or progress.status != "completed":
        return None
    _following, blocker = _next_level_blocker(session, agent, level)
    return blocker


def agent_position(
    session: Session, agent_id: str, *, university_id: str | None = None
) -> dict[str, Any]:
    """Where an agent stands in the curriculum, for a page to show. With
    ``university_id`` an agent of another university is not found.

    Keys: ``agent_id``, ``path_id``, ``path_name``, ``level_id``,
    ``level_number``, ``level_name``, ``level_count``, ``status`` (the
    progress status on the current level, or ``not_enrolled``),
    ``attempt``, ``challenge_index``, ``challenges_completed``,
    ``total_challenges``, ``path_completed`` (every level of the path
    completed) and ``blocker`` (``advancement_blocker``).
    """
    agent = _scoped_agent(session, agent_id, university_id)
    position: dict[str, Any] = {
        "agent_id": agent.id,
        "path_id": None,
        "path_name": None,
        "level_id": None,
        "level_number": None,
        "level_name": None,
        "level_count": 0,
        "status": "not_enrolled",
        "attempt": None,
        "challenge_index": agent.current_challenge_index,
        "challenges_completed": 0,
        "total_challenges": 0,
        "path_completed": False,
        "blocker": None,
    }
    if agent.current_curriculum_level_id is None:
        return position

    level = session.get(CurriculumLevel, agent.current_curriculum_level_id)
    path = session.get(CurriculumPath, level.curriculum_path_id)
    progress = _progress(session, agent.id, level.id)
    completed, total = _path_completion(session, agent.id, path.id)
    position.update(
        path_id=path.id,
        path_name=path.name,
        level_id=level.id,
        level_number=level.level_number,
        level_name=level.name,
        level_count=total,
        status=progress.status if progress else "not_started",
        attempt=current_attempt(progress, level.challenge_count) if progress else 1,
        challenges_completed=progress.challenges_completed if progress else 0,
        total_challenges=level.challenge_count,
        path_completed=total > 0 and completed == total,
        blocker=advancement_blocker(session, agent.id),
    )
    return position


def level_overview(
    session: Session, path_id: str, *, university_id: str | None = None
) -> list[dict[str, Any]]:
    """One row per level of a path: number, name, challenge count, passing
    and required competency scores, and how many agents' progress records
    are in each status (counted by the database with GROUP BY). With
    ``university_id`` a path of another university is not found.
    """
    path = session.get(CurriculumPath, path_id)
    if path is None or university_id not in (None, path.university_id):
        raise NotFound(f"No curriculum path has the id {path_id!r} in this university.")
    counts: dict[tuple[str, str], int] = {
        (level_id, status): count
        for level_id, status, count in session.execute(
            select(
                AgentProgress.curriculum_level_id,
                AgentProgress.status,
                func.count(),
            )
            .join(
                CurriculumLevel,
                CurriculumLevel.id == AgentProgress.curriculum_level_id,
            )
            .where(CurriculumLevel.curriculum_path_id == path.id)
            .group_by(AgentProgress.curriculum_level_id, AgentProgress.status)
        ).all()
    }
    rows = []
    for level in session.scalars(
        select(CurriculumLevel)
        .where(CurriculumLevel.curriculum_path_id == path.id)
        .order_by(CurriculumLevel.level_number)
    ):
        row = {
            "level_id": level.id,
            "level_number": level.level_number,
            "name": level.name,
            "challenge_count": level.challenge_count,
            "passing_score": level.passing_score,
            "required_competency_score": level.required_competency_score,
        }
        for status in ("not_started", "in_progress", "completed", "failed"):
            row[status] = counts.get((level.id, status), 0)
        rows.append(row)
    return rows
