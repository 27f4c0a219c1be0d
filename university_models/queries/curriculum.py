"""The Curriculum page: per path, where each agent stands on each level,
how many agents reached each level, the time spent per level, and one
agent's challenge results over time.

Every function is scoped to one university: a path or agent id from another
university finds nothing (``NotFound``).
"""

from __future__ import annotations

import logging
from datetime import datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from university_models.errors import Conflict, NotFound
from university_models.models import (
    AgentProgress,
    CurriculumLevel,
    CurriculumPath,
    UniversityAgent,
)
from university_models.services.universities import tidy_name

log = logging.getLogger(__name__)

#: Agents shown at once on the agent x level heatmap; paging shows the rest.
MATRIX_AGENTS = 40

MATRIX_COLUMNS = ["agent_id", "agent", "level_number", "level", "status", "best_score"]
FUNNEL_COLUMNS = ["level_number", "level", "reached", "started", "completed"]
TIME_COLUMNS = [
    "level_number",
    "level",
    "agents",
    "mean_minutes",
    "max_minutes",
    "total_minutes",
]
RESULT_COLUMNS = [
    "recorded_at",
    "level_number",
    "level",
    "challenge_index",
    "attempt",
    "score",
    "minutes",
    "passing_score",
]


def path_choices(session: Session, university_id: str) -> pd.DataFrame:
    """The university's curriculum paths: id, name, status, difficulty_level
    and the number of levels, by name."""
    levels = (
        select(CurriculumLevel.curriculum_path_id, func.count().label("levels"))
        .group_by(CurriculumLevel.curriculum_path_id)
        .subquery()
    )
    rows = session.execute(
        select(
            CurriculumPath.id,
            CurriculumPath.name,
            CurriculumPath.status,
            CurriculumPath.difficulty_level,
            func.coalesce(levels.c.levels, 0),
        )
        .outerjoin(levels, levels.c.curriculum_path_id == CurriculumPath.id)
        .where(CurriculumPath.university_id == university_id)
        .order_by(CurriculumPath.name, CurriculumPath.id)
        .limit(1000)
    ).all()
    return pd.DataFrame(
        rows, columns=["id", "name", "status", "difficulty_level", "levels"]
    )


def _require_path(session: Session, university_id: str, path_id: str) -> None:
    found = session.scalar(
        select(CurriculumPath.id).where(
            CurriculumPath.id == path_id, CurriculumPath.university_id == university_id
        )
    )
    if found is None:
        raise NotFound(
            f"This university has no curriculum path with the id {path_id!r}; "
            "choose one from the list."
        )


def _path_agents(university_id: str, path_id: str):
    """The agents with a progress record on a level of the path."""
    return (
        select(AgentProgress.agent_id)
        .join(CurriculumLevel, CurriculumLevel.id == AgentProgress.curriculum_level_id)
        .join(UniversityAgent, UniversityAgent.id == AgentProgress.agent_id)
        .where(
            CurriculumLevel.curriculum_path_id == path_id,
            UniversityAgent.university_id == university_id,
        )
        .distinct()
    )


def path_agents(session: Session, university_id: str, path_id: str) -> pd.DataFrame:
    """The agents enrolled in the path (a progress record on one of its
    levels): id and name, by name; at most 1000."""
    _require_path(session, university_id, path_id)
    enrolled = _path_agents(university_id, path_id).subquery()
    rows = session.execute(
        select(UniversityAgent.id, UniversityAgent.name)
        .where(UniversityAgent.id.in_(select(enrolled.c.agent_id)))
        .order_by(UniversityAgent.name, UniversityAgent.id)
        .limit(1000)
    ).all()
    return pd.DataFrame(rows, columns=["id", "name"])


def path_agent_count(session: Session, university_id: str, path_id: str) -> int:
    """How many agents are enrolled in the path."""
    _require_path(session, university_id, path_id)
    enrolled = _path_agents(university_id, path_id).subquery()
    return session.scalar(select(func.count()).select_from(enrolled))


def progress_matrix(
    session: Session,
    university_id: str,
    path_id: str,
    *,
    limit: int = MATRIX_AGENTS,
    offset: int = 0,
) -> pd.DataFrame:
    """One row per (agent, level) with a progress record on the path: its
    status and best score, for ``limit`` agents by name from ``offset``.

    Rule: the page of agents is chosen in SQL, so the heatmap stays bounded
    however many agents the path has; a level an agent has not reached has
    no row (the page shows it as not reached)."""
    _require_path(session, university_id, path_id)
    enrolled = _path_agents(university_id, path_id).subquery()
    page = (
        select(UniversityAgent.id)
        .where(UniversityAgent.id.in_(select(enrolled.c.agent_id)))
        .order_by(UniversityAgent.name, UniversityAgent.id)
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    rows = session.execute(
        select(
            UniversityAgent.id,
            UniversityAgent.name,
            CurriculumLevel.level_number,
            CurriculumLevel.name,
            AgentProgress.status,
            AgentProgress.best_score,
        )
        .join(UniversityAgent, UniversityAgent.id == AgentProgress.agent_id)
        .join(CurriculumLevel, CurriculumLevel.id == AgentProgress.curriculum_level_id)
        .where(
            CurriculumLevel.curriculum_path_id == path_id,
            AgentProgress.agent_id.in_(select(page.c.id)),
        )
        .order_by(UniversityAgent.name, CurriculumLevel.level_number)
    ).all()
    return pd.DataFrame(rows, columns=MATRIX_COLUMNS)


def level_funnel(session: Session, university_id: str, path_id: str) -> pd.DataFrame:
    """Per level of the path (every level, zeros included): how many agents
    reached it (have a progress record), started it (any result) and
    completed it. Counted in SQL."""
    _require_path(session, university_id, path_id)
    counts = (
        select(
            AgentProgress.curriculum_level_id.label("level_id"),
            func.count().label("reached"),
            func.count().filter(AgentProgress.status != "not_started").label("started"),
            func.count().filter(AgentProgress.status == "completed").label("completed"),
        )
        .join(UniversityAgent, UniversityAgent.id == AgentProgress.agent_id)
        .where(
            UniversityAgent.university_id == university_id,
            AgentProgress.curriculum_level_id.in_(
                select(CurriculumLevel.id).where(
                    CurriculumLevel.curriculum_path_id == path_id
                )
            ),
        )
        .group_by(AgentProgress.curriculum_level_id)
        .subquery()
    )
    rows = session.execute(
        select(
            CurriculumLevel.level_number,
            CurriculumLevel.name,
            func.coalesce(counts.c.reached, 0),
            func.coalesce(counts.c.started, 0),
            func.coalesce(counts.c.completed, 0),
        )
        .outerjoin(counts, counts.c.level_id == CurriculumLevel.id)
        .where(CurriculumLevel.curriculum_path_id == path_id)
        .order_by(CurriculumLevel.level_number)
    ).all()
    return pd.DataFrame(rows, columns=FUNNEL_COLUMNS)


def time_per_level(session: Session, university_id: str, path_id: str) -> pd.DataFrame:
    """Per level of the path: how many agents spent time on it, and the mean,
    largest and total minutes they spent.

    Rule: only progress records with at least one result (status other than
    not_started) count, so agents that merely reached a level do not pull
    the mean down to zero."""
    _require_path(session, university_id, path_id)
    rows = session.execute(
        select(
            CurriculumLevel.level_number,
            CurriculumLevel.name,
            func.count(AgentProgress.id),
            func.avg(AgentProgress.time_spent_minutes),
            func.max(AgentProgress.time_spent_minutes),
            func.coalesce(func.sum(AgentProgress.time_spent_minutes), 0),
        )
        .join(AgentProgress, AgentProgress.curriculum_level_id == CurriculumLevel.id)
        .join(UniversityAgent, UniversityAgent.id == AgentProgress.agent_id)
        .where(
            CurriculumLevel.curriculum_path_id == path_id,
            UniversityAgent.university_id == university_id,
            AgentProgress.status != "not_started",
        )
        .group_by(CurriculumLevel.level_number, CurriculumLevel.name)
        .order_by(CurriculumLevel.level_number)
    ).all()
    frame = pd.DataFrame(rows, columns=TIME_COLUMNS)
    frame["mean_minutes"] = frame["mean_minutes"].astype(float)
    return frame


def _parse_time(value) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        log.warning("challenge result with an unreadable time %r", value)
        return None
    return moment if moment.tzinfo else None


def agent_challenge_results(
    session: Session,
    university_id: str,
    agent_id: str,
    *,
    path_id: str | None = None,
) -> pd.DataFrame:
    """One agent's challenge results (every attempt) in the order they were
    recorded, with the level's passing score, optionally on one path.

    Rule: the results live in each progress record's ``challenge_results``
    JSON list; one agent has a handful of progress records, so they are
    read and unfolded here rather than with each engine's JSON functions.
    Results without a readable UTC time are listed last."""
    agent = session.scalar(
        select(UniversityAgent.id).where(
            UniversityAgent.id == agent_id,
            UniversityAgent.university_id == university_id,
        )
    )
    if agent is None:
        raise NotFound(f"This university has no agent with the id {agent_id!r}.")
    statement = (
        select(
            CurriculumLevel.level_number,
            CurriculumLevel.name,
            CurriculumLevel.passing_score,
            AgentProgress.challenge_results,
        )
        .join(CurriculumLevel, CurriculumLevel.id == AgentProgress.curriculum_level_id)
        .where(AgentProgress.agent_id == agent_id)
    )
    if path_id is not None:
        statement = statement.where(CurriculumLevel.curriculum_path_id == path_id)

    results = []
    for level_number, level, passing, recorded in session.execute(statement):
        for result in recorded or []:
            if not isinstance(result, dict):
                continue
            results.append(
                {
                    "recorded_at": _parse_time(result.get("recorded_at")),
                    "level_number": level_number,
                    "level": level,
                    "challenge_index": result.get("challenge_index"),
                    "attempt": result.get("attempt", 1),
                    "score": result.get("score"),
                    "minutes": result.get("minutes"),
                    "passing_score": passing,
                }
            )
    frame = pd.DataFrame(results, columns=RESULT_COLUMNS)
    if frame.empty:
        return frame
    frame["recorded_at"] = pd.to_datetime(frame["recorded_at"], utc=True)
    return frame.sort_values(
        ["recorded_at", "level_number", "challenge_index"], na_position="last"
    ).reset_index(drop=True)


# --------------------------------------------------------------------------
# Curriculum authoring: what the "Create a path" and "Add a level" forms and
# the ``curriculum`` command need to read.

LEVEL_CHOICE_COLUMNS = ["id", "path", "level_number", "name"]


def level_choices(session: Session, university_id: str) -> pd.DataFrame:
    """Every level of the university's paths, for a prerequisite picker: id,
    path name, level number and level name, by path name then number; at
    most 1000."""
    rows = session.execute(
        select(
            CurriculumLevel.id,
            CurriculumPath.name,
            CurriculumLevel.level_number,
            CurriculumLevel.name,
        )
        .join(CurriculumPath, CurriculumPath.id == CurriculumLevel.curriculum_path_id)
        .where(CurriculumPath.university_id == university_id)
        .order_by(CurriculumPath.name, CurriculumPath.id, CurriculumLevel.level_number)
        .limit(1000)
    ).all()
    return pd.DataFrame(rows, columns=LEVEL_CHOICE_COLUMNS)


def find_path(session: Session, university_id: str, name: str) -> str:
    """The id of the university's path named ``name`` (trimmed, any case).

    Rule: a name that matches no path is ``NotFound`` listing the names
    there are (at most 20); a name shared by two paths (the schema allows
    it) is ``Conflict``, because a script must not pick one of them by
    chance."""
    wanted = tidy_name(name).lower() if isinstance(name, str) else ""
    ids = session.scalars(
        select(CurriculumPath.id)
        .where(
            CurriculumPath.university_id == university_id,
            func.lower(CurriculumPath.name) == wanted,
        )
        .limit(2)
    ).all()
    if len(ids) == 1:
        return ids[0]
    if len(ids) > 1:
        raise Conflict(
            f"Two curriculum paths are named {name!r}: rename one on the "
            "Curriculum page, then try again."
        )

    names = session.scalars(
        select(CurriculumPath.name)
        .where(CurriculumPath.university_id == university_id)
        .order_by(CurriculumPath.name)
        .limit(21)
    ).all()
    if not names:
        raise NotFound(
            f"No curriculum path is named {name!r}: this university has none "
            "yet; create one with `curriculum create-path`."
        )
    listed = ", ".join(repr(n) for n in names[:20])
    more = ", ..." if len(names) > 20 else ""
    raise NotFound(f"No curriculum path is named {name!r}; there are {listed}{more}.")


def challenges_from_prompts(prompts: list[str]) -> list[dict[str, str]]:
    """One challenge object ``{"prompt": text}`` per non-empty prompt
    (trimmed), in order.

    Rule: the dashboard's one-challenge-per-line box and the command's
    ``--challenge TEXT`` both store challenges in this shape; empty lines are
    skipped."""
    return [{"prompt": prompt.strip()} for prompt in prompts if prompt.strip()]


def lines_of(text: str | None) -> list[str]:
    """The non-empty lines of ``text``, trimmed (one item per line)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
