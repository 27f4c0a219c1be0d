"""Property tests of the curriculum: after any sequence of recorded results
and retries, the progress fields equal what ``challenge_results`` says, the
services refuse exactly the actions the rules forbid, and the agent's
counters equal ``refresh_agent_counters``' recomputation.

The test keeps its own model of each level (the results it sent, with
their times, and the attempt it is on) and derives the expected fields and
counters from that model alone, not from the services' formulas.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_agent, make_university
from university_models.db import read_session, transaction
from university_models.errors import InvalidTransition
from university_models.models import AgentProgress, CurriculumLevel, UniversityAgent
from university_models.services import curriculum
from university_models.services.agents import refresh_agent_counters

#: Examples per engine; PostgreSQL round trips cost more, so it runs fewer.
EXAMPLES = {"sqlite": 25, "postgresql": 10}

scores = st.one_of(st.sampled_from([0.0, 0.5, 0.7, 1.0]), st.floats(0.0, 1.0))
actions = st.lists(
    st.one_of(
        st.tuples(
            st.just("record"),
            st.integers(0, 2),
            scores,
            st.integers(0, 30),
        ),
        st.tuples(st.just("retry")),
    ),
    min_size=1,
    max_size=14,
)
levels = st.lists(
    st.tuples(
        st.integers(1, 3),
        st.sampled_from([0.5, 0.7]),
        st.sampled_from([0.0, 0.6, 0.9]),
    ),
    min_size=1,
    max_size=3,
)


def expected_fields(model: dict, challenge_count: int, passing: float) -> dict:
    """What a progress record must hold, from the test's model of it."""
    results = model["results"]
    mine = [r for r in results if r["attempt"] == model["attempt"]]
    latest: dict[int, float] = {}
    for result in mine:
        latest[result["challenge_index"]] = result["score"]
    fields = {
        "time_spent_minutes": sum(r["minutes"] for r in results),
        "challenges_completed": len(latest),
        "current_challenge_index": min(
            set(range(challenge_count)) - set(latest), default=challenge_count
        ),
        "current_score": mine[-1]["score"] if mine else 0.0,
        "best_score": max((r["score"] for r in mine), default=0.0),
        "average_score": math.fsum(latest.values()) / len(latest) if latest else 0.0,
    }
    if not mine:
        fields["status"] = "not_started"
    elif len(latest) < challenge_count:
        fields["status"] = "in_progress"
    elif fields["average_score"] >= passing - 1e-9:
        fields["status"] = "completed"
    else:
        fields["status"] = "failed"
    return fields


def check_progress(session: Session, agent_id: str, models: dict) -> None:
    records = session.scalars(
        select(AgentProgress).where(AgentProgress.agent_id == agent_id)
    ).all()
    for progress in records:
        level = session.get(CurriculumLevel, progress.curriculum_level_id)
        model = models.setdefault(level.id, {"attempt": 1, "results": []})
        sent = [
            {k: r[k] for k in ("challenge_index", "score", "minutes", "attempt")}
            for r in progress.challenge_results
        ]
        assert sent == [
            {k: v for k, v in r.items() if k != "at"} for r in model["results"]
        ]
        assert [r["recorded_at"] for r in progress.challenge_results] == [
            r["at"].isoformat() for r in model["results"]
        ]
        expected = expected_fields(model, level.challenge_count, level.passing_score)
        for field, value in expected.items():
            if isinstance(value, float):
                value = pytest.approx(value, abs=1e-12)
            assert getattr(progress, field) == value, field
        assert progress.total_challenges == level.challenge_count
        mine = [
            r for r in progress.challenge_results if r["attempt"] == model["attempt"]
        ]
        if expected["status"] == "not_started":
            assert progress.started_at is None
        else:
            assert progress.started_at.isoformat() == mine[0]["recorded_at"]
        if expected["status"] == "completed":
            assert progress.completed_at.isoformat() == mine[-1]["recorded_at"]
        else:
            assert progress.completed_at is None


def expected_counters(models: dict, levels: dict[str, tuple]) -> dict:
    """The agent's training counters from the test's model alone: minutes of
    every result in hours, the time of the latest result sent (a retry
    changes nothing), and competency as the level-number weighted mean of
    the completed levels' results (the completing attempt's average)."""
    minutes = sum(r["minutes"] for m in models.values() for r in m["results"])
    times = [r["at"] for m in models.values() for r in m["results"]]
    weighted = weights = 0.0
    for level_id, model in models.items():
        number, count, passing = levels[level_id]
        fields = expected_fields(model, count, passing)
        if fields["status"] == "completed":
            weighted += fields["average_score"] * number
            weights += number
    return {
        "training_hours": minutes / 60,
        "last_trained_at": max(times, default=None),
        "competency_score": weighted / weights if weights else 0.0,
    }


def check_counters(engine, agent_id: str, expected: dict) -> None:
    """The stored counters equal the model's and a fresh recomputation
    (rolled back)."""
    names = (
        "competency_score",
        "training_hours",
        "training_data_collected",
        "last_trained_at",
        "current_challenge_index",
    )
    with Session(engine) as session:
        stored = session.get(UniversityAgent, agent_id)
        before = {name: getattr(stored, name) for name in names}
        progress = session.get(
            AgentProgress,
            session.scalar(
                select(AgentProgress.id).where(
                    AgentProgress.agent_id == agent_id,
                    AgentProgress.curriculum_level_id
                    == stored.current_curriculum_level_id,
                )
            ),
        )
        assert before["current_challenge_index"] == progress.current_challenge_index

        refresh_agent_counters(session, agent_id)
        after = {name: getattr(stored, name) for name in names}
        session.rollback()
    assert before == after
    assert before["last_trained_at"] == expected["last_trained_at"]
    assert before["training_hours"] == pytest.approx(expected["training_hours"])
    assert before["competency_score"] == pytest.approx(
        expected["competency_score"], abs=1e-12
    )


def test_progress_and_counters_follow_the_results_after_any_sequence(engine):
    @settings(max_examples=EXAMPLES[engine.dialect.name], deadline=None, database=None)
    @given(level_specs=levels, steps=actions)
    def run(level_specs, steps):
        with transaction(engine) as session:
            university = make_university(session)
            agent_id = make_agent(session, university).id
            path = curriculum.create_path(session, university.id, name="P")
            for number, (count, passing, required) in enumerate(level_specs, 1):
                curriculum.add_level(
                    session,
                    path.id,
                    name=f"L{number}",
                    challenges=list(range(count)),
                    passing_score=passing,
                    # Level 1's gate would refuse the enrolment itself.
                    required_competency_score=required if number > 1 else 0.0,
                )
            curriculum.enrol_agent(session, agent_id, path.id)
            levels_by_id = {
                level.id: (
                    level.level_number,
                    level.challenge_count,
                    level.passing_score,
                )
                for level in session.scalars(
                    select(CurriculumLevel).where(
                        CurriculumLevel.curriculum_path_id == path.id
                    )
                )
            }

        models: dict[str, dict] = {}
        # Results are sent at explicit, increasing times in the past, so the
        # expected last_trained_at is known without reading the database.
        clock = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
        for step in steps:
            clock += timedelta(minutes=1)
            with transaction(engine) as session:
                agent = session.get(UniversityAgent, agent_id)
                level = session.get(CurriculumLevel, agent.current_curriculum_level_id)
                level_id, count = level.id, level.challenge_count
                passing = level.passing_score
            model = models.setdefault(level_id, {"attempt": 1, "results": []})
            status = expected_fields(model, count, passing)["status"]

            if step[0] == "record":
                _kind, index, score, minutes = step
                index %= count
                try:
                    with transaction(engine) as session:
                        curriculum.record_challenge_result(
                            session,
                            agent_id,
                            level_id,
                            challenge_index=index,
                            score=score,
                            minutes=minutes,
                            recorded_at=clock,
                        )
                except InvalidTransition:
                    assert status in ("completed", "failed")
                else:
                    assert status in ("not_started", "in_progress")
                    model["results"].append(
                        {
                            "challenge_index": index,
                            "score": score,
                            "minutes": minutes,
                            "attempt": model["attempt"],
                            "at": clock,
                        }
                    )
            else:
                try:
                    with transaction(engine) as session:
                        curriculum.retry_level(session, agent_id, level_id)
                except InvalidTransition:
                    assert status != "failed"
                else:
                    assert status == "failed"
                    model["attempt"] += 1

        with read_session(engine) as session:
            check_progress(session, agent_id, models)
        check_counters(engine, agent_id, expected_counters(models, levels_by_id))

    run()
