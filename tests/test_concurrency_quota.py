"""Simultaneous writers against the quota and the unique names, with real
threads, each in its own transaction, on SQLite and PostgreSQL: exactly one
wins, the others get a domain refusal, never "database is locked"."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from university_models.db import read_session, transaction
from university_models.errors import Conflict, DomainError, QuotaExceeded
from university_models.models import University, UniversityAgent
from university_models.services.agents import create_agent, ensure_agents
from university_models.services.universities import create_university

THREADS = 8


def race(engine: Engine, action: Callable[[Session, int], object]) -> list[object]:
    """Run ``action(session, number)`` in ``THREADS`` threads released at the
    same moment, each in its own transaction; returns what each returned or
    raised."""
    barrier = threading.Barrier(THREADS)
    outcomes: list[object] = [None] * THREADS

    def run(number: int) -> None:
        barrier.wait()
        try:
            with transaction(engine) as session:
                action(session, number)
            outcomes[number] = "ok"
        except Exception as error:  # noqa: BLE001  every outcome is asserted
            outcomes[number] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def assert_one_winner(outcomes: list[object], refusal: type[DomainError]) -> None:
    unexpected = [o for o in outcomes if o != "ok" and not isinstance(o, refusal)]
    assert unexpected == [], f"callers saw {unexpected!r}"
    assert outcomes.count("ok") == 1


def agent_count(engine: Engine, university_id: str) -> int:
    with read_session(engine) as session:
        return session.scalar(
            select(func.count()).where(UniversityAgent.university_id == university_id)
        )


def university_at_one_below_quota(engine: Engine, quota: int) -> str:
    with transaction(engine) as session:
        university = create_university(
            session, name="Athena", owner_email="owner@example.org", max_agents=quota
        )
        for number in range(quota - 1):
            create_agent(
                session, university.id, name=f"agent {number}", agent_type="student"
            )
        return university.id


def test_simultaneous_agent_creation_never_passes_max_agents(engine):
    university_id = university_at_one_below_quota(engine, quota=5)

    outcomes = race(
        engine,
        lambda session, n: create_agent(
            session, university_id, name=f"racer {n}", agent_type="student"
        ),
    )

    assert_one_winner(outcomes, QuotaExceeded)
    assert agent_count(engine, university_id) == 5


def test_simultaneous_imports_never_pass_max_agents(engine):
    university_id = university_at_one_below_quota(engine, quota=3)

    outcomes = race(
        engine,
        lambda session, n: ensure_agents(session, university_id, [f"model {n}"]),
    )

    assert_one_winner(outcomes, QuotaExceeded)
    assert agent_count(engine, university_id) == 3


def test_simultaneous_creation_of_one_agent_name_creates_it_once(engine):
    university_id = university_at_one_below_quota(engine, quota=50)

    outcomes = race(
        engine,
        lambda session, n: create_agent(
            session, university_id, name="Ada" if n % 2 else "ADA", agent_type="student"
        ),
    )

    assert_one_winner(outcomes, Conflict)
    assert agent_count(engine, university_id) == 50


def test_simultaneous_creation_of_one_university_name_creates_it_once(engine):
    outcomes = race(
        engine,
        lambda session, n: create_university(
            session, name="Minerva" if n % 2 else "minerva", owner_email=f"{n}@ex.org"
        ),
    )

    assert_one_winner(outcomes, Conflict)
    with read_session(engine) as session:
        assert session.scalar(select(func.count()).select_from(University)) == 1
