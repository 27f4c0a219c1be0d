"""services/curriculum.py: path names unique in a university and
level names unique in a path (any case, trimmed), on both engines; each
refusal writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from university_models.db import read_session, transaction
from university_models.errors import Conflict, InvalidInput, NotFound
from university_models.models import CurriculumLevel, CurriculumPath
from university_models.services import curriculum
from university_models.services.universities import create_university


def make_university(engine: Engine, name: str) -> str:
    with transaction(engine) as session:
        return create_university(session, name=name, owner_email="dean@example.org").id


def counts(engine: Engine) -> tuple[int, int]:
    with read_session(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(CurriculumPath)),
            session.scalar(select(func.count()).select_from(CurriculumLevel)),
        )


def test_a_path_name_taken_in_any_case_is_refused_and_nothing_written(engine):
    university_id = make_university(engine, "Mine")
    with transaction(engine) as session:
        curriculum.create_path(session, university_id, name="Basics")

    with (
        pytest.raises(Conflict, match="already has a path named 'Basics'"),
        transaction(engine) as session,
    ):
        curriculum.create_path(
            session, university_id, name="  bASICS ", difficulty_level="expert"
        )

    assert counts(engine) == (1, 0)


def test_the_same_path_name_is_fine_in_another_university(engine):
    mine = make_university(engine, "Mine")
    other = make_university(engine, "Other")

    for university_id in (mine, other):
        with transaction(engine) as session:
            curriculum.create_path(session, university_id, name="Basics")

    assert counts(engine) == (2, 0)


def test_a_level_name_taken_in_the_path_is_refused_naming_its_number(engine):
    university_id = make_university(engine, "Mine")
    with transaction(engine) as session:
        first = curriculum.create_path(session, university_id, name="A")
        second = curriculum.create_path(session, university_id, name="B")
        first_id, second_id = first.id, second.id
        curriculum.add_level(session, first_id, name="Warm-up", challenges=["c"])

    with (
        pytest.raises(Conflict, match="already has level 1 named 'Warm-up'"),
        transaction(engine) as session,
    ):
        curriculum.add_level(session, first_id, name=" warm-UP", challenges=["c"])
    assert counts(engine) == (2, 1)

    # Another path may reuse the name.
    with transaction(engine) as session:
        level = curriculum.add_level(
            session, second_id, name="Warm-up", challenges=["c"], passing_score=0.5
        )
        assert (level.level_number, level.passing_score) == (1, 0.5)
    assert counts(engine) == (2, 2)


def test_the_curriculum_service_rules_still_apply(engine):
    university_id = make_university(engine, "Mine")

    with (
        pytest.raises(InvalidInput, match="is empty"),
        transaction(engine) as session,
    ):
        curriculum.create_path(session, university_id, name=" ")
    with (
        pytest.raises(NotFound, match="no-such-path"),
        transaction(engine) as session,
    ):
        curriculum.add_level(session, "no-such-path", name="L", challenges=["c"])

    assert counts(engine) == (0, 0)
