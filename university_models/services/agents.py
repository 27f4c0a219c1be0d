"""Agents: creation, status, and the counters derived from their records.

The rules here are also written down in ``docs/domain.md`` under "Agents".
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.orm import Session

from university_models.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
    QuotaExceeded,
)
from university_models.models import (
    AGENT_STATUSES,
    AGENT_TYPES,
    AgentProgress,
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    CurriculumLevel,
    TrainingDataCollection,
    University,
    UniversityAgent,
)
from university_models.services.universities import (
    FIELD_WORDS,
    clean_name,
    clean_text,
    json_error_text,
    lock_university_for_write,
    non_archived_agent_count,
    storable_json,
    too_deep,
)
from university_models.services.validation import edit_version, refuse_stale_version

log = logging.getLogger(__name__)

#: Longest specialization the column holds.
SPECIALIZATION_MAX_LENGTH = 100

#: The fields ``update_agent`` accepts.
UPDATABLE_FIELDS = frozenset({"name", "description", "specialization", "configuration"})

#: Competition statuses in which a registered competitor still has to play.
OPEN_COMPETITION_STATUSES = ("scheduled", "active")


def competency_from_progress(session: Session, agent_id: str) -> float:
    """The agent's competency in [0, 1].

    Rule: the mean of the results of the agent's completed levels, weighted
    by level number (a level-3 result counts three times a level-1 result),
    over every path; 0.0 when no level is completed. A level's result is
    the ``average_score`` of the attempt that completed it (the mean of the
    latest score of each challenge, the number the passing score is judged
    on), not its best single challenge: scores 1.0, 0.6 and 0.6 make 0.733,
    not 1.0. Deterministic and recomputed from the progress records alone.
    """
    weighted, weights = session.execute(
        select(
            func.sum(AgentProgress.average_score * CurriculumLevel.level_number),
            func.sum(CurriculumLevel.level_number),
        )
        .join(CurriculumLevel, CurriculumLevel.id == AgentProgress.curriculum_level_id)
        .where(AgentProgress.agent_id == agent_id, AgentProgress.status == "completed")
    ).one()
    if not weights:
        return 0.0
    return min(1.0, max(0.0, float(weighted) / float(weights)))


def last_challenge_result_at(session: Session, agent_id: str) -> datetime | None:
    """When the agent's latest challenge result was recorded, over every
    attempt of every level (``challenge_results`` keeps the whole history),
    or None without a result.

    Rule: a retried level is ``not_started`` again but its results remain,
    so retrying never moves the agent's ``last_trained_at`` back.
    """
    # The history is a JSON list per progress record, and reading inside
    # JSON lists differs between SQLite (json_each) and PostgreSQL
    # (jsonb_array_elements); an agent has one record per level it reached,
    # so the lists are read and compared here.
    latest = None
    for results in session.scalars(
        select(AgentProgress.challenge_results).where(
            AgentProgress.agent_id == agent_id
        )
    ):
        for result in results or []:
            stamp = result.get("recorded_at") if isinstance(result, dict) else None
            if stamp is None:
                continue
            moment = datetime.fromisoformat(stamp)
            if latest is None or moment > latest:
                latest = moment
    return latest


def _own_match_sides(agent_id: str):
    """The agent's side of each of its completed matches: its own score, the
    outcome for it (win, loss, draw, or solo) and when the match ended.

    Two branches joined with UNION ALL rather than one join on
    ``participant1_id = p OR participant2_id = p``: each branch can then use
    its own index (``idx_matches_participants`` and
    ``idx_matches_participant2``), so the cost follows the agent's matches,
    not the size of the table.
    """
    branches = []
    for own_id, own_score in (
        (CompetitionMatch.participant1_id, CompetitionMatch.participant1_score),
        (CompetitionMatch.participant2_id, CompetitionMatch.participant2_score),
    ):
        outcome = case(
            (CompetitionMatch.participant2_id.is_(None), literal("solo")),
            (CompetitionMatch.winner_participant_id.is_(None), literal("draw")),
            (CompetitionMatch.winner_participant_id == own_id, literal("win")),
            else_=literal("loss"),
        )
        branches.append(
            select(
                own_score.label("score"),
                outcome.label("outcome"),
                CompetitionMatch.completed_at.label("completed_at"),
            )
            .join(CompetitionParticipant, CompetitionParticipant.id == own_id)
            .where(
                CompetitionParticipant.agent_id == agent_id,
                CompetitionMatch.status == "completed",
            )
        )
    return union_all(*branches)


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
    * ``last_trained_at``: the latest ``recorded_at`` of any challenge result
      of any attempt (``last_challenge_result_at``), so a retry, which
      resets the level's progress but keeps its history, keeps it too.
    * ``competency_score``: ``competency_from_progress``.
    """
    session.flush()
    agent = session.get(UniversityAgent, agent_id)
    if agent is None:
        return None

    sides = _own_match_sides(agent_id).subquery()
    row = session.execute(
        select(
            func.count().filter(sides.c.outcome == "win"),
            func.count().filter(sides.c.outcome == "loss"),
            func.count().filter(sides.c.outcome == "draw"),
            func.avg(sides.c.score),
            func.max(sides.c.score),
            func.max(sides.c.completed_at),
        )
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

    minutes = session.scalar(
        select(func.sum(AgentProgress.time_spent_minutes)).where(
            AgentProgress.agent_id == agent_id
        )
    )
    agent.training_hours = float(minutes or 0) / 60.0
    agent.last_trained_at = last_challenge_result_at(session, agent_id)
    agent.competency_score = competency_from_progress(session, agent_id)

    log.debug("refreshed counters of agent %s", agent_id)
    return agent


def _agent_type(value: Any) -> str:
    if value not in AGENT_TYPES:
        raise InvalidInput(
            f"Agent type {value!r} is unknown: use one of {', '.join(AGENT_TYPES)}."
        )
    return value


def _configuration(value: Any) -> dict[str, Any]:
    """The configuration as a dict; a JSON string that holds an object is
    parsed. Lists, strings, numbers and anything not JSON (NaN, Infinity)
    are refused."""
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except RecursionError:
            raise too_deep("configuration") from None
        except ValueError as error:
            raise InvalidInput(
                f"The configuration is not valid JSON ({json_error_text(error)}): "
                'write a JSON object such as {"model": "x"}.'
            ) from None
    if not isinstance(value, dict):
        raise InvalidInput(
            f"The configuration must be a JSON object (key: value pairs), not "
            f"{type(value).__name__} {value!r}."
        )
    # A plain JSON copy, so the caller's dict is not shared with the row;
    # NaN and Infinity are refused (not JSON; PostgreSQL refuses them).
    return storable_json(value, what="configuration")


def _specialization(value: Any) -> str | None:
    """Rule: one line of text (no control character), trimmed, at most 100
    characters; blank means none."""
    return clean_text(
        value,
        what="specialization",
        max_length=SPECIALIZATION_MAX_LENGTH,
        single_line=True,
    )


def _description(value: Any) -> str | None:
    """Rule: free text, trimmed (blank means none), that may hold tabs and
    line breaks but no other control character (NUL above all, which
    PostgreSQL cannot store)."""
    return clean_text(value, what="description")


def _refuse_taken_agent_name(
    session: Session, university_id: str, name: str, *, except_id: str | None = None
) -> None:
    query = select(UniversityAgent.name).where(
        UniversityAgent.university_id == university_id,
        func.lower(UniversityAgent.name) == func.lower(literal(name)),
    )
    if except_id is not None:
        query = query.where(UniversityAgent.id != except_id)
    taken = session.scalars(query.limit(1)).first()
    if taken is not None:
        raise Conflict(
            f"This university already has an agent named {taken!r}: choose another "
            f"name than {name!r} (names are compared without regard to case, and "
            "archived agents keep theirs)."
        )


def _refuse_full_university(session: Session, university: University) -> None:
    agents = non_archived_agent_count(session, university.id)
    if agents >= university.max_agents:
        raise QuotaExceeded(
            f"University {university.name!r} already has {agents} agents that "
            f"are not archived, its {FIELD_WORDS['max_agents']} of "
            f"{university.max_agents}: archive an agent or raise the agent quota "
            "to add another."
        )


def create_agent(
    session: Session,
    university_id: str,
    *,
    name: str,
    agent_type: str,
    configuration: dict[str, Any] | str | None = None,
    specialization: str | None = None,
    description: str | None = None,
) -> UniversityAgent:
    """Create an active agent in a university.

    Rules:

    * the name is trimmed, non-empty and at most 255 characters, and unique
      in its university without regard to case, archived agents included
      (importers find agents by name), else ``Conflict``;
    * ``agent_type`` is one of ``AGENT_TYPES``;
    * ``configuration`` is a JSON object: a dict, or a JSON string that
      parses to one (``None`` means ``{}``); lists, strings and numbers are
      refused;
    * ``specialization`` is one line of at most 100 characters and the
      description free text; neither holds a control character other than
      tabs and line breaks in the description (``clean_text``);
    * the university's non-archived agents stay within ``max_agents``
      (``QuotaExceeded``). The university's row lock makes the count and the
      insert atomic against other sessions.
    """
    name = clean_name(name, what="agent name")
    agent_type = _agent_type(agent_type)
    configuration = _configuration(configuration)
    specialization = _specialization(specialization)
    description = _description(description)

    university = lock_university_for_write(session, university_id)
    _refuse_taken_agent_name(session, university.id, name)
    _refuse_full_university(session, university)

    agent = UniversityAgent(
        university_id=university.id,
        name=name,
        agent_type=agent_type,
        configuration=configuration,
        specialization=specialization,
        description=description,
        status="active",
    )
    session.add(agent)
    session.flush()

    log.info("created agent %s (%s) in university %s", name, agent.id, university.id)
    return agent


def _folded(session: Session, names: list[str]) -> list[str]:
    """``names`` in lower case as the database folds them, so that matching
    in Python agrees with ``lower()`` comparisons in SQL on either engine
    (PostgreSQL's folding follows the database's locale, which may differ
    from Python's for a few letters)."""
    folded: list[str] = []
    # One row of up to 500 columns per query: SQLite allows 2,000 columns.
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        row = session.execute(select(*(func.lower(literal(n)) for n in chunk))).one()
        folded.extend(row)
    return folded


def ensure_agents(
    session: Session,
    university_id: str,
    names: Iterable[str],
    *,
    agent_type: str = "specialist",
) -> dict[str, UniversityAgent]:
    """The agents named ``names`` in a university, creating the missing ones;
    for importers.

    Rules: names are matched trimmed and without regard to case, so that
    ``"GPT-4 "`` finds ``gpt-4``; existing agents are returned as they are,
    archived ones included (they are never restored here). The missing ones
    are created with ``agent_type`` and an empty configuration, all or none:
    when they do not fit in ``max_agents`` the whole batch is refused with
    ``QuotaExceeded`` naming how many are missing and how many slots remain,
    before any agent is created. The result maps every given name, exactly
    as given, to its agent.
    """
    given = list(names)
    cleaned = [clean_name(name, what="agent name") for name in given]
    agent_type = _agent_type(agent_type)

    university = lock_university_for_write(session, university_id)

    keys = _folded(session, cleaned)
    existing: dict[str, UniversityAgent] = {}
    if keys:
        rows = session.execute(
            select(func.lower(UniversityAgent.name), UniversityAgent).where(
                UniversityAgent.university_id == university.id,
                func.lower(UniversityAgent.name).in_(set(keys)),
            )
        ).all()
        existing = {key: agent for key, agent in rows}

    # The first spelling of a missing name is the one created.
    missing: dict[str, str] = {}
    for key, name in zip(keys, cleaned, strict=True):
        if key not in existing and key not in missing:
            missing[key] = name
    if missing:
        in_use = non_archived_agent_count(session, university.id)
        free = max(0, university.max_agents - in_use)
        if len(missing) > free:
            raise QuotaExceeded(
                f"{len(missing)} agents are missing from university "
                f"{university.name!r} but only {free} of its {university.max_agents} "
                f"agent slots remain: raise its {FIELD_WORDS['max_agents']} or "
                "archive agents, then import again. No agent was created."
            )

    for key, name in missing.items():
        agent = UniversityAgent(
            university_id=university.id,
            name=name,
            agent_type=agent_type,
            configuration={},
            status="active",
        )
        session.add(agent)
        existing[key] = agent
    session.flush()

    if missing:
        log.info(
            "created %d agents in university %s for an import",
            len(missing),
            university.id,
        )
    return {name: existing[key] for name, key in zip(given, keys, strict=True)}


def get_agent(session: Session, university_id: str, agent_id: str) -> UniversityAgent:
    """The agent ``agent_id`` of the university ``university_id``.

    Rule (isolation): an agent of another university is ``NotFound``, as if it
    did not exist.
    """
    agent = session.scalars(
        select(UniversityAgent).where(
            UniversityAgent.id == agent_id,
            UniversityAgent.university_id == university_id,
        )
    ).one_or_none()
    if agent is None:
        raise NotFound(
            f"No agent has the id {agent_id!r} in university {university_id!r}."
        )
    return agent


def _locked_agent(
    session: Session, agent_id: str, university_id: str | None
) -> tuple[University, UniversityAgent]:
    """The agent and its university, the university locked for a write."""
    owner_id = session.scalar(
        select(UniversityAgent.university_id).where(UniversityAgent.id == agent_id)
    )
    if owner_id is None or (university_id is not None and owner_id != university_id):
        where = f" in university {university_id!r}" if university_id else ""
        raise NotFound(f"No agent has the id {agent_id!r}{where}.")

    university = lock_university_for_write(session, owner_id)
    agent = session.scalars(
        select(UniversityAgent)
        .where(UniversityAgent.id == agent_id)
        .execution_options(populate_existing=True)
    ).one()
    return university, agent


def open_competitions(session: Session, agent_id: str) -> list[str]:
    """Names of the scheduled or active competitions the agent still plays
    in (a disqualified competitor no longer does), by name; while there are
    any, the agent cannot be archived (``set_agent_status``)."""
    return list(
        session.scalars(
            select(Competition.name)
            .join(
                CompetitionParticipant,
                CompetitionParticipant.competition_id == Competition.id,
            )
            .where(
                CompetitionParticipant.agent_id == agent_id,
                CompetitionParticipant.participant_type == "competitor",
                CompetitionParticipant.status != "disqualified",
                Competition.status.in_(OPEN_COMPETITION_STATUSES),
            )
            .order_by(Competition.name)
        )
    )


def set_agent_status(
    session: Session,
    agent_id: str,
    status: str,
    *,
    university_id: str | None = None,
) -> UniversityAgent:
    """Move an agent to ``status``, one of ``AGENT_STATUSES``.

    Rules:

    * ``active``, ``training``, ``competing`` and ``idle`` can follow one
      another freely: they describe what the agent is doing;
    * archiving is refused while the agent is a competitor, not
      disqualified, in a scheduled or active competition
      (``InvalidTransition`` naming them): disqualify it there
      (``disqualify_participant``) or finish the competition first;
    * an archived agent comes back (to any other status) only when the
      university has a free ``max_agents`` slot (``QuotaExceeded``), since
      archived agents do not count against the quota and active ones do;
    * setting the status the agent already has changes nothing;
    * with ``university_id``, an agent of another university is
      ``NotFound`` (isolation).
    """
    if status not in AGENT_STATUSES:
        raise InvalidInput(
            f"Agent status {status!r} is unknown: use one of "
            f"{', '.join(AGENT_STATUSES)}."
        )

    university, agent = _locked_agent(session, agent_id, university_id)
    if agent.status == status:
        return agent

    if status == "archived":
        still_playing = open_competitions(session, agent.id)
        if still_playing:
            raise InvalidTransition(
                f"Agent {agent.name!r} competes in "
                f"{', '.join(repr(n) for n in still_playing)}, which are not "
                "finished: disqualify it from them (Competitions page, a "
                "competition's Participants tab), or complete or cancel them, "
                "before archiving."
            )
    elif agent.status == "archived":
        _refuse_full_university(session, university)

    previous = agent.status
    agent.status = status
    session.flush()

    log.info("agent %s: %s -> %s", agent.id, previous, status)
    return agent


def archive_agent(
    session: Session, agent_id: str, *, university_id: str | None = None
) -> UniversityAgent:
    """Archive an agent: it keeps its name and records but no longer counts
    against ``max_agents``. The rules of ``set_agent_status`` apply."""
    return set_agent_status(session, agent_id, "archived", university_id=university_id)


def restore_agent(
    session: Session,
    agent_id: str,
    *,
    status: str = "active",
    university_id: str | None = None,
) -> UniversityAgent:
    """Bring an archived agent back (``active`` unless told otherwise).

    Rules: only an archived agent can be restored (``InvalidTransition``
    otherwise), and only into a free ``max_agents`` slot (``QuotaExceeded``).
    """
    if status == "archived":
        raise InvalidInput("Restoring an agent needs a status other than archived.")

    _, agent = _locked_agent(session, agent_id, university_id)
    if agent.status != "archived":
        raise InvalidTransition(
            f"Agent {agent.name!r} is {agent.status}, not archived: there is "
            "nothing to restore."
        )
    return set_agent_status(session, agent_id, status, university_id=university_id)


def agent_version(agent: Any) -> str:
    """The version of the values ``update_agent`` can change (an agent's
    Settings form shows them all), from the agent or a query row."""
    return edit_version(agent, UPDATABLE_FIELDS)


def update_agent(
    session: Session,
    agent_id: str,
    *,
    university_id: str | None = None,
    seen_version: str | None = None,
    **changes: Any,
) -> UniversityAgent:
    """Change an agent's name, description, specialization or configuration.

    Rules: the same checks as ``create_agent`` (a new name must be free in
    the university, without regard to case); only ``UPDATABLE_FIELDS`` can
    change (type, status and counters have their own rules); an archived
    agent is read-only until it is restored (``InvalidTransition``); the
    configuration is replaced as a whole, not merged. With
    ``seen_version`` (a form's ``agent_version`` of the values it showed),
    an agent whose values changed since is refused (``StaleVersion``) and
    nothing is written: the form would put back the values it showed over
    the other change.
    """
    unknown = sorted(set(changes) - UPDATABLE_FIELDS)
    if unknown:
        raise InvalidInput(
            f"Cannot change {', '.join(unknown)} of an agent: change only "
            f"{', '.join(sorted(UPDATABLE_FIELDS))}."
        )
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = clean_name(changes["name"], what="agent name")
    if "description" in changes:
        values["description"] = _description(changes["description"])
    if "specialization" in changes:
        values["specialization"] = _specialization(changes["specialization"])
    if "configuration" in changes:
        values["configuration"] = _configuration(changes["configuration"])

    university, agent = _locked_agent(session, agent_id, university_id)
    if agent.status == "archived":
        raise InvalidTransition(
            f"Agent {agent.name!r} is archived and cannot be edited: restore it first."
        )
    # Compared under the university's lock, which every write to the agent
    # takes first, so no other save lands in between.
    refuse_stale_version(
        seen_version, agent_version(agent), what=f"Agent {agent.name!r}"
    )
    if "name" in values and values["name"] != agent.name:
        _refuse_taken_agent_name(
            session, university.id, values["name"], except_id=agent.id
        )

    for field, value in values.items():
        setattr(agent, field, value)
    session.flush()

    log.info("updated agent %s: %s", agent.id, ", ".join(sorted(values)))
    return agent
