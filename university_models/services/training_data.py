"""Training data: collection, quality, review, anonymization and bulk review.

Rules (written down in ``docs/domain.md`` under "Training data"):

* A record belongs to an agent of the same university; an archived agent
  collects nothing new.
* ``quality_score`` is ``passed / total`` over a fixed check list per data
  type (``QUALITY_CHECKS``); the names of the failed checks are kept in
  ``metadata["quality_failed_checks"]``.
* Collecting is refused when the university's stored training data (raw and
  processed JSON, in bytes) plus the new record would pass
  ``storage_quota_mb``. Anonymizing is never refused for the quota, although
  the processed copy it writes counts towards the usage afterwards: refusing
  to remove personal data would be the worse outcome.
* Review states: ``pending`` -> ``validated`` (validate); ``pending`` or
  ``validated`` -> ``anonymized`` (anonymize); ``pending``, ``validated`` or
  ``anonymized`` -> ``rejected`` (reject, with a reason). ``rejected`` is
  final. ``validated_at`` is the time of the latest review decision.
* Raw data may be shared or made public only after anonymization; a
  rejected record goes back to ``private``.
* Bulk actions take a ``TrainingDataFilter``, refuse with ``Conflict`` when
  the filter no longer matches the number of records the person confirmed,
  refuse the whole action when any matching record cannot make the change,
  and return the number of records changed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, func, select, update
from sqlalchemy.dialects.postgresql import JSON as PG_JSON
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from university_models.db import utcnow
from university_models.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
)
from university_models.models import (
    DATA_TYPES,
    PRIVACY_LEVELS,
    SOURCE_TYPES,
    VALIDATION_STATUSES,
    TrainingDataCollection,
    UniversityAgent,
)
from university_models.privacy import anonymize_json
from university_models.services.agents import refresh_agent_counters
from university_models.services.universities import (
    check_storage_quota,
    json_size_bytes,
    lock_university_for_write,
    storable_json,
)

log = logging.getLogger(__name__)

#: Where the names of the failed quality checks are kept in ``metadata``.
FAILED_CHECKS_KEY = "quality_failed_checks"
#: Where the reason of a rejection is kept in ``metadata``.
REJECTION_REASON_KEY = "rejection_reason"
#: Who rejected the record and when, next to the reason.
REJECTED_AT_KEY = "rejected_at"

#: Rows anonymized per flush by ``bulk_anonymize``.
ANONYMIZE_BATCH_SIZE = 200

MAX_REASON_LENGTH = 2000

#: How far ahead of this machine's clock a collection time may be (another
#: machine's clock may run a little fast).
CLOCK_SKEW = timedelta(minutes=5)

#: Which review state each action may start from.
VALIDATE_FROM = ("pending",)
ANONYMIZE_FROM = ("pending", "validated")
REJECT_FROM = ("pending", "validated", "anonymized")
SHARED_LEVELS = ("shared", "public")

ROLES = ("system", "user", "assistant", "tool")


# --- quality checks ---------------------------------------------------------


def _filled(value: Any) -> bool:
    """A non-blank string, or a non-empty list or object."""
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | dict):
        return bool(value)
    return value is not None and not isinstance(value, bool)


def _first(document: Any, *keys: str) -> Any:
    if not isinstance(document, dict):
        return None
    for key in keys:
        if key in document:
            return document[key]
    return None


def _messages(raw: Any) -> list[Any] | None:
    if isinstance(raw, list):
        return raw
    messages = _first(raw, "messages", "turns")
    return messages if isinstance(messages, list) else None


def _is_message(message: Any) -> bool:
    return (
        isinstance(message, dict)
        and isinstance(message.get("role"), str)
        and isinstance(message.get("content"), str)
    )


def _dialogue_roles(messages: list[Any]) -> list[str]:
    """Roles of the user/assistant turns, without system and tool messages."""
    return [
        m["role"]
        for m in messages
        if _is_message(m) and m["role"] in ("user", "assistant")
    ]


def _roles_alternate(messages: list[Any]) -> bool:
    roles = _dialogue_roles(messages)
    if not roles or roles[0] != "user":
        return False
    return all(a != b for a, b in zip(roles, roles[1:], strict=False))


def _conversation_checks(raw: Any) -> dict[str, bool]:
    messages = _messages(raw)
    if messages is None:
        messages = []
    some = bool(messages)
    return {
        "messages_listed": _messages(raw) is not None and some,
        "at_least_two_messages": len(messages) >= 2,
        "messages_have_role_and_content": some and all(map(_is_message, messages)),
        "roles_known": some
        and all(_is_message(m) and m["role"] in ROLES for m in messages),
        "no_empty_message": some
        and all(_is_message(m) and m["content"].strip() for m in messages),
        "roles_alternate_from_user": _roles_alternate(messages),
        "ends_with_assistant": bool(_dialogue_roles(messages))
        and _dialogue_roles(messages)[-1] == "assistant",
    }


def _step_text(step: Any) -> Any:
    if isinstance(step, dict):
        return _first(step, "text", "content", "thought")
    return step


def _reasoning_checks(raw: Any) -> dict[str, bool]:
    steps = _first(raw, "steps", "chain", "thoughts")
    steps = steps if isinstance(steps, list) else []
    return {
        "question_present": _filled(_first(raw, "question", "problem", "prompt")),
        "steps_listed": bool(steps),
        "at_least_two_steps": len(steps) >= 2,
        "no_empty_step": bool(steps)
        and all(
            isinstance(_step_text(s), str) and _step_text(s).strip() for s in steps
        ),
        "conclusion_present": _filled(_first(raw, "conclusion", "answer")),
    }


def _tool_use_checks(raw: Any) -> dict[str, bool]:
    tool = _first(raw, "tool", "tool_name", "name")
    arguments = _first(raw, "arguments", "args", "input")
    return {
        "tool_named": isinstance(tool, str) and bool(tool.strip()),
        "arguments_object": isinstance(arguments, dict),
        "result_present": _filled(_first(raw, "result", "output")),
        "no_error": not _filled(_first(raw, "error")),
    }


def _verification_passed(raw: Any) -> bool:
    if _first(raw, "verified", "passed") is True:
        return True
    tests = _first(raw, "tests", "verification")
    return (
        isinstance(tests, list)
        and bool(tests)
        and all(isinstance(t, dict) and t.get("passed") is True for t in tests)
    )


def _problem_solving_checks(raw: Any) -> dict[str, bool]:
    return {
        "problem_present": _filled(_first(raw, "problem", "task", "question")),
        "solution_present": _filled(_first(raw, "solution", "answer")),
        "verification_present": _filled(_first(raw, "tests", "verification")),
        "verification_passed": _verification_passed(raw),
    }


#: The check list of each data type; every check is worth the same.
QUALITY_CHECKS: dict[str, Callable[[Any], dict[str, bool]]] = {
    "conversation": _conversation_checks,
    "reasoning": _reasoning_checks,
    "tool_use": _tool_use_checks,
    "problem_solving": _problem_solving_checks,
}


def quality_score(data_type: str, raw_data: Any) -> tuple[float, list[str]]:
    """The quality of a record in [0, 1] and the names of its failed checks.

    Rule: ``score = passed / total`` over the fixed check list of the data
    type (see ``docs/domain.md``), deterministic and computed from the raw
    data alone; checks are listed in a fixed order.
    """
    if data_type not in QUALITY_CHECKS:
        raise InvalidInput(
            f"Data type {data_type!r} is unknown; use one of {', '.join(DATA_TYPES)}."
        )
    results = QUALITY_CHECKS[data_type](raw_data)
    failed = [name for name, passed in results.items() if not passed]
    return (len(results) - len(failed)) / len(results), failed


# --- validation of inputs ---------------------------------------------------


def _choice(value: Any, allowed: Sequence[str], *, what: str) -> str:
    if value not in allowed:
        raise InvalidInput(
            f"{what} {value!r} is unknown; use one of {', '.join(allowed)}."
        )
    return value


def _json_document(value: Any, *, what: str) -> Any:
    if not isinstance(value, dict | list):
        raise InvalidInput(
            f"The {what} must be a JSON object or list, not {type(value).__name__}."
        )
    storable_json(value, what=what)
    return value


def _aware(value: Any, *, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(f"{what} must be a date and time, not {value!r}.")
    if value.tzinfo is None:
        raise InvalidInput(
            f"{what} {value.isoformat()} has no time zone; give it one (UTC)."
        )
    return value


def _reason(reason: Any) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("A rejection needs a reason; write why it is rejected.")
    reason = reason.strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidInput(
            f"The reason has {len(reason)} characters; shorten it to "
            f"{MAX_REASON_LENGTH} or fewer."
        )
    return reason


def _agent_of(session: Session, university_id: str, agent_id: Any) -> UniversityAgent:
    agent = (
        session.get(UniversityAgent, agent_id) if isinstance(agent_id, str) else None
    )
    if agent is None or agent.university_id != university_id:
        raise NotFound(f"No agent has the id {agent_id!r} in this university.")
    if agent.status == "archived":
        raise InvalidTransition(
            f"Agent {agent.name!r} is archived and collects no training data; "
            "set it back to active first."
        )
    return agent


# --- single records ---------------------------------------------------------


def collect_training_data(
    session: Session,
    university_id: str,
    *,
    agent_id: str,
    source_type: str,
    data_type: str,
    raw_data: Any,
    source_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    privacy_level: str = "private",
    collected_at: datetime | None = None,
) -> TrainingDataCollection:
    """Store one training record of an agent, with its quality score.

    Rules: the agent belongs to the university and is not archived;
    ``source_type``, ``data_type`` and ``privacy_level`` come from the
    spec's lists; ``raw_data`` is a JSON object or list; ``metadata`` a JSON
    object; ``collected_at`` is time-zone aware and not in the future (five
    minutes of clock skew allowed); a new record is ``private`` (raw data may
    be shared or made public only after anonymization); the university's
    stored training data plus this record may not pass ``storage_quota_mb``.
    The quality score and the failed checks
    (``metadata["quality_failed_checks"]``) come from ``quality_score``. The
    agent's ``training_data_collected`` is recomputed.
    """
    university = lock_university_for_write(session, university_id)

    _choice(source_type, SOURCE_TYPES, what="Source type")
    _choice(data_type, DATA_TYPES, what="Data type")
    _choice(privacy_level, PRIVACY_LEVELS, what="Privacy level")
    if privacy_level in SHARED_LEVELS:
        raise InvalidInput(
            f"A new record cannot be {privacy_level}: raw data may be shared only "
            "after anonymization. Collect it as private, anonymize it, then share it."
        )
    _json_document(raw_data, what="raw data")
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidInput(
            f"The metadata must be a JSON object, not {type(metadata).__name__}."
        )
    metadata = dict(_json_document(metadata or {}, what="metadata"))
    if source_id is not None and (
        not isinstance(source_id, str) or len(source_id) > 36
    ):
        raise InvalidInput(
            f"The source id {source_id!r} must be an id of 36 or fewer characters."
        )
    if collected_at is not None:
        _aware(collected_at, what="The collection time")
        if collected_at > utcnow() + CLOCK_SKEW:
            raise InvalidInput(
                f"The collection time {collected_at.isoformat()} is in the future; "
                "give the time the data was produced."
            )
    agent = _agent_of(session, university_id, agent_id)

    check_storage_quota(session, university, json_size_bytes(raw_data))

    score, failed = quality_score(data_type, raw_data)
    metadata[FAILED_CHECKS_KEY] = failed
    record = TrainingDataCollection(
        university_id=university_id,
        agent_id=agent.id,
        source_type=source_type,
        source_id=source_id,
        data_type=data_type,
        raw_data=raw_data,
        record_metadata=metadata,
        quality_score=score,
        privacy_level=privacy_level,
        collected_at=collected_at or utcnow(),
    )
    session.add(record)
    session.flush()

    refresh_agent_counters(session, agent.id)
    log.info(
        "collected %s record %s of agent %s (quality %.2f)",
        data_type,
        record.id,
        agent.id,
        score,
    )
    return record


def get_record(
    session: Session, record_id: str, *, university_id: str | None = None
) -> TrainingDataCollection:
    """The training record with ``record_id``, or ``NotFound``.

    Rule: with ``university_id`` (what a page passes), a record of another
    university is not found either, so one university never acts on
    another's data.
    """
    record = (
        session.get(TrainingDataCollection, record_id)
        if isinstance(record_id, str)
        else None
    )
    if record is None or (
        university_id is not None and record.university_id != university_id
    ):
        where = " in this university" if university_id is not None else ""
        raise NotFound(f"No training record has the id {record_id!r}{where}.")
    return record


def _lock_record(
    session: Session, record_id: str, university_id: str | None
) -> TrainingDataCollection:
    """Lock the record's university, then re-read the record under the lock,
    so a decision taken meanwhile by someone else is seen."""
    record = get_record(session, record_id, university_id=university_id)
    lock_university_for_write(session, record.university_id)
    return session.scalars(
        select(TrainingDataCollection)
        .where(TrainingDataCollection.id == record_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _refuse_unless(record: TrainingDataCollection, allowed: Sequence[str], action: str):
    if record.validation_status not in allowed:
        raise InvalidTransition(
            f"Training record {record.id} is {record.validation_status}; only a "
            f"{' or '.join(allowed)} record can be {action}."
        )


def validate_record(
    session: Session, record_id: str, *, university_id: str | None = None
) -> TrainingDataCollection:
    """Mark a pending record as validated (reviewed and fit for training).

    Rule: only ``pending`` -> ``validated``; sets ``validated_at``.
    """
    record = _lock_record(session, record_id, university_id)
    _refuse_unless(record, VALIDATE_FROM, "validated")

    record.validation_status = "validated"
    record.validated_at = utcnow()
    session.flush()
    return record


def reject_record(
    session: Session,
    record_id: str,
    reason: str,
    *,
    university_id: str | None = None,
) -> TrainingDataCollection:
    """Reject a record for training, keeping the reason.

    Rules: a reason is required (``metadata["rejection_reason"]``, with
    ``metadata["rejected_at"]``); ``pending``, ``validated`` or
    ``anonymized`` -> ``rejected``, which is final; a rejected record goes
    back to ``private``; sets ``validated_at``.
    """
    reason = _reason(reason)
    record = _lock_record(session, record_id, university_id)
    _refuse_unless(record, REJECT_FROM, "rejected")

    now = utcnow()
    metadata = dict(record.record_metadata or {})
    metadata[REJECTION_REASON_KEY] = reason
    metadata[REJECTED_AT_KEY] = now.isoformat()
    record.record_metadata = metadata
    record.validation_status = "rejected"
    record.privacy_level = "private"
    record.validated_at = now
    session.flush()
    return record


def _anonymize_loaded(record: TrainingDataCollection, now: datetime) -> None:
    record.processed_data = anonymize_json(record.raw_data)
    record.anonymized = True
    record.validation_status = "anonymized"
    record.validated_at = now


def anonymize_record(
    session: Session, record_id: str, *, university_id: str | None = None
) -> TrainingDataCollection:
    """Write the record's ``processed_data``: its raw data with personal data
    replaced (``university_models.privacy``), and mark it anonymized.

    Rules: ``pending`` or ``validated`` -> ``anonymized``; sets
    ``anonymized`` and ``validated_at``. Not refused for the storage quota.
    """
    record = _lock_record(session, record_id, university_id)
    _refuse_unless(record, ANONYMIZE_FROM, "anonymized")

    _anonymize_loaded(record, utcnow())
    session.flush()
    return record


def set_privacy_level(
    session: Session,
    record_id: str,
    level: str,
    *,
    university_id: str | None = None,
) -> TrainingDataCollection:
    """Set who may see a record: ``private``, ``shared`` or ``public``.

    Rule: raw data may be shared or made public only after anonymization
    (``anonymized`` is true and the record is not rejected); ``private`` is
    always allowed.
    """
    _choice(level, PRIVACY_LEVELS, what="Privacy level")
    record = _lock_record(session, record_id, university_id)

    if level in SHARED_LEVELS and (
        not record.anonymized or record.validation_status == "rejected"
    ):
        raise InvalidTransition(
            f"Training record {record.id} is {record.validation_status} and "
            f"{'anonymized' if record.anonymized else 'not anonymized'}: it cannot "
            f"be {level}. Anonymize it first (a rejected record stays private)."
        )
    record.privacy_level = level
    session.flush()
    return record


# --- bulk review ------------------------------------------------------------


@dataclass(frozen=True)
class TrainingDataFilter:
    """Which training records of one university a bulk action changes.

    Every field left ``None`` does not restrict; ``record_ids`` restricts to
    those ids (an empty tuple matches nothing). Quality bounds and times are
    inclusive.
    """

    university_id: str
    agent_id: str | None = None
    data_type: str | None = None
    source_type: str | None = None
    validation_status: str | None = None
    min_quality: float | None = None
    max_quality: float | None = None
    collected_from: datetime | None = None
    collected_to: datetime | None = None
    record_ids: tuple[str, ...] | None = None


def _quality_bound(value: Any, *, what: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0.0 <= value <= 1.0
    ):
        raise InvalidInput(f"{what} {value!r} must be a number from 0 to 1.")
    return float(value)


def filter_conditions(flt: TrainingDataFilter) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a filter, after checking its values."""
    table = TrainingDataCollection
    conditions: list[ColumnElement[bool]] = [table.university_id == flt.university_id]
    if flt.agent_id is not None:
        conditions.append(table.agent_id == flt.agent_id)
    if flt.data_type is not None:
        _choice(flt.data_type, DATA_TYPES, what="Data type")
        conditions.append(table.data_type == flt.data_type)
    if flt.source_type is not None:
        _choice(flt.source_type, SOURCE_TYPES, what="Source type")
        conditions.append(table.source_type == flt.source_type)
    if flt.validation_status is not None:
        _choice(flt.validation_status, VALIDATION_STATUSES, what="Validation status")
        conditions.append(table.validation_status == flt.validation_status)
    if flt.min_quality is not None:
        low = _quality_bound(flt.min_quality, what="The minimum quality")
        conditions.append(table.quality_score >= low)
    if flt.max_quality is not None:
        high = _quality_bound(flt.max_quality, what="The maximum quality")
        conditions.append(table.quality_score <= high)
    if (
        flt.min_quality is not None
        and flt.max_quality is not None
        and flt.min_quality > flt.max_quality
    ):
        raise InvalidInput(
            f"The minimum quality {flt.min_quality} is above the maximum "
            f"{flt.max_quality}; swap them."
        )
    if flt.collected_from is not None:
        start = _aware(flt.collected_from, what="The start of the period")
        conditions.append(table.collected_at >= start)
    if flt.collected_to is not None:
        end = _aware(flt.collected_to, what="The end of the period")
        conditions.append(table.collected_at <= end)
    if flt.record_ids is not None:
        if isinstance(flt.record_ids, str):
            raise InvalidInput("record_ids must be a list of ids, not one string.")
        conditions.append(table.id.in_(list(flt.record_ids)))
    return conditions


def count_matching(session: Session, flt: TrainingDataFilter) -> int:
    """How many training records the filter matches (what a bulk action will
    change); counted in the database."""
    return session.scalar(
        select(func.count())
        .select_from(TrainingDataCollection)
        .where(*filter_conditions(flt))
    )


def count_matching_by_status(
    session: Session, flt: TrainingDataFilter
) -> dict[str, int]:
    """The matching records per validation status, grouped in the database."""
    rows = session.execute(
        select(TrainingDataCollection.validation_status, func.count())
        .where(*filter_conditions(flt))
        .group_by(TrainingDataCollection.validation_status)
    ).all()
    return {status: count for status, count in rows}


def _prepare_bulk(
    session: Session,
    flt: TrainingDataFilter,
    *,
    expected_count: Any,
    allowed: Sequence[str],
    action: str,
) -> int:
    """Lock the university and refuse unless the filter matches exactly the
    confirmed number of records and every one of them can make the change.

    Rule: a bulk action changes exactly what the person confirmed or nothing;
    a record that cannot make the change is never skipped silently.
    """
    if isinstance(expected_count, bool) or not isinstance(expected_count, int):
        raise InvalidInput(
            f"The expected count must be a whole number, not {expected_count!r}."
        )
    # Check the filter's values before the lock, which writes.
    filter_conditions(flt)
    lock_university_for_write(session, flt.university_id)

    by_status = count_matching_by_status(session, flt)
    matching = sum(by_status.values())
    if matching != expected_count:
        raise Conflict(
            f"The filter now matches {matching} training records, not the "
            f"{expected_count} you confirmed; review the selection and confirm again."
        )
    blocked = {s: n for s, n in by_status.items() if s not in allowed}
    if blocked:
        listed = ", ".join(f"{n} {s}" for s, n in sorted(blocked.items()))
        raise InvalidTransition(
            f"{listed} of the {matching} matching records cannot be {action} (only "
            f"{' or '.join(allowed)} records can); narrow the filter, for example by "
            "validation status."
        )
    log.debug("bulk %s of %d records matched by %s", action, matching, flt)
    return matching


def bulk_validate(
    session: Session, flt: TrainingDataFilter, *, expected_count: int
) -> int:
    """Validate every record the filter matches; returns how many.

    Rules: refused with ``Conflict`` when the filter no longer matches
    ``expected_count`` records, and with ``InvalidTransition`` when any
    matching record is not pending. One set-based UPDATE.
    """
    matching = _prepare_bulk(
        session,
        flt,
        expected_count=expected_count,
        allowed=VALIDATE_FROM,
        action="validated",
    )
    if not matching:
        return 0

    result = session.execute(
        update(TrainingDataCollection)
        .where(*filter_conditions(flt))
        .values(validation_status="validated", validated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    log.info("bulk-validated %d training records", result.rowcount)
    return result.rowcount


def _metadata_with_rejection(session: Session, reason: str, at: str):
    """SQL for ``metadata`` with the rejection reason and time set, keeping
    the other keys (JSON functions differ between the engines)."""
    column = TrainingDataCollection.__table__.c.metadata
    if session.get_bind().dialect.name == "sqlite":
        return func.json_set(
            func.coalesce(column, func.json_object()),
            f"$.{REJECTION_REASON_KEY}",
            reason,
            f"$.{REJECTED_AT_KEY}",
            at,
        )
    merged = func.coalesce(cast(column, JSONB), func.jsonb_build_object()).op("||")(
        func.jsonb_build_object(
            cast(REJECTION_REASON_KEY, Text),
            cast(reason, Text),
            cast(REJECTED_AT_KEY, Text),
            cast(at, Text),
        )
    )
    return cast(merged, PG_JSON)


def bulk_reject(
    session: Session, flt: TrainingDataFilter, *, reason: str, expected_count: int
) -> int:
    """Reject every record the filter matches with one reason; returns how
    many.

    Rules: as ``reject_record`` for each record (reason required and kept,
    back to private); refused with ``Conflict`` when the count changed and
    with ``InvalidTransition`` when any matching record is already rejected.
    One set-based UPDATE.
    """
    reason = _reason(reason)
    matching = _prepare_bulk(
        session,
        flt,
        expected_count=expected_count,
        allowed=REJECT_FROM,
        action="rejected",
    )
    if not matching:
        return 0

    now = utcnow()
    result = session.execute(
        update(TrainingDataCollection)
        .where(*filter_conditions(flt))
        .values(
            {
                TrainingDataCollection.__table__.c.metadata: _metadata_with_rejection(
                    session, reason, now.isoformat()
                ),
                TrainingDataCollection.__table__.c.validation_status: "rejected",
                TrainingDataCollection.__table__.c.privacy_level: "private",
                TrainingDataCollection.__table__.c.validated_at: now,
            }
        )
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    log.info("bulk-rejected %d training records", result.rowcount)
    return result.rowcount


def bulk_anonymize(
    session: Session,
    flt: TrainingDataFilter,
    *,
    expected_count: int,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Anonymize every record the filter matches, in batches; returns how
    many.

    Rules: as ``anonymize_record`` for each record; refused with
    ``Conflict`` when the count changed and with ``InvalidTransition`` when
    any matching record is rejected or already anonymized. Rows are read in
    id order, ``ANONYMIZE_BATCH_SIZE`` at a time (keyset paging, so memory
    stays bounded), and ``progress(done, total)`` is called after each batch.
    """
    total = _prepare_bulk(
        session,
        flt,
        expected_count=expected_count,
        allowed=ANONYMIZE_FROM,
        action="anonymized",
    )
    conditions = filter_conditions(flt)

    # TODO: the whole run is one transaction holding the university's write
    # lock, so other writers of this university wait while a very large
    # selection is anonymized; a transaction per batch would break "exactly
    # what the person confirmed, or nothing".
    done = 0
    last_id = ""
    now = utcnow()
    while done < total:
        batch = session.scalars(
            select(TrainingDataCollection)
            .where(*conditions, TrainingDataCollection.id > last_id)
            .order_by(TrainingDataCollection.id)
            .limit(ANONYMIZE_BATCH_SIZE)
        ).all()
        if not batch:
            break
        for record in batch:
            _anonymize_loaded(record, now)
        session.flush()
        for record in batch:
            session.expunge(record)

        done += len(batch)
        last_id = batch[-1].id
        if progress is not None:
            progress(done, total)
    log.info("bulk-anonymized %d training records", done)
    return done
