"""Archive tables: the columns of ``universities`` and ``university_agents``
plus ``archived_at``, without foreign keys or checks, because an archived row
outlives the rows it pointed at."""

from __future__ import annotations

from sqlalchemy import Column, DefaultClause, Table

from university_models.db import Base, UTCDateTime
from university_models.models._columns import CURRENT_TIMESTAMP
from university_models.models.agents import UniversityAgent
from university_models.models.tenancy import University


def _archive_of(live: Table, name: str) -> Table:
    columns = [
        Column(
            column.name,
            column.type,
            primary_key=column.primary_key,
            nullable=column.nullable,
            server_default=(
                DefaultClause(column.server_default.arg)
                if column.server_default is not None
                else None
            ),
        )
        for column in live.columns
    ]
    archived_at = Column(
        "archived_at", UTCDateTime, nullable=False, server_default=CURRENT_TIMESTAMP
    )
    return Table(name, Base.metadata, *columns, archived_at)


universities_archive = _archive_of(University.__table__, "universities_archive")
university_agents_archive = _archive_of(
    UniversityAgent.__table__, "university_agents_archive"
)
