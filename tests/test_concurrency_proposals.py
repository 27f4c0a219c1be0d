"""Simultaneous decisions on proposals and simultaneous review of training
data, with real threads, each in its own transaction, on SQLite and
PostgreSQL: exactly one decision wins, the others get a domain refusal that
names the winner, never "database is locked"."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.factories import make_agent, make_university
from university_models.db import read_session, transaction
from university_models.errors import Conflict, DomainError, QuotaExceeded
from university_models.models import ImprovementProposal, TrainingDataCollection
from university_models.services.proposals import (
    approve_proposal,
    bulk_approve,
    create_proposal,
    reject_proposal,
)
from university_models.services.training_data import (
    TrainingDataFilter,
    bulk_validate,
    collect_training_data,
    preview_bulk_action,
)
from university_models.services.universities import json_size_bytes

#: Rounds of the two-person race; more rounds, more interleavings seen.
ROUNDS = 6


def race(engine: Engine, actions: list[Callable[[Session], object]]) -> list[object]:
    """Run every action in its own thread and transaction, all released at
    the same moment; returns "ok" or the exception of each."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[object] = [None] * len(actions)

    def run(number: int) -> None:
        barrier.wait()
        try:
            with transaction(engine) as session:
                actions[number](session)
            outcomes[number] = "ok"
        except Exception as error:  # noqa: BLE001  every outcome is asserted
            outcomes[number] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def assert_one_winner(outcomes: list[object], refusal: type[DomainError]) -> int:
    """Exactly one "ok", every other outcome the given refusal; returns the
    winner's position."""
    unexpected = [o for o in outcomes if o != "ok" and not isinstance(o, refusal)]
    assert unexpected == [], f"callers saw {unexpected!r}"
    assert outcomes.count("ok") == 1, outcomes
    return outcomes.index("ok")


def new_university(engine: Engine, **values) -> tuple[str, str]:
    with transaction(engine) as session:
        university = make_university(session, **values)
        return university.id, make_agent(session, university).id


def new_proposal(engine: Engine, university_id: str, title: str) -> str:
    with transaction(engine) as session:
        return create_proposal(
            session, university_id, title=title, description="Shorter prompts."
        ).id


def read_proposal(engine: Engine, proposal_id: str) -> tuple[str, str, list]:
    with read_session(engine) as session:
        proposal = session.get(ImprovementProposal, proposal_id)
        return (
            proposal.validation_status,
            proposal.validated_by,
            list(proposal.validation_results),
        )


def test_simultaneous_approve_and_reject_of_one_proposal_has_one_winner(engine):
    university_id, _ = new_university(engine)

    for round_number in range(ROUNDS):
        proposal_id = new_proposal(engine, university_id, f"round {round_number}")

        outcomes = race(
            engine,
            [
                lambda s, p=proposal_id: approve_proposal(s, p, decided_by="ada"),
                lambda s, p=proposal_id: reject_proposal(
                    s, p, decided_by="bob", reason="too costly"
                ),
            ],
        )

        winner = assert_one_winner(outcomes, Conflict)
        decision, by = [("approved", "ada"), ("rejected", "bob")][winner]
        loser = outcomes[1 - winner]
        assert f"already {decision} by {by} at " in str(loser)
        status, validated_by, history = read_proposal(engine, proposal_id)
        assert (status, validated_by) == (decision, by)
        assert [(e["decision"], e["by"]) for e in history] == [(decision, by)]


def test_many_people_deciding_one_proposal_at_once_leave_one_decision(engine):
    university_id, _ = new_university(engine)
    proposal_id = new_proposal(engine, university_id, "crowded")
    deciders = [f"person{n}@example.org" for n in range(6)]

    def decide(number: int) -> Callable[[Session], object]:
        if number % 2:
            return lambda s: reject_proposal(
                s, proposal_id, decided_by=deciders[number], reason="no"
            )
        return lambda s: approve_proposal(s, proposal_id, decided_by=deciders[number])

    outcomes = race(engine, [decide(n) for n in range(len(deciders))])

    winner = assert_one_winner(outcomes, Conflict)
    status, validated_by, history = read_proposal(engine, proposal_id)
    assert validated_by == deciders[winner]
    assert status == ("rejected" if winner % 2 else "approved")
    assert len(history) == 1


def test_bulk_approve_racing_a_rejection_either_approves_all_or_none(engine):
    university_id, _ = new_university(engine)
    proposal_ids = [new_proposal(engine, university_id, f"p{n}") for n in range(4)]

    outcomes = race(
        engine,
        [
            lambda s: bulk_approve(
                s, university_id, proposal_ids, decided_by="ada", expected_count=4
            ),
            lambda s: reject_proposal(
                s, proposal_ids[2], decided_by="bob", reason="duplicate"
            ),
        ],
    )

    winner = assert_one_winner(outcomes, Conflict)
    statuses = [read_proposal(engine, p)[0] for p in proposal_ids]
    if winner == 0:
        assert statuses == ["approved"] * 4
    else:
        assert statuses == ["pending", "pending", "rejected", "pending"]


def test_two_people_bulk_validating_the_same_selection_change_it_once(engine):
    university_id, agent_id = new_university(engine)
    with transaction(engine) as session:
        for _ in range(5):
            collect_training_data(
                session,
                university_id,
                agent_id=agent_id,
                source_type="training",
                data_type="reasoning",
                raw_data={"steps": ["a"]},
            )
    flt = TrainingDataFilter(university_id, validation_status="pending")
    # Both people reviewed the same selection.
    with read_session(engine) as session:
        token = preview_bulk_action(session, flt, "validate").token

    outcomes = race(
        engine,
        [lambda s: bulk_validate(s, flt, token=token) for _ in range(2)],
    )

    loser = outcomes[1 - assert_one_winner(outcomes, Conflict)]
    assert "matches 0 training records, not the 5" in str(loser)


def test_simultaneous_collection_at_the_storage_quota_stores_one_record(engine):
    university_id, agent_id = new_university(engine, storage_quota_mb=1)
    quota = 1024 * 1024
    record = {"text": "x" * (quota // 2 - json_size_bytes({"text": ""}))}
    assert json_size_bytes(record) * 2 == quota
    with transaction(engine) as session:
        collect_training_data(
            session,
            university_id,
            agent_id=agent_id,
            source_type="training",
            data_type="reasoning",
            raw_data=record,
        )

    outcomes = race(
        engine,
        [
            lambda s: collect_training_data(
                s,
                university_id,
                agent_id=agent_id,
                source_type="training",
                data_type="reasoning",
                raw_data=record,
            )
            for _ in range(4)
        ],
    )

    assert_one_winner(outcomes, QuotaExceeded)
    with read_session(engine) as session:
        stored = session.scalar(
            select(func.count()).where(
                TrainingDataCollection.university_id == university_id
            )
        )
    assert stored == 2
