"""Day buckets and day ranges that mean the same thing on every engine.

Rule: a day is a UTC calendar day. PostgreSQL stores ``timestamptz`` and
would bucket by the session's time zone, so the value is first converted to
UTC wall time; SQLite stores UTC wall time as text already (see
``university_models.db.UTCDateTime``). Both return the day as ``YYYY-MM-DD``
text, which the callers turn into ``datetime.date``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import func
from sqlalchemy.orm import Session


def dialect_name(session: Session) -> str:
    """The name of the engine behind ``session``: ``sqlite`` or ``postgresql``."""
    return session.get_bind().dialect.name


def day_bucket(session: Session, column: Any) -> Any:
    """A SQL expression giving the UTC day of the timestamp ``column`` as
    ``YYYY-MM-DD`` text, for ``GROUP BY``."""
    if dialect_name(session) == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def day_range(
    date_from: date | None, date_to: date | None
) -> tuple[datetime | None, datetime | None]:
    """The half-open interval ``[start, end)`` covering the UTC days
    ``date_from`` to ``date_to``, both included; ``None`` leaves a side open.

    Rule: a date filter picked by a person includes the whole last day."""
    start = day_start(date_from) if date_from is not None else None
    end = day_start(date_to + timedelta(days=1)) if date_to is not None else None
    return start, end


def to_dates(values: pd.Series) -> pd.Series:
    """``YYYY-MM-DD`` texts from ``day_bucket`` as ``datetime.date`` values."""
    return pd.to_datetime(values, format="%Y-%m-%d").dt.date


def all_days(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both included, so a timeline shows
    quiet days as zeros instead of skipping them."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
