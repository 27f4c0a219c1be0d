"""CSV reports of one university, streamed in keyset pages.

The Exports page and ``python -m university_models export`` both use
``csv_chunks``: a generator of CSV text, one chunk per page of rows, so that
an export of any size never holds its table in memory.

Rules of every report (the issue asks for them; details decided here):

* UTF-8, a header row of stable snake_case names (``REPORT_COLUMNS``), one
  row per record, every matching row;
* times in ISO 8601 with the UTC offset (``2026-12-03T19:05:00+00:00``);
  empty cells for missing values (``None``, NaN); ``true``/``false`` for
  booleans;
* rows in a stable order, read ``page_size`` at a time with keyset paging
  (``WHERE (order key) > (last key seen)``), never ``OFFSET``, so a page is
  as cheap as the first and a row written meanwhile is neither repeated nor
  skipped ahead of the cursor;
* each report accepts only the filters that mean something for it
  (``REPORT_FILTERS``); any other filter is refused, naming those it takes;
* the file name holds the report, the university and every filter in use,
  and the UTC day: ``leaderboard_lyceum-demo_competition-arena_2026-12-03.csv``;
* the training-data report carries what describes each record, not its raw
  content: raw data may hold personal data, and a CSV leaves the
  university's privacy rules behind.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, literal, select, tuple_
from sqlalchemy.orm import Session, aliased

from university_models.errors import InvalidInput, NotFound
from university_models.models import (
    AGENT_TYPES,
    DATA_TYPES,
    MATCH_STATUSES,
    PROGRESS_STATUSES,
    PROPOSAL_STATUSES,
    SOURCE_TYPES,
    VALIDATION_STATUSES,
    AgentProgress,
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    CurriculumLevel,
    CurriculumPath,
    ImprovementProposal,
    TrainingDataCollection,
    University,
    UniversityAgent,
)
from university_models.queries.time_buckets import day_range
from university_models.services.competitions import FORFEIT
from university_models.services.universities import tidy_name

log = logging.getLogger(__name__)

#: Rows read from the database per page (and per CSV chunk).
PAGE_SIZE = 1000

#: The most rows the dashboard builds into one download. A browser download
#: needs the whole file in the server's memory (about 100 MB at this size);
#: a larger report is written by the command line, which streams.
BROWSER_EXPORT_ROW_LIMIT = 250_000

REPORTS = ("leaderboard", "progress", "training-data", "proposals", "matches")


@dataclass(frozen=True)
class ExportFilters:
    """What a person narrowed a report to. ``None`` does not restrict.

    ``status`` is the status the report is about: the progress status of a
    level, the validation status of a training record or a proposal, the
    status of a match. Dates are UTC days, both ends included."""

    competition_id: str | None = None
    path_id: str | None = None
    agent_type: str | None = None
    specialization: str | None = None
    status: str | None = None
    data_type: str | None = None
    source_type: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def used(self) -> list[str]:
        """The names of the filters that are set."""
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]


#: Which filters each report takes, and what its date range applies to.
REPORT_FILTERS: dict[str, tuple[str, ...]] = {
    "leaderboard": (
        "competition_id",
        "agent_type",
        "specialization",
        "date_from",
        "date_to",
    ),
    "progress": ("path_id", "agent_type", "specialization", "status"),
    "training-data": (
        "agent_type",
        "status",
        "data_type",
        "source_type",
        "date_from",
        "date_to",
    ),
    "proposals": ("status", "date_from", "date_to"),
    "matches": ("competition_id", "status", "date_from", "date_to"),
}

#: What the date range of each report bounds.
DATE_MEANING = {
    "leaderboard": "matches completed",
    "training-data": "records collected",
    "proposals": "proposals created",
    "matches": "matches completed",
}

#: The allowed values of ``status`` per report.
STATUS_CHOICES: dict[str, tuple[str, ...]] = {
    "progress": PROGRESS_STATUSES,
    "training-data": VALIDATION_STATUSES,
    "proposals": PROPOSAL_STATUSES,
    "matches": MATCH_STATUSES,
}

REPORT_COLUMNS: dict[str, list[str]] = {
    "leaderboard": [
        "rank",
        # Ranks are shared within a comparison group only.
        "group",
        "agent_id",
        "agent",
        "agent_type",
        "specialization",
        "rating",
        "rating_lower",
        "rating_upper",
        "matches",
        "wins",
        "draws",
        "losses",
        "win_rate",
        "points",
        "average_score",
        "highest_score",
        "interval_note",
    ],
    "progress": [
        "progress_id",
        "agent_id",
        "agent",
        "agent_type",
        "curriculum_path",
        "level_number",
        "level",
        "status",
        "challenges_completed",
        "total_challenges",
        "current_score",
        "best_score",
        "average_score",
        "time_spent_minutes",
        "started_at",
        "completed_at",
        "last_activity_at",
    ],
    "training-data": [
        "record_id",
        "agent_id",
        "agent",
        "source_type",
        "source_id",
        "data_type",
        "quality_score",
        "validation_status",
        "privacy_level",
        "anonymized",
        "collected_at",
        "validated_at",
    ],
    "proposals": [
        "proposal_id",
        "title",
        "description",
        "generated_by",
        "source_record_id",
        "expected_improvement",
        "validation_status",
        "validated_by",
        "validated_at",
        "implementation_status",
        "implemented_at",
        "created_at",
    ],
    "matches": [
        "match_id",
        "competition",
        "competition_type",
        "match_number",
        "status",
        "agent_1",
        "agent_2",
        "agent_1_score",
        "agent_2_score",
        "winner",
        "started_at",
        "completed_at",
        "round",
        "walkover",
    ],
}


# --------------------------------------------------------------------------
# Checking a request


def _require_report(report: str) -> None:
    if report not in REPORTS:
        raise InvalidInput(
            f"There is no report {report!r}; choose one of {', '.join(REPORTS)}."
        )


def check_filters(report: str, filters: ExportFilters) -> None:
    """Refuse filters the report does not take and values outside their
    lists, naming what is allowed."""
    _require_report(report)
    allowed = REPORT_FILTERS[report]
    extra = [name for name in filters.used() if name not in allowed]
    if extra:
        raise InvalidInput(
            f"The {report} report cannot be filtered by {', '.join(extra)}; it "
            f"takes {', '.join(allowed)}."
        )
    if filters.agent_type is not None and filters.agent_type not in AGENT_TYPES:
        raise InvalidInput(
            f"Agent type {filters.agent_type!r} does not exist; choose one of "
            f"{', '.join(AGENT_TYPES)}."
        )
    if filters.status is not None and filters.status not in STATUS_CHOICES[report]:
        raise InvalidInput(
            f"Status {filters.status!r} does not exist in the {report} report; "
            f"choose one of {', '.join(STATUS_CHOICES[report])}."
        )
    if filters.data_type is not None and filters.data_type not in DATA_TYPES:
        raise InvalidInput(
            f"Data type {filters.data_type!r} does not exist; choose one of "
            f"{', '.join(DATA_TYPES)}."
        )
    if filters.source_type is not None and filters.source_type not in SOURCE_TYPES:
        raise InvalidInput(
            f"Source type {filters.source_type!r} does not exist; choose one of "
            f"{', '.join(SOURCE_TYPES)}."
        )
    if (
        filters.date_from is not None
        and filters.date_to is not None
        and filters.date_from > filters.date_to
    ):
        raise InvalidInput(
            f"The period starts on {filters.date_from} after it ends on "
            f"{filters.date_to}; swap the dates."
        )


def _university(session: Session, university_id: str) -> University:
    university = session.get(University, university_id)
    if university is None:
        raise NotFound(f"No university has the id {university_id!r}.")
    return university


def find_competition(session: Session, university_id: str, name: str) -> Competition:
    """The competition of this university named ``name`` (case-insensitive,
    tidied: ``tidy_name``); ``NotFound`` lists the names that exist."""
    found = session.scalars(
        select(Competition)
        .where(
            Competition.university_id == university_id,
            func.lower(Competition.name) == tidy_name(name).lower(),
        )
        .order_by(Competition.created_at)
        .limit(1)
    ).first()
    if found is not None:
        return found
    names = session.scalars(
        select(Competition.name)
        .where(Competition.university_id == university_id)
        .order_by(Competition.name)
        .limit(21)
    ).all()
    listed = ", ".join(repr(n) for n in names[:20]) or "none yet"
    raise NotFound(f"No competition is named {name!r} here; there are {listed}.")


def find_path(session: Session, university_id: str, name: str) -> CurriculumPath:
    """The curriculum path of this university named ``name`` (case-insensitive,
    tidied: ``tidy_name``); ``NotFound`` lists the names that exist."""
    found = session.scalars(
        select(CurriculumPath)
        .where(
            CurriculumPath.university_id == university_id,
            func.lower(CurriculumPath.name) == tidy_name(name).lower(),
        )
        .order_by(CurriculumPath.created_at)
        .limit(1)
    ).first()
    if found is not None:
        return found
    names = session.scalars(
        select(CurriculumPath.name)
        .where(CurriculumPath.university_id == university_id)
        .order_by(CurriculumPath.name)
        .limit(21)
    ).all()
    listed = ", ".join(repr(n) for n in names[:20]) or "none yet"
    raise NotFound(f"No curriculum path is named {name!r} here; there are {listed}.")


def _scoped_name(session: Session, model, university_id: str, key: str) -> str:
    name = session.scalar(
        select(model.name).where(model.id == key, model.university_id == university_id)
    )
    if name is None:
        raise NotFound(
            f"This university has no {model.__tablename__[:-1].replace('_', ' ')} "
            f"with the id {key!r}."
        )
    return name


# --------------------------------------------------------------------------
# File names


def slug(text: str) -> str:
    """``text`` lower-cased with every run of other characters than letters
    and digits replaced by one hyphen: ``Lyceum Demo`` -> ``lyceum-demo``."""
    cleaned = re.sub(r"[^0-9a-z]+", "-", text.lower()).strip("-")
    return cleaned or "unnamed"


def filter_labels(
    session: Session, university_id: str, filters: ExportFilters
) -> list[tuple[str, str]]:
    """The filters in use as (label, value) pairs a person recognises:
    competition and path by name, dates as ISO days."""
    labels: list[tuple[str, str]] = []
    if filters.competition_id is not None:
        labels.append(
            (
                "competition",
                _scoped_name(
                    session, Competition, university_id, filters.competition_id
                ),
            )
        )
    if filters.path_id is not None:
        labels.append(
            (
                "path",
                _scoped_name(session, CurriculumPath, university_id, filters.path_id),
            )
        )
    for name in ("agent_type", "specialization", "status", "data_type", "source_type"):
        value = getattr(filters, name)
        if value is not None:
            labels.append((name.replace("_", "-"), value))
    if filters.date_from is not None:
        labels.append(("from", filters.date_from.isoformat()))
    if filters.date_to is not None:
        labels.append(("to", filters.date_to.isoformat()))
    return labels


def export_file_name(
    report: str,
    university_name: str,
    labels: list[tuple[str, str]],
    *,
    today: date | None = None,
) -> str:
    """``REPORT_UNIVERSITY[_LABEL-VALUE...]_DAY.csv``, every part slugged.

    Rule: the file name says what is in the file, so two exports with
    different filters never overwrite each other in a downloads folder."""
    _require_report(report)
    today = today or datetime.now(UTC).date()
    parts = [report, slug(university_name)]
    parts.extend(f"{slug(label)}-{slug(value)}" for label, value in labels)
    parts.append(today.isoformat())
    return "_".join(parts) + ".csv"


def export_command(
    report: str, university_name: str, labels: list[tuple[str, str]]
) -> str:
    """The ``python -m university_models export`` command line that writes
    the same report with the same filters (each label is the name of its
    command-line option), quoted for a POSIX shell."""
    _require_report(report)
    words = ["python", "-m", "university_models", "export", report]
    words += ["--university", university_name]
    for label, value in labels:
        words += [f"--{label}", value]
    return shlex.join(words)


# --------------------------------------------------------------------------
# The reports' queries


@dataclass(frozen=True)
class _Plan:
    """One report as a query: the statement (filters applied, no order),
    the order key (non-null columns, the last one unique) and how a result
    row becomes a CSV row."""

    statement: Select
    order: tuple[Any, ...]
    to_row: Callable[[Any], list[Any]]


def _date_conditions(column, filters: ExportFilters) -> list[Any]:
    start, end = day_range(filters.date_from, filters.date_to)
    conditions = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column < end)
    return conditions


def _progress_plan(university_id: str, filters: ExportFilters) -> _Plan:
    conditions = [UniversityAgent.university_id == university_id]
    if filters.path_id is not None:
        conditions.append(CurriculumPath.id == filters.path_id)
    if filters.agent_type is not None:
        conditions.append(UniversityAgent.agent_type == filters.agent_type)
    if filters.specialization is not None:
        conditions.append(UniversityAgent.specialization == filters.specialization)
    if filters.status is not None:
        conditions.append(AgentProgress.status == filters.status)
    statement = (
        select(
            AgentProgress.id,
            UniversityAgent.id,
            UniversityAgent.name,
            UniversityAgent.agent_type,
            CurriculumPath.name,
            CurriculumLevel.level_number,
            CurriculumLevel.name,
            AgentProgress.status,
            AgentProgress.challenges_completed,
            AgentProgress.total_challenges,
            AgentProgress.current_score,
            AgentProgress.best_score,
            AgentProgress.average_score,
            AgentProgress.time_spent_minutes,
            AgentProgress.started_at,
            AgentProgress.completed_at,
            AgentProgress.last_activity_at,
        )
        .join(UniversityAgent, UniversityAgent.id == AgentProgress.agent_id)
        .join(CurriculumLevel, CurriculumLevel.id == AgentProgress.curriculum_level_id)
        .join(CurriculumPath, CurriculumPath.id == CurriculumLevel.curriculum_path_id)
        .where(*conditions)
    )
    order = (
        UniversityAgent.name,
        CurriculumPath.name,
        CurriculumLevel.level_number,
        AgentProgress.id,
    )
    return _Plan(statement, order, list)


def _training_data_plan(university_id: str, filters: ExportFilters) -> _Plan:
    record = TrainingDataCollection
    conditions = [record.university_id == university_id]
    if filters.agent_type is not None:
        conditions.append(UniversityAgent.agent_type == filters.agent_type)
    if filters.status is not None:
        conditions.append(record.validation_status == filters.status)
    if filters.data_type is not None:
        conditions.append(record.data_type == filters.data_type)
    if filters.source_type is not None:
        conditions.append(record.source_type == filters.source_type)
    conditions.extend(_date_conditions(record.collected_at, filters))
    statement = (
        select(
            record.id,
            UniversityAgent.id,
            UniversityAgent.name,
            record.source_type,
            record.source_id,
            record.data_type,
            record.quality_score,
            record.validation_status,
            record.privacy_level,
            record.anonymized,
            record.collected_at,
            record.validated_at,
        )
        .join(UniversityAgent, UniversityAgent.id == record.agent_id)
        .where(*conditions)
    )
    return _Plan(statement, (record.collected_at, record.id), list)


def _proposals_plan(university_id: str, filters: ExportFilters) -> _Plan:
    proposal = ImprovementProposal
    conditions = [proposal.university_id == university_id]
    if filters.status is not None:
        conditions.append(proposal.validation_status == filters.status)
    conditions.extend(_date_conditions(proposal.created_at, filters))
    statement = select(
        proposal.id,
        proposal.title,
        proposal.description,
        proposal.generated_by,
        proposal.source_data_collection_id,
        proposal.expected_improvement,
        proposal.validation_status,
        proposal.validated_by,
        proposal.validated_at,
        proposal.implementation_status,
        proposal.implemented_at,
        proposal.created_at,
    ).where(*conditions)
    return _Plan(statement, (proposal.created_at, proposal.id), list)


def _matches_plan(university_id: str, filters: ExportFilters) -> _Plan:
    match = CompetitionMatch
    one, two, winner = (aliased(CompetitionParticipant) for _ in range(3))
    agent_one, agent_two, agent_winner = (aliased(UniversityAgent) for _ in range(3))
    conditions = [Competition.university_id == university_id]
    if filters.competition_id is not None:
        conditions.append(match.competition_id == filters.competition_id)
    if filters.status is not None:
        conditions.append(match.status == filters.status)
    conditions.extend(_date_conditions(match.completed_at, filters))
    statement = (
        select(
            match.id,
            Competition.name,
            Competition.competition_type,
            match.match_number,
            match.status,
            agent_one.name,
            agent_two.name,
            match.participant1_score,
            match.participant2_score,
            agent_winner.name,
            match.started_at,
            match.completed_at,
            match.match_config,
        )
        .join(Competition, Competition.id == match.competition_id)
        .join(one, one.id == match.participant1_id)
        .join(agent_one, agent_one.id == one.agent_id)
        .outerjoin(two, two.id == match.participant2_id)
        .outerjoin(agent_two, agent_two.id == two.agent_id)
        .outerjoin(winner, winner.id == match.winner_participant_id)
        .outerjoin(agent_winner, agent_winner.id == winner.agent_id)
        .where(*conditions)
    )
    order = (Competition.name, Competition.id, match.match_number, match.id)
    return _Plan(statement, order, _match_row)


def _match_row(row) -> list[Any]:
    """A match's CSV row: its columns, then from its ``match_config`` the
    round as written (a bracket's number, or an imported log's own text)
    and whether it was a walkover (forfeited to the side still playing
    after a disqualification: a win without scores)."""
    *columns, config = row
    config = config if isinstance(config, dict) else {}
    return [*columns, config.get("round"), bool(config.get(FORFEIT))]


_PLANS = {
    "progress": _progress_plan,
    "training-data": _training_data_plan,
    "proposals": _proposals_plan,
    "matches": _matches_plan,
}


def _leaderboard(
    session: Session, university_id: str, filters: ExportFilters
) -> pd.DataFrame:
    from university_models.queries.leaderboard import rated_leaderboard

    return rated_leaderboard(
        session,
        university_id,
        competition_id=filters.competition_id,
        agent_type=filters.agent_type,
        specialization=filters.specialization,
        played_from=filters.date_from,
        played_to=filters.date_to,
    )


# --------------------------------------------------------------------------
# Counting and streaming


def count_rows(
    session: Session, report: str, university_id: str, filters: ExportFilters
) -> int:
    """How many rows the report will hold (not counting the header),
    counted in the database."""
    check_filters(report, filters)
    _university(session, university_id)
    if report == "leaderboard":
        from university_models.queries.leaderboard import match_records

        # One row per agent with a completed match in scope: the same agents
        # the ratings leaderboard lists, without fitting the ratings.
        return len(
            match_records(
                session,
                university_id,
                competition_id=filters.competition_id,
                agent_type=filters.agent_type,
                specialization=filters.specialization,
                played_from=filters.date_from,
                played_to=filters.date_to,
            )
        )
    plan = _PLANS[report](university_id, filters)
    return session.scalar(select(func.count()).select_from(plan.statement.subquery()))


#: What makes a spreadsheet read a text cell as a formula (OWASP's list).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} in an export")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars from pandas
        return _cell(value.item())
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        # A spreadsheet runs a cell that starts like a formula; names come
        # from uploaded files, so text is quoted to stay text.
        return "'" + value
    return value


def csv_text(rows) -> str:
    """Rows as CSV text in the exports' cell format: empty cells for missing
    values (None, NaN, NA), ``true``/``false``, shortest exact floats, ISO
    8601 UTC times; CRLF line ends as RFC 4180 has them. Text that starts
    like a spreadsheet formula (``=``, ``+``, ``-``, ``@``, tab, carriage
    return) gets a leading ``'`` so that opening the file runs nothing."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([[_cell(value) for value in row] for row in rows])
    return buffer.getvalue()


def _keyset_pages(
    session: Session, plan: _Plan, page_size: int
) -> Iterator[list[list[Any]]]:
    width = len(plan.statement.selected_columns)
    statement = plan.statement.add_columns(*plan.order).order_by(*plan.order)
    last: tuple[Any, ...] | None = None
    while True:
        page = statement
        if last is not None:
            # Row-value comparison: each bound value typed like its column,
            # so times go through UTCDateTime on both engines.
            after = tuple_(
                *(
                    literal(value, column.type)
                    for value, column in zip(last, plan.order, strict=True)
                )
            )
            page = page.where(tuple_(*plan.order) > after)
        rows = session.execute(page.limit(page_size)).all()
        if not rows:
            return
        yield [plan.to_row(row[:width]) for row in rows]
        if len(rows) < page_size:
            return
        last = tuple(rows[-1][width:])


def _pages(
    session: Session,
    report: str,
    university_id: str,
    filters: ExportFilters,
    page_size: int,
) -> Iterator[list[list[Any]]]:
    """The report's rows in its order, a page at a time.

    The matches report is ordered by competition name, a column of another
    table, so one keyset over all the university's matches would sort every
    match for each page; it is paged one competition after another instead
    (competitions by name and id, each one's matches by number and id
    through its own index), which gives the same rows in the same order."""
    if report != "matches":
        yield from _keyset_pages(
            session, _PLANS[report](university_id, filters), page_size
        )
        return

    competition_ids = session.scalars(
        select(Competition.id)
        .where(
            Competition.university_id == university_id,
            *(
                [Competition.id == filters.competition_id]
                if filters.competition_id is not None
                else []
            ),
        )
        .order_by(Competition.name, Competition.id)
    ).all()
    for competition_id in competition_ids:
        plan = _matches_plan(
            university_id, replace(filters, competition_id=competition_id)
        )
        within = (CompetitionMatch.match_number, CompetitionMatch.id)
        yield from _keyset_pages(
            session, _Plan(plan.statement, within, plan.to_row), page_size
        )


def csv_chunks(
    session: Session,
    report: str,
    university_id: str,
    filters: ExportFilters | None = None,
    *,
    page_size: int = PAGE_SIZE,
    progress: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """The report as CSV text: the header row first, then one chunk per page
    of ``page_size`` rows. ``progress(rows_so_far)`` is called after each
    chunk.

    Rules: see the module docstring. The filters are checked (and refused)
    before the first chunk is produced."""
    filters = filters or ExportFilters()
    check_filters(report, filters)
    _university(session, university_id)
    if page_size < 1:
        raise InvalidInput(f"A page holds at least one row, not {page_size}.")

    columns = REPORT_COLUMNS[report]
    return _generate(
        session, report, university_id, filters, columns, page_size, progress
    )


def _generate(session, report, university_id, filters, columns, page_size, progress):
    yield csv_text([columns])
    written = 0
    if report == "leaderboard":
        # One row per agent, bounded by the university's max_agents: the
        # ratings are fitted on all of them at once, then written in pages.
        # TODO: no progress is reported while the ratings and their bootstrap
        # intervals are fitted (about a second on the demo, more on a huge log).
        board = _leaderboard(session, university_id, filters)
        for start in range(0, len(board), page_size):
            chunk = board.iloc[start : start + page_size][columns]
            written += len(chunk)
            yield csv_text(chunk.itertuples(index=False, name=None))
            if progress is not None:
                progress(written)
        return

    for rows in _pages(session, report, university_id, filters, page_size):
        written += len(rows)
        yield csv_text(rows)
        if progress is not None:
            progress(written)
    log.info("exported %d rows of the %s report", written, report)


# --------------------------------------------------------------------------
# What the Exports page calls (keyword filters, so they can be cached)


def report_size(
    session: Session, university_id: str, *, report: str, **filter_values: Any
) -> int:
    """``count_rows`` with the filters as keywords (``ExportFilters`` fields)."""
    return count_rows(session, report, university_id, ExportFilters(**filter_values))


def report_file_name(
    session: Session,
    university_id: str,
    *,
    report: str,
    today: date | None = None,
    **filter_values: Any,
) -> str:
    """The file name of the report for this university and these filters."""
    filters = ExportFilters(**filter_values)
    check_filters(report, filters)
    university = _university(session, university_id)
    labels = filter_labels(session, university_id, filters)
    return export_file_name(report, university.name, labels, today=today)


def report_command(
    session: Session, university_id: str, *, report: str, **filter_values: Any
) -> str:
    """``export_command`` for this university and these filters."""
    filters = ExportFilters(**filter_values)
    check_filters(report, filters)
    university = _university(session, university_id)
    labels = filter_labels(session, university_id, filters)
    return export_command(report, university.name, labels)


def csv_bytes(
    session: Session,
    report: str,
    university_id: str,
    filters: ExportFilters | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """The whole report as UTF-8 bytes, built from ``csv_chunks`` (for a
    browser download, which needs the file at once; the CLI streams)."""
    buffer = io.BytesIO()
    for chunk in csv_chunks(session, report, university_id, filters, progress=progress):
        buffer.write(chunk.encode("utf-8"))
    return buffer.getvalue()
