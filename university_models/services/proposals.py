"""Improvement proposals: creation, decisions and implementation.

Rules (written down in ``docs/domain.md`` under "Improvement proposals"):

* Decision states: ``pending`` -> ``approved`` or ``rejected`` (a reason is
  required to reject); ``rejected`` -> ``pending`` by reopening (a reason is
  required); ``approved`` -> ``implemented`` when the implementation
  completes. An approved proposal cannot be rejected or reopened.
* Every decision sets ``validated_by`` and ``validated_at`` and appends
  ``{"decision", "by", "at", "reason"}`` to ``validation_results``, the
  proposal's history (a JSON list, oldest first). Reopening appends too and
  clears ``validated_by``/``validated_at`` (the proposal is undecided again).
* Implementation: ``not_started`` -> ``in_progress`` only for an approved
  proposal; ``in_progress`` -> ``completed`` (the proposal becomes
  ``implemented``, ``implemented_at`` is set) or ``failed`` (it stays
  approved and may be started again).
* Race-free decisions: every change locks the university, then re-reads the
  proposal under the lock; the second of two simultaneous decisions sees the
  first and is refused with ``Conflict`` ("already approved by X at T").
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from university_models.db import utcnow
from university_models.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
)
from university_models.models import (
    GENERATORS,
    ImprovementProposal,
    TrainingDataCollection,
)
from university_models.services.universities import (
    lock_university_for_write,
    refuse_control_characters,
)
from university_models.services.validation import shown_time, whole_number
from university_models.wording import in_words

log = logging.getLogger(__name__)

MAX_TITLE_LENGTH = 255
MAX_DECIDER_LENGTH = 255
MAX_REASON_LENGTH = 2000

APPROVED = "approved"
REJECTED = "rejected"
REOPENED = "reopened"


# --- checking inputs --------------------------------------------------------


def _text(
    value: Any, *, what: str, limit: int | None = None, single_line: bool = False
) -> str:
    """Required text, trimmed; no control characters but tabs and line
    breaks, none at all when ``single_line`` (a title, a person's name)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} is empty; write one.")
    value = value.strip()
    if limit is not None and len(value) > limit:
        raise InvalidInput(
            f"{what} has {len(value)} characters; shorten it to {limit} or fewer."
        )
    return refuse_control_characters(value, what=what, single_line=single_line)


def _optional_text(value: Any, *, what: str) -> str | None:
    """Optional free text, trimmed; ``None`` when blank; no control
    characters but tabs and line breaks."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text, not {type(value).__name__}.")
    value = value.strip()
    return refuse_control_characters(value, what=what, single_line=False) or None


def _expected_improvement(value: Any) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0.0 <= value <= 1.0
    ):
        raise InvalidInput(
            f"The expected improvement {value!r} must be a competency gain from 0 to 1."
        )
    return float(value)


def _decider(value: Any) -> str:
    return _text(
        value,
        what="Who decides (decided_by)",
        limit=MAX_DECIDER_LENGTH,
        single_line=True,
    )


def _reason(value: Any, *, action: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"To {action} a proposal, give a reason.")
    return _text(value, what="The reason", limit=MAX_REASON_LENGTH)


def _when(moment: datetime | None) -> str:
    return shown_time(moment) if moment else "an unknown time"


# --- reading and locking ----------------------------------------------------


def get_proposal(
    session: Session, proposal_id: str, *, university_id: str | None = None
) -> ImprovementProposal:
    """The proposal with ``proposal_id``, or ``NotFound``.

    Rule: with ``university_id`` (what a page passes), a proposal of another
    university is not found either.
    """
    proposal = (
        session.get(ImprovementProposal, proposal_id)
        if isinstance(proposal_id, str)
        else None
    )
    if proposal is None or (
        university_id is not None and proposal.university_id != university_id
    ):
        where = " in this university" if university_id is not None else ""
        raise NotFound(f"No improvement proposal has the id {proposal_id!r}{where}.")
    return proposal


def _lock_proposal(
    session: Session, proposal_id: str, university_id: str | None
) -> ImprovementProposal:
    """Lock the proposal's university, then re-read the proposal under the
    lock so that a decision committed meanwhile by someone else is seen."""
    proposal = get_proposal(session, proposal_id, university_id=university_id)
    lock_university_for_write(session, proposal.university_id)
    return session.scalars(
        select(ImprovementProposal)
        .where(ImprovementProposal.id == proposal_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _refuse_decided(proposal: ImprovementProposal, wanted: str) -> None:
    """Refuse a decision on a proposal that is no longer pending.

    A proposal someone else decided is a ``Conflict`` naming who and when;
    an implemented one cannot change any more.
    """
    status = proposal.validation_status
    if status == "pending":
        return
    if status == "implemented":
        raise InvalidTransition(
            f"Proposal {proposal.title!r} is already implemented; it can no longer "
            f"be {wanted}."
        )
    hint = " Reopen it first." if status == REJECTED and wanted == APPROVED else ""
    raise Conflict(
        f"Proposal {proposal.title!r} was already {status} by "
        f"{proposal.validated_by or 'someone'} at {_when(proposal.validated_at)}."
        f"{hint}"
    )


def _append_decision(
    proposal: ImprovementProposal,
    decision: str,
    *,
    by: str,
    at: datetime,
    reason: str | None,
) -> None:
    history = proposal.validation_results
    if history is None:
        history = []
    elif not isinstance(history, list):
        # A value written before the history was a list is kept as its
        # first entry rather than lost.
        history = [history]
    proposal.validation_results = [
        *history,
        {"decision": decision, "by": by, "at": at.isoformat(), "reason": reason},
    ]


# --- creating ---------------------------------------------------------------


def create_proposal(
    session: Session,
    university_id: str,
    *,
    title: str,
    description: str,
    implementation_details: str | None = None,
    expected_improvement: float | None = None,
    source_data_collection_id: str | None = None,
    generated_by: str = "human",
) -> ImprovementProposal:
    """Create a pending improvement proposal in a university.

    Rules: title (trimmed, 1 to 255 characters, one line without control
    characters) and description (trimmed, non-empty; tabs and line breaks
    are its only control characters) are required; ``expected_improvement``
    is a competency gain in [0, 1]; ``generated_by`` is one of the spec's
    generators; the source training record, when given, belongs to the same
    university and is not rejected. The history (``validation_results``)
    starts as an empty list.
    """
    lock_university_for_write(session, university_id)

    title = _text(title, what="The title", limit=MAX_TITLE_LENGTH, single_line=True)
    description = _text(description, what="The description")
    implementation_details = _optional_text(
        implementation_details, what="The implementation details"
    )
    expected_improvement = _expected_improvement(expected_improvement)
    if generated_by not in GENERATORS:
        raise InvalidInput(
            f"generated_by {generated_by!r} is unknown; use one of "
            f"{', '.join(GENERATORS)}."
        )
    if source_data_collection_id is not None:
        record = (
            session.get(TrainingDataCollection, source_data_collection_id)
            if isinstance(source_data_collection_id, str)
            else None
        )
        if record is None or record.university_id != university_id:
            raise NotFound(
                f"No training record has the id {source_data_collection_id!r} in "
                "this university."
            )
        if record.validation_status == "rejected":
            raise InvalidInput(
                f"Training record {record.id} was rejected; base the proposal on "
                "a record that was not rejected."
            )

    proposal = ImprovementProposal(
        university_id=university_id,
        title=title,
        description=description,
        implementation_details=implementation_details,
        expected_improvement=expected_improvement,
        source_data_collection_id=source_data_collection_id,
        generated_by=generated_by,
        validation_results=[],
    )
    session.add(proposal)
    session.flush()
    log.info("created proposal %s in university %s", proposal.id, university_id)
    return proposal


# --- deciding ---------------------------------------------------------------


def _decide(
    proposal: ImprovementProposal, decision: str, *, by: str, reason: str | None
) -> None:
    now = utcnow()
    proposal.validation_status = decision
    proposal.validated_by = by
    proposal.validated_at = now
    _append_decision(proposal, decision, by=by, at=now, reason=reason)


def approve_proposal(
    session: Session,
    proposal_id: str,
    *,
    decided_by: str,
    reason: str | None = None,
    university_id: str | None = None,
) -> ImprovementProposal:
    """Approve a pending proposal as the named person.

    Rules: only a pending proposal can be approved; a proposal someone
    already decided is refused with ``Conflict`` naming who and when. Sets
    ``validated_by``/``validated_at`` and appends the decision (with the
    optional reason) to the history.
    """
    decided_by = _decider(decided_by)
    reason = _optional_text(reason, what="The reason")
    proposal = _lock_proposal(session, proposal_id, university_id)
    _refuse_decided(proposal, APPROVED)

    _decide(proposal, APPROVED, by=decided_by, reason=reason)
    session.flush()
    log.info("proposal %s approved by %s", proposal.id, decided_by)
    return proposal


def reject_proposal(
    session: Session,
    proposal_id: str,
    *,
    decided_by: str,
    reason: str,
    university_id: str | None = None,
) -> ImprovementProposal:
    """Reject a pending proposal as the named person, with a reason.

    Rules: a reason is required; only a pending proposal can be rejected
    (an approved one is a ``Conflict`` naming who approved it and when).
    Sets ``validated_by``/``validated_at`` and appends the decision to the
    history.
    """
    decided_by = _decider(decided_by)
    reason = _reason(reason, action="reject")
    proposal = _lock_proposal(session, proposal_id, university_id)
    _refuse_decided(proposal, REJECTED)

    _decide(proposal, REJECTED, by=decided_by, reason=reason)
    session.flush()
    log.info("proposal %s rejected by %s", proposal.id, decided_by)
    return proposal


def reopen_proposal(
    session: Session,
    proposal_id: str,
    *,
    decided_by: str,
    reason: str,
    university_id: str | None = None,
) -> ImprovementProposal:
    """Put a rejected proposal back to pending, with a reason.

    Rules: only ``rejected`` -> ``pending``; a reason is required; the
    reopening is appended to the history and ``validated_by`` /
    ``validated_at`` are cleared, since the proposal is undecided again.
    """
    decided_by = _decider(decided_by)
    reason = _reason(reason, action="reopen")
    proposal = _lock_proposal(session, proposal_id, university_id)
    if proposal.validation_status != REJECTED:
        raise InvalidTransition(
            f"Proposal {proposal.title!r} is {proposal.validation_status}; only a "
            "rejected proposal can be reopened."
        )

    _append_decision(proposal, REOPENED, by=decided_by, at=utcnow(), reason=reason)
    proposal.validation_status = "pending"
    proposal.validated_by = None
    proposal.validated_at = None
    session.flush()
    log.info("proposal %s reopened by %s", proposal.id, decided_by)
    return proposal


def bulk_approve(
    session: Session,
    university_id: str,
    proposal_ids: Sequence[str],
    *,
    decided_by: str,
    expected_count: int,
) -> int:
    """Approve several pending proposals of one university at once; returns
    how many.

    Rules: the ids (duplicates count once) must number ``expected_count``,
    what the person confirmed, else ``Conflict``; every id names a proposal
    of this university (else ``NotFound``); every one must still be pending
    (else ``Conflict`` naming who decided the first one and when). All are
    approved or none.
    """
    decided_by = _decider(decided_by)
    if isinstance(proposal_ids, str):
        raise InvalidInput("proposal_ids must be a list of ids, not one string.")
    expected_count = whole_number(expected_count, what="expected count", minimum=0)
    wanted = list(dict.fromkeys(proposal_ids))
    if len(wanted) != expected_count:
        raise Conflict(
            f"{len(wanted)} proposals are selected, not the {expected_count} you "
            "confirmed; review the selection and confirm again."
        )
    lock_university_for_write(session, university_id)

    proposals = session.scalars(
        select(ImprovementProposal)
        .where(
            ImprovementProposal.university_id == university_id,
            ImprovementProposal.id.in_(wanted),
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    found = {proposal.id: proposal for proposal in proposals}
    missing = [proposal_id for proposal_id in wanted if proposal_id not in found]
    if missing:
        raise NotFound(
            f"No proposal has the id {missing[0]!r} in this university "
            f"({len(missing)} of the {len(wanted)} ids are unknown)."
        )
    for proposal_id in wanted:
        _refuse_decided(found[proposal_id], APPROVED)

    for proposal_id in wanted:
        _decide(found[proposal_id], APPROVED, by=decided_by, reason=None)
    session.flush()
    log.info("%d proposals approved by %s", len(wanted), decided_by)
    return len(wanted)


# --- implementing -----------------------------------------------------------


def start_implementation(
    session: Session, proposal_id: str, *, university_id: str | None = None
) -> ImprovementProposal:
    """Start implementing an approved proposal.

    Rules: only an approved proposal whose implementation is ``not_started``
    or ``failed`` (a retry) moves to ``in_progress``. The refusal says what
    would make it possible: approve a pending proposal, reopen and approve a
    rejected one; an implemented one has nothing left to start.
    """
    proposal = _lock_proposal(session, proposal_id, university_id)
    if proposal.validation_status != APPROVED:
        next_step = {
            "pending": "Approve it first.",
            "rejected": "Reopen it and approve it first.",
            "implemented": "It is already implemented: there is nothing to start.",
        }.get(proposal.validation_status, "Approve it first.")
        raise InvalidTransition(
            f"Proposal {proposal.title!r} is {proposal.validation_status}; only an "
            f"approved proposal can be implemented. {next_step}"
        )
    if proposal.implementation_status not in ("not_started", "failed"):
        raise InvalidTransition(
            f"The implementation of proposal {proposal.title!r} is already "
            f"{in_words(proposal.implementation_status)}."
        )

    proposal.implementation_status = "in_progress"
    session.flush()
    return proposal


def finish_implementation(
    session: Session,
    proposal_id: str,
    *,
    succeeded: bool,
    university_id: str | None = None,
) -> ImprovementProposal:
    """End an implementation in progress.

    Rules: only ``in_progress``; success -> ``completed``, the proposal
    becomes ``implemented`` and ``implemented_at`` is set; failure ->
    ``failed``, the proposal stays approved and can be started again.
    """
    if not isinstance(succeeded, bool):
        raise InvalidInput(f"succeeded must be true or false, not {succeeded!r}.")
    proposal = _lock_proposal(session, proposal_id, university_id)
    if proposal.implementation_status != "in_progress":
        raise InvalidTransition(
            f"The implementation of proposal {proposal.title!r} is "
            f"{in_words(proposal.implementation_status)}; only one in "
            "progress can be finished. Start it first."
        )

    if succeeded:
        proposal.implementation_status = "completed"
        proposal.validation_status = "implemented"
        proposal.implemented_at = utcnow()
    else:
        proposal.implementation_status = "failed"
    session.flush()
    return proposal
