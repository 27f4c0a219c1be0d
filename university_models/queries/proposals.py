"""Improvement proposals: the review queue, the counts by status and the
decision history.

Every function is scoped to one university.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from university_models.models import (
    IMPLEMENTATION_STATUSES,
    PROPOSAL_STATUSES,
    ImprovementProposal,
    TrainingDataCollection,
    UniversityAgent,
)

log = logging.getLogger(__name__)

#: The most proposals the queue shows at once; paging fetches the rest.
PAGE_SIZE = 25

PROPOSAL_COLUMNS = [
    "id",
    "title",
    "description",
    "implementation_details",
    "expected_improvement",
    "generated_by",
    "validation_status",
    "implementation_status",
    "validated_by",
    "validated_at",
    "implemented_at",
    "created_at",
    "source_record_id",
    "source_agent",
    "source_type",
    "source_data_type",
    "source_quality_score",
]


def _scope(
    university_id: str,
    *,
    validation_status: str | None,
    implementation_status: str | None,
) -> list[Any]:
    conditions: list[Any] = [ImprovementProposal.university_id == university_id]
    if validation_status:
        conditions.append(ImprovementProposal.validation_status == validation_status)
    if implementation_status:
        conditions.append(
            ImprovementProposal.implementation_status == implementation_status
        )
    return conditions


def list_proposals(
    session: Session,
    university_id: str,
    *,
    validation_status: str | None = None,
    implementation_status: str | None = None,
    limit: int = PAGE_SIZE,
    offset: int = 0,
) -> pd.DataFrame:
    """One page of the review queue with the training record each proposal
    came from.

    Order: pending first (oldest first, so the queue is worked in arrival
    order), then approved, implemented and rejected, each newest decision
    first.
    """
    status_order = case(
        {status: index for index, status in enumerate(PROPOSAL_STATUSES)},
        value=ImprovementProposal.validation_status,
        else_=len(PROPOSAL_STATUSES),
    )
    pending_age = case(
        (
            ImprovementProposal.validation_status == "pending",
            ImprovementProposal.created_at,
        ),
    )
    rows = session.execute(
        select(
            ImprovementProposal.id,
            ImprovementProposal.title,
            ImprovementProposal.description,
            ImprovementProposal.implementation_details,
            ImprovementProposal.expected_improvement,
            ImprovementProposal.generated_by,
            ImprovementProposal.validation_status,
            ImprovementProposal.implementation_status,
            ImprovementProposal.validated_by,
            ImprovementProposal.validated_at,
            ImprovementProposal.implemented_at,
            ImprovementProposal.created_at,
            TrainingDataCollection.id,
            UniversityAgent.name,
            TrainingDataCollection.source_type,
            TrainingDataCollection.data_type,
            TrainingDataCollection.quality_score,
        )
        .outerjoin(
            TrainingDataCollection,
            TrainingDataCollection.id == ImprovementProposal.source_data_collection_id,
        )
        .outerjoin(
            UniversityAgent, UniversityAgent.id == TrainingDataCollection.agent_id
        )
        .where(
            *_scope(
                university_id,
                validation_status=validation_status,
                implementation_status=implementation_status,
            )
        )
        .order_by(
            status_order,
            pending_age,
            ImprovementProposal.validated_at.desc(),
            ImprovementProposal.created_at.desc(),
            ImprovementProposal.id,
        )
        .limit(limit)
        .offset(offset)
    ).all()
    return pd.DataFrame(rows, columns=PROPOSAL_COLUMNS)


def count_proposals(
    session: Session,
    university_id: str,
    *,
    validation_status: str | None = None,
    implementation_status: str | None = None,
) -> int:
    """How many of the university's proposals match the filters."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(ImprovementProposal)
            .where(
                *_scope(
                    university_id,
                    validation_status=validation_status,
                    implementation_status=implementation_status,
                )
            )
        )
    )


def proposal_status_counts(session: Session, university_id: str) -> pd.DataFrame:
    """How many proposals the university has in each validation status and
    implementation status (every pair with at least one proposal)."""
    rows = session.execute(
        select(
            ImprovementProposal.validation_status,
            ImprovementProposal.implementation_status,
            func.count(),
        )
        .where(ImprovementProposal.university_id == university_id)
        .group_by(
            ImprovementProposal.validation_status,
            ImprovementProposal.implementation_status,
        )
    ).all()
    frame = pd.DataFrame(
        rows, columns=["validation_status", "implementation_status", "proposals"]
    )
    order = {status: index for index, status in enumerate(PROPOSAL_STATUSES)}
    order_impl = {s: index for index, s in enumerate(IMPLEMENTATION_STATUSES)}
    return frame.sort_values(
        by=["validation_status", "implementation_status"],
        key=lambda column: column.map({**order, **order_impl}),
    ).reset_index(drop=True)


def pending_proposal_ids(
    session: Session, university_id: str, *, limit: int = 1_000
) -> list[str]:
    """The ids of the university's pending proposals, oldest first: what a
    bulk approval would decide (at most ``limit``)."""
    return list(
        session.scalars(
            select(ImprovementProposal.id)
            .where(
                ImprovementProposal.university_id == university_id,
                ImprovementProposal.validation_status == "pending",
            )
            .order_by(ImprovementProposal.created_at, ImprovementProposal.id)
            .limit(limit)
        )
    )


HISTORY_COLUMNS = ["decided_at", "decided_by", "decision", "reason", "title", "id"]


def _decided_at(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def decision_history(
    session: Session,
    university_id: str,
    *,
    limit: int = 100,
    proposals: int = 200,
) -> pd.DataFrame:
    """The latest decisions on the university's proposals, newest first: who
    decided, when (UTC), what (approved, rejected, reopened) and why.

    The decisions are the history the proposals service appends to each
    proposal's ``validation_results``; they are read from the ``proposals``
    most recently changed proposals (a JSON list has no portable SQL
    unnesting on both engines), and the newest ``limit`` are returned.
    """
    # TODO: decisions on proposals older than the ``proposals`` most recently
    # changed ones are not shown; a table of decisions would let SQL page
    # through all of them.
    rows = session.execute(
        select(
            ImprovementProposal.id,
            ImprovementProposal.title,
            ImprovementProposal.validation_results,
        )
        .where(
            ImprovementProposal.university_id == university_id,
            ImprovementProposal.validation_results.is_not(None),
        )
        .order_by(ImprovementProposal.updated_at.desc(), ImprovementProposal.id)
        .limit(proposals)
    ).all()

    decisions = []
    for proposal_id, title, history in rows:
        entries = history if isinstance(history, list) else [history]
        for entry in entries:
            if not isinstance(entry, dict) or "decision" not in entry:
                continue
            decisions.append(
                (
                    _decided_at(entry.get("at")),
                    entry.get("by"),
                    entry.get("decision"),
                    entry.get("reason"),
                    title,
                    proposal_id,
                )
            )
    frame = pd.DataFrame(decisions, columns=HISTORY_COLUMNS)
    if frame.empty:
        return frame
    frame["decided_at"] = pd.to_datetime(frame["decided_at"], utc=True)
    return (
        frame.sort_values("decided_at", ascending=False, na_position="last")
        .head(limit)
        .reset_index(drop=True)
    )
