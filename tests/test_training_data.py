"""Training data rules on SQLite and PostgreSQL: collection, quality score,
storage quota, review states, privacy levels and bulk review by filter."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from tests.factories import make_agent, make_university
from tests.rows import insert_row, valid_values
from university_models.db import Base, read_session, transaction
from university_models.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
    QuotaExceeded,
)
from university_models.models import TrainingDataCollection, University, UniversityAgent
from university_models.privacy import find_personal_data_in_json
from university_models.services import training_data
from university_models.services.agents import create_agent
from university_models.services.training_data import (
    PreparedAnonymization,
    TrainingDataFilter,
    anonymize_record,
    bulk_anonymize,
    bulk_reject,
    bulk_validate,
    collect_training_data,
    count_matching,
    prepare_anonymization,
    prepare_bulk_anonymization,
    preview_bulk_action,
    quality_score,
    reject_record,
    set_privacy_level,
    validate_record,
)
from university_models.services.universities import json_size_bytes

GOOD = {
    "conversation": {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is 2 + 2?"},
            {"role": "assistant", "content": "4"},
        ]
    },
    "reasoning": {
        "question": "Is 91 prime?",
        "steps": ["91 = 7 * 13", "so it has divisors other than 1 and itself"],
        "conclusion": "No",
    },
    "tool_use": {
        "tool": "calculator",
        "arguments": {"expression": "2+2"},
        "result": "4",
    },
    "problem_solving": {
        "problem": "Reverse a list",
        "solution": "def rev(x): return x[::-1]",
        "tests": [{"name": "empty", "passed": True}, {"name": "three", "passed": True}],
    },
}

PERSONAL = {
    "messages": [
        {
            "role": "user",
            "content": "Mail me at jane.doe@example.org or +1 415-555-2671",
        },
        {"role": "assistant", "content": "Use key sk-proj-abcdefghijklmnop1234567890"},
    ],
    "client": {"ip": "192.168.1.10", "card": "4111 1111 1111 1111"},
}


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in every table, to show that a refusal wrote nothing."""
    with read_session(engine) as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }


def records_state(engine: Engine) -> list[tuple[Any, ...]]:
    """Every training record's reviewable state, to show nothing changed."""
    t = TrainingDataCollection
    with read_session(engine) as session:
        return [
            tuple(row)
            for row in session.execute(
                select(
                    t.id,
                    t.validation_status,
                    t.privacy_level,
                    t.anonymized,
                    t.processed_data,
                    t.record_metadata,
                    t.validated_at,
                ).order_by(t.id)
            )
        ]


def scene(engine: Engine, **university_values: Any) -> dict[str, str]:
    """A university with two agents, and a second university with one."""
    with transaction(engine) as session:
        university = make_university(session, **university_values)
        other = make_university(session)
        return {
            "university": university.id,
            "agent": make_agent(session, university).id,
            "agent2": make_agent(session, university).id,
            "other": other.id,
            "other_agent": make_agent(session, other).id,
        }


def collect(engine: Engine, ids: dict[str, str], **values: Any) -> str:
    values.setdefault("agent_id", ids["agent"])
    values.setdefault("source_type", "training")
    values.setdefault("data_type", "conversation")
    values.setdefault("raw_data", GOOD.get(values["data_type"], {}))
    university_id = values.pop("university_id", ids["university"])
    with transaction(engine) as session:
        return collect_training_data(session, university_id, **values).id


def get(engine: Engine, record_id: str) -> SimpleNamespace:
    """A training record's columns, read in a session of its own."""
    with read_session(engine) as session:
        record = session.get(TrainingDataCollection, record_id)
        columns = TrainingDataCollection.__mapper__.column_attrs
        return SimpleNamespace(**{c.key: getattr(record, c.key) for c in columns})


# --- quality score ----------------------------------------------------------


@pytest.mark.parametrize("data_type", sorted(GOOD))
def test_quality_score_is_one_for_a_record_passing_every_check(data_type):
    assert quality_score(data_type, GOOD[data_type]) == (1.0, [])


@pytest.mark.parametrize(
    ("data_type", "raw", "failed"),
    [
        (
            "conversation",
            [{"role": "user", "content": "hi"}, {"role": "user", "content": " "}],
            ["no_empty_message", "roles_alternate_from_user", "ends_with_assistant"],
        ),
        (
            "conversation",
            {"messages": [{"role": "assistant", "content": "hello"}]},
            ["at_least_two_messages", "roles_alternate_from_user"],
        ),
        (
            "conversation",
            {"text": "no messages"},
            [
                "messages_listed",
                "at_least_two_messages",
                "messages_have_role_and_content",
                "roles_known",
                "no_empty_message",
                "roles_alternate_from_user",
                "ends_with_assistant",
            ],
        ),
        (
            "conversation",
            [{"role": "robot", "content": "x"}, {"role": "assistant", "content": "y"}],
            ["roles_known", "roles_alternate_from_user"],
        ),
        (
            "reasoning",
            {"question": "Why?", "steps": ["because", ""]},
            ["no_empty_step", "conclusion_present"],
        ),
        (
            "reasoning",
            {"steps": [{"text": "one"}], "answer": "42"},
            ["question_present", "at_least_two_steps"],
        ),
        (
            "tool_use",
            {"tool": "search", "arguments": ["q"], "error": "timeout"},
            ["arguments_object", "result_present", "no_error"],
        ),
        (
            "problem_solving",
            {"problem": "p", "solution": "s", "tests": [{"passed": False}]},
            ["verification_passed"],
        ),
        (
            "problem_solving",
            {"problem": "p", "answer": "s", "verified": True},
            ["verification_present"],
        ),
    ],
)
def test_quality_score_names_the_failed_checks(data_type, raw, failed):
    score, failed_checks = quality_score(data_type, raw)
    total = len(training_data.QUALITY_CHECKS[data_type](raw))

    assert failed_checks == failed
    assert score == pytest.approx((total - len(failed)) / total)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(
                ["messages", "role", "content", "steps", "answer", "tool", "tests"]
            ),
            children,
            max_size=4,
        ),
    ),
    max_leaves=15,
)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(sorted(GOOD)), json_values)
def test_quality_score_is_a_deterministic_fraction_of_named_checks(data_type, raw):
    score, failed = quality_score(data_type, raw)
    names = list(training_data.QUALITY_CHECKS[data_type](raw))

    assert 0.0 <= score <= 1.0
    assert quality_score(data_type, raw) == (score, failed)
    assert failed == [name for name in names if name in failed]
    assert score == pytest.approx((len(names) - len(failed)) / len(names))


def test_quality_score_refuses_an_unknown_data_type():
    with pytest.raises(InvalidInput, match="'video'"):
        quality_score("video", {})


# --- collecting -------------------------------------------------------------


def test_collect_stores_the_record_its_quality_and_the_agent_counter(engine):
    ids = scene(engine)
    with read_session(engine) as session:
        before = session.get(University, ids["university"]).last_activity_at

    first = collect(engine, ids, metadata={"run": 7})
    collect(
        engine,
        ids,
        data_type="tool_use",
        raw_data={"tool": "calculator"},
        source_type="competition",
        source_id="match-1",
    )

    record = get(engine, first)
    assert record.quality_score == 1.0
    assert record.record_metadata == {"run": 7, "quality_failed_checks": []}
    assert (record.validation_status, record.privacy_level) == ("pending", "private")
    assert record.anonymized is False and record.processed_data is None
    assert record.collected_at.tzinfo is not None
    with read_session(engine) as session:
        agent = session.get(UniversityAgent, ids["agent"])
        assert agent.training_data_collected == 2
        university = session.get(University, ids["university"])
        assert university.last_activity_at > before
        low = session.scalars(
            select(TrainingDataCollection).where(
                TrainingDataCollection.data_type == "tool_use"
            )
        ).one()
        assert low.quality_score == pytest.approx(2 / 4)
        assert low.record_metadata["quality_failed_checks"] == [
            "arguments_object",
            "result_present",
        ]


def test_collect_keeps_the_given_collection_time(engine):
    ids = scene(engine)
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    record_id = collect(engine, ids, collected_at=when)

    assert get(engine, record_id).collected_at == when


REFUSED_COLLECTIONS = {
    "unknown source type": ({"source_type": "web"}, InvalidInput, "'web'"),
    "unknown data type": ({"data_type": "video"}, InvalidInput, "'video'"),
    "raw data not a document": ({"raw_data": "hello"}, InvalidInput, "str"),
    "raw data not JSON": ({"raw_data": {"x": float("nan")}}, InvalidInput, "JSON"),
    "shared before anonymization": (
        {"privacy_level": "shared"},
        InvalidInput,
        "after anonymization",
    ),
    "public before anonymization": (
        {"privacy_level": "public"},
        InvalidInput,
        "after anonymization",
    ),
    "unknown privacy level": ({"privacy_level": "secret"}, InvalidInput, "'secret'"),
    "metadata not an object": ({"metadata": [1]}, InvalidInput, "metadata"),
    "naive collection time": (
        {"collected_at": datetime(2026, 1, 1)},
        InvalidInput,
        "time zone",
    ),
    "collection time in the future": (
        {"collected_at": datetime.now(UTC) + timedelta(hours=1)},
        InvalidInput,
        "in the future",
    ),
    "source id too long": ({"source_id": "x" * 37}, InvalidInput, "source id"),
    "unknown agent": ({"agent_id": "nobody"}, NotFound, "'nobody'"),
    "agent of another university": ({"agent_id": "OTHER"}, NotFound, "agent"),
    "unknown university": ({"university_id": "nowhere"}, NotFound, "'nowhere'"),
}


@contextmanager
def case(name: str) -> Iterator[None]:
    """Name the case of a table-driven test in its failure report."""
    try:
        yield
    except BaseException as error:
        error.add_note(f"case: {name}")
        raise


def test_collect_refusals_name_the_value_and_write_nothing(engine):
    ids = scene(engine)
    before = row_counts(engine)

    for name, (values, error, message) in REFUSED_COLLECTIONS.items():
        values = {
            key: ids["other_agent"] if value == "OTHER" else value
            for key, value in values.items()
        }
        with case(name), pytest.raises(error, match=message):
            collect(engine, ids, **values)

    assert row_counts(engine) == before


def test_collection_times_in_refusals_read_as_the_pages_show_them(engine):
    ids = scene(engine)
    before = row_counts(engine)

    for values, message in [
        (
            {"collected_at": datetime(2099, 12, 4, 8, 0, tzinfo=UTC)},
            "^The collection time 2099-12-04 08:00 UTC is in the future; give the "
            "time the data was produced.$",
        ),
        (
            {"collected_at": datetime(2026, 1, 2, 3, 4, 5)},
            "^The collection time 2026-01-02 03:04:05 has no time zone; give it "
            r"one \(UTC\).$",
        ),
    ]:
        with pytest.raises(InvalidInput, match=message):
            collect(engine, ids, **values)

    assert row_counts(engine) == before


def test_collect_refuses_nul_in_raw_data_metadata_and_source_id(engine):
    # Both engines stored NUL in JSON, but PostgreSQL then failed to merge a
    # rejection into such metadata ("unsupported Unicode escape sequence").
    ids = scene(engine)
    before = row_counts(engine)

    for name, values, message in [
        ("raw data", {"raw_data": {"q": "a\x00b"}}, r'raw data .* at \["q"\]'),
        ("metadata", {"metadata": {"note": ["\x00"]}}, r'metadata .*\["note"\]\[0\]'),
        ("source id", {"source_id": "run\x00"}, r"source id .* U\+0000"),
    ]:
        with case(name), pytest.raises(InvalidInput, match=message):
            collect(engine, ids, **values)

    assert row_counts(engine) == before


def test_a_rejection_reason_refuses_nul_single_and_in_bulk(engine):
    ids = scene(engine)
    record_id = collect(engine, ids)
    flt = TrainingDataFilter(ids["university"])
    token = preview(engine, flt, "reject").token
    before = records_state(engine)

    for name, action in {
        "single": lambda s: reject_record(s, record_id, "bad\x00data"),
        "bulk": lambda s: bulk_reject(s, flt, reason="bad\x00data", token=token),
    }.items():
        with (
            case(name),
            pytest.raises(InvalidInput, match=r"The reason .* U\+0000 \(NUL\)"),
            transaction(engine) as session,
        ):
            action(session)

    assert records_state(engine) == before
    with transaction(engine) as session:
        reject_record(session, record_id, "first line\n\tsecond line")
    assert get(engine, record_id).record_metadata["rejection_reason"] == (
        "first line\n\tsecond line"
    )


def test_collect_refuses_an_archived_agent_and_a_suspended_university(engine):
    ids = scene(engine)
    with transaction(engine) as session:
        session.get(UniversityAgent, ids["agent2"]).status = "archived"
        session.get(University, ids["other"]).status = "suspended"
    before = row_counts(engine)

    with pytest.raises(InvalidTransition, match="archived"):
        collect(engine, ids, agent_id=ids["agent2"])
    with pytest.raises(InvalidTransition, match="suspended"):
        collect(engine, ids, university_id=ids["other"], agent_id=ids["other_agent"])

    assert row_counts(engine) == before


def test_collect_may_reach_the_storage_quota_but_not_pass_it(engine):
    ids = scene(engine, storage_quota_mb=1)
    quota = 1024 * 1024
    filler = {"text": "x" * (quota - 100 - json_size_bytes({"text": ""}))}
    exact = {"text": "y" * (100 - json_size_bytes({"text": ""}))}
    assert json_size_bytes(filler) + json_size_bytes(exact) == quota
    collect(engine, ids, data_type="reasoning", raw_data=filler)
    collect(engine, ids, data_type="reasoning", raw_data=exact)
    before = row_counts(engine)

    with pytest.raises(QuotaExceeded, match=str(quota)):
        collect(engine, ids, data_type="reasoning", raw_data={})

    assert row_counts(engine) == before


def test_storage_quota_counts_processed_data_and_anonymizing_is_never_refused(
    engine,
):
    ids = scene(engine, storage_quota_mb=1)
    quota = 1024 * 1024
    raw = {"text": "z" * (quota // 2 - 5)}
    first = collect(engine, ids, data_type="reasoning", raw_data=raw)

    # raw + processed copy passes the quota; privacy comes first.
    with transaction(engine) as session:
        anonymize_record(session, first)

    with pytest.raises(QuotaExceeded):
        collect(engine, ids, data_type="reasoning", raw_data={})
    assert get(engine, first).processed_data == raw


# --- review states ----------------------------------------------------------


def test_validate_moves_a_pending_record_to_validated(engine):
    ids = scene(engine)
    record_id = collect(engine, ids)

    with transaction(engine) as session:
        validate_record(session, record_id)

    record = get(engine, record_id)
    assert record.validation_status == "validated"
    assert record.validated_at is not None


def test_reject_keeps_the_reason_and_the_quality_metadata(engine):
    ids = scene(engine)
    record_id = collect(engine, ids, metadata={"run": 1})

    with transaction(engine) as session:
        reject_record(session, record_id, "  duplicates record 12  ")

    record = get(engine, record_id)
    assert record.validation_status == "rejected"
    assert record.record_metadata["rejection_reason"] == "duplicates record 12"
    assert record.record_metadata["run"] == 1
    assert record.record_metadata["quality_failed_checks"] == []
    assert datetime.fromisoformat(record.record_metadata["rejected_at"]).tzinfo
    assert record.validated_at is not None


def test_anonymize_writes_processed_data_without_personal_data(engine):
    ids = scene(engine)
    record_id = collect(engine, ids, raw_data=PERSONAL)

    with transaction(engine) as session:
        anonymize_record(session, record_id)

    record = get(engine, record_id)
    assert record.raw_data == PERSONAL
    assert record.anonymized is True
    assert record.validation_status == "anonymized"
    assert record.validated_at is not None
    assert find_personal_data_in_json(record.processed_data) == []
    assert record.processed_data["messages"][0]["content"] == (
        "Mail me at [EMAIL] or [PHONE]"
    )
    assert record.processed_data["client"] == {
        "ip": "[IP_ADDRESS]",
        "card": "[CARD_NUMBER]",
    }


#: (from status, action) -> allowed; every other pair is refused.
ACTIONS = {
    "validate": lambda session, record_id: validate_record(session, record_id),
    "reject": lambda session, record_id: reject_record(session, record_id, "bad"),
    "anonymize": lambda session, record_id: anonymize_record(session, record_id),
}
ALLOWED = {
    ("pending", "validate"),
    ("pending", "reject"),
    ("pending", "anonymize"),
    ("validated", "reject"),
    ("validated", "anonymize"),
    ("anonymized", "reject"),
}
TO_REACH = {
    "pending": [],
    "validated": ["validate"],
    "anonymized": ["anonymize"],
    "rejected": ["reject"],
}


def test_review_transitions_follow_the_documented_table(engine):
    ids = scene(engine)
    for status, steps in TO_REACH.items():
        for action, run in ACTIONS.items():
            record_id = collect(engine, ids)
            for step in steps:
                with transaction(engine) as session:
                    ACTIONS[step](session, record_id)
            before = records_state(engine)

            if (status, action) in ALLOWED:
                with transaction(engine) as session:
                    run(session, record_id)
                assert get(engine, record_id).validation_status != status
            else:
                with (
                    pytest.raises(InvalidTransition, match=status),
                    transaction(engine) as session,
                ):
                    run(session, record_id)
                assert records_state(engine) == before, (status, action)


def test_reject_refuses_a_missing_or_overlong_reason(engine):
    ids = scene(engine)
    record_id = collect(engine, ids)
    before = records_state(engine)

    for reason in ["", "   ", None, "x" * 2001]:
        with (
            case(repr(reason)),
            pytest.raises(InvalidInput, match="reason"),
            transaction(engine) as session,
        ):
            reject_record(session, record_id, reason)

    assert records_state(engine) == before


def test_review_of_an_unknown_record_is_not_found(engine):
    scene(engine)
    for run in ACTIONS.values():
        with pytest.raises(NotFound, match="'missing'"), transaction(engine) as session:
            run(session, "missing")


# --- privacy level ----------------------------------------------------------


def test_raw_data_is_shared_only_after_anonymization(engine):
    ids = scene(engine)
    record_id = collect(engine, ids)
    before = records_state(engine)

    for level in ("shared", "public"):
        with (
            pytest.raises(InvalidTransition, match="Anonymize it first"),
            transaction(engine) as session,
        ):
            set_privacy_level(session, record_id, level)
    assert records_state(engine) == before

    with transaction(engine) as session:
        anonymize_record(session, record_id)
        set_privacy_level(session, record_id, "public")
    assert get(engine, record_id).privacy_level == "public"

    with transaction(engine) as session:
        set_privacy_level(session, record_id, "private")
    assert get(engine, record_id).privacy_level == "private"


def test_rejecting_makes_a_record_private_and_keeps_it_private(engine):
    ids = scene(engine)
    record_id = collect(engine, ids)
    with transaction(engine) as session:
        anonymize_record(session, record_id)
        set_privacy_level(session, record_id, "shared")
        reject_record(session, record_id, "contains a customer's name")
    assert get(engine, record_id).privacy_level == "private"

    with (
        pytest.raises(InvalidTransition, match="rejected"),
        transaction(engine) as session,
    ):
        set_privacy_level(session, record_id, "shared")


def test_set_privacy_level_refuses_an_unknown_level(engine):
    ids = scene(engine)
    record_id = collect(engine, ids)

    with (
        pytest.raises(InvalidInput, match="'everyone'"),
        transaction(engine) as session,
    ):
        set_privacy_level(session, record_id, "everyone")


# --- bulk review ------------------------------------------------------------


def bulk_scene(engine: Engine) -> dict[str, Any]:
    """Six records in the university (two agents, two data types, two
    quality levels, two times) and two in the other university."""
    ids = scene(engine)
    early = datetime(2026, 1, 1, tzinfo=UTC)
    late = early + timedelta(days=10)
    ids["records"] = [
        collect(engine, ids, collected_at=early),
        collect(engine, ids, collected_at=late),
        collect(engine, ids, agent_id=ids["agent2"], collected_at=late),
        collect(engine, ids, data_type="tool_use", raw_data={}, collected_at=early),
        collect(engine, ids, data_type="tool_use", collected_at=late),
        collect(engine, ids, data_type="reasoning", raw_data=PERSONAL),
    ]
    ids["other_records"] = [
        collect(
            engine,
            ids,
            university_id=ids["other"],
            agent_id=ids["other_agent"],
        )
        for _ in range(2)
    ]
    ids["early"], ids["late"] = early, late
    return ids


def test_count_matching_applies_every_filter_field_within_one_university(engine):
    ids = bulk_scene(engine)
    u = ids["university"]
    cases = [
        (TrainingDataFilter(u), 6),
        (TrainingDataFilter(u, agent_id=ids["agent2"]), 1),
        (TrainingDataFilter(u, data_type="tool_use"), 2),
        (TrainingDataFilter(u, source_type="training"), 6),
        (TrainingDataFilter(u, source_type="competition"), 0),
        (TrainingDataFilter(u, validation_status="pending"), 6),
        (TrainingDataFilter(u, min_quality=1.0), 4),
        (TrainingDataFilter(u, max_quality=0.5), 2),
        (TrainingDataFilter(u, collected_to=ids["early"]), 2),
        (TrainingDataFilter(u, collected_from=ids["late"]), 4),
        (TrainingDataFilter(u, record_ids=tuple(ids["records"][:2])), 2),
        (TrainingDataFilter(u, record_ids=tuple(ids["other_records"])), 0),
        (TrainingDataFilter(u, record_ids=()), 0),
        (TrainingDataFilter(ids["other"]), 2),
    ]
    with read_session(engine) as session:
        counts = [count_matching(session, flt) for flt, _ in cases]

    assert counts == [expected for _, expected in cases]


def test_filter_refuses_invalid_values(engine):
    ids = scene(engine)
    refusals = [
        ("data_type", "video", "'video'"),
        ("source_type", "web", "'web'"),
        ("validation_status", "done", "'done'"),
        ("min_quality", 1.5, "1.5"),
        ("max_quality", -0.1, "-0.1"),
        ("max_quality", True, "True"),
        ("collected_from", datetime(2026, 1, 1), "time zone"),
        ("collected_to", "yesterday", "'yesterday'"),
        ("record_ids", "abc", "list of ids"),
    ]

    for field, value, message in refusals:
        flt = TrainingDataFilter(ids["university"], **{field: value})
        with (
            case(field),
            pytest.raises(InvalidInput, match=message),
            read_session(engine) as session,
        ):
            count_matching(session, flt)


def test_filter_refuses_a_minimum_quality_above_the_maximum(engine):
    ids = scene(engine)
    flt = TrainingDataFilter(ids["university"], min_quality=0.8, max_quality=0.2)

    with pytest.raises(InvalidInput, match="swap"), read_session(engine) as session:
        count_matching(session, flt)


def statuses(engine: Engine, record_ids: list[str]) -> list[str]:
    return [get(engine, record_id).validation_status for record_id in record_ids]


def preview(engine: Engine, flt: TrainingDataFilter, action: str):
    """What the page shows before the person confirms a bulk action."""
    with read_session(engine) as session:
        return preview_bulk_action(session, flt, action)


def test_bulk_validate_changes_exactly_the_matching_records(engine):
    ids = bulk_scene(engine)
    flt = TrainingDataFilter(ids["university"], min_quality=1.0)

    confirmed = preview(engine, flt, "validate")
    assert (confirmed.count, dict(confirmed.by_status)) == (4, {"pending": 4})

    with transaction(engine) as session:
        changed = bulk_validate(session, flt, token=confirmed.token)

    assert changed == 4
    assert statuses(engine, ids["records"]) == [
        "validated",
        "validated",
        "validated",
        "pending",
        "validated",
        "pending",
    ]
    assert statuses(engine, ids["other_records"]) == ["pending", "pending"]
    assert all(get(engine, r).validated_at for r in ids["records"][:3])


def test_bulk_reject_keeps_the_reason_and_each_records_metadata(engine):
    ids = bulk_scene(engine)
    flt = TrainingDataFilter(ids["university"], data_type="tool_use")
    with transaction(engine) as session:
        anonymize_record(session, ids["records"][4])
        set_privacy_level(session, ids["records"][4], "public")

    token = preview(engine, flt, "reject").token
    with transaction(engine) as session:
        changed = bulk_reject(session, flt, reason="tool crashed", token=token)

    assert changed == 2
    for record_id, failed in [
        (ids["records"][3], ["tool_named", "arguments_object", "result_present"]),
        (ids["records"][4], []),
    ]:
        record = get(engine, record_id)
        assert record.validation_status == "rejected"
        assert record.privacy_level == "private"
        assert record.record_metadata["rejection_reason"] == "tool crashed"
        assert record.record_metadata["quality_failed_checks"] == failed
        assert datetime.fromisoformat(record.record_metadata["rejected_at"]).tzinfo
    assert statuses(engine, ids["records"][:3]) == ["pending"] * 3


def test_bulk_anonymize_processes_every_matching_record_in_batches(engine, monkeypatch):
    ids = bulk_scene(engine)
    monkeypatch.setattr(training_data, "ANONYMIZE_BATCH_SIZE", 2)
    flt = TrainingDataFilter(ids["university"], validation_status="pending")
    calls: list[tuple[int, int]] = []
    token = preview(engine, flt, "anonymize").token

    with transaction(engine) as session:
        changed = bulk_anonymize(
            session,
            flt,
            token=token,
            progress=lambda done, total: calls.append((done, total)),
        )

    assert changed == 6
    assert calls == [(2, 6), (4, 6), (6, 6)]
    assert statuses(engine, ids["records"]) == ["anonymized"] * 6
    assert all(get(engine, r).anonymized for r in ids["records"])
    assert (
        find_personal_data_in_json(get(engine, ids["records"][5]).processed_data) == []
    )
    assert statuses(engine, ids["other_records"]) == ["pending", "pending"]


BULK_ACTIONS = {
    "validate": lambda session, flt, token: bulk_validate(session, flt, token=token),
    "reject": lambda session, flt, token: bulk_reject(
        session, flt, reason="bad", token=token
    ),
    "anonymize": lambda session, flt, token: bulk_anonymize(session, flt, token=token),
}


def test_bulk_actions_refuse_when_the_count_changed_since_it_was_confirmed(engine):
    ids = bulk_scene(engine)
    flt = TrainingDataFilter(ids["university"])
    tokens = {action: preview(engine, flt, action).token for action in BULK_ACTIONS}
    collect(engine, ids)
    before = records_state(engine)

    for action, run in BULK_ACTIONS.items():
        with (
            case(action),
            pytest.raises(Conflict, match="matches 7 training records, not the 6"),
            transaction(engine) as session,
        ):
            run(session, flt, tokens[action])

    assert records_state(engine) == before


@pytest.mark.parametrize("action", list(BULK_ACTIONS))
def test_bulk_action_refuses_when_the_confirmed_record_was_replaced_by_another(
    engine, action
):
    # The reviewer's race: the person sees one pending record A; meanwhile
    # someone else decides A and another pending record B arrives. The count
    # is still 1, but B is not what the person confirmed.
    ids = scene(engine)
    first = collect(engine, ids)
    flt = TrainingDataFilter(ids["university"], validation_status="pending")
    confirmed = preview(engine, flt, action)
    assert confirmed.count == 1
    with transaction(engine) as session:
        validate_record(session, first)
    second = collect(engine, ids)
    before = records_state(engine)

    with (
        pytest.raises(
            Conflict,
            match="the same number but not the same records or states as the 1 you "
            "confirmed",
        ),
        transaction(engine) as session,
    ):
        BULK_ACTIONS[action](session, flt, confirmed.token)

    assert records_state(engine) == before
    assert statuses(engine, [first, second]) == ["validated", "pending"]


@pytest.mark.parametrize("action", ["reject", "anonymize"])
def test_bulk_action_refuses_when_a_confirmed_record_changed_state(engine, action):
    ids = scene(engine)
    records = [collect(engine, ids), collect(engine, ids)]
    flt = TrainingDataFilter(ids["university"])
    confirmed = preview(engine, flt, action)
    with transaction(engine) as session:
        validate_record(session, records[0])
    before = records_state(engine)

    with (
        pytest.raises(Conflict, match=r"then 2 pending; now 1 pending, 1 validated"),
        transaction(engine) as session,
    ):
        BULK_ACTIONS[action](session, flt, confirmed.token)

    assert records_state(engine) == before


def test_bulk_action_refuses_a_token_of_another_action_or_filter(engine):
    ids = bulk_scene(engine)
    everything = TrainingDataFilter(ids["university"])
    tool_use = TrainingDataFilter(ids["university"], data_type="tool_use")
    validate_token = preview(engine, everything, "validate").token
    tool_use_token = preview(engine, tool_use, "reject").token
    before = records_state(engine)

    for name, run in {
        "action": lambda s: bulk_reject(
            s, everything, reason="x", token=validate_token
        ),
        "filter": lambda s: bulk_reject(
            s, everything, reason="x", token=tool_use_token
        ),
    }.items():
        with (
            case(name),
            pytest.raises(Conflict, match="Review the selection again"),
            transaction(engine) as session,
        ):
            run(session)

    assert records_state(engine) == before


def test_bulk_action_refuses_what_is_not_a_preview_token(engine):
    ids = bulk_scene(engine)
    flt = TrainingDataFilter(ids["university"])
    before = records_state(engine)

    for token in [6, "6", None, "6:pending=6:abc", "5:pending=6:" + "0" * 64]:
        with (
            case(repr(token)),
            pytest.raises(InvalidInput, match="not a confirmation token"),
            transaction(engine) as session,
        ):
            bulk_validate(session, flt, token=token)

    with pytest.raises(InvalidInput, match="'publish' is unknown"):
        preview(engine, flt, "publish")
    assert records_state(engine) == before


def test_preview_digest_is_streamed_in_batches_and_pins_ids_in_order(
    engine, monkeypatch
):
    # A selection of a million records is digested row by row, never held.
    ids = bulk_scene(engine)
    flt = TrainingDataFilter(ids["university"])
    whole = preview(engine, flt, "reject")
    monkeypatch.setattr(training_data, "DIGEST_BATCH_SIZE", 2)

    in_pairs = preview(engine, flt, "reject")

    assert in_pairs == whole
    assert whole.count == 6
    assert whole.blocked == {}
    assert preview(engine, flt, "validate").token != whole.token


def test_bulk_actions_refuse_rather_than_skip_a_record_they_cannot_change(engine):
    ids = bulk_scene(engine)
    with transaction(engine) as session:
        reject_record(session, ids["records"][0], "duplicate")
    flt = TrainingDataFilter(ids["university"])
    before = records_state(engine)

    for action, run in BULK_ACTIONS.items():
        confirmed = preview(engine, flt, action)
        assert confirmed.blocked == {"rejected": 1}
        with (
            case(action),
            pytest.raises(InvalidTransition, match="1 rejected of the 6"),
            transaction(engine) as session,
        ):
            run(session, flt, confirmed.token)

    assert records_state(engine) == before


def test_bulk_action_on_an_empty_selection_changes_nothing(engine):
    ids = bulk_scene(engine)
    flt = TrainingDataFilter(ids["university"], source_type="competition")
    before = records_state(engine)

    tokens = {action: preview(engine, flt, action).token for action in BULK_ACTIONS}

    with transaction(engine) as session:
        results = [run(session, flt, tokens[a]) for a, run in BULK_ACTIONS.items()]

    assert results == [0, 0, 0]
    assert records_state(engine) == before


def test_bulk_reject_refuses_a_missing_reason(engine):
    ids = bulk_scene(engine)
    flt = TrainingDataFilter(ids["university"])
    before = records_state(engine)

    token = preview(engine, flt, "reject").token

    with pytest.raises(InvalidInput, match="reason"), transaction(engine) as session:
        bulk_reject(session, flt, reason=" ", token=token)

    assert records_state(engine) == before


# --- anonymizing without holding the write lock ----------------------------


def test_a_prepared_anonymization_is_stored_without_computing_it_again(
    engine, monkeypatch
):
    ids = scene(engine)
    record_id = collect(engine, ids, data_type="reasoning", raw_data=PERSONAL)
    with read_session(engine) as session:
        prepared = prepare_anonymization(session, record_id)
    assert find_personal_data_in_json(prepared.processed_data) == []
    assert get(engine, record_id).validation_status == "pending"

    def must_not_run(value):
        raise AssertionError("anonymized again under the write lock")

    monkeypatch.setattr(training_data, "anonymize_json", must_not_run)
    with transaction(engine) as session:
        anonymize_record(session, record_id, prepared=prepared)

    record = get(engine, record_id)
    assert record.processed_data == prepared.processed_data
    assert (record.validation_status, record.anonymized) == ("anonymized", True)


def test_a_prepared_copy_of_other_raw_data_is_not_stored(engine):
    ids = scene(engine)
    record_id = collect(engine, ids, data_type="reasoning", raw_data=PERSONAL)
    stale = PreparedAnonymization(record_id, "0" * 64, {"not": "this record"})

    with transaction(engine) as session:
        anonymize_record(session, record_id, prepared=stale)

    processed = get(engine, record_id).processed_data
    assert processed != stale.processed_data
    assert processed["client"]["ip"] == "[IP_ADDRESS]"


def test_prepare_anonymization_refuses_what_anonymizing_would_refuse(engine):
    ids = scene(engine)
    record_id = collect(engine, ids)
    with transaction(engine) as session:
        reject_record(session, record_id, "duplicate")

    with read_session(engine) as session:
        with pytest.raises(InvalidTransition, match="is rejected"):
            prepare_anonymization(session, record_id)
        with pytest.raises(NotFound, match="in this university"):
            prepare_anonymization(session, record_id, university_id=ids["other"])


def writes_while_held(
    engine: Engine,
    anonymize: Callable[[], None],
    monkeypatch,
    writes: Callable[[], None],
) -> None:
    """Run ``anonymize`` in a thread and hold it inside ``anonymize_json``;
    meanwhile run ``writes`` in another thread, which must finish before the
    anonymization is let go. The anonymization must then succeed too."""
    computing, finish = threading.Event(), threading.Event()
    real = training_data.anonymize_json
    errors: list[BaseException] = []

    def held(value):
        computing.set()
        assert finish.wait(60)
        return real(value)

    def collecting(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as error:  # noqa: BLE001  reported below
                errors.append(error)

        return run

    monkeypatch.setattr(training_data, "anonymize_json", held)
    worker = threading.Thread(target=collecting(anonymize))
    writer = threading.Thread(target=collecting(writes))
    worker.start()
    try:
        assert computing.wait(30), "the anonymization never started"
        writer.start()
        # Without the fix the writer waits for the anonymization (SQLite's
        # busy timeout is 30 s, a PostgreSQL row lock forever).
        writer.join(timeout=15)
        finished_while_held = not writer.is_alive()
    finally:
        finish.set()
        worker.join(60)
        if writer.is_alive() or writer.ident is not None:
            writer.join(60)

    assert finished_while_held, "the write waited for the anonymization"
    assert errors == []


def test_other_writes_succeed_while_a_record_is_being_anonymized(engine, monkeypatch):
    ids = scene(engine)
    record_id = collect(engine, ids, data_type="reasoning", raw_data=PERSONAL)

    def anonymize() -> None:
        with read_session(engine) as session:
            prepared = prepare_anonymization(session, record_id)
        with transaction(engine) as session:
            anonymize_record(session, record_id, prepared=prepared)

    def writes() -> None:
        # The reviewer's failure: an agent created in another university.
        with transaction(engine) as session:
            create_agent(session, ids["other"], name="Newcomer", agent_type="student")
        # And a record collected in the same university.
        collect(engine, ids, agent_id=ids["agent2"])

    writes_while_held(engine, anonymize, monkeypatch, writes)

    assert get(engine, record_id).validation_status == "anonymized"
    with read_session(engine) as session:
        assert session.scalar(
            select(func.count()).where(UniversityAgent.name == "Newcomer")
        )


def test_other_writes_succeed_while_a_bulk_anonymization_is_prepared(
    engine, monkeypatch
):
    ids = bulk_scene(engine)
    flt = TrainingDataFilter(ids["university"], agent_id=ids["agent"])
    confirmed = preview(engine, flt, "anonymize")
    assert confirmed.count == 5

    def anonymize() -> None:
        with read_session(engine) as session:
            prepared = prepare_bulk_anonymization(session, flt, token=confirmed.token)
        with prepared, transaction(engine) as session:
            bulk_anonymize(session, flt, token=confirmed.token, prepared=prepared)

    def writes() -> None:
        with transaction(engine) as session:
            create_agent(session, ids["other"], name="Newcomer", agent_type="student")
        # Another agent's record: not in the confirmed selection.
        collect(engine, ids, agent_id=ids["agent2"])

    writes_while_held(engine, anonymize, monkeypatch, writes)

    with read_session(engine) as session:
        assert count_matching(session, flt) == 5
        anonymized = TrainingDataFilter(
            ids["university"], agent_id=ids["agent"], validation_status="anonymized"
        )
        assert count_matching(session, anonymized) == 5


def test_bulk_anonymize_stores_the_prepared_copies(engine, monkeypatch):
    ids = bulk_scene(engine)
    monkeypatch.setattr(training_data, "ANONYMIZE_BATCH_SIZE", 2)
    flt = TrainingDataFilter(ids["university"])
    confirmed = preview(engine, flt, "anonymize")
    calls: list[tuple[int, int]] = []
    with read_session(engine) as session:
        prepared = prepare_bulk_anonymization(
            session,
            flt,
            token=confirmed.token,
            progress=lambda done, total: calls.append((done, total)),
        )
    assert calls == [(2, 6), (4, 6), (6, 6)]

    def must_not_run(value):
        raise AssertionError("anonymized again under the write lock")

    monkeypatch.setattr(training_data, "anonymize_json", must_not_run)
    with prepared, transaction(engine) as session:
        changed = bulk_anonymize(session, flt, token=confirmed.token, prepared=prepared)

    assert changed == 6
    assert statuses(engine, ids["records"]) == ["anonymized"] * 6
    processed = get(engine, ids["records"][5]).processed_data
    assert processed["client"] == {"ip": "[IP_ADDRESS]", "card": "[CARD_NUMBER]"}


def test_prepare_bulk_anonymization_refuses_a_changed_selection_first(engine):
    ids = bulk_scene(engine)
    flt = TrainingDataFilter(ids["university"])
    confirmed = preview(engine, flt, "anonymize")
    collect(engine, ids)

    with (
        pytest.raises(Conflict, match="matches 7 training records, not the 6"),
        read_session(engine) as session,
    ):
        prepare_bulk_anonymization(session, flt, token=confirmed.token)


@pytest.fixture
def configured(engine, monkeypatch):
    """The dashboard's pages on ``engine`` (as in test_pages_watch.py)."""
    from university_models import ui

    monkeypatch.setenv(
        "UNIVERSITY_DATABASE_URL", engine.url.render_as_string(hide_password=False)
    )
    ui.engine.clear()
    ui.clear_caches()
    yield engine
    ui.engine.clear()
    ui.clear_caches()


def test_the_page_anonymizes_the_confirmed_records_it_prepared_first(
    configured, monkeypatch
):
    # The Training data page computes the copies in a read session, then
    # stores them in the write transaction, which must not compute them.
    from tests.test_pages_watch import open_page, status_counts
    from tests.test_queries import build_scene

    with transaction(configured) as session:
        first = build_scene(session, "Lyceum", scale=2)
    before = status_counts(configured, first.university_id)
    app = open_page("pages/training_data.py", university_id=first.university_id)
    app.radio(key="queue_action").set_value("anonymize")
    app.button(key="queue_review").click().run()
    assert any("anonymize **2 training records**" in w.value for w in app.warning)

    real = training_data.anonymize_json
    steps: list[str] = []

    def noting(value):
        steps.append("computed")
        return real(value)

    monkeypatch.setattr(training_data, "anonymize_json", noting)
    monkeypatch.setattr(
        training_data,
        "lock_university_for_write",
        locking_after(training_data.lock_university_for_write, steps),
    )
    app.button(key="queue_confirm").click().run()

    assert not app.exception
    assert any("2 training records anonymized" in s.value for s in app.success)
    assert steps == ["computed", "computed", "locked"]
    after = status_counts(configured, first.university_id)
    assert (after["pending"], after["anonymized"]) == (0, before["anonymized"] + 2)


def locking_after(lock, log: list[Any]):
    """``lock`` that notes in ``log`` when the university was locked."""

    def noting(session, university_id):
        log.append("locked")
        return lock(session, university_id)

    return noting


# --- any sequence of actions ------------------------------------------------

STEP = st.tuples(
    st.sampled_from(["collect", "validate", "reject", "anonymize", "share"]),
    st.integers(0, 7),
    st.sampled_from(["agent", "agent2"]),
)
NEXT_STATUS = {"validate": "validated", "reject": "rejected", "anonymize": "anonymized"}


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(STEP, min_size=1, max_size=10))
def test_any_sequence_of_review_actions_follows_the_table_and_the_counters(
    engine, steps
):
    ids = scene(engine)
    model: dict[str, dict[str, Any]] = {}
    order: list[str] = []

    for action, index, agent in steps:
        if action == "collect" or not order:
            record_id = collect(engine, ids, agent_id=ids[agent])
            order.append(record_id)
            model[record_id] = {
                "status": "pending",
                "privacy": "private",
                "anonymized": False,
                "agent": ids[agent],
            }
            continue
        record_id = order[index % len(order)]
        expected = model[record_id]
        if action == "share":
            allowed = expected["status"] == "anonymized"
        else:
            allowed = (expected["status"], action) in ALLOWED

        def run(session, action=action, record_id=record_id):
            if action == "share":
                set_privacy_level(session, record_id, "shared")
            else:
                ACTIONS[action](session, record_id)

        if not allowed:
            with pytest.raises(InvalidTransition), transaction(engine) as session:
                run(session)
            continue
        with transaction(engine) as session:
            run(session)
        if action == "share":
            expected["privacy"] = "shared"
        else:
            expected["status"] = NEXT_STATUS[action]
        if action == "anonymize":
            expected["anonymized"] = True
        if action == "reject":
            expected["privacy"] = "private"

    for record_id, expected in model.items():
        record = get(engine, record_id)
        assert (record.validation_status, record.privacy_level, record.anonymized) == (
            expected["status"],
            expected["privacy"],
            expected["anonymized"],
        )
        assert (record.processed_data is not None) == expected["anonymized"]
    with read_session(engine) as session:
        for agent in ("agent", "agent2"):
            collected = session.get(UniversityAgent, ids[agent]).training_data_collected
            assert collected == sum(
                1 for m in model.values() if m["agent"] == ids[agent]
            )


def test_bulk_reject_keeps_the_reason_of_a_record_without_metadata(engine):
    ids = scene(engine)
    with engine.begin() as connection:
        bare = insert_row(
            connection,
            TrainingDataCollection,
            **valid_values(
                "training_data_collections",
                {"universities": ids["university"], "university_agents": ids["agent"]},
            ),
        )
    assert get(engine, bare).record_metadata is None
    flt = TrainingDataFilter(ids["university"], record_ids=(bare,))

    token = preview(engine, flt, "reject").token
    with transaction(engine) as session:
        bulk_reject(session, flt, reason="no provenance", token=token)

    metadata = get(engine, bare).record_metadata
    assert metadata["rejection_reason"] == "no provenance"
    assert sorted(metadata) == ["rejected_at", "rejection_reason"]


def test_review_named_for_another_university_is_not_found(engine):
    ids = scene(engine)
    record_id = collect(engine, ids)
    before = records_state(engine)
    actions = {
        "validate": lambda s: validate_record(s, record_id, university_id=ids["other"]),
        "reject": lambda s: reject_record(
            s, record_id, "bad", university_id=ids["other"]
        ),
        "anonymize": lambda s: anonymize_record(
            s, record_id, university_id=ids["other"]
        ),
        "privacy": lambda s: set_privacy_level(
            s, record_id, "private", university_id=ids["other"]
        ),
    }

    for name, action in actions.items():
        with (
            case(name),
            pytest.raises(NotFound, match="in this university"),
            transaction(engine) as session,
        ):
            action(session)

    assert records_state(engine) == before
    with transaction(engine) as session:
        validate_record(session, record_id, university_id=ids["university"])
    assert get(engine, record_id).validation_status == "validated"
