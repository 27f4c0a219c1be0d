"""The curriculum rules on SQLite and PostgreSQL: paths, gap-free levels,
enrolment gates, challenge results, retries, advancement and competency.

Every refusal is checked to leave the database exactly as it was."""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import make_agent, make_university
from university_models.db import Base, read_session, transaction
from university_models.errors import InvalidInput, InvalidTransition, NotFound
from university_models.models import (
    AgentProgress,
    CurriculumLevel,
    CurriculumPath,
    University,
    UniversityAgent,
)
from university_models.services import curriculum
from university_models.services.agents import refresh_agent_counters

# --------------------------------------------------------------------------
# Scene setting


def snapshot(engine) -> dict:
    """Row counts of every table and the full content of the tables the
    curriculum writes to, to prove that a refusal changed nothing."""
    watched = (
        "universities",
        "university_agents",
        "curriculum_paths",
        "curriculum_levels",
        "agent_progress",
    )
    state: dict = {}
    with read_session(engine) as session:
        for table in Base.metadata.sorted_tables:
            state[table.name] = session.scalar(select(func.count()).select_from(table))
            if table.name in watched:
                rows = session.execute(select(table)).all()
                state[f"{table.name} rows"] = sorted(repr(tuple(row)) for row in rows)
    return state


def refused(engine, error, action, *, match: str | None = None) -> str:
    """Run ``action(session)`` in one transaction, expect ``error``, and
    check nothing changed; returns the message."""
    before = snapshot(engine)
    with pytest.raises(error, match=match) as caught, transaction(engine) as session:
        action(session)
    assert snapshot(engine) == before
    return str(caught.value)


def university_with_agent(engine, **agent_values) -> tuple[str, str]:
    with transaction(engine) as session:
        university = make_university(session)
        agent = make_agent(session, university, **agent_values)
        return university.id, agent.id


def build_path(
    session: Session,
    university_id: str,
    levels: list[dict],
    **path_values,
) -> tuple[str, list[str]]:
    """A path with one level per dict (default: 2 challenges, passing 0.7)."""
    path_values.setdefault("name", "Reasoning")
    path = curriculum.create_path(session, university_id, **path_values)
    level_ids = []
    for number, values in enumerate(levels, start=1):
        values = dict(values)
        values.setdefault("name", f"Level {number}")
        values.setdefault("challenges", [{"prompt": "a"}, {"prompt": "b"}])
        level_ids.append(curriculum.add_level(session, path.id, **values).id)
    return path.id, level_ids


def scene(engine, levels: list[dict] | None = None, **path_values):
    """A university, an agent and a path; returns (university, agent, path,
    level ids)."""
    university_id, agent_id = university_with_agent(engine)
    with transaction(engine) as session:
        path_id, level_ids = build_path(
            session, university_id, levels or [{}, {}], **path_values
        )
    return university_id, agent_id, path_id, level_ids


def set_path_status(engine, path_id: str, status: str) -> None:
    with transaction(engine) as session:
        curriculum.set_path_status(session, path_id, status)


def enrol(engine, agent_id: str, path_id: str) -> None:
    with transaction(engine) as session:
        curriculum.enrol_agent(session, agent_id, path_id)


def record(engine, agent_id, level_id, index, score, minutes=5, **kwargs):
    with transaction(engine) as session:
        curriculum.record_challenge_result(
            session,
            agent_id,
            level_id,
            challenge_index=index,
            score=score,
            minutes=minutes,
            **kwargs,
        )


def finish_level(engine, agent_id, level_id, scores, minutes=5) -> None:
    for index, score in enumerate(scores):
        record(engine, agent_id, level_id, index, score, minutes)


def progress_of(engine, agent_id, level_id) -> AgentProgress | None:
    with read_session(engine) as session:
        progress = session.scalars(
            select(AgentProgress).where(
                AgentProgress.agent_id == agent_id,
                AgentProgress.curriculum_level_id == level_id,
            )
        ).one_or_none()
        # Detached with its loaded values: the read session's rollback would
        # otherwise expire them.
        if progress is not None:
            session.expunge(progress)
        return progress


def agent_of(engine, agent_id) -> UniversityAgent:
    with read_session(engine) as session:
        agent = session.get(UniversityAgent, agent_id)
        session.expunge(agent)
        return agent


def position(engine, agent_id) -> dict:
    with read_session(engine) as session:
        return curriculum.agent_position(session, agent_id)


# --------------------------------------------------------------------------
# Paths


def test_create_path_stores_values_and_trims_the_name(engine):
    university_id, _agent = university_with_agent(engine)
    with transaction(engine) as session:
        path = curriculum.create_path(
            session,
            university_id,
            name="  Tool use  ",
            difficulty_level="advanced",
            estimated_duration_hours=12,
            tags=["tools"],
            version="2.1.0",
        )
        path_id = path.id

    with read_session(engine) as session:
        path = session.get(CurriculumPath, path_id)
        assert path.name == "Tool use"
        assert path.difficulty_level == "advanced"
        assert path.estimated_duration_hours == 12
        assert path.prerequisites == []
        assert path.tags == ["tools"]
        assert path.status == "active"
        assert path.version == "2.1.0"


def test_create_path_accepts_prerequisite_paths_and_minimum_competency(engine):
    university_id, _agent = university_with_agent(engine)
    with transaction(engine) as session:
        basics = curriculum.create_path(session, university_id, name="Basics")
        path = curriculum.create_path(
            session,
            university_id,
            name="Advanced",
            prerequisites=[{"path_id": basics.id}, {"min_competency": 0.6}],
        )
        assert path.prerequisites == [{"path_id": basics.id}, {"min_competency": 0.6}]


BAD_PATH_VALUES = [
    ({"name": "   "}, "empty"),
    ({"name": "x" * 256}, "256 characters"),
    ({"difficulty_level": "easy"}, "'easy'"),
    ({"estimated_duration_hours": 0}, "below 1"),
    ({"estimated_duration_hours": True}, "not a whole number"),
    ({"status": "published"}, "'published'"),
    ({"version": ""}, "version"),
    ({"tags": "a,b"}, "JSON list"),
    ({"prerequisites": {"path_id": "x"}}, "JSON list"),
    ({"prerequisites": [{"course": "x"}]}, "not understood"),
    ({"prerequisites": [{"path_id": "missing"}]}, "'missing'"),
    ({"prerequisites": [{"min_competency": 1.5}]}, "1.5"),
    ({"prerequisites": [{"min_competency": float("nan")}]}, "NaN"),
    ({"description": 5}, "not a text"),
]


def test_create_path_refuses_bad_values_and_changes_nothing(engine):
    university_id, _agent = university_with_agent(engine)

    # One scene for every case: each refusal must leave it as it was.
    for values, match in BAD_PATH_VALUES:
        values = {"name": "Path", **values}
        refused(
            engine,
            InvalidInput,
            lambda s, v=values: curriculum.create_path(s, university_id, **v),
            match=match,
        )


def test_create_path_refuses_a_prerequisite_path_of_another_university(engine):
    university_id, _agent = university_with_agent(engine)
    with transaction(engine) as session:
        other = make_university(session)
        foreign = curriculum.create_path(session, other.id, name="Elsewhere")
        foreign_id = foreign.id

    refused(
        engine,
        InvalidInput,
        lambda s: curriculum.create_path(
            s, university_id, name="P", prerequisites=[{"path_id": foreign_id}]
        ),
        match=foreign_id,
    )


def test_create_path_in_a_suspended_university_is_refused(engine):
    university_id, _agent = university_with_agent(engine)
    with transaction(engine) as session:
        session.get(University, university_id).status = "suspended"

    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.create_path(s, university_id, name="P"),
        match="suspended",
    )


def test_set_path_status_refuses_an_unknown_status(engine):
    _u, _a, path_id, _levels = scene(engine, [{}])

    refused(
        engine,
        InvalidInput,
        lambda s: curriculum.set_path_status(s, path_id, "closed"),
        match="'closed'",
    )


def test_agents_on_a_path_that_is_archived_keep_studying_it(engine):
    _u, agent_id, path_id, (first, second) = scene(engine)
    enrol(engine, agent_id, path_id)

    set_path_status(engine, path_id, "archived")
    finish_level(engine, agent_id, first, [1.0, 1.0])

    assert agent_of(engine, agent_id).current_curriculum_level_id == second


# --------------------------------------------------------------------------
# Levels


def test_levels_are_numbered_one_to_n_and_count_their_challenges(engine):
    _u, _a, path_id, level_ids = scene(
        engine,
        [
            {"challenges": [{"prompt": "a"}]},
            {"challenges": [1, 2, 3]},
            {"challenges": ["x", "y"], "learning_objectives": ["plan"]},
        ],
    )

    with read_session(engine) as session:
        levels = session.scalars(
            select(CurriculumLevel)
            .where(CurriculumLevel.curriculum_path_id == path_id)
            .order_by(CurriculumLevel.level_number)
        ).all()
        assert [level.id for level in levels] == level_ids
        assert [level.level_number for level in levels] == [1, 2, 3]
        assert [level.challenge_count for level in levels] == [1, 3, 2]
        assert levels[0].learning_objectives == []
        assert levels[2].learning_objectives == ["plan"]
        assert levels[0].passing_score == 0.7
        assert levels[0].prerequisite_level_ids == []


BAD_LEVEL_VALUES = [
    ({"challenges": []}, "no challenges"),
    ({"challenges": {"a": 1}}, "JSON list"),
    ({"name": ""}, "empty"),
    ({"passing_score": 1.2}, "1.2"),
    ({"passing_score": float("nan")}, "nan"),
    ({"passing_score": True}, "not a number"),
    ({"time_limit_minutes": 0}, "below 1"),
    ({"required_competency_score": -0.1}, "-0.1"),
    ({"learning_objectives": "read"}, "JSON list"),
    ({"prerequisite_level_ids": ["missing"]}, "'missing'"),
    ({"challenges": [{"weight": float("nan")}]}, "NaN.*JSON cannot store"),
    ({"challenges": [{1, 2}]}, "JSON cannot store"),
    ({"description": 5}, "not a text"),
    ({"theoretical_content": ["a"]}, "not a text"),
]


def test_add_level_refuses_bad_values_and_changes_nothing(engine):
    _u, _a, path_id, _levels = scene(engine, [{}])

    for values, match in BAD_LEVEL_VALUES:
        values = {"name": "L", "challenges": [1], **values}
        refused(
            engine,
            InvalidInput,
            lambda s, v=values: curriculum.add_level(s, path_id, **v),
            match=match,
        )


def test_add_level_refuses_a_repeated_prerequisite_level(engine):
    _u, _a, path_id, (first,) = scene(engine, [{}])

    refused(
        engine,
        InvalidInput,
        lambda s: curriculum.add_level(
            s, path_id, name="L", challenges=[1], prerequisite_level_ids=[first, first]
        ),
        match="twice",
    )


def test_add_level_refuses_a_prerequisite_level_of_another_university(engine):
    _u, _a, path_id, _levels = scene(engine, [{}])
    _u2, _a2, _p2, (foreign,) = scene(engine, [{}])

    refused(
        engine,
        InvalidInput,
        lambda s: curriculum.add_level(
            s, path_id, name="L", challenges=[1], prerequisite_level_ids=[foreign]
        ),
        match=foreign,
    )


def test_add_level_to_an_archived_path_is_refused(engine):
    _u, _a, path_id, _levels = scene(engine, [{}])
    set_path_status(engine, path_id, "archived")

    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.add_level(s, path_id, name="L", challenges=[1]),
        match="archived",
    )


def test_add_level_to_an_unknown_path_is_not_found(engine):
    refused(
        engine,
        NotFound,
        lambda s: curriculum.add_level(s, "nope", name="L", challenges=[1]),
        match="'nope'",
    )


def test_update_level_challenges_keeps_the_count_equal_to_the_list(engine):
    _u, _a, _p, (level_id,) = scene(engine, [{}])

    with transaction(engine) as session:
        curriculum.update_level_challenges(session, level_id, challenges=[1, 2, 3, 4])

    with read_session(engine) as session:
        level = session.get(CurriculumLevel, level_id)
        assert level.challenges == [1, 2, 3, 4]
        assert level.challenge_count == 4


def test_update_level_challenges_is_refused_once_an_agent_has_progress(engine):
    _u, agent_id, path_id, (level_id,) = scene(engine, [{}])
    enrol(engine, agent_id, path_id)

    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.update_level_challenges(s, level_id, challenges=[1]),
        match="progress records of 1 agent",
    )


def test_remove_last_level_keeps_numbers_without_gaps(engine):
    _u, _a, path_id, (first, second) = scene(engine, [{}, {}])

    with transaction(engine) as session:
        curriculum.remove_last_level(session, path_id)
        curriculum.add_level(session, path_id, name="Again", challenges=[1])

    with read_session(engine) as session:
        numbers = session.execute(
            select(CurriculumLevel.id, CurriculumLevel.level_number).where(
                CurriculumLevel.curriculum_path_id == path_id
            )
        ).all()
        assert second not in {row.id for row in numbers}
        assert sorted(row.level_number for row in numbers) == [1, 2]


def test_remove_last_level_is_refused_when_studied_or_required(engine):
    university_id, agent_id, path_id, (level_id,) = scene(engine, [{}])
    with transaction(engine) as session:
        other_path, _levels = build_path(
            session,
            university_id,
            [{"prerequisite_level_ids": [level_id]}],
            name="Other",
        )

    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.remove_last_level(s, path_id),
        match="requires the level",
    )

    enrol(engine, agent_id, path_id)
    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.remove_last_level(s, path_id),
        match="progress records",
    )


# --------------------------------------------------------------------------
# Enrolment


def test_enrol_places_the_agent_on_level_one_with_a_fresh_record(engine):
    _u, agent_id, path_id, (first, _second) = scene(engine)

    enrol(engine, agent_id, path_id)

    agent = agent_of(engine, agent_id)
    assert agent.current_curriculum_path_id == path_id
    assert agent.current_curriculum_level_id == first
    assert agent.current_challenge_index == 0
    progress = progress_of(engine, agent_id, first)
    assert progress.status == "not_started"
    assert progress.total_challenges == 2
    assert progress.challenge_results == []
    assert progress.started_at is None


def test_enrol_is_refused_while_a_required_path_is_not_completed(engine):
    university_id, agent_id, basics_id, (b1, b2) = scene(engine, name="Basics")
    with transaction(engine) as session:
        advanced_id, _levels = build_path(
            session,
            university_id,
            [{}],
            name="Advanced",
            prerequisites=[{"path_id": basics_id}],
        )
    enrol(engine, agent_id, basics_id)
    finish_level(engine, agent_id, b1, [0.9, 0.9])

    message = refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.enrol_agent(s, agent_id, advanced_id),
    )
    assert "'Basics' completed" in message
    assert "completed 1 of its 2 levels" in message

    finish_level(engine, agent_id, b2, [0.9, 0.9])
    enrol(engine, agent_id, advanced_id)
    assert agent_of(engine, agent_id).current_curriculum_path_id == advanced_id


def test_enrol_is_refused_below_the_minimum_competency_naming_both(engine):
    university_id, agent_id, _p, _levels = scene(engine)
    with transaction(engine) as session:
        path_id, _levels = build_path(
            session,
            university_id,
            [{}],
            name="Hard",
            prerequisites=[{"min_competency": 0.6}],
        )

    message = refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.enrol_agent(s, agent_id, path_id),
    )
    assert "competency 0.60" in message
    assert "has 0.00" in message


def test_enrol_is_refused_when_level_one_needs_more_competency(engine):
    _u, agent_id, path_id, _levels = scene(engine, [{"required_competency_score": 0.5}])

    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.enrol_agent(s, agent_id, path_id),
        match="Level 1 'Level 1' requires competency 0.50",
    )


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_enrol_in_a_path_that_is_not_active_is_refused(engine, status):
    _u, agent_id, path_id, _levels = scene(engine)
    set_path_status(engine, path_id, status)

    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.enrol_agent(s, agent_id, path_id),
        match=f"is {status}",
    )


def test_enrol_in_a_path_without_levels_is_refused(engine):
    university_id, agent_id = university_with_agent(engine)
    with transaction(engine) as session:
        path_id = curriculum.create_path(session, university_id, name="Empty").id

    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.enrol_agent(s, agent_id, path_id),
        match="no levels",
    )


def test_enrol_an_archived_agent_is_refused(engine):
    _u, agent_id, path_id, _levels = scene(engine)
    with transaction(engine) as session:
        session.get(UniversityAgent, agent_id).status = "archived"

    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.enrol_agent(s, agent_id, path_id),
        match="archived",
    )


def test_enrol_in_a_path_of_another_university_is_not_found(engine):
    _u, agent_id, _p, _levels = scene(engine)
    _u2, _a2, foreign_path, _l2 = scene(engine)

    refused(
        engine,
        NotFound,
        lambda s: curriculum.enrol_agent(s, agent_id, foreign_path),
        match=foreign_path,
    )


def test_enrol_twice_in_the_same_path_is_refused(engine):
    _u, agent_id, path_id, _levels = scene(engine)
    enrol(engine, agent_id, path_id)

    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.enrol_agent(s, agent_id, path_id),
        match="already enrolled",
    )


def test_enrolling_again_resumes_at_the_level_reached(engine):
    university_id, agent_id, path_id, (first, second) = scene(engine)
    with transaction(engine) as session:
        other_id, _levels = build_path(session, university_id, [{}], name="Other")
    enrol(engine, agent_id, path_id)
    finish_level(engine, agent_id, first, [1.0, 1.0])
    record(engine, agent_id, second, 0, 0.5)

    enrol(engine, agent_id, other_id)
    assert agent_of(engine, agent_id).current_curriculum_path_id == other_id
    enrol(engine, agent_id, path_id)

    agent = agent_of(engine, agent_id)
    assert agent.current_curriculum_level_id == second
    assert agent.current_challenge_index == 1
    assert progress_of(engine, agent_id, second).challenges_completed == 1


# --------------------------------------------------------------------------
# Challenge results


def test_first_result_starts_the_level_and_is_appended_in_full(engine):
    _u, agent_id, path_id, (first, _second) = scene(engine)
    enrol(engine, agent_id, path_id)
    when = datetime(2026, 1, 5, 10, 30, tzinfo=UTC)

    record(engine, agent_id, first, 1, 0.25, minutes=7, recorded_at=when)

    progress = progress_of(engine, agent_id, first)
    assert progress.status == "in_progress"
    assert progress.started_at == when
    assert progress.challenge_results == [
        {
            "challenge_index": 1,
            "score": 0.25,
            "minutes": 7,
            "recorded_at": "2026-01-05T10:30:00+00:00",
            "attempt": 1,
        }
    ]
    assert progress.current_score == 0.25
    assert progress.best_score == 0.25
    assert progress.average_score == 0.25
    assert progress.challenges_completed == 1
    assert progress.current_challenge_index == 0
    assert progress.time_spent_minutes == 7
    assert agent_of(engine, agent_id).current_challenge_index == 0


def test_a_challenge_taken_again_counts_its_latest_result(engine):
    _u, agent_id, path_id, (first, _second) = scene(
        engine, [{"challenges": [1, 2, 3]}, {}]
    )
    enrol(engine, agent_id, path_id)

    record(engine, agent_id, first, 0, 0.9, minutes=3)
    record(engine, agent_id, first, 0, 0.3, minutes=4)
    record(engine, agent_id, first, 1, 0.5, minutes=5)

    progress = progress_of(engine, agent_id, first)
    assert progress.current_score == 0.5
    assert progress.best_score == 0.9
    assert progress.average_score == pytest.approx(0.4)
    assert progress.challenges_completed == 2
    assert progress.current_challenge_index == 2
    assert progress.time_spent_minutes == 12
    assert len(progress.challenge_results) == 3


def test_a_level_whose_average_reaches_exactly_the_passing_score_completes(engine):
    _u, agent_id, path_id, (first, second) = scene(
        engine, [{"challenges": [1, 2, 3], "passing_score": 0.7}, {}]
    )
    enrol(engine, agent_id, path_id)

    finish_level(engine, agent_id, first, [0.7, 0.7, 0.7])

    progress = progress_of(engine, agent_id, first)
    assert progress.status == "completed"
    assert progress.completed_at is not None
    assert progress.current_challenge_index == 3
    assert agent_of(engine, agent_id).current_curriculum_level_id == second


def test_a_level_below_the_passing_score_fails_and_the_agent_stays(engine):
    _u, agent_id, path_id, (first, _second) = scene(engine)
    enrol(engine, agent_id, path_id)

    finish_level(engine, agent_id, first, [0.9, 0.49])

    progress = progress_of(engine, agent_id, first)
    assert progress.status == "failed"
    assert progress.completed_at is None
    assert progress.average_score == pytest.approx(0.695)
    agent = agent_of(engine, agent_id)
    assert agent.current_curriculum_level_id == first
    assert agent.competency_score == 0.0
    assert position(engine, agent_id)["status"] == "failed"


BAD_RESULT_VALUES = [
    ({"score": 1.5}, "1.5"),
    ({"score": -0.01}, "-0.01"),
    ({"score": float("nan")}, "The score nan is not a finite number"),
    ({"score": float("inf")}, "The score inf is not a finite number"),
    ({"score": -math.inf}, "The score -inf is not a finite number"),
    ({"score": True}, "not a number"),
    ({"score": "0.5"}, "not a number"),
    ({"minutes": -1}, "below 0"),
    ({"minutes": 1.5}, "not a whole number"),
    ({"minutes": True}, "not a whole number"),
    ({"minutes": 2**31}, "minutes spent 2147483648 is above 2,147,483,647"),
    ({"challenge_index": 2**31}, "challenge index 2147483648 is above"),
    ({"challenge_index": 2}, "beyond"),
    ({"challenge_index": -1}, "below 0"),
    ({"recorded_at": datetime(2026, 1, 1, 12, 0)}, "no time zone"),
]


def test_record_refuses_bad_values_and_changes_nothing(engine):
    _u, agent_id, path_id, (first, _second) = scene(engine)
    enrol(engine, agent_id, path_id)
    record(engine, agent_id, first, 0, 0.5)

    for values, match in BAD_RESULT_VALUES:
        values = {"challenge_index": 1, "score": 0.5, "minutes": 3, **values}
        refused(
            engine,
            InvalidInput,
            lambda s, v=values: curriculum.record_challenge_result(
                s, agent_id, first, **v
            ),
            match=match,
        )


INTEGER_MAX = 2_147_483_647


def test_hours_and_time_limits_past_the_database_integer_are_refused(engine):
    # The CLI's --hours and --time-limit crashed with OverflowError (SQLite)
    # or "integer out of range" (PostgreSQL).
    university_id, _agent = university_with_agent(engine)
    _u, _a, path_id, _levels = scene(engine, [{}])

    for value, shown in [(INTEGER_MAX + 1, "2147483648"), (10**23, "1" + "0" * 23)]:
        refused(
            engine,
            InvalidInput,
            lambda s, v=value: curriculum.create_path(
                s, university_id, name="Long", estimated_duration_hours=v
            ),
            match=f"^The estimated duration in hours {shown} is above 2,147,483,647 "
            r"\(the largest whole number the database stores\): give a whole "
            "number from 1 to 2,147,483,647.$",
        )
        refused(
            engine,
            InvalidInput,
            lambda s, v=value: curriculum.add_level(
                s, path_id, name="Long", challenges=[1], time_limit_minutes=v
            ),
            match=f"^The time limit in minutes {shown} is above 2,147,483,647",
        )

    with transaction(engine) as session:
        path = curriculum.create_path(
            session, university_id, name="Long", estimated_duration_hours=INTEGER_MAX
        )
        level = curriculum.add_level(
            session,
            path.id,
            name="Long",
            challenges=[1],
            time_limit_minutes=INTEGER_MAX,
        )
        path_id, level_id = path.id, level.id
    with read_session(engine) as session:
        assert session.get(CurriculumPath, path_id).estimated_duration_hours == (
            INTEGER_MAX
        )
        assert session.get(CurriculumLevel, level_id).time_limit_minutes == INTEGER_MAX


def test_time_spent_on_a_level_cannot_pass_the_database_integer(engine):
    # time_spent_minutes sums every result's minutes into an INTEGER column.
    _u, agent_id, path_id, (first, _second) = scene(engine)
    enrol(engine, agent_id, path_id)
    record(engine, agent_id, first, 0, 0.5, minutes=INTEGER_MAX - 10)

    message = refused(
        engine,
        InvalidInput,
        lambda s: curriculum.record_challenge_result(
            s, agent_id, first, challenge_index=1, score=0.5, minutes=11
        ),
        match="above 2,147,483,647",
    )
    assert "The minutes spent 11 would bring agent" in message
    assert "give at most 10." in message

    record(engine, agent_id, first, 1, 0.5, minutes=10)
    assert progress_of(engine, agent_id, first).time_spent_minutes == INTEGER_MAX


def test_curriculum_texts_with_nul_are_refused_on_both_engines(engine):
    # PostgreSQL raised psycopg.DataError for a NUL in these text columns.
    university_id, _agent = university_with_agent(engine)
    _u, _a, path_id, _levels = scene(engine, [{}])
    refusals = {
        "description": lambda s: curriculum.create_path(
            s, university_id, name="P", description="Intro\x00"
        ),
        "version": lambda s: curriculum.create_path(
            s, university_id, name="P", version="1.0\x00"
        ),
        "level description": lambda s: curriculum.add_level(
            s, path_id, name="L", challenges=[1], description="\x00"
        ),
        "theoretical content": lambda s: curriculum.add_level(
            s, path_id, name="L", challenges=[1], theoretical_content="a\n\x00"
        ),
    }

    for what, action in refusals.items():
        message = refused(
            engine, InvalidInput, action, match=r"U\+0000 \(NUL\) at position"
        )
        assert what.split()[-1] in message and "remove it" in message
    for tags in (["nlp", "ma\x00th"], ["a\nb"]):
        refused(
            engine,
            InvalidInput,
            lambda s, t=tags: curriculum.create_path(
                s, university_id, name="P", tags=t
            ),
            match=r"tag.*U\+00(00|0A)",
        )
        refused(
            engine,
            InvalidInput,
            lambda s, t=tags: curriculum.add_level(
                s, path_id, name="L", challenges=[1], tags=t
            ),
            match=r"tag.*U\+00(00|0A)",
        )


def test_level_content_keeps_its_tabs_line_breaks_and_indentation(engine):
    _u, _a, path_id, _levels = scene(engine, [{}])
    content = "    code block\n\tindented\r\nlast line\n"

    with transaction(engine) as session:
        level_id = curriculum.add_level(
            session, path_id, name="L", challenges=[1], theoretical_content=content
        ).id

    with read_session(engine) as session:
        assert session.get(CurriculumLevel, level_id).theoretical_content == content


def test_result_times_in_refusals_read_as_the_pages_show_them(engine):
    _u, agent_id, path_id, (first, _second) = scene(engine)
    enrol(engine, agent_id, path_id)
    when = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    record(engine, agent_id, first, 0, 0.5, recorded_at=when)

    refused(
        engine,
        InvalidInput,
        lambda s: curriculum.record_challenge_result(
            s,
            agent_id,
            first,
            challenge_index=1,
            score=0.5,
            minutes=1,
            recorded_at=when - timedelta(seconds=1),
        ),
        match=r"^The result time 2026-03-01 08:59:59 UTC is before the level's "
        r"previous result at 2026-03-01 09:00 UTC: record results in time order\.$",
    )
    refused(
        engine,
        InvalidInput,
        lambda s: curriculum.record_challenge_result(
            s,
            agent_id,
            first,
            challenge_index=1,
            score=0.5,
            minutes=1,
            recorded_at=datetime(2026, 3, 1, 10, 0),
        ),
        match=r"^The result time 2026-03-01 10:00 has no time zone: give it in UTC\.$",
    )


def test_record_refuses_a_result_older_than_the_previous_one(engine):
    _u, agent_id, path_id, (first, _second) = scene(engine)
    enrol(engine, agent_id, path_id)
    when = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    record(engine, agent_id, first, 0, 0.5, recorded_at=when)

    refused(
        engine,
        InvalidInput,
        lambda s: curriculum.record_challenge_result(
            s,
            agent_id,
            first,
            challenge_index=1,
            score=0.5,
            minutes=1,
            recorded_at=when - timedelta(seconds=1),
        ),
        match="time order",
    )


def test_record_refuses_a_result_time_in_the_future_beyond_the_clock_skew(engine):
    _u, agent_id, path_id, (first, _second) = scene(engine)
    enrol(engine, agent_id, path_id)
    next_year = datetime.now(UTC) + timedelta(days=365)

    message = refused(
        engine,
        InvalidInput,
        lambda s: curriculum.record_challenge_result(
            s,
            agent_id,
            first,
            challenge_index=0,
            score=0.5,
            minutes=1,
            recorded_at=next_year,
        ),
        match="is in the future",
    )
    assert "5 minutes" in message

    # A clock a little fast (within five minutes) is accepted, and the next
    # real result is not held back by the refused one.
    record(
        engine,
        agent_id,
        first,
        0,
        0.5,
        recorded_at=datetime.now(UTC) + timedelta(minutes=4),
    )
    with transaction(engine) as session:
        curriculum.record_challenge_result(
            session,
            agent_id,
            first,
            challenge_index=1,
            score=0.5,
            minutes=1,
            recorded_at=datetime.now(UTC) + timedelta(minutes=4, seconds=30),
        )
    assert progress_of(engine, agent_id, first).challenges_completed == 2


def test_record_on_a_level_not_reached_is_refused(engine):
    _u, agent_id, path_id, (_first, second) = scene(engine)
    enrol(engine, agent_id, path_id)

    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.record_challenge_result(
            s, agent_id, second, challenge_index=0, score=1.0, minutes=1
        ),
        match="has not reached level 2 'Level 2': it is at level 1",
    )


def test_record_on_a_path_the_agent_is_not_enrolled_in_is_refused(engine):
    _u, agent_id, _path_id, (first, _second) = scene(engine)

    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.record_challenge_result(
            s, agent_id, first, challenge_index=0, score=1.0, minutes=1
        ),
        match="not enrolled in path 'Reasoning'",
    )


def test_record_on_a_completed_level_is_refused(engine):
    _u, agent_id, path_id, (first, _second) = scene(engine)
    enrol(engine, agent_id, path_id)
    finish_level(engine, agent_id, first, [1.0, 1.0])

    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.record_challenge_result(
            s, agent_id, first, challenge_index=0, score=1.0, minutes=1
        ),
        match="already completed",
    )


def test_record_on_a_failed_level_is_refused_until_retried(engine):
    _u, agent_id, path_id, (first, _second) = scene(engine)
    enrol(engine, agent_id, path_id)
    finish_level(engine, agent_id, first, [0.1, 0.1])

    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.record_challenge_result(
            s, agent_id, first, challenge_index=0, score=1.0, minutes=1
        ),
        match="retry the level",
    )

    with transaction(engine) as session:
        curriculum.retry_level(session, agent_id, first)
    record(engine, agent_id, first, 0, 1.0)
    assert progress_of(engine, agent_id, first).status == "in_progress"


def test_record_for_an_archived_agent_is_refused(engine):
    _u, agent_id, path_id, (first, _second) = scene(engine)
    enrol(engine, agent_id, path_id)
    with transaction(engine) as session:
        session.get(UniversityAgent, agent_id).status = "archived"

    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.record_challenge_result(
            s, agent_id, first, challenge_index=0, score=1.0, minutes=1
        ),
        match="archived",
    )


def test_record_in_a_suspended_university_is_refused(engine):
    university_id, agent_id, path_id, (first, _second) = scene(engine)
    enrol(engine, agent_id, path_id)
    with transaction(engine) as session:
        session.get(University, university_id).status = "suspended"

    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.record_challenge_result(
            s, agent_id, first, challenge_index=0, score=1.0, minutes=1
        ),
        match="suspended",
    )


def test_record_updates_the_university_activity_time(engine):
    university_id, agent_id, path_id, (first, _second) = scene(engine)
    enrol(engine, agent_id, path_id)
    with read_session(engine) as session:
        before = session.get(University, university_id).last_activity_at

    record(engine, agent_id, first, 0, 0.5)

    with read_session(engine) as session:
        assert session.get(University, university_id).last_activity_at > before


# --------------------------------------------------------------------------
# Retries


def test_retry_resets_the_level_and_keeps_the_history_by_attempt(engine):
    _u, agent_id, path_id, (first, second) = scene(engine)
    enrol(engine, agent_id, path_id)
    finish_level(engine, agent_id, first, [0.2, 0.3], minutes=10)

    with transaction(engine) as session:
        curriculum.retry_level(session, agent_id, first)

    progress = progress_of(engine, agent_id, first)
    assert progress.status == "not_started"
    assert progress.started_at is None
    assert (progress.current_score, progress.best_score) == (0.0, 0.0)
    assert progress.average_score == 0.0
    assert progress.challenges_completed == 0
    assert progress.current_challenge_index == 0
    assert progress.time_spent_minutes == 20
    assert [r["attempt"] for r in progress.challenge_results] == [1, 1]
    assert position(engine, agent_id)["attempt"] == 2

    finish_level(engine, agent_id, first, [0.8, 0.9], minutes=5)

    progress = progress_of(engine, agent_id, first)
    assert progress.status == "completed"
    assert [r["attempt"] for r in progress.challenge_results] == [1, 1, 2, 2]
    assert progress.best_score == 0.9
    assert progress.average_score == pytest.approx(0.85)
    assert progress.time_spent_minutes == 30
    agent = agent_of(engine, agent_id)
    assert agent.current_curriculum_level_id == second
    assert agent.training_hours == pytest.approx(0.5)


def test_retry_keeps_last_trained_at(engine):
    _u, agent_id, path_id, (first, _second) = scene(engine)
    enrol(engine, agent_id, path_id)
    morning = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    record(engine, agent_id, first, 0, 0.2, recorded_at=morning)
    record(engine, agent_id, first, 1, 0.3, recorded_at=morning + timedelta(hours=1))
    assert agent_of(engine, agent_id).last_trained_at == morning + timedelta(hours=1)

    with transaction(engine) as session:
        curriculum.retry_level(session, agent_id, first)

    assert progress_of(engine, agent_id, first).status == "not_started"
    assert agent_of(engine, agent_id).last_trained_at == morning + timedelta(hours=1)

    record(engine, agent_id, first, 0, 0.9, recorded_at=morning + timedelta(days=1))
    assert agent_of(engine, agent_id).last_trained_at == morning + timedelta(days=1)


@pytest.mark.parametrize("state", ["not_started", "in_progress", "completed"])
def test_retry_of_a_level_that_is_not_failed_is_refused(engine, state):
    _u, agent_id, path_id, (first, _second) = scene(engine)
    enrol(engine, agent_id, path_id)
    if state == "in_progress":
        record(engine, agent_id, first, 0, 0.5)
    if state == "completed":
        finish_level(engine, agent_id, first, [1.0, 1.0])

    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.retry_level(s, agent_id, first),
        match="only a failed level",
    )


# --------------------------------------------------------------------------
# Advancement and competency


def test_advancement_waits_for_the_required_competency_with_a_reason(engine):
    _u, agent_id, path_id, (first, second) = scene(
        engine, [{}, {"required_competency_score": 0.9}]
    )
    enrol(engine, agent_id, path_id)

    finish_level(engine, agent_id, first, [0.8, 0.7])

    agent = agent_of(engine, agent_id)
    assert agent.current_curriculum_level_id == first
    assert agent.competency_score == pytest.approx(0.75)
    assert progress_of(engine, agent_id, second) is None
    where = position(engine, agent_id)
    assert where["status"] == "completed"
    assert where["path_completed"] is False
    assert where["blocker"] == (
        f"Level 2 'Level 2' requires competency 0.90 (agent {agent.name!r} has 0.75)."
    )
    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.advance_agent(s, agent_id),
        match="requires competency 0.90",
    )


def test_advancement_waits_for_a_prerequisite_level_of_another_path(engine):
    university_id, agent_id, side_id, (side_level,) = scene(engine, [{}], name="Side")
    with transaction(engine) as session:
        main_id, (m1, m2) = build_path(
            session,
            university_id,
            [{}, {"prerequisite_level_ids": [side_level]}],
            name="Main",
        )
    enrol(engine, agent_id, main_id)
    finish_level(engine, agent_id, m1, [1.0, 1.0])

    with read_session(engine) as session:
        blocker = curriculum.advancement_blocker(session, agent_id)
    assert blocker == (
        "Level 2 'Level 2' requires level 1 'Level 1' of path 'Side' completed "
        "(it is not reached)."
    )

    enrol(engine, agent_id, side_id)
    finish_level(engine, agent_id, side_level, [1.0, 1.0])
    assert position(engine, agent_id)["path_completed"] is True
    enrol(engine, agent_id, main_id)

    agent = agent_of(engine, agent_id)
    assert agent.current_curriculum_level_id == m2
    assert progress_of(engine, agent_id, m2).status == "not_started"
    assert position(engine, agent_id)["blocker"] is None


def test_completing_the_last_level_finishes_the_path(engine):
    _u, agent_id, path_id, (first, second) = scene(engine)
    enrol(engine, agent_id, path_id)

    finish_level(engine, agent_id, first, [1.0, 0.8])
    finish_level(engine, agent_id, second, [0.6, 0.8])

    agent = agent_of(engine, agent_id)
    assert agent.current_curriculum_path_id == path_id
    assert agent.current_curriculum_level_id == second
    assert agent.current_challenge_index == 2
    where = position(engine, agent_id)
    assert where["path_completed"] is True
    assert where["blocker"] is None
    assert (where["level_number"], where["level_count"]) == (2, 2)
    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.advance_agent(s, agent_id),
        match="last level",
    )


def test_enrolling_again_in_a_completed_path_is_refused(engine):
    university_id, agent_id, path_id, (level_id,) = scene(engine, [{}])
    with transaction(engine) as session:
        other_id, _levels = build_path(session, university_id, [{}], name="Other")
    enrol(engine, agent_id, path_id)
    finish_level(engine, agent_id, level_id, [1.0, 1.0])
    enrol(engine, agent_id, other_id)

    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.enrol_agent(s, agent_id, path_id),
        match="already completed every level",
    )


def test_competency_is_the_level_weighted_mean_of_level_results(engine):
    _u, agent_id, path_id, (first, second, _third) = scene(engine, [{}, {}, {}])
    enrol(engine, agent_id, path_id)

    finish_level(engine, agent_id, first, [0.8, 0.7])
    finish_level(engine, agent_id, second, [0.5, 0.9])

    agent = agent_of(engine, agent_id)
    # Level results (attempt averages) 0.75 at level 1 and 0.7 at level 2:
    # (0.75 * 1 + 0.7 * 2) / 3, not the best scores 0.8 and 0.9.
    assert agent.competency_score == pytest.approx((0.75 + 1.4) / 3)
    assert 0.0 <= agent.competency_score <= 1.0


def test_competency_uses_the_level_result_not_its_best_challenge(engine):
    three = [{"prompt": "a"}, {"prompt": "b"}, {"prompt": "c"}]
    _u, agent_id, path_id, (first, second) = scene(
        engine,
        [
            {"challenges": three, "passing_score": 0.7},
            {"required_competency_score": 0.95},
        ],
    )
    enrol(engine, agent_id, path_id)

    finish_level(engine, agent_id, first, [1.0, 0.6, 0.6])

    assert progress_of(engine, agent_id, first).status == "completed"
    agent = agent_of(engine, agent_id)
    assert agent.competency_score == pytest.approx(2.2 / 3)
    # The 0.95 gate of level 2 holds the agent back: its best challenge
    # (1.0) is not its result.
    assert agent.current_curriculum_level_id == first
    assert "competency 0.95" in position(engine, agent_id)["blocker"]


def test_agent_counters_equal_their_recomputation_after_results(engine):
    _u, agent_id, path_id, (first, _second) = scene(engine)
    enrol(engine, agent_id, path_id)
    finish_level(engine, agent_id, first, [0.1, 0.2], minutes=30)
    with transaction(engine) as session:
        curriculum.retry_level(session, agent_id, first)
    finish_level(engine, agent_id, first, [0.9, 0.9], minutes=15)

    stored = agent_of(engine, agent_id)
    with transaction(engine) as session:
        fresh = refresh_agent_counters(session, agent_id)
        assert fresh.competency_score == pytest.approx(stored.competency_score)
        assert fresh.training_hours == pytest.approx(stored.training_hours)
        assert fresh.last_trained_at == stored.last_trained_at
    assert stored.training_hours == pytest.approx(1.5)
    assert stored.competency_score == pytest.approx(0.9)


# --------------------------------------------------------------------------
# Read helpers


def test_position_of_an_agent_not_enrolled(engine):
    _u, agent_id = university_with_agent(engine)

    where = position(engine, agent_id)

    assert where["status"] == "not_enrolled"
    assert where["path_id"] is None
    assert where["blocker"] is None


def test_level_overview_counts_progress_by_status(engine):
    university_id, agent_id, path_id, (first, second) = scene(engine)
    with transaction(engine) as session:
        university = session.get(University, university_id)
        others = [make_agent(session, university).id for _ in range(2)]
    enrol(engine, agent_id, path_id)
    finish_level(engine, agent_id, first, [1.0, 1.0])
    for other in others:
        enrol(engine, other, path_id)
    finish_level(engine, others[0], first, [0.0, 0.0])

    with read_session(engine) as session:
        rows = curriculum.level_overview(session, path_id)

    assert [row["level_id"] for row in rows] == [first, second]
    assert {k: rows[0][k] for k in ("not_started", "completed", "failed")} == {
        "not_started": 1,
        "completed": 1,
        "failed": 1,
    }
    assert rows[1]["not_started"] == 1
    assert not math.isnan(rows[0]["passing_score"])


def test_read_helpers_do_not_find_rows_of_another_university(engine):
    _u, agent_id, path_id, _levels = scene(engine)
    other_university, _other_agent = university_with_agent(engine)

    with read_session(engine) as session:
        with pytest.raises(NotFound):
            curriculum.agent_position(session, agent_id, university_id=other_university)
        with pytest.raises(NotFound):
            curriculum.advancement_blocker(
                session, agent_id, university_id=other_university
            )
        with pytest.raises(NotFound):
            curriculum.level_overview(session, path_id, university_id=other_university)


# --------------------------------------------------------------------------
# Concurrency


def test_results_recorded_at_the_same_moment_are_all_kept(engine):
    _u, agent_id, path_id, (first, _second) = scene(
        engine, [{"challenges": list(range(4))}, {}]
    )
    enrol(engine, agent_id, path_id)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def take(index: int) -> None:
        try:
            barrier.wait()
            record(engine, agent_id, first, index, 0.25 * index, minutes=index)
        except BaseException as error:  # noqa: BLE001  reported by the assert
            errors.append(error)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    progress = progress_of(engine, agent_id, first)
    assert sorted(r["challenge_index"] for r in progress.challenge_results) == [
        0,
        1,
        2,
        3,
    ]
    assert progress.challenges_completed == 4
    assert progress.time_spent_minutes == 6
    assert progress.status == "failed"
    assert progress.average_score == pytest.approx(0.375)


def test_advance_agent_moves_on_once_the_gate_is_met(engine):
    _u, agent_id, path_id, (first, second) = scene(
        engine, [{}, {"required_competency_score": 0.95}]
    )
    enrol(engine, agent_id, path_id)
    finish_level(engine, agent_id, first, [0.8, 0.8])
    assert agent_of(engine, agent_id).current_curriculum_level_id == first
    # An administrator lowers the bar directly in the database.
    with transaction(engine) as session:
        session.get(CurriculumLevel, second).required_competency_score = 0.5

    with transaction(engine) as session:
        progress = curriculum.advance_agent(session, agent_id)
        assert progress.curriculum_level_id == second

    agent = agent_of(engine, agent_id)
    assert agent.current_curriculum_level_id == second
    assert agent.current_challenge_index == 0
    assert progress_of(engine, agent_id, second).status == "not_started"


def test_advance_agent_is_refused_before_the_level_is_completed(engine):
    _u, agent_id, path_id, _levels = scene(engine)
    enrol(engine, agent_id, path_id)

    refused(
        engine,
        InvalidTransition,
        lambda s: curriculum.advance_agent(s, agent_id),
        match="has not completed level 1",
    )
