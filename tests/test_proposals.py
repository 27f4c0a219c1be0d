"""Improvement proposal rules on SQLite and PostgreSQL: creation, decisions
with their history, reopening, bulk approval and implementation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from tests.factories import make_agent, make_university
from university_models.db import Base, read_session, transaction
from university_models.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
)
from university_models.models import ImprovementProposal, University
from university_models.services.proposals import (
    approve_proposal,
    bulk_approve,
    create_proposal,
    finish_implementation,
    reject_proposal,
    reopen_proposal,
    start_implementation,
)
from university_models.services.training_data import (
    collect_training_data,
    reject_record,
)
from university_models.services.validation import shown_time


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in every table, to show that a refusal wrote nothing."""
    with read_session(engine) as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }


def proposals_state(engine: Engine) -> list[tuple[Any, ...]]:
    """Every proposal's decision and implementation state."""
    p = ImprovementProposal
    with read_session(engine) as session:
        return [
            tuple(row)
            for row in session.execute(
                select(
                    p.id,
                    p.validation_status,
                    p.validated_by,
                    p.validated_at,
                    p.validation_results,
                    p.implementation_status,
                    p.implemented_at,
                ).order_by(p.id)
            )
        ]


def get(engine: Engine, proposal_id: str) -> SimpleNamespace:
    """A proposal's columns, read in a session of its own."""
    with read_session(engine) as session:
        proposal = session.get(ImprovementProposal, proposal_id)
        columns = ImprovementProposal.__mapper__.column_attrs
        return SimpleNamespace(**{c.key: getattr(proposal, c.key) for c in columns})


def scene(engine: Engine) -> dict[str, str]:
    """A university with a training record, and a second university with
    one."""
    with transaction(engine) as session:
        university = make_university(session)
        other = make_university(session)
        records = []
        for owner in (university, other):
            agent = make_agent(session, owner)
            records.append(
                collect_training_data(
                    session,
                    owner.id,
                    agent_id=agent.id,
                    source_type="evaluation",
                    data_type="reasoning",
                    raw_data={"steps": ["a", "b"], "answer": "c"},
                ).id
            )
        return {
            "university": university.id,
            "record": records[0],
            "other": other.id,
            "other_record": records[1],
        }


def propose(engine: Engine, ids: dict[str, str], **values: Any) -> str:
    values.setdefault("title", "Add a self-check step")
    values.setdefault("description", "Agents skip verification on long problems.")
    university_id = values.pop("university_id", ids["university"])
    with transaction(engine) as session:
        return create_proposal(session, university_id, **values).id


def approve(engine: Engine, proposal_id: str, by: str = "ada@example.org") -> None:
    with transaction(engine) as session:
        approve_proposal(session, proposal_id, decided_by=by)


def reject(engine: Engine, proposal_id: str, by: str = "bob@example.org") -> None:
    with transaction(engine) as session:
        reject_proposal(session, proposal_id, decided_by=by, reason="too costly")


# --- creating ---------------------------------------------------------------


def test_create_stores_a_pending_proposal_with_an_empty_history(engine):
    ids = scene(engine)
    with read_session(engine) as session:
        before = session.get(University, ids["university"]).last_activity_at

    proposal_id = propose(
        engine,
        ids,
        title="  Add a self-check step  ",
        implementation_details="Append a verification prompt.",
        expected_improvement=0.05,
        source_data_collection_id=ids["record"],
        generated_by="professor_agent",
    )

    proposal = get(engine, proposal_id)
    assert proposal.title == "Add a self-check step"
    assert proposal.validation_status == "pending"
    assert proposal.implementation_status == "not_started"
    assert proposal.validation_results == []
    assert proposal.expected_improvement == 0.05
    assert proposal.source_data_collection_id == ids["record"]
    assert proposal.generated_by == "professor_agent"
    with read_session(engine) as session:
        assert session.get(University, ids["university"]).last_activity_at > before


REFUSED_PROPOSALS = {
    "empty title": ({"title": "  "}, InvalidInput, "title"),
    "title too long": ({"title": "t" * 256}, InvalidInput, "256 characters"),
    "empty description": ({"description": ""}, InvalidInput, "description"),
    "description not text": ({"description": 3}, InvalidInput, "description"),
    "details not text": (
        {"implementation_details": ["x"]},
        InvalidInput,
        "implementation details",
    ),
    "improvement above one": ({"expected_improvement": 1.5}, InvalidInput, "1.5"),
    "improvement not a number": (
        {"expected_improvement": "lots"},
        InvalidInput,
        "'lots'",
    ),
    "unknown generator": ({"generated_by": "robot"}, InvalidInput, "'robot'"),
    "unknown source record": (
        {"source_data_collection_id": "nope"},
        NotFound,
        "'nope'",
    ),
    "source record of another university": (
        {"source_data_collection_id": "OTHER"},
        NotFound,
        "this university",
    ),
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


def test_create_refusals_name_the_value_and_write_nothing(engine):
    ids = scene(engine)
    before = row_counts(engine)

    for name, (values, error, message) in REFUSED_PROPOSALS.items():
        values = {
            key: ids["other_record"] if value == "OTHER" else value
            for key, value in values.items()
        }
        with case(name), pytest.raises(error, match=message):
            propose(engine, ids, **values)

    assert row_counts(engine) == before


def test_proposal_texts_refuse_nul_and_other_control_characters(engine):
    # PostgreSQL raised psycopg.DataError for title="t\x00"; SQLite stored it.
    ids = scene(engine)
    proposal_id = propose(engine, ids)
    before = row_counts(engine)
    state = proposals_state(engine)
    refusals = {
        "NUL in the title": (
            lambda s: create_proposal(
                s, ids["university"], title="t\x00", description="d"
            ),
            r"The title 't\\x00' holds the control character U\+0000 \(NUL\)",
        ),
        "line break in the title": (
            lambda s: create_proposal(
                s, ids["university"], title="two\nlines", description="d"
            ),
            "one line of plain text",
        ),
        "NUL in the description": (
            lambda s: create_proposal(
                s, ids["university"], title="t", description="a\x00b"
            ),
            r"The description .* U\+0000",
        ),
        "escape in the details": (
            lambda s: create_proposal(
                s,
                ids["university"],
                title="t",
                description="d",
                implementation_details="\x1b[31mred",
            ),
            r"The implementation details .* U\+001B",
        ),
        "NUL in who decides": (
            lambda s: approve_proposal(s, proposal_id, decided_by="ada\x00"),
            r"Who decides .* U\+0000",
        ),
        "NUL in the reason": (
            lambda s: reject_proposal(
                s, proposal_id, decided_by="ada", reason="too\x00costly"
            ),
            r"The reason .* U\+0000",
        ),
    }

    for name, (action, message) in refusals.items():
        with (
            case(name),
            pytest.raises(InvalidInput, match=message),
            transaction(engine) as session,
        ):
            action(session)

    assert row_counts(engine) == before
    assert proposals_state(engine) == state


def test_proposal_free_text_keeps_tabs_and_line_breaks(engine):
    ids = scene(engine)
    description = "Steps:\n\t1. check\r\n\t2. verify"

    proposal_id = propose(engine, ids, description=description)

    assert get(engine, proposal_id).description == description


def test_create_refuses_a_rejected_source_record(engine):
    ids = scene(engine)
    with transaction(engine) as session:
        reject_record(session, ids["record"], "hallucinated steps")
    before = row_counts(engine)

    with pytest.raises(InvalidInput, match="rejected"):
        propose(engine, ids, source_data_collection_id=ids["record"])

    assert row_counts(engine) == before


def test_create_refuses_a_suspended_university(engine):
    ids = scene(engine)
    with transaction(engine) as session:
        session.get(University, ids["university"]).status = "suspended"
    before = row_counts(engine)

    with pytest.raises(InvalidTransition, match="suspended"):
        propose(engine, ids)

    assert row_counts(engine) == before


# --- deciding ---------------------------------------------------------------


def test_approve_records_who_and_when_and_appends_to_the_history(engine):
    ids = scene(engine)
    proposal_id = propose(engine, ids)

    with transaction(engine) as session:
        approve_proposal(
            session, proposal_id, decided_by=" ada@example.org ", reason="cheap"
        )

    proposal = get(engine, proposal_id)
    assert proposal.validation_status == "approved"
    assert proposal.validated_by == "ada@example.org"
    assert proposal.validated_at.tzinfo is not None
    [entry] = proposal.validation_results
    assert entry == {
        "decision": "approved",
        "by": "ada@example.org",
        "at": entry["at"],
        "reason": "cheap",
    }
    assert datetime.fromisoformat(entry["at"]) == proposal.validated_at


def test_reject_reopen_approve_keeps_the_whole_history(engine):
    ids = scene(engine)
    proposal_id = propose(engine, ids)

    reject(engine, proposal_id)
    with transaction(engine) as session:
        reopen_proposal(
            session, proposal_id, decided_by="cy@example.org", reason="costs fell"
        )
    reopened = get(engine, proposal_id)
    approve(engine, proposal_id)

    assert reopened.validation_status == "pending"
    assert (reopened.validated_by, reopened.validated_at) == (None, None)
    proposal = get(engine, proposal_id)
    assert proposal.validation_status == "approved"
    assert [
        (e["decision"], e["by"], e["reason"]) for e in proposal.validation_results
    ] == [
        ("rejected", "bob@example.org", "too costly"),
        ("reopened", "cy@example.org", "costs fell"),
        ("approved", "ada@example.org", None),
    ]


def test_reject_and_reopen_refuse_a_missing_or_overlong_reason(engine):
    ids = scene(engine)
    pending = propose(engine, ids)
    rejected = propose(engine, ids)
    reject(engine, rejected)
    before = proposals_state(engine)

    for reason, message in [
        (None, "give a reason"),
        ("", "give a reason"),
        ("   ", "give a reason"),
        ("r" * 2001, "2001 characters"),
    ]:
        with (
            case(repr(reason)),
            pytest.raises(InvalidInput, match=message),
            transaction(engine) as session,
        ):
            reject_proposal(session, pending, decided_by="bob", reason=reason)
        with (
            case(repr(reason)),
            pytest.raises(InvalidInput, match=message),
            transaction(engine) as session,
        ):
            reopen_proposal(session, rejected, decided_by="bob", reason=reason)

    assert proposals_state(engine) == before


def test_a_decision_needs_the_name_of_who_decides(engine):
    ids = scene(engine)
    proposal_id = propose(engine, ids)
    before = proposals_state(engine)

    for decided_by in [None, "", "  ", "x" * 256]:
        with (
            case(repr(decided_by)),
            pytest.raises(InvalidInput, match="decided_by"),
            transaction(engine) as session,
        ):
            approve_proposal(session, proposal_id, decided_by=decided_by)

    assert proposals_state(engine) == before


def test_a_decided_proposal_refuses_another_decision_naming_who_and_when(engine):
    ids = scene(engine)
    approved = propose(engine, ids)
    rejected = propose(engine, ids)
    approve(engine, approved, by="ada@example.org")
    reject(engine, rejected, by="bob@example.org")
    when = shown_time(get(engine, approved).validated_at)
    before = proposals_state(engine)

    with pytest.raises(
        Conflict, match=f"already approved by ada@example.org at {when}"
    ):
        reject(engine, approved)
    with pytest.raises(Conflict, match="already approved by ada@example.org"):
        approve(engine, approved, by="cy@example.org")
    with pytest.raises(Conflict, match="already rejected by bob@example.org.*Reopen"):
        approve(engine, rejected)
    with pytest.raises(Conflict, match="already rejected by bob@example.org"):
        reject(engine, rejected)

    assert proposals_state(engine) == before


def test_only_a_rejected_proposal_can_be_reopened(engine):
    ids = scene(engine)
    pending = propose(engine, ids)
    approved = propose(engine, ids)
    approve(engine, approved)
    before = proposals_state(engine)

    for proposal_id, status in [(pending, "pending"), (approved, "approved")]:
        with (
            pytest.raises(InvalidTransition, match=f"is {status}"),
            transaction(engine) as session,
        ):
            reopen_proposal(session, proposal_id, decided_by="cy", reason="why")

    assert proposals_state(engine) == before


def test_decisions_on_an_unknown_proposal_are_not_found(engine):
    scene(engine)
    actions = [
        lambda s: approve_proposal(s, "missing", decided_by="ada"),
        lambda s: reject_proposal(s, "missing", decided_by="ada", reason="r"),
        lambda s: reopen_proposal(s, "missing", decided_by="ada", reason="r"),
        lambda s: start_implementation(s, "missing"),
        lambda s: finish_implementation(s, "missing", succeeded=True),
    ]
    for action in actions:
        with pytest.raises(NotFound, match="'missing'"), transaction(engine) as session:
            action(session)


# --- bulk approval ----------------------------------------------------------


def test_bulk_approve_approves_every_selected_proposal(engine):
    ids = scene(engine)
    chosen = [propose(engine, ids) for _ in range(3)]
    untouched = propose(engine, ids)

    with transaction(engine) as session:
        changed = bulk_approve(
            session,
            ids["university"],
            [*chosen, chosen[0]],
            decided_by="ada@example.org",
            expected_count=3,
        )

    assert changed == 3
    for proposal_id in chosen:
        proposal = get(engine, proposal_id)
        assert proposal.validation_status == "approved"
        assert proposal.validated_by == "ada@example.org"
        assert [e["decision"] for e in proposal.validation_results] == ["approved"]
    assert get(engine, untouched).validation_status == "pending"


def test_bulk_approve_approves_none_when_any_is_refused(engine):
    ids = scene(engine)
    chosen = [propose(engine, ids) for _ in range(3)]
    reject(engine, chosen[1], by="bob@example.org")
    foreign = propose(engine, ids, university_id=ids["other"])
    before = proposals_state(engine)

    def run(proposal_ids, expected_count):
        with transaction(engine) as session:
            bulk_approve(
                session,
                ids["university"],
                proposal_ids,
                decided_by="ada",
                expected_count=expected_count,
            )

    with pytest.raises(Conflict, match="already rejected by bob@example.org"):
        run(chosen, 3)
    with pytest.raises(Conflict, match="3 proposals are selected, not the 2"):
        run(chosen, 2)
    with pytest.raises(NotFound, match=repr(foreign)):
        run([chosen[0], foreign], 2)
    with pytest.raises(InvalidInput, match="list of ids"):
        run(chosen[0], 1)
    with pytest.raises(InvalidInput, match="expected count 2147483648 is above"):
        run(chosen, 2**31)
    with pytest.raises(InvalidInput, match="expected count -1 is below 0"):
        run(chosen, -1)

    assert proposals_state(engine) == before


# --- implementing -----------------------------------------------------------


def test_an_approved_proposal_is_implemented_through_its_states(engine):
    ids = scene(engine)
    proposal_id = propose(engine, ids)
    approve(engine, proposal_id)

    with transaction(engine) as session:
        start_implementation(session, proposal_id)
    started = get(engine, proposal_id)
    with transaction(engine) as session:
        finish_implementation(session, proposal_id, succeeded=True)

    assert started.implementation_status == "in_progress"
    proposal = get(engine, proposal_id)
    assert proposal.implementation_status == "completed"
    assert proposal.validation_status == "implemented"
    assert proposal.implemented_at.tzinfo is not None


def test_a_failed_implementation_stays_approved_and_can_be_retried(engine):
    ids = scene(engine)
    proposal_id = propose(engine, ids)
    approve(engine, proposal_id)

    with transaction(engine) as session:
        start_implementation(session, proposal_id)
        finish_implementation(session, proposal_id, succeeded=False)
    failed = get(engine, proposal_id)
    with transaction(engine) as session:
        start_implementation(session, proposal_id)

    assert (failed.implementation_status, failed.validation_status) == (
        "failed",
        "approved",
    )
    assert failed.implemented_at is None
    assert get(engine, proposal_id).implementation_status == "in_progress"


def test_implementation_refuses_impossible_changes(engine):
    ids = scene(engine)
    pending = propose(engine, ids)
    rejected = propose(engine, ids)
    reject(engine, rejected)
    approved = propose(engine, ids)
    approve(engine, approved)
    running = propose(engine, ids)
    approve(engine, running)
    done = propose(engine, ids)
    approve(engine, done)
    with transaction(engine) as session:
        start_implementation(session, running)
        start_implementation(session, done)
        finish_implementation(session, done, succeeded=True)
    before = proposals_state(engine)

    refusals = [
        (lambda s: start_implementation(s, pending), "Approve it first"),
        (lambda s: start_implementation(s, rejected), "Reopen it and approve it"),
        (lambda s: start_implementation(s, running), "already in progress"),
        (lambda s: start_implementation(s, done), "implemented"),
        (lambda s: finish_implementation(s, approved, succeeded=True), "not started"),
        (lambda s: finish_implementation(s, done, succeeded=False), "completed"),
        (lambda s: approve_proposal(s, done, decided_by="ada"), "implemented"),
        (
            lambda s: reject_proposal(s, done, decided_by="ada", reason="late"),
            "implemented",
        ),
    ]
    for action, message in refusals:
        with (
            pytest.raises(InvalidTransition, match=message),
            transaction(engine) as session,
        ):
            action(session)
    with (
        pytest.raises(InvalidInput, match="true or false"),
        transaction(engine) as session,
    ):
        finish_implementation(session, running, succeeded="yes")

    assert proposals_state(engine) == before


def test_starting_an_implemented_proposal_does_not_ask_to_approve_it(engine):
    ids = scene(engine)
    done = propose(engine, ids)
    approve(engine, done)
    with transaction(engine) as session:
        start_implementation(session, done)
        finish_implementation(session, done, succeeded=True)
    before = proposals_state(engine)

    with (
        pytest.raises(InvalidTransition) as refused,
        transaction(engine) as session,
    ):
        start_implementation(session, done)

    assert "already implemented: there is nothing to start" in str(refused.value)
    assert "Approve it first" not in str(refused.value)
    assert proposals_state(engine) == before


def test_a_change_named_for_another_university_is_not_found(engine):
    ids = scene(engine)
    proposal_id = propose(engine, ids)
    before = proposals_state(engine)
    other = ids["other"]
    actions = {
        "approve": lambda s: approve_proposal(
            s, proposal_id, decided_by="ada", university_id=other
        ),
        "reject": lambda s: reject_proposal(
            s, proposal_id, decided_by="ada", reason="r", university_id=other
        ),
        "reopen": lambda s: reopen_proposal(
            s, proposal_id, decided_by="ada", reason="r", university_id=other
        ),
        "start": lambda s: start_implementation(s, proposal_id, university_id=other),
        "finish": lambda s: finish_implementation(
            s, proposal_id, succeeded=True, university_id=other
        ),
    }

    for name, action in actions.items():
        with (
            case(name),
            pytest.raises(NotFound, match="in this university"),
            transaction(engine) as session,
        ):
            action(session)

    assert proposals_state(engine) == before
    with transaction(engine) as session:
        approve_proposal(
            session, proposal_id, decided_by="ada", university_id=ids["university"]
        )
    assert get(engine, proposal_id).validation_status == "approved"
