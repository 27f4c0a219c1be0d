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
* Bulk actions take a ``TrainingDataFilter`` and the token of the preview
  the person confirmed (``preview_bulk_action``: the count per state and a
  digest of exactly the selected records and their states); they refuse
  with ``Conflict`` when the filter no longer selects exactly that, refuse
  the whole action when any matching record cannot make the change, and
  return the number of records changed.
* Anonymized copies are computed while no write lock is held
  (``prepare_anonymization`` and ``prepare_bulk_anonymization`` in a read
  session): on SQLite a write transaction locks the whole database, so a
  slow copy would make every other university's writers fail.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
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
    refuse_control_characters,
    storable_json,
)
from university_models.services.validation import shown_time

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
            f"{what} {shown_time(value)} has no time zone; give it one (UTC)."
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
    return refuse_control_characters(reason, what="The reason", single_line=False)


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
    object (neither holding NUL, see ``storable_json``); ``source_id`` an id
    of at most 36 characters without control characters; ``collected_at``
    is time-zone aware and not in the future (five minutes of clock skew
    allowed); a new record is ``private`` (raw data may
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
    if source_id is not None:
        refuse_control_characters(source_id, what="The source id", single_line=True)
    if collected_at is not None:
        _aware(collected_at, what="The collection time")
        if collected_at > utcnow() + CLOCK_SKEW:
            raise InvalidInput(
                f"The collection time {shown_time(collected_at)} is in the future; "
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


@dataclass(frozen=True)
class PreparedAnonymization:
    """The anonymized copy of one record's raw data, computed before the
    write that stores it (``prepare_anonymization``)."""

    record_id: str
    #: ``raw_data_digest`` of the raw data it was computed from.
    raw_digest: str
    processed_data: Any


def raw_data_digest(raw_data: Any) -> str:
    """A SHA-256 digest of a record's raw data (canonical JSON), to tell
    that an anonymized copy was computed from exactly this raw data."""
    canonical = json.dumps(raw_data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def prepare_anonymization(
    session: Session, record_id: str, *, university_id: str | None = None
) -> PreparedAnonymization:
    """Compute a record's anonymized copy without writing anything.

    Rule: anonymizing a large record takes time, and no write lock may be
    held meanwhile (on SQLite a write transaction locks the whole database
    from its first statement, so writers of every other university would
    wait, then fail with "database is locked"). Call this in a read session
    (``db.read_session``), then pass the result to ``anonymize_record`` in
    the write transaction. Refuses early what ``anonymize_record`` would
    refuse (unknown record, another university's, wrong state); the write
    checks again under the lock.
    """
    record = get_record(session, record_id, university_id=university_id)
    _refuse_unless(record, ANONYMIZE_FROM, "anonymized")

    return PreparedAnonymization(
        record_id=record.id,
        raw_digest=raw_data_digest(record.raw_data),
        processed_data=anonymize_json(record.raw_data),
    )


def _processed_copy(
    record: TrainingDataCollection, prepared: PreparedAnonymization | None
) -> Any:
    """The prepared copy when it was computed from this record's raw data,
    otherwise one computed now."""
    if (
        prepared is not None
        and prepared.record_id == record.id
        and prepared.raw_digest == raw_data_digest(record.raw_data)
    ):
        return prepared.processed_data
    if prepared is not None:
        # Raw data never changes, so this is a caller's mix-up; the copy is
        # recomputed rather than trusted.
        log.warning("prepared anonymization does not fit record %s", record.id)
    return anonymize_json(record.raw_data)


def _mark_anonymized(
    record: TrainingDataCollection, processed_data: Any, now: datetime
) -> None:
    record.processed_data = processed_data
    record.anonymized = True
    record.validation_status = "anonymized"
    record.validated_at = now


def anonymize_record(
    session: Session,
    record_id: str,
    *,
    university_id: str | None = None,
    prepared: PreparedAnonymization | None = None,
) -> TrainingDataCollection:
    """Write the record's ``processed_data``: its raw data with personal data
    replaced (``university_models.privacy``), and mark it anonymized.

    Rules: ``pending`` or ``validated`` -> ``anonymized``; sets
    ``anonymized`` and ``validated_at``. Not refused for the storage quota.
    The copy is computed before the university is locked: from ``prepared``
    (``prepare_anonymization`` in a read session, what a page does, so no
    write lock is held while it is computed on either engine), or here,
    before ``lock_university_for_write`` (on SQLite this session's write
    transaction already holds the database from its first statement).
    """
    if prepared is None:
        prepared = prepare_anonymization(
            session, record_id, university_id=university_id
        )

    record = _lock_record(session, record_id, university_id)
    _refuse_unless(record, ANONYMIZE_FROM, "anonymized")

    _mark_anonymized(record, _processed_copy(record, prepared), utcnow())
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


#: The bulk actions and the review states each may start from.
BULK_ACTIONS: dict[str, tuple[str, ...]] = {
    "validate": VALIDATE_FROM,
    "reject": REJECT_FROM,
    "anonymize": ANONYMIZE_FROM,
}
_BULK_DONE = {"validate": "validated", "reject": "rejected", "anonymize": "anonymized"}

#: Rows read at a time when a selection is digested.
DIGEST_BATCH_SIZE = 1000


@dataclass(frozen=True)
class BulkPreview:
    """What a bulk action would change, shown to the person before they
    confirm it (``preview_bulk_action``).

    ``token`` pins the exact selection: the action, the filter, and every
    matching record's id and review state. The action takes it back and
    changes nothing unless the filter still selects exactly that."""

    action: str
    count: int
    by_status: Mapping[str, int] = field(hash=False)
    token: str

    @property
    def blocked(self) -> dict[str, int]:
        """The matching records per state that cannot make the change (the
        action will be refused while there are any)."""
        allowed = BULK_ACTIONS[self.action]
        return {s: n for s, n in self.by_status.items() if n and s not in allowed}


def _bulk_action(action: Any) -> str:
    if action not in BULK_ACTIONS:
        raise InvalidInput(
            f"Bulk action {action!r} is unknown; use one of {', '.join(BULK_ACTIONS)}."
        )
    return action


def _filter_text(flt: TrainingDataFilter) -> str:
    """The filter as canonical text, for the digest."""
    fields = {
        "university_id": flt.university_id,
        "agent_id": flt.agent_id,
        "data_type": flt.data_type,
        "source_type": flt.source_type,
        "validation_status": flt.validation_status,
        "min_quality": flt.min_quality,
        "max_quality": flt.max_quality,
        "collected_from": flt.collected_from,
        "collected_to": flt.collected_to,
        "record_ids": None if flt.record_ids is None else sorted(flt.record_ids),
    }
    return json.dumps(fields, sort_keys=True, default=str)


def _status_text(by_status: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()) if n) or "none"


def preview_bulk_action(
    session: Session, flt: TrainingDataFilter, action: str
) -> BulkPreview:
    """How many records a bulk action would change, per review state, and
    the token that pins exactly them.

    Rules: the token is ``count:states:digest`` where the digest is SHA-256
    over the action, the filter and every matching record's id and review
    state in id order, streamed from the database ``DIGEST_BATCH_SIZE`` rows
    at a time (memory stays bounded at a million records; no id list is
    kept). ``bulk_validate``, ``bulk_reject`` and ``bulk_anonymize`` take
    the token and refuse with ``Conflict`` when the filter no longer selects
    exactly those records in those states. Read only.
    """
    _bulk_action(action)
    conditions = filter_conditions(flt)

    digest = hashlib.sha256()
    digest.update(f"{action}\n{_filter_text(flt)}\n".encode())
    by_status: dict[str, int] = {}
    rows = session.execute(
        select(TrainingDataCollection.id, TrainingDataCollection.validation_status)
        .where(*conditions)
        .order_by(TrainingDataCollection.id)
        .execution_options(yield_per=DIGEST_BATCH_SIZE)
    )
    for record_id, status in rows:
        digest.update(f"{record_id}\t{status}\n".encode())
        by_status[status] = by_status.get(status, 0) + 1
    count = sum(by_status.values())

    states = "+".join(f"{s}={n}" for s, n in sorted(by_status.items()))
    return BulkPreview(
        action=action,
        count=count,
        by_status=by_status,
        token=f"{count}:{states}:{digest.hexdigest()}",
    )


def _confirmed(token: Any) -> tuple[int, dict[str, int]]:
    """The count and states a token was issued for, or ``InvalidInput``."""
    try:
        count_text, states, digest = token.split(":")
        by_status = {
            status: int(n)
            for status, n in (item.split("=") for item in states.split("+") if item)
        }
        count = int(count_text)
    except (AttributeError, ValueError):
        raise InvalidInput(
            f"{token!r} is not a confirmation token: preview the selection "
            "(preview_bulk_action) and confirm what it shows."
        ) from None
    if len(digest) != 64 or count != sum(by_status.values()):
        raise InvalidInput(
            f"{token!r} is not a confirmation token: preview the selection "
            "(preview_bulk_action) and confirm what it shows."
        )
    return count, by_status


def _check_token(
    session: Session, flt: TrainingDataFilter, action: str, token: Any
) -> BulkPreview:
    """Refuse unless ``token`` pins what the filter selects now; call with
    the university locked, so the selection cannot change afterwards."""
    confirmed, confirmed_states = _confirmed(token)
    now = preview_bulk_action(session, flt, action)
    if now.token == token:
        return now

    if now.count != confirmed:
        what = "not the"
    else:
        what = "the same number but not the same records or states as the"
    raise Conflict(
        f"The selection changed since you reviewed it: the filter now matches "
        f"{now.count} training records, {what} {confirmed} you confirmed (then "
        f"{_status_text(confirmed_states)}; now {_status_text(now.by_status)}). "
        "Review the selection again and confirm what it shows."
    )


def _prepare_bulk(
    session: Session, flt: TrainingDataFilter, *, token: Any, action: str
) -> BulkPreview:
    """Lock the university and refuse unless the filter selects exactly the
    records the person confirmed (``token``) and every one of them can make
    the change.

    Rule: a bulk action changes exactly what the person confirmed or nothing;
    a record that cannot make the change is never skipped silently.
    """
    _confirmed(token)
    # Check the filter's values before the lock, which writes.
    filter_conditions(flt)
    lock_university_for_write(session, flt.university_id)

    preview = _check_token(session, flt, action, token)
    blocked = preview.blocked
    if blocked:
        allowed = BULK_ACTIONS[action]
        raise InvalidTransition(
            f"{_status_text(blocked)} of the {preview.count} "
            f"matching records cannot be {_BULK_DONE[action]} (only "
            f"{' or '.join(allowed)} records can); narrow the filter, for example "
            "by validation status."
        )
    log.debug("bulk %s of %d records matched by %s", action, preview.count, flt)
    return preview


def bulk_validate(session: Session, flt: TrainingDataFilter, *, token: str) -> int:
    """Validate every record the filter matches; returns how many.

    Rules: ``token`` comes from ``preview_bulk_action(session, flt,
    "validate")``; refused with ``Conflict`` when the filter no longer
    selects exactly those records in those states, and with
    ``InvalidTransition`` when any matching record is not pending. One
    set-based UPDATE.
    """
    preview = _prepare_bulk(session, flt, token=token, action="validate")
    if not preview.count:
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
    session: Session, flt: TrainingDataFilter, *, reason: str, token: str
) -> int:
    """Reject every record the filter matches with one reason; returns how
    many.

    Rules: as ``reject_record`` for each record (reason required and kept,
    back to private); ``token`` comes from ``preview_bulk_action(session,
    flt, "reject")``; refused with ``Conflict`` when the selection changed
    since and with ``InvalidTransition`` when any matching record is
    already rejected. One set-based UPDATE.
    """
    reason = _reason(reason)
    preview = _prepare_bulk(session, flt, token=token, action="reject")
    if not preview.count:
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


def _batches(
    session: Session, conditions: list[ColumnElement[bool]]
) -> Iterator[list[TrainingDataCollection]]:
    """The matching records in id order, ``ANONYMIZE_BATCH_SIZE`` at a time
    (keyset paging, so memory stays bounded); each batch is flushed and
    forgotten once the caller moves on."""
    last_id = ""
    while True:
        batch = session.scalars(
            select(TrainingDataCollection)
            .where(*conditions, TrainingDataCollection.id > last_id)
            .order_by(TrainingDataCollection.id)
            .limit(ANONYMIZE_BATCH_SIZE)
        ).all()
        if not batch:
            return
        yield batch
        session.flush()
        for record in batch:
            session.expunge(record)
        last_id = batch[-1].id


class PreparedBulkAnonymization:
    """The anonymized copies of a confirmed selection, computed in a read
    session (``prepare_bulk_anonymization``) for ``bulk_anonymize`` to
    store.

    The copies are kept in id order in a temporary file that stays in
    memory up to ``SPOOL_BYTES`` and moves to disk beyond, so a large
    selection does not fill the memory. Close it (or use it as a context
    manager) when done."""

    #: Bytes of copies kept in memory before the file moves to disk.
    SPOOL_BYTES = 16 * 1024 * 1024

    def __init__(self, token: str) -> None:
        self.token = token
        self.count = 0
        # Closed by close() or the with block, not here.
        self._file = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=self.SPOOL_BYTES, mode="w+", encoding="utf-8"
        )

    def _add(self, prepared: PreparedAnonymization) -> None:
        line = json.dumps(
            [prepared.record_id, prepared.raw_digest, prepared.processed_data]
        )
        self._file.write(line + "\n")
        self.count += 1

    def _read(self) -> Iterator[PreparedAnonymization]:
        self._file.seek(0)
        for line in self._file:
            record_id, raw_digest, processed = json.loads(line)
            yield PreparedAnonymization(record_id, raw_digest, processed)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> PreparedBulkAnonymization:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def prepare_bulk_anonymization(
    session: Session,
    flt: TrainingDataFilter,
    *,
    token: str,
    progress: Callable[[int, int], None] | None = None,
) -> PreparedBulkAnonymization:
    """Compute the anonymized copies of the confirmed selection without
    writing anything; returns them for ``bulk_anonymize``.

    Rules: call it in a read session (``db.read_session``), so no write lock
    is held while the copies are computed (the slow part); refused with
    ``Conflict`` when the filter no longer selects what ``token`` pins and
    with ``InvalidTransition`` when a record cannot be anonymized, as
    ``bulk_anonymize`` would be (which checks again under the lock). Records
    are read in id order, ``ANONYMIZE_BATCH_SIZE`` at a time, and
    ``progress(done, total)`` is called after each batch.
    """
    filter_conditions(flt)
    preview = _check_token(session, flt, "anonymize", token)
    if preview.blocked:
        raise InvalidTransition(
            f"{_status_text(preview.blocked)} of the "
            f"{preview.count} matching records cannot be anonymized (only "
            f"{' or '.join(ANONYMIZE_FROM)} records can); narrow the filter, for "
            "example by validation status."
        )

    prepared = PreparedBulkAnonymization(token)
    try:
        for batch in _batches(session, filter_conditions(flt)):
            for record in batch:
                prepared._add(
                    PreparedAnonymization(
                        record_id=record.id,
                        raw_digest=raw_data_digest(record.raw_data),
                        processed_data=anonymize_json(record.raw_data),
                    )
                )
            if progress is not None:
                progress(prepared.count, preview.count)
    except BaseException:
        prepared.close()
        raise
    log.info("prepared the anonymization of %d training records", prepared.count)
    return prepared


def bulk_anonymize(
    session: Session,
    flt: TrainingDataFilter,
    *,
    token: str,
    prepared: PreparedBulkAnonymization | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Anonymize every record the filter matches, in batches; returns how
    many.

    Rules: as ``anonymize_record`` for each record; ``token`` comes from
    ``preview_bulk_action(session, flt, "anonymize")``; refused with
    ``Conflict`` when the selection changed since, and with
    ``InvalidTransition`` when any matching record is rejected or already
    anonymized. With ``prepared`` (``prepare_bulk_anonymization`` in a read
    session, what the page does) the copies were computed before the write
    lock and are only stored here; without it they are computed here, under
    the lock. Rows are read in id order, ``ANONYMIZE_BATCH_SIZE`` at a time
    (memory stays bounded), and ``progress(done, total)`` is called after
    each batch.
    """
    preview = _prepare_bulk(session, flt, token=token, action="anonymize")
    copies = prepared._read() if prepared is not None else iter(())

    # TODO: storing a very large selection is still one transaction holding
    # the write lock (on SQLite the whole database) for as long as its
    # UPDATEs take; a transaction per batch would break "exactly what the
    # person confirmed, or nothing".
    done = 0
    now = utcnow()
    for batch in _batches(session, filter_conditions(flt)):
        for record in batch:
            # Both lists are the confirmed selection in the database's id
            # order, so the copies line up; one that does not is recomputed.
            _mark_anonymized(record, _processed_copy(record, next(copies, None)), now)
        done += len(batch)
        if progress is not None:
            progress(done, preview.count)
    log.info("bulk-anonymized %d training records", done)
    return done
