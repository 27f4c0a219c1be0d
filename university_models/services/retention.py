"""Retention: moving long-inactive archived universities into the archive
tables, and bringing one back.

What moves: the ``universities`` row and its ``university_agents`` rows are
copied into ``universities_archive`` and ``university_agents_archive`` (with
``archived_at``); then the university row is deleted, and the database's
``ON DELETE CASCADE`` removes everything else it owned (curriculum paths and
levels, progress, competitions, participants, matches, training data,
proposals). Those other rows are gone for good: a restore brings back the
university and its agents only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, literal, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from university_models.db import UTCDateTime, read_session, transaction, utcnow
from university_models.errors import Conflict, InvalidInput, NotFound
from university_models.models import (
    ClientApplication,
    Organization,
    University,
    UniversityAgent,
    User,
    universities_archive,
    university_agents_archive,
)
from university_models.services.agents import refresh_agent_counters
from university_models.services.universities import (
    UNIVERSITY_NAMES_LOCK_KEY,
    tidy_name,
)
from university_models.services.validation import shown_time

log = logging.getLogger(__name__)

#: Days an archived, inactive university stays live when its settings say
#: nothing (the spec's default).
DEFAULT_RETENTION_DAYS = 365

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ArchiveResult:
    """One university the archive run considered due.

    ``archived`` is True once its move committed; False in a dry run or when
    the move failed, in which case ``error`` says why and the university is
    still fully live.
    """

    university_id: str
    name: str
    last_activity_at: datetime
    retention_days: int
    agents: int
    archived: bool
    error: str | None = None


def retention_days(settings: dict | None) -> int | None:
    """The university's retention period in days, from its settings.

    Rule: ``settings["data_retention_days"]``, default 365. A value that is
    not a whole number of days >= 1 makes the university ineligible for
    archiving (``None``): deleting data on a misread setting cannot be
    undone, so the run leaves it live and logs a warning instead.
    """
    value = (settings or {}).get("data_retention_days", DEFAULT_RETENTION_DAYS)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value != int(value) or value < 1:
        return None
    return int(value)


def _is_due(university_row, now: datetime) -> int | None:
    """The retention days when ``university_row`` is due, else None."""
    days = retention_days(university_row.settings)
    if days is None:
        log.warning(
            "university %s (%s) has an invalid data_retention_days %r: not archived",
            university_row.name,
            university_row.id,
            (university_row.settings or {}).get("data_retention_days"),
        )
        return None
    # Compared as elapsed time, not as now minus the period: a period of
    # millions of days (up to 2,147,483,647 may be stored) would take that
    # date before year 1, which Python cannot represent.
    elapsed = now - university_row.last_activity_at
    if days <= elapsed.days and elapsed > timedelta(days=days):
        return days
    return None


def find_due_universities(session: Session, *, now: datetime) -> list[ArchiveResult]:
    """The universities an archive run at ``now`` would move, oldest activity
    first (not yet archived).

    Rule: a university is due when its status is ``archived`` and its
    ``last_activity_at`` is strictly older than ``now`` minus its retention
    period. Active and suspended universities are never due, however old.
    Like the university list, this maintenance query looks across
    universities: it is how the job finds the ones to move.
    """
    if now.tzinfo is None:
        raise InvalidInput(f"now={shown_time(now)} has no time zone: give it one")

    # The retention period lives in each university's JSON settings, so the
    # status filter runs in SQL and the period comparison per candidate.
    agent_counts = (
        select(UniversityAgent.university_id, func.count().label("agents"))
        .group_by(UniversityAgent.university_id)
        .subquery()
    )
    rows = session.execute(
        select(
            University.id,
            University.name,
            University.settings,
            University.last_activity_at,
            func.coalesce(agent_counts.c.agents, 0).label("agents"),
        )
        .outerjoin(agent_counts, agent_counts.c.university_id == University.id)
        .where(University.status == "archived")
        .order_by(University.last_activity_at, University.id)
    ).all()

    due = []
    for row in rows:
        days = _is_due(row, now)
        if days is None:
            continue
        due.append(
            ArchiveResult(
                university_id=row.id,
                name=row.name,
                last_activity_at=row.last_activity_at,
                retention_days=days,
                agents=row.agents,
                archived=False,
            )
        )
    return due


def archive_university(session: Session, university_id: str, *, now: datetime) -> int:
    """Move one due university and its agents into the archive tables and
    delete its live rows; returns the number of agents moved.

    Rules: the university is locked and checked again inside the caller's
    transaction (someone may have restored or reactivated it since the list
    was made), and refused with ``Conflict`` when it is no longer due. The
    live rows go with one ``DELETE`` of the university row: the cascades
    remove the rest in the same statement, so
    the foreign keys without an ``ON DELETE`` action (progress to levels,
    matches to participants, proposals to training records, a competition's
    winner, an agent's current level) are checked only once everything is
    gone, on SQLite and PostgreSQL alike.
    """
    university = session.execute(
        select(
            University.id,
            University.name,
            University.status,
            University.settings,
            University.last_activity_at,
        )
        .where(University.id == university_id)
        .with_for_update()
    ).one_or_none()
    if university is None:
        raise NotFound(f"No live university has the id {university_id!r}.")
    if university.status != "archived" or _is_due(university, now) is None:
        raise Conflict(
            f"University {university.name!r} is no longer due for archiving "
            f"(status {university.status}, last activity "
            f"{shown_time(university.last_activity_at)}): run the archive again."
        )

    archived_at = literal(now, type_=UTCDateTime)
    live = University.__table__
    session.execute(
        insert(universities_archive).from_select(
            [*live.columns.keys(), "archived_at"],
            select(*live.columns, archived_at).where(live.c.id == university_id),
        )
    )
    agents = UniversityAgent.__table__
    # Counted, not taken from rowcount: INSERT ... SELECT reports -1 on some
    # drivers.
    moved = session.scalar(
        select(func.count()).where(agents.c.university_id == university_id)
    )
    session.execute(
        insert(university_agents_archive).from_select(
            [*agents.columns.keys(), "archived_at"],
            select(*agents.columns, archived_at).where(
                agents.c.university_id == university_id
            ),
        )
    )

    session.execute(delete(live).where(live.c.id == university_id))
    log.info(
        "archived university %s (%s) with %s agents",
        university.name,
        university_id,
        moved,
    )
    return moved


def archive_due_universities(
    engine: Engine,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    only: Collection[str] | None = None,
    progress: Progress | None = None,
) -> list[ArchiveResult]:
    """Archive every due university (see ``find_due_universities``), one
    university per transaction; with ``dry_run`` only list them.

    Rules: ``only`` (university ids) limits the run to the universities a
    person confirmed after a dry run: one that became due since is left for
    the next run, one that is no longer due is not moved. Archiving deletes
    what a university owned, so nothing moves that was not listed.
    Each university moves in its own transaction, so a run that stops
    or fails halfway leaves every university either fully live or fully
    archived, never in between. A university whose move fails (a database
    error) is rolled back, reported with ``archived=False`` and ``error``,
    and the run goes on with the next one. A dry run changes nothing.
    ``progress`` receives one line per university after its transaction
    ended.
    """
    now = now or utcnow()
    with read_session(engine) as session:
        due = find_due_universities(session, now=now)
    if only is not None:
        confirmed = set(only)
        due = [result for result in due if result.university_id in confirmed]
    if dry_run:
        for result in due:
            _report(progress, f"would archive {_describe(result)}")
        return due

    results = []
    for result in due:
        try:
            with transaction(engine) as session:
                moved = archive_university(session, result.university_id, now=now)
        except (SQLAlchemyError, Conflict, NotFound) as error:
            # One line for the operator; the traceback only with --verbose.
            log.error(
                "archiving university %s failed: %s",
                result.university_id,
                _short(error),
            )
            log.debug(
                "archiving university %s failed", result.university_id, exc_info=True
            )
            done = replace(result, archived=False, error=_short(error))
            results.append(done)
            _report(progress, f"FAILED {_describe(done)}: {done.error}")
            continue
        done = replace(result, archived=True, agents=moved)
        results.append(done)
        _report(progress, f"archived {_describe(done)}")
    return results


def _short(error: Exception) -> str:
    """The first line of an error, for a person; the log has the rest."""
    return str(error).strip().splitlines()[0] if str(error).strip() else repr(error)


def _describe(result: ArchiveResult) -> str:
    return (
        f"{result.name!r} ({result.university_id}): {result.agents} agents, "
        f"last activity {result.last_activity_at:%Y-%m-%d}, "
        f"retention {result.retention_days} days"
    )


def _report(progress: Progress | None, line: str) -> None:
    if progress is not None:
        progress(line)


def find_archived_university(session: Session, name_or_id: str):
    """The ``universities_archive`` row named ``name_or_id`` (its id, or
    else its exact name), or ``NotFound`` listing the archived names.

    Rule: an id wins over a name; a name shared by several archived
    universities is refused with their ids, so the person picks one.
    """
    table = universities_archive
    row = session.execute(select(table).where(table.c.id == name_or_id)).one_or_none()
    if row is not None:
        return row

    rows = session.execute(select(table).where(table.c.name == name_or_id)).all()
    if len(rows) > 1:
        ids = ", ".join(sorted(r.id for r in rows))
        raise InvalidInput(
            f"{len(rows)} archived universities are named {name_or_id!r} "
            f"(ids {ids}): restore one by its id."
        )
    if rows:
        return rows[0]

    live = session.execute(
        select(University.name, University.status)
        .where(
            (University.id == name_or_id)
            | (func.lower(University.name) == func.lower(tidy_name(name_or_id)))
        )
        .limit(1)
    ).first()
    if live is not None:
        # "archived" is also a live status: such a university has not been
        # moved yet, and a person who sees it listed asks to restore it.
        raise NotFound(
            f"University {live.name!r} is live (status {live.status}), not in the "
            "archive: restore brings back universities that retention moved "
            "there. To make it active again, run `university set-status "
            f"{live.name!r} active` or press Reactivate on the Universities page."
        )

    names = session.scalars(
        select(table.c.name).order_by(table.c.name).distinct().limit(20)
    ).all()
    known = ", ".join(repr(n) for n in names) if names else "none"
    raise NotFound(
        f"No archived university is named or has the id {name_or_id!r}. "
        f"Archived universities: {known}."
    )


def restore_university(session: Session, name_or_id: str) -> University:
    """Bring an archived university and its agents back as live rows.

    Rules:

    * Only the university row and its agent rows come back. Everything else
      the university owned (curriculum paths, progress, competitions,
      matches, training data, proposals) was deleted when it was archived
      and is gone for good.
    * The university comes back with status ``archived`` (an administrator
      reactivates it on purpose) and ``last_activity_at`` = now, so the next
      archive run does not move it straight back.
    * Agents keep their id, name, type, configuration, specialization and
      status; their current path and level are cleared (the curriculum is
      gone) and their counters are recomputed from their records, which
      means reset to zero.
    * Refused when a live university has the same id (``Conflict``) or the
      same name (``Conflict``: rename or archive that one first), and when
      the owner user no longer exists (``NotFound``). An organization or
      client application that no longer exists is cleared, with a warning
      in the log.
    * The rows are removed from the archive tables in the same transaction.
    """
    archived = find_archived_university(session, name_or_id)

    if session.get(University, archived.id) is not None:
        raise Conflict(
            f"A live university already has the id {archived.id!r}: nothing to restore."
        )
    # The same lock as creating and renaming universities, so that a
    # concurrent create cannot take the name between this check and the
    # insert (SQLite's write transaction already serialises them).
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"),
            {"key": UNIVERSITY_NAMES_LOCK_KEY},
        )
    clash = session.scalar(
        select(University.id).where(
            func.lower(University.name) == archived.name.lower()
        )
    )
    if clash is not None:
        raise Conflict(
            f"A live university is already named {archived.name!r} (id {clash}): "
            "rename it before restoring the archived one."
        )
    if session.get(User, archived.owner_user_id) is None:
        raise NotFound(
            f"The owner of archived university {archived.name!r} "
            f"(user id {archived.owner_user_id!r}) no longer exists: it cannot "
            "be restored without an owner."
        )

    values = dict(archived._mapping)
    values.pop("archived_at")
    if values["organization_id"] and not session.get(
        Organization, values["organization_id"]
    ):
        log.warning(
            "organization %s of university %s is gone: restored without it",
            values["organization_id"],
            archived.id,
        )
        values["organization_id"] = None
    if values["client_app_id"] and not session.get(
        ClientApplication, values["client_app_id"]
    ):
        log.warning(
            "client application %s of university %s is gone: restored without it",
            values["client_app_id"],
            archived.id,
        )
        values["client_app_id"] = None
    now = utcnow()
    values.update(status="archived", last_activity_at=now, updated_at=now)
    session.execute(insert(University.__table__).values(**values))

    agent_rows = session.execute(
        select(university_agents_archive).where(
            university_agents_archive.c.university_id == archived.id
        )
    ).all()
    for row in agent_rows:
        agent = dict(row._mapping)
        agent.pop("archived_at")
        agent.update(
            current_curriculum_path_id=None,
            current_curriculum_level_id=None,
            current_challenge_index=0,
            updated_at=now,
        )
        session.execute(insert(UniversityAgent.__table__).values(**agent))
    for row in agent_rows:
        refresh_agent_counters(session, row.id)

    session.execute(
        delete(university_agents_archive).where(
            university_agents_archive.c.university_id == archived.id
        )
    )
    session.execute(
        delete(universities_archive).where(universities_archive.c.id == archived.id)
    )
    session.flush()
    log.info(
        "restored university %s (%s) with %s agents",
        archived.name,
        archived.id,
        len(agent_rows),
    )
    return session.get(University, archived.id)


def archived_university_names(session: Session) -> list[tuple[str, str, datetime]]:
    """(id, name, archived_at) of every archived university, newest first."""
    table = universities_archive
    return [
        tuple(row)
        for row in session.execute(
            select(table.c.id, table.c.name, table.c.archived_at).order_by(
                table.c.archived_at.desc(), table.c.name
            )
        ).all()
    ]


__all__ = [
    "ArchiveResult",
    "archive_due_universities",
    "archive_university",
    "archived_university_names",
    "find_archived_university",
    "find_due_universities",
    "restore_university",
    "retention_days",
]
