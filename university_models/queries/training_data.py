"""The Training data page: quality by data type, validation over time,
sources, anonymization coverage, and the review queue.

Every function is scoped to one university. The review queue uses the
same filter as the bulk actions (``services.training_data.TrainingDataFilter``
and its ``filter_conditions``), so the rows a person sees and the records a
bulk action changes are the same set.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.orm import Session

from university_models.db import utcnow
from university_models.models import (
    DATA_TYPES,
    SOURCE_TYPES,
    VALIDATION_STATUSES,
    TrainingDataCollection,
    UniversityAgent,
)
from university_models.queries.time_buckets import (
    all_days,
    day_bucket,
    day_range,
    dialect_name,
    to_dates,
)
from university_models.services.training_data import (
    TrainingDataFilter,
    count_matching,
    filter_conditions,
)

log = logging.getLogger(__name__)

#: Quality-score buckets of the histogram: [0, 0.1), [0.1, 0.2) ... [0.9, 1].
QUALITY_BINS = 10

#: Rows of the review queue shown at once; paging fetches the rest.
QUEUE_PAGE_SIZE = 50

QUEUE_COLUMNS = [
    "id",
    "agent",
    "data_type",
    "source_type",
    "quality_score",
    "validation_status",
    "privacy_level",
    "anonymized",
    "collected_at",
]

Record = TrainingDataCollection


def record_filter(
    university_id: str,
    *,
    agent_id: str | None = None,
    data_type: str | None = None,
    source_type: str | None = None,
    validation_status: str | None = None,
    min_quality: float | None = None,
    max_quality: float | None = None,
    collected_from: date | None = None,
    collected_to: date | None = None,
    record_ids: tuple[str, ...] | None = None,
) -> TrainingDataFilter:
    """The bulk-action filter for what a person chose on the page.

    Rule: dates are UTC days, both included (the filter's end is the last
    microsecond of ``collected_to``)."""
    start, end = day_range(collected_from, collected_to)
    return TrainingDataFilter(
        university_id=university_id,
        agent_id=agent_id,
        data_type=data_type,
        source_type=source_type,
        validation_status=validation_status,
        min_quality=min_quality,
        max_quality=max_quality,
        collected_from=start,
        collected_to=None if end is None else end - timedelta(microseconds=1),
        record_ids=None if record_ids is None else tuple(record_ids),
    )


def quality_histogram(
    session: Session, university_id: str, *, bins: int = QUALITY_BINS
) -> pd.DataFrame:
    """Records per quality-score bucket and data type, bucketed in SQL.

    Columns: data_type, bucket (0..bins-1), low, high, records. Rules: a
    bucket holds ``low <= score < high``; the last also holds 1.0; scores
    outside [0, 1] fall in the first or last bucket; every bucket of every
    data type that has records is a row, empty ones with 0, so a chart's
    axis runs evenly from 0 to 1."""
    scaled = Record.quality_score * bins
    if dialect_name(session) == "postgresql":
        # CAST rounds on PostgreSQL; floor() truncates as SQLite's CAST does.
        whole = cast(func.floor(scaled), Integer)
    else:
        whole = cast(scaled, Integer)
    bucket = case(
        (Record.quality_score >= 1.0, bins - 1),
        (Record.quality_score < 0.0, 0),
        else_=whole,
    )
    rows = session.execute(
        select(Record.data_type, bucket.label("bucket"), func.count())
        .where(Record.university_id == university_id)
        .group_by(Record.data_type, bucket)
        .order_by(Record.data_type, bucket)
    ).all()
    counted = pd.DataFrame(rows, columns=["data_type", "bucket", "records"])
    every_bucket = pd.MultiIndex.from_product(
        [counted["data_type"].unique(), range(bins)], names=["data_type", "bucket"]
    )
    frame = (
        counted.astype({"bucket": int})
        .set_index(["data_type", "bucket"])
        .reindex(every_bucket, fill_value=0)
        .reset_index()
    )
    frame["low"] = frame["bucket"] / bins
    frame["high"] = (frame["bucket"] + 1) / bins
    return frame[["data_type", "bucket", "low", "high", "records"]]


def validation_over_time(
    session: Session,
    university_id: str,
    *,
    days: int = 30,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Records collected per UTC day of the last ``days`` days, by their
    validation status now. Columns: day, validation_status, records (only
    non-zero cells)."""
    now = now or utcnow()
    since = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=days - 1
    )
    day = day_bucket(session, Record.collected_at)
    rows = session.execute(
        select(day, Record.validation_status, func.count())
        .where(Record.university_id == university_id, Record.collected_at >= since)
        .group_by(day, Record.validation_status)
        .order_by(day, Record.validation_status)
    ).all()
    frame = pd.DataFrame(rows, columns=["day", "validation_status", "records"])
    frame["day"] = to_dates(frame["day"]) if not frame.empty else frame["day"]
    return frame


def validation_days(days: int = 30, now: datetime | None = None) -> list[date]:
    """The days ``validation_over_time`` covers, oldest first."""
    last = (now or utcnow()).date()
    return all_days(last - timedelta(days=days - 1), last)


def source_type_matrix(session: Session, university_id: str) -> pd.DataFrame:
    """Records and mean quality per source type x data type (every pair of
    the schema's lists, zeros included)."""
    rows = session.execute(
        select(
            Record.source_type,
            Record.data_type,
            func.count(),
            func.avg(Record.quality_score),
        )
        .where(Record.university_id == university_id)
        .group_by(Record.source_type, Record.data_type)
    ).all()
    found = {(source, kind): (count, mean) for source, kind, count, mean in rows}
    return pd.DataFrame(
        [
            {
                "source_type": source,
                "data_type": kind,
                "records": int(found.get((source, kind), (0, None))[0]),
                "mean_quality": (
                    float(found[(source, kind)][1])
                    if (source, kind) in found
                    else float("nan")
                ),
            }
            for source in SOURCE_TYPES
            for kind in DATA_TYPES
        ]
    )


def anonymization_coverage(session: Session, university_id: str) -> pd.DataFrame:
    """Per data type: records, anonymized records, their share, and how many
    are shared or public. Rule: shared and public records must be anonymized
    (the training-data service refuses otherwise), so ``exposed_raw`` (shared
    or public and not anonymized) should always be 0; the page flags it."""
    public = Record.privacy_level.in_(("shared", "public"))
    rows = session.execute(
        select(
            Record.data_type,
            func.count(),
            func.count().filter(Record.anonymized.is_(True)),
            func.count().filter(public),
            func.count().filter(public, Record.anonymized.is_(False)),
        )
        .where(Record.university_id == university_id)
        .group_by(Record.data_type)
        .order_by(Record.data_type)
    ).all()
    frame = pd.DataFrame(
        rows,
        columns=[
            "data_type",
            "records",
            "anonymized",
            "shared_or_public",
            "exposed_raw",
        ],
    )
    frame["share"] = frame["anonymized"] / frame["records"]
    return frame


def agent_choices(session: Session, university_id: str) -> pd.DataFrame:
    """The agents that produced training data: id and name, by name (at most
    1000)."""
    rows = session.execute(
        select(UniversityAgent.id, UniversityAgent.name)
        .where(
            UniversityAgent.university_id == university_id,
            UniversityAgent.id.in_(
                select(Record.agent_id).where(Record.university_id == university_id)
            ),
        )
        .order_by(UniversityAgent.name, UniversityAgent.id)
        .limit(1000)
    ).all()
    return pd.DataFrame(rows, columns=["id", "name"])


def review_count(session: Session, university_id: str, **filters) -> int:
    """How many records the review queue's filters match (``record_filter``
    keywords); what a bulk action on them would change."""
    return count_matching(session, record_filter(university_id, **filters))


def review_status_counts(
    session: Session, university_id: str, **filters
) -> dict[str, int]:
    """The matching records per validation status (every status listed)."""
    flt = record_filter(university_id, **filters)
    rows = dict(
        session.execute(
            select(Record.validation_status, func.count())
            .where(*filter_conditions(flt))
            .group_by(Record.validation_status)
        ).all()
    )
    return {status: int(rows.get(status, 0)) for status in VALIDATION_STATUSES}


def review_queue(
    session: Session,
    university_id: str,
    *,
    limit: int = QUEUE_PAGE_SIZE,
    offset: int = 0,
    **filters,
) -> pd.DataFrame:
    """One page of the records the filters match, lowest quality first (the
    ones most likely to need a decision), then oldest first.

    Rule: filtering, ordering and paging happen in SQL."""
    flt = record_filter(university_id, **filters)
    rows = session.execute(
        select(
            Record.id,
            UniversityAgent.name,
            Record.data_type,
            Record.source_type,
            Record.quality_score,
            Record.validation_status,
            Record.privacy_level,
            Record.anonymized,
            Record.collected_at,
        )
        .join(UniversityAgent, UniversityAgent.id == Record.agent_id)
        .where(*filter_conditions(flt))
        .order_by(Record.quality_score, Record.collected_at, Record.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return pd.DataFrame(rows, columns=QUEUE_COLUMNS)
